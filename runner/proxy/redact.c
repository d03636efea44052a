/* Redaction of the real key (redact.h). */
#include "runner/proxy/redact.h"

#include <stdlib.h>
#include <string.h>

struct cab_redactor {
  char *secret;  /* lower case */
  size_t slen;
  char *with;
  size_t wlen;
  char *held;    /* bytes that begin a match not yet complete (< slen) */
  size_t hlen;
  size_t hits;
  size_t skip[256]; /* Horspool's shift for a window's last byte (either case) */
};

/* ASCII case folding: API keys are ASCII, and a locale must not matter. */
static inline char
fold(char c)
{
  return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

struct cab_redactor *
cab_redactor_new(const char *secret, const char *with)
{
  if (secret == NULL || secret[0] == '\0')
    return NULL;
  struct cab_redactor *r = calloc(1, sizeof *r);
  if (r == NULL)
    return NULL;
  r->slen = strlen(secret);
  r->secret = malloc(r->slen + 1);
  r->held = malloc(r->slen);
  r->with = strdup(with ? with : "");
  if (r->secret == NULL || r->held == NULL || r->with == NULL) {
    cab_redactor_free(r);
    return NULL;
  }
  for (size_t i = 0; i <= r->slen; i++)
    r->secret[i] = fold(secret[i]);
  r->wlen = strlen(r->with);
  for (size_t c = 0; c < 256; c++)
    r->skip[c] = r->slen;
  for (size_t i = 0; i + 1 < r->slen; i++) {
    unsigned char c = (unsigned char)r->secret[i];
    r->skip[c] = r->slen - 1 - i;
    if (c >= 'a' && c <= 'z')
      r->skip[c - 32] = r->slen - 1 - i;
  }
  return r;
}

enum match { NONE, PARTIAL, FULL };

/* Does the secret start at A[0], reading A[0..ALEN) then B[0..BLEN)?
 * PARTIAL: every byte there is matches, but the secret is longer. */
static enum match
match(const struct cab_redactor *r, const char *a, size_t alen, const char *b, size_t blen)
{
  for (size_t i = 0; i < r->slen; i++) {
    char c;
    if (i < alen)
      c = a[i];
    else if (i - alen < blen)
      c = b[i - alen];
    else
      return PARTIAL;
    if (fold(c) != r->secret[i])
      return NONE;
  }
  return FULL;
}

static int
emit(cab_redact_sink sink, void *ctx, const char *data, size_t n)
{
  return sink && n > 0 ? sink(ctx, data, n) : 0;
}

static int
emit_with(struct cab_redactor *r, cab_redact_sink sink, void *ctx)
{
  r->hits++;
  return emit(sink, ctx, r->with, r->wlen);
}

int
cab_redactor_feed(struct cab_redactor *r, const char *in, size_t n, cab_redact_sink sink,
                  void *ctx)
{
  size_t start = 0;
  /* First the held bytes: a match may begin there and end in IN. */
  for (size_t i = 0; i < r->hlen; i++) {
    enum match m = match(r, r->held + i, r->hlen - i, in, n);
    if (m == NONE)
      continue;
    if (emit(sink, ctx, r->held, i) < 0)
      return -1;
    if (m == PARTIAL) { /* still undecided: hold the rest and all of IN */
      memmove(r->held, r->held + i, r->hlen - i);
      r->hlen -= i;
      memcpy(r->held + r->hlen, in, n);
      r->hlen += n;
      return 0;
    }
    start = r->slen - (r->hlen - i);
    r->hlen = 0;
    if (emit_with(r, sink, ctx) < 0)
      return -1;
    break;
  }
  if (r->hlen > 0) {
    if (emit(sink, ctx, r->held, r->hlen) < 0)
      return -1;
    r->hlen = 0;
  }
  /* Then IN: whole matches by Horspool's search (a window whose last byte
   * cannot end the secret moves on by up to its length), */
  size_t run = start, m = r->slen, j = start;
  while (j + m <= n) {
    unsigned char last = (unsigned char)in[j + m - 1];
    if (fold((char)last) == r->secret[m - 1] && match(r, in + j, m, NULL, 0) == FULL) {
      if (emit(sink, ctx, in + run, j - run) < 0 || emit_with(r, sink, ctx) < 0)
        return -1;
      j += m;
      run = j;
      continue;
    }
    j += r->skip[last];
  }
  /* and the first of the last bytes that may begin one, held. */
  for (j = n - m + 1 > run && n >= m ? n - m + 1 : run; j < n; j++)
    if (match(r, in + j, n - j, NULL, 0) == PARTIAL) {
      if (emit(sink, ctx, in + run, j - run) < 0)
        return -1;
      memcpy(r->held, in + j, n - j);
      r->hlen = n - j;
      return 0;
    }
  return emit(sink, ctx, in + run, n - run);
}

int
cab_redactor_end(struct cab_redactor *r, cab_redact_sink sink, void *ctx)
{
  size_t n = r->hlen;
  r->hlen = 0;
  return emit(sink, ctx, r->held, n);
}

size_t
cab_redactor_hits(const struct cab_redactor *r)
{
  return r ? r->hits : 0;
}

void
cab_redactor_free(struct cab_redactor *r)
{
  if (r == NULL)
    return;
  if (r->secret) {
    explicit_bzero(r->secret, r->slen);
    free(r->secret);
  }
  if (r->held) {
    explicit_bzero(r->held, r->slen);
    free(r->held);
  }
  free(r->with);
  free(r);
}

char *
cab_redact_string(const char *s, const char *secret, const char *with, bool *failed)
{
  *failed = false;
  struct cab_redactor *r = cab_redactor_new(secret, with);
  if (r == NULL) {
    *failed = secret && secret[0];
    return NULL;
  }
  struct cab_byteq q = {0};
  size_t n = strlen(s);
  if (cab_redactor_feed(r, s, n, NULL, NULL) < 0 || cab_redactor_hits(r) == 0) {
    cab_redactor_free(r);
    return NULL;
  }
  cab_redactor_free(r);
  r = cab_redactor_new(secret, with);
  if (r == NULL || cab_redactor_feed(r, s, n, cab_byteq_sink, &q) < 0 ||
      cab_redactor_end(r, cab_byteq_sink, &q) < 0 || q.data == NULL) {
    *failed = true;
    cab_redactor_free(r);
    cab_byteq_clear(&q);
    return NULL;
  }
  cab_redactor_free(r);
  return q.data;
}
