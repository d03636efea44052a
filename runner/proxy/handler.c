/* MHD's side of a call: the client's request as MHD hands it over, judged
 * (allow.h, the cell's bounds), relayed upstream (or answered from the
 * cassette); the response goes back through answer.c, and the record is
 * written when MHD is done (record.c).
 *
 * MHD runs a thread per connection, so the callbacks below may block: the
 * access handler waits for the upstream's response head, and the content
 * reader waits for the next body bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/strfmt.h"
#include "common/fsutil.h"
#include "runner/proxy/allow.h"
#include "runner/proxy/answer.h"
#include "runner/proxy/bridge.h"
#include "runner/proxy/call.h"
#include "runner/proxy/proxy_internal.h"
#include "runner/proxy/request.h"
#include "runner/proxy/wire_ops.h"

void *
cab_proxy_on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
  return cab_call_new(cls, uri);
}

/* --- request headers passed on --------------------------------------------------------- */

/* Hop-by-hop headers, what curl sets itself, and every credential: the
 * client's placeholder never goes upstream, the real key is added there.
 * Also what some servers and gateways take as the real path, method or
 * host (X-Original-URL...): the allow-list (allow.h) judges the request
 * line, so nothing else may say where the call goes. */
static const char *const drop_request[] = {
    "host", "content-length", "connection", "keep-alive", "proxy-connection",
    "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade", "expect",
    "authorization", "x-api-key", "api-key", "x-goog-api-key", "accept-encoding",
    "x-original-url", "x-rewrite-url", "x-original-uri", "x-forwarded-uri", "x-forwarded-path",
    "x-forwarded-prefix", "x-forwarded-host", "x-forwarded-server", "x-host", "forwarded",
    "x-http-method-override", "x-http-method", "x-method-override", NULL};

static enum MHD_Result
collect_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
  struct curl_slist **list = cls;
  if (key == NULL || cab_header_listed(key, drop_request) || *list == (void *)-1)
    return MHD_YES;
  char *line;
  /* "Name;" is curl's way of sending a header with an empty value. */
  int n = value && value[0] ? asprintf(&line, "%s: %s", key, value) : asprintf(&line, "%s;", key);
  if (n < 0)
    return MHD_YES;
  struct curl_slist *l = curl_slist_append(*list, line);
  free(line);
  if (l)
    *list = l;
  return MHD_YES;
}

static enum MHD_Result
respond_replay(struct cab_call *k, struct MHD_Connection *c)
{
  cab_error e = {0};
  k->entry = cab_cassette_match(k->p->replay, k->method, k->uri, k->body, k->len, &e);
  if (k->entry && e.message[0])
    cab_snprintf_cut(k->replay_note, sizeof k->replay_note, "%s", e.message); /* a note */
  if (k->entry == NULL) {
    char msg[sizeof k->error];
    cab_snprintf_cut(msg, sizeof msg, "cab replay: %s", e.message); /* an error message */
    cab_proxy_note(k->p, &k->p->replay_misses, k->p->first_miss, e.message);
    return cab_answer_error(k, c, 400, CAB_FAULT_CLIENT, "cab_replay_mismatch", msg);
  }
  k->status = k->entry->status;
  cab_call_content_type(k, k->entry->content_type);
  return cab_answer_stream(k, c, NULL);
}

/* The cell's budget for held request bodies is used up (HOW: "reached",
 * "would exceed"): a busy answer the client may retry. */
static enum MHD_Result
answer_over_budget(struct cab_call *k, struct MHD_Connection *c, const char *how)
{
  char msg[300];
  snprintf(msg, sizeof msg,
           "cab proxy: the request bodies held for this cell %s %zu bytes; retry when other "
           "calls are done",
           how, k->p->cfg.max_buffered_bytes);
  return cab_answer_busy(k, c, msg);
}

static enum MHD_Result
respond(struct cab_call *k, struct MHD_Connection *c)
{
  struct cab_proxy *p = k->p;
  k->t0 = cab_now_ns();
  if (k->over_budget)
    return answer_over_budget(k, c, "reached");
  if (k->too_large) {
    char msg[200];
    snprintf(msg, sizeof msg, "cab proxy: the request body is larger than %zu bytes",
             p->cfg.max_request_bytes);
    return cab_answer_error(k, c, 413, CAB_FAULT_CLIENT, "request_too_large", msg);
  }
  cab_request_sha256(k->method, k->uri, k->body, k->len, k->sha);
  char *rewritten = NULL;
  size_t rlen = 0;
  cab_request_inspect(k->path, cab_has_header, c, k->body, k->len, &k->info, &rewritten, &rlen);
  if (p->replay) {
    free(rewritten);
    return respond_replay(k, c);
  }
  k->usage_injected = rewritten != NULL;

  /* A client of another wire than the endpoint's: its request goes up as
   * a chat request (bridge.h); the cassette, if any, keeps what the
   * client saw, so a replay needs no translation. */
  const char *query = strchr(k->uri, '?');
  int refuse_status = 0;
  char *refusal = NULL;
  size_t refusal_len = 0;
  cab_error be = {0};
  switch (cab_bridge_open(p->cfg.endpoint_wire, k->path, query ? query + 1 : NULL,
                          k->body ? k->body : "", k->len, &k->bridge, &rewritten, &rlen,
                          &refuse_status, &refusal, &refusal_len, &be)) {
  case CAB_BRIDGE_REFUSE: {
    struct cab_wire_route route;
    if (cab_wire_of_request(k->path, query ? query + 1 : NULL, &route))
      k->wire = cab_wire_name(route.wire);
    free(rewritten);
    enum MHD_Result ret =
        cab_answer_body(k, c, refuse_status, CAB_FAULT_CLIENT, be.message, refusal, refusal_len);
    free(refusal);
    return ret;
  }
  case CAB_BRIDGE_TRANSLATE: {
    const struct cab_translate_ctx *tx = cab_bridge_ctx(k->bridge);
    k->wire = cab_bridge_wire_name(k->bridge);
    k->usage_injected = false;
    k->info.stream = tx->stream;
    k->info.wire = p->cfg.endpoint_wire; /* the key as the endpoint takes it */
    if (k->info.model[0] == '\0')
      snprintf(k->info.model, sizeof k->info.model, "%s", tx->model);
    size_t local_len = 0;
    char *local = cab_bridge_local_answer(k->bridge, rlen, &local_len);
    if (local) { /* a token count: cab's estimate, no upstream call */
      k->local = true;
      free(rewritten);
      enum MHD_Result ret = cab_answer_body(k, c, 200, CAB_FAULT_NONE, NULL, local, local_len);
      free(local);
      return ret;
    }
    break;
  }
  case CAB_BRIDGE_PASS:
    break;
  }
  /* A rewritten body (translated, or usage asked for) is a second copy:
   * it counts against the cell's budget too, until the call ends. */
  if (rewritten) {
    if (!cab_proxy_reserve(p, rlen + 1)) {
      free(rewritten);
      return answer_over_budget(k, c, "would exceed");
    }
    k->reserved += rlen + 1;
  }

  struct curl_slist *headers = NULL;
  if (k->bridge) {
    /* The client's headers belong to its own API, not to chat's. */
    headers = curl_slist_append(NULL, "Content-Type: application/json");
  } else {
    MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header, &headers);
  }
  struct cab_xfer_request rq = {
      .method = k->method,
      .uri = k->bridge ? cab_wire_ops(p->cfg.endpoint_wire)->call_path : k->uri,
      .body = rewritten ? rewritten : k->body,
      .body_len = rewritten ? rlen : k->len,
      .headers = headers,
      .key_wire = k->info.wire,
  };
  if (p->key && (k->red = cab_redactor_new(p->key, CAB_PROXY_PLACEHOLDER_KEY)) == NULL) {
    curl_slist_free_all(headers);
    free(rewritten);
    return cab_answer_error(k, c, 503, CAB_FAULT_NONE, "cab_out_of_memory",
                        "cab proxy: out of memory");
  }
  cab_error e = {0};
  int rc = cab_xfer_start(p->up, &rq, &k->xfer, &e);
  curl_slist_free_all(headers);
  free(rewritten);
  k->attempts = cab_xfer_attempts(k->xfer);
  if (rc < 0 && atomic_load(&p->stopping))
    return cab_answer_error(k, c, 502, CAB_FAULT_CLIENT, "cab_stopping",
                        "the run ended while the call waited for the upstream");
  cab_proxy_upstream_outcome(p, rc == 0);
  if (rc < 0) {
    bool timeout = cab_xfer_timed_out(k->xfer);
    return cab_answer_error(k, c, timeout ? 504 : 502, CAB_FAULT_UPSTREAM,
                        timeout ? "upstream_timeout" : "upstream_unreachable", e.message);
  }
  const struct cab_xfer_head *head = cab_xfer_head(k->xfer);
  k->status = head->status;
  const char *ct = NULL;
  for (size_t i = 0; i < head->n_headers; i++)
    if (strcasecmp(head->headers[i].name, "content-type") == 0)
      ct = head->headers[i].value;
  if (head->status == 429 || head->status >= 500)
    cab_call_error(k, CAB_FAULT_NONE, "upstream answered %d%s", head->status,
              k->attempts > 1 ? " on every attempt" : "");
  if (k->bridge) {
    /* Translated: cab's own head (no upstream length or headers). */
    cab_bridge_begin(k->bridge, head->status, ct);
    cab_call_content_type(k, cab_bridge_content_type(k->bridge));
    return cab_answer_stream(k, c, NULL);
  }
  cab_call_content_type(k, ct);
  return cab_answer_stream(k, c, head);
}

struct framing {
  int n_length;
  const char *length;
  bool conflict, chunked;
};

static enum MHD_Result
check_framing(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
  struct framing *f = cls;
  if (key && strcasecmp(key, "content-length") == 0) {
    if (value == NULL || value[0] == '\0' || strspn(value, "0123456789") != strlen(value) ||
        (f->length && strcmp(f->length, value) != 0))
      f->conflict = true;
    f->length = value;
    f->n_length++;
  } else if (key && strcasecmp(key, "transfer-encoding") == 0) {
    f->chunked = true;
  }
  return MHD_YES;
}

static bool
valid_target(const char *uri)
{
  if (uri[0] != '/' || uri[1] == '/')
    return false;
  for (const unsigned char *s = (const unsigned char *)uri; *s; s++)
    if (*s <= ' ' || *s == 0x7f)
      return false;
  return true;
}

enum MHD_Result
cab_proxy_on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                     const char *version, const char *upload_data, size_t *upload_data_size,
                     void **req_cls)
{
  struct cab_call *k = *req_cls;
  if (k == NULL)
    return MHD_NO; /* out of memory in on_uri */
  if (!k->seen) {
    k->seen = true;
    snprintf(k->method, sizeof k->method, "%s", method);
    clock_gettime(CLOCK_REALTIME, &k->started);
    k->t0 = cab_now_ns();
    if (!valid_target(k->uri))
      return cab_answer_error(k, c, 400, CAB_FAULT_CLIENT, "invalid_request",
                          "cab proxy: the request target must be a path such as "
                          "/v1/chat/completions");
    /* Ambiguous framing is refused, never guessed at (request smuggling);
     * the body goes upstream re-framed by curl in any case. */
    struct framing f = {0};
    MHD_get_connection_values(c, MHD_HEADER_KIND, check_framing, &f);
    if (f.conflict || (f.chunked && f.n_length > 0))
      return cab_answer_error(k, c, 400, CAB_FAULT_CLIENT, "invalid_request",
                          "cab proxy: conflicting Content-Length and Transfer-Encoding headers");
    /* Only model API calls go on, and only targets every parser reads
     * alike (allow.h); the replay answers from its cassette, so there only
     * the target is checked. */
    char why[512];
    int refuse = cab_allow_target(k->path, why, sizeof why);
    if (refuse == 0 && k->p->up)
      refuse = cab_allow_call(k->p->cfg.endpoint_wire, k->method, k->path, why, sizeof why);
    if (refuse)
      return cab_answer_refusal(k, c, refuse, why);
    const char *cl = f.length;
    if (cl && strtoull(cl, NULL, 10) > k->p->cfg.max_request_bytes) {
      k->too_large = true;
      return respond(k, c);
    }
    /* The proxy lives in cab, outside the cell's cgroup: the calls in
     * flight and the body bytes they hold are bounded per cell, and a call
     * beyond either is refused before its body is read. */
    struct cab_proxy *p = k->p;
    char msg[300];
    k->in_flight = true;
    if (atomic_fetch_add(&p->calls, 1) >= p->cfg.max_calls) {
      snprintf(msg, sizeof msg, "cab proxy: %u model calls of this cell are in flight already; "
                                "retry when one is done", p->cfg.max_calls);
      return cab_answer_busy(k, c, msg);
    }
    if (cl) {
      size_t want = (size_t)strtoull(cl, NULL, 10) + 1;
      if (!cab_proxy_reserve(p, want)) {
        snprintf(msg, sizeof msg, "cab proxy: the request bodies held for this cell would exceed "
                                  "%zu bytes; retry when other calls are done",
                 p->cfg.max_buffered_bytes);
        return cab_answer_busy(k, c, msg);
      }
      k->reserved = k->body_limit = want;
    }
    return MHD_YES;
  }
  if (*upload_data_size > 0) {
    size_t n = *upload_data_size;
    *upload_data_size = 0;
    if (k->answered || k->too_large || k->over_budget)
      return MHD_YES;
    if (k->len + n > k->p->cfg.max_request_bytes) {
      k->too_large = true;
      free(k->body);
      k->body = NULL;
      k->len = k->cap = 0;
      return MHD_YES;
    }
    if (k->len + n + 1 > k->cap) {
      size_t cap = k->cap ? k->cap : 16384;
      while (cap < k->len + n + 1)
        cap *= 2;
      if (k->body_limit && cap > k->body_limit && k->len + n + 1 <= k->body_limit)
        cap = k->body_limit; /* the declared length: no doubling past it */
      /* Every byte held counts against the cell's budget (a chunked body
       * takes it as it grows). */
      if (cap > k->reserved && !cab_proxy_reserve(k->p, cap - k->reserved)) {
        k->over_budget = true;
        free(k->body);
        k->body = NULL;
        k->len = k->cap = 0;
        cab_proxy_release(k->p, k->reserved);
        k->reserved = 0;
        return MHD_YES;
      }
      if (cap > k->reserved)
        k->reserved = cap;
      char *b = realloc(k->body, cap);
      if (b == NULL)
        return MHD_NO;
      k->body = b;
      k->cap = cap;
    }
    memcpy(k->body + k->len, upload_data, n);
    k->len += n;
    k->body[k->len] = '\0';
    return MHD_YES;
  }
  if (k->answered)
    return MHD_YES;
  /* The whole request is in.  From here the call takes as long as the
   * upstream does (bounded by its own timeout), so the connection's idle
   * timeout is off until the response is done. */
  MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, 0u);
  return respond(k, c);
}

void
cab_proxy_on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
                       enum MHD_RequestTerminationCode toe)
{
  struct cab_call *k = *req_cls;
  *req_cls = NULL;
  if (k == NULL)
    return;
  if (k->answered)
    cab_call_finish(k, toe);
  if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
    MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT,
                              (unsigned)k->p->cfg.idle_timeout_s);
  cab_call_free(k);
}
