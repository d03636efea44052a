/* The SSE side of the stream translator (translate.h): upstream bytes in
 * any split -> lines (LF, CRLF or CR) -> events (data lines joined) ->
 * chat chunks for the sequencer (translate_stream.c); and the client bytes
 * handed out. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner/proxy/translate_internal.h"

/* One SSE line or event may not grow past this. */
#define EVENT_MAX (64u << 20)

static void
dispatch(struct cab_sse_translator *t)
{
  bool has = t->has_data;
  t->has_data = false;
  size_t n = t->data.len;
  t->data.len = 0;
  if (!has || t->ended)
    return;
  const char *d = t->data.s;
  if (n == 6 && memcmp(d, "[DONE]", 6) == 0) {
    tr_stream_end(t);
    return;
  }
  cJSON *j = cJSON_ParseWithLength(d, n);
  if (cJSON_IsObject(j))
    tr_stream_chunk(t, j); /* anything else is skipped, as SDKs do */
  cJSON_Delete(j);
}

static void
take_line(struct cab_sse_translator *t, const char *line, size_t len)
{
  if (len == 0) {
    dispatch(t);
    return;
  }
  if (len < 5 || memcmp(line, "data:", 5) != 0)
    return; /* event:, id:, retry:, ": comments" */
  line += 5;
  len -= 5;
  if (len && line[0] == ' ') {
    line++;
    len--;
  }
  if (t->has_data)
    tr_buf_add(&t->data, "\n", 1);
  tr_buf_add(&t->data, line, len);
  t->has_data = true;
}

static void
end_line(struct cab_sse_translator *t)
{
  take_line(t, t->line.s ? t->line.s : "", t->line.len);
  t->line.len = 0;
}

static int
hand_out(struct cab_sse_translator *t, char **out, size_t *out_len, cab_error *err)
{
  bool oom = t->out.oom || t->line.oom || t->data.oom || t->text.oom || t->late_text.oom ||
             t->held.oom;
  for (size_t i = 0; i < t->n_calls; i++)
    oom = oom || t->calls[i]->args.oom;
  if (oom)
    return cab_error_set(err, ENOMEM, "translating the model's stream");
  *out = t->out.s ? t->out.s : strdup("");
  *out_len = t->out.len;
  memset(&t->out, 0, sizeof t->out);
  if (*out == NULL)
    return cab_error_set(err, ENOMEM, "translating the model's stream");
  return 0;
}

int
cab_sse_translator_feed(struct cab_sse_translator *t, const char *data, size_t n, char **out,
                        size_t *out_len, cab_error *err)
{
  *out = NULL;
  *out_len = 0;
  if (t->emit == NULL) {
    /* The identity: the client speaks chat. */
    tr_buf_add(&t->out, data, n);
    return hand_out(t, out, out_len, err);
  }
  size_t i = 0;
  while (i < n) {
    if (t->skip_lf) {
      t->skip_lf = false;
      if (data[i] == '\n') {
        i++;
        continue;
      }
    }
    size_t k = i;
    while (k < n && data[k] != '\n' && data[k] != '\r')
      k++;
    tr_buf_add(&t->line, data + i, k - i);
    if (t->line.len > EVENT_MAX || t->data.len > EVENT_MAX)
      return cab_error_set(err, 0, "upstream stream: an SSE event is larger than %u MiB",
                           EVENT_MAX >> 20);
    if (k == n)
      break;
    t->skip_lf = data[k] == '\r';
    end_line(t);
    i = k + 1;
  }
  return hand_out(t, out, out_len, err);
}

int
cab_sse_translator_finish(struct cab_sse_translator *t, char **out, size_t *out_len,
                          cab_error *err)
{
  *out = NULL;
  *out_len = 0;
  if (t->emit == NULL) /* the identity */
    return hand_out(t, out, out_len, err);
  if (t->line.len)
    end_line(t);
  dispatch(t); /* an event upstream did not end with a blank line */
  tr_stream_end(t);
  return hand_out(t, out, out_len, err);
}
