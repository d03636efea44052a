/* One call to the upstream: the request sent (again, on a retryable
 * failure, after a backoff), the response head parsed, the body handed on
 * as it arrives. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/fsutil.h"
#include "runner/proxy/byteq.h"
#include "runner/proxy/upstream_internal.h"

struct cab_xfer {
  struct cab_upstream *u;
  CURLM *multi;
  CURL *easy;
  struct curl_slist *hdrs;
  char *url;
  char errbuf[CURL_ERROR_SIZE];
  int attempts;
  bool timed_out;

  /* the response head of the current attempt */
  int status;
  bool head_done;
  long long content_length;
  long retry_after_ms;
  struct cab_header *headers;
  size_t n_headers, cap_headers;
  struct cab_xfer_head head;

  struct cab_byteq body; /* body bytes received, not yet read */
  size_t total;
  bool too_large;

  bool done;
  CURLcode result;
  int64_t last_activity; /* the last byte from upstream, or the attempt's start */
};

static void
clear_head(struct cab_xfer *x)
{
  for (size_t i = 0; i < x->n_headers; i++) {
    free(x->headers[i].name);
    free(x->headers[i].value);
  }
  x->n_headers = 0;
  x->status = 0;
  x->head_done = false;
  x->content_length = -1;
  x->retry_after_ms = -1;
}

static size_t
on_header(char *data, size_t size, size_t n, void *ctx)
{
  struct cab_xfer *x = ctx;
  size_t len = size * n, l = len;
  x->last_activity = cab_now_ns();
  while (l > 0 && (data[l - 1] == '\n' || data[l - 1] == '\r'))
    l--;
  if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
    /* A new status line: a 1xx before the real one, or a new attempt. */
    clear_head(x);
    const char *sp = memchr(data, ' ', l);
    if (sp && sp + 4 <= data + l)
      x->status = atoi(sp + 1);
    return len;
  }
  if (l == 0) {
    if (x->status >= 200)
      x->head_done = true;
    return len;
  }
  const char *colon = memchr(data, ':', l);
  if (colon == NULL || colon == data)
    return len;
  const char *v = colon + 1, *end = data + l;
  while (v < end && (*v == ' ' || *v == '\t'))
    v++;
  while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
    end--;
  if (x->n_headers == x->cap_headers) {
    size_t cap = x->cap_headers ? x->cap_headers * 2 : 16;
    if (cap > 512)
      return len; /* enough headers; drop the rest */
    struct cab_header *h = realloc(x->headers, cap * sizeof *h);
    if (h == NULL)
      return 0;
    x->headers = h;
    x->cap_headers = cap;
  }
  char *name = strndup(data, (size_t)(colon - data));
  char *value = strndup(v, (size_t)(end - v));
  if (name == NULL || value == NULL) {
    free(name);
    free(value);
    return 0;
  }
  if (strcasecmp(name, "content-length") == 0)
    x->content_length = strtoll(value, NULL, 10);
  else if (strcasecmp(name, "retry-after") == 0 && value[0] >= '0' && value[0] <= '9')
    x->retry_after_ms = strtol(value, NULL, 10) * 1000;
  x->headers[x->n_headers++] = (struct cab_header){name, value};
  return len;
}

static size_t
on_body(char *data, size_t size, size_t n, void *ctx)
{
  struct cab_xfer *x = ctx;
  size_t len = size * n;
  x->last_activity = cab_now_ns();
  if (x->total + len > x->u->cfg.max_response_bytes) {
    x->too_large = true;
    return CURL_WRITEFUNC_ERROR;
  }
  if (cab_byteq_put(&x->body, data, len) < 0)
    return CURL_WRITEFUNC_ERROR;
  x->total += len;
  return len;
}

static int
setup_attempt(struct cab_xfer *x, const struct cab_xfer_request *rq, cab_error *err)
{
  const struct cab_upstream_config *c = &x->u->cfg;
  if (x->easy) {
    curl_multi_remove_handle(x->multi, x->easy);
    curl_easy_cleanup(x->easy);
  }
  clear_head(x);
  cab_byteq_reset(&x->body);
  x->total = 0;
  x->done = false;
  x->result = CURLE_OK;
  x->errbuf[0] = '\0';
  x->last_activity = cab_now_ns();
  x->easy = curl_easy_init();
  if (x->easy == NULL)
    return cab_error_set(err, ENOMEM, "curl_easy_init");
  CURL *e = x->easy;
  curl_easy_setopt(e, CURLOPT_URL, x->url);
  curl_easy_setopt(e, CURLOPT_SHARE, x->u->share);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->hdrs);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)c->connect_timeout_ms);
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  if (strcmp(rq->method, "GET") == 0) {
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
  } else if (strcmp(rq->method, "HEAD") == 0) {
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  } else {
    if (strcmp(rq->method, "POST") != 0)
      curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, rq->method);
    if (strcmp(rq->method, "POST") == 0 || rq->body_len > 0) {
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, rq->body ? rq->body : "");
    }
  }
  if (curl_multi_add_handle(x->multi, e) != CURLM_OK)
    return cab_error_set(err, 0, "curl_multi_add_handle");
  return 0;
}

/* Run the transfer until the head is in (HEAD_ONLY) or body bytes are
 * waiting, or it is over.  -1 when cab is stopping. */
static int
drive(struct cab_xfer *x, bool head_only)
{
  for (;;) {
    int running = 0;
    curl_multi_perform(x->multi, &running);
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(x->multi, &left)) != NULL)
      if (m->msg == CURLMSG_DONE) {
        x->done = true;
        x->result = m->data.result;
      }
    if (x->done || (head_only ? x->head_done : x->body.len > x->body.off))
      return 0;
    if (x->u->cfg.stopping && atomic_load(x->u->cfg.stopping))
      return -1;
    /* The upstream's silence is bounded here, not with curl's low-speed
     * check: that one averages over seconds, so the bytes of the request
     * itself keep a silent upstream "fast" for a while. */
    if (cab_now_ns() - x->last_activity > (int64_t)x->u->cfg.timeout_s * 1000000000) {
      snprintf(x->errbuf, sizeof x->errbuf, "no data from upstream for %d s", x->u->cfg.timeout_s);
      curl_multi_remove_handle(x->multi, x->easy);
      curl_easy_cleanup(x->easy);
      x->easy = NULL;
      x->done = true;
      x->result = CURLE_OPERATION_TIMEDOUT;
      return 0;
    }
    curl_multi_poll(x->multi, NULL, 0, 100, NULL);
  }
}

static bool
retryable_code(CURLcode c)
{
  switch (c) {
  case CURLE_COULDNT_CONNECT:
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_OPERATION_TIMEDOUT:
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_GOT_NOTHING:
  case CURLE_SEND_ERROR:
  case CURLE_RECV_ERROR:
  case CURLE_HTTP2:
  case CURLE_HTTP2_STREAM:
    return true;
  default:
    return false;
  }
}

static const char *
failure_kind(CURLcode c)
{
  switch (c) {
  case CURLE_COULDNT_RESOLVE_HOST: return "DNS failure";
  case CURLE_COULDNT_CONNECT: return "connection failed";
  case CURLE_OPERATION_TIMEDOUT: return "timeout";
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CIPHER:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_ISSUER_ERROR:
    return "TLS failure";
  default: return "error";
  }
}

static int
fail_from(struct cab_xfer *x, cab_error *err, const char *when)
{
  if (x->too_large)
    return cab_error_set(err, 0, "upstream response larger than %zu bytes %s",
                         x->u->cfg.max_response_bytes, when);
  x->timed_out = x->result == CURLE_OPERATION_TIMEDOUT;
  const char *detail = x->errbuf[0] ? x->errbuf : curl_easy_strerror(x->result);
  if (x->timed_out)
    return cab_error_set(err, 0, "upstream timeout %s: %s", when, detail);
  return cab_error_set(err, 0, "upstream %s %s: %s", failure_kind(x->result), when, detail);
}

static void
backoff(struct cab_xfer *x)
{
  const struct cab_upstream_config *c = &x->u->cfg;
  long ms = (long)c->retry_base_ms << (x->attempts - 1 < 16 ? x->attempts - 1 : 16);
  if (ms > 8000)
    ms = 8000;
  if (x->retry_after_ms > ms)
    ms = x->retry_after_ms > 30000 ? 30000 : x->retry_after_ms;
  int64_t until = cab_now_ns() + (int64_t)ms * 1000000;
  while (!(c->stopping && atomic_load(c->stopping))) {
    int64_t left = until - cab_now_ns();
    if (left <= 0)
      break;
    if (left > 50000000)
      left = 50000000;
    struct timespec ts = {0, (long)left};
    nanosleep(&ts, NULL);
  }
}

static bool
retryable_status(int status)
{
  return status == 429 || status >= 500;
}

int
cab_xfer_start(struct cab_upstream *u, const struct cab_xfer_request *rq, struct cab_xfer **out,
               cab_error *err)
{
  struct cab_xfer *x = calloc(1, sizeof *x);
  *out = x;
  if (x == NULL)
    return cab_error_set(err, ENOMEM, "upstream call");
  x->u = u;
  x->content_length = -1;
  x->multi = cab_upstream_multi_take(u);
  x->url = cab_endpoint_url(u->cfg.endpoint, rq->uri);
  if (x->multi == NULL || x->url == NULL)
    return cab_error_set(err, ENOMEM, "upstream call");
  for (const struct curl_slist *h = rq->headers; h; h = h->next)
    if ((x->hdrs = curl_slist_append(x->hdrs, h->data)) == NULL)
      return cab_error_set(err, ENOMEM, "upstream headers");
  /* No "Expect: 100-continue" round trip; the key, if any. */
  x->hdrs = curl_slist_append(x->hdrs, "Expect:");
  const char *auth = (unsigned)rq->key_wire < CAB_WIRE_COUNT ? u->auth[rq->key_wire] : NULL;
  if (x->hdrs && auth)
    x->hdrs = curl_slist_append(x->hdrs, auth);
  if (x->hdrs == NULL)
    return cab_error_set(err, ENOMEM, "upstream headers");

  int max_attempts = 1 + (u->cfg.retries > 0 ? u->cfg.retries : 0);
  for (;;) {
    x->attempts++;
    if (setup_attempt(x, rq, err) < 0)
      return -1;
    if (drive(x, true) < 0)
      return cab_error_set(err, 0, "cab is stopping");
    bool last = x->attempts >= max_attempts;
    if (x->head_done) {
      if (!retryable_status(x->status) || last)
        break;
    } else {
      if (x->result == CURLE_OK)
        x->result = CURLE_GOT_NOTHING;
      if (!retryable_code(x->result) || x->too_large || last) {
        char when[64];
        snprintf(when, sizeof when, "(attempt %d of %d)", x->attempts, max_attempts);
        return fail_from(x, err, when);
      }
    }
    backoff(x);
    if (u->cfg.stopping && atomic_load(u->cfg.stopping))
      return cab_error_set(err, 0, "cab is stopping");
  }
  x->head = (struct cab_xfer_head){
      .status = x->status,
      .content_length = x->content_length,
      .headers = x->headers,
      .n_headers = x->n_headers,
  };
  return 0;
}

const struct cab_xfer_head *
cab_xfer_head(const struct cab_xfer *x)
{
  return &x->head;
}

int
cab_xfer_attempts(const struct cab_xfer *x)
{
  return x ? x->attempts : 0;
}

bool
cab_xfer_timed_out(const struct cab_xfer *x)
{
  return x && x->timed_out;
}

ssize_t
cab_xfer_read(struct cab_xfer *x, char *buf, size_t max, cab_error *err)
{
  if (x->body.len == x->body.off && !x->done && drive(x, false) < 0)
    return cab_error_set(err, 0, "cab stopped during the call");
  if (x->body.len > x->body.off)
    return (ssize_t)cab_byteq_take(&x->body, buf, max);
  if (x->result != CURLE_OK) {
    char when[64];
    snprintf(when, sizeof when, "after %zu bytes of the response", x->total);
    return fail_from(x, err, when);
  }
  return 0;
}

void
cab_xfer_free(struct cab_xfer *x)
{
  if (x == NULL)
    return;
  if (x->easy) {
    curl_multi_remove_handle(x->multi, x->easy);
    curl_easy_cleanup(x->easy);
  }
  if (x->multi)
    cab_upstream_multi_give(x->u, x->multi);
  clear_head(x);
  free(x->headers);
  curl_slist_free_all(x->hdrs);
  free(x->url);
  cab_byteq_clear(&x->body);
  free(x);
}
