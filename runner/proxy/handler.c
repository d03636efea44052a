/* MHD's side of a call: the client's request as MHD hands it over, and
 * the response streamed back from upstream (or from the cassette) as it
 * arrives; the record is written when MHD is done (record.c).
 *
 * MHD runs a thread per connection, so the callbacks below may block: the
 * access handler waits for the upstream's response head, and the content
 * reader waits for the next body bytes.  Nothing is buffered beyond what
 * curl has handed over and the client has not yet taken. */
#include <cjson/cJSON.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/fsutil.h"
#include "runner/proxy/allow.h"
#include "runner/proxy/bridge.h"
#include "runner/proxy/call.h"
#include "runner/proxy/proxy_internal.h"
#include "runner/proxy/request.h"

#define BLOCK_SIZE 16384

void *
cab_proxy_on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
  return cab_call_new(cls, uri);
}

/* BODY (a string of *LEN bytes, or NULL) without the key: itself, or a
 * malloc'd copy in *OWNED.  cab's own answers may quote the upstream. */
static const char *
redacted(const struct cab_proxy *p, const char *body, size_t *len, char **owned)
{
  bool failed = false;
  *owned = p->key && body ? cab_redact_string(body, p->key, CAB_PROXY_PLACEHOLDER_KEY, &failed)
                          : NULL;
  if (failed)
    body = "{\"error\":{\"message\":\"cab proxy: out of memory\"}}";
  else if (*owned)
    body = *owned;
  else
    return body;
  *len = strlen(body);
  return body;
}

/* A response cab makes itself: BODY[0..LEN) with STATUS, as JSON.  FAULT
 * and MESSAGE go to the call's record (no MESSAGE: not an error). */
static enum MHD_Result
answer_body(struct cab_call *k, struct MHD_Connection *c, int status, enum cab_call_fault fault,
            const char *message, const char *body, size_t len)
{
  if (message)
    cab_call_error(k, fault, "%s", message);
  char *clean = NULL;
  body = redacted(k->p, body, &len, &clean);
  k->status = status;
  cab_call_content_type(k, "application/json");
  cab_call_account(k, body ? body : "", body ? len : 0);
  k->ended = true;
  k->answered = true;
  k->seq = atomic_fetch_add(&k->p->next_seq, 1) + 1;
  struct MHD_Response *r = MHD_create_response_from_buffer(body ? len : 0, body ? (void *)body : "",
                                                           MHD_RESPMEM_MUST_COPY);
  free(clean);
  if (r == NULL)
    return MHD_NO;
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
  enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
  MHD_destroy_response(r);
  return ret;
}

/* cab's own error, in OpenAI's error shape so that SDKs show the message
 * (a translated call's client gets its own wire's shape instead). */
static enum MHD_Result
answer_error(struct cab_call *k, struct MHD_Connection *c, int status, enum cab_call_fault fault,
             const char *type, const char *message)
{
  char *text = NULL;
  size_t len = 0;
  if (k->bridge) {
    cab_translate_error(cab_bridge_route(k->bridge), status, message, strlen(message), &text, &len);
  } else {
    cJSON *j = cJSON_CreateObject();
    cJSON *e = cJSON_AddObjectToObject(j, "error");
    cJSON_AddStringToObject(e, "message", message);
    cJSON_AddStringToObject(e, "type", type);
    cJSON_AddNullToObject(e, "param");
    cJSON_AddStringToObject(e, "code", type);
    text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    len = text ? strlen(text) : 0;
  }
  enum MHD_Result ret = answer_body(k, c, status, fault, message, text, len);
  free(text);
  return ret;
}

/* A request the proxy does not forward (allow.h): STATUS with MESSAGE, in
 * the error shape of the client's wire (from the path, or Anthropic's for a
 * client that sent anthropic-version), before any of its body is read. */
static enum MHD_Result
answer_refusal(struct cab_call *k, struct MHD_Connection *c, int status, const char *message)
{
  struct cab_wire_route route;
  const char *query = strchr(k->uri, '?');
  if (!cab_wire_of_request(k->path, query ? query + 1 : NULL, &route)) {
    memset(&route, 0, sizeof route);
    route.wire = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "anthropic-version")
                     ? CAB_WIRE_ANTHROPIC
                     : CAB_WIRE_CHAT;
  }
  char *text = NULL;
  size_t len = 0;
  cab_translate_error(&route, status, message, strlen(message), &text, &len);
  enum MHD_Result ret = answer_body(k, c, status, CAB_FAULT_CLIENT, message, text, len);
  free(text);
  return ret;
}

/* A call refused because the cell's proxy holds too much already (proxy.h:
 * max_calls, max_buffered_bytes): 503, which SDKs retry. */
static enum MHD_Result
answer_busy(struct cab_call *k, struct MHD_Connection *c, const char *why)
{
  pthread_mutex_lock(&k->p->notes_mu);
  k->p->busy_refusals++;
  pthread_mutex_unlock(&k->p->notes_mu);
  return answer_refusal(k, c, 503, why);
}

/* --- request headers passed on --------------------------------------------------------- */

static bool
in_list(const char *name, const char *const *list)
{
  for (; *list; list++)
    if (strcasecmp(name, *list) == 0)
      return true;
  return false;
}

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
  if (key == NULL || in_list(key, drop_request) || *list == (void *)-1)
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

/* Response headers not passed back: hop-by-hop, and what MHD sets. */
static const char *const drop_response[] = {
    "connection", "keep-alive", "transfer-encoding", "content-length", "date", "proxy-connection",
    "proxy-authenticate", "upgrade", "trailer", "te", "alt-svc", NULL};

/* --- the response body ------------------------------------------------------------------ */

static ssize_t
replay_read(struct cab_call *k, char *buf, size_t max)
{
  const struct cab_cassette_entry *e = k->entry;
  while (k->chunk < e->n_chunks && k->chunk_off >= e->chunks[k->chunk].len) {
    k->chunk++;
    k->chunk_off = 0;
  }
  if (k->chunk >= e->n_chunks)
    return 0;
  const struct cab_cassette_chunk *ch = &e->chunks[k->chunk];
  size_t n = ch->len - k->chunk_off;
  if (n > max)
    n = max;
  memcpy(buf, ch->data + k->chunk_off, n);
  k->chunk_off += n;
  return (ssize_t)n;
}

/* Each piece of a stream goes out at once: no Nagle wait for the client's
 * ACK of the previous one (MHD leaves Nagle on between chunks). */
static void
no_delay(struct MHD_Connection *c)
{
  const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
  int one = 1;
  if (ci)
    setsockopt(ci->connect_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* The upstream's chat answer, turned into the client's wire as it comes:
 * client bytes go out as soon as the translator has any. */
static ssize_t
read_bridged(struct cab_call *k, char *buf, size_t max)
{
  for (;;) {
    size_t n = cab_bridge_take(k->bridge, buf, max);
    if (n > 0)
      return (ssize_t)n;
    if (cab_bridge_ended(k->bridge))
      return MHD_CONTENT_READER_END_OF_STREAM;
    char up[BLOCK_SIZE];
    cab_error e = {0};
    ssize_t got = cab_xfer_read(k->xfer, up, sizeof up, &e);
    if (got < 0) {
      if (atomic_load(&k->p->stopping))
        cab_call_error(k, CAB_FAULT_CLIENT, "the run ended after %zu bytes of the response", k->sent);
      cab_call_error(k, CAB_FAULT_UPSTREAM, "%s", e.message);
      return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    if (got == 0) {
      if (cab_bridge_end(k->bridge, &e) < 0)
        cab_call_error(k, CAB_FAULT_UPSTREAM, "cab proxy: translating the answer to %s: %s",
                       cab_bridge_wire_name(k->bridge), e.message);
      continue;
    }
    if (cab_bridge_feed(k->bridge, up, (size_t)got, k->p->cfg.max_response_bytes, &e) < 0) {
      cab_call_error(k, CAB_FAULT_UPSTREAM, "cab proxy: translating the answer to %s: %s",
                     cab_bridge_wire_name(k->bridge), e.message);
      return MHD_CONTENT_READER_END_WITH_ERROR;
    }
  }
}

/* The response's next bytes as the upstream (or the cassette, or the
 * bridge) gives them: >0 bytes, or MHD's end-of-stream or error code. */
static ssize_t
read_raw(struct cab_call *k, char *buf, size_t max)
{
  ssize_t n;
  if (k->bridge && k->entry == NULL)
    return read_bridged(k, buf, max);
  if (k->entry) {
    n = replay_read(k, buf, max);
  } else {
    cab_error e = {0};
    n = cab_xfer_read(k->xfer, buf, max, &e);
    if (n < 0) {
      if (atomic_load(&k->p->stopping))
        cab_call_error(k, CAB_FAULT_CLIENT, "the run ended after %zu bytes of the response", k->sent);
      cab_call_error(k, CAB_FAULT_UPSTREAM, "%s", e.message);
      return MHD_CONTENT_READER_END_WITH_ERROR;
    }
  }
  if (n > 0)
    return n;
  if (k->expect_len >= 0 && (long long)k->sent < k->expect_len) {
    cab_call_error(k, CAB_FAULT_UPSTREAM, "upstream ended the response after %zu of %lld bytes",
              k->sent, k->expect_len);
    return MHD_CONTENT_READER_END_WITH_ERROR;
  }
  return MHD_CONTENT_READER_END_OF_STREAM;
}

/* The raw bytes with the key replaced (redact.h): a piece's last bytes
 * may wait for the next piece, or for the end. */
static ssize_t
read_redacted(struct cab_call *k, char *buf, size_t max)
{
  for (;;) {
    size_t n = cab_redact_queue_take(&k->redq, buf, max);
    if (n > 0)
      return (ssize_t)n;
    if (k->raw_eos)
      return MHD_CONTENT_READER_END_OF_STREAM;
    char raw[BLOCK_SIZE];
    ssize_t got = read_raw(k, raw, sizeof raw);
    int rc;
    if (got == MHD_CONTENT_READER_END_OF_STREAM) {
      k->raw_eos = true;
      rc = cab_redactor_end(k->red, cab_redact_queue_sink, &k->redq);
    } else if (got < 0) {
      return got;
    } else {
      rc = cab_redactor_feed(k->red, raw, (size_t)got, cab_redact_queue_sink, &k->redq);
    }
    if (rc < 0) {
      cab_call_error(k, CAB_FAULT_UPSTREAM, "cab proxy: out of memory redacting the answer");
      return MHD_CONTENT_READER_END_WITH_ERROR;
    }
  }
}

static ssize_t
read_body(void *cls, uint64_t pos, char *buf, size_t max)
{
  struct cab_call *k = cls;
  ssize_t n = k->red ? read_redacted(k, buf, max) : read_raw(k, buf, max);
  if (n > 0)
    cab_call_account(k, buf, (size_t)n);
  else if (n == MHD_CONTENT_READER_END_OF_STREAM)
    k->ended = true;
  return n;
}

/* An upstream header passed back: one that names the key is dropped, one
 * whose value holds it (a reflected Authorization) gets the placeholder. */
static void
add_redacted_header(struct cab_call *k, struct MHD_Response *r, const struct cab_header *h)
{
  const char *key = k->p->key;
  bool failed = false;
  if (key && strcasestr(h->name, key)) {
    k->key_hits++;
    return;
  }
  char *clean = key ? cab_redact_string(h->value, key, CAB_PROXY_PLACEHOLDER_KEY, &failed) : NULL;
  if (clean || failed)
    k->key_hits++;
  if (!failed)
    MHD_add_response_header(r, h->name, clean ? clean : h->value);
  free(clean);
}

static enum MHD_Result
queue_stream(struct cab_call *k, struct MHD_Connection *c, const struct cab_xfer_head *head)
{
  uint64_t size = MHD_SIZE_UNKNOWN;
  /* Redacting changes the length: the body goes chunked then (a cut
   * upstream body is still caught, by curl). */
  if (head && head->content_length >= 0 && strcmp(k->method, "HEAD") != 0 && k->red == NULL) {
    size = (uint64_t)head->content_length;
    k->expect_len = head->content_length;
  }
  struct MHD_Response *r = MHD_create_response_from_callback(size, BLOCK_SIZE, read_body, k, NULL);
  if (r == NULL)
    return MHD_NO;
  if (head) {
    for (size_t i = 0; i < head->n_headers; i++)
      if (!in_list(head->headers[i].name, drop_response))
        add_redacted_header(k, r, &head->headers[i]);
  } else if (k->content_type && k->content_type[0]) {
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, k->content_type);
  }
  k->answered = true;
  k->seq = atomic_fetch_add(&k->p->next_seq, 1) + 1;
  if (size == MHD_SIZE_UNKNOWN)
    no_delay(c);
  enum MHD_Result ret = MHD_queue_response(c, (unsigned)k->status, r);
  MHD_destroy_response(r);
  return ret;
}

static enum MHD_Result
respond_replay(struct cab_call *k, struct MHD_Connection *c)
{
  cab_error e = {0};
  k->entry = cab_cassette_match(k->p->replay, k->method, k->uri, k->body, k->len, &e);
  if (k->entry && e.message[0])
    snprintf(k->replay_note, sizeof k->replay_note, "%s", e.message);
  if (k->entry == NULL) {
    char msg[sizeof k->error];
    snprintf(msg, sizeof msg, "cab replay: %s", e.message);
    cab_proxy_note(k->p, &k->p->replay_misses, k->p->first_miss, e.message);
    return answer_error(k, c, 400, CAB_FAULT_CLIENT, "cab_replay_mismatch", msg);
  }
  k->status = k->entry->status;
  cab_call_content_type(k, k->entry->content_type);
  return queue_stream(k, c, NULL);
}

static enum MHD_Result
respond(struct cab_call *k, struct MHD_Connection *c)
{
  struct cab_proxy *p = k->p;
  k->t0 = cab_now_ns();
  if (k->over_budget) {
    char msg[300];
    snprintf(msg, sizeof msg,
             "cab proxy: the request bodies held for this cell reached %zu bytes; retry when "
             "other calls are done",
             p->cfg.max_buffered_bytes);
    return answer_busy(k, c, msg);
  }
  if (k->too_large) {
    char msg[200];
    snprintf(msg, sizeof msg, "cab proxy: the request body is larger than %zu bytes",
             p->cfg.max_request_bytes);
    return answer_error(k, c, 413, CAB_FAULT_CLIENT, "request_too_large", msg);
  }
  cab_request_sha256(k->method, k->uri, k->body, k->len, k->sha);
  bool anthropic =
      MHD_lookup_connection_value(c, MHD_HEADER_KIND, "anthropic-version") != NULL;
  char *rewritten = NULL;
  size_t rlen = 0;
  cab_request_inspect(k->path, anthropic, k->body, k->len, &k->info, &rewritten, &rlen);
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
        answer_body(k, c, refuse_status, CAB_FAULT_CLIENT, be.message, refusal, refusal_len);
    free(refusal);
    return ret;
  }
  case CAB_BRIDGE_TRANSLATE: {
    const struct cab_translate_ctx *tx = cab_bridge_ctx(k->bridge);
    k->wire = cab_bridge_wire_name(k->bridge);
    k->usage_injected = false;
    k->info.stream = tx->stream;
    k->info.anthropic = false; /* a chat endpoint takes a Bearer key */
    if (k->info.model[0] == '\0')
      snprintf(k->info.model, sizeof k->info.model, "%s", tx->model);
    size_t local_len = 0;
    char *local = cab_bridge_local_answer(k->bridge, rlen, &local_len);
    if (local) { /* a token count: cab's estimate, no upstream call */
      k->local = true;
      free(rewritten);
      enum MHD_Result ret = answer_body(k, c, 200, CAB_FAULT_NONE, NULL, local, local_len);
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
      char msg[300];
      snprintf(msg, sizeof msg,
               "cab proxy: the request bodies held for this cell would exceed %zu bytes; retry "
               "when other calls are done",
               p->cfg.max_buffered_bytes);
      return answer_busy(k, c, msg);
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
      .uri = k->bridge ? "/v1/chat/completions" : k->uri,
      .body = rewritten ? rewritten : k->body,
      .body_len = rewritten ? rlen : k->len,
      .headers = headers,
      .anthropic = k->info.anthropic,
  };
  if (p->key && (k->red = cab_redactor_new(p->key, CAB_PROXY_PLACEHOLDER_KEY)) == NULL) {
    curl_slist_free_all(headers);
    free(rewritten);
    return answer_error(k, c, 503, CAB_FAULT_NONE, "cab_out_of_memory",
                        "cab proxy: out of memory");
  }
  cab_error e = {0};
  int rc = cab_xfer_start(p->up, &rq, &k->xfer, &e);
  curl_slist_free_all(headers);
  free(rewritten);
  k->attempts = cab_xfer_attempts(k->xfer);
  if (rc < 0 && atomic_load(&p->stopping))
    return answer_error(k, c, 502, CAB_FAULT_CLIENT, "cab_stopping",
                        "the run ended while the call waited for the upstream");
  if (rc < 0) {
    bool timeout = cab_xfer_timed_out(k->xfer);
    return answer_error(k, c, timeout ? 504 : 502, CAB_FAULT_UPSTREAM,
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
    return queue_stream(k, c, NULL);
  }
  cab_call_content_type(k, ct);
  return queue_stream(k, c, head);
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
      return answer_error(k, c, 400, CAB_FAULT_CLIENT, "invalid_request",
                          "cab proxy: the request target must be a path such as "
                          "/v1/chat/completions");
    /* Ambiguous framing is refused, never guessed at (request smuggling);
     * the body goes upstream re-framed by curl in any case. */
    struct framing f = {0};
    MHD_get_connection_values(c, MHD_HEADER_KIND, check_framing, &f);
    if (f.conflict || (f.chunked && f.n_length > 0))
      return answer_error(k, c, 400, CAB_FAULT_CLIENT, "invalid_request",
                          "cab proxy: conflicting Content-Length and Transfer-Encoding headers");
    /* Only model API calls go on, and only targets every parser reads
     * alike (allow.h); the replay answers from its cassette, so there only
     * the target is checked. */
    char why[512];
    int refuse = cab_allow_target(k->path, why, sizeof why);
    if (refuse == 0 && k->p->up)
      refuse = cab_allow_call(k->p->cfg.endpoint_wire, k->method, k->path, why, sizeof why);
    if (refuse)
      return answer_refusal(k, c, refuse, why);
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
      return answer_busy(k, c, msg);
    }
    if (cl) {
      size_t want = (size_t)strtoull(cl, NULL, 10) + 1;
      if (!cab_proxy_reserve(p, want)) {
        snprintf(msg, sizeof msg, "cab proxy: the request bodies held for this cell would exceed "
                                  "%zu bytes; retry when other calls are done",
                 p->cfg.max_buffered_bytes);
        return answer_busy(k, c, msg);
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
