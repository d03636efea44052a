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
ant_start(struct cab_sse_translator *t)
{
  cJSON *e = ant_event("message_start");
  cJSON *content;
  cJSON *m = tr_anthropic_message(t->id, t->model, &content);
  cJSON_AddItemToObject(e, "message", m);
  cJSON_AddNullToObject(m, "stop_reason");
  cJSON_AddNullToObject(m, "stop_sequence");
  /* The chat stream reports usage at its end: message_delta has it all. */
  cJSON *u = cJSON_AddObjectToObject(m, "usage");
  cJSON_AddNumberToObject(u, "input_tokens", 0);
  cJSON_AddNumberToObject(u, "output_tokens", 0);
  tr_stream_send_typed(t, e);
}

static void
ant_block_start(struct cab_sse_translator *t, int index, cJSON *block)
{
  cJSON *e = ant_event("content_block_start");
  cJSON_AddNumberToObject(e, "index", index);
  cJSON_AddItemToObject(e, "content_block", block);
  tr_stream_send_typed(t, e);
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
  tr_stream_send_typed(t, e);
}

static void
ant_block_stop(struct cab_sse_translator *t, int index)
{
  cJSON *e = ant_event("content_block_stop");
  cJSON_AddNumberToObject(e, "index", index);
  tr_stream_send_typed(t, e);
}

static void
ant_text_open(struct cab_sse_translator *t)
{
  ant_block_start(t, t->text_index, tr_anthropic_text_block(""));
}

static void
ant_call_open(struct cab_sse_translator *t, struct tr_call *c)
{
  cJSON *input = cJSON_CreateObject(); /* streamed as input_json_delta */
  ant_block_start(t, c->out_index, tr_anthropic_tool_use_block(c->id, c->name, input));
}

static void
ant_final(struct cab_sse_translator *t)
{
  cJSON *e = ant_event("message_delta");
  tr_anthropic_stop_fields(cJSON_AddObjectToObject(e, "delta"), tr_stream_finish(t),
                           t->stop_sequence);
  cJSON_AddItemToObject(e, "usage", tr_usage_anthropic(&t->usage));
  tr_stream_send_typed(t, e);
  tr_stream_send_typed(t, ant_event("message_stop"));
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
  cJSON *e = tr_error_object(t->ctx->wire, status, message, NULL, NULL);
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
