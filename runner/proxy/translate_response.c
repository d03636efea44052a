/* Chat completion -> the client wire's answer (non-streamed), token-count
 * answers, and the answer's Content-Type.  The shapes themselves are in
 * translate_shapes.c, shared with the stream. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "runner/proxy/translate_internal.h"

/* What the answer says, from choices[0]. */
struct answer {
  const char *id, *model;
  double created;
  struct tr_buf text;
  const cJSON *calls; /* message.tool_calls */
  enum tr_finish finish;
  const char *stop_sequence; /* vLLM's stop_reason, when a string matched */
  struct tr_usage usage;
};

static int
read_answer(const struct cab_translate_ctx *ctx, const cJSON *root, struct answer *a,
            cab_error *err)
{
  const cJSON *choices = tr_get(root, "choices");
  const cJSON *choice = cJSON_GetArrayItem(choices, 0);
  const cJSON *msg = tr_get(choice, "message");
  if (!cJSON_IsObject(msg)) {
    const char *e = tr_str(tr_get(root, "error"), "message");
    if (e)
      return cab_error_set(err, 0, "upstream answered with an error: %s", e);
    return cab_error_set(err, 0,
                         "upstream answer is not a chat completion (no choices[0].message)");
  }
  a->id = tr_str(root, "id");
  a->model = tr_str(root, "model");
  if (a->id == NULL || a->id[0] == '\0')
    a->id = "cab";
  if (a->model == NULL || a->model[0] == '\0')
    a->model = ctx->model;
  const cJSON *created = tr_get(root, "created");
  a->created = cJSON_IsNumber(created) ? created->valuedouble : 0;
  const cJSON *content = tr_get(msg, "content");
  if (cJSON_IsString(content))
    tr_buf_adds(&a->text, content->valuestring);
  else {
    const cJSON *part; /* some servers answer with text parts */
    cJSON_ArrayForEach(part, content) if (tr_str(part, "text"))
        tr_buf_adds(&a->text, tr_str(part, "text"));
  }
  const char *refusal = tr_str(msg, "refusal");
  if (a->text.len == 0 && refusal)
    tr_buf_adds(&a->text, refusal);
  a->calls = tr_get(msg, "tool_calls");
  a->finish = tr_finish_of(tr_str(choice, "finish_reason"), cJSON_GetArraySize(a->calls) > 0);
  a->stop_sequence = tr_str(choice, "stop_reason");
  tr_usage_read(tr_get(root, "usage"), &a->usage);
  if (a->text.oom)
    return cab_error_set(err, ENOMEM, "reading the completion");
  return 0;
}

/* One tool call of the answer as the wire's item, block or part. */
typedef cJSON *call_item_fn(const struct cab_translate_ctx *ctx, const char *id, const char *name,
                            const char *args);

/* Append the answer's tool calls to ARR, as ITEM makes them.  A call
 * without an id gets "call_<chat id>_<i>". */
static void
add_calls(const struct cab_translate_ctx *ctx, const struct answer *a, cJSON *arr,
          call_item_fn *item)
{
  const cJSON *call;
  int i = 0;
  cJSON_ArrayForEach(call, a->calls)
  {
    char id[256];
    const char *cid = tr_str(call, "id");
    if (cid && cid[0])
      snprintf(id, sizeof id, "%s", cid);
    else
      snprintf(id, sizeof id, "call_%s_%d", a->id, i);
    i++;
    const cJSON *fn = tr_get(call, "function");
    const char *name = tr_str(fn, "name");
    cJSON_AddItemToArray(arr, item(ctx, id, name ? name : "", tr_str(fn, "arguments")));
  }
}

static cJSON *
responses_call(const struct cab_translate_ctx *ctx, const char *id, const char *name,
               const char *args)
{
  return tr_responses_call_item(ctx, id, name, args, "completed");
}

static cJSON *
responses_answer(const struct cab_translate_ctx *ctx, const struct answer *a)
{
  cJSON *output = cJSON_CreateArray();
  if (a->text.len) {
    char id[512];
    snprintf(id, sizeof id, "msg_%s_0", a->id);
    cJSON_AddItemToArray(output, tr_responses_message_item(id, "completed", a->text.s));
  }
  add_calls(ctx, a, output, responses_call);
  bool incomplete = a->finish == TR_FINISH_LENGTH || a->finish == TR_FINISH_FILTER;
  return tr_responses_object(a->id, a->created, a->model, incomplete ? "incomplete" : "completed",
                             a->finish, output, &a->usage);
}

static cJSON *
anthropic_call(const struct cab_translate_ctx *ctx, const char *id, const char *name,
               const char *args)
{
  return tr_anthropic_tool_use_block(id, name, tr_args_object(args));
}

static cJSON *
anthropic_answer(const struct cab_translate_ctx *ctx, const struct answer *a)
{
  cJSON *content;
  cJSON *r = tr_anthropic_message(a->id, a->model, &content);
  if (a->text.len)
    cJSON_AddItemToArray(content, tr_anthropic_text_block(a->text.s));
  add_calls(ctx, a, content, anthropic_call);
  tr_anthropic_stop_fields(r, a->finish, a->stop_sequence);
  cJSON_AddItemToObject(r, "usage", tr_usage_anthropic(&a->usage));
  return r;
}

static cJSON *
gemini_call(const struct cab_translate_ctx *ctx, const char *id, const char *name,
            const char *args)
{
  return tr_gemini_call_part(id, name, args);
}

static cJSON *
gemini_answer(const struct cab_translate_ctx *ctx, const struct answer *a)
{
  cJSON *parts = cJSON_CreateArray();
  if (a->text.len)
    cJSON_AddItemToArray(parts, tr_gemini_text_part(a->text.s));
  add_calls(ctx, a, parts, gemini_call);
  return tr_gemini_response(parts, tr_gemini_finish(a->finish), &a->usage, a->model, a->id);
}

int
cab_translate_response(const struct cab_translate_ctx *ctx, const char *chat_json, size_t len,
                       char **out, size_t *out_len, cab_error *err)
{
  *out = NULL;
  *out_len = 0;
  cleanup_json cJSON *root =
      chat_json ? cJSON_ParseWithLength(chat_json, len) : NULL;
  if (!cJSON_IsObject(root))
    return cab_error_set(err, 0, "%s answer: upstream's body is not a JSON object",
                         cab_wire_name(ctx->wire));
  if (ctx->wire == CAB_WIRE_CHAT)
    return tr_print(cab_steal_ptr(&root), out, out_len, err);
  if (ctx->kind == CAB_ROUTE_COUNT_TOKENS) {
    struct tr_usage u = {0};
    tr_usage_read(tr_get(root, "usage"), &u);
    if (!u.present)
      return cab_error_set(err, 0, "%s count: upstream's answer has no usage",
                           cab_wire_name(ctx->wire));
    return cab_translate_count_response(ctx, (int64_t)u.prompt, out, out_len, err);
  }
  struct answer a = {0};
  if (read_answer(ctx, root, &a, err) < 0) {
    tr_buf_free(&a.text);
    return cab_error_prefix(err, "%s answer", cab_wire_name(ctx->wire));
  }
  cJSON *r = ctx->wire == CAB_WIRE_RESPONSES   ? responses_answer(ctx, &a)
             : ctx->wire == CAB_WIRE_ANTHROPIC ? anthropic_answer(ctx, &a)
                                               : gemini_answer(ctx, &a);
  tr_buf_free(&a.text);
  return tr_print(r, out, out_len, err);
}

int
cab_translate_count_response(const struct cab_translate_ctx *ctx, int64_t input_tokens,
                             char **out, size_t *out_len, cab_error *err)
{
  cJSON *r = cJSON_CreateObject();
  cJSON_AddNumberToObject(r, ctx->wire == CAB_WIRE_GEMINI ? "totalTokens" : "input_tokens",
                          (double)input_tokens);
  return tr_print(r, out, out_len, err);
}

const char *
cab_translate_content_type(const struct cab_translate_ctx *ctx)
{
  return ctx->stream && !ctx->gemini_array ? "text/event-stream" : "application/json";
}
