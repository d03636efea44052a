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
  cJSON_AddNumberToObject(e, "sequence_number", t->seq++);
  return e;
}

static void
resp_send(struct cab_sse_translator *t, cJSON *e)
{
  char type[64];
  snprintf(type, sizeof type, "%s", tr_str(e, "type"));
  tr_stream_send(t, type, "data: ", e, "\n\n");
}

static cJSON *
resp_object(struct cab_sse_translator *t, const char *status, enum tr_finish finish, cJSON *output,
            const struct tr_usage *u)
{
  char id[512];
  snprintf(id, sizeof id, "resp_%s", t->id);
  return tr_responses_object(id, t->created, t->model, status, finish, output, u);
}

static void
resp_text_id(struct cab_sse_translator *t, char *id, size_t size)
{
  snprintf(id, size, "msg_%s_%d", t->id, t->text_index);
}

static void
resp_call_id(struct cab_sse_translator *t, struct tr_call *c, char *id, size_t size)
{
  snprintf(id, size, "%s_%s", tr_is_custom(t->ctx, c->name) ? "ctc" : "fc", c->id);
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

static cJSON *
resp_text_part(const char *text)
{
  cJSON *p = cJSON_CreateObject();
  cJSON_AddStringToObject(p, "type", "output_text");
  cJSON_AddStringToObject(p, "text", text);
  cJSON_AddArrayToObject(p, "annotations");
  return p;
}

static void
resp_start(struct cab_sse_translator *t)
{
  cJSON *e = resp_event(t, "response.created");
  cJSON_AddItemToObject(e, "response", resp_object(t, "in_progress", TR_FINISH_NONE, NULL, NULL));
  resp_send(t, e);
  e = resp_event(t, "response.in_progress");
  cJSON_AddItemToObject(e, "response", resp_object(t, "in_progress", TR_FINISH_NONE, NULL, NULL));
  resp_send(t, e);
}

static void
resp_text_open(struct cab_sse_translator *t)
{
  char id[512];
  resp_text_id(t, id, sizeof id);
  cJSON *e = resp_item_event(t, "response.output_item.added", NULL, t->text_index);
  cJSON_AddItemToObject(e, "item", tr_responses_message_item(id, "in_progress", NULL));
  resp_send(t, e);
  e = resp_item_event(t, "response.content_part.added", id, t->text_index);
  cJSON_AddNumberToObject(e, "content_index", 0);
  cJSON_AddItemToObject(e, "part", resp_text_part(""));
  resp_send(t, e);
}

static void
resp_text_delta(struct cab_sse_translator *t, const char *s)
{
  char id[512];
  resp_text_id(t, id, sizeof id);
  cJSON *e = resp_item_event(t, "response.output_text.delta", id, t->text_index);
  cJSON_AddNumberToObject(e, "content_index", 0);
  cJSON_AddStringToObject(e, "delta", s);
  cJSON_AddArrayToObject(e, "logprobs");
  resp_send(t, e);
}

static void
resp_text_close(struct cab_sse_translator *t)
{
  char id[512];
  const char *text = t->text.s ? t->text.s : "";
  resp_text_id(t, id, sizeof id);
  cJSON *e = resp_item_event(t, "response.output_text.done", id, t->text_index);
  cJSON_AddNumberToObject(e, "content_index", 0);
  cJSON_AddStringToObject(e, "text", text);
  cJSON_AddArrayToObject(e, "logprobs");
  resp_send(t, e);
  e = resp_item_event(t, "response.content_part.done", id, t->text_index);
  cJSON_AddNumberToObject(e, "content_index", 0);
  cJSON_AddItemToObject(e, "part", resp_text_part(text));
  resp_send(t, e);
  cJSON *item = tr_responses_message_item(id, "completed", text);
  cJSON_AddItemToArray(t->output, cJSON_Duplicate(item, true));
  e = resp_item_event(t, "response.output_item.done", NULL, t->text_index);
  cJSON_AddItemToObject(e, "item", item);
  resp_send(t, e);
}

static void
resp_call_open(struct cab_sse_translator *t, struct tr_call *c)
{
  char id[512];
  resp_call_id(t, c, id, sizeof id);
  cJSON *e = resp_item_event(t, "response.output_item.added", NULL, c->out_index);
  cJSON_AddItemToObject(e, "item",
                        tr_responses_call_item(t->ctx, id, c->id, c->name, NULL, "in_progress"));
  resp_send(t, e);
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
  resp_send(t, e);
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
      resp_send(t, e);
    }
    e = resp_item_event(t, "response.custom_tool_call_input.done", id, c->out_index);
    cJSON_AddStringToObject(e, "input", input);
    resp_send(t, e);
    free(input);
  } else {
    cJSON *e = resp_item_event(t, "response.function_call_arguments.done", id, c->out_index);
    cJSON_AddStringToObject(e, "name", c->name);
    cJSON_AddStringToObject(e, "arguments", args);
    resp_send(t, e);
  }
  cJSON *item = tr_responses_call_item(t->ctx, id, c->id, c->name, args, "completed");
  cJSON_AddItemToArray(t->output, cJSON_Duplicate(item, true));
  cJSON *e = resp_item_event(t, "response.output_item.done", NULL, c->out_index);
  cJSON_AddItemToObject(e, "item", item);
  resp_send(t, e);
}

static void
resp_final(struct cab_sse_translator *t)
{
  enum tr_finish f = tr_stream_finish(t);
  bool incomplete = f == TR_FINISH_LENGTH || f == TR_FINISH_FILTER;
  cJSON *e = resp_event(t, incomplete ? "response.incomplete" : "response.completed");
  cJSON *output = t->output;
  t->output = NULL;
  cJSON_AddItemToObject(e, "response", resp_object(t, incomplete ? "incomplete" : "completed", f,
                                                   output, &t->usage));
  resp_send(t, e);
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
  resp_send(t, e);
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
