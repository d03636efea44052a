/* One model call: the client's request as MHD hands it over, the response
 * streamed back from upstream (or from the cassette) as it arrives, and the
 * record written when MHD is done with the request.
 *
 * MHD runs a thread per connection, so the callbacks below may block: the
 * access handler waits for the upstream's response head, and the content
 * reader waits for the next body bytes.  Nothing is buffered beyond what
 * curl has handed over and the client has not yet taken. */
#include <cjson/cJSON.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/fsutil.h"
#include "runner/proxy/proxy_internal.h"
#include "runner/proxy/request.h"

#define BLOCK_SIZE 16384
#define USAGE_JSON_MAX ((size_t)16 << 20) /* larger JSON bodies: no usage */

struct call {
  struct cab_proxy *p;
  char *uri;                 /* the raw request target */
  char *path;                /* without the query */
  bool seen;                 /* the access handler has had the headers */
  bool answered;             /* a response was queued: record at completion */
  int64_t seq;
  char method[16];
  struct timespec started;
  int64_t t0;                /* the request was complete */

  char *body;
  size_t len, cap;
  bool too_large;

  struct cab_request_info info;
  bool usage_injected;
  char sha[72];

  struct cab_xfer *xfer;                   /* live */
  const struct cab_cassette_entry *entry;  /* replay */
  size_t chunk, chunk_off;

  int status, attempts;
  char *content_type;
  int64_t ttfb_ns;
  size_t sent;
  long long expect_len;      /* the announced length, or -1 */
  bool ended;                /* the whole response went out */
  enum cab_call_fault fault;
  char error[700];

  bool sse;
  struct cab_sse_usage *scan;
  char *json;
  size_t json_len, json_cap;
  bool json_skip;

  struct cab_cassette_chunk *chunks;
  size_t n_chunks, cap_chunks;
};

static void
call_free(struct call *k)
{
  if (k == NULL)
    return;
  cab_xfer_free(k->xfer);
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
  free(k->uri);
  free(k->path);
  free(k);
}

void *
cab_proxy_on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
  struct call *k = calloc(1, sizeof *k);
  if (k == NULL)
    return NULL;
  k->p = cls;
  k->uri = strdup(uri ? uri : "");
  k->path = k->uri ? strndup(k->uri, strcspn(k->uri, "?")) : NULL;
  k->ttfb_ns = -1;
  k->expect_len = -1;
  if (k->uri == NULL || k->path == NULL) {
    call_free(k);
    return NULL;
  }
  return k;
}

/* --- what passes, and what it counts ------------------------------------------------ */

static void
account(struct call *k, const char *data, size_t n)
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

static void
set_content_type(struct call *k, const char *ct)
{
  free(k->content_type);
  k->content_type = strdup(ct ? ct : "");
  k->sse = ct && strncasecmp(ct, "text/event-stream", 17) == 0;
  if (k->sse && k->scan == NULL)
    k->scan = cab_sse_usage_new();
  if (k->sse && k->scan == NULL)
    k->sse = false;
}

static void
set_error(struct call *k, enum cab_call_fault fault, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
set_error(struct call *k, enum cab_call_fault fault, const char *fmt, ...)
{
  if (k->error[0])
    return; /* the first error is the cause */
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(k->error, sizeof k->error, fmt, ap);
  va_end(ap);
  k->fault = fault;
}

/* A response cab makes itself, in OpenAI's error shape so that SDKs show
 * the message. */
static enum MHD_Result
answer_error(struct call *k, struct MHD_Connection *c, int status, enum cab_call_fault fault,
             const char *type, const char *message)
{
  set_error(k, fault, "%s", message);
  cJSON *j = cJSON_CreateObject();
  cJSON *e = cJSON_AddObjectToObject(j, "error");
  cJSON_AddStringToObject(e, "message", message);
  cJSON_AddStringToObject(e, "type", type);
  cJSON_AddNullToObject(e, "param");
  cJSON_AddStringToObject(e, "code", type);
  char *text = cJSON_PrintUnformatted(j);
  cJSON_Delete(j);
  size_t len = text ? strlen(text) : 0;
  k->status = status;
  set_content_type(k, "application/json");
  account(k, text ? text : "", len);
  k->ended = true;
  k->answered = true;
  k->seq = atomic_fetch_add(&k->p->next_seq, 1) + 1;
  struct MHD_Response *r =
      MHD_create_response_from_buffer(len, text ? text : (char *)"", MHD_RESPMEM_MUST_COPY);
  free(text);
  if (r == NULL)
    return MHD_NO;
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
  enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
  MHD_destroy_response(r);
  return ret;
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
 * client's placeholder never goes upstream, the real key is added there. */
static const char *const drop_request[] = {
    "host", "content-length", "connection", "keep-alive", "proxy-connection",
    "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade", "expect",
    "authorization", "x-api-key", "api-key", "accept-encoding", NULL};

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
replay_read(struct call *k, char *buf, size_t max)
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

static ssize_t
read_body(void *cls, uint64_t pos, char *buf, size_t max)
{
  struct call *k = cls;
  ssize_t n;
  if (k->entry) {
    n = replay_read(k, buf, max);
  } else {
    cab_error e = {0};
    n = cab_xfer_read(k->xfer, buf, max, &e);
    if (n < 0) {
      set_error(k, CAB_FAULT_UPSTREAM, "%s", e.message);
      return MHD_CONTENT_READER_END_WITH_ERROR;
    }
  }
  if (n > 0) {
    account(k, buf, (size_t)n);
    return n;
  }
  if (k->expect_len >= 0 && (long long)k->sent < k->expect_len) {
    set_error(k, CAB_FAULT_UPSTREAM, "upstream ended the response after %zu of %lld bytes",
              k->sent, k->expect_len);
    return MHD_CONTENT_READER_END_WITH_ERROR;
  }
  k->ended = true;
  return MHD_CONTENT_READER_END_OF_STREAM;
}

static enum MHD_Result
queue_stream(struct call *k, struct MHD_Connection *c, const struct cab_xfer_head *head)
{
  uint64_t size = MHD_SIZE_UNKNOWN;
  if (head && head->content_length >= 0 && strcmp(k->method, "HEAD") != 0) {
    size = (uint64_t)head->content_length;
    k->expect_len = head->content_length;
  }
  struct MHD_Response *r = MHD_create_response_from_callback(size, BLOCK_SIZE, read_body, k, NULL);
  if (r == NULL)
    return MHD_NO;
  if (head) {
    for (size_t i = 0; i < head->n_headers; i++)
      if (!in_list(head->headers[i].name, drop_response))
        MHD_add_response_header(r, head->headers[i].name, head->headers[i].value);
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

static void
note_miss(struct cab_proxy *p, const char *message)
{
  pthread_mutex_lock(&p->miss_mu);
  if (p->replay_misses++ == 0)
    snprintf(p->first_miss, sizeof p->first_miss, "%s", message);
  pthread_mutex_unlock(&p->miss_mu);
}

static enum MHD_Result
respond_replay(struct call *k, struct MHD_Connection *c)
{
  cab_error e = {0};
  k->entry = cab_cassette_match(k->p->replay, k->method, k->uri, k->body, k->len, &e);
  if (k->entry == NULL) {
    char msg[sizeof k->error];
    snprintf(msg, sizeof msg, "cab replay: %s", e.message);
    note_miss(k->p, e.message);
    return answer_error(k, c, 400, CAB_FAULT_CLIENT, "cab_replay_mismatch", msg);
  }
  k->status = k->entry->status;
  set_content_type(k, k->entry->content_type);
  return queue_stream(k, c, NULL);
}

static enum MHD_Result
respond(struct call *k, struct MHD_Connection *c)
{
  struct cab_proxy *p = k->p;
  k->t0 = cab_now_ns();
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

  struct curl_slist *headers = NULL;
  MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header, &headers);
  struct cab_xfer_request rq = {
      .method = k->method,
      .uri = k->uri,
      .body = rewritten ? rewritten : k->body,
      .body_len = rewritten ? rlen : k->len,
      .headers = headers,
      .anthropic = k->info.anthropic,
  };
  cab_error e = {0};
  int rc = cab_xfer_start(p->up, &rq, &k->xfer, &e);
  curl_slist_free_all(headers);
  free(rewritten);
  k->attempts = cab_xfer_attempts(k->xfer);
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
  set_content_type(k, ct);
  if (head->status == 429 || head->status >= 500)
    set_error(k, CAB_FAULT_NONE, "upstream answered %d%s", head->status,
              k->attempts > 1 ? " on every attempt" : "");
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
  struct call *k = *req_cls;
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
    const char *cl = f.length;
    if (cl && strtoull(cl, NULL, 10) > k->p->cfg.max_request_bytes) {
      k->too_large = true;
      return respond(k, c);
    }
    return MHD_YES;
  }
  if (*upload_data_size > 0) {
    size_t n = *upload_data_size;
    *upload_data_size = 0;
    if (k->answered || k->too_large)
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

/* --- the record --------------------------------------------------------------------------- */

static const char *
termination(enum MHD_RequestTerminationCode toe)
{
  switch (toe) {
  case MHD_REQUEST_TERMINATED_COMPLETED_OK: return "completed";
  case MHD_REQUEST_TERMINATED_WITH_ERROR: return "the connection failed";
  case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED: return "the client connection timed out";
  case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN: return "cab stopped the proxy";
  case MHD_REQUEST_TERMINATED_READ_ERROR: return "the client connection broke";
  case MHD_REQUEST_TERMINATED_CLIENT_ABORT: return "the client closed the connection";
  default: return "the connection ended";
  }
}

static void
finish(struct call *k, enum MHD_RequestTerminationCode toe)
{
  struct cab_proxy *p = k->p;
  int64_t latency_ns = cab_now_ns() - k->t0;
  if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK &&
      (strcmp(k->method, "HEAD") == 0 || (k->expect_len >= 0 && (long long)k->sent == k->expect_len)))
    k->ended = true;
  if (!k->ended)
    set_error(k, CAB_FAULT_CLIENT, "%s after %zu bytes of the response", termination(toe),
              k->sent);

  struct cab_usage u;
  memset(&u, 0, sizeof u);
  if (k->sse) {
    cab_sse_usage_finish(k->scan, &u);
    k->scan = NULL;
  } else if (!k->json_skip && k->json_len > 0) {
    cab_usage_from_json(k->json, k->json_len, &u);
  }

  struct cab_call_record r = {
      .seq = k->seq,
      .started = k->started,
      .method = k->method,
      .path = k->path,
      .model = k->info.model,
      .stream = k->info.stream,
      .usage_injected = k->usage_injected,
      .replayed = p->replay != NULL,
      .status = k->status,
      .usage = u,
      .ttfb_ms = k->ttfb_ns >= 0 ? k->ttfb_ns / 1000000 : -1,
      .latency_ms = latency_ns / 1000000,
      .attempts = k->attempts,
      .error = k->error[0] ? k->error : NULL,
      .fault = k->fault,
  };
  if (k->sha[0] == '\0')
    cab_request_sha256(k->method, k->uri, k->body, k->len, k->sha);
  memcpy(r.request_sha256, k->sha, sizeof r.request_sha256);
  cab_calllog_add(p->log, &r);

  if (p->rec) {
    struct cab_cassette_entry e = {
        .seq = k->seq, /* the order calls were answered in */
        .method = k->method,
        .path = k->uri,
        .body = k->body ? k->body : (char *)"",
        .body_len = k->len,
        .status = k->status,
        .content_type = k->content_type ? k->content_type : (char *)"",
        .chunks = k->chunks,
        .n_chunks = k->n_chunks,
    };
    memcpy(e.request_sha256, k->sha, sizeof e.request_sha256);
    cab_error err = {0};
    cab_cassette_append(p->rec, &e, &err); /* counted by the writer */
  }
}

void
cab_proxy_on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
                       enum MHD_RequestTerminationCode toe)
{
  struct call *k = *req_cls;
  *req_cls = NULL;
  if (k == NULL)
    return;
  if (k->answered)
    finish(k, toe);
  if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
    MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT,
                              (unsigned)k->p->cfg.idle_timeout_s);
  call_free(k);
}
