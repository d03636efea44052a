/* Hostile clients against the proxy on 127.0.0.1: the malformed-HTTP corpus
 * (tests/fixtures/proxy/gen-malformed-http.sh), oversized headers and
 * bodies, a slowloris, 200 concurrent calls.  After each, the proxy is up
 * and a good call still succeeds. */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/cleanup.h"
#include "test_proxy_harness.h"

#define CORPUS "tests/fixtures/proxy/http"
#define GOOD "{\"model\":\"m\",\"messages\":[]}"
#define CHAT_PATH "/v1/chat/completions"
#define ANTHROPIC_V "anthropic-version: 2023-06-01\r\n"

static struct h_upstream up;

static int
start_upstream(void **state)
{
  h_upstream_start(&up, "{\"model\":\"scripted/hostile\",\"after_last\":\"repeat\",\"turns\":"
                        "[{\"content\":\"still here\",\"usage\":{\"prompt_tokens\":2,"
                        "\"completion_tokens\":1}}]}");
  return 0;
}

static int
stop_upstream(void **state)
{
  h_upstream_stop(&up);
  return 0;
}

static void
good_call(unsigned port)
{
  struct h_resp r;
  h_call(port, "POST", "/v1/chat/completions", NULL, GOOD, 5000, &r);
  if (r.status != 200)
    fail_msg("a good call after the hostile ones got status %d", r.status);
  assert_non_null(strstr(r.body, "still here"));
  h_resp_free(&r);
}

/* Read whatever comes back until the peer closes or DEADLINE; the status
 * of the first response, -1 if none. */
static int
drain_status(int fd, int64_t deadline)
{
  char buf[16384];
  size_t have = 0;
  for (;;) {
    int64_t left = (deadline - cab_now_ns()) / 1000000;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (left <= 0 || poll(&p, 1, (int)left) <= 0)
      break;
    ssize_t n = recv(fd, buf + have, sizeof buf - 1 - have, 0);
    if (n <= 0)
      break;
    have += (size_t)n;
    if (have == sizeof buf - 1)
      have = 64; /* keep the status line */
  }
  buf[have] = '\0';
  int status = -1;
  if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
    status = -1;
  return status;
}

/* POST a chunked body of 20 chunks of 64 KiB (1.25 MiB, more than the
 * limits the tests set) and return the status that comes back within
 * WAIT_NS; the writes stop early once the proxy closes the connection. */
static int
post_chunked_mib(unsigned port, int64_t wait_ns)
{
  int fd = h_connect(port);
  static const char chunked[] = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                                "Transfer-Encoding: chunked\r\n\r\n";
  h_write_all(fd, chunked, sizeof chunked - 1);
  char *chunk = malloc(65536 + 16);
  int hl = sprintf(chunk, "10000\r\n");
  memset(chunk + hl, 'x', 65536);
  memcpy(chunk + hl + 65536, "\r\n", 2);
  for (int i = 0; i < 20; i++)
    if (h_write_all(fd, chunk, (size_t)hl + 65536 + 2) < 0)
      break;
  h_write_all(fd, "0\r\n\r\n", 5);
  free(chunk);
  int status = drain_status(fd, cab_now_ns() + wait_ns);
  close(fd);
  return status;
}

/* Requests no server may take as valid.  The others in the corpus are odd
 * but legal (bare LF lines, no Host, an unknown Expect...); for those only
 * the proxy's survival counts. */
static bool
must_fail(const char *name)
{
  static const char *const bad[] = {
      "garbage-", "only-crlf", "no-version", "http09", "version-bad", "method-nul", "method-long",
      "uri-long", "uri-absolute", "uri-double-slash", "uri-star", "connect", "header-huge",
      "cl-negative", "cl-text", "cl-overflow", "cl-twice-differ", "chunk-size-",
      "chunk-truncated", "h2-preface", "headers-unfinished", "lone-cr", "uri-ctl", NULL};
  for (size_t i = 0; bad[i]; i++)
    if (strncmp(name, bad[i], strlen(bad[i])) == 0)
      return true;
  return false;
}

static void
test_malformed_corpus(void **state)
{
  struct h_proxy hp;
  h_proxy_start(&hp, (struct cab_proxy_config){.endpoint = up.url, .idle_timeout_s = 1});
  DIR *d = opendir(CORPUS);
  if (d == NULL)
    fail_msg(CORPUS ": %s (run from the source tree)", strerror(errno));
  struct {
    char name[128];
    int fd;
  } conns[128];
  size_t n = 0;
  /* All at once: every connection is open while the others are served. */
  for (struct dirent *e; (e = readdir(d)) && n < 128;) {
    if (strstr(e->d_name, ".raw") == NULL)
      continue;
    char path[512];
    assert_true(snprintf(path, sizeof path, CORPUS "/%s", e->d_name) < (int)sizeof path);
    char *data;
    size_t len;
    cab_error err = {0};
    if (cab_read_file_at(AT_FDCWD, path, 1 << 20, &data, &len, &err) < 0)
      fail_msg("%s", err.message);
    assert_true(snprintf(conns[n].name, sizeof conns[n].name, "%s", e->d_name) <
                (int)sizeof conns[n].name);
    conns[n].fd = h_connect(hp.port);
    h_write_all(conns[n].fd, data, len); /* the proxy may close early: fine */
    free(data);
    n++;
  }
  closedir(d);
  assert_true(n >= 40);
  int64_t deadline = cab_now_ns() + 3000000000LL;
  int answered = 0;
  for (size_t i = 0; i < n; i++) {
    int status = drain_status(conns[i].fd, deadline);
    close(conns[i].fd);
    fprintf(stderr, "  %-28s %d\n", conns[i].name, status);
    if (status >= 200 && status < 300 && must_fail(conns[i].name))
      fail_msg("%s got %d", conns[i].name, status);
    answered += status > 0;
  }
  fprintf(stderr, "%zu malformed requests, %d answered (the rest closed)\n", n, answered);
  good_call(hp.port);
  h_proxy_stop(&hp);
}

static void
test_oversized(void **state)
{
  struct h_echo echo;
  h_echo_start(&echo);
  struct h_proxy hp;
  h_proxy_start(&hp, (struct cab_proxy_config){.endpoint = up.url, .max_request_bytes = 1 << 20,
                                               .idle_timeout_s = 2});
  struct h_resp r;

  /* A declared body over the limit: refused before it is sent. */
  int fd = h_connect(hp.port);
  static const char big_cl[] = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                               "Content-Length: 104857600\r\n\r\n";
  h_write_all(fd, big_cl, sizeof big_cl - 1);
  int status = drain_status(fd, cab_now_ns() + 3000000000LL);
  close(fd);
  assert_int_equal(status, 413);

  /* A chunked body that grows past it. */
  status = post_chunked_mib(hp.port, 3000000000LL);
  assert_int_equal(status, 413);

  /* Headers beyond the connection's memory: an error, not a crash. */
  char *hdr = malloc(300000);
  int k = sprintf(hdr, "GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Big: ");
  memset(hdr + k, 'h', 250000);
  strcpy(hdr + k + 250000, "\r\n\r\n");
  fd = h_connect(hp.port);
  h_write_all(fd, hdr, strlen(hdr));
  free(hdr);
  status = drain_status(fd, cab_now_ns() + 3000000000LL);
  close(fd);
  assert_true(status == 431 || status == 413 || status == 414 || status == 400 || status == -1);

  cJSON *all;
  cJSON *rec = h_record(hp.calls, 2, &all);
  assert_non_null(rec);
  assert_string_equal(h_str(rec, "class"), "client");
  cJSON_Delete(all);
  good_call(hp.port);
  h_proxy_stop(&hp);

  /* A response over the limit: cut, and recorded as such. */
  h_proxy_start(&hp, (struct cab_proxy_config){.endpoint = echo.url, .max_response_bytes = 65536});
  char *body = malloc(200000);
  memset(body, 'y', 199999);
  body[0] = '"';
  body[199998] = '"';
  body[199999] = '\0';
  h_call(hp.port, "POST", "/v1/embeddings", NULL, body, 5000, &r);
  free(body);
  assert_true(r.status == 200 || r.status == -1);
  assert_true(r.len < 200000);
  h_resp_free(&r);
  rec = h_record(hp.calls, 1, &all);
  assert_string_equal(h_str(rec, "class"), "infra");
  assert_non_null(strstr(h_str(rec, "error"), "larger than 65536"));
  cJSON_Delete(all);
  h_proxy_stop(&hp);
  h_echo_stop(&echo);
}

struct loris {
  unsigned port;
  int conns;
  int64_t until;
};

static void *
slowloris(void *arg)
{
  struct loris *l = arg;
  int fds[100];
  for (int i = 0; i < l->conns; i++) {
    fds[i] = h_connect(l->port);
    h_write_all(fds[i], "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Slow: ", 52);
  }
  while (cab_now_ns() < l->until) {
    for (int i = 0; i < l->conns; i++)
      h_write_all(fds[i], "a", 1);
    usleep(100000);
  }
  for (int i = 0; i < l->conns; i++)
    close(fds[i]);
  return NULL;
}

static void
test_slowloris(void **state)
{
  struct h_proxy hp;
  h_proxy_start(&hp, (struct cab_proxy_config){.endpoint = up.url, .idle_timeout_s = 1});
  struct loris l = {.port = hp.port, .conns = 100, .until = cab_now_ns() + 2000000000LL};
  pthread_t t;
  pthread_create(&t, NULL, slowloris, &l);
  usleep(300000);
  int64_t worst = 0;
  for (int i = 0; i < 10; i++) {
    int64_t t0 = cab_now_ns();
    good_call(hp.port);
    int64_t ms = (cab_now_ns() - t0) / 1000000;
    worst = ms > worst ? ms : worst;
    usleep(100000);
  }
  pthread_join(t, NULL);
  fprintf(stderr, "10 calls during a 100-connection slowloris, the slowest took %lld ms\n",
          (long long)worst);
  assert_true(worst < 5000); /* generous: the machine may be loaded */
  good_call(hp.port);
  h_proxy_stop(&hp);
}

struct worker {
  unsigned port;
  int status;
};

static void *
call_once(void *arg)
{
  struct worker *w = arg;
  struct h_resp r;
  h_call(w->port, "POST", "/v1/chat/completions", NULL, GOOD, 20000, &r);
  w->status = r.status;
  h_resp_free(&r);
  return NULL;
}

static void
test_200_concurrent(void **state)
{
  struct h_proxy hp;
  /* the proxy's concurrency, not its per-cell bounds (test_busy) */
  h_proxy_start(&hp, (struct cab_proxy_config){.endpoint = up.url, .max_connections = 256,
                                               .max_calls = 256});
  enum { N = 200 };
  static struct worker w[N];
  static pthread_t t[N];
  int64_t t0 = cab_now_ns();
  for (int i = 0; i < N; i++) {
    w[i].port = hp.port;
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, 256 * 1024);
    assert_int_equal(pthread_create(&t[i], &a, call_once, &w[i]), 0);
    pthread_attr_destroy(&a);
  }
  int ok = 0;
  for (int i = 0; i < N; i++) {
    pthread_join(t[i], NULL);
    ok += w[i].status == 200;
  }
  fprintf(stderr, "%d of %d concurrent calls succeeded in %lld ms\n", ok, N,
          (long long)((cab_now_ns() - t0) / 1000000));
  assert_int_equal(ok, N);
  cJSON *all;
  h_record(hp.calls, N, &all);
  assert_int_equal(cJSON_GetArraySize(all), N);
  cJSON_Delete(all);
  struct cab_proxy_totals tot;
  cab_proxy_totals(hp.p, &tot);
  assert_int_equal(tot.model_calls, N);
  assert_int_equal(tot.prompt_tokens, 2 * N);
  good_call(hp.port);
  h_proxy_stop(&hp);
}

/* The client goes away in the middle of a stream: recorded, no leak, the
 * proxy carries on. */
static void
test_client_gone(void **state)
{
  struct h_upstream slow;
  h_upstream_start(&slow, "{\"model\":\"scripted/drip\",\"turns\":[{\"content\":"
                          "\"a b c d e f g h\",\"stream_chunk_delay_ms\":100}]}");
  struct h_proxy hp;
  h_proxy_start(&hp, (struct cab_proxy_config){.endpoint = slow.url});
  int fd = h_connect(hp.port);
  static const char req[] = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                            "Content-Length: 15\r\n\r\n{\"stream\":true}";
  h_write_all(fd, req, sizeof req - 1);
  char buf[512];
  assert_true(recv(fd, buf, sizeof buf, 0) > 0);
  close(fd);
  cJSON *all;
  cJSON *rec = h_record(hp.calls, 1, &all);
  assert_non_null(rec);
  assert_string_equal(h_str(rec, "class"), "client");
  assert_non_null(strstr(h_str(rec, "error"), "after"));
  cJSON_Delete(all);
  h_proxy_stop(&hp);
  h_upstream_stop(&slow);
}

/* --- the per-cell bounds: calls in flight, bytes buffered (issue 10, finding 5) ------ */

/* Send a request head declaring CL body bytes with "Expect: 100-continue"
 * (so that the proxy's decision comes before any body byte), and read its
 * first answer: 100, or the refusal's status (its head in HEAD). */
static int
open_call(unsigned port, const char *path, size_t cl, const char *extra, int *fd_out, char *head,
          size_t size)
{
  int fd = h_connect(port);
  char req[512];
  int n = snprintf(req, sizeof req,
                   "POST %s HTTP/1.1\r\nHost: x\r\n%sContent-Type: "
                   "application/json\r\nContent-Length: %zu\r\nExpect: 100-continue\r\n\r\n",
                   path, extra ? extra : "", cl);
  h_write_all(fd, req, (size_t)n);
  size_t have = 0;
  head[0] = '\0';
  int64_t deadline = cab_now_ns() + 10000000000LL;
  /* a 100 is all there is for now; a refusal's body follows, then the close */
  while (have < size - 1 && (strncmp(head, "HTTP/1.1 100", 12) != 0 ||
                             memmem(head, have, "\r\n\r\n", 4) == NULL)) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int64_t left = (deadline - cab_now_ns()) / 1000000;
    if (left <= 0 || poll(&p, 1, (int)left) <= 0)
      break;
    ssize_t got = recv(fd, head + have, size - 1 - have, 0);
    if (got <= 0)
      break;
    have += (size_t)got;
    head[have] = '\0';
  }
  head[have] = '\0';
  int status = -1;
  sscanf(head, "HTTP/1.%*d %d", &status);
  *fd_out = fd;
  return status;
}

/* A JSON body of exactly N bytes. */
static char *
body_of(size_t n)
{
  char *b = malloc(n + 1);
  memset(b, ' ', n);
  memcpy(b, "{\"model\":\"m\",\"messages\":[]}", 27);
  b[n] = '\0';
  return b;
}

static void
test_busy(void **state)
{
  struct h_proxy hp;
  h_proxy_start(&hp, (struct cab_proxy_config){.endpoint = up.url, .max_calls = 4,
                                               .max_buffered_bytes = 3u << 20});
  char head[4096];
  int fds[6];
  const size_t mib = 1u << 20;
  /* two calls of 1 MiB fit the 3 MiB budget, the third does not */
  assert_int_equal(open_call(hp.port, CHAT_PATH, mib, NULL, &fds[0], head, sizeof head), 100);
  assert_int_equal(open_call(hp.port, CHAT_PATH, mib, NULL, &fds[1], head, sizeof head), 100);
  assert_int_equal(open_call(hp.port, "/v1/messages", mib, ANTHROPIC_V, &fds[2], head, sizeof head), 503);
  assert_non_null(strstr(head, "\"type\":\"error\"")); /* Anthropic's shape: it said so */
  close(fds[2]);
  /* small calls up to four in flight; the fifth is refused */
  assert_int_equal(open_call(hp.port, CHAT_PATH, 100, NULL, &fds[2], head, sizeof head), 100);
  assert_int_equal(open_call(hp.port, CHAT_PATH, 100, NULL, &fds[3], head, sizeof head), 100);
  assert_int_equal(open_call(hp.port, CHAT_PATH, 100, NULL, &fds[4], head, sizeof head), 503);
  assert_non_null(strstr(head, "in flight"));
  assert_non_null(strstr(head, "\"type\":\"server_error\"")); /* OpenAI's shape */
  close(fds[4]);
  /* the first call goes through; then there is room again */
  cleanup_free char *big = body_of(mib);
  h_write_all(fds[0], big, mib);
  struct h_reader *rd = calloc(1, sizeof *rd);
  rd->fd = fds[0];
  rd->deadline = cab_now_ns() + 10000000000LL;
  struct h_resp r;
  assert_int_equal(h_read_response(rd, &r, cab_now_ns(), false), 0);
  assert_int_equal(r.status, 200);
  h_resp_free(&r);
  free(rd);
  close(fds[0]);
  for (int i = 0; i < 1500; i++) { /* the call's end is MHD's, after the response */
    struct cab_proxy_totals t;
    cab_proxy_totals(hp.p, &t);
    if (t.ok == 1)
      break;
    usleep(20000);
  }
  assert_int_equal(open_call(hp.port, CHAT_PATH, mib, NULL, &fds[0], head, sizeof head), 100);
  for (int i = 0; i < 4; i++)
    close(fds[i]);
  /* a chunked body takes the budget as it grows: 503 once it is used up */
  h_proxy_stop(&hp);
  h_proxy_start(&hp, (struct cab_proxy_config){.endpoint = up.url,
                                               .max_buffered_bytes = 1u << 20});
  int status = post_chunked_mib(hp.port, 5000000000LL);
  assert_int_equal(status, 503);
  good_call(hp.port);
  struct cab_proxy_totals t;
  cab_proxy_totals(hp.p, &t);
  assert_int_equal(t.busy_refusals, 1);
  h_proxy_stop(&hp);
}

int
main(void)
{
  signal(SIGPIPE, SIG_IGN);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_malformed_corpus),
      cmocka_unit_test(test_oversized),
      cmocka_unit_test(test_slowloris),
      cmocka_unit_test(test_200_concurrent),
      cmocka_unit_test(test_client_gone),
      cmocka_unit_test(test_busy),
  };
  return cmocka_run_group_tests(tests, start_upstream, stop_upstream);
}
