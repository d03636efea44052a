/* Unit tests for cassettes (runner/model_api/cassette.c): write and load back
 * (text and binary), concurrent appends, match by hash, by order, repeats,
 * the mismatch message, malformed files. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "runner/model_api/cassette.h"

struct fixture {
  char dir[256];
  char path[300];
};

static int
setup(void **state)
{
  struct fixture *f = calloc(1, sizeof *f);
  const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  snprintf(f->dir, sizeof f->dir, "%s/cab-test-cassette.XXXXXX", tmp);
  if (mkdtemp(f->dir) == NULL)
    return -1;
  snprintf(f->path, sizeof f->path, "%s/calls.jsonl", f->dir);
  *state = f;
  return 0;
}

static int
teardown(void **state)
{
  struct fixture *f = *state;
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
  (void)!system(cmd);
  free(f);
  return 0;
}

static const char *BODY1 = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                           "\"temperature\":0.2,\"stream\":true}";
static const char *BODY2 = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"again\"}]}";

static void
write_entry(struct cab_cassette_writer *w, int64_t seq, const char *method, const char *path,
            const char *body, size_t body_len, int status, const char *ct,
            struct cab_cassette_chunk *chunks, size_t n)
{
  struct cab_cassette_entry e = {
      .seq = seq,
      .method = (char *)method,
      .path = (char *)path,
      .body = (char *)body,
      .body_len = body_len,
      .status = status,
      .content_type = (char *)ct,
      .chunks = chunks,
      .n_chunks = n,
  };
  cab_error err = {0};
  if (cab_cassette_append(w, &e, &err) < 0)
    fail_msg("append: %s", err.message);
}

/* seq 1: a stream (BODY1); seq 2: JSON (BODY2); seq 3: GET /v1/models;
 * seq 4: BODY1 again with another answer; seq 5: binary body and chunk. */
static void
write_sample(const char *path)
{
  struct cab_cassette_writer *w;
  cab_error err = {0};
  if (cab_cassette_writer_open(path, &w, &err) < 0)
    fail_msg("open: %s", err.message);
  struct cab_cassette_chunk s1[] = {
      {0, "data: {\"choices\":[{\"delta\":{\"content\":\"he\"}}]}\n\n", 0},
      {15, "data: {\"choices\":[{\"delta\":{\"content\":\"llo\"}}]}\n\n", 0},
      {31, "data: [DONE]\n\n", 0},
  };
  for (size_t i = 0; i < 3; i++)
    s1[i].len = strlen(s1[i].data);
  write_entry(w, cab_cassette_next_seq(w), "POST", "/v1/chat/completions", BODY1, strlen(BODY1),
              200, "text/event-stream", s1, 3);
  struct cab_cassette_chunk j2[] = {{4, "{\"choices\":[]}", 14}};
  write_entry(w, cab_cassette_next_seq(w), "POST", "/v1/chat/completions", BODY2, strlen(BODY2),
              200, "application/json", j2, 1);
  struct cab_cassette_chunk m3[] = {{1, "{\"data\":[]}", 11}};
  write_entry(w, cab_cassette_next_seq(w), "GET", "/v1/models", "", 0, 200, "application/json",
              m3, 1);
  struct cab_cassette_chunk j4[] = {{2, "{\"second\":true}", 15}};
  write_entry(w, cab_cassette_next_seq(w), "POST", "/v1/chat/completions", BODY1, strlen(BODY1),
              200, "application/json", j4, 1);
  static const char bin[] = {'\x1f', '\x8b', '\0', 'a', '\xff', '\n'};
  struct cab_cassette_chunk b5[] = {{7, (char *)bin, sizeof bin}};
  write_entry(w, cab_cassette_next_seq(w), "POST", "/v1/embeddings", bin, sizeof bin, 500,
              "application/octet-stream", b5, 1);
  cab_cassette_writer_close(w);
}

static struct cab_cassette *
load(const char *path)
{
  struct cab_cassette *c;
  cab_error err = {0};
  if (cab_cassette_load(path, &c, &err) < 0)
    fail_msg("load: %s", err.message);
  return c;
}

static void
test_roundtrip(void **state)
{
  struct fixture *f = *state;
  write_sample(f->path);

  /* one JSON object per line, "seq" first */
  cleanup_free char *text = NULL;
  size_t len;
  cab_error err = {0};
  assert_int_equal(cab_read_file_at(AT_FDCWD, f->path, 1 << 20, &text, &len, &err), 0);
  size_t lines = 0;
  for (char *p = text; (p = strchr(p, '\n')) != NULL; p++)
    lines++;
  assert_int_equal(lines, 5);
  assert_memory_equal(text, "{\"seq\":1,\"request\":{\"method\":\"POST\"", 35);
  assert_non_null(strstr(text, "\"body_b64\":\"H4sAYf8K\""));
  assert_non_null(strstr(text, "\"data_b64\":\"H4sAYf8K\""));

  struct cab_cassette *c = load(f->path);
  assert_int_equal(cab_cassette_count(c), 5);
  const struct cab_cassette_entry *e = cab_cassette_entry_at(c, 0);
  assert_int_equal(e->seq, 1);
  assert_string_equal(e->method, "POST");
  assert_string_equal(e->path, "/v1/chat/completions");
  assert_int_equal(e->body_len, strlen(BODY1));
  assert_string_equal(e->body, BODY1);
  assert_int_equal(e->status, 200);
  assert_string_equal(e->content_type, "text/event-stream");
  assert_int_equal(e->n_chunks, 3);
  assert_int_equal(e->chunks[1].t_ms, 15);
  assert_string_equal(e->chunks[2].data, "data: [DONE]\n\n");
  char sha[72];
  cab_request_sha256("POST", "/v1/chat/completions", BODY1, strlen(BODY1), sha);
  assert_string_equal(e->request_sha256, sha);

  e = cab_cassette_entry_at(c, 4);
  static const char bin[] = {'\x1f', '\x8b', '\0', 'a', '\xff', '\n'};
  assert_int_equal(e->body_len, sizeof bin);
  assert_memory_equal(e->body, bin, sizeof bin);
  assert_int_equal(e->chunks[0].len, sizeof bin);
  assert_memory_equal(e->chunks[0].data, bin, sizeof bin);
  assert_int_equal(e->status, 500);
  assert_null(cab_cassette_entry_at(c, 5));
  cab_cassette_free(c);
}

static void
test_match_hash(void **state)
{
  struct fixture *f = *state;
  write_sample(f->path);
  struct cab_cassette *c = load(f->path);
  cab_error err = {0};
  /* out of order: BODY2 first, then BODY1 twice (seq 1, then seq 4) */
  const struct cab_cassette_entry *e =
      cab_cassette_match(c, "POST", "/v1/chat/completions", BODY2, strlen(BODY2), &err);
  assert_non_null(e);
  assert_int_equal(e->seq, 2);
  e = cab_cassette_match(c, "POST", "/v1/chat/completions", BODY1, strlen(BODY1), &err);
  assert_int_equal(e->seq, 1);
  e = cab_cassette_match(c, "POST", "/v1/chat/completions", BODY1, strlen(BODY1), &err);
  assert_int_equal(e->seq, 4);
  /* repeated: the last used entry with that hash again */
  e = cab_cassette_match(c, "POST", "/v1/chat/completions", BODY1, strlen(BODY1), &err);
  assert_int_equal(e->seq, 4);
  for (int i = 0; i < 3; i++) {
    e = cab_cassette_match(c, "GET", "/v1/models", NULL, 0, &err);
    assert_non_null(e);
    assert_int_equal(e->seq, 3);
  }
  cab_cassette_free(c);
}

static void
test_mismatch_message(void **state)
{
  struct fixture *f = *state;
  write_sample(f->path);
  struct cab_cassette *c = load(f->path);
  cab_error err = {0};
  char changed[512];
  snprintf(changed, sizeof changed, "%s", BODY1);
  char *t = strstr(changed, "0.2");
  t[2] = '7';
  const struct cab_cassette_entry *e =
      cab_cassette_match(c, "POST", "/v1/chat/completions", changed, strlen(changed), &err);
  assert_null(e);
  size_t at = (size_t)(t - changed) + 2;
  char want[200];
  snprintf(want, sizeof want,
           "body: at byte %zu: recorded \"temperature\":0.2, got \"temperature\":0.7", at);
  if (strstr(err.message, want) == NULL || strstr(err.message, "seq 1") == NULL)
    fail_msg("message: %s\nwant: %s", err.message, want);
  assert_null(strchr(err.message, '\n'));

  /* a shorter body */
  err = (cab_error){0};
  assert_null(cab_cassette_match(c, "POST", "/v1/chat/completions", BODY1, 20, &err));
  assert_non_null(strstr(err.message, "at byte 20: recorded "));
  assert_non_null(strstr(err.message, "got <end of body>"));

  /* an unknown path: compared with the next unused entry */
  err = (cab_error){0};
  assert_null(cab_cassette_match(c, "POST", "/v1/responses", "{}", 2, &err));
  assert_non_null(strstr(err.message, "path: recorded /v1/chat/completions, got /v1/responses"));

  /* everything used: says so */
  cab_cassette_free(c);
  c = load(f->path);
  for (size_t i = 0; i < cab_cassette_count(c); i++) {
    const struct cab_cassette_entry *x = cab_cassette_entry_at(c, i);
    assert_non_null(cab_cassette_match(c, x->method, x->path, x->body, x->body_len, &err));
  }
  /* a changed request once all are used: compared with the closest */
  err = (cab_error){0};
  assert_null(cab_cassette_match(c, "POST", "/v1/chat/completions", changed, strlen(changed),
                                 &err));
  if (strstr(err.message, want) == NULL || strstr(err.message, "the closest") == NULL)
    fail_msg("message: %s\nwant: %s", err.message, want);
  /* ... the closest, not the first */
  err = (cab_error){0};
  char changed2[256];
  snprintf(changed2, sizeof changed2, "%s", BODY2);
  strstr(changed2, "again")[4] = 'x';
  assert_null(cab_cassette_match(c, "POST", "/v1/chat/completions", changed2, strlen(changed2),
                                 &err));
  if (strstr(err.message, "entry seq 2") == NULL ||
      strstr(err.message, "recorded \"content\":\"again\"") == NULL)
    fail_msg("message: %s", err.message);
  /* nothing of that method and path, nothing unused: says so */
  err = (cab_error){0};
  assert_null(cab_cassette_match(c, "DELETE", "/v1/x", "", 0, &err));
  assert_non_null(strstr(err.message, "no recorded request left"));
  cab_cassette_free(c);
}

static void
test_match_order(void **state)
{
  struct fixture *f = *state;
  write_sample(f->path);
  struct cab_cassette *c = load(f->path);
  cab_cassette_set_mode(c, CAB_CASSETTE_MATCH_ORDER);
  cab_error err = {0};
  const char *v1 = "{\"id\":\"volatile-1\"}", *v2 = "{\"id\":\"volatile-2\"}";
  const struct cab_cassette_entry *e =
      cab_cassette_match(c, "POST", "/v1/chat/completions", v1, strlen(v1), &err);
  assert_non_null(e);
  assert_int_equal(e->seq, 1);
  /* an exact hash match still wins over order */
  e = cab_cassette_match(c, "POST", "/v1/chat/completions", BODY1, strlen(BODY1), &err);
  assert_int_equal(e->seq, 4);
  e = cab_cassette_match(c, "POST", "/v1/chat/completions", v2, strlen(v2), &err);
  assert_int_equal(e->seq, 2);
  err = (cab_error){0};
  assert_null(cab_cassette_match(c, "POST", "/v1/chat/completions", v2, strlen(v2), &err));
  assert_true(err.message[0] != '\0');
  cab_cassette_free(c);
}

struct writer_arg {
  struct cab_cassette_writer *w;
  int id;
};

static void *
writer_thread(void *p)
{
  struct writer_arg *a = p;
  char body[4096];
  memset(body, 'a' + a->id, sizeof body - 1);
  body[sizeof body - 1] = '\0';
  for (int i = 0; i < 50; i++) {
    struct cab_cassette_chunk ch = {i, body, sizeof body - 1};
    struct cab_cassette_entry e = {.seq = cab_cassette_next_seq(a->w),
                                   .method = "POST",
                                   .path = "/v1/chat/completions",
                                   .body = body,
                                   .body_len = sizeof body - 1,
                                   .status = 200,
                                   .content_type = "application/json",
                                   .chunks = &ch,
                                   .n_chunks = 1};
    cab_error err = {0};
    if (cab_cassette_append(a->w, &e, &err) < 0)
      return (void *)1;
  }
  return NULL;
}

static void
test_concurrent_appends(void **state)
{
  struct fixture *f = *state;
  struct cab_cassette_writer *w;
  cab_error err = {0};
  assert_int_equal(cab_cassette_writer_open(f->path, &w, &err), 0);
  pthread_t th[8];
  struct writer_arg args[8];
  for (int i = 0; i < 8; i++) {
    args[i] = (struct writer_arg){w, i};
    assert_int_equal(pthread_create(&th[i], NULL, writer_thread, &args[i]), 0);
  }
  for (int i = 0; i < 8; i++) {
    void *r;
    pthread_join(th[i], &r);
    assert_null(r);
  }
  cab_cassette_writer_close(w);
  struct cab_cassette *c = load(f->path); /* every line parses */
  assert_int_equal(cab_cassette_count(c), 400);
  bool seen[401] = {0};
  for (size_t i = 0; i < 400; i++) {
    const struct cab_cassette_entry *e = cab_cassette_entry_at(c, i);
    assert_true(e->seq >= 1 && e->seq <= 400);
    assert_false(seen[e->seq]);
    seen[e->seq] = true;
  }
  cab_cassette_free(c);
}

static void
write_text(const char *path, const char *text)
{
  cab_error err = {0};
  if (cab_write_file_atomic(path, text, strlen(text), 0644, &err) < 0)
    fail_msg("%s", err.message);
}

static void
expect_load_error(const char *path, const char *text, const char *want)
{
  write_text(path, text);
  struct cab_cassette *c = NULL;
  cab_error err = {0};
  assert_int_equal(cab_cassette_load(path, &c, &err), -1);
  if (strstr(err.message, want) == NULL)
    fail_msg("message '%s' lacks '%s'", err.message, want);
}

static void
test_malformed(void **state)
{
  struct fixture *f = *state;
  const char *good = "{\"seq\":1,\"request\":{\"method\":\"GET\",\"path\":\"/v1/models\","
                     "\"body\":\"\"},\"response\":{\"status\":200,\"content_type\":\"a\","
                     "\"chunks\":[]}}\n";
  char text[2048];
  snprintf(text, sizeof text, "%s\n%s{\"seq\":2}\n", good, good);
  expect_load_error(f->path, text, "line 4: missing \"request\" object");
  snprintf(text, sizeof text, "%snot json\n", good);
  expect_load_error(f->path, text, "line 2: not valid JSON");
  expect_load_error(f->path,
                    "{\"seq\":1,\"request\":{\"method\":\"GET\",\"path\":\"/\"},\"response\":{}}",
                    "line 1: request: missing \"body\"");
  expect_load_error(f->path,
                    "{\"seq\":1,\"request\":{\"method\":\"GET\",\"path\":\"/\",\"body_b64\":\"!!\"},"
                    "\"response\":{}}",
                    "not valid base64");
  expect_load_error(f->path,
                    "{\"seq\":1,\"request\":{\"method\":\"GET\",\"path\":\"/\",\"body\":\"\","
                    "\"sha256\":\"md5:x\"},\"response\":{}}",
                    "request.sha256");
  expect_load_error(f->path,
                    "{\"seq\":1,\"request\":{\"method\":\"GET\",\"path\":\"/\",\"body\":\"\"},"
                    "\"response\":{\"status\":200,\"chunks\":[{\"data\":\"x\"}]}}",
                    "response.chunks[0]: missing \"t_ms\"");

  /* a blank line and CR LF are fine; a missing sha256 is computed */
  snprintf(text, sizeof text, "\r\n%s", good);
  write_text(f->path, text);
  struct cab_cassette *c = load(f->path);
  char sha[72];
  cab_request_sha256("GET", "/v1/models", "", 0, sha);
  assert_string_equal(cab_cassette_entry_at(c, 0)->request_sha256, sha);
  cab_cassette_free(c);

  cab_error err = {0};
  assert_int_equal(cab_cassette_load("/nonexistent/c.jsonl", &c, &err), -1);
  assert_non_null(strstr(err.message, "/nonexistent/c.jsonl"));
}

static void
test_sha_identity(void **state)
{
  char a[72], b[72], d[72];
  cab_request_sha256("POST", "/v1/x", "ab", 2, a);
  cab_request_sha256("POST", "/v1/xa", "b", 1, b); /* no ambiguity across fields */
  cab_request_sha256("POST", "/v1/x", "ab", 2, d);
  assert_string_not_equal(a, b);
  assert_string_equal(a, d);
  assert_int_equal(strlen(a), 71);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
      cmocka_unit_test_setup_teardown(test_match_hash, setup, teardown),
      cmocka_unit_test_setup_teardown(test_mismatch_message, setup, teardown),
      cmocka_unit_test_setup_teardown(test_match_order, setup, teardown),
      cmocka_unit_test_setup_teardown(test_concurrent_appends, setup, teardown),
      cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
      cmocka_unit_test(test_sha_identity),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
