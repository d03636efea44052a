/* Scripted turns in the OpenAI and Anthropic wire shapes (script.h). */
#include "runner/model_server/script.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "runner/model_api/api_errors.h"

void
cab_model_reply_free(struct cab_model_reply *r)
{
  for (size_t i = 0; i < r->n_chunks; i++)
    free(r->chunks[i].data);
  free(r->chunks);
  r->chunks = NULL;
  r->n_chunks = 0;
}

/* Append DATA (taken) as a piece due at T_MS. */
static int
push(struct cab_model_reply *r, int64_t t_ms, char *data)
{
  if (data == NULL)
    return -1;
  struct cab_cassette_chunk *c = realloc(r->chunks, (r->n_chunks + 1) * sizeof *c);
  if (c == NULL) {
    free(data);
    return -1;
  }
  r->chunks = c;
  c[r->n_chunks++] = (struct cab_cassette_chunk){t_ms, data, strlen(data)};
  return 0;
}

/* Print J (taken) compactly, as "data: J\n\n" or "event: NAME\ndata: J\n\n". */
static char *
sse(const char *event, cJSON *j)
{
  cleanup_free char *text = j ? cJSON_PrintUnformatted(j) : NULL;
  cJSON_Delete(j);
  if (text == NULL)
    return NULL;
  char *out = NULL;
  int n = event ? asprintf(&out, "event: %s\ndata: %s\n\n", event, text)
                : asprintf(&out, "data: %s\n\n", text);
  return n < 0 ? NULL : out;
}

int
cab_model_reply_json(struct cab_model_reply *r, int status, cJSON *j)
{
  memset(r, 0, sizeof *r);
  r->status = status;
  snprintf(r->content_type, sizeof r->content_type, "application/json");
  char *text = j ? cJSON_PrintUnformatted(j) : NULL;
  cJSON_Delete(j);
  return push(r, 0, text);
}

int
cab_model_reply_error(struct cab_model_reply *r, bool anthropic, int status, const char *code,
                      const char *message)
{
  return cab_model_reply_json(
      r, status,
      cab_api_error_body(anthropic ? CAB_API_ERROR_ANTHROPIC : CAB_API_ERROR_OPENAI, status,
                         message, NULL, code));
}

/* Stream pieces of TEXT: words with their leading whitespace. */
static size_t
next_word(const char *text, size_t off)
{
  size_t i = off;
  while (text[i] == ' ' || text[i] == '\n' || text[i] == '\t')
    i++;
  while (text[i] && text[i] != ' ' && text[i] != '\n' && text[i] != '\t')
    i++;
  return i;
}

/* Stream pieces of tool arguments: at most 24 bytes, cut between UTF-8
 * characters. */
static size_t
next_piece(const char *text, size_t off)
{
  size_t i = off, len = strlen(text);
  if (len - off <= 24)
    return len;
  i = off + 24;
  while (i > off + 1 && ((unsigned char)text[i] & 0xc0) == 0x80)
    i--;
  return i;
}

static char *
slice(const char *text, size_t a, size_t b)
{
  return strndup(text + a, b - a);
}

static cJSON *
openai_usage(const struct cab_script_turn *t, bool chat)
{
  cJSON *u = cJSON_CreateObject();
  cJSON_AddNumberToObject(u, "prompt_tokens", (double)t->prompt_tokens);
  cJSON_AddNumberToObject(u, "completion_tokens", (double)t->completion_tokens);
  cJSON_AddNumberToObject(u, "total_tokens", (double)t->total_tokens);
  if (chat) {
    cJSON *d = cJSON_AddObjectToObject(u, "prompt_tokens_details");
    cJSON_AddNumberToObject(d, "cached_tokens", (double)t->cached_tokens);
    d = cJSON_AddObjectToObject(u, "completion_tokens_details");
    cJSON_AddNumberToObject(d, "reasoning_tokens", 0);
  }
  return u;
}

static void
tool_id(const struct cab_script_tool_call *c, bool anthropic, int64_t seq, size_t k, char *out,
        size_t size)
{
  if (c->id)
    snprintf(out, size, "%s", c->id);
  else
    snprintf(out, size, "%s%lld_%zu", anthropic ? "toolu_cab" : "call_cab", (long long)seq, k);
}

static bool
wants_stream(const cJSON *req, bool *include_usage)
{
  const cJSON *so = cJSON_GetObjectItemCaseSensitive(req, "stream_options");
  *include_usage = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(so, "include_usage"));
  return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "stream"));
}

/* The envelope of one chat chunk, with its choices[0] (taken). */
static cJSON *
chat_chunk(const struct cab_script *s, int64_t seq, cJSON *delta, const char *finish,
           bool usage_null)
{
  char id[64];
  snprintf(id, sizeof id, "chatcmpl-cab%lld", (long long)seq);
  cJSON *j = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "id", id);
  cJSON_AddStringToObject(j, "object", "chat.completion.chunk");
  cJSON_AddNumberToObject(j, "created", CAB_MODEL_CREATED);
  cJSON_AddStringToObject(j, "model", s->model);
  cJSON_AddStringToObject(j, "system_fingerprint", "fp_cab");
  cJSON *choices = cJSON_AddArrayToObject(j, "choices");
  if (delta) {
    cJSON *c = cJSON_CreateObject();
    cJSON_AddItemToArray(choices, c);
    cJSON_AddNumberToObject(c, "index", 0);
    cJSON_AddItemToObject(c, "delta", delta);
    cJSON_AddNullToObject(c, "logprobs");
    if (finish)
      cJSON_AddStringToObject(c, "finish_reason", finish);
    else
      cJSON_AddNullToObject(c, "finish_reason");
  }
  if (usage_null)
    cJSON_AddNullToObject(j, "usage");
  return j;
}

struct clock {
  int64_t t, step;
};

static int64_t
tick(struct clock *c)
{
  int64_t t = c->t;
  c->t += c->step;
  return t;
}

static int
render_chat_stream(const struct cab_script *s, const struct cab_script_turn *t, int64_t seq,
                   bool include_usage, struct cab_model_reply *r)
{
  struct clock clk = {t->delay_ms, t->chunk_delay_ms};
  int rc = 0;
  cJSON *d = cJSON_CreateObject();
  cJSON_AddStringToObject(d, "role", "assistant");
  if (t->content)
    cJSON_AddStringToObject(d, "content", "");
  else
    cJSON_AddNullToObject(d, "content");
  cJSON_AddNullToObject(d, "refusal");
  rc |= push(r, tick(&clk), sse(NULL, chat_chunk(s, seq, d, NULL, include_usage)));
  for (size_t off = 0, end; t->content && t->content[off]; off = end) {
    end = next_word(t->content, off);
    d = cJSON_CreateObject();
    cleanup_free char *w = slice(t->content, off, end);
    cJSON_AddStringToObject(d, "content", w ? w : "");
    rc |= push(r, tick(&clk), sse(NULL, chat_chunk(s, seq, d, NULL, include_usage)));
  }
  for (size_t k = 0; k < t->n_tool_calls; k++) {
    const struct cab_script_tool_call *c = &t->tool_calls[k];
    char id[128];
    tool_id(c, false, seq, k, id, sizeof id);
    d = cJSON_CreateObject();
    cJSON *tcs = cJSON_AddArrayToObject(d, "tool_calls");
    cJSON *tc = cJSON_CreateObject();
    cJSON_AddItemToArray(tcs, tc);
    cJSON_AddNumberToObject(tc, "index", (double)k);
    cJSON_AddStringToObject(tc, "id", id);
    cJSON_AddStringToObject(tc, "type", "function");
    cJSON *fn = cJSON_AddObjectToObject(tc, "function");
    cJSON_AddStringToObject(fn, "name", c->name);
    cJSON_AddStringToObject(fn, "arguments", "");
    rc |= push(r, tick(&clk), sse(NULL, chat_chunk(s, seq, d, NULL, include_usage)));
    for (size_t off = 0, end; c->arguments[off]; off = end) {
      end = next_piece(c->arguments, off);
      cleanup_free char *piece = slice(c->arguments, off, end);
      d = cJSON_CreateObject();
      tcs = cJSON_AddArrayToObject(d, "tool_calls");
      tc = cJSON_CreateObject();
      cJSON_AddItemToArray(tcs, tc);
      cJSON_AddNumberToObject(tc, "index", (double)k);
      fn = cJSON_AddObjectToObject(tc, "function");
      cJSON_AddStringToObject(fn, "arguments", piece ? piece : "");
      rc |= push(r, tick(&clk), sse(NULL, chat_chunk(s, seq, d, NULL, include_usage)));
    }
  }
  rc |= push(r, tick(&clk),
             sse(NULL, chat_chunk(s, seq, cJSON_CreateObject(), t->finish_reason, include_usage)));
  if (include_usage) {
    cJSON *j = chat_chunk(s, seq, NULL, NULL, false);
    cJSON_AddItemToObject(j, "usage", openai_usage(t, true));
    rc |= push(r, tick(&clk), sse(NULL, j));
  }
  rc |= push(r, tick(&clk), strdup("data: [DONE]\n\n"));
  return rc ? -1 : 0;
}

static int
render_chat(const struct cab_script *s, const struct cab_script_turn *t, int64_t seq,
            struct cab_model_reply *r)
{
  char id[64];
  snprintf(id, sizeof id, "chatcmpl-cab%lld", (long long)seq);
  cJSON *j = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "id", id);
  cJSON_AddStringToObject(j, "object", "chat.completion");
  cJSON_AddNumberToObject(j, "created", CAB_MODEL_CREATED);
  cJSON_AddStringToObject(j, "model", s->model);
  cJSON *choices = cJSON_AddArrayToObject(j, "choices");
  cJSON *c = cJSON_CreateObject();
  cJSON_AddItemToArray(choices, c);
  cJSON_AddNumberToObject(c, "index", 0);
  cJSON *m = cJSON_AddObjectToObject(c, "message");
  cJSON_AddStringToObject(m, "role", "assistant");
  if (t->content)
    cJSON_AddStringToObject(m, "content", t->content);
  else
    cJSON_AddNullToObject(m, "content");
  if (t->n_tool_calls) {
    cJSON *tcs = cJSON_AddArrayToObject(m, "tool_calls");
    for (size_t k = 0; k < t->n_tool_calls; k++) {
      char tid[128];
      tool_id(&t->tool_calls[k], false, seq, k, tid, sizeof tid);
      cJSON *tc = cJSON_CreateObject();
      cJSON_AddItemToArray(tcs, tc);
      cJSON_AddStringToObject(tc, "id", tid);
      cJSON_AddStringToObject(tc, "type", "function");
      cJSON *fn = cJSON_AddObjectToObject(tc, "function");
      cJSON_AddStringToObject(fn, "name", t->tool_calls[k].name);
      cJSON_AddStringToObject(fn, "arguments", t->tool_calls[k].arguments);
    }
  }
  cJSON_AddNullToObject(m, "refusal");
  cJSON_AddNullToObject(c, "logprobs");
  cJSON_AddStringToObject(c, "finish_reason", t->finish_reason);
  cJSON_AddItemToObject(j, "usage", openai_usage(t, true));
  cJSON_AddStringToObject(j, "system_fingerprint", "fp_cab");
  if (cab_model_reply_json(r, 200, j) < 0)
    return -1;
  r->chunks[0].t_ms = t->delay_ms;
  return 0;
}

static cJSON *
completion_object(const struct cab_script *s, int64_t seq, const char *text, const char *finish)
{
  char id[64];
  snprintf(id, sizeof id, "cmpl-cab%lld", (long long)seq);
  cJSON *j = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "id", id);
  cJSON_AddStringToObject(j, "object", "text_completion");
  cJSON_AddNumberToObject(j, "created", CAB_MODEL_CREATED);
  cJSON_AddStringToObject(j, "model", s->model);
  cJSON *choices = cJSON_AddArrayToObject(j, "choices");
  if (text) {
    cJSON *c = cJSON_CreateObject();
    cJSON_AddItemToArray(choices, c);
    cJSON_AddStringToObject(c, "text", text);
    cJSON_AddNumberToObject(c, "index", 0);
    cJSON_AddNullToObject(c, "logprobs");
    if (finish)
      cJSON_AddStringToObject(c, "finish_reason", finish);
    else
      cJSON_AddNullToObject(c, "finish_reason");
  }
  return j;
}

/* /v1/completions: the turn's content (tool calls have no place here). */
static int
render_completions(const struct cab_script *s, const struct cab_script_turn *t, int64_t seq,
                   bool stream, bool include_usage, struct cab_model_reply *r)
{
  const char *text = t->content ? t->content : "";
  if (!stream) {
    cJSON *j = completion_object(s, seq, text, t->finish_reason);
    cJSON_AddItemToObject(j, "usage", openai_usage(t, false));
    if (cab_model_reply_json(r, 200, j) < 0)
      return -1;
    r->chunks[0].t_ms = t->delay_ms;
    return 0;
  }
  struct clock clk = {t->delay_ms, t->chunk_delay_ms};
  int rc = 0;
  for (size_t off = 0, end; text[off]; off = end) {
    end = next_word(text, off);
    cleanup_free char *w = slice(text, off, end);
    rc |= push(r, tick(&clk), sse(NULL, completion_object(s, seq, w ? w : "", NULL)));
  }
  rc |= push(r, tick(&clk), sse(NULL, completion_object(s, seq, "", t->finish_reason)));
  if (include_usage) {
    cJSON *j = completion_object(s, seq, NULL, NULL);
    cJSON_AddItemToObject(j, "usage", openai_usage(t, false));
    rc |= push(r, tick(&clk), sse(NULL, j));
  }
  rc |= push(r, tick(&clk), strdup("data: [DONE]\n\n"));
  return rc ? -1 : 0;
}

static const char *
stop_reason(const char *finish)
{
  if (strcmp(finish, "stop") == 0)
    return "end_turn";
  if (strcmp(finish, "tool_calls") == 0)
    return "tool_use";
  if (strcmp(finish, "length") == 0)
    return "max_tokens";
  return finish;
}

static cJSON *
anthropic_usage(const struct cab_script_turn *t, int64_t output)
{
  cJSON *u = cJSON_CreateObject();
  cJSON_AddNumberToObject(u, "input_tokens", (double)(t->prompt_tokens - t->cached_tokens));
  cJSON_AddNumberToObject(u, "cache_creation_input_tokens", 0);
  cJSON_AddNumberToObject(u, "cache_read_input_tokens", (double)t->cached_tokens);
  cJSON_AddNumberToObject(u, "output_tokens", (double)output);
  return u;
}

/* A tool call's input object: its arguments, or {} if they are not one. */
static cJSON *
tool_input(const struct cab_script_tool_call *c)
{
  cJSON *in = cJSON_Parse(c->arguments);
  if (!cJSON_IsObject(in)) {
    cJSON_Delete(in);
    in = cJSON_CreateObject();
  }
  return in;
}

static cJSON *
message_object(const struct cab_script *s, int64_t seq, bool start)
{
  char id[64];
  snprintf(id, sizeof id, "msg_cab%lld", (long long)seq);
  cJSON *m = cJSON_CreateObject();
  cJSON_AddStringToObject(m, "id", id);
  cJSON_AddStringToObject(m, "type", "message");
  cJSON_AddStringToObject(m, "role", "assistant");
  cJSON_AddStringToObject(m, "model", s->model);
  cJSON_AddArrayToObject(m, "content");
  if (start) {
    cJSON_AddNullToObject(m, "stop_reason");
    cJSON_AddNullToObject(m, "stop_sequence");
  }
  return m;
}

static int
render_messages(const struct cab_script *s, const struct cab_script_turn *t, int64_t seq,
                struct cab_model_reply *r)
{
  cJSON *m = message_object(s, seq, false);
  cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
  if (t->content) {
    cJSON *b = cJSON_CreateObject();
    cJSON_AddItemToArray(content, b);
    cJSON_AddStringToObject(b, "type", "text");
    cJSON_AddStringToObject(b, "text", t->content);
  }
  for (size_t k = 0; k < t->n_tool_calls; k++) {
    char tid[128];
    tool_id(&t->tool_calls[k], true, seq, k, tid, sizeof tid);
    cJSON *b = cJSON_CreateObject();
    cJSON_AddItemToArray(content, b);
    cJSON_AddStringToObject(b, "type", "tool_use");
    cJSON_AddStringToObject(b, "id", tid);
    cJSON_AddStringToObject(b, "name", t->tool_calls[k].name);
    cJSON_AddItemToObject(b, "input", tool_input(&t->tool_calls[k]));
  }
  cJSON_AddStringToObject(m, "stop_reason", stop_reason(t->finish_reason));
  cJSON_AddNullToObject(m, "stop_sequence");
  cJSON_AddItemToObject(m, "usage", anthropic_usage(t, t->completion_tokens));
  if (cab_model_reply_json(r, 200, m) < 0)
    return -1;
  r->chunks[0].t_ms = t->delay_ms;
  return 0;
}

static cJSON *
event(const char *type)
{
  cJSON *j = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "type", type);
  return j;
}

static cJSON *
block_event(const char *type, size_t index)
{
  cJSON *j = event(type);
  cJSON_AddNumberToObject(j, "index", (double)index);
  return j;
}

static int
render_messages_stream(const struct cab_script *s, const struct cab_script_turn *t, int64_t seq,
                       struct cab_model_reply *r)
{
  struct clock clk = {t->delay_ms, t->chunk_delay_ms};
  int rc = 0;
  cJSON *j = event("message_start");
  cJSON *m = message_object(s, seq, true);
  cJSON_AddItemToObject(m, "usage", anthropic_usage(t, t->completion_tokens < 1 ? 0 : 1));
  cJSON_AddItemToObject(j, "message", m);
  rc |= push(r, tick(&clk), sse("message_start", j));
  size_t index = 0;
  if (t->content) {
    j = block_event("content_block_start", index);
    cJSON *b = cJSON_AddObjectToObject(j, "content_block");
    cJSON_AddStringToObject(b, "type", "text");
    cJSON_AddStringToObject(b, "text", "");
    rc |= push(r, tick(&clk), sse("content_block_start", j));
    rc |= push(r, tick(&clk), strdup("event: ping\ndata: {\"type\":\"ping\"}\n\n"));
    for (size_t off = 0, end; t->content[off]; off = end) {
      end = next_word(t->content, off);
      cleanup_free char *w = slice(t->content, off, end);
      j = block_event("content_block_delta", index);
      cJSON *d = cJSON_AddObjectToObject(j, "delta");
      cJSON_AddStringToObject(d, "type", "text_delta");
      cJSON_AddStringToObject(d, "text", w ? w : "");
      rc |= push(r, tick(&clk), sse("content_block_delta", j));
    }
    rc |= push(r, tick(&clk), sse("content_block_stop", block_event("content_block_stop", index)));
    index++;
  }
  for (size_t k = 0; k < t->n_tool_calls; k++, index++) {
    const struct cab_script_tool_call *c = &t->tool_calls[k];
    char tid[128];
    tool_id(c, true, seq, k, tid, sizeof tid);
    j = block_event("content_block_start", index);
    cJSON *b = cJSON_AddObjectToObject(j, "content_block");
    cJSON_AddStringToObject(b, "type", "tool_use");
    cJSON_AddStringToObject(b, "id", tid);
    cJSON_AddStringToObject(b, "name", c->name);
    cJSON_AddObjectToObject(b, "input");
    rc |= push(r, tick(&clk), sse("content_block_start", j));
    /* the input as compact JSON, in pieces */
    cJSON *in = tool_input(c);
    cleanup_free char *text = cJSON_PrintUnformatted(in);
    cJSON_Delete(in);
    for (size_t off = 0, end; text && text[off]; off = end) {
      end = next_piece(text, off);
      cleanup_free char *piece = slice(text, off, end);
      j = block_event("content_block_delta", index);
      cJSON *d = cJSON_AddObjectToObject(j, "delta");
      cJSON_AddStringToObject(d, "type", "input_json_delta");
      cJSON_AddStringToObject(d, "partial_json", piece ? piece : "");
      rc |= push(r, tick(&clk), sse("content_block_delta", j));
    }
    rc |= push(r, tick(&clk), sse("content_block_stop", block_event("content_block_stop", index)));
  }
  j = event("message_delta");
  cJSON *d = cJSON_AddObjectToObject(j, "delta");
  cJSON_AddStringToObject(d, "stop_reason", stop_reason(t->finish_reason));
  cJSON_AddNullToObject(d, "stop_sequence");
  cJSON *u = cJSON_AddObjectToObject(j, "usage");
  cJSON_AddNumberToObject(u, "output_tokens", (double)t->completion_tokens);
  rc |= push(r, tick(&clk), sse("message_delta", j));
  rc |= push(r, tick(&clk), sse("message_stop", event("message_stop")));
  return rc ? -1 : 0;
}

int
cab_script_render(const struct cab_script *s, const struct cab_script_turn *t,
                  enum cab_model_api api, const cJSON *req, int64_t seq,
                  struct cab_model_reply *out, cab_error *err)
{
  memset(out, 0, sizeof *out);
  bool anthropic = api == CAB_API_MESSAGES;
  if (t->hang) {
    out->hang = true;
    return 0;
  }
  int rc;
  if (t->status != 200) {
    char msg[512];
    snprintf(msg, sizeof msg, "%s", t->error ? t->error : "scripted failure");
    rc = cab_model_reply_error(out, anthropic, t->status,
                               t->status == 429 ? "rate_limit_exceeded" : NULL, msg);
    if (rc == 0) {
      out->chunks[0].t_ms = t->delay_ms;
      out->retry_after = t->retry_after;
    }
  } else {
    bool include_usage;
    bool stream = wants_stream(req, &include_usage);
    if (stream) {
      out->status = 200;
      out->stream = true;
      snprintf(out->content_type, sizeof out->content_type, "text/event-stream");
    }
    switch (api) {
    case CAB_API_CHAT:
      rc = stream ? render_chat_stream(s, t, seq, include_usage, out) : render_chat(s, t, seq, out);
      break;
    case CAB_API_COMPLETIONS:
      rc = render_completions(s, t, seq, stream, include_usage, out);
      break;
    default:
      rc = stream ? render_messages_stream(s, t, seq, out) : render_messages(s, t, seq, out);
      break;
    }
  }
  if (rc < 0) {
    cab_model_reply_free(out);
    return cab_error_set(err, ENOMEM, "render the scripted answer %lld", (long long)seq);
  }
  return 0;
}

int
cab_script_render_models(const struct cab_script *s, bool anthropic, struct cab_model_reply *out)
{
  cJSON *j = cJSON_CreateObject();
  cJSON *data = cJSON_CreateArray();
  cJSON *m = cJSON_CreateObject();
  cJSON_AddItemToArray(data, m);
  if (anthropic) {
    cJSON_AddItemToObject(j, "data", data);
    cJSON_AddStringToObject(m, "type", "model");
    cJSON_AddStringToObject(m, "id", s->model);
    cJSON_AddStringToObject(m, "display_name", s->model);
    cJSON_AddStringToObject(m, "created_at", "2025-01-01T00:00:00Z");
    cJSON_AddFalseToObject(j, "has_more");
    cJSON_AddStringToObject(j, "first_id", s->model);
    cJSON_AddStringToObject(j, "last_id", s->model);
  } else {
    cJSON_AddStringToObject(j, "object", "list");
    cJSON_AddItemToObject(j, "data", data);
    cJSON_AddStringToObject(m, "id", s->model);
    cJSON_AddStringToObject(m, "object", "model");
    cJSON_AddNumberToObject(m, "created", CAB_MODEL_CREATED);
    cJSON_AddStringToObject(m, "owned_by", "cab");
  }
  return cab_model_reply_json(out, 200, j);
}

