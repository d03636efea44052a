/* The proxy is no open relay, and the key never comes back (issue 10):
 *   - the redactor (runner/proxy/redact.h) on a key split at every byte,
 *     in every letter case, against whole-string redaction;
 *   - the allow-list (runner/proxy/allow.h) for each wire;
 *   - end to end, against hostile upstreams on 127.0.0.1: one that
 *     reflects the request (h_echo) and logs the paths it got, one that
 *     hands the key back in headers and in a stream dripped a few bytes at
 *     a time.  Dot-segments, %2e and %2f never reach upstream, other
 *     paths and methods are refused in the client's error shape, and no
 *     form of the key reaches the client or the call records. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <fcntl.h>
#include <strings.h>

#include "common/cleanup.h"
#include "runner/proxy/allow.h"
#include "runner/proxy/redact.h"
#include "test_proxy_harness.h"

#define KEY "sk-Real-Key-0123456789abcdef"
#define KEY_ENV "CAB_TEST_RELAY_KEY"
#define PLACEHOLDER "cab-placeholder-key"

/* --- the redactor ------------------------------------------------------------------ */

static int
sink(void *ctx, const char *data, size_t n)
{
  return cab_byteq_sink(ctx, data, n);
}

/* IN redacted in pieces cut at CUTS (sorted offsets). */
static char *
redact_pieces(const char *in, const size_t *cuts, size_t n_cuts, size_t *hits)
{
  struct cab_redactor *r = cab_redactor_new(KEY, PLACEHOLDER);
  struct cab_byteq q = {0};
  size_t at = 0, len = strlen(in);
  for (size_t i = 0; i <= n_cuts; i++) {
    size_t end = i < n_cuts ? cuts[i] : len;
    assert_int_equal(cab_redactor_feed(r, in + at, end - at, sink, &q), 0);
    at = end;
  }
  assert_int_equal(cab_redactor_end(r, sink, &q), 0);
  *hits = cab_redactor_hits(r);
  cab_redactor_free(r);
  char *out = strndup(q.data ? q.data + q.off : "", q.len - q.off);
  cab_byteq_clear(&q);
  return out;
}

static void
test_redactor(void **state)
{
  static const char *const texts[] = {
      "Bearer " KEY,
      "{\"authorization\":\"Bearer SK-REAL-KEY-0123456789ABCDEF\"}",
      "sk-real-key-0123456789abcdef" KEY "sK-rEaL-kEy-0123456789AbCdEf",
      "ssk-Real-Key-0123456789abcdesk-Real-Key-0123456789abcdef!",
      "no key at all, but sk-Real-Key-01 its beginning, twice: sk-Real",
      "sk-Real-Key-0123456789abcde", /* one byte short at the end */
      "",
  };
  static const size_t want_hits[] = {1, 1, 3, 1, 0, 0, 0};
  for (size_t t = 0; t < sizeof texts / sizeof *texts; t++) {
    size_t len = strlen(texts[t]), hits;
    cleanup_free char *whole = redact_pieces(texts[t], NULL, 0, &hits);
    assert_int_equal(hits, want_hits[t]);
    assert_null(strcasestr(whole, KEY));
    /* every single cut, then every byte on its own */
    for (size_t cut = 0; cut <= len; cut++) {
      cleanup_free char *got = redact_pieces(texts[t], &cut, 1, &hits);
      assert_string_equal(got, whole);
      assert_int_equal(hits, want_hits[t]);
    }
    size_t cuts[256];
    for (size_t i = 0; i < len; i++)
      cuts[i] = i;
    cleanup_free char *bytes = redact_pieces(texts[t], cuts, len, &hits);
    assert_string_equal(bytes, whole);
    bool failed;
    cleanup_free char *s = cab_redact_string(texts[t], KEY, PLACEHOLDER, &failed);
    assert_false(failed);
    if (want_hits[t])
      assert_string_equal(s, whole);
    else
      assert_null(s);
  }
  /* what is not the key passes byte for byte, the key becomes the placeholder */
  size_t hits;
  cleanup_free char *out = redact_pieces("a " KEY " b", NULL, 0, &hits);
  assert_string_equal(out, "a " PLACEHOLDER " b");
  assert_null(cab_redactor_new(NULL, PLACEHOLDER));
  assert_null(cab_redactor_new("", PLACEHOLDER));
}

/* The naive reference: leftmost matches, left to right, any case. */
static char *
naive(const char *in, const char *key, const char *with)
{
  size_t n = strlen(in), m = strlen(key), o = 0;
  char *out = malloc(n * (strlen(with) + 1) + 1);
  for (size_t i = 0; i < n;) {
    if (i + m <= n && strncasecmp(in + i, key, m) == 0) {
      strcpy(out + o, with);
      o += strlen(with);
      i += m;
    } else {
      out[o++] = in[i++];
    }
  }
  out[o] = '\0';
  return out;
}

/* Random texts over the key's own letters (self-overlapping keys are where
 * a search goes wrong), cut at random: the same as the reference. */
static void
test_redactor_random(void **state)
{
  static const char *const keys[] = {"sK-sk-x", "aaab", "abab", "k"};
  static const char alphabet[] = "sSkK-xXabAB";
  unsigned seed = 12345;
  for (int round = 0; round < 20000; round++) {
    const char *key = keys[round % 4];
    char text[64];
    size_t len = (size_t)(rand_r(&seed) % 60);
    for (size_t i = 0; i < len; i++)
      text[i] = alphabet[rand_r(&seed) % (sizeof alphabet - 1)];
    text[len] = '\0';
    struct cab_redactor *r = cab_redactor_new(key, "<K>");
    struct cab_byteq q = {0};
    for (size_t at = 0; at < len;) {
      size_t piece = 1 + (size_t)(rand_r(&seed) % 8);
      if (piece > len - at)
        piece = len - at;
      assert_int_equal(cab_redactor_feed(r, text + at, piece, sink, &q), 0);
      at += piece;
    }
    assert_int_equal(cab_redactor_end(r, sink, &q), 0);
    cab_redactor_free(r);
    cleanup_free char *want = naive(text, key, "<K>");
    char *got = strndup(q.data ? q.data + q.off : "", q.len - q.off);
    if (strcmp(got, want) != 0)
      fail_msg("key %s, text '%s': got '%s', want '%s'", key, text, got, want);
    free(got);
    cab_byteq_clear(&q);
  }
}

/* --- the allow-list ------------------------------------------------------------------- */

struct allow_case {
  enum cab_wire wire;
  const char *method, *path;
  int status;
};

static void
test_allow_list(void **state)
{
  static const struct allow_case cases[] = {
      {CAB_WIRE_CHAT, "POST", "/v1/chat/completions", 0},
      {CAB_WIRE_CHAT, "POST", "/v1/completions", 0},
      {CAB_WIRE_CHAT, "POST", "/v1/embeddings", 0},
      {CAB_WIRE_CHAT, "GET", "/v1/models", 0},
      {CAB_WIRE_CHAT, "GET", "/v1/models/qwen/qwen3-coder", 0},
      {CAB_WIRE_CHAT, "GET", "/v1/chat/completions", 405},
      {CAB_WIRE_CHAT, "DELETE", "/v1/models/m", 405},
      {CAB_WIRE_CHAT, "PUT", "/v1/chat/completions", 405},
      {CAB_WIRE_CHAT, "GET", "/admin", 404},
      {CAB_WIRE_CHAT, "GET", "/v1/files", 404},
      {CAB_WIRE_CHAT, "POST", "/v2/chat/completions", 404},
      {CAB_WIRE_CHAT, "POST", "/tenant-b/v1/chat/completions", 404},
      {CAB_WIRE_CHAT, "POST", "/v1/responses", 0},                   /* translated */
      {CAB_WIRE_CHAT, "GET", "/v1/responses", 405},
      {CAB_WIRE_CHAT, "GET", "/v1/responses/resp_1", 0},             /* the bridge's 404 */
      {CAB_WIRE_CHAT, "POST", "/v1/messages", 0},
      {CAB_WIRE_CHAT, "POST", "/v1beta/models/g:generateContent", 0},
      {CAB_WIRE_RESPONSES, "POST", "/v1/responses", 0},
      {CAB_WIRE_RESPONSES, "GET", "/v1/responses/resp_1", 404},
      {CAB_WIRE_ANTHROPIC, "POST", "/v1/messages", 0},
      {CAB_WIRE_ANTHROPIC, "POST", "/v1/messages/count_tokens", 0},
      {CAB_WIRE_ANTHROPIC, "POST", "/v1/messages/batches", 404},
      {CAB_WIRE_ANTHROPIC, "GET", "/v1/models", 0},
      {CAB_WIRE_ANTHROPIC, "POST", "/v1/complete", 404},
      {CAB_WIRE_GEMINI, "POST", "/v1beta/models/gemini-2.5-pro:generateContent", 0},
      {CAB_WIRE_GEMINI, "POST", "/v1/models/gemini-2.5-pro:streamGenerateContent", 0},
      {CAB_WIRE_GEMINI, "POST", "/v1beta/models/g:countTokens", 0},
      {CAB_WIRE_GEMINI, "POST", "/v1beta/models/g:embedContent", 404},
      {CAB_WIRE_GEMINI, "GET", "/v1beta/models", 0},
      {CAB_WIRE_GEMINI, "GET", "/v1beta/models/g", 0},
      {CAB_WIRE_GEMINI, "GET", "/v1beta/models/g:generateContent", 405},
      {CAB_WIRE_GEMINI, "GET", "/v1beta/files", 404},
  };
  char why[512];
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    const struct allow_case *c = &cases[i];
    why[0] = '\0';
    int got = cab_allow_call(c->wire, c->method, c->path, why, sizeof why);
    if (got != c->status)
      fail_msg("%s %s %s: %d, want %d (%s)", cab_wire_name(c->wire), c->method, c->path, got,
               c->status, why);
    if (got)
      assert_non_null(strstr(why, "cab proxy: "));
  }
  static const char *const bad[] = {
      "/../admin", "/v1/../../admin", "/v1/./models", "/%2e%2e/admin", "/%2E%2E/admin",
      "/v1/%2e./admin", "/v1/models/%2fadmin", "/v1/models/%2F..", "/v1//models",
      "/v1/models/..", "/v1\\..\\admin", "/v1/models/%5c", "/v1/chat/completions%00",
      "/v1/models/.%2E",
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    if (cab_allow_target(bad[i], why, sizeof why) != 400)
      fail_msg("%s: not refused", bad[i]);
  assert_int_equal(cab_allow_target("/v1/models/gemini-2.5-pro", why, sizeof why), 0);
  assert_int_equal(cab_allow_target("/v1beta/models/a.b:generateContent", why, sizeof why), 0);
}

/* --- end to end: a hostile upstream ----------------------------------------------------- */

/* An upstream that hands the key back: the Authorization it got in two
 * response headers (one of them named after it) and, in several letter
 * cases, in an SSE stream dripped DRIP bytes at a time. */
#define DRIP 5

struct drip {
  char *text;
  size_t len;
};

static ssize_t
drip_read(void *cls, uint64_t pos, char *buf, size_t max)
{
  struct drip *d = cls;
  if (pos >= d->len)
    return MHD_CONTENT_READER_END_OF_STREAM;
  size_t n = d->len - pos < DRIP ? d->len - pos : DRIP;
  memcpy(buf, d->text + pos, n);
  return (ssize_t)n;
}

static void
drip_free(void *cls)
{
  struct drip *d = cls;
  free(d->text);
  free(d);
}

static enum MHD_Result
leaky_handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
             const char *version, const char *data, size_t *size, void **ctx)
{
  if (*ctx == NULL) {
    *ctx = (void *)1;
    return MHD_YES;
  }
  if (*size) {
    *size = 0;
    return MHD_YES;
  }
  const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
  const char *key = auth && strncmp(auth, "Bearer ", 7) == 0 ? auth + 7 : "none";
  char upper[128], lower[128];
  size_t i;
  for (i = 0; key[i] && i < sizeof upper - 1; i++) {
    upper[i] = (char)(key[i] >= 'a' && key[i] <= 'z' ? key[i] - 32 : key[i]);
    lower[i] = (char)(key[i] >= 'A' && key[i] <= 'Z' ? key[i] + 32 : key[i]);
  }
  upper[i] = lower[i] = '\0';
  struct drip *d = calloc(1, sizeof *d);
  int n = asprintf(&d->text,
                   "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"%s\"}}]}\n\n"
                   "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"%s and %s\"}}]}\n\n"
                   "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}"
                   "\n\ndata: [DONE]\n\n",
                   auth ? auth : "", upper, lower);
  d->len = n > 0 ? (size_t)n : 0;
  struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, DRIP, drip_read, d,
                                                             drip_free);
  MHD_add_response_header(r, "Content-Type", "text/event-stream");
  MHD_add_response_header(r, "X-Seen-Authorization", auth ? auth : "");
  char name[160];
  snprintf(name, sizeof name, "X-Debug-%s", key);
  MHD_add_response_header(r, name, "1");
  enum MHD_Result ret = MHD_queue_response(c, 200, r);
  MHD_destroy_response(r);
  return ret;
}

static void
assert_no_key(const char *what, const char *text)
{
  if (text && strcasestr(text, KEY))
    fail_msg("%s holds the key: %.400s", what, text);
}

static void
test_reflected_key(void **state)
{
  setenv(KEY_ENV, KEY, 1);
  unsigned port;
  int fd = h_listen(&port);
  struct MHD_Daemon *d = MHD_start_daemon(
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL, NULL, leaky_handle,
      NULL, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_END);
  assert_non_null(d);
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%u/v1", port);
  struct h_proxy hp;
  h_proxy_start(&hp, (struct cab_proxy_config){.endpoint = url, .key_env = KEY_ENV});
  struct h_resp r;
  h_call(hp.port, "POST", "/v1/chat/completions", NULL,
         "{\"model\":\"m\",\"stream\":true,\"messages\":[]}", 5000, &r);
  assert_int_equal(r.status, 200);
  assert_no_key("the response head", r.head);
  assert_no_key("the response body", r.body);
  assert_non_null(strstr(r.head, "x-seen-authorization: bearer " PLACEHOLDER));
  assert_null(strstr(r.head, "x-debug-"));
  /* three forms of the key, each replaced; the rest as the upstream sent it */
  const char *p = r.body;
  int seen = 0;
  while ((p = strstr(p, PLACEHOLDER)) != NULL) {
    seen++;
    p++;
  }
  assert_int_equal(seen, 3);
  assert_non_null(strstr(r.body, "\"content\":\"Bearer " PLACEHOLDER "\""));
  h_resp_free(&r);
  cab_proxy_stop(hp.p); /* every record written */
  size_t len;
  cleanup_free char *calls = NULL;
  cab_error err = {0};
  assert_int_equal(cab_read_file_at(AT_FDCWD, hp.calls, 1 << 20, &calls, &len, &err), 0);
  assert_no_key("model_calls.jsonl", calls);
  assert_non_null(strstr(calls, "\"completion_tokens\":4"));
  /* two headers and three forms in the body: the record says so */
  assert_non_null(strstr(calls, "\"key_redacted\":5"));
  h_proxy_stop(&hp);
  MHD_stop_daemon(d);
  unsetenv(KEY_ENV);
}

/* The echo upstream logs every request line it gets: after the refused
 * targets, it has seen only the good call. */
static void
test_no_open_relay(void **state)
{
  setenv(KEY_ENV, KEY, 1);
  struct h_echo e;
  h_echo_start(&e);
  char url[96];
  snprintf(url, sizeof url, "%s/tenant-a/v1", e.url);
  struct h_proxy hp;
  h_proxy_start(&hp, (struct cab_proxy_config){.endpoint = url, .key_env = KEY_ENV});
  static const struct {
    const char *method, *target, *extra;
    int status;
    const char *shape; /* a piece of the error body */
  } refused[] = {
      {"GET", "/../../admin", NULL, 400, "\"type\":\"invalid_request_error\""},
      {"GET", "/v1/../../admin", NULL, 400, "dot-segment"},
      {"GET", "/%2e%2e/%2e%2e/admin", NULL, 400, "encoded"},
      {"GET", "/%2E%2E/admin", NULL, 400, "encoded"},
      {"GET", "/v1/models/..%2F..%2Fadmin", NULL, 400, "encoded"},
      {"POST", "/v1/messages/../../admin", "anthropic-version: 2023-06-01\r\n", 400,
       "\"type\":\"error\""},
      {"GET", "/admin", NULL, 404, "not a model API path"},
      {"GET", "/v1/files", NULL, 404, "not a model API path"},
      {"POST", "/tenant-b/v1/chat/completions", NULL, 404, "not a model API path"},
      {"DELETE", "/v1/models/m", NULL, 405, "method is not served"},
      {"GET", "/v1/chat/completions", NULL, 405, "method is not served"},
      {"GET", "/v1/messages", "anthropic-version: 2023-06-01\r\n", 405, "\"type\":\"error\""},
      {"GET", "/v1beta/models/g:generateContent/../../../admin", NULL, 400, "\"status\":"},
      {"GET", "/v1beta/files", NULL, 404, "\"status\":\"NOT_FOUND\""},
  };
  struct h_resp r;
  for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
    h_call(hp.port, refused[i].method, refused[i].target, refused[i].extra,
           strcmp(refused[i].method, "POST") == 0 ? "{\"model\":\"m\"}" : NULL, 5000, &r);
    if (r.status != refused[i].status || strstr(r.body, refused[i].shape) == NULL)
      fail_msg("%s %s: %d %s", refused[i].method, refused[i].target, r.status, r.body);
    h_resp_free(&r);
  }
  /* headers some servers take as the real path, method or host stay here */
  h_call(hp.port, "GET", "/v1/models",
         "X-Original-URL: /admin\r\nX-Rewrite-URL: /admin\r\nX-HTTP-Method-Override: DELETE\r\n"
         "X-Forwarded-Host: evil.example\r\nForwarded: host=evil.example\r\nX-Kept: 1\r\n", NULL,
         5000, &r);
  assert_int_equal(r.status, 200);
  assert_non_null(strstr(r.body, "\"X-Kept\":\"1\""));
  assert_null(strcasestr(r.body, "admin"));
  assert_null(strcasestr(r.body, "evil.example"));
  assert_null(strcasestr(r.body, "override"));
  assert_no_key("GET /v1/models", r.body);
  assert_no_key("GET /v1/models (head)", r.head);
  h_resp_free(&r);
  pthread_mutex_lock(&e.mu);
  assert_string_equal(e.paths, "GET /tenant-a/v1/models\n");
  pthread_mutex_unlock(&e.mu);
  cab_proxy_stop(hp.p);
  cleanup_free char *calls = NULL;
  size_t len;
  cab_error err = {0};
  assert_int_equal(cab_read_file_at(AT_FDCWD, hp.calls, 1 << 20, &calls, &len, &err), 0);
  assert_no_key("model_calls.jsonl", calls);
  assert_non_null(strstr(calls, "\"class\":\"client\""));
  h_proxy_stop(&hp);
  h_echo_stop(&e);
  unsetenv(KEY_ENV);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_redactor),
      cmocka_unit_test(test_redactor_random),
      cmocka_unit_test(test_allow_list),
      cmocka_unit_test(test_reflected_key),
      cmocka_unit_test(test_no_open_relay),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
