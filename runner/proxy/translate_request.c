/* Client request -> chat request: the entry point, the ctx, and the chat
 * message list every wire appends to (with the merging and the repair
 * described in translate.h).  The wires' own shapes are in
 * translate_req_{responses,anthropic,gemini}.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "runner/proxy/translate_internal.h"
#include "runner/proxy/wire_ops.h"

#define NO_RESULT "(no result recorded)"

void
cab_translate_ctx_free(struct cab_translate_ctx *ctx)
{
  if (ctx == NULL)
    return;
  for (size_t i = 0; i < ctx->n_custom_tools; i++)
    free(ctx->custom_tools[i]);
  free(ctx->custom_tools);
  free(ctx);
}

static void
cleanup_ctx(struct cab_translate_ctx **p)
{
  cab_translate_ctx_free(*p);
}

#define cleanup_ctx __attribute__((cleanup(cleanup_ctx)))

/* --- the message list ---------------------------------------------------- */

static cJSON *
last_message(struct tr_msgs *m)
{
  int n = cJSON_GetArraySize(m->arr);
  return n ? cJSON_GetArrayItem(m->arr, n - 1) : NULL;
}

static bool
role_is(const cJSON *msg, const char *role)
{
  const char *r = tr_str(msg, "role");
  return r && strcmp(r, role) == 0;
}

/* Append TEXT to MSG's string content, a blank line between. */
static void
append_content(cJSON *msg, const char *text)
{
  cJSON *c = cJSON_GetObjectItemCaseSensitive(msg, "content");
  if (cJSON_IsString(c) && c->valuestring[0]) {
    struct tr_buf b = {0};
    tr_buf_adds(&b, c->valuestring);
    tr_buf_adds(&b, "\n\n");
    tr_buf_adds(&b, text);
    if (!b.oom)
      cJSON_ReplaceItemInObjectCaseSensitive(msg, "content", cJSON_CreateString(b.s));
    tr_buf_free(&b);
  } else if (c)
    cJSON_ReplaceItemInObjectCaseSensitive(msg, "content", cJSON_CreateString(text));
  else
    cJSON_AddStringToObject(msg, "content", text);
}

static cJSON *
new_message(struct tr_msgs *m, const char *role)
{
  cJSON *msg = cJSON_CreateObject();
  if (msg == NULL || !cJSON_AddItemToArray(m->arr, msg)) {
    cJSON_Delete(msg);
    return NULL;
  }
  cJSON_AddStringToObject(msg, "role", role);
  return msg;
}

/* System text joins the leading system message while nothing else has
 * been said (chat templates often allow only one, first); later system
 * text is a message of its own. */
void
tr_msgs_system(struct tr_msgs *m, const char *text)
{
  if (text == NULL || text[0] == '\0')
    return;
  int n = cJSON_GetArraySize(m->arr);
  cJSON *first = cJSON_GetArrayItem(m->arr, 0);
  if (n == 1 && role_is(first, "system")) {
    append_content(first, text);
    return;
  }
  cJSON *msg = new_message(m, "system");
  if (msg)
    cJSON_AddStringToObject(msg, "content", text);
}

void
tr_msgs_text(struct tr_msgs *m, const char *role, const char *text)
{
  if (text == NULL || text[0] == '\0')
    return;
  cJSON *last = last_message(m);
  if (last && role_is(last, role) && strcmp(role, "tool") != 0 && strcmp(role, "system") != 0) {
    append_content(last, text);
    return;
  }
  cJSON *msg = new_message(m, role);
  if (msg)
    cJSON_AddStringToObject(msg, "content", text);
}

void
tr_msgs_tool_call(struct tr_msgs *m, const char *id, const char *name, const char *args)
{
  cJSON *last = last_message(m);
  if (last == NULL || !role_is(last, "assistant")) {
    last = new_message(m, "assistant");
    if (last == NULL)
      return;
    cJSON_AddNullToObject(last, "content");
  }
  cJSON *calls = cJSON_GetObjectItemCaseSensitive(last, "tool_calls");
  if (calls == NULL)
    calls = cJSON_AddArrayToObject(last, "tool_calls");
  cJSON *call = cJSON_CreateObject();
  if (call == NULL || !cJSON_AddItemToArray(calls, call)) {
    cJSON_Delete(call);
    return;
  }
  cJSON_AddStringToObject(call, "id", id);
  cJSON_AddStringToObject(call, "type", "function");
  cJSON *fn = cJSON_AddObjectToObject(call, "function");
  cJSON_AddStringToObject(fn, "name", name);
  cJSON_AddStringToObject(fn, "arguments", args && args[0] ? args : "{}");
}

int
tr_msgs_tool_call_json(struct tr_msgs *m, const char *id, const char *name, const cJSON *args)
{
  char *text = args ? cJSON_PrintUnformatted(args) : strdup("{}");
  if (text == NULL)
    return -1;
  tr_msgs_tool_call(m, id, name, text);
  free(text);
  return 0;
}

void
tr_msgs_tool_result(struct tr_msgs *m, const char *id, const char *text)
{
  cJSON *msg = new_message(m, "tool");
  if (msg == NULL)
    return;
  cJSON_AddStringToObject(msg, "tool_call_id", id);
  cJSON_AddStringToObject(msg, "content", text ? text : "");
}

cJSON *
tr_function_tool(const char *name, const char *description, cJSON *params)
{
  cJSON *tool = cJSON_CreateObject();
  if (tool == NULL) {
    cJSON_Delete(params);
    return NULL;
  }
  cJSON_AddStringToObject(tool, "type", "function");
  cJSON *fn = cJSON_AddObjectToObject(tool, "function");
  cJSON_AddStringToObject(fn, "name", name);
  if (description && description[0])
    cJSON_AddStringToObject(fn, "description", description);
  if (params == NULL) {
    params = cJSON_CreateObject();
    cJSON_AddStringToObject(params, "type", "object");
    cJSON_AddObjectToObject(params, "properties");
  }
  cJSON_AddItemToObject(fn, "parameters", params);
  return tool;
}

/* --- repair -------------------------------------------------------------- */

/* Answer every call still waiting, so that the assistant's tool_calls are
 * followed by one tool message each. */
static void
flush_pending(struct tr_msgs *out, cJSON *pending)
{
  cJSON *id;
  cJSON_ArrayForEach(id, pending) tr_msgs_tool_result(out, id->valuestring, NO_RESULT);
  while (cJSON_GetArraySize(pending))
    cJSON_DeleteItemFromArray(pending, 0);
}

static bool
take_pending(cJSON *pending, const char *id)
{
  int i = 0;
  cJSON *p;
  cJSON_ArrayForEach(p, pending)
  {
    if (id && strcmp(p->valuestring, id) == 0) {
      cJSON_DeleteItemFromArray(pending, i);
      return true;
    }
    i++;
  }
  return false;
}

/* Rebuild IN (as the wires appended it) into a list chat accepts: see
 * "History repair" in translate.h. */
static cJSON *
repair(const cJSON *in)
{
  struct tr_msgs out = {cJSON_CreateArray()};
  cleanup_json cJSON *pending = cJSON_CreateArray();
  if (out.arr == NULL || pending == NULL) {
    cJSON_Delete(out.arr);
    return NULL;
  }
  const cJSON *msg;
  cJSON_ArrayForEach(msg, in)
  {
    const char *role = tr_str(msg, "role");
    const char *content = tr_str(msg, "content");
    if (strcmp(role, "tool") == 0) {
      const char *id = tr_str(msg, "tool_call_id");
      if (take_pending(pending, id)) {
        tr_msgs_tool_result(&out, id, content);
        continue;
      }
      flush_pending(&out, pending);
      struct tr_buf b = {0};
      tr_buf_adds(&b, "[result of tool call ");
      tr_buf_adds(&b, id ? id : "?");
      tr_buf_adds(&b, "]\n");
      tr_buf_adds(&b, content ? content : "");
      if (!b.oom)
        tr_msgs_text(&out, "user", b.s);
      tr_buf_free(&b);
      continue;
    }
    flush_pending(&out, pending);
    if (strcmp(role, "system") == 0) {
      tr_msgs_system(&out, content);
      continue;
    }
    tr_msgs_text(&out, role, content);
    const cJSON *call;
    cJSON_ArrayForEach(call, tr_get(msg, "tool_calls"))
    {
      const cJSON *fn = tr_get(call, "function");
      const char *id = tr_str(call, "id");
      tr_msgs_tool_call(&out, id, tr_str(fn, "name"), tr_str(fn, "arguments"));
      cJSON_AddItemToArray(pending, cJSON_CreateString(id));
    }
  }
  flush_pending(&out, pending);
  return out.arr;
}

/* --- the entry point ----------------------------------------------------- */

static int
copy_body(const char *body, size_t len, char **out, size_t *out_len, cab_error *err)
{
  char *copy = malloc(len + 1);
  if (copy == NULL)
    return cab_error_set(err, ENOMEM, "copying the request");
  memcpy(copy, body, len);
  copy[len] = '\0';
  *out = copy;
  *out_len = len;
  return 0;
}

static int
translate(const struct cab_wire_ops *ops, const cJSON *in, struct cab_translate_ctx *ctx,
          char **chat_body, size_t *chat_len, cab_error *err)
{
  cleanup_json cJSON *root = cJSON_CreateObject();
  if (root == NULL)
    return cab_error_set(err, ENOMEM, "building the chat request");
  if (!ops->model_in_path) {
    const cJSON *model = tr_get(in, "model");
    if (!cJSON_IsString(model) || model->valuestring[0] == '\0')
      return cab_error_set(err, 0, "\"model\": expected a non-empty string");
    snprintf(ctx->model, sizeof ctx->model, "%s", model->valuestring);
  }
  cJSON_AddStringToObject(root, "model", ctx->model);
  struct tr_msgs m = {cJSON_AddArrayToObject(root, "messages")};
  if (m.arr == NULL)
    return cab_error_set(err, ENOMEM, "building the chat request");

  int r = ops->request(in, root, &m, ctx, err);
  if (r < 0)
    return r;

  cJSON *fixed = repair(m.arr);
  if (fixed == NULL || !cJSON_ReplaceItemInObjectCaseSensitive(root, "messages", fixed)) {
    cJSON_Delete(fixed);
    return cab_error_set(err, ENOMEM, "building the chat request");
  }
  if (cJSON_GetArraySize(fixed) == 0)
    return cab_error_set(err, 0, "no messages to send (no text, tool call or tool result)");

  if (ctx->kind == CAB_ROUTE_COUNT_TOKENS) {
    /* Counting: one token of answer is the cheapest call that reports the
     * prompt's size. */
    ctx->stream = false;
    cJSON_DeleteItemFromObjectCaseSensitive(root, "max_tokens");
    cJSON_AddNumberToObject(root, "max_tokens", 1);
  }
  if (ctx->stream) {
    cJSON_AddTrueToObject(root, "stream");
    cJSON *so = cJSON_AddObjectToObject(root, "stream_options");
    cJSON_AddTrueToObject(so, "include_usage");
  }
  return tr_print(cab_steal_ptr(&root), chat_body, chat_len, err);
}

int
cab_translate_request(const struct cab_wire_route *route, const char *body, size_t len,
                      char **chat_body, size_t *chat_len, struct cab_translate_ctx **ctx_out,
                      cab_error *err)
{
  *chat_body = NULL;
  *chat_len = 0;
  *ctx_out = NULL;
  const struct cab_wire_ops *ops = cab_wire_ops(route->wire);
  const char *wire = ops->name;
  if (route->kind == CAB_ROUTE_OTHER)
    return cab_error_set(err, 0, "%s request: cab's model proxy translates only model calls%s",
                         wire, ops->model_in_path && route->model[0] == '\0'
                                   ? " (or the model name in the path is not valid)"
                                   : "");
  cleanup_ctx struct cab_translate_ctx *ctx = calloc(1, sizeof *ctx);
  if (ctx == NULL)
    return cab_error_set(err, ENOMEM, "%s request", wire);
  ctx->wire = route->wire;
  ctx->kind = route->kind;
  if (ops->model_in_path) { /* and whether it streams, in what form */
    snprintf(ctx->model, sizeof ctx->model, "%s", route->model);
    ctx->stream = route->stream && route->kind == CAB_ROUTE_GENERATE;
    ctx->json_array = ctx->stream && route->json_array;
  }

  cleanup_json cJSON *in = body ? cJSON_ParseWithLength(body, len) : NULL;
  if (in == NULL)
    return cab_error_set(err, 0, "%s request: the body is not valid JSON", wire);
  if (!cJSON_IsObject(in))
    return cab_error_set(err, 0, "%s request: the body is not a JSON object", wire);

  if (ops->identity) {
    /* Nothing to translate: the proxy's own rewrite (request.h) applies. */
    const char *model = tr_str(in, "model");
    snprintf(ctx->model, sizeof ctx->model, "%s", model ? model : "");
    ctx->stream = cJSON_IsTrue(tr_get(in, "stream"));
    if (copy_body(body, len, chat_body, chat_len, err) < 0)
      return -1;
  } else if (translate(ops, in, ctx, chat_body, chat_len, err) < 0)
    return cab_error_prefix(err, "%s request", wire);
  *ctx_out = cab_steal_ptr(&ctx);
  return 0;
}
