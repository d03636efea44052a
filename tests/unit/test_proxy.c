/* The proxy's pure parts: the endpoint URL, request inspection and the
 * usage rewrite, call records and their classes. */
#include <cjson/cJSON.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "runner/proxy/calllog.h"
#include "runner/proxy/endpoint.h"
#include "runner/proxy/request.h"

static void
check_endpoint(const char *url, const char *base, const char *host)
{
  struct cab_endpoint ep;
  cab_error err = {0};
  if (cab_endpoint_parse(url, &ep, &err) < 0)
    fail_msg("%s: %s", url, err.message);
  assert_string_equal(ep.base, base);
  if (host)
    assert_string_equal(ep.host, host);
  else
    assert_null(ep.host);
  char *u = cab_endpoint_url(&ep, "/v1/chat/completions?x=1");
  char want[512];
  snprintf(want, sizeof want, "%s/v1/chat/completions?x=1", base);
  assert_string_equal(u, want);
  free(u);
  cab_endpoint_clear(&ep);
}

static void
test_endpoint(void **state)
{
  check_endpoint("https://api.openai.com/v1", "https://api.openai.com", "api.openai.com");
  check_endpoint("https://api.openai.com", "https://api.openai.com", "api.openai.com");
  check_endpoint("https://API.OpenAI.com/v1/", "https://api.openai.com", "api.openai.com");
  check_endpoint("HTTPS://openrouter.ai/api/v1", "https://openrouter.ai/api", "openrouter.ai");
  check_endpoint("http://127.0.0.1:8080/v1", "http://127.0.0.1:8080", NULL);
  check_endpoint("http://localhost:9/", "http://localhost:9", NULL);
  check_endpoint("http://[::1]:8080", "http://[::1]:8080", NULL);
  check_endpoint("http://llm.internal:8000/prefix/", "http://llm.internal:8000/prefix",
                 "llm.internal");

  static const char *const bad[] = {"ftp://example.com", "example.com/v1", "https://",
                                    "https://user:pw@api.example.com", "https://a.example/v1?k=1",
                                    "https://a.example/#x", "not a url at all"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    struct cab_endpoint ep;
    cab_error err = {0};
    if (cab_endpoint_parse(bad[i], &ep, &err) == 0)
      fail_msg("accepted %s", bad[i]);
    assert_non_null(strstr(err.message, "--endpoint"));
  }
}

/* The request's headers, for cab_request_inspect: none, or an Anthropic
 * client's anthropic-version. */
static bool
no_header(void *cls, const char *name)
{
  return false;
}

static bool
anthropic_version(void *cls, const char *name)
{
  return strcmp(name, "anthropic-version") == 0;
}

static void
test_inspect(void **state)
{
  struct cab_request_info info;
  char *out;
  size_t len;

  /* Not streaming: nothing to rewrite. */
  const char *b = "{\"model\":\"gpt-x\",\"messages\":[]}";
  cab_request_inspect("/v1/chat/completions", no_header, NULL, b, strlen(b), &info, &out, &len);
  assert_string_equal(info.model, "gpt-x");
  assert_false(info.stream);
  assert_int_not_equal(info.wire, CAB_WIRE_ANTHROPIC);
  assert_null(out);

  /* Streaming without stream_options: inserted, every other byte kept
   * (cJSON would have printed 1e-05 and 1.0 differently). */
  b = "  {\"model\":\"m\",\"temperature\":1.0,\"top_p\":1e-5,\"stream\":true}";
  cab_request_inspect("/v1/chat/completions", no_header, NULL, b, strlen(b), &info, &out, &len);
  assert_true(info.stream);
  assert_non_null(out);
  assert_string_equal(out, "  {\"stream_options\":{\"include_usage\":true},\"model\":\"m\","
                           "\"temperature\":1.0,\"top_p\":1e-5,\"stream\":true}");
  assert_int_equal(len, strlen(out));
  cJSON *j = cJSON_Parse(out);
  assert_non_null(j);
  cJSON_Delete(j);
  free(out);

  /* stream_options without include_usage, or with it false: set. */
  b = "{\"model\":\"m\",\"stream\":true,\"stream_options\":{\"include_usage\":false,\"x\":1}}";
  cab_request_inspect("/v1/chat/completions", no_header, NULL, b, strlen(b), &info, &out, &len);
  assert_non_null(out);
  j = cJSON_Parse(out);
  const cJSON *so = cJSON_GetObjectItem(j, "stream_options");
  assert_true(cJSON_IsTrue(cJSON_GetObjectItem(so, "include_usage")));
  assert_int_equal(cJSON_GetObjectItem(so, "x")->valueint, 1);
  cJSON_Delete(j);
  free(out);

  /* Already asked for: untouched. */
  b = "{\"stream\":true,\"stream_options\":{\"include_usage\":true}}";
  cab_request_inspect("/v1/chat/completions", no_header, NULL, b, strlen(b), &info, &out, &len);
  assert_null(out);

  /* Only chat completions are rewritten; Anthropic reports usage anyway. */
  b = "{\"model\":\"claude\",\"stream\":true}";
  cab_request_inspect("/v1/messages", no_header, NULL, b, strlen(b), &info, &out, &len);
  assert_int_equal(info.wire, CAB_WIRE_ANTHROPIC);
  assert_true(info.stream);
  assert_null(out);
  cab_request_inspect("/v1/responses", no_header, NULL, b, strlen(b), &info, &out, &len);
  assert_int_not_equal(info.wire, CAB_WIRE_ANTHROPIC);
  assert_null(out);
  /* A legacy completions stream asks for usage too (else it counts nothing). */
  b = "{\"model\":\"m\",\"prompt\":\"x\",\"stream\":true,"
      "\"stream_options\":{\"include_usage\":false}}";
  cab_request_inspect("/v1/completions", no_header, NULL, b, strlen(b), &info, &out, &len);
  assert_non_null(out);
  assert_non_null(strstr(out, "\"include_usage\":true"));
  free(out);
  /* Anthropic's /v1/models: the client's anthropic-version tells. */
  cab_request_inspect("/v1/models", anthropic_version, NULL, NULL, 0, &info, &out, &len);
  assert_int_equal(info.wire, CAB_WIRE_ANTHROPIC);
  cab_request_inspect("/v1/messages/count_tokens", no_header, NULL, NULL, 0, &info, &out, &len);
  assert_int_equal(info.wire, CAB_WIRE_ANTHROPIC);
  cab_request_inspect("/v1/messagesX", no_header, NULL, NULL, 0, &info, &out, &len);
  assert_int_not_equal(info.wire, CAB_WIRE_ANTHROPIC);

  /* Not JSON, not an object, odd model: no crash, no rewrite. */
  static const char *const odd[] = {"", "not json", "[1,2]", "{\"model\":5,\"stream\":\"yes\"}",
                                    "{\"stream\":true", "\"stream\""};
  for (size_t i = 0; i < sizeof odd / sizeof *odd; i++) {
    cab_request_inspect("/v1/chat/completions", no_header, NULL, odd[i], strlen(odd[i]), &info,
                        &out, &len);
    assert_null(out);
    assert_string_equal(info.model, "");
  }
}

static void
test_classify(void **state)
{
  assert_int_equal(cab_call_classify(200, CAB_FAULT_NONE), CAB_CALL_OK);
  assert_int_equal(cab_call_classify(304, CAB_FAULT_NONE), CAB_CALL_OK);
  assert_int_equal(cab_call_classify(400, CAB_FAULT_NONE), CAB_CALL_CLIENT);
  assert_int_equal(cab_call_classify(401, CAB_FAULT_NONE), CAB_CALL_CLIENT);
  assert_int_equal(cab_call_classify(429, CAB_FAULT_NONE), CAB_CALL_INFRA);
  assert_int_equal(cab_call_classify(500, CAB_FAULT_NONE), CAB_CALL_INFRA);
  assert_int_equal(cab_call_classify(503, CAB_FAULT_NONE), CAB_CALL_INFRA);
  assert_int_equal(cab_call_classify(200, CAB_FAULT_UPSTREAM), CAB_CALL_INFRA);
  assert_int_equal(cab_call_classify(200, CAB_FAULT_CLIENT), CAB_CALL_CLIENT);
  assert_string_equal(cab_call_class_name(CAB_CALL_INFRA), "infra");
}

static void
test_calllog(void **state)
{
  char path[] = "/tmp/cab-test-calllog.XXXXXX";
  close(mkstemp(path));
  struct cab_calllog *l;
  cab_error err = {0};
  assert_int_equal(cab_calllog_open(path, &l, &err), 0);
  struct cab_call_record r = {
      .seq = 1,
      .started = {.tv_sec = 1767225600, .tv_nsec = 123456789},
      .request_sha256 = "sha256:00",
      .method = "POST",
      .path = "/v1/chat/completions",
      .model = "m\"odd",
      .stream = true,
      .usage_injected = true,
      .status = 200,
      .usage = {.present = true, .prompt_tokens = 100, .completion_tokens = 20,
                .total_tokens = 120, .finish_reason = "stop", .cached_tokens = 64},
      .ttfb_ms = 12,
      .latency_ms = 340,
      .attempts = 1,
  };
  cab_calllog_add(l, &r);
  struct cab_call_record e = {.seq = 2, .method = "POST", .path = "/v1/messages", .model = "",
                              .status = 502, .ttfb_ms = -1, .latency_ms = 5, .attempts = 3,
                              .error = "upstream connection failed", .fault = CAB_FAULT_UPSTREAM};
  cab_calllog_add(l, &e);
  struct cab_proxy_totals t;
  cab_calllog_totals(l, &t);
  cab_calllog_close(l);
  assert_int_equal(t.model_calls, 2);
  assert_int_equal(t.prompt_tokens, 100);
  assert_int_equal(t.total_tokens, 120);
  assert_int_equal(t.cached_tokens, 64);
  assert_int_equal(t.model_call_ms, 345);
  assert_int_equal(t.ok, 1);
  assert_int_equal(t.infra_errors, 1);

  FILE *f = fopen(path, "re");
  char line[4096];
  assert_non_null(fgets(line, sizeof line, f));
  cJSON *j = cJSON_Parse(line);
  assert_non_null(j);
  assert_string_equal(cJSON_GetObjectItem(j, "timestamp")->valuestring, "2026-01-01T00:00:00.123Z");
  assert_string_equal(cJSON_GetObjectItem(j, "model")->valuestring, "m\"odd");
  assert_int_equal(cJSON_GetObjectItem(j, "prompt_tokens")->valueint, 100);
  assert_int_equal(cJSON_GetObjectItem(j, "cached_tokens")->valueint, 64);
  assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "usage_injected")));
  assert_string_equal(cJSON_GetObjectItem(j, "class")->valuestring, "ok");
  assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "error")));
  cJSON_Delete(j);
  assert_non_null(fgets(line, sizeof line, f));
  j = cJSON_Parse(line);
  assert_string_equal(cJSON_GetObjectItem(j, "class")->valuestring, "infra");
  assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "prompt_tokens")));
  assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "ttfb_ms")));
  assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "finish_reason")));
  assert_int_equal(cJSON_GetObjectItem(j, "attempts")->valueint, 3);
  assert_string_equal(cJSON_GetObjectItem(j, "error")->valuestring, "upstream connection failed");
  cJSON_Delete(j);
  assert_null(fgets(line, sizeof line, f));
  fclose(f);
  unlink(path);

  /* No file: totals only.  An unwritable file: a clear error. */
  assert_int_equal(cab_calllog_open(NULL, &l, &err), 0);
  cab_calllog_add(l, &r);
  cab_calllog_totals(l, &t);
  assert_int_equal(t.model_calls, 1);
  cab_calllog_close(l);
  assert_int_equal(cab_calllog_open("/nonexistent-dir/calls.jsonl", &l, &err), -1);
  assert_non_null(strstr(err.message, "--model-calls /nonexistent-dir/calls.jsonl"));
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_endpoint),
      cmocka_unit_test(test_inspect),
      cmocka_unit_test(test_classify),
      cmocka_unit_test(test_calllog),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
