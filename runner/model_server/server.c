/* The built-in model endpoint on libmicrohttpd (see server.h). */
#include "runner/model_server/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/lazy_mhd.h"

#define BODY_MAX (32u << 20)

struct cab_model_server {
  struct MHD_Daemon *d;
  struct cab_model_server_config cfg;
  pthread_mutex_t mu;
  size_t next_turn; /* script: the next turn to answer */
  int64_t seq;      /* chat-family answers so far (ids) */
  atomic_uint_fast64_t answered;
  int stop_pipe[2]; /* readable once stopping */
  int port;
  char url[128];
};

/* Per request: the body as it arrives. */
struct request {
  char *body;
  size_t len, cap;
  bool too_big;
};

/* Per response: the pieces still to send. */
struct sender {
  struct cab_model_server *srv;
  struct cab_model_reply reply;
  size_t chunk, off;
  int64_t t0_ns;
  double speed;
  int fd;
};

static void
say(struct cab_model_server *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
say(struct cab_model_server *s, const char *fmt, ...)
{
  if (s->cfg.log == NULL)
    return;
  char line[2400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  fprintf(s->cfg.log, "model-server: %s\n", line);
  fflush(s->cfg.log);
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
  struct cab_model_server *s = cls;
  if (s->cfg.log == NULL)
    return;
  char line[1024];
  vsnprintf(line, sizeof line, fmt, ap);
  size_t n = strlen(line);
  while (n > 0 && line[n - 1] == '\n')
    line[--n] = '\0';
  say(s, "http: %s", line);
}

/* Sleep until DUE (monotonic ns).  False when the server stops or the
 * client goes away first. */
static bool
wait_until(struct cab_model_server *s, int fd, int64_t due_ns)
{
  for (;;) {
    int64_t now = cab_now_ns();
    struct pollfd p[2] = {{.fd = s->stop_pipe[0], .events = POLLIN},
                          {.fd = fd, .events = POLLRDHUP}};
    int ms;
    if (due_ns == INT64_MAX)
      ms = 1000;
    else if (now >= due_ns)
      ms = 0;
    else
      ms = (int)((due_ns - now + 999999) / 1000000);
    int r = poll(p, fd >= 0 ? 2 : 1, ms);
    if (r < 0 && errno != EINTR)
      return false;
    if (r > 0 && (p[0].revents || (fd >= 0 && p[1].revents)))
      return false;
    if (due_ns != INT64_MAX && cab_now_ns() >= due_ns)
      return true;
  }
}

static int64_t
due(const struct sender *x, size_t i)
{
  int64_t t = x->reply.chunks[i].t_ms;
  if (x->speed <= 0)
    return x->t0_ns;
  return x->t0_ns + (int64_t)((double)t * 1e6 / x->speed);
}

static ssize_t
send_piece(void *cls, uint64_t pos, char *buf, size_t max)
{
  struct sender *x = cls;
  while (x->chunk < x->reply.n_chunks && x->reply.chunks[x->chunk].len == 0)
    x->chunk++;
  if (x->chunk >= x->reply.n_chunks)
    return MHD_CONTENT_READER_END_OF_STREAM;
  if (x->off == 0 && !wait_until(x->srv, x->fd, due(x, x->chunk)))
    return MHD_CONTENT_READER_END_WITH_ERROR;
  const struct cab_cassette_chunk *c = &x->reply.chunks[x->chunk];
  size_t n = c->len - x->off;
  if (n > max)
    n = max;
  memcpy(buf, c->data + x->off, n);
  x->off += n;
  if (x->off == c->len) {
    x->chunk++;
    x->off = 0;
  }
  return (ssize_t)n;
}

static void
free_sender(void *cls)
{
  struct sender *x = cls;
  cab_model_reply_free(&x->reply);
  free(x);
}

static int
conn_fd(struct MHD_Connection *conn)
{
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
  return ci ? ci->connect_fd : -1;
}

/* Send REPLY (taken): wait for its first piece, then the headers and the
 * rest on MHD's schedule. */
static enum MHD_Result
respond(struct cab_model_server *s, struct MHD_Connection *conn, struct cab_model_reply *reply,
        int64_t t0_ns, double speed)
{
  struct sender *x = calloc(1, sizeof *x);
  if (x == NULL) {
    cab_model_reply_free(reply);
    return MHD_NO;
  }
  *x = (struct sender){.srv = s, .reply = *reply, .t0_ns = t0_ns, .speed = speed,
                       .fd = conn_fd(conn)};
  memset(reply, 0, sizeof *reply);
  if (x->reply.hang) {
    say(s, "holding a request unanswered (hang)");
    wait_until(s, x->fd, INT64_MAX);
    free_sender(x);
    return MHD_NO;
  }
  if (x->reply.n_chunks > 0 && !wait_until(s, x->fd, due(x, 0))) {
    free_sender(x);
    return MHD_NO;
  }
  uint64_t size = 0;
  for (size_t i = 0; i < x->reply.n_chunks; i++)
    size += x->reply.chunks[i].len;
  int status = x->reply.status;
  char ct[sizeof x->reply.content_type];
  memcpy(ct, x->reply.content_type, sizeof ct);
  char retry[32] = "";
  if (x->reply.retry_after > 0)
    snprintf(retry, sizeof retry, "%d", x->reply.retry_after);
  bool stream = x->reply.stream;
  struct MHD_Response *r;
  if (x->reply.n_chunks <= 1 && !stream) {
    r = MHD_create_response_from_buffer(size, x->reply.n_chunks ? x->reply.chunks[0].data : "",
                                        MHD_RESPMEM_MUST_COPY);
    free_sender(x);
  } else {
    r = MHD_create_response_from_callback(stream ? MHD_SIZE_UNKNOWN : size, 64 * 1024,
                                          send_piece, x, free_sender);
    if (r == NULL)
      free_sender(x);
  }
  if (r == NULL)
    return MHD_NO;
  if (ct[0])
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ct);
  if (stream)
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
  if (retry[0])
    MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, retry);
  enum MHD_Result ret = MHD_queue_response(conn, (unsigned)status, r);
  MHD_destroy_response(r);
  return ret;
}

static void
record(struct cab_model_server *s, const char *method, const char *url, const struct request *rq,
       const struct cab_model_reply *reply)
{
  if (s->cfg.record == NULL || reply->hang)
    return;
  struct cab_cassette_entry e = {
      .seq = cab_cassette_next_seq(s->cfg.record),
      .method = (char *)method,
      .path = (char *)url,
      .body = rq->body ? rq->body : "",
      .body_len = rq->len,
      .status = reply->status,
      .content_type = (char *)reply->content_type,
      .chunks = reply->chunks,
      .n_chunks = reply->n_chunks,
  };
  cab_error err = {0};
  if (cab_cassette_append(s->cfg.record, &e, &err) < 0) {
    char line[2300];
    say(s, "%s", cab_error_line(&err, line, sizeof line));
  }
}

/* --- replay -------------------------------------------------------------------------- */

static int
reply_from_entry(const struct cab_cassette_entry *e, struct cab_model_reply *r)
{
  memset(r, 0, sizeof *r);
  r->status = e->status;
  snprintf(r->content_type, sizeof r->content_type, "%s", e->content_type);
  r->stream = strncmp(e->content_type, "text/event-stream", 17) == 0;
  r->chunks = calloc(e->n_chunks ? e->n_chunks : 1, sizeof *r->chunks);
  if (r->chunks == NULL)
    return -1;
  for (size_t i = 0; i < e->n_chunks; i++) {
    char *d = malloc(e->chunks[i].len + 1);
    if (d == NULL) {
      cab_model_reply_free(r);
      return -1;
    }
    memcpy(d, e->chunks[i].data, e->chunks[i].len);
    d[e->chunks[i].len] = '\0';
    r->chunks[r->n_chunks++] = (struct cab_cassette_chunk){e->chunks[i].t_ms, d, e->chunks[i].len};
  }
  return 0;
}

static bool
is_anthropic_path(const char *url)
{
  return strncmp(url, "/v1/messages", 12) == 0;
}

static int
replay(struct cab_model_server *s, const char *method, const char *url, const struct request *rq,
       struct cab_model_reply *reply)
{
  cab_error err = {0};
  const struct cab_cassette_entry *e =
      cab_cassette_match(s->cfg.cassette, method, url, rq->body, rq->len, &err);
  if (e == NULL) {
    say(s, "replay: %s", err.message);
    char msg[2300];
    snprintf(msg, sizeof msg, "replay: %s", err.message);
    return cab_model_reply_error(reply, is_anthropic_path(url), 409, "cassette_mismatch", msg);
  }
  atomic_fetch_add(&s->answered, 1);
  return reply_from_entry(e, reply);
}

/* --- script ---------------------------------------------------------------------------- */

static bool
anthropic_client(struct MHD_Connection *conn)
{
  return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "anthropic-version") != NULL;
}

static int
chat_turn(struct cab_model_server *s, enum cab_model_api api, const struct request *rq,
          struct cab_model_reply *reply)
{
  bool anthropic = api == CAB_API_MESSAGES;
  cJSON *req = cJSON_ParseWithLength(rq->body ? rq->body : "", rq->len);
  if (!cJSON_IsObject(req)) {
    cJSON_Delete(req);
    return cab_model_reply_error(reply, anthropic, 400, "invalid_json",
                                 "the request body is not a JSON object");
  }
  /* A side call without tools (a title, a summary) gets the script's
   * without_tools turn, if it has one, and leaves the main turns alone. */
  const cJSON *tools = cJSON_GetObjectItemCaseSensitive(req, "tools");
  bool side = s->cfg.script->without_tools && cJSON_GetArraySize(tools) == 0;
  pthread_mutex_lock(&s->mu);
  const struct cab_script_turn *t =
      side ? s->cfg.script->without_tools : cab_script_turn_for(s->cfg.script, s->next_turn++);
  int64_t seq = ++s->seq;
  pthread_mutex_unlock(&s->mu);
  atomic_fetch_add(&s->answered, 1);
  cab_error err = {0};
  int r = cab_script_render(s->cfg.script, t, api, req, seq, reply, &err);
  cJSON_Delete(req);
  return r;
}

static int
count_tokens(const struct request *rq, struct cab_model_reply *reply)
{
  cJSON *j = cJSON_CreateObject();
  cJSON_AddNumberToObject(j, "input_tokens", (double)(rq->len / 4 ? rq->len / 4 : 1));
  return cab_model_reply_json(reply, 200, j);
}

static int
scripted(struct cab_model_server *s, struct MHD_Connection *conn, const char *method,
         const char *url, const struct request *rq, struct cab_model_reply *reply)
{
  enum route { CHAT, COMPLETIONS, MESSAGES, COUNT_TOKENS, MODELS, EMBEDDINGS };
  static const struct {
    const char *path, *method;
    enum route route;
  } routes[] = {
      {"/v1/chat/completions", "POST", CHAT},
      {"/v1/completions", "POST", COMPLETIONS},
      {"/v1/messages", "POST", MESSAGES},
      {"/v1/messages/count_tokens", "POST", COUNT_TOKENS},
      {"/v1/models", "GET", MODELS},
      {"/v1/embeddings", "POST", EMBEDDINGS},
  };
  bool anthropic = is_anthropic_path(url);
  int kind = -1;
  const char *want = NULL;
  for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
    if (strcmp(url, routes[i].path) == 0) {
      want = routes[i].method;
      kind = (int)routes[i].route;
    }
  /* GET /v1/models/ID */
  const struct cab_script *sc = s->cfg.script;
  if (strncmp(url, "/v1/models/", 11) == 0 && strcmp(method, "GET") == 0) {
    if (strcmp(url + 11, sc->model) != 0) {
      char msg[600];
      snprintf(msg, sizeof msg, "The model '%.200s' does not exist", url + 11);
      return cab_model_reply_error(reply, anthropic_client(conn), 404, "model_not_found", msg);
    }
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "id", sc->model);
    cJSON_AddStringToObject(m, "object", "model");
    cJSON_AddNumberToObject(m, "created", CAB_MODEL_CREATED);
    cJSON_AddStringToObject(m, "owned_by", "cab");
    return cab_model_reply_json(reply, 200, m);
  }
  if (kind < 0) {
    char msg[600];
    snprintf(msg, sizeof msg, "Unknown request URL: %.16s %.400s (cab model-server serves "
                              "/v1/chat/completions, /v1/completions, /v1/messages, "
                              "/v1/models and /v1/embeddings)", method, url);
    return cab_model_reply_error(reply, anthropic, 404, "unknown_url", msg);
  }
  if (strcmp(method, want) != 0) {
    char msg[300];
    snprintf(msg, sizeof msg, "%s %s: method not allowed; use %s", method, url, want);
    return cab_model_reply_error(reply, anthropic, 405, "method_not_allowed", msg);
  }
  if (rq->too_big) {
    char msg[200];
    snprintf(msg, sizeof msg, "the request body is larger than %u bytes", BODY_MAX);
    return cab_model_reply_error(reply, anthropic, 413, "request_too_large", msg);
  }
  switch ((enum route)kind) {
  case MODELS:
    return cab_script_render_models(sc, anthropic_client(conn), reply);
  case COUNT_TOKENS:
    return count_tokens(rq, reply);
  case EMBEDDINGS: {
    cJSON *req = cJSON_ParseWithLength(rq->body ? rq->body : "", rq->len);
    int r = cJSON_IsObject(req)
                ? cab_script_render_embeddings(sc, req, reply)
                : cab_model_reply_error(reply, false, 400, "invalid_json",
                                        "the request body is not a JSON object");
    cJSON_Delete(req);
    return r;
  }
  case CHAT:
    return chat_turn(s, CAB_API_CHAT, rq, reply);
  case COMPLETIONS:
    return chat_turn(s, CAB_API_COMPLETIONS, rq, reply);
  case MESSAGES:
    return chat_turn(s, CAB_API_MESSAGES, rq, reply);
  }
  return -1;
}

/* --- MHD glue ----------------------------------------------------------------------------- */

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
           const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
  struct cab_model_server *s = cls;
  struct request *rq = *con_cls;
  if (rq == NULL) {
    rq = calloc(1, sizeof *rq);
    if (rq == NULL)
      return MHD_NO;
    *con_cls = rq;
    return MHD_YES;
  }
  if (*upload_data_size > 0) {
    size_t n = *upload_data_size;
    *upload_data_size = 0;
    if (rq->too_big || rq->len + n > BODY_MAX) {
      rq->too_big = true;
      return MHD_YES;
    }
    if (rq->len + n + 1 > rq->cap) {
      size_t cap = rq->cap ? rq->cap : 4096;
      while (cap < rq->len + n + 1)
        cap *= 2;
      char *b = realloc(rq->body, cap);
      if (b == NULL)
        return MHD_NO;
      rq->body = b;
      rq->cap = cap;
    }
    memcpy(rq->body + rq->len, upload_data, n);
    rq->len += n;
    rq->body[rq->len] = '\0';
    return MHD_YES;
  }

  int64_t t0 = cab_now_ns();
  struct cab_model_reply reply = {0};
  int r;
  double speed = 1;
  if (s->cfg.cassette) {
    speed = s->cfg.replay_speed;
    r = rq->too_big ? cab_model_reply_error(&reply, is_anthropic_path(url), 413,
                                            "request_too_large", "the request body is too large")
                    : replay(s, method, url, rq, &reply);
  } else {
    r = scripted(s, conn, method, url, rq, &reply);
  }
  if (r < 0) {
    cab_model_reply_free(&reply);
    return MHD_NO;
  }
  record(s, method, url, rq, &reply);
  return respond(s, conn, &reply, t0, speed);
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
  struct request *rq = *con_cls;
  if (rq) {
    free(rq->body);
    free(rq);
    *con_cls = NULL;
  }
}

/* --- lifecycle -------------------------------------------------------------------------------- */

int
cab_listen_tcp(const char *addr, cab_error *err)
{
  char host[256] = "127.0.0.1", port[16] = "0";
  const char *colon = addr ? strrchr(addr, ':') : NULL;
  if (addr == NULL || addr[0] == '\0') {
    /* the defaults */
  } else if (colon == NULL) {
    snprintf(port, sizeof port, "%s", addr);
  } else {
    size_t hl = (size_t)(colon - addr);
    const char *h = addr;
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
      h++;
      hl -= 2;
    }
    if (hl >= sizeof host || strlen(colon + 1) >= sizeof port)
      return cab_error_set(err, EINVAL, "listen address '%s': too long", addr);
    if (hl > 0)
      snprintf(host, sizeof host, "%.*s", (int)hl, h);
    snprintf(port, sizeof port, "%s", colon + 1);
  }
  char *end;
  long p = strtol(port, &end, 10);
  if (port[0] == '\0' || *end || p < 0 || p > 65535)
    return cab_error_set(err, EINVAL, "listen address '%s': expected HOST:PORT, e.g. "
                                      "127.0.0.1:8080 (port 0 picks a free one)", addr);
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                           .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
  struct addrinfo *ai = NULL;
  int gai = getaddrinfo(host, port, &hints, &ai);
  if (gai != 0)
    return cab_error_set(err, 0, "listen address '%s': %s", addr ? addr : "", gai_strerror(gai));
  int saved = 0;
  for (struct addrinfo *a = ai; a; a = a->ai_next) {
    cleanup_close int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      saved = errno;
      continue;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, a->ai_addr, a->ai_addrlen) < 0 || listen(fd, 512) < 0) {
      saved = errno;
      continue;
    }
    freeaddrinfo(ai);
    return cab_steal_fd(&fd);
  }
  freeaddrinfo(ai);
  return cab_error_set(err, saved, "listen on %s:%s (is the port in use? port 0 picks a free one)",
                       host, port);
}

static int
describe_socket(struct cab_model_server *s, int fd, cab_error *err)
{
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
    return cab_error_sys(err, "getsockname on the listening socket");
  char host[INET6_ADDRSTRLEN] = "";
  if (ss.ss_family == AF_INET) {
    struct sockaddr_in *in = (struct sockaddr_in *)&ss;
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    s->port = ntohs(in->sin_port);
    snprintf(s->url, sizeof s->url, "http://%s:%d/v1", host, s->port);
  } else if (ss.ss_family == AF_INET6) {
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
    s->port = ntohs(in6->sin6_port);
    snprintf(s->url, sizeof s->url, "http://[%s]:%d/v1", host, s->port);
  } else {
    return cab_error_set(err, EINVAL, "the listening socket is not TCP over IPv4 or IPv6");
  }
  return 0;
}

int
cab_model_server_start(const struct cab_model_server_config *cfg, struct cab_model_server **out,
                       cab_error *err)
{
  cleanup_close int fd = cfg->listen_fd;
  if ((cfg->script == NULL) == (cfg->cassette == NULL))
    return cab_error_set(err, EINVAL, "model server: give a script or a cassette (one of them)");
  if (cab_mhd_load(err) < 0)
    return -1;
  if (fd < 0 && (fd = cab_listen_tcp(cfg->listen, err)) < 0)
    return -1;
  struct cab_model_server *s = calloc(1, sizeof *s);
  if (s == NULL)
    return cab_error_set(err, ENOMEM, "model server");
  s->cfg = *cfg;
  s->cfg.listen = NULL;
  s->cfg.listen_fd = -1;
  s->stop_pipe[0] = s->stop_pipe[1] = -1;
  pthread_mutex_init(&s->mu, NULL);
  atomic_init(&s->answered, 0);
  if (describe_socket(s, fd, err) < 0) {
    cab_model_server_stop(s);
    return -1;
  }
  if (pipe2(s->stop_pipe, O_CLOEXEC) < 0) {
    cab_error_sys(err, "model server: pipe");
    cab_model_server_stop(s);
    return -1;
  }
  int listen_fd = fd;
  s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                              MHD_USE_POLL | MHD_USE_ERROR_LOG,
                          0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
                          MHD_OPTION_LISTEN_SOCKET, listen_fd, MHD_OPTION_NOTIFY_COMPLETED,
                          on_completed, s, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)300,
                          MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(256 * 1024),
                          MHD_OPTION_END);
  if (s->d == NULL) {
    cab_model_server_stop(s);
    return cab_error_set(err, 0, "model server: libmicrohttpd would not start on %s", s->url);
  }
  cab_steal_fd(&fd); /* MHD owns it now and closes it on stop */
  *out = s;
  return 0;
}

void
cab_model_server_stop(struct cab_model_server *s)
{
  if (s == NULL)
    return;
  if (s->stop_pipe[1] >= 0)
    (void)!write(s->stop_pipe[1], "x", 1);
  if (s->d)
    MHD_stop_daemon(s->d);
  if (s->stop_pipe[0] >= 0)
    close(s->stop_pipe[0]);
  if (s->stop_pipe[1] >= 0)
    close(s->stop_pipe[1]);
  pthread_mutex_destroy(&s->mu);
  free(s);
}

int
cab_model_server_port(const struct cab_model_server *s)
{
  return s->port;
}

const char *
cab_model_server_url(const struct cab_model_server *s)
{
  return s->url;
}

uint64_t
cab_model_server_answered(const struct cab_model_server *s)
{
  return atomic_load(&((struct cab_model_server *)s)->answered);
}
