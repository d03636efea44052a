/* A call's state: what passes through it, and what it counts. */
#include "runner/proxy/call.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/fsutil.h"
#include "runner/proxy/bridge.h"
#include "runner/proxy/proxy_internal.h"

#define USAGE_JSON_MAX ((size_t)16 << 20) /* larger JSON bodies: no usage */

struct cab_call *
cab_call_new(struct cab_proxy *p, const char *uri)
{
  struct cab_call *k = calloc(1, sizeof *k);
  if (k == NULL)
    return NULL;
  k->p = p;
  k->uri = strdup(uri ? uri : "");
  k->path = k->uri ? strndup(k->uri, strcspn(k->uri, "?")) : NULL;
  k->ttfb_ns = -1;
  k->expect_len = -1;
  if (k->uri == NULL || k->path == NULL) {
    cab_call_free(k);
    return NULL;
  }
  return k;
}

void
cab_call_free(struct cab_call *k)
{
  if (k == NULL)
    return;
  cab_xfer_free(k->xfer);
  cab_bridge_free(k->bridge);
  cab_redactor_free(k->red);
  cab_byteq_clear(&k->redq);
  if (k->scan) {
    struct cab_usage ignored;
    cab_sse_usage_finish(k->scan, &ignored);
  }
  for (size_t i = 0; i < k->n_chunks; i++)
    free(k->chunks[i].data);
  free(k->chunks);
  free(k->json);
  free(k->content_type);
  free(k->body);
  if (k->reserved)
    cab_proxy_release(k->p, k->reserved);
  if (k->in_flight)
    atomic_fetch_sub(&k->p->calls, 1);
  free(k->uri);
  free(k->path);
  free(k);
}

void
cab_call_account(struct cab_call *k, const char *data, size_t n)
{
  if (k->ttfb_ns < 0)
    k->ttfb_ns = cab_now_ns() - k->t0;
  k->sent += n;
  if (k->sse) {
    cab_sse_usage_feed(k->scan, data, n);
  } else if (!k->json_skip) {
    if (k->json_len + n > USAGE_JSON_MAX) {
      k->json_skip = true;
    } else {
      if (k->json_len + n + 1 > k->json_cap) {
        size_t cap = k->json_cap ? k->json_cap : 4096;
        while (cap < k->json_len + n + 1)
          cap *= 2;
        char *b = realloc(k->json, cap);
        if (b == NULL) {
          k->json_skip = true;
          goto record;
        }
        k->json = b;
        k->json_cap = cap;
      }
      memcpy(k->json + k->json_len, data, n);
      k->json_len += n;
      k->json[k->json_len] = '\0';
    }
  }
record:
  if (k->p->rec) {
    if (k->n_chunks == k->cap_chunks) {
      size_t cap = k->cap_chunks ? k->cap_chunks * 2 : 32;
      struct cab_cassette_chunk *c = realloc(k->chunks, cap * sizeof *c);
      if (c == NULL)
        return;
      k->chunks = c;
      k->cap_chunks = cap;
    }
    char *copy = malloc(n + 1);
    if (copy == NULL)
      return;
    memcpy(copy, data, n);
    copy[n] = '\0';
    k->chunks[k->n_chunks++] = (struct cab_cassette_chunk){
        .t_ms = (cab_now_ns() - k->t0) / 1000000, .data = copy, .len = n};
  }
}

void
cab_call_content_type(struct cab_call *k, const char *ct)
{
  free(k->content_type);
  k->content_type = strdup(ct ? ct : "");
  k->sse = ct && strncasecmp(ct, "text/event-stream", 17) == 0;
  if (k->sse && k->scan == NULL)
    k->scan = cab_sse_usage_new();
  if (k->sse && k->scan == NULL)
    k->sse = false;
}

void
cab_call_error(struct cab_call *k, enum cab_call_fault fault, const char *fmt, ...)
{
  if (k->error[0])
    return; /* the first error is the cause */
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(k->error, sizeof k->error, fmt, ap);
  va_end(ap);
  k->fault = fault;
}
