/* Chat completion -> the client wire's answer (non-streamed), token-count
 * answers, and the answer's Content-Type.  The shapes themselves are in
 * translate_shapes.c, shared with the stream. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "runner/proxy/translate_internal.h"
#include "runner/proxy/wire_ops.h"

/* What the answer says, from choices[0]. */
static int
read_answer(const struct cab_translate_ctx *ctx, const cJSON *root, struct tr_answer *a,
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

void
tr_answer_add_calls(const struct cab_translate_ctx *ctx, const struct tr_answer *a, cJSON *arr,
                    tr_call_item_fn *item)
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

int
cab_translate_response(const struct cab_translate_ctx *ctx, const char *chat_json, size_t len,
                       char **out, size_t *out_len, cab_error *err)
{
  *out = NULL;
  *out_len = 0;
  cleanup_json cJSON *root =
      chat_json ? cJSON_ParseWithLength(chat_json, len) : NULL;
  const struct cab_wire_ops *ops = cab_wire_ops(ctx->wire);
  if (!cJSON_IsObject(root))
    return cab_error_set(err, 0, "%s answer: upstream's body is not a JSON object", ops->name);
  if (ops->identity)
    return tr_print(cab_steal_ptr(&root), out, out_len, err);
  if (ctx->kind == CAB_ROUTE_COUNT_TOKENS) {
    struct tr_usage u = {0};
    tr_usage_read(tr_get(root, "usage"), &u);
    if (!u.present)
      return cab_error_set(err, 0, "%s count: upstream's answer has no usage", ops->name);
    return cab_translate_count_response(ctx, (int64_t)u.prompt, out, out_len, err);
  }
  struct tr_answer a = {0};
  if (read_answer(ctx, root, &a, err) < 0) {
    tr_buf_free(&a.text);
    return cab_error_prefix(err, "%s answer", ops->name);
  }
  cJSON *r = ops->answer(ctx, &a);
  tr_buf_free(&a.text);
  return tr_print(r, out, out_len, err);
}

int
cab_translate_count_response(const struct cab_translate_ctx *ctx, int64_t input_tokens,
                             char **out, size_t *out_len, cab_error *err)
{
  cJSON *r = cJSON_CreateObject();
  cJSON_AddNumberToObject(r, cab_wire_ops(ctx->wire)->count_key, (double)input_tokens);
  return tr_print(r, out, out_len, err);
}

const char *
cab_translate_content_type(const struct cab_translate_ctx *ctx)
{
  return ctx->stream && !ctx->json_array ? "text/event-stream" : "application/json";
}
