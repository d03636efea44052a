/* Unit tests for token accounting (runner/model_api/usage.c) on the recorded
 * fixtures in tests/fixtures/model: both API shapes, JSON and SSE, and the
 * same stream fed whole, byte by byte and in random splits. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "runner/model_api/usage.h"
#include "runner/proxy/calllog.h"
#include "scorers/scorers.h"

#define FIXTURES "tests/fixtures/model/"

struct expect {
  const char *file;
  bool present;
  int64_t prompt, completion, total, cached, reasoning;
  const char *finish, *model;
};

static const struct expect cases[] = {
    {"openai_chat.json", true, 19, 10, 29, 0, 0, "stop", "gpt-4o-2024-08-06"},
    {"openai_chat_tools.json", true, 1182, 27, 1209, 1024, 0, "tool_calls",
     "gpt-4o-mini-2024-07-18"},
    {"openai_chat_stream.sse", true, 19, 10, 29, 0, 0, "stop", "gpt-4o-mini-2024-07-18"},
    {"openai_chat_stream_tools_crlf.sse", true, 2310, 219, 2529, 2048, 192, "tool_calls",
     "o4-mini-2025-04-16"},
    {"openai_chat_stream_nousage.sse", false, 0, 0, 0, 0, 0, "length", "gpt-4o-mini-2024-07-18"},
    {"openai_responses.json", true, 36, 87, 123, 0, 0, "completed", "gpt-4.1-2025-04-14"},
    {"openai_error_429.json", false, 0, 0, 0, 0, 0, "", ""},
    {"anthropic_messages.json", true, 1624, 89, 1713, 1024, 0, "tool_use",
     "claude-sonnet-4-20250514"},
    {"anthropic_messages_stream.sse", true, 25, 15, 40, 0, 0, "end_turn",
     "claude-3-5-haiku-20241022"},
    {"anthropic_messages_stream_tools_crlf.sse", true, 1624, 89, 1713, 1024, 0, "tool_use",
     "claude-sonnet-4-20250514"},
    /* Gemini: thoughts are billed output, so completion = candidates + thoughts. */
    {"gemini_generate.json", true, 1450, 80, 1530, 1024, 38, "STOP", "gemini-2.5-flash"},
    {"gemini_stream_crlf.sse", true, 12, 3, 15, 0, 0, "STOP", "gemini-2.5-flash"},
};

static char *
load(const char *name, size_t *len)
{
  char path[256];
  snprintf(path, sizeof path, FIXTURES "%s", name);
  char *buf = NULL;
  cab_error err = {0};
  if (cab_read_file_at(AT_FDCWD, path, 1 << 20, &buf, len, &err) < 0)
    fail_msg("%s: %s (run the tests from the source tree)", path, err.message);
  return buf;
}

static bool
is_sse(const char *name)
{
  return strstr(name, ".sse") != NULL;
}

static void
check(const struct expect *x, const struct cab_usage *u, const char *how)
{
  if (u->present != x->present || u->prompt_tokens != x->prompt ||
      u->completion_tokens != x->completion || u->total_tokens != x->total ||
      u->cached_tokens != x->cached || u->reasoning_tokens != x->reasoning ||
      strcmp(u->finish_reason, x->finish) != 0 || strcmp(u->model, x->model) != 0)
    fail_msg("%s (%s): got present=%d prompt=%lld completion=%lld total=%lld cached=%lld "
             "reasoning=%lld finish='%s' model='%s'",
             x->file, how, u->present, (long long)u->prompt_tokens,
             (long long)u->completion_tokens, (long long)u->total_tokens,
             (long long)u->cached_tokens, (long long)u->reasoning_tokens, u->finish_reason,
             u->model);
}

static void
test_fixtures_whole(void **state)
{
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t len;
    cleanup_free char *buf = load(cases[i].file, &len);
    struct cab_usage u;
    if (is_sse(cases[i].file))
      cab_usage_from_sse(buf, len, &u);
    else
      cab_usage_from_json(buf, len, &u);
    check(&cases[i], &u, "whole");
  }
}

static void
test_sse_byte_by_byte(void **state)
{
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    if (!is_sse(cases[i].file))
      continue;
    size_t len;
    cleanup_free char *buf = load(cases[i].file, &len);
    struct cab_sse_usage *s = cab_sse_usage_new();
    assert_non_null(s);
    for (size_t k = 0; k < len; k++)
      cab_sse_usage_feed(s, buf + k, 1);
    struct cab_usage u;
    cab_sse_usage_finish(s, &u);
    check(&cases[i], &u, "byte by byte");
  }
}

static void
test_sse_random_splits(void **state)
{
  unsigned seed = 12345;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    if (!is_sse(cases[i].file))
      continue;
    size_t len;
    cleanup_free char *buf = load(cases[i].file, &len);
    struct cab_usage whole;
    cab_usage_from_sse(buf, len, &whole);
    for (int round = 0; round < 200; round++) {
      struct cab_sse_usage *s = cab_sse_usage_new();
      size_t off = 0;
      while (off < len) {
        size_t n = (size_t)(rand_r(&seed) % 97) + (round % 3 == 0 ? 0 : 1);
        if (n > len - off)
          n = len - off;
        cab_sse_usage_feed(s, buf + off, n); /* zero-length feeds too */
        off += n;
      }
      struct cab_usage u;
      cab_sse_usage_finish(s, &u);
      char how[64];
      snprintf(how, sizeof how, "random splits, round %d", round);
      check(&cases[i], &u, how);
      assert_memory_equal(&u, &whole, sizeof u);
    }
  }
}

/* The CR LF fixtures, converted to LF and to bare CR, count the same. */
static void
test_sse_line_ends(void **state)
{
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    if (!strstr(cases[i].file, "_crlf.sse"))
      continue;
    size_t len;
    cleanup_free char *buf = load(cases[i].file, &len);
    cleanup_free char *lf = malloc(len + 1);
    cleanup_free char *cr = malloc(len + 1);
    size_t n = 0, m = 0;
    for (size_t k = 0; k < len; k++) {
      if (buf[k] == '\r' && k + 1 < len && buf[k + 1] == '\n') {
        lf[n++] = '\n';
        cr[m++] = '\r';
        k++;
      } else {
        lf[n++] = buf[k];
        cr[m++] = buf[k];
      }
    }
    assert_null(memchr(lf, '\r', n));
    assert_null(memchr(cr, '\n', m));
    struct cab_usage u;
    cab_usage_from_sse(lf, n, &u);
    check(&cases[i], &u, "LF");
    cab_usage_from_sse(cr, m, &u);
    check(&cases[i], &u, "CR");
    /* CR and LF split across feeds */
    struct cab_sse_usage *s = cab_sse_usage_new();
    for (size_t k = 0; k < len;) {
      const char *p = memchr(buf + k, '\r', len - k);
      size_t upto = p ? (size_t)(p - buf) + 1 : len; /* through the CR */
      cab_sse_usage_feed(s, buf + k, upto - k);
      k = upto;
    }
    cab_sse_usage_finish(s, &u);
    check(&cases[i], &u, "split at every CR");
  }
}

/* A stream cut before its final blank line still counts the last event;
 * data split over several data: lines is joined; comments are ignored. */
static void
test_sse_edges(void **state)
{
  const char *cut = "data: {\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":3,"
                    "\"completion_tokens\":4}}";
  struct cab_usage u;
  cab_usage_from_sse(cut, strlen(cut), &u);
  assert_true(u.present);
  assert_int_equal(u.prompt_tokens, 3);
  assert_int_equal(u.completion_tokens, 4);
  assert_int_equal(u.total_tokens, 7); /* not reported: the sum */

  const char *multi = ": keep-alive\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\n"
                      "data: \"usage\":{\"output_tokens\":9}}\n\ndata: [DONE]\n\n";
  cab_usage_from_sse(multi, strlen(multi), &u);
  assert_true(u.present);
  assert_int_equal(u.completion_tokens, 9);

  /* no space after the colon; garbage events are skipped */
  const char *nospace = "data:{not json\n\ndata:{\"usage\":{\"prompt_tokens\":1,"
                        "\"completion_tokens\":2,\"total_tokens\":3}}\n\n";
  cab_usage_from_sse(nospace, strlen(nospace), &u);
  assert_int_equal(u.total_tokens, 3);

  /* an empty stream, a NULL scanner */
  cab_usage_from_sse("", 0, &u);
  assert_false(u.present);
  cab_sse_usage_feed(NULL, "x", 1);
  cab_sse_usage_finish(NULL, &u);
  assert_false(u.present);

  /* JSON that is not JSON */
  cab_usage_from_json("{\"usage\":", 9, &u);
  assert_false(u.present);
  cab_usage_from_json(NULL, 0, &u);
  assert_false(u.present);
}

/* Anthropic's message_delta may repeat input figures; partial repeats keep
 * the cache parts from message_start. */
static void
test_anthropic_partial_delta(void **state)
{
  const char *s =
      "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"c\","
      "\"usage\":{\"input_tokens\":10,\"cache_read_input_tokens\":100,\"output_tokens\":1}}}\n\n"
      "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
      "\"max_tokens\"},\"usage\":{\"input_tokens\":10,\"output_tokens\":50}}\n\n";
  struct cab_usage u;
  cab_usage_from_sse(s, strlen(s), &u);
  assert_int_equal(u.prompt_tokens, 110);
  assert_int_equal(u.completion_tokens, 50);
  assert_int_equal(u.cached_tokens, 100);
  assert_string_equal(u.finish_reason, "max_tokens");
}

/* --- figures that are not token counts ---------------------------------------------- */

#define MAX CAB_USAGE_TOKENS_MAX

struct absurd {
  const char *what;
  bool sse;
  const char *body;
  int64_t prompt, completion, total;
  const char *note; /* a piece of the note */
};

/* Every wire, JSON and streamed: a count beyond 2^63, negative, fractional,
 * a string, an overflowing double, a total below its parts.  Each counts as
 * the maximum (or rounds up), never wraps, and is noted. */
static void
test_absurd_counts(void **state)
{
  static const struct absurd absurd[] = {
      {"chat: int64 max", false,
       "{\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":9223372036854775807}}", 10, MAX,
       10 + MAX, "completion_tokens 9.2233720368547758e+18"},
      {"chat: negative completion", false,
       "{\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":-9223372036854775808,"
       "\"total_tokens\":-5}}",
       10, MAX, 10 + MAX, "completion_tokens"},
      {"chat: fraction rounds up", false,
       "{\"usage\":{\"prompt_tokens\":10.2,\"completion_tokens\":3}}", 11, 3, 14, "prompt_tokens 10.2"},
      {"chat: a string", false, "{\"usage\":{\"prompt_tokens\":\"12\",\"completion_tokens\":3}}", MAX,
       3, MAX + 3, "prompt_tokens \"12\""},
      {"chat: 1e400", false, "{\"usage\":{\"prompt_tokens\":1e400,\"completion_tokens\":3}}", MAX, 3,
       MAX + 3, "prompt_tokens"},
      {"chat: total below its parts", false,
       "{\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":500,\"total_tokens\":1}}", 1000,
       500, 1500, "total 1 is less"},
      {"chat stream: int64 max", true,
       "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":"
       "9223372036854775807}}\n\ndata: [DONE]\n\n",
       1, MAX, 1 + MAX, "completion_tokens"},
      {"responses: negative output", false,
       "{\"object\":\"response\",\"status\":\"completed\",\"usage\":{\"input_tokens\":5,"
       "\"output_tokens\":-100,\"total_tokens\":-95}}",
       5, MAX, 5 + MAX, "total_tokens -95"},
      {"responses stream: huge input", true,
       "data: {\"type\":\"response.completed\",\"response\":{\"status\":\"completed\",\"usage\":"
       "{\"input_tokens\":1e19,\"output_tokens\":2,\"total_tokens\":3}}}\n\n",
       MAX, 2, MAX + 2, "input_tokens"},
      {"anthropic: negative cache read", false,
       "{\"type\":\"message\",\"usage\":{\"input_tokens\":10,\"cache_read_input_tokens\":-10,"
       "\"output_tokens\":4}}",
       10 + MAX, 4, 14 + MAX, "cache_read_input_tokens -10"},
      {"anthropic stream: int64 max output", true,
       "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":"
       "{\"input_tokens\":7,\"output_tokens\":1}}}\n\nevent: message_delta\ndata: "
       "{\"type\":\"message_delta\",\"usage\":{\"output_tokens\":9223372036854775807}}\n\n",
       7, MAX, 7 + MAX, "output_tokens"},
      {"gemini: negative candidates", false,
       "{\"candidates\":[],\"usageMetadata\":{\"promptTokenCount\":3,\"candidatesTokenCount\":"
       "-4,\"totalTokenCount\":-1}}",
       3, MAX, 3 + MAX, "candidatesTokenCount -4"},
      {"gemini stream: huge prompt", true,
       "data: {\"usageMetadata\":{\"promptTokenCount\":18446744073709551616,"
       "\"candidatesTokenCount\":2}}\n\n",
       MAX, 2, MAX + 2, "promptTokenCount"},
  };
  for (size_t i = 0; i < sizeof absurd / sizeof absurd[0]; i++) {
    const struct absurd *c = &absurd[i];
    struct cab_usage u;
    if (c->sse)
      cab_usage_from_sse(c->body, strlen(c->body), &u);
    else
      cab_usage_from_json(c->body, strlen(c->body), &u);
    if (!u.present || !u.clamped || u.prompt_tokens != c->prompt ||
        u.completion_tokens != c->completion || u.total_tokens != c->total ||
        strstr(u.note, c->note) == NULL)
      fail_msg("%s: present=%d clamped=%d prompt=%lld completion=%lld total=%lld note '%s'",
               c->what, u.present, u.clamped, (long long)u.prompt_tokens,
               (long long)u.completion_tokens, (long long)u.total_tokens, u.note);
  }
  /* honest figures are not flagged */
  struct cab_usage u;
  const char *ok = "{\"usage\":{\"prompt_tokens\":4294967295,\"completion_tokens\":0}}";
  cab_usage_from_json(ok, strlen(ok), &u);
  assert_false(u.clamped);
  assert_int_equal(u.prompt_tokens, MAX);
  int64_t n;
  assert_int_equal(cab_usage_count(12, &n), 0);
  assert_int_equal(n, 12);
  assert_int_equal(cab_usage_count(-0.5, &n), 1);
  assert_int_equal(n, MAX);
  assert_int_equal(cab_usage_count(0.5, &n), 1);
  assert_int_equal(n, 1);
}

/* The sums: the proxy's totals (cell.json) and the scorer's, from a
 * model_calls.jsonl.  Absurd figures never wrap negative, and never make
 * the cost efficiency better than an honest cell's. */
static void
test_absurd_totals(void **state)
{
  struct cab_calllog *log = NULL;
  cab_error err = {0};
  assert_int_equal(cab_calllog_open(NULL, &log, &err), 0);
  const char *body = "{\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":9223372036854775807}}";
  for (int i = 0; i < 3; i++) {
    struct cab_call_record r = {.method = "POST", .path = "/v1/chat/completions", .status = 200};
    cab_usage_from_json(body, strlen(body), &r.usage);
    char *line = cab_call_record_json(&r);
    assert_non_null(strstr(line, "\"completion_tokens\":4294967295"));
    assert_non_null(strstr(line, "\"usage_clamped\":true"));
    free(line);
    cab_calllog_add(log, &r);
  }
  struct cab_proxy_totals t;
  cab_calllog_totals(log, &t);
  cab_calllog_close(log);
  assert_int_equal(t.completion_tokens, 3 * MAX);
  assert_int_equal(t.total_tokens, 3 * (MAX + 1));
  assert_int_equal(t.usage_clamped, 3);

  const char *jsonl = "{\"prompt_tokens\":10,\"completion_tokens\":9223372036854775807}\n"
                      "{\"prompt_tokens\":-3,\"completion_tokens\":5,\"total_tokens\":-9e18}\n";
  struct cab_token_totals tt;
  cab_model_calls_sum(jsonl, strlen(jsonl), &tt);
  assert_int_equal(tt.completion_tokens, MAX + 5);
  assert_int_equal(tt.prompt_tokens, 10 + MAX);
  assert_true(tt.total_tokens >= tt.prompt_tokens + tt.completion_tokens - MAX);
  struct cab_profile v1;
  memset(&v1, 0, sizeof v1);
  assert_int_equal(cab_profile_load("cab-v1", &v1, &err), 0);
  assert_true(cab_cost_efficiency(tt.total_tokens, &v1) < cab_cost_efficiency(15, &v1));
  assert_true(cab_cost_efficiency(t.total_tokens, &v1) < cab_cost_efficiency(15, &v1));
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_absurd_counts),
      cmocka_unit_test(test_absurd_totals),
      cmocka_unit_test(test_fixtures_whole),    cmocka_unit_test(test_sse_byte_by_byte),
      cmocka_unit_test(test_sse_random_splits), cmocka_unit_test(test_sse_line_ends),
      cmocka_unit_test(test_sse_edges),         cmocka_unit_test(test_anthropic_partial_delta),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
