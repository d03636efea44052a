/* The OpenAI Responses stream (codex): response.created, in_progress, the
 * items' added / delta / done events, and response.completed (or
 * .incomplete, .failed) with the whole response.  Every event's data has
 * "type" = the event name and a sequence_number counting from 0. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner/proxy/translate_internal.h"

static cJSON *
resp_event(struct cab_sse_translator *t, const char *type)
{
  cJSON *e = cJSON_CreateObject();
  cJSON_AddStringToObject(e, "type", type);
  cJSON_AddNumberToObject(e, "sequence_number", t->events++);
  return e;
}

static cJSON *
resp_object(struct cab_sse_translator *t, const char *status, enum tr_finish finish, cJSON *output,
            const struct tr_usage *u)
{
  return tr_responses_object(t->id, t->created, t->model, status, finish, output, u);
}

static void
resp_text_id(struct cab_sse_translator *t, char *id, size_t size)
{
  snprintf(id, size, "msg_%s_%d", t->id, t->text_index);
}

static void
resp_call_id(struct cab_sse_translator *t, struct tr_call *c, char *id, size_t size)
{
  tr_responses_call_item_id(t->ctx, c->id, c->name, id, size);
}

/* The fields every item event has. */
static cJSON *
resp_item_event(struct cab_sse_translator *t, const char *type, const char *item_id,
                int output_index)
{
  cJSON *e = resp_event(t, type);
  if (item_id)
    cJSON_AddStringToObject(e, "item_id", item_id);
  cJSON_AddNumberToObject(e, "output_index", output_index);
  return e;
}

/* An event of the text item's one content part. */
static cJSON *
resp_text_event(struct cab_sse_translator *t, const char *type, const char *id)
{
  cJSON *e = resp_item_event(t, type, id, t->text_index);
  cJSON_AddNumberToObject(e, "content_index", 0);
  return e;
}

/* response.output_text.delta / .done: KEY (delta, text) is S. */
static void
resp_output_text(struct cab_sse_translator *t, const char *type, const char *id, const char *key,
                 const char *s)
{
  cJSON *e = resp_text_event(t, type, id);
  cJSON_AddStringToObject(e, key, s);
  cJSON_AddArrayToObject(e, "logprobs");
  tr_stream_send_typed(t, e);
}

/* response.output_item.done with ITEM (taken), kept for the final response. */
static void
resp_item_done(struct cab_sse_translator *t, cJSON *item, int output_index)
{
  cJSON_AddItemToArray(t->items, cJSON_Duplicate(item, true));
  cJSON *e = resp_item_event(t, "response.output_item.done", NULL, output_index);
  cJSON_AddItemToObject(e, "item", item);
  tr_stream_send_typed(t, e);
}

static void
resp_start(struct cab_sse_translator *t)
{
  cJSON *e = resp_event(t, "response.created");
  cJSON_AddItemToObject(e, "response", resp_object(t, "in_progress", TR_FINISH_NONE, NULL, NULL));
  tr_stream_send_typed(t, e);
  e = resp_event(t, "response.in_progress");
  cJSON_AddItemToObject(e, "response", resp_object(t, "in_progress", TR_FINISH_NONE, NULL, NULL));
  tr_stream_send_typed(t, e);
}

static void
resp_text_open(struct cab_sse_translator *t)
{
  char id[512];
  resp_text_id(t, id, sizeof id);
  cJSON *e = resp_item_event(t, "response.output_item.added", NULL, t->text_index);
  cJSON_AddItemToObject(e, "item", tr_responses_message_item(id, "in_progress", NULL));
  tr_stream_send_typed(t, e);
  e = resp_text_event(t, "response.content_part.added", id);
  cJSON_AddItemToObject(e, "part", tr_responses_text_part(""));
  tr_stream_send_typed(t, e);
}

static void
resp_text_delta(struct cab_sse_translator *t, const char *s)
{
  char id[512];
  resp_text_id(t, id, sizeof id);
  resp_output_text(t, "response.output_text.delta", id, "delta", s);
}

static void
resp_text_close(struct cab_sse_translator *t)
{
  char id[512];
  const char *text = t->text.s ? t->text.s : "";
  resp_text_id(t, id, sizeof id);
  resp_output_text(t, "response.output_text.done", id, "text", text);
  cJSON *e = resp_text_event(t, "response.content_part.done", id);
  cJSON_AddItemToObject(e, "part", tr_responses_text_part(text));
  tr_stream_send_typed(t, e);
  resp_item_done(t, tr_responses_message_item(id, "completed", text), t->text_index);
}

static void
resp_call_open(struct cab_sse_translator *t, struct tr_call *c)
{
  char id[512];
  resp_call_id(t, c, id, sizeof id);
  cJSON *e = resp_item_event(t, "response.output_item.added", NULL, c->out_index);
  cJSON_AddItemToObject(e, "item",
                        tr_responses_call_item(t->ctx, c->id, c->name, NULL, "in_progress"));
  tr_stream_send_typed(t, e);
}

static void
resp_call_delta(struct cab_sse_translator *t, struct tr_call *c, const char *s)
{
  if (tr_is_custom(t->ctx, c->name))
    return; /* the input is JSON-encoded in the arguments: sent when whole */
  char id[512];
  resp_call_id(t, c, id, sizeof id);
  cJSON *e = resp_item_event(t, "response.function_call_arguments.delta", id, c->out_index);
  cJSON_AddStringToObject(e, "delta", s);
  tr_stream_send_typed(t, e);
}

static void
resp_call_close(struct cab_sse_translator *t, struct tr_call *c)
{
  char id[512];
  const char *args = c->args.s ? c->args.s : "";
  resp_call_id(t, c, id, sizeof id);
  if (tr_is_custom(t->ctx, c->name)) {
    char *input = tr_custom_input(args);
    if (input == NULL) {
      t->out.oom = true;
      return;
    }
    cJSON *e;
    if (input[0]) {
      e = resp_item_event(t, "response.custom_tool_call_input.delta", id, c->out_index);
      cJSON_AddStringToObject(e, "delta", input);
      tr_stream_send_typed(t, e);
    }
    e = resp_item_event(t, "response.custom_tool_call_input.done", id, c->out_index);
    cJSON_AddStringToObject(e, "input", input);
    tr_stream_send_typed(t, e);
    free(input);
  } else {
    cJSON *e = resp_item_event(t, "response.function_call_arguments.done", id, c->out_index);
    cJSON_AddStringToObject(e, "name", c->name);
    cJSON_AddStringToObject(e, "arguments", args);
    tr_stream_send_typed(t, e);
  }
  resp_item_done(t, tr_responses_call_item(t->ctx, c->id, c->name, args, "completed"),
                 c->out_index);
}

static void
resp_final(struct cab_sse_translator *t)
{
  enum tr_finish f = tr_stream_finish(t);
  bool incomplete = f == TR_FINISH_LENGTH || f == TR_FINISH_FILTER;
  cJSON *e = resp_event(t, incomplete ? "response.incomplete" : "response.completed");
  cJSON *output = t->items;
  t->items = NULL;
  cJSON_AddItemToObject(e, "response", resp_object(t, incomplete ? "incomplete" : "completed", f,
                                                   output, &t->usage));
  tr_stream_send_typed(t, e);
}

static void
resp_error(struct cab_sse_translator *t, int status, const char *message, const char *code)
{
  cJSON *e = resp_event(t, "response.failed");
  cJSON *r = resp_object(t, "failed", TR_FINISH_NONE, NULL, &t->usage);
  cJSON *err = cJSON_CreateObject();
  cJSON_AddStringToObject(err, "code", code ? code : "server_error");
  cJSON_AddStringToObject(err, "message", message);
  cJSON_ReplaceItemInObjectCaseSensitive(r, "error", err);
  cJSON_AddItemToObject(e, "response", r);
  tr_stream_send_typed(t, e);
}

const struct tr_emitter tr_emit_responses = {
    .start = resp_start,
    .text_open = resp_text_open,
    .text_delta = resp_text_delta,
    .text_close = resp_text_close,
    .call_open = resp_call_open,
    .call_delta = resp_call_delta,
    .call_close = resp_call_close,
    .final = resp_final,
    .error = resp_error,
};
