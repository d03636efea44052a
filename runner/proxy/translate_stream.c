/* Chat completion chunks -> the client wire's stream: the wire-neutral
 * block sequencer (translate_sse.c reads the SSE and calls it).  It turns
 * chunks into "text block open/delta/close", "call open/delta/close" and
 * "final" steps, one block open at a time, and the wire's emitter
 * (translate_stream_<wire>.c) writes each step.  See translate.h for the
 * ordering rules. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner/proxy/translate_internal.h"
#include "runner/proxy/wire_ops.h"

/* Call the emitter's STEP if it has one. */
#define EMIT(t, step, ...)                                                                     \
  do {                                                                                         \
    if ((t)->emit && (t)->emit->step)                                                          \
      (t)->emit->step((t), ##__VA_ARGS__);                                                     \
  } while (0)

struct cab_sse_translator *
cab_sse_translator_new(const struct cab_translate_ctx *ctx)
{
  struct cab_sse_translator *t = calloc(1, sizeof *t);
  if (t == NULL)
    return NULL;
  t->ctx = ctx;
  t->emit = cab_wire_ops(ctx->wire)->stream; /* NULL (chat): passed through */
  t->items = cJSON_CreateArray();
  if (t->items == NULL) {
    cab_sse_translator_free(t);
    return NULL;
  }
  return t;
}

void
cab_sse_translator_free(struct cab_sse_translator *t)
{
  if (t == NULL)
    return;
  for (size_t i = 0; i < t->n_calls; i++) {
    free(t->calls[i]->id);
    free(t->calls[i]->name);
    tr_buf_free(&t->calls[i]->args);
    free(t->calls[i]);
  }
  free(t->calls);
  tr_buf_free(&t->line);
  tr_buf_free(&t->data);
  tr_buf_free(&t->out);
  tr_buf_free(&t->text);
  tr_buf_free(&t->late_text);
  tr_buf_free(&t->held);
  free(t->id);
  free(t->model);
  free(t->stop_sequence);
  cJSON_Delete(t->items);
  free(t);
}

/* --- the sequencer --------------------------------------------------------- */

void
tr_stream_send(struct cab_sse_translator *t, const char *event, const char *prefix, cJSON *data,
               const char *suffix)
{
  char *text = cJSON_PrintUnformatted(data);
  cJSON_Delete(data);
  if (text == NULL) {
    t->out.oom = true;
    return;
  }
  if (event) {
    tr_buf_adds(&t->out, "event: ");
    tr_buf_adds(&t->out, event);
    tr_buf_adds(&t->out, "\n");
  }
  tr_buf_adds(&t->out, prefix);
  tr_buf_adds(&t->out, text);
  tr_buf_adds(&t->out, suffix);
  free(text);
}

void
tr_stream_send_typed(struct cab_sse_translator *t, cJSON *e)
{
  char type[64];
  snprintf(type, sizeof type, "%s", tr_str(e, "type"));
  tr_stream_send(t, type, "data: ", e, "\n\n");
}

enum tr_finish
tr_stream_finish(const struct cab_sse_translator *t)
{
  bool calls = false;
  for (size_t i = 0; i < t->n_calls; i++)
    calls = calls || t->calls[i]->state == TR_CALL_CLOSED;
  return tr_finish_of(t->finish[0] ? t->finish : NULL, calls);
}

static void
start(struct cab_sse_translator *t)
{
  if (t->started)
    return;
  t->started = true;
  /* Fixed from here on: every event names the same response. */
  if (t->id == NULL)
    t->id = strdup("cab");
  if (t->model == NULL)
    t->model = strdup(t->ctx->model);
  if (t->id == NULL || t->model == NULL) {
    t->out.oom = true;
    return;
  }
  EMIT(t, start);
}

/* Are the call's arguments a whole JSON value yet?  (Checked again only
 * when they have grown.) */
static bool
args_complete(struct tr_call *c)
{
  if (c->args.len == 0 || c->args.len == c->checked || c->args.oom)
    return false;
  cJSON *j = cJSON_ParseWithOpts(c->args.s, NULL, true);
  bool ok = j != NULL;
  cJSON_Delete(j);
  if (!ok)
    c->checked = c->args.len;
  return ok;
}

static void
close_text(struct cab_sse_translator *t)
{
  if (!t->text_open)
    return;
  EMIT(t, text_close);
  t->text_open = false;
  t->text.len = 0;
}

static void
close_call(struct cab_sse_translator *t, struct tr_call *c)
{
  EMIT(t, call_close, c);
  c->state = TR_CALL_CLOSED;
  t->live = NULL;
}

static void
open_call(struct cab_sse_translator *t, struct tr_call *c)
{
  close_text(t);
  if (c->id == NULL && asprintf(&c->id, "call_%s_%d", t->id, c->index) < 0) {
    c->id = NULL;
    t->out.oom = true;
    return;
  }
  c->state = TR_CALL_OPEN;
  c->out_index = t->next_index++;
  t->live = c;
  EMIT(t, call_open, c);
  if (c->args.len)
    EMIT(t, call_delta, c, c->args.s);
}

static void
text_delta(struct cab_sse_translator *t, const char *s)
{
  if (s == NULL || s[0] == '\0' || t->closed)
    return;
  if (t->live) {
    if (!args_complete(t->live)) {
      tr_buf_adds(&t->late_text, s);
      return;
    }
    close_call(t, t->live);
  }
  if (!t->text_open) {
    t->text_open = true;
    t->text_index = t->next_index++;
    EMIT(t, text_open);
  }
  tr_buf_adds(&t->text, s);
  EMIT(t, text_delta, s);
}

static struct tr_call *
call_at(struct cab_sse_translator *t, int index)
{
  for (size_t i = 0; i < t->n_calls; i++)
    if (t->calls[i]->index == index)
      return t->calls[i];
  struct tr_call **v = realloc(t->calls, (t->n_calls + 1) * sizeof *v);
  if (v == NULL)
    return NULL;
  t->calls = v;
  struct tr_call *c = calloc(1, sizeof *c);
  if (c == NULL)
    return NULL;
  c->index = index;
  t->calls[t->n_calls++] = c;
  return c;
}

static void
call_delta(struct cab_sse_translator *t, const cJSON *tc, int position)
{
  const cJSON *index = tr_get(tc, "index");
  struct tr_call *c = call_at(t, cJSON_IsNumber(index) ? index->valueint : position);
  if (c == NULL) {
    t->out.oom = true;
    return;
  }
  const cJSON *fn = tr_get(tc, "function");
  const char *id = tr_str(tc, "id"), *name = tr_str(fn, "name"), *frag = tr_str(fn, "arguments");
  /* The first id and name win: some servers repeat them in every delta. */
  if (c->id == NULL && id && id[0])
    c->id = strdup(id);
  if (c->name == NULL && name && name[0])
    c->name = strdup(name);
  if (c->state == TR_CALL_CLOSED)
    return; /* its arguments were complete JSON already: nothing can follow */
  if (frag)
    tr_buf_adds(&c->args, frag);
  if (c == t->live) {
    if (frag && frag[0])
      EMIT(t, call_delta, c, frag);
    return;
  }
  if (c->name == NULL)
    return;
  if (t->live) {
    if (!args_complete(t->live))
      return; /* held until the live call is done */
    close_call(t, t->live);
  }
  open_call(t, c);
}

/* Close every block: the live call, then the held calls in order (one
 * that never got a name cannot be called and is dropped), then text that
 * came during a call. */
static void
close_all(struct cab_sse_translator *t)
{
  if (t->closed)
    return;
  close_text(t);
  if (t->live)
    close_call(t, t->live);
  for (size_t i = 0; i < t->n_calls; i++) {
    struct tr_call *c = t->calls[i];
    if (c->state == TR_CALL_HELD && c->name) {
      open_call(t, c);
      close_call(t, c);
    }
  }
  if (t->late_text.len) {
    t->text_open = true;
    t->text_index = t->next_index++;
    EMIT(t, text_open);
    tr_buf_adds(&t->text, t->late_text.s);
    EMIT(t, text_delta, t->late_text.s);
    close_text(t);
  }
  t->closed = true;
}

void
tr_stream_end(struct cab_sse_translator *t)
{
  if (t->ended)
    return;
  start(t);
  close_all(t);
  EMIT(t, final);
  t->ended = true;
}

static void
take_string(char **dst, const cJSON *o, const char *key)
{
  const char *s = tr_str(o, key);
  if (*dst == NULL && s && s[0])
    *dst = strdup(s);
}

void
tr_stream_chunk(struct cab_sse_translator *t, const cJSON *j)
{
  const cJSON *error = tr_get(j, "error");
  if (error && !cJSON_IsNull(error)) {
    const cJSON *code = tr_get(error, "code");
    int status = cJSON_IsNumber(code) && code->valueint >= 400 && code->valueint < 600
                     ? code->valueint
                     : 500;
    const char *msg = cJSON_IsString(error) ? error->valuestring : tr_str(error, "message");
    start(t);
    EMIT(t, error, status, msg ? msg : "upstream model endpoint failed mid-stream",
         tr_str(error, "code"));
    t->ended = true;
    return;
  }
  take_string(&t->id, j, "id");
  take_string(&t->model, j, "model");
  const cJSON *created = tr_get(j, "created");
  if (t->created == 0 && cJSON_IsNumber(created))
    t->created = created->valuedouble;
  start(t);
  tr_usage_read(tr_get(j, "usage"), &t->usage);

  const cJSON *choice = NULL, *ch;
  cJSON_ArrayForEach(ch, tr_get(j, "choices"))
  {
    const cJSON *index = tr_get(ch, "index");
    if (!cJSON_IsNumber(index) || index->valueint == 0) {
      choice = ch;
      break;
    }
  }
  if (choice == NULL || t->closed)
    return;
  const cJSON *delta = tr_get(choice, "delta");
  text_delta(t, tr_str(delta, "content"));
  text_delta(t, tr_str(delta, "refusal"));
  /* reasoning_content / reasoning: not shown (see translate.h). */
  const cJSON *tc;
  int position = 0;
  cJSON_ArrayForEach(tc, tr_get(delta, "tool_calls")) call_delta(t, tc, position++);
  const char *finish = tr_str(choice, "finish_reason");
  if (finish) {
    snprintf(t->finish, sizeof t->finish, "%s", finish);
    take_string(&t->stop_sequence, choice, "stop_reason");
    close_all(t);
  }
}

bool
cab_sse_translator_usage_clamped(const struct cab_sse_translator *t)
{
  return t && t->usage.clamped;
}
