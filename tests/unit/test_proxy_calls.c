/* The proxy end to end on 127.0.0.1: exact accounting, upstream failures
 * and retries, the key, streaming without buffering, record and replay. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_proxy_harness.h"

#define CHAT "/v1/chat/completions"
#define ANTHROPIC_HDR "anthropic-version: 2023-06-01\r\n"

static void
expect_tokens(const cJSON *r, int prompt, int completion, int total)
{
  assert_non_null(r);
  assert_int_equal((int)h_num(r, "prompt_tokens"), prompt);
  assert_int_equal((int)h_num(r, "completion_tokens"), completion);
  assert_int_equal((int)h_num(r, "total_tokens"), total);
}

static void
test_accounting_exact(void **state)
{
  struct h_upstream up;
  h_upstream_start(&up, "{\"model\":\"scripted/acct\",\"turns\":["
                        "{\"content\":\"a\",\"usage\":{\"prompt_tokens\":123,\"completion_tokens\":45}},"
                        "{\"content\":\"b b b\",\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":9}},"
                        "{\"content\":\"c\",\"usage\":{\"prompt_tokens\":50,\"completion_tokens\":20,"
                        "\"cached_tokens\":10}},"
                        "{\"content\":\"d d\",\"usage\":{\"prompt_tokens\":33,\"completion_tokens\":11}},"
                        "{\"content\":\"e\",\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":6}}]}");
  struct h_proxy hp;
  h_proxy_start(&hp, (struct cab_proxy_config){.endpoint = up.url});
  struct h_resp r;

  h_call(hp.port, "POST", CHAT, NULL, "{\"model\":\"m\",\"messages\":[]}", 5000, &r);
  assert_int_equal(r.status, 200);
  h_resp_free(&r);
  h_call(hp.port, "POST", CHAT, NULL, "{\"model\":\"m\",\"stream\":true,\"messages\":[]}", 5000, &r);
  assert_int_equal(r.status, 200);
  assert_non_null(strstr(r.head, "content-type: text/event-stream"));
  /* The injected usage event reaches the client too. */
  assert_non_null(strstr(r.body, "\"usage\":{\"prompt_tokens\":7"));
  h_resp_free(&r);
  /* Anthropic clients of a chat endpoint are translated (bridge.h); the
   * figures stay exact. */
  h_call(hp.port, "POST", "/v1/messages", ANTHROPIC_HDR,
         "{\"model\":\"claude\",\"max_tokens\":10,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
         5000, &r);
  assert_int_equal(r.status, 200);
  h_resp_free(&r);
  h_call(hp.port, "POST", "/v1/messages", ANTHROPIC_HDR,
         "{\"model\":\"claude\",\"max_tokens\":10,\"stream\":true,"
         "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
         5000, &r);
  assert_int_equal(r.status, 200);
  h_resp_free(&r);
  h_call(hp.port, "POST", CHAT, NULL,
         "{\"model\":\"m\",\"stream\":true,\"stream_options\":{\"include_usage\":true},\"messages\":[]}",
         5000, &r);
  assert_int_equal(r.status, 200);
  h_resp_free(&r);

  cJSON *all;
  h_record(hp.calls, 5, &all);
  assert_int_equal(cJSON_GetArraySize(all), 5);
  const cJSON *r0 = h_find(all, 1), *r1 = h_find(all, 2), *r2 = h_find(all, 3),
              *r3 = h_find(all, 4), *r4 = h_find(all, 5);
  expect_tokens(r0, 123, 45, 168);
  expect_tokens(r1, 7, 9, 16);
  expect_tokens(r2, 50, 20, 70);
  expect_tokens(r3, 33, 11, 44);
  expect_tokens(r4, 5, 6, 11);
  assert_true(cJSON_IsFalse(cJSON_GetObjectItem(r0, "stream")));
  assert_true(cJSON_IsTrue(cJSON_GetObjectItem(r1, "stream")));
  assert_true(cJSON_IsTrue(cJSON_GetObjectItem(r1, "usage_injected")));
  assert_null(cJSON_GetObjectItem(r4, "usage_injected"));
  assert_null(cJSON_GetObjectItem(r3, "usage_injected"));
  assert_string_equal(h_str(r0, "finish_reason"), "stop");
  assert_string_equal(h_str(r2, "finish_reason"), "end_turn");
  assert_string_equal(h_str(r0, "class"), "ok");
  assert_string_equal(h_str(r0, "model"), "m");
  assert_string_equal(h_str(r2, "path"), "/v1/messages");
  assert_string_equal(h_str(r2, "translated_from"), "anthropic");
  assert_null(cJSON_GetObjectItem(r0, "translated_from"));
  assert_int_equal((int)h_num(r0, "status"), 200);
  assert_true(h_num(r1, "ttfb_ms") >= 0 && h_num(r1, "latency_ms") >= h_num(r1, "ttfb_ms"));
  assert_int_equal(strncmp(h_str(r0, "request_sha256"), "sha256:", 7), 0);
  cJSON_Delete(all);

  struct cab_proxy_totals t;
  cab_proxy_totals(hp.p, &t);
  assert_int_equal(t.model_calls, 5);
  assert_int_equal(t.prompt_tokens, 123 + 7 + 50 + 33 + 5);
  assert_int_equal(t.completion_tokens, 45 + 9 + 20 + 11 + 6);
  assert_int_equal(t.total_tokens, t.prompt_tokens + t.completion_tokens);
  assert_int_equal(t.ok, 5);
  h_proxy_stop(&hp);
  h_upstream_stop(&up);
}

static void
test_upstream_down(void **state)
{
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%u/v1", h_dead_port());
  struct h_proxy hp;
  h_proxy_start(&hp, (struct cab_proxy_config){.endpoint = url, .retries = 2, .retry_base_ms = 50});
  struct h_resp r;
  h_call(hp.port, "POST", CHAT, NULL, "{\"model\":\"m\"}", 5000, &r);
  assert_int_equal(r.status, 502);
  assert_non_null(strstr(r.body, "upstream_unreachable"));
  h_resp_free(&r);
  cJSON *all;
  cJSON *rec = h_record(hp.calls, 1, &all);
  assert_string_equal(h_str(rec, "class"), "infra");
  assert_int_equal((int)h_num(rec, "attempts"), 3);
  assert_non_null(strstr(h_str(rec, "error"), "connection failed"));
  assert_true(h_num(rec, "latency_ms") >= 150); /* 50 + 100 ms of backoff */
  assert_true(cJSON_IsNull(cJSON_GetObjectItem(rec, "prompt_tokens")));
  cJSON_Delete(all);
  h_proxy_stop(&hp);
}

static void
test_upstream_errors_and_retries(void **state)
{
  struct h_upstream up;
  h_upstream_start(&up, "{\"model\":\"scripted/err\",\"turns\":["
                        "{\"status\":429,\"retry_after\":1},{\"status\":500},"
                        "{\"status\":500},{\"status\":429},"
                        "{\"content\":\"finally\",\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}]}");
  struct h_proxy plain, retrying;
  h_proxy_start(&plain, (struct cab_proxy_config){.endpoint = up.url});
  h_proxy_start(&retrying,
                (struct cab_proxy_config){.endpoint = up.url, .retries = 2, .retry_base_ms = 20});
  struct h_resp r;
  cJSON *all;

  h_call(plain.port, "POST", CHAT, NULL, "{\"model\":\"m\"}", 5000, &r);
  assert_int_equal(r.status, 429);
  assert_non_null(strstr(r.head, "retry-after: 1"));
  h_resp_free(&r);
  cJSON *rec = h_record(plain.calls, 1, &all);
  assert_string_equal(h_str(rec, "class"), "infra");
  assert_int_equal((int)h_num(rec, "status"), 429);
  assert_non_null(strstr(h_str(rec, "error"), "429"));
  cJSON_Delete(all);

  h_call(plain.port, "POST", CHAT, NULL, "{\"model\":\"m\"}", 5000, &r);
  assert_int_equal(r.status, 500);
  h_resp_free(&r);
  rec = h_record(plain.calls, 2, &all);
  assert_string_equal(h_str(rec, "class"), "infra");
  assert_int_equal((int)h_num(rec, "status"), 500);
  cJSON_Delete(all);

  /* 500, 429, then the answer: the client sees only the answer. */
  h_call(retrying.port, "POST", CHAT, NULL, "{\"model\":\"m\"}", 5000, &r);
  assert_int_equal(r.status, 200);
  assert_non_null(strstr(r.body, "finally"));
  h_resp_free(&r);
  rec = h_record(retrying.calls, 1, &all);
  assert_string_equal(h_str(rec, "class"), "ok");
  assert_int_equal((int)h_num(rec, "attempts"), 3);
  expect_tokens(rec, 3, 4, 7);
  cJSON_Delete(all);

  struct cab_proxy_totals t;
  cab_proxy_totals(plain.p, &t);
  assert_int_equal(t.infra_errors, 2);
  h_proxy_stop(&plain);
  h_proxy_stop(&retrying);
  h_upstream_stop(&up);
}

static void
test_upstream_timeout(void **state)
{
  struct h_upstream up;
  h_upstream_start(&up, "{\"model\":\"scripted/slow\",\"turns\":["
                        "{\"content\":\"late\",\"delay_ms\":2500},"
                        "{\"content\":\"in time\",\"delay_ms\":1500}]}");
  /* The client side's idle timeout (1 s) must not cut a call that waits
   * longer than that for its upstream. */
  struct h_proxy hp;
  h_proxy_start(&hp, (struct cab_proxy_config){.endpoint = up.url, .upstream_timeout_s = 1,
                                               .idle_timeout_s = 1});
  struct h_resp r;
  h_call(hp.port, "POST", CHAT, NULL, "{\"model\":\"m\"}", 8000, &r);
  assert_int_equal(r.status, 504);
  assert_non_null(strstr(r.body, "upstream_timeout"));
  assert_true(r.total_ms < 2400);
  h_resp_free(&r);
  cJSON *all;
  cJSON *rec = h_record(hp.calls, 1, &all);
  assert_string_equal(h_str(rec, "class"), "infra");
  assert_non_null(strstr(h_str(rec, "error"), "timeout"));
  cJSON_Delete(all);
  h_proxy_stop(&hp);

  h_proxy_start(&hp, (struct cab_proxy_config){.endpoint = up.url, .upstream_timeout_s = 5,
                                               .idle_timeout_s = 1});
  h_call(hp.port, "POST", CHAT, NULL, "{\"model\":\"m\"}", 8000, &r);
  assert_int_equal(r.status, 200);
  assert_non_null(strstr(r.body, "in time"));
  h_resp_free(&r);
  h_proxy_stop(&hp);
  h_upstream_stop(&up);
}

static void
test_key_and_headers(void **state)
{
  struct h_echo e;
  h_echo_start(&e);
  char url[96];
  snprintf(url, sizeof url, "%s/prefix/v1/", e.url);
  setenv("CAB_TEST_PROXY_KEY", "sk-real-7d1f3a", 1);
  struct h_proxy hp;
  h_proxy_start(&hp, (struct cab_proxy_config){.endpoint = url, .key_env = "CAB_TEST_PROXY_KEY"});
  struct h_resp r;

  h_call(hp.port, "POST", CHAT,
         "Authorization: Bearer cab-placeholder-key\r\nX-Api-Key: cab-placeholder-key\r\n"
         "Accept-Encoding: gzip\r\nX-Custom: kept\r\n",
         "{\"model\":\"m\"}", 5000, &r);
  assert_int_equal(r.status, 200);
  assert_non_null(strstr(r.head, "x-upstream: echo"));
  /* the upstream got the real key; the client, which it was reflected to,
   * the placeholder (test_proxy_relay.c attacks this further) */
  assert_non_null(strstr(e.last, "\"Authorization\":\"Bearer sk-real-7d1f3a\""));
  assert_null(strstr(r.body, "sk-real"));
  cJSON *j = cJSON_Parse(r.body);
  assert_non_null(j);
  assert_string_equal(h_str(j, "url"), "/prefix/v1/chat/completions");
  const cJSON *h = cJSON_GetObjectItem(j, "headers");
  assert_string_equal(h_str(h, "Authorization"), "Bearer cab-placeholder-key");
  assert_null(h_str(h, "X-Api-Key"));
  assert_null(h_str(h, "Accept-Encoding"));
  assert_string_equal(h_str(h, "X-Custom"), "kept");
  assert_string_equal(h_str(j, "body"), "{\"model\":\"m\"}");
  cJSON_Delete(j);
  h_resp_free(&r);

  /* A client of the endpoint's own wire passes through: an Anthropic
   * endpoint gets its key in x-api-key. */
  h_proxy_stop(&hp);
  h_proxy_start(&hp, (struct cab_proxy_config){.endpoint = url, .key_env = "CAB_TEST_PROXY_KEY",
                                                .endpoint_wire = CAB_WIRE_ANTHROPIC});
  h_call(hp.port, "POST", "/v1/messages", ANTHROPIC_HDR "x-api-key: cab-placeholder-key\r\n",
         "{\"model\":\"claude\"}", 5000, &r);
  assert_non_null(strstr(e.last, "\"x-api-key\":\"sk-real-7d1f3a\""));
  j = cJSON_Parse(r.body);
  h = cJSON_GetObjectItem(j, "headers");
  assert_string_equal(h_str(h, "x-api-key"), "cab-placeholder-key");
  assert_null(h_str(h, "Authorization"));
  assert_string_equal(h_str(h, "anthropic-version"), "2023-06-01");
  cJSON_Delete(j);
  h_resp_free(&r);
  /* cab translates only to chat: a Responses client of an Anthropic
   * endpoint is refused in its own wire's error shape, with the way out. */
  h_call(hp.port, "POST", "/v1/responses", NULL, "{\"model\":\"m\",\"input\":\"hi\"}", 5000, &r);
  assert_int_equal(r.status, 501);
  assert_non_null(strstr(r.body, "--endpoint-wire chat"));
  h_resp_free(&r);

  /* A target that is not a path never leaves for another host. */
  h_call(hp.port, "GET", "http://169.254.169.254/latest/meta-data", NULL, NULL, 5000, &r);
  assert_int_equal(r.status, 400);
  h_resp_free(&r);
  h_proxy_stop(&hp);
  h_echo_stop(&e);
  unsetenv("CAB_TEST_PROXY_KEY");
}

static void
test_streaming_not_buffered(void **state)
{
  struct h_upstream up;
  h_upstream_start(&up, "{\"model\":\"scripted/drip\",\"turns\":[{\"content\":"
                        "\"one two three four five\",\"stream_chunk_delay_ms\":250}]}");
  struct h_proxy hp;
  h_proxy_start(&hp, (struct cab_proxy_config){.endpoint = up.url});
  struct h_resp r;
  h_call(hp.port, "POST", CHAT, NULL, "{\"model\":\"m\",\"stream\":true}", 10000, &r);
  assert_int_equal(r.status, 200);
  assert_true(r.chunked);
  /* Events 250 ms apart: the first reaches the client long before the last
   * is sent (relative figures: a loaded machine only stretches both). */
  fprintf(stderr, "first chunk after %lld ms, last after %lld ms\n", (long long)r.first_chunk_ms,
          (long long)r.total_ms);
  assert_true(r.total_ms >= 1000);
  assert_true(r.first_chunk_ms + 700 < r.total_ms);
  assert_non_null(strstr(r.body, "data: [DONE]"));
  h_resp_free(&r);
  cJSON *all;
  cJSON *rec = h_record(hp.calls, 1, &all);
  assert_true(h_num(rec, "ttfb_ms") + 700 < h_num(rec, "latency_ms"));
  cJSON_Delete(all);
  h_proxy_stop(&hp);
  h_upstream_stop(&up);
}

static void
test_record_replay(void **state)
{
  static const char *const bodies[] = {
      "{\"model\":\"m\",\"temperature\":0.2,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
      "{\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"more\"}]}",
  };
  struct h_upstream up;
  h_upstream_start(&up, "{\"model\":\"scripted/rec\",\"turns\":[{\"content\":\"first answer\"},"
                        "{\"content\":\"second, streamed\"}]}");
  char cassette[] = "/tmp/cab-test-cassette.XXXXXX";
  close(mkstemp(cassette));
  unlink(cassette);
  struct h_proxy rec;
  h_proxy_start(&rec, (struct cab_proxy_config){.endpoint = up.url, .record_path = cassette});
  struct h_resp live[3];
  h_call(rec.port, "POST", CHAT, NULL, bodies[0], 5000, &live[0]);
  h_call(rec.port, "POST", CHAT, NULL, bodies[1], 5000, &live[1]);
  h_call(rec.port, "GET", "/v1/models", NULL, NULL, 5000, &live[2]);
  h_proxy_stop(&rec);
  h_upstream_stop(&up); /* replay needs no upstream */

  struct h_proxy rep;
  h_proxy_start(&rep, (struct cab_proxy_config){.replay_path = cassette});
  struct h_resp again[3];
  h_call(rep.port, "POST", CHAT, NULL, bodies[0], 5000, &again[0]);
  h_call(rep.port, "POST", CHAT, NULL, bodies[1], 5000, &again[1]);
  h_call(rep.port, "GET", "/v1/models", NULL, NULL, 5000, &again[2]);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(live[i].status, 200);
    assert_int_equal(again[i].status, live[i].status);
    assert_int_equal(again[i].len, live[i].len);
    assert_memory_equal(again[i].body, live[i].body, live[i].len);
    h_resp_free(&live[i]);
    h_resp_free(&again[i]);
  }
  cJSON *all;
  cJSON *r = h_record(rep.calls, 3, &all);
  assert_true(cJSON_IsTrue(cJSON_GetObjectItem(r, "replayed")));
  cJSON_Delete(all);
  r = h_record(rep.calls, 2, &all);
  expect_tokens(r, 10, 5, 15); /* the script's default usage, replayed */
  cJSON_Delete(all);

  struct h_resp miss;
  h_call(rep.port, "POST", CHAT, NULL,
         "{\"model\":\"m\",\"temperature\":0.7,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
         5000, &miss);
  assert_int_equal(miss.status, 400);
  assert_non_null(strstr(miss.body, "cab_replay_mismatch"));
  assert_non_null(strstr(miss.body, "0.2"));
  assert_non_null(strstr(miss.body, "0.7"));
  h_resp_free(&miss);
  r = h_record(rep.calls, 4, &all);
  assert_string_equal(h_str(r, "class"), "client");
  assert_non_null(strstr(h_str(r, "error"), "cab replay: POST /v1/chat/completions"));
  cJSON_Delete(all);
  struct cab_proxy_totals t;
  cab_proxy_totals(rep.p, &t);
  assert_int_equal(t.replay_misses, 1);
  assert_non_null(strstr(t.first_replay_miss, "POST /v1/chat/completions"));
  h_proxy_stop(&rep);
  unlink(cassette);
}

static void
test_keepalive(void **state)
{
  struct h_upstream up;
  h_upstream_start(&up, "{\"model\":\"scripted/ka\",\"after_last\":\"repeat\",\"turns\":"
                        "[{\"content\":\"again\"}]}");
  struct h_proxy hp;
  h_proxy_start(&hp, (struct cab_proxy_config){.endpoint = up.url});
  struct h_reader *rd = calloc(1, sizeof *rd);
  rd->fd = h_connect(hp.port);
  rd->deadline = cab_now_ns() + 5000000000LL;
  static const char req[] = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                            "Content-Length: 13\r\n\r\n{\"model\":\"m\"}";
  for (int i = 0; i < 5; i++) {
    struct h_resp r;
    assert_int_equal(h_write_all(rd->fd, req, sizeof req - 1), 0);
    assert_int_equal(h_read_response(rd, &r, cab_now_ns(), false), 0);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "again"));
    h_resp_free(&r);
  }
  close(rd->fd);
  free(rd);
  h_proxy_stop(&hp);
  h_upstream_stop(&up);
}

int
main(void)
{
  signal(SIGPIPE, SIG_IGN);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_accounting_exact),
      cmocka_unit_test(test_upstream_down),
      cmocka_unit_test(test_upstream_errors_and_retries),
      cmocka_unit_test(test_upstream_timeout),
      cmocka_unit_test(test_key_and_headers),
      cmocka_unit_test(test_streaming_not_buffered),
      cmocka_unit_test(test_record_replay),
      cmocka_unit_test(test_keepalive),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
