/* Shared by the proxy's unit tests: an in-process upstream (`cab
 * model-server` on a script, or a small echo server), the proxy on
 * 127.0.0.1, and a plain-socket HTTP/1.1 client.  Real sockets, nothing
 * but 127.0.0.1. */
#ifndef CAB_TEST_PROXY_HARNESS_H
#define CAB_TEST_PROXY_HARNESS_H

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "runner/model_server/script.h"
#include "runner/model_server/server.h"
#include "runner/proxy/proxy.h"

#define H_FAIL(...)                                                                                \
  do {                                                                                             \
    fprintf(stderr, __VA_ARGS__);                                                                  \
    fputc('\n', stderr);                                                                           \
    abort();                                                                                       \
  } while (0)

/* --- sockets ----------------------------------------------------------------------- */

static inline int
h_listen(unsigned *port)
{
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof sa;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 512) < 0 ||
      getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
    H_FAIL("listen on 127.0.0.1: %s", strerror(errno));
  *port = ntohs(sa.sin_port);
  return fd;
}

static inline int
h_connect(unsigned port)
{
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
    H_FAIL("connect to 127.0.0.1:%u: %s", port, strerror(errno));
  return fd;
}

/* A port nothing listens on (bound, then closed). */
static inline unsigned
h_dead_port(void)
{
  unsigned port;
  close(h_listen(&port));
  return port;
}

static inline int
h_write_all(int fd, const void *data, size_t len)
{
  const char *p = data;
  while (len > 0) {
    ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return -1;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

/* --- an HTTP/1.1 client ------------------------------------------------------------- */

struct h_resp {
  int status;            /* -1: no response (closed or timed out) */
  char head[8192];       /* lower-cased */
  char *body;
  size_t len;
  bool chunked;
  int64_t ttfb_ms, total_ms;
  int64_t first_chunk_ms; /* first body bytes */
};

struct h_reader {
  int fd;
  char buf[65536];
  size_t have, off;
  int64_t deadline;
};

static inline int
h_fill(struct h_reader *r)
{
  if (r->off > 0) {
    memmove(r->buf, r->buf + r->off, r->have - r->off);
    r->have -= r->off;
    r->off = 0;
  }
  if (r->have == sizeof r->buf)
    return -1;
  int64_t left = (r->deadline - cab_now_ns()) / 1000000;
  struct pollfd p = {.fd = r->fd, .events = POLLIN};
  if (left <= 0 || poll(&p, 1, (int)left) <= 0)
    return -1;
  ssize_t n = recv(r->fd, r->buf + r->have, sizeof r->buf - r->have, 0);
  if (n <= 0)
    return -1;
  r->have += (size_t)n;
  return 0;
}

static inline void
h_body_add(struct h_resp *resp, const char *p, size_t n, int64_t t0)
{
  if (n == 0)
    return;
  if (resp->first_chunk_ms < 0)
    resp->first_chunk_ms = (cab_now_ns() - t0) / 1000000;
  resp->body = realloc(resp->body, resp->len + n + 1);
  memcpy(resp->body + resp->len, p, n);
  resp->len += n;
  resp->body[resp->len] = '\0';
}

/* Read one response from R (keep-alive safe). 0, or -1 with STATUS -1. */
static inline int
h_read_response(struct h_reader *r, struct h_resp *resp, int64_t t0, bool head_request)
{
  memset(resp, 0, sizeof *resp);
  resp->status = -1;
  resp->ttfb_ms = resp->first_chunk_ms = -1;
  char *end;
  for (;;) {
    r->buf[r->have < sizeof r->buf ? r->have : sizeof r->buf - 1] = '\0';
    end = r->have > r->off ? memmem(r->buf + r->off, r->have - r->off, "\r\n\r\n", 4) : NULL;
    if (end)
      break;
    if (h_fill(r) < 0)
      return -1;
    if (resp->ttfb_ms < 0)
      resp->ttfb_ms = (cab_now_ns() - t0) / 1000000;
  }
  size_t hlen = (size_t)(end - (r->buf + r->off));
  snprintf(resp->head, sizeof resp->head, "%.*s", (int)hlen, r->buf + r->off);
  for (char *c = resp->head; *c; c++)
    if (*c >= 'A' && *c <= 'Z')
      *c = (char)(*c + 32);
  sscanf(resp->head, "http/%*s %d", &resp->status);
  r->off += hlen + 4;
  resp->body = calloc(1, 1);
  if (head_request || resp->status == 204 || resp->status == 304)
    goto done;
  char *cl = strstr(resp->head, "\r\ncontent-length:");
  resp->chunked = strstr(resp->head, "\r\ntransfer-encoding: chunked") != NULL;
  if (resp->chunked) {
    for (;;) {
      char *crlf;
      while ((crlf = memmem(r->buf + r->off, r->have - r->off, "\r\n", 2)) == NULL)
        if (h_fill(r) < 0)
          return -1;
      size_t size = strtoul(r->buf + r->off, NULL, 16);
      r->off = (size_t)(crlf - r->buf) + 2;
      if (size == 0) {
        while (r->have - r->off < 2)
          if (h_fill(r) < 0)
            return -1;
        r->off += 2;
        break;
      }
      while (r->have - r->off < size + 2) {
        size_t avail = r->have - r->off;
        if (avail > size)
          avail = size;
        h_body_add(resp, r->buf + r->off, avail, t0);
        r->off += avail;
        size -= avail;
        if (h_fill(r) < 0)
          return -1;
      }
      h_body_add(resp, r->buf + r->off, size, t0);
      r->off += size + 2;
    }
  } else if (cl) {
    size_t want = strtoul(cl + 17, NULL, 10);
    while (want > 0) {
      if (r->have == r->off && h_fill(r) < 0)
        return -1;
      size_t n = r->have - r->off < want ? r->have - r->off : want;
      h_body_add(resp, r->buf + r->off, n, t0);
      r->off += n;
      want -= n;
    }
  } else {
    for (;;) {
      h_body_add(resp, r->buf + r->off, r->have - r->off, t0);
      r->off = r->have;
      if (h_fill(r) < 0)
        break;
    }
  }
done:
  resp->total_ms = (cab_now_ns() - t0) / 1000000;
  return 0;
}

static inline void
h_resp_free(struct h_resp *r)
{
  free(r->body);
  r->body = NULL;
}

/* One request on a fresh connection (Connection: close). */
static inline int
h_call(unsigned port, const char *method, const char *path, const char *extra_headers,
       const char *body, int timeout_ms, struct h_resp *resp)
{
  struct h_reader *r = calloc(1, sizeof *r);
  r->fd = h_connect(port);
  r->deadline = cab_now_ns() + (int64_t)timeout_ms * 1000000;
  char *req;
  size_t blen = body ? strlen(body) : 0;
  int n = asprintf(&req, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s%s"
                   "Content-Length: %zu\r\n\r\n",
                   method, path, extra_headers ? extra_headers : "",
                   body ? "Content-Type: application/json\r\n" : "", blen);
  int64_t t0 = cab_now_ns();
  int rc = -1;
  if (n > 0 && h_write_all(r->fd, req, (size_t)n) == 0 && (blen == 0 || h_write_all(r->fd, body, blen) == 0))
    rc = h_read_response(r, resp, t0, strcmp(method, "HEAD") == 0);
  else
    memset(resp, 0, sizeof *resp), resp->status = -1;
  free(req);
  close(r->fd);
  free(r);
  return rc;
}

/* --- upstreams ----------------------------------------------------------------------- */

struct h_upstream {
  struct cab_script *script;
  struct cab_model_server *server;
  unsigned port;
  char url[64];
};

static inline void
h_upstream_start(struct h_upstream *u, const char *script_json)
{
  cab_error err = {0};
  memset(u, 0, sizeof *u);
  if (cab_script_parse(script_json, strlen(script_json), "test script", &u->script, &err) < 0)
    H_FAIL("script: %s", err.message);
  struct cab_model_server_config c = {.script = u->script, .listen_fd = -1, .listen = "127.0.0.1:0"};
  if (cab_model_server_start(&c, &u->server, &err) < 0)
    H_FAIL("model server: %s", err.message);
  u->port = (unsigned)cab_model_server_port(u->server);
  snprintf(u->url, sizeof u->url, "http://127.0.0.1:%u/v1", u->port);
}

static inline void
h_upstream_stop(struct h_upstream *u)
{
  cab_model_server_stop(u->server);
  cab_script_free(u->script);
}

/* An upstream that answers every request with what it received:
 * {"method","url","headers":{...},"body":"..."} (a hostile one: it hands
 * back the key cab adds).  LAST keeps the last answer as sent, and PATHS
 * every request line it got, so that a test sees what reached upstream. */
struct h_echo {
  struct MHD_Daemon *d;
  unsigned port;
  char url[64];
  pthread_mutex_t mu;
  char *last;
  char paths[8192];
};

struct h_echo_req {
  char *body;
  size_t len;
};

static inline enum MHD_Result
h_echo_header(void *cls, enum MHD_ValueKind kind, const char *k, const char *v)
{
  cJSON_AddStringToObject(cls, k, v ? v : "");
  return MHD_YES;
}

static inline enum MHD_Result
h_echo_handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
              const char *version, const char *data, size_t *size, void **ctx)
{
  struct h_echo_req *q = *ctx;
  if (q == NULL) {
    *ctx = calloc(1, sizeof *q);
    return MHD_YES;
  }
  if (*size) {
    q->body = realloc(q->body, q->len + *size + 1);
    memcpy(q->body + q->len, data, *size);
    q->len += *size;
    q->body[q->len] = '\0';
    *size = 0;
    return MHD_YES;
  }
  cJSON *j = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "method", method);
  cJSON_AddStringToObject(j, "url", url);
  MHD_get_connection_values(c, MHD_HEADER_KIND, h_echo_header,
                            cJSON_AddObjectToObject(j, "headers"));
  cJSON_AddStringToObject(j, "body", q->body ? q->body : "");
  char *text = cJSON_PrintUnformatted(j);
  cJSON_Delete(j);
  struct h_echo *e = cls;
  pthread_mutex_lock(&e->mu);
  free(e->last);
  e->last = strdup(text);
  size_t used = strlen(e->paths);
  snprintf(e->paths + used, sizeof e->paths - used, "%s %s\n", method, url);
  pthread_mutex_unlock(&e->mu);
  struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
  MHD_add_response_header(r, "Content-Type", "application/json");
  MHD_add_response_header(r, "X-Upstream", "echo");
  enum MHD_Result ret = MHD_queue_response(c, 200, r);
  MHD_destroy_response(r);
  return ret;
}

static inline void
h_echo_done(void *cls, struct MHD_Connection *c, void **ctx, enum MHD_RequestTerminationCode t)
{
  struct h_echo_req *q = *ctx;
  if (q) {
    free(q->body);
    free(q);
  }
  *ctx = NULL;
}

static inline void
h_echo_start(struct h_echo *e)
{
  memset(e, 0, sizeof *e);
  pthread_mutex_init(&e->mu, NULL);
  int fd = h_listen(&e->port);
  e->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL,
                          NULL, h_echo_handle, e, MHD_OPTION_LISTEN_SOCKET, fd,
                          MHD_OPTION_NOTIFY_COMPLETED, h_echo_done, NULL, MHD_OPTION_END);
  if (e->d == NULL)
    H_FAIL("echo server");
  snprintf(e->url, sizeof e->url, "http://127.0.0.1:%u", e->port);
}

static inline void
h_echo_stop(struct h_echo *e)
{
  MHD_stop_daemon(e->d);
  free(e->last);
  e->last = NULL;
  pthread_mutex_destroy(&e->mu);
}

/* --- the proxy ------------------------------------------------------------------------- */

struct h_proxy {
  struct cab_proxy *p;
  unsigned port;
  char calls[128];
};

/* CFG's unset fields keep the proxy's defaults; records go to a temp file. */
static inline void
h_proxy_start(struct h_proxy *hp, struct cab_proxy_config cfg)
{
  memset(hp, 0, sizeof *hp);
  snprintf(hp->calls, sizeof hp->calls, "/tmp/cab-test-proxy-calls.XXXXXX");
  int tfd = mkstemp(hp->calls);
  if (tfd < 0)
    H_FAIL("mkstemp");
  close(tfd);
  if (cfg.calls_path == NULL)
    cfg.calls_path = hp->calls;
  cab_error err = {0};
  if (cab_proxy_new(&cfg, &hp->p, &err) < 0)
    H_FAIL("cab_proxy_new: %s", err.message);
  int fd = h_listen(&hp->port);
  if (cab_proxy_start(hp->p, fd, &err) < 0)
    H_FAIL("cab_proxy_start: %s", err.message);
}

static inline void
h_proxy_stop(struct h_proxy *hp)
{
  cab_proxy_free(hp->p);
  hp->p = NULL;
  unlink(hp->calls);
}

/* The records so far, as a JSON array (cJSON_Delete it). */
static inline cJSON *
h_records(const char *path)
{
  cJSON *arr = cJSON_CreateArray();
  FILE *f = fopen(path, "re");
  char *line = NULL;
  size_t cap = 0;
  while (f && getline(&line, &cap, f) > 0) {
    cJSON *j = cJSON_Parse(line);
    if (j == NULL)
      H_FAIL("not a JSON line in %s: %s", path, line);
    cJSON_AddItemToArray(arr, j);
  }
  free(line);
  if (f)
    fclose(f);
  return arr;
}

static inline double h_num(const cJSON *j, const char *key);

/* The record with "seq" N in ALL, or NULL. */
static inline cJSON *
h_find(cJSON *all, int n)
{
  cJSON *r;
  cJSON_ArrayForEach(r, all)
  {
    if ((int)h_num(r, "seq") == n)
      return r;
  }
  return NULL;
}

/* The record of the Nth call (its "seq"; calls made one after the other),
 * once N records are there: a call is recorded when MHD is done with it,
 * which may be just after the client has read its response. */
static inline cJSON *
h_record(const char *path, int n, cJSON **all)
{
  int64_t until = cab_now_ns() + 3000000000LL;
  for (;;) {
    *all = h_records(path);
    if (cJSON_GetArraySize(*all) >= n || cab_now_ns() > until)
      break;
    cJSON_Delete(*all);
    usleep(2000);
  }
  return h_find(*all, n);
}

static inline double
h_num(const cJSON *j, const char *key)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
  return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static inline const char *
h_str(const cJSON *j, const char *key)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

#endif
