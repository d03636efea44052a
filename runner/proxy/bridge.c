/* The bridge between a client's wire and the chat endpoint (bridge.h). */
#include "runner/proxy/bridge.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/cleanup.h"
#include "runner/proxy/byteq.h"
#include "runner/proxy/wire_ops.h"
#include "runner/model_api/usage.h"

static inline void
cjson_deletep(cJSON **j)
{
  cJSON_Delete(*j);
}
#define cleanup_cjson __attribute__((cleanup(cjson_deletep)))

struct cab_bridge {
  struct cab_wire_route route;
  struct cab_translate_ctx *ctx;
  int status;
  bool begun, ended;
  bool streaming;                 /* upstream SSE through the translator */
  struct cab_sse_translator *sse;
  struct cab_byteq body;          /* a buffered (non-SSE) upstream body */
  struct cab_usage up_usage;      /* a buffered body's usage, as upstream said it */
  struct cab_byteq q;             /* client bytes not yet taken */
};

static enum cab_bridge_decision
refuse(const struct cab_wire_route *route, int code, int *status, char **body, size_t *len,
       cab_error *err, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

static enum cab_bridge_decision
refuse(const struct cab_wire_route *route, int code, int *status, char **body, size_t *len,
       cab_error *err, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
  err->errnum = 0;
  *status = code;
  *body = NULL;
  *len = 0;
  cab_translate_error(route, code, err->message, strlen(err->message), body, len);
  return CAB_BRIDGE_REFUSE;
}

enum cab_bridge_decision
cab_bridge_open(enum cab_wire endpoint_wire, const char *path, const char *query, const char *body,
                size_t len, struct cab_bridge **out, char **chat_body, size_t *chat_len,
                int *status, char **error_body, size_t *error_len, cab_error *err)
{
  *out = NULL;
  struct cab_wire_route route;
  if (!cab_wire_of_request(path, query, &route) || route.wire == endpoint_wire)
    return CAB_BRIDGE_PASS;
  if (!cab_wire_ops(endpoint_wire)->identity) /* translations go to chat only */
    return refuse(&route, 501, status, error_body, error_len, err,
                  "cab proxy: the endpoint speaks %s and cab translates %s only to chat; run "
                  "with --endpoint-wire chat, or an endpoint that speaks %s",
                  cab_wire_name(endpoint_wire), cab_wire_name(route.wire),
                  cab_wire_name(route.wire));
  if (route.kind == CAB_ROUTE_OTHER)
    return refuse(&route, 404, status, error_body, error_len, err,
                  "cab proxy: %s is not a %s model call that cab can translate to chat", path,
                  cab_wire_name(route.wire));
  struct cab_bridge *b = calloc(1, sizeof *b);
  if (b == NULL)
    return refuse(&route, 500, status, error_body, error_len, err, "cab proxy: out of memory");
  b->route = route;
  cab_error terr = {0};
  if (cab_translate_request(&route, body, len, chat_body, chat_len, &b->ctx, &terr) < 0) {
    free(b);
    return refuse(&route, 400, status, error_body, error_len, err, "cab proxy: %s",
                  terr.message);
  }
  *out = b;
  return CAB_BRIDGE_TRANSLATE;
}

const struct cab_translate_ctx *
cab_bridge_ctx(const struct cab_bridge *b)
{
  return b->ctx;
}

const struct cab_wire_route *
cab_bridge_route(const struct cab_bridge *b)
{
  return &b->route;
}

const char *
cab_bridge_wire_name(const struct cab_bridge *b)
{
  return cab_wire_name(b->route.wire);
}

char *
cab_bridge_local_answer(const struct cab_bridge *b, size_t chat_len, size_t *out_len)
{
  if (b->route.kind != CAB_ROUTE_COUNT_TOKENS)
    return NULL;
  char *out = NULL;
  cab_error err = {0};
  if (cab_translate_count_response(b->ctx, (int64_t)((chat_len + 3) / 4), &out, out_len, &err) < 0)
    return NULL;
  return out;
}

void
cab_bridge_begin(struct cab_bridge *b, int status, const char *content_type)
{
  b->begun = true;
  b->status = status;
  bool sse = content_type && strncasecmp(content_type, "text/event-stream", 17) == 0;
  b->streaming = sse && status < 400 && b->ctx->stream;
  if (b->streaming) {
    b->sse = cab_sse_translator_new(b->ctx);
    if (b->sse == NULL)
      b->streaming = false;
  }
}

const char *
cab_bridge_content_type(const struct cab_bridge *b)
{
  if (b->status >= 400)
    return "application/json";
  return cab_translate_content_type(b->ctx);
}

/* Queue N client bytes (taken from OUT, which is freed). */
static int
queue(struct cab_bridge *b, char *out, size_t n)
{
  int rc = n ? cab_byteq_put(&b->q, out, n) : 0;
  free(out);
  return rc;
}

int
cab_bridge_feed(struct cab_bridge *b, const char *data, size_t n, size_t max_body, cab_error *err)
{
  if (b->streaming) {
    char *out = NULL;
    size_t out_len = 0;
    if (cab_sse_translator_feed(b->sse, data, n, &out, &out_len, err) < 0)
      return -1;
    return queue(b, out, out_len) < 0 ? cab_error_set(err, ENOMEM, "translate") : 0;
  }
  if (b->body.len + n > max_body)
    return cab_error_set(err, 0, "the upstream's answer is larger than %zu bytes", max_body);
  if (cab_byteq_put(&b->body, data, n) < 0)
    return cab_error_set(err, ENOMEM, "buffer the upstream's answer");
  return 0;
}

/* A client that asked for a stream got a whole chat completion (an
 * endpoint that ignores "stream"): say it as one chat chunk, so that the
 * client still gets its own wire's stream. */
static char *
completion_as_chunk(const char *json, size_t len)
{
  cleanup_cjson cJSON *c = cJSON_ParseWithLength(json, len);
  const cJSON *choices = cJSON_GetObjectItemCaseSensitive(c, "choices");
  const cJSON *choice = cJSON_GetArrayItem(choices, 0);
  const cJSON *msg = cJSON_GetObjectItemCaseSensitive(choice, "message");
  if (!cJSON_IsObject(msg))
    return NULL;
  cleanup_cjson cJSON *chunk = cJSON_CreateObject();
  cJSON_AddStringToObject(chunk, "object", "chat.completion.chunk");
  const cJSON *model = cJSON_GetObjectItemCaseSensitive(c, "model");
  if (cJSON_IsString(model))
    cJSON_AddStringToObject(chunk, "model", model->valuestring);
  cJSON *arr = cJSON_AddArrayToObject(chunk, "choices");
  cJSON *ch = cJSON_CreateObject();
  cJSON_AddItemToArray(arr, ch);
  cJSON_AddNumberToObject(ch, "index", 0);
  cJSON *delta = cJSON_Duplicate(msg, true);
  cJSON_AddItemToObject(ch, "delta", delta);
  cJSON *tcs = cJSON_GetObjectItemCaseSensitive(delta, "tool_calls");
  int i = 0;
  cJSON *tc;
  cJSON_ArrayForEach(tc, tcs)
  {
    if (cJSON_GetObjectItemCaseSensitive(tc, "index") == NULL)
      cJSON_AddNumberToObject(tc, "index", i);
    i++;
  }
  const cJSON *fr = cJSON_GetObjectItemCaseSensitive(choice, "finish_reason");
  cJSON_AddItemToObject(ch, "finish_reason", fr ? cJSON_Duplicate(fr, true) : cJSON_CreateNull());
  const cJSON *usage = cJSON_GetObjectItemCaseSensitive(c, "usage");
  if (usage)
    cJSON_AddItemToObject(chunk, "usage", cJSON_Duplicate(usage, true));
  cleanup_free char *text = cJSON_PrintUnformatted(chunk);
  char *sse = NULL;
  if (text == NULL || asprintf(&sse, "data: %s\n\ndata: [DONE]\n\n", text) < 0)
    return NULL;
  return sse;
}

int
cab_bridge_end(struct cab_bridge *b, cab_error *err)
{
  if (b->ended)
    return 0;
  b->ended = true;
  char *out = NULL;
  size_t out_len = 0;
  if (b->streaming) {
    if (cab_sse_translator_finish(b->sse, &out, &out_len, err) < 0)
      return -1;
    return queue(b, out, out_len) < 0 ? cab_error_set(err, ENOMEM, "translate") : 0;
  }
  cab_usage_from_json(b->body.data, b->body.len, &b->up_usage);
  const char *body = b->body.data ? b->body.data : "";
  if (b->status >= 400) {
    if (cab_translate_error(&b->route, b->status, body, b->body.len, &out, &out_len) < 0)
      return cab_error_set(err, ENOMEM, "translate the upstream's error");
    return queue(b, out, out_len) < 0 ? cab_error_set(err, ENOMEM, "translate") : 0;
  }
  if (b->ctx->stream) {
    cleanup_free char *chunk = completion_as_chunk(body, b->body.len);
    if (chunk == NULL)
      return cab_error_set(err, 0, "the upstream's answer to a streamed call is not a chat "
                                   "completion");
    b->sse = cab_sse_translator_new(b->ctx);
    if (b->sse == NULL)
      return cab_error_set(err, ENOMEM, "translate");
    b->streaming = true;
    if (cab_sse_translator_feed(b->sse, chunk, strlen(chunk), &out, &out_len, err) < 0 ||
        queue(b, out, out_len) < 0)
      return -1;
    out = NULL;
    if (cab_sse_translator_finish(b->sse, &out, &out_len, err) < 0)
      return -1;
    return queue(b, out, out_len) < 0 ? cab_error_set(err, ENOMEM, "translate") : 0;
  }
  if (cab_translate_response(b->ctx, body, b->body.len, &out, &out_len, err) < 0)
    return -1;
  return queue(b, out, out_len) < 0 ? cab_error_set(err, ENOMEM, "translate") : 0;
}

size_t
cab_bridge_take(struct cab_bridge *b, char *buf, size_t max)
{
  return cab_byteq_take(&b->q, buf, max);
}

bool
cab_bridge_usage_clamped(const struct cab_bridge *b, const char **note)
{
  *note = b->up_usage.clamped ? b->up_usage.note : NULL;
  return b->up_usage.clamped || cab_sse_translator_usage_clamped(b->sse);
}

bool
cab_bridge_ended(const struct cab_bridge *b)
{
  return b->ended;
}

void
cab_bridge_free(struct cab_bridge *b)
{
  if (b == NULL)
    return;
  cab_sse_translator_free(b->sse);
  cab_translate_ctx_free(b->ctx);
  cab_byteq_clear(&b->body);
  cab_byteq_clear(&b->q);
  free(b);
}
