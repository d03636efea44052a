/* The Anthropic Messages stream (claude-code): message_start, one content
 * block at a time (content_block_start / _delta / _stop, text_delta or
 * input_json_delta), message_delta with stop_reason and the usage, and
 * message_stop.  message_start's usage is 0: the chat stream reports usage
 * at its end, and message_delta carries all of it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner/proxy/translate_internal.h"

static cJSON *
ant_event(const char *type)
{
  cJSON *e = cJSON_CreateObject();
  cJSON_AddStringToObject(e, "type", type);
  return e;
}

static void
ant_send(struct cab_sse_translator *t, cJSON *e)
{
  char type[64];
  snprintf(type, sizeof type, "%s", tr_str(e, "type"));
  tr_stream_send(t, type, "data: ", e, "\n\n");
}

static void
ant_start(struct cab_sse_translator *t)
{
  char id[512];
  snprintf(id, sizeof id, "msg_%s", t->id);
  cJSON *e = ant_event("message_start");
  cJSON *m = cJSON_AddObjectToObject(e, "message");
  cJSON_AddStringToObject(m, "id", id);
  cJSON_AddStringToObject(m, "type", "message");
  cJSON_AddStringToObject(m, "role", "assistant");
  cJSON_AddStringToObject(m, "model", t->model);
  cJSON_AddArrayToObject(m, "content");
  cJSON_AddNullToObject(m, "stop_reason");
  cJSON_AddNullToObject(m, "stop_sequence");
  /* The chat stream reports usage at its end: message_delta has it all. */
  cJSON *u = cJSON_AddObjectToObject(m, "usage");
  cJSON_AddNumberToObject(u, "input_tokens", 0);
  cJSON_AddNumberToObject(u, "output_tokens", 0);
  ant_send(t, e);
}

static void
ant_block_start(struct cab_sse_translator *t, int index, cJSON *block)
{
  cJSON *e = ant_event("content_block_start");
  cJSON_AddNumberToObject(e, "index", index);
  cJSON_AddItemToObject(e, "content_block", block);
  ant_send(t, e);
}

static void
ant_block_delta(struct cab_sse_translator *t, int index, const char *type, const char *key,
                const char *s)
{
  cJSON *e = ant_event("content_block_delta");
  cJSON_AddNumberToObject(e, "index", index);
  cJSON *d = cJSON_AddObjectToObject(e, "delta");
  cJSON_AddStringToObject(d, "type", type);
  cJSON_AddStringToObject(d, key, s);
  ant_send(t, e);
}

static void
ant_block_stop(struct cab_sse_translator *t, int index)
{
  cJSON *e = ant_event("content_block_stop");
  cJSON_AddNumberToObject(e, "index", index);
  ant_send(t, e);
}

static void
ant_text_open(struct cab_sse_translator *t)
{
  cJSON *b = cJSON_CreateObject();
  cJSON_AddStringToObject(b, "type", "text");
  cJSON_AddStringToObject(b, "text", "");
  ant_block_start(t, t->text_index, b);
}

static void
ant_call_open(struct cab_sse_translator *t, struct tr_call *c)
{
  cJSON *b = cJSON_CreateObject();
  cJSON_AddStringToObject(b, "type", "tool_use");
  cJSON_AddStringToObject(b, "id", c->id);
  cJSON_AddStringToObject(b, "name", c->name);
  cJSON_AddObjectToObject(b, "input");
  ant_block_start(t, c->out_index, b);
}

static void
ant_final(struct cab_sse_translator *t)
{
  enum tr_finish f = tr_stream_finish(t);
  cJSON *e = ant_event("message_delta");
  cJSON *d = cJSON_AddObjectToObject(e, "delta");
  cJSON_AddStringToObject(d, "stop_reason", tr_anthropic_stop(f, t->stop_sequence));
  if (t->stop_sequence && f == TR_FINISH_STOP)
    cJSON_AddStringToObject(d, "stop_sequence", t->stop_sequence);
  else
    cJSON_AddNullToObject(d, "stop_sequence");
  cJSON_AddItemToObject(e, "usage", tr_usage_anthropic(&t->usage));
  ant_send(t, e);
  ant_send(t, ant_event("message_stop"));
}

static void
ant_text_delta(struct cab_sse_translator *t, const char *s)
{
  ant_block_delta(t, t->text_index, "text_delta", "text", s);
}

static void
ant_text_close(struct cab_sse_translator *t)
{
  ant_block_stop(t, t->text_index);
}

static void
ant_call_delta(struct cab_sse_translator *t, struct tr_call *c, const char *s)
{
  ant_block_delta(t, c->out_index, "input_json_delta", "partial_json", s);
}

static void
ant_call_close(struct cab_sse_translator *t, struct tr_call *c)
{
  ant_block_stop(t, c->out_index);
}

static void
ant_error(struct cab_sse_translator *t, int status, const char *message, const char *code)
{
  cJSON *e = tr_error_object(CAB_WIRE_ANTHROPIC, status, message, NULL, NULL);
  tr_stream_send(t, "error", "data: ", e, "\n\n");
}

const struct tr_emitter tr_emit_anthropic = {
    .start = ant_start,
    .text_open = ant_text_open,
    .text_delta = ant_text_delta,
    .text_close = ant_text_close,
    .call_open = ant_call_open,
    .call_delta = ant_call_delta,
    .call_close = ant_call_close,
    .final = ant_final,
    .error = ant_error,
};
