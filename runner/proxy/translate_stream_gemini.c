/* The Gemini stream (gemini-cli): GenerateContentResponse chunks, as SSE
 * (alt=sse) or as one JSON array.  Text parts go out as they come (each
 * held back until the next, so that the final chunk has content); function
 * calls go whole in the final chunk, with finishReason and usageMetadata. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner/proxy/translate_internal.h"

static void
gem_send(struct cab_sse_translator *t, cJSON *chunk)
{
  if (t->ctx->json_array)
    tr_stream_send(t, NULL, t->events ? ",\r\n" : "[", chunk, "");
  else
    tr_stream_send(t, NULL, "data: ", chunk, "\n\n");
  t->events++;
}

/* A chunk; the final one (FINISH) has the usage. */
static cJSON *
gem_chunk(struct cab_sse_translator *t, cJSON *parts, const char *finish)
{
  return tr_gemini_response(parts, finish, finish ? &t->usage : NULL, t->model, t->id);
}

/* Each delta is sent when the next one comes, so that the final chunk
 * carries text (clients check that the last chunk has content). */
static void
gem_text_delta(struct cab_sse_translator *t, const char *s)
{
  if (t->has_held) {
    cJSON *parts = cJSON_CreateArray();
    cJSON_AddItemToArray(parts, tr_gemini_text_part(t->held.s));
    gem_send(t, gem_chunk(t, parts, NULL));
  }
  t->held.len = 0;
  tr_buf_adds(&t->held, s);
  t->has_held = true;
}

static void
gem_final(struct cab_sse_translator *t)
{
  cJSON *parts = cJSON_CreateArray();
  if (t->has_held)
    cJSON_AddItemToArray(parts, tr_gemini_text_part(t->held.s));
  t->has_held = false;
  cJSON *p;
  while ((p = cJSON_DetachItemFromArray(t->items, 0)) != NULL)
    cJSON_AddItemToArray(parts, p);
  gem_send(t, gem_chunk(t, parts, tr_gemini_finish(tr_stream_finish(t))));
  if (t->ctx->json_array)
    tr_buf_adds(&t->out, "]");
}

static void
gem_call_close(struct cab_sse_translator *t, struct tr_call *c)
{
  cJSON_AddItemToArray(t->items, tr_gemini_call_part(c->id, c->name, c->args.s));
}

static void
gem_error(struct cab_sse_translator *t, int status, const char *message, const char *code)
{
  gem_send(t, tr_error_object(t->ctx->wire, status, message, NULL, NULL));
  if (t->ctx->json_array)
    tr_buf_adds(&t->out, "]");
}

const struct tr_emitter tr_emit_gemini = {
    .text_delta = gem_text_delta,
    .call_close = gem_call_close,
    .final = gem_final,
    .error = gem_error,
};
