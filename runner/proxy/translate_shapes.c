/* The pieces of the client wires' answers that the non-streamed and the
 * streamed translation share: finish reasons, usage in each wire's terms,
 * Responses objects and items, Anthropic messages and blocks, Gemini
 * responses and parts, tool arguments as objects. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner/model_api/usage.h"
#include "runner/proxy/translate_internal.h"

#define UNPARSED_KEY "_cab_unparsed_arguments"

enum tr_finish
tr_finish_of(const char *reason, bool has_tools)
{
  enum tr_finish f;
  if (reason == NULL)
    f = TR_FINISH_NONE;
  else if (strcmp(reason, "length") == 0)
    f = TR_FINISH_LENGTH;
  else if (strcmp(reason, "tool_calls") == 0 || strcmp(reason, "function_call") == 0)
    f = TR_FINISH_TOOLS;
  else if (strcmp(reason, "content_filter") == 0)
    f = TR_FINISH_FILTER;
  else
    f = TR_FINISH_STOP;
  if (has_tools && (f == TR_FINISH_STOP || f == TR_FINISH_NONE))
    f = TR_FINISH_TOOLS;
  return f;
}

const char *
tr_anthropic_stop(enum tr_finish f, const char *stop_sequence)
{
  switch (f) {
  case TR_FINISH_LENGTH:
    return "max_tokens";
  case TR_FINISH_TOOLS:
    return "tool_use";
  case TR_FINISH_FILTER:
    return "refusal";
  default:
    return stop_sequence ? "stop_sequence" : "end_turn";
  }
}

const char *
tr_gemini_finish(enum tr_finish f)
{
  switch (f) {
  case TR_FINISH_LENGTH:
    return "MAX_TOKENS";
  case TR_FINISH_FILTER:
    return "SAFETY";
  default:
    return "STOP"; /* Gemini ends a function-calling turn with STOP too */
  }
}

/* A token count, by usage.h's rule: the client gets a count in
 * 0..CAB_USAGE_TOKENS_MAX, never a figure that wraps or undercuts. */
static bool
num(const cJSON *o, const char *key, double *out, bool *clamped)
{
  const cJSON *v = tr_get(o, key);
  if (!cJSON_IsNumber(v))
    return false;
  int64_t n;
  if (cab_usage_count(v->valuedouble, &n) != 0)
    *clamped = true;
  *out = (double)n;
  return true;
}

void
tr_usage_read(const cJSON *usage, struct tr_usage *u)
{
  if (!cJSON_IsObject(usage))
    return;
  bool p = num(usage, "prompt_tokens", &u->prompt, &u->clamped);
  bool c = num(usage, "completion_tokens", &u->completion, &u->clamped);
  if (!num(usage, "total_tokens", &u->total, &u->clamped) || u->total < u->prompt + u->completion)
    u->total = u->prompt + u->completion;
  num(tr_get(usage, "prompt_tokens_details"), "cached_tokens", &u->cached, &u->clamped);
  num(tr_get(usage, "completion_tokens_details"), "reasoning_tokens", &u->reasoning, &u->clamped);
  u->present = u->present || p || c;
}

cJSON *
tr_usage_responses(const struct tr_usage *u)
{
  if (!u->present)
    return cJSON_CreateNull();
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "input_tokens", u->prompt);
  cJSON_AddNumberToObject(cJSON_AddObjectToObject(o, "input_tokens_details"), "cached_tokens",
                          u->cached);
  cJSON_AddNumberToObject(o, "output_tokens", u->completion);
  cJSON_AddNumberToObject(cJSON_AddObjectToObject(o, "output_tokens_details"),
                          "reasoning_tokens", u->reasoning);
  cJSON_AddNumberToObject(o, "total_tokens", u->total);
  return o;
}

/* Anthropic's input_tokens leaves cache reads out (runner/model_api/usage.h). */
cJSON *
tr_usage_anthropic(const struct tr_usage *u)
{
  cJSON *o = cJSON_CreateObject();
  double cached = u->cached <= u->prompt ? u->cached : u->prompt;
  cJSON_AddNumberToObject(o, "input_tokens", u->prompt - cached);
  cJSON_AddNumberToObject(o, "cache_creation_input_tokens", 0);
  cJSON_AddNumberToObject(o, "cache_read_input_tokens", cached);
  cJSON_AddNumberToObject(o, "output_tokens", u->completion);
  return o;
}

/* Gemini counts thoughts apart from candidates (runner/model_api/usage.h adds
 * them back). */
cJSON *
tr_usage_gemini(const struct tr_usage *u)
{
  if (!u->present)
    return NULL;
  double thoughts = u->reasoning <= u->completion ? u->reasoning : u->completion;
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "promptTokenCount", u->prompt);
  cJSON_AddNumberToObject(o, "candidatesTokenCount", u->completion - thoughts);
  if (thoughts > 0)
    cJSON_AddNumberToObject(o, "thoughtsTokenCount", thoughts);
  cJSON_AddNumberToObject(o, "totalTokenCount", u->total);
  if (u->cached > 0)
    cJSON_AddNumberToObject(o, "cachedContentTokenCount", u->cached);
  return o;
}

bool
tr_is_custom(const struct cab_translate_ctx *ctx, const char *name)
{
  for (size_t i = 0; name && i < ctx->n_custom_tools; i++)
    if (strcmp(ctx->custom_tools[i], name) == 0)
      return true;
  return false;
}

char *
tr_custom_input(const char *args)
{
  cJSON *j = cJSON_Parse(args ? args : "");
  const char *input = tr_str(j, "input");
  char *r = strdup(input ? input : args ? args : "");
  cJSON_Delete(j);
  return r;
}

cJSON *
tr_args_object(const char *args)
{
  const char *p = args ? args : "";
  while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
    p++;
  if (*p == '\0')
    return cJSON_CreateObject();
  cJSON *j = cJSON_ParseWithOpts(args, NULL, true);
  if (cJSON_IsObject(j))
    return j;
  cJSON_Delete(j);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, UNPARSED_KEY, args);
  return o;
}

cJSON *
tr_responses_object(const char *chat_id, double created, const char *model, const char *status,
                    enum tr_finish finish, cJSON *output, const struct tr_usage *u)
{
  char id[512];
  snprintf(id, sizeof id, "resp_%s", chat_id);
  cJSON *r = cJSON_CreateObject();
  cJSON_AddStringToObject(r, "id", id);
  cJSON_AddStringToObject(r, "object", "response");
  cJSON_AddNumberToObject(r, "created_at", created);
  cJSON_AddStringToObject(r, "status", status);
  cJSON_AddNullToObject(r, "error");
  if (strcmp(status, "incomplete") == 0)
    cJSON_AddStringToObject(cJSON_AddObjectToObject(r, "incomplete_details"), "reason",
                            finish == TR_FINISH_FILTER ? "content_filter" : "max_output_tokens");
  else
    cJSON_AddNullToObject(r, "incomplete_details");
  cJSON_AddStringToObject(r, "model", model);
  cJSON_AddItemToObject(r, "output", output ? output : cJSON_CreateArray());
  cJSON_AddItemToObject(r, "usage", u ? tr_usage_responses(u) : cJSON_CreateNull());
  return r;
}

cJSON *
tr_responses_text_part(const char *text)
{
  cJSON *part = cJSON_CreateObject();
  cJSON_AddStringToObject(part, "type", "output_text");
  cJSON_AddStringToObject(part, "text", text);
  cJSON_AddArrayToObject(part, "annotations");
  return part;
}

cJSON *
tr_responses_message_item(const char *id, const char *status, const char *text)
{
  cJSON *it = cJSON_CreateObject();
  cJSON_AddStringToObject(it, "id", id);
  cJSON_AddStringToObject(it, "type", "message");
  cJSON_AddStringToObject(it, "status", status);
  cJSON_AddStringToObject(it, "role", "assistant");
  cJSON *content = cJSON_AddArrayToObject(it, "content");
  if (text)
    cJSON_AddItemToArray(content, tr_responses_text_part(text));
  return it;
}

void
tr_responses_call_item_id(const struct cab_translate_ctx *ctx, const char *call_id,
                          const char *name, char *id, size_t size)
{
  snprintf(id, size, "%s_%s", tr_is_custom(ctx, name) ? "ctc" : "fc", call_id);
}

/* A function_call item, or a custom_tool_call one for a custom tool (its
 * input decoded from ARGS; "" while in progress). */
cJSON *
tr_responses_call_item(const struct cab_translate_ctx *ctx, const char *call_id, const char *name,
                       const char *args, const char *status)
{
  bool custom = tr_is_custom(ctx, name);
  char id[512];
  tr_responses_call_item_id(ctx, call_id, name, id, sizeof id);
  cJSON *it = cJSON_CreateObject();
  cJSON_AddStringToObject(it, "id", id);
  cJSON_AddStringToObject(it, "type", custom ? "custom_tool_call" : "function_call");
  cJSON_AddStringToObject(it, "status", status);
  cJSON_AddStringToObject(it, "call_id", call_id);
  cJSON_AddStringToObject(it, "name", name);
  if (custom) {
    char *input = args ? tr_custom_input(args) : NULL;
    cJSON_AddStringToObject(it, "input", input ? input : "");
    free(input);
  } else
    cJSON_AddStringToObject(it, "arguments", args ? args : "");
  return it;
}

cJSON *
tr_anthropic_message(const char *chat_id, const char *model, cJSON **content)
{
  char id[512];
  snprintf(id, sizeof id, "msg_%s", chat_id);
  cJSON *m = cJSON_CreateObject();
  cJSON_AddStringToObject(m, "id", id);
  cJSON_AddStringToObject(m, "type", "message");
  cJSON_AddStringToObject(m, "role", "assistant");
  cJSON_AddStringToObject(m, "model", model);
  *content = cJSON_AddArrayToObject(m, "content");
  return m;
}

cJSON *
tr_anthropic_text_block(const char *text)
{
  cJSON *b = cJSON_CreateObject();
  cJSON_AddStringToObject(b, "type", "text");
  cJSON_AddStringToObject(b, "text", text);
  return b;
}

cJSON *
tr_anthropic_tool_use_block(const char *id, const char *name, cJSON *input)
{
  cJSON *b = cJSON_CreateObject();
  cJSON_AddStringToObject(b, "type", "tool_use");
  cJSON_AddStringToObject(b, "id", id);
  cJSON_AddStringToObject(b, "name", name);
  cJSON_AddItemToObject(b, "input", input);
  return b;
}

void
tr_anthropic_stop_fields(cJSON *o, enum tr_finish f, const char *stop_sequence)
{
  cJSON_AddStringToObject(o, "stop_reason", tr_anthropic_stop(f, stop_sequence));
  if (stop_sequence && f == TR_FINISH_STOP)
    cJSON_AddStringToObject(o, "stop_sequence", stop_sequence);
  else
    cJSON_AddNullToObject(o, "stop_sequence");
}

cJSON *
tr_gemini_text_part(const char *text)
{
  cJSON *p = cJSON_CreateObject();
  cJSON_AddStringToObject(p, "text", text);
  return p;
}

cJSON *
tr_gemini_call_part(const char *id, const char *name, const char *args)
{
  cJSON *part = cJSON_CreateObject();
  cJSON *fc = cJSON_AddObjectToObject(part, "functionCall");
  cJSON_AddStringToObject(fc, "id", id);
  cJSON_AddStringToObject(fc, "name", name);
  cJSON_AddItemToObject(fc, "args", tr_args_object(args));
  return part;
}

cJSON *
tr_gemini_response(cJSON *parts, const char *finish, const struct tr_usage *u, const char *model,
                   const char *id)
{
  cJSON *r = cJSON_CreateObject();
  cJSON *cand = cJSON_CreateObject();
  cJSON_AddItemToArray(cJSON_AddArrayToObject(r, "candidates"), cand);
  cJSON *content = cJSON_AddObjectToObject(cand, "content");
  cJSON_AddStringToObject(content, "role", "model");
  cJSON_AddItemToObject(content, "parts", parts);
  if (finish)
    cJSON_AddStringToObject(cand, "finishReason", finish);
  cJSON_AddNumberToObject(cand, "index", 0);
  cJSON *usage = u ? tr_usage_gemini(u) : NULL;
  if (usage)
    cJSON_AddItemToObject(r, "usageMetadata", usage);
  cJSON_AddStringToObject(r, "modelVersion", model);
  cJSON_AddStringToObject(r, "responseId", id);
  return r;
}
