/* Unit tests for the wire translation (runner/proxy/wire.h, translate.h):
 * path classification; request translation of each wire against expected
 * chat requests (tests/fixtures/translate); non-streamed answers; streams
 * fed whole, byte by byte, in random splits and with CRLF line ends (the
 * output must not change), replayed the way each wire's SDK accumulates
 * them; usage that stays exact (runner/model_api/usage.h reads the same figures
 * on both sides); errors; bad input.  Run from the source tree. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "runner/model_api/usage.h"
#include "runner/proxy/bridge.h"
#include "runner/proxy/translate.h"
#include "runner/proxy/wire.h"
#include "runner/proxy/wire_ops.h"

#define FIXTURES "tests/fixtures/translate/"
#define MODEL_FIXTURES "tests/fixtures/model/"

/* --- helpers ---------------------------------------------------------------- */

static char *
load(const char *path, size_t *len)
{
  char *buf = NULL;
  size_t n = 0;
  cab_error err = {0};
  if (cab_read_file_at(AT_FDCWD, path, 1 << 20, &buf, &n, &err) < 0)
    fail_msg("%s: %s (run the tests from the source tree)", path, err.message);
  if (len)
    *len = n;
  return buf;
}

static cJSON *
load_json(const char *path)
{
  cleanup_free char *text = load(path, NULL);
  cJSON *j = cJSON_Parse(text);
  if (j == NULL)
    fail_msg("%s: not JSON", path);
  return j;
}

static void
assert_json_eq(const cJSON *got, const cJSON *want, const char *what)
{
  if (!cJSON_Compare(got, want, true)) {
    char *g = cJSON_Print(got), *w = cJSON_Print(want);
    print_error("%s:\n--- got\n%s\n--- want\n%s\n", what, g, w);
    free(g);
    free(w);
    fail_msg("%s: JSON differs", what);
  }
}

static struct cab_wire_route
route_of(const char *path, const char *query)
{
  struct cab_wire_route r;
  if (!cab_wire_of_request(path, query, &r))
    fail_msg("%s: not recognised", path);
  return r;
}

/* Translate a request; returns the parsed chat request. */
static cJSON *
request(const struct cab_wire_route *r, const char *body, struct cab_translate_ctx **ctx)
{
  char *chat = NULL;
  size_t chat_len = 0;
  cab_error err = {0};
  if (cab_translate_request(r, body, strlen(body), &chat, &chat_len, ctx, &err) < 0)
    fail_msg("translate_request: %s", err.message);
  assert_int_equal(strlen(chat), chat_len);
  cJSON *j = cJSON_Parse(chat);
  assert_non_null(j);
  free(chat);
  return j;
}

/* The error line of a request that must fail. */
static void
request_fails(const struct cab_wire_route *r, const char *body, const char *needle)
{
  char *chat = (char *)"untouched";
  size_t chat_len = 7;
  struct cab_translate_ctx *ctx = (void *)1;
  cab_error err = {0};
  if (cab_translate_request(r, body, strlen(body), &chat, &chat_len, &ctx, &err) >= 0)
    fail_msg("accepted: %s", body);
  assert_null(chat);
  assert_null(ctx);
  if (strchr(err.message, '\n') || strstr(err.message, needle) == NULL)
    fail_msg("error for %s: '%s' (want one line with '%s')", body, err.message, needle);
}

static struct cab_translate_ctx *
ctx_for(const char *path, const char *query, const char *body)
{
  struct cab_wire_route r = route_of(path, query);
  struct cab_translate_ctx *ctx = NULL;
  cJSON_Delete(request(&r, body, &ctx));
  return ctx;
}

/* Feed IN to a new translator in pieces of STEP bytes (0: random sizes
 * from SEED), then finish; returns everything it produced. */
static char *
stream(const struct cab_translate_ctx *ctx, const char *in, size_t len, size_t step, unsigned seed)
{
  struct cab_sse_translator *t = cab_sse_translator_new(ctx);
  assert_non_null(t);
  char *all = NULL;
  size_t all_len = 0;
  FILE *f = open_memstream(&all, &all_len);
  cab_error err = {0};
  size_t at = 0;
  while (at < len) {
    size_t n = step ? step : 1 + (size_t)(rand_r(&seed) % 97);
    if (n > len - at)
      n = len - at;
    char *out = NULL;
    size_t out_len = 0;
    if (cab_sse_translator_feed(t, in + at, n, &out, &out_len, &err) < 0)
      fail_msg("feed: %s", err.message);
    assert_non_null(out);
    fwrite(out, 1, out_len, f);
    free(out);
    at += n;
  }
  char *out = NULL;
  size_t out_len = 0;
  if (cab_sse_translator_finish(t, &out, &out_len, &err) < 0)
    fail_msg("finish: %s", err.message);
  fwrite(out, 1, out_len, f);
  free(out);
  /* finish is final: more calls add nothing */
  assert_int_equal(cab_sse_translator_finish(t, &out, &out_len, &err), 0);
  assert_int_equal(out_len, 0);
  free(out);
  cab_sse_translator_free(t);
  fclose(f);
  return all;
}

static char *
to_crlf(const char *in)
{
  size_t n = strlen(in);
  char *out = malloc(2 * n + 1), *p = out;
  for (size_t i = 0; i < n; i++) {
    if (in[i] == '\n')
      *p++ = '\r';
    *p++ = in[i];
  }
  *p = '\0';
  return out;
}

/* Stream FIXTURE whole, byte by byte, in random pieces and as CRLF: all
 * outputs must be the same.  Returns the output. */
static char *
stream_all_ways(const struct cab_translate_ctx *ctx, const char *fixture)
{
  size_t len;
  cleanup_free char *in = load(fixture, &len);
  char *whole = stream(ctx, in, len, len ? len : 1, 0);
  cleanup_free char *bytes = stream(ctx, in, len, 1, 0);
  assert_string_equal(whole, bytes);
  for (unsigned seed = 1; seed <= 5; seed++) {
    cleanup_free char *split = stream(ctx, in, len, 0, seed);
    assert_string_equal(whole, split);
  }
  cleanup_free char *crlf_in = to_crlf(in);
  cleanup_free char *crlf = stream(ctx, crlf_in, strlen(crlf_in), 1, 0);
  assert_string_equal(whole, crlf);
  return whole;
}

/* Our own output's SSE events: [{"event": name or null, "data": JSON}]. */
static cJSON *
events_of(const char *sse)
{
  cJSON *list = cJSON_CreateArray();
  const char *p = sse;
  while (*p) {
    const char *end = strstr(p, "\n\n");
    if (end == NULL)
      fail_msg("unterminated event: %s", p);
    cleanup_free char *ev = strndup(p, (size_t)(end - p));
    p = end + 2;
    cJSON *e = cJSON_CreateObject();
    char *data = ev;
    if (strncmp(ev, "event: ", 7) == 0) {
      char *nl = strchr(ev, '\n');
      assert_non_null(nl);
      *nl = '\0';
      cJSON_AddStringToObject(e, "event", ev + 7);
      data = nl + 1;
    } else
      cJSON_AddNullToObject(e, "event");
    if (strncmp(data, "data: ", 6) != 0)
      fail_msg("not a data line: %s", data);
    cJSON *d = cJSON_Parse(data + 6);
    if (d == NULL)
      fail_msg("data is not JSON: %s", data + 6);
    cJSON_AddItemToObject(e, "data", d);
    cJSON_AddItemToArray(list, e);
  }
  return list;
}

static const char *
sget(const cJSON *o, const char *k)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double
nget(const cJSON *o, const char *k)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  if (!cJSON_IsNumber(v))
    fail_msg("no number '%s'", k);
  return v->valuedouble;
}

static const cJSON *
oget(const cJSON *o, const char *k)
{
  return cJSON_GetObjectItemCaseSensitive(o, k);
}

/* The usage runner/model_api/usage.c reads from the upstream stream and from
 * the translated one must be the same. */
/* Anthropic's usage has no field for reasoning tokens: they stay counted in
 * output_tokens (completion), and reasoning alone is not compared. */
static void
assert_same_usage(const struct cab_usage *a, const struct cab_usage *b, bool reasoning)
{
  if (a->present != b->present || a->prompt_tokens != b->prompt_tokens ||
      a->completion_tokens != b->completion_tokens || a->total_tokens != b->total_tokens ||
      a->cached_tokens != b->cached_tokens ||
      (reasoning && a->reasoning_tokens != b->reasoning_tokens))
    fail_msg("usage differs: upstream %d %lld/%lld/%lld cached %lld reasoning %lld, "
             "client %d %lld/%lld/%lld cached %lld reasoning %lld",
             a->present, (long long)a->prompt_tokens, (long long)a->completion_tokens,
             (long long)a->total_tokens, (long long)a->cached_tokens,
             (long long)a->reasoning_tokens, b->present, (long long)b->prompt_tokens,
             (long long)b->completion_tokens, (long long)b->total_tokens,
             (long long)b->cached_tokens, (long long)b->reasoning_tokens);
}

static void
assert_stream_usage_exact(const char *fixture, const char *out)
{
  size_t len;
  cleanup_free char *in = load(fixture, &len);
  struct cab_usage up, down;
  cab_usage_from_sse(in, len, &up);
  cab_usage_from_sse(out, strlen(out), &down);
  assert_true(up.present);
  assert_same_usage(&up, &down, strstr(out, "event: message_start") == NULL);
}

static const char *const RESPONSES_BODY =
    "{\"model\":\"m\",\"input\":\"hi\",\"stream\":true,"
    "\"tools\":[{\"type\":\"custom\",\"name\":\"apply_patch\"},"
    "{\"type\":\"function\",\"name\":\"shell\"}]}";
static const char *const ANTHROPIC_BODY =
    "{\"model\":\"m\",\"max_tokens\":10,\"stream\":true,\"messages\":[{\"role\":\"user\","
    "\"content\":\"hi\"}]}";
static const char *const GEMINI_BODY =
    "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"hi\"}]}]}";

/* --- wire.h ---------------------------------------------------------------------- */

static void
test_wire_parse(void **state)
{
  static const char *const names[] = {"chat", "responses", "anthropic", "gemini"};
  for (int i = 0; i < 4; i++) {
    enum cab_wire w;
    cab_error err = {0};
    assert_int_equal(cab_wire_parse(names[i], &w, &err), 0);
    assert_int_equal(w, i);
    assert_string_equal(cab_wire_name(w), names[i]);
  }
  enum cab_wire w;
  cab_error err = {0};
  assert_true(cab_wire_parse("openai", &w, &err) < 0);
  assert_string_equal(err.message,
                      "unknown wire 'openai' (valid: chat, responses, anthropic, gemini)");
}

/* Every wire of the registry has what the proxy will ask of it: a new
 * wire's ops file that leaves a field out fails here, not at a call. */
static void
test_wire_ops_complete(void **state)
{
  for (int i = 0; i < CAB_WIRE_COUNT; i++) {
    const struct cab_wire_ops *o = cab_wire_ops((enum cab_wire)i);
    assert_non_null(o->name);
    assert_string_equal(cab_wire_name((enum cab_wire)i), o->name);
    assert_non_null(o->route);
    assert_non_null(o->key_header);
    assert_true(o->endpoint_posts != NULL || o->endpoint_call != NULL);
    assert_non_null(o->served);
    assert_non_null(o->count_key);
    assert_non_null(o->error);
    if (o->identity) {
      assert_non_null(o->call_path);
      continue;
    }
    assert_non_null(o->request);
    assert_non_null(o->answer);
    assert_non_null(o->stream);
  }
  /* The identity (what translations go to) is the first wire: the default. */
  assert_true(cab_wire_ops(CAB_WIRE_CHAT)->identity);
  assert_int_equal(CAB_WIRE_CHAT, 0);
}

static void
test_wire_routes(void **state)
{
  static const struct {
    const char *path, *query;
    bool ok;
    enum cab_wire wire;
    enum cab_route_kind kind;
    bool stream, array;
    const char *model;
  } cases[] = {
      {"/v1/chat/completions", NULL, true, CAB_WIRE_CHAT, CAB_ROUTE_GENERATE, false, false, ""},
      {"/openai/deployments/x/chat/completions", "api-version=1", true, CAB_WIRE_CHAT,
       CAB_ROUTE_GENERATE, false, false, ""},
      {"/v1/responses", NULL, true, CAB_WIRE_RESPONSES, CAB_ROUTE_GENERATE, false, false, ""},
      {"/v1/responses/resp_1", NULL, true, CAB_WIRE_RESPONSES, CAB_ROUTE_OTHER, false, false, ""},
      {"/v1/messages", "beta=true", true, CAB_WIRE_ANTHROPIC, CAB_ROUTE_GENERATE, false, false,
       ""},
      {"/v1/messages/count_tokens", NULL, true, CAB_WIRE_ANTHROPIC, CAB_ROUTE_COUNT_TOKENS, false,
       false, ""},
      {"/v1/messages/batches", NULL, true, CAB_WIRE_ANTHROPIC, CAB_ROUTE_OTHER, false, false, ""},
      {"/v1beta/models/gemini-2.5-pro:generateContent", NULL, true, CAB_WIRE_GEMINI,
       CAB_ROUTE_GENERATE, false, false, "gemini-2.5-pro"},
      {"/v1beta/models/gemini-2.5-pro:streamGenerateContent", "alt=sse", true, CAB_WIRE_GEMINI,
       CAB_ROUTE_GENERATE, true, false, "gemini-2.5-pro"},
      {"/v1beta/models/gemini-2.5-pro:streamGenerateContent", "key=k&alt=sse", true,
       CAB_WIRE_GEMINI, CAB_ROUTE_GENERATE, true, false, "gemini-2.5-pro"},
      {"/v1beta/models/gemini-2.5-pro:streamGenerateContent", NULL, true, CAB_WIRE_GEMINI,
       CAB_ROUTE_GENERATE, true, true, "gemini-2.5-pro"},
      {"/v1/models/qwen3:8b:countTokens", NULL, true, CAB_WIRE_GEMINI, CAB_ROUTE_COUNT_TOKENS,
       false, false, "qwen3:8b"},
      {"/v1beta/models/Qwen%2FQwen3-Coder:generateContent", NULL, true, CAB_WIRE_GEMINI,
       CAB_ROUTE_GENERATE, false, false, "Qwen/Qwen3-Coder"},
      {"/v1beta/models/m:embedContent", NULL, true, CAB_WIRE_GEMINI, CAB_ROUTE_OTHER, false,
       false, "m"},
      {"/v1beta/models/bad%22name:generateContent", NULL, true, CAB_WIRE_GEMINI, CAB_ROUTE_OTHER,
       false, false, ""},
      {"/v1beta/models/x%2:generateContent", NULL, true, CAB_WIRE_GEMINI, CAB_ROUTE_OTHER, false,
       false, ""},
      {"/v1beta/models/:generateContent", NULL, true, CAB_WIRE_GEMINI, CAB_ROUTE_OTHER, false,
       false, ""},
      {"/v1beta/models/gemini-2.5-pro", NULL, false, 0, 0, false, false, ""},
      {"/v1/models", NULL, false, 0, 0, false, false, ""},
      {"/v1/responsesx", NULL, false, 0, 0, false, false, ""},
      {"/health", NULL, false, 0, 0, false, false, ""},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct cab_wire_route r;
    bool ok = cab_wire_of_request(cases[i].path, cases[i].query, &r);
    if (ok != cases[i].ok || (ok && (r.wire != cases[i].wire || r.kind != cases[i].kind ||
                                     r.stream != cases[i].stream ||
                                     r.json_array != cases[i].array ||
                                     strcmp(r.model, cases[i].model) != 0)))
      fail_msg("%s?%s: got ok=%d wire=%d kind=%d stream=%d array=%d model='%s'", cases[i].path,
               cases[i].query ? cases[i].query : "", ok, r.wire, r.kind, r.stream,
               r.json_array, r.model);
  }
}

/* --- requests ---------------------------------------------------------------------- */

static void
check_request_fixture(const char *path, const char *query, const char *name)
{
  char in[256], want_path[256];
  snprintf(in, sizeof in, FIXTURES "%s.json", name);
  snprintf(want_path, sizeof want_path, FIXTURES "%s.expected.json", name);
  cleanup_free char *body = load(in, NULL);
  struct cab_wire_route r = route_of(path, query);
  struct cab_translate_ctx *ctx = NULL;
  cJSON *got = request(&r, body, &ctx);
  cJSON *want = load_json(want_path);
  assert_json_eq(got, want, name);
  assert_true(ctx->stream);
  assert_string_equal(cab_translate_content_type(ctx), "text/event-stream");
  cJSON_Delete(got);
  cJSON_Delete(want);
  cab_translate_ctx_free(ctx);
}

static void
test_request_responses(void **state)
{
  check_request_fixture("/v1/responses", NULL, "responses_request");
  /* the custom tool is remembered for the answer */
  cleanup_free char *body = load(FIXTURES "responses_request.json", NULL);
  struct cab_wire_route r = route_of("/v1/responses", NULL);
  struct cab_translate_ctx *ctx = NULL;
  cJSON_Delete(request(&r, body, &ctx));
  assert_int_equal(ctx->n_custom_tools, 1);
  assert_string_equal(ctx->custom_tools[0], "apply_patch");
  assert_string_equal(ctx->model, "gpt-5-codex");
  cab_translate_ctx_free(ctx);
}

static void
test_request_anthropic(void **state)
{
  check_request_fixture("/v1/messages", "beta=true", "anthropic_request");
  /* claude-code 2.1.x sends its environment context as a "system" message
   * inside messages[] (tests/fixtures/agents/claude-code-first-request.json):
   * a chat system message where it stands. */
  struct cab_wire_route r = route_of("/v1/messages", "beta=true");
  struct cab_translate_ctx *ctx = NULL;
  cJSON *got = request(&r,
                       "{\"model\":\"m\",\"max_tokens\":9,\"system\":\"S\",\"messages\":["
                       "{\"role\":\"user\",\"content\":\"fix it\"},"
                       "{\"role\":\"system\",\"content\":[{\"type\":\"text\",\"text\":\"cwd: /work\"}]}]}",
                       &ctx);
  cJSON *want = cJSON_Parse("[{\"role\":\"system\",\"content\":\"S\"},{\"role\":\"user\",\"content\":"
                            "\"fix it\"},{\"role\":\"system\",\"content\":\"cwd: /work\"}]");
  assert_json_eq(cJSON_GetObjectItemCaseSensitive(got, "messages"), want, "a mid-conversation system message");
  cJSON_Delete(want);
  cJSON_Delete(got);
  cab_translate_ctx_free(ctx);
}

static void
test_request_gemini(void **state)
{
  check_request_fixture("/v1beta/models/gemini-2.5-pro:streamGenerateContent", "alt=sse",
                        "gemini_request");
  /* countTokens may wrap the request; the chat request asks for 1 token */
  struct cab_wire_route r = route_of("/v1beta/models/gemini-2.5-pro:countTokens", NULL);
  struct cab_translate_ctx *ctx = NULL;
  cJSON *got = request(&r,
                       "{\"generateContentRequest\":{\"model\":\"models/gemini-2.5-pro\","
                       "\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"hi\"}]}]}}",
                       &ctx);
  cJSON *want = cJSON_Parse("{\"model\":\"gemini-2.5-pro\",\"messages\":[{\"role\":\"user\","
                            "\"content\":\"hi\"}],\"max_tokens\":1}");
  assert_json_eq(got, want, "countTokens");
  assert_false(ctx->stream);
  assert_string_equal(cab_translate_content_type(ctx), "application/json");
  cJSON_Delete(got);
  cJSON_Delete(want);
  cab_translate_ctx_free(ctx);
}

/* Histories chat would refuse are repaired: a call without its result, a
 * result for a call that is not right before it. */
static void
test_request_repair(void **state)
{
  struct cab_wire_route r = route_of("/v1/responses", NULL);
  struct cab_translate_ctx *ctx = NULL;
  cJSON *got = request(
      &r,
      "{\"model\":\"m\",\"input\":["
      "{\"type\":\"function_call\",\"call_id\":\"a\",\"name\":\"f\",\"arguments\":\"{}\"},"
      "{\"type\":\"function_call\",\"call_id\":\"b\",\"name\":\"f\",\"arguments\":\"\"},"
      "{\"type\":\"function_call_output\",\"call_id\":\"b\",\"output\":\"B\"},"
      "{\"role\":\"user\",\"content\":\"next\"},"
      "{\"type\":\"function_call_output\",\"call_id\":\"zz\",\"output\":\"lost\"},"
      "{\"role\":\"user\",\"content\":\"again\"},"
      "{\"role\":\"system\",\"content\":\"late system\"}]}",
      &ctx);
  cJSON *want = cJSON_Parse(
      "{\"model\":\"m\",\"messages\":["
      "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":["
      "{\"id\":\"a\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}},"
      "{\"id\":\"b\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]},"
      "{\"role\":\"tool\",\"tool_call_id\":\"b\",\"content\":\"B\"},"
      "{\"role\":\"tool\",\"tool_call_id\":\"a\",\"content\":\"(no result recorded)\"},"
      "{\"role\":\"user\",\"content\":\"next\\n\\n[result of tool call zz]\\nlost\\n\\nagain\"},"
      "{\"role\":\"system\",\"content\":\"late system\"}]}");
  assert_json_eq(got, want, "repair");
  assert_false(ctx->stream);
  cJSON_Delete(got);
  cJSON_Delete(want);
  cab_translate_ctx_free(ctx);
}

static void
test_request_chat_identity(void **state)
{
  const char *body = "{\"model\":\"m\",\"stream\":true,\"messages\":[]}";
  struct cab_wire_route r = route_of("/v1/chat/completions", NULL);
  char *chat = NULL;
  size_t len = 0;
  struct cab_translate_ctx *ctx = NULL;
  cab_error err = {0};
  assert_int_equal(cab_translate_request(&r, body, strlen(body), &chat, &len, &ctx, &err), 0);
  assert_string_equal(chat, body);
  assert_true(ctx->stream);
  free(chat);
  cab_translate_ctx_free(ctx);
}

static void
test_request_bad(void **state)
{
  struct cab_wire_route resp = route_of("/v1/responses", NULL);
  struct cab_wire_route ant = route_of("/v1/messages", NULL);
  struct cab_wire_route gem = route_of("/v1beta/models/g:generateContent", NULL);
  struct cab_wire_route other = route_of("/v1beta/models/g:embedContent", NULL);
  request_fails(&resp, "{not json", "responses request: the body is not valid JSON");
  request_fails(&ant, "[1,2]", "anthropic request: the body is not a JSON object");
  request_fails(&resp, "{\"input\":\"x\"}", "responses request: \"model\": expected a non-empty");
  request_fails(&resp, "{\"model\":\"m\",\"input\":42}",
                "\"input\": expected a string or an array");
  request_fails(&resp, "{\"model\":\"m\",\"input\":[7]}", "input[0]: expected an object");
  request_fails(&resp,
                "{\"model\":\"m\",\"input\":[{\"type\":\"function_call\",\"call_id\":\"c\"}]}",
                "input[0]: a function_call without a string \"name\"");
  request_fails(&resp, "{\"model\":\"m\",\"input\":\"x\",\"tools\":{}}",
                "\"tools\": expected an array");
  request_fails(&resp, "{\"model\":\"m\",\"input\":\"x\",\"max_output_tokens\":\"9\"}",
                "\"max_output_tokens\": expected a number");
  request_fails(&resp, "{\"model\":\"m\",\"input\":\"x\",\"previous_response_id\":\"resp_1\"}",
                "\"previous_response_id\" is not supported");
  request_fails(&resp, "{\"model\":\"m\",\"input\":[]}", "no messages to send");
  request_fails(&ant, "{\"model\":\"m\",\"messages\":\"hi\"}", "\"messages\": expected an array");
  request_fails(&ant, "{\"model\":\"m\",\"messages\":[{\"role\":\"bot\",\"content\":\"x\"}]}",
                "messages[0]: \"role\" must be \"user\", \"assistant\" or \"system\"");
  request_fails(&ant, "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":5}]}",
                "messages[0].content: expected a string or an array");
  request_fails(&ant, "{\"model\":\"m\",\"system\":5,\"messages\":[]}", "\"system\": expected");
  request_fails(&ant, "{\"model\":\"m\",\"stream\":\"yes\",\"messages\":[{\"role\":\"user\","
                      "\"content\":\"x\"}]}",
                "\"stream\": expected a boolean");
  request_fails(&gem, "{}", "gemini request: \"contents\": expected an array");
  request_fails(&gem, "{\"contents\":[{\"role\":\"user\"}]}",
                "contents[0]: expected an object with a \"parts\" array");
  request_fails(&gem, "{\"contents\":[],\"generationConfig\":{\"maxOutputTokens\":\"x\"}}",
                "generationConfig: \"maxOutputTokens\": expected a number");
  request_fails(&other, "{}", "translates only model calls");
}

/* --- non-streamed answers -------------------------------------------------------------- */

static char *
answer(const struct cab_translate_ctx *ctx, const char *fixture)
{
  size_t len;
  cleanup_free char *in = load(fixture, &len);
  char *out = NULL;
  size_t out_len = 0;
  cab_error err = {0};
  if (cab_translate_response(ctx, in, len, &out, &out_len, &err) < 0)
    fail_msg("translate_response: %s", err.message);
  /* the client's usage is the upstream's */
  struct cab_usage up, down;
  cab_usage_from_json(in, len, &up);
  cab_usage_from_json(out, out_len, &down);
  assert_same_usage(&up, &down, ctx->wire != CAB_WIRE_ANTHROPIC);
  return out;
}

static void
test_response_responses(void **state)
{
  struct cab_translate_ctx *ctx = ctx_for("/v1/responses", NULL, RESPONSES_BODY);
  cleanup_free char *out = answer(ctx, FIXTURES "chat_completion_tools.json");
  cJSON *got = cJSON_Parse(out);
  cJSON *want = cJSON_Parse(
      "{\"id\":\"resp_chatcmpl-N1\",\"object\":\"response\",\"created_at\":1750000001,"
      "\"status\":\"completed\",\"error\":null,\"incomplete_details\":null,"
      "\"model\":\"qwen3-coder-30b\",\"output\":["
      "{\"id\":\"msg_chatcmpl-N1_0\",\"type\":\"message\",\"status\":\"completed\","
      "\"role\":\"assistant\",\"content\":[{\"type\":\"output_text\",\"text\":\"Patching now.\","
      "\"annotations\":[]}]},"
      "{\"id\":\"ctc_call_P\",\"type\":\"custom_tool_call\",\"status\":\"completed\","
      "\"call_id\":\"call_P\",\"name\":\"apply_patch\","
      "\"input\":\"*** Begin Patch\\n*** End Patch\\n\"},"
      "{\"id\":\"fc_call_Q\",\"type\":\"function_call\",\"status\":\"completed\","
      "\"call_id\":\"call_Q\",\"name\":\"shell\",\"arguments\":\"{\\\"command\\\": [\\\"ls\\\"\"}],"
      "\"usage\":{\"input_tokens\":900,\"input_tokens_details\":{\"cached_tokens\":512},"
      "\"output_tokens\":40,\"output_tokens_details\":{\"reasoning_tokens\":12},"
      "\"total_tokens\":940}}");
  assert_json_eq(got, want, "responses answer");
  cJSON_Delete(got);
  cJSON_Delete(want);

  /* length -> incomplete */
  cleanup_free char *cut = NULL;
  size_t len;
  const char *chat = "{\"id\":\"c\",\"model\":\"m\",\"choices\":[{\"index\":0,\"message\":{"
                     "\"role\":\"assistant\",\"content\":\"ab\"},\"finish_reason\":\"length\"}]}";
  cab_error err = {0};
  assert_int_equal(cab_translate_response(ctx, chat, strlen(chat), &cut, &len, &err), 0);
  got = cJSON_Parse(cut);
  assert_string_equal(sget(got, "status"), "incomplete");
  assert_string_equal(sget(oget(got, "incomplete_details"), "reason"), "max_output_tokens");
  assert_true(cJSON_IsNull(oget(got, "usage")));
  cJSON_Delete(got);
  cab_translate_ctx_free(ctx);
}

static void
test_response_anthropic(void **state)
{
  struct cab_translate_ctx *ctx = ctx_for("/v1/messages", NULL, ANTHROPIC_BODY);
  cleanup_free char *out = answer(ctx, FIXTURES "chat_completion_tools.json");
  cJSON *got = cJSON_Parse(out);
  cJSON *want = cJSON_Parse(
      "{\"id\":\"msg_chatcmpl-N1\",\"type\":\"message\",\"role\":\"assistant\","
      "\"model\":\"qwen3-coder-30b\",\"content\":["
      "{\"type\":\"text\",\"text\":\"Patching now.\"},"
      "{\"type\":\"tool_use\",\"id\":\"call_P\",\"name\":\"apply_patch\","
      "\"input\":{\"input\":\"*** Begin Patch\\n*** End Patch\\n\"}},"
      "{\"type\":\"tool_use\",\"id\":\"call_Q\",\"name\":\"shell\","
      "\"input\":{\"_cab_unparsed_arguments\":\"{\\\"command\\\": [\\\"ls\\\"\"}}],"
      "\"stop_reason\":\"tool_use\",\"stop_sequence\":null,"
      "\"usage\":{\"input_tokens\":388,\"cache_creation_input_tokens\":0,"
      "\"cache_read_input_tokens\":512,\"output_tokens\":40}}");
  assert_json_eq(got, want, "anthropic answer");
  cJSON_Delete(got);
  cJSON_Delete(want);
  cleanup_free char *plain = answer(ctx, MODEL_FIXTURES "openai_chat.json");
  got = cJSON_Parse(plain);
  assert_string_equal(sget(got, "stop_reason"), "end_turn");
  cJSON_Delete(got);

  /* a vLLM stop string, and a content filter */
  const char *chat = "{\"id\":\"c\",\"model\":\"m\",\"choices\":[{\"index\":0,\"message\":{"
                     "\"role\":\"assistant\",\"content\":\"ab\"},\"finish_reason\":\"stop\","
                     "\"stop_reason\":\"</done>\"}]}";
  char *out2 = NULL;
  size_t len;
  cab_error err = {0};
  assert_int_equal(cab_translate_response(ctx, chat, strlen(chat), &out2, &len, &err), 0);
  got = cJSON_Parse(out2);
  assert_string_equal(sget(got, "stop_reason"), "stop_sequence");
  assert_string_equal(sget(got, "stop_sequence"), "</done>");
  cJSON_Delete(got);
  free(out2);
  chat = "{\"choices\":[{\"message\":{\"content\":null},\"finish_reason\":\"content_filter\"}]}";
  assert_int_equal(cab_translate_response(ctx, chat, strlen(chat), &out2, &len, &err), 0);
  got = cJSON_Parse(out2);
  assert_string_equal(sget(got, "stop_reason"), "refusal");
  assert_string_equal(sget(got, "model"), "m");
  cJSON_Delete(got);
  free(out2);
  cab_translate_ctx_free(ctx);
}

static void
test_response_gemini(void **state)
{
  struct cab_translate_ctx *ctx =
      ctx_for("/v1beta/models/gemini-x:generateContent", NULL, GEMINI_BODY);
  cleanup_free char *out = answer(ctx, FIXTURES "chat_completion_tools.json");
  cJSON *got = cJSON_Parse(out);
  cJSON *want = cJSON_Parse(
      "{\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":["
      "{\"text\":\"Patching now.\"},"
      "{\"functionCall\":{\"id\":\"call_P\",\"name\":\"apply_patch\","
      "\"args\":{\"input\":\"*** Begin Patch\\n*** End Patch\\n\"}}},"
      "{\"functionCall\":{\"id\":\"call_Q\",\"name\":\"shell\","
      "\"args\":{\"_cab_unparsed_arguments\":\"{\\\"command\\\": [\\\"ls\\\"\"}}}]},"
      "\"finishReason\":\"STOP\",\"index\":0}],"
      "\"usageMetadata\":{\"promptTokenCount\":900,\"candidatesTokenCount\":28,"
      "\"thoughtsTokenCount\":12,\"totalTokenCount\":940,\"cachedContentTokenCount\":512},"
      "\"modelVersion\":\"qwen3-coder-30b\",\"responseId\":\"chatcmpl-N1\"}");
  assert_json_eq(got, want, "gemini answer");
  cJSON_Delete(got);
  cJSON_Delete(want);
  cleanup_free char *tools = answer(ctx, MODEL_FIXTURES "openai_chat_tools.json");
  got = cJSON_Parse(tools);
  const cJSON *cand = cJSON_GetArrayItem(oget(got, "candidates"), 0);
  const cJSON *part = cJSON_GetArrayItem(oget(oget(cand, "content"), "parts"), 0);
  const cJSON *fc = oget(part, "functionCall");
  assert_string_equal(sget(oget(fc, "args"), "path"), "hello.py");
  cJSON_Delete(got);
  cab_translate_ctx_free(ctx);
}

static void
test_response_count_and_bad(void **state)
{
  struct cab_wire_route r = route_of("/v1/messages/count_tokens", NULL);
  struct cab_translate_ctx *ctx = NULL;
  cJSON_Delete(request(&r, ANTHROPIC_BODY, &ctx));
  assert_false(ctx->stream);
  char *out = NULL;
  size_t len;
  cab_error err = {0};
  cleanup_free char *chat = load(MODEL_FIXTURES "openai_chat.json", &len);
  assert_int_equal(cab_translate_response(ctx, chat, len, &out, &len, &err), 0);
  assert_string_equal(out, "{\"input_tokens\":19}");
  free(out);
  cab_translate_ctx_free(ctx);

  ctx = ctx_for("/v1beta/models/g:countTokens", NULL, GEMINI_BODY);
  assert_int_equal(cab_translate_count_response(ctx, 1234, &out, &len, &err), 0);
  assert_string_equal(out, "{\"totalTokens\":1234}");
  free(out);
  cab_translate_ctx_free(ctx);

  ctx = ctx_for("/v1/messages", NULL, ANTHROPIC_BODY);
  out = (char *)"x";
  assert_true(cab_translate_response(ctx, "<html>", 6, &out, &len, &err) < 0);
  assert_null(out);
  assert_string_equal(err.message, "anthropic answer: upstream's body is not a JSON object");
  assert_true(cab_translate_response(ctx, "{\"choices\":5}", 13, &out, &len, &err) < 0);
  assert_string_equal(err.message, "anthropic answer: upstream answer is not a chat completion "
                                   "(no choices[0].message)");
  cab_translate_ctx_free(ctx);
}

/* --- streams -------------------------------------------------------------------------- */

/* Replay a Responses stream as a client would, checking the bookkeeping:
 * event name = data.type, sequence numbers 0.., item ids and indexes
 * consistent, deltas adding up to the done texts.  Returns the final
 * response object. */
static cJSON *
replay_responses(const char *out)
{
  cJSON *events = events_of(out);
  cJSON *items = cJSON_CreateObject(); /* item id -> accumulated text/args */
  cJSON *final = NULL;
  int seq = 0, n = cJSON_GetArraySize(events);
  const cJSON *e;
  cJSON_ArrayForEach(e, events)
  {
    const char *name = sget(e, "event");
    const cJSON *d = oget(e, "data");
    assert_non_null(name);
    assert_string_equal(name, sget(d, "type"));
    assert_int_equal((int)nget(d, "sequence_number"), seq);
    if (seq == 0)
      assert_string_equal(name, "response.created");
    if (seq == 1)
      assert_string_equal(name, "response.in_progress");
    seq++;
    if (strcmp(name, "response.output_item.added") == 0) {
      const cJSON *item = oget(d, "item");
      assert_string_equal(sget(item, "status"), "in_progress");
      cJSON_AddStringToObject(items, sget(item, "id"), "");
    } else if (strstr(name, ".delta")) {
      const char *id = sget(d, "item_id");
      const cJSON *acc = oget(items, id);
      if (acc == NULL)
        fail_msg("%s for an item never added: %s", name, id);
      cleanup_free char *sum = NULL;
      assert_true(asprintf(&sum, "%s%s", acc->valuestring, sget(d, "delta")) > 0);
      cJSON_ReplaceItemInObject(items, id, cJSON_CreateString(sum));
    } else if (strcmp(name, "response.output_text.done") == 0) {
      assert_string_equal(sget(d, "text"), sget(items, sget(d, "item_id")));
    } else if (strcmp(name, "response.function_call_arguments.done") == 0) {
      assert_string_equal(sget(d, "arguments"), sget(items, sget(d, "item_id")));
    } else if (strcmp(name, "response.custom_tool_call_input.done") == 0) {
      assert_string_equal(sget(d, "input"), sget(items, sget(d, "item_id")));
    } else if (strcmp(name, "response.output_item.done") == 0) {
      assert_string_equal(sget(oget(d, "item"), "status"), "completed");
    } else if (strcmp(name, "response.completed") == 0 ||
               strcmp(name, "response.incomplete") == 0 ||
               strcmp(name, "response.failed") == 0) {
      assert_int_equal(seq, n); /* last */
      final = cJSON_Duplicate(oget(d, "response"), true);
    }
  }
  assert_non_null(final);
  /* every finished item is in the final output, in output_index order */
  int idx = 0;
  cJSON_ArrayForEach(e, oget(final, "output"))
  {
    bool found = false;
    const cJSON *ev;
    cJSON_ArrayForEach(ev, events)
    {
      const cJSON *d = oget(ev, "data");
      if (strcmp(sget(ev, "event"), "response.output_item.done") == 0 &&
          (int)nget(d, "output_index") == idx) {
        assert_json_eq(oget(d, "item"), e, "final output item");
        found = true;
      }
    }
    assert_true(found);
    idx++;
  }
  cJSON_Delete(items);
  cJSON_Delete(events);
  return final;
}

static void
test_stream_responses(void **state)
{
  struct cab_translate_ctx *ctx = ctx_for("/v1/responses", NULL, RESPONSES_BODY);
  cleanup_free char *out = stream_all_ways(ctx, FIXTURES "chat_stream_interleaved.sse");
  cJSON *final = replay_responses(out);
  cJSON *want = cJSON_Parse(
      "{\"id\":\"resp_chatcmpl-T1\",\"object\":\"response\",\"created_at\":1750000000,"
      "\"status\":\"completed\",\"error\":null,\"incomplete_details\":null,"
      "\"model\":\"qwen3-coder-30b\",\"output\":["
      "{\"id\":\"msg_chatcmpl-T1_0\",\"type\":\"message\",\"status\":\"completed\","
      "\"role\":\"assistant\",\"content\":[{\"type\":\"output_text\","
      "\"text\":\"I'll read both files.\",\"annotations\":[]}]},"
      "{\"id\":\"fc_call_1\",\"type\":\"function_call\",\"status\":\"completed\","
      "\"call_id\":\"call_1\",\"name\":\"read_file\","
      "\"arguments\":\"{\\\"path\\\":\\\"a.py\\\"}\"},"
      "{\"id\":\"fc_call_2\",\"type\":\"function_call\",\"status\":\"completed\","
      "\"call_id\":\"call_2\",\"name\":\"read_file\","
      "\"arguments\":\"{\\\"path\\\":\\\"b.py\\\"}\"}],"
      "\"usage\":{\"input_tokens\":1200,\"input_tokens_details\":{\"cached_tokens\":1024},"
      "\"output_tokens\":80,\"output_tokens_details\":{\"reasoning_tokens\":16},"
      "\"total_tokens\":1280}}");
  assert_json_eq(final, want, "responses stream");
  assert_stream_usage_exact(FIXTURES "chat_stream_interleaved.sse", out);
  cJSON_Delete(final);
  cJSON_Delete(want);

  /* the recorded OpenAI stream (CRLF, one call) */
  cleanup_free char *rec = stream_all_ways(ctx, MODEL_FIXTURES "openai_chat_stream_tools_crlf.sse");
  final = replay_responses(rec);
  const cJSON *item = cJSON_GetArrayItem(oget(final, "output"), 0);
  assert_string_equal(sget(item, "type"), "function_call");
  assert_string_equal(sget(item, "arguments"),
                      "{\"path\":\"hello.py\",\"content\":\"print('hi')\\n\"}");
  assert_stream_usage_exact(MODEL_FIXTURES "openai_chat_stream_tools_crlf.sse", rec);
  cJSON_Delete(final);
  cab_translate_ctx_free(ctx);
}

static void
test_stream_responses_custom(void **state)
{
  struct cab_translate_ctx *ctx = ctx_for("/v1/responses", NULL, RESPONSES_BODY);
  cleanup_free char *out = stream_all_ways(ctx, FIXTURES "chat_stream_custom.sse");
  cJSON *final = replay_responses(out);
  const cJSON *patch = cJSON_GetArrayItem(oget(final, "output"), 0);
  const cJSON *shell = cJSON_GetArrayItem(oget(final, "output"), 1);
  assert_string_equal(sget(patch, "type"), "custom_tool_call");
  assert_string_equal(sget(patch, "id"), "ctc_call_P");
  assert_string_equal(sget(patch, "input"),
                      "*** Begin Patch\n*** Add File: x.txt\n+hi \"there\"\n*** End Patch\n");
  assert_null(oget(patch, "arguments"));
  assert_string_equal(sget(shell, "type"), "function_call");
  assert_string_equal(sget(shell, "arguments"), "{\"command\":[\"ls\"]}");
  /* the custom call's input goes out decoded, never as function arguments */
  cJSON *events = events_of(out);
  int custom_deltas = 0;
  const cJSON *e;
  cJSON_ArrayForEach(e, events)
  {
    const cJSON *d = oget(e, "data");
    const char *item = sget(d, "item_id");
    if (strcmp(sget(e, "event"), "response.function_call_arguments.delta") == 0)
      assert_string_equal(item, "fc_call_S");
    if (strcmp(sget(e, "event"), "response.custom_tool_call_input.delta") == 0) {
      assert_string_equal(item, "ctc_call_P");
      custom_deltas++;
    }
  }
  assert_int_equal(custom_deltas, 1);
  cJSON_Delete(events);
  assert_stream_usage_exact(FIXTURES "chat_stream_custom.sse", out);
  cJSON_Delete(final);
  cab_translate_ctx_free(ctx);
}

/* Replay an Anthropic stream as the SDK does: one block open at a time,
 * indexes in order, partial_json parsed at block stop.  Returns the
 * message. */
static cJSON *
replay_anthropic(const char *out)
{
  cJSON *events = events_of(out);
  cJSON *msg = NULL;
  cJSON *json_acc = cJSON_CreateObject();
  cJSON_AddStringToObject(json_acc, "s", "");
  int open = -1, next = 0, k = 0, n = cJSON_GetArraySize(events);
  bool stopped = false;
  const cJSON *e;
  cJSON_ArrayForEach(e, events)
  {
    const char *name = sget(e, "event");
    const cJSON *d = oget(e, "data");
    assert_string_equal(name, sget(d, "type"));
    assert_false(stopped);
    if (k++ == 0)
      assert_string_equal(name, "message_start");
    if (strcmp(name, "message_start") == 0) {
      msg = cJSON_Duplicate(oget(d, "message"), true);
    } else if (strcmp(name, "content_block_start") == 0) {
      assert_int_equal(open, -1);
      open = (int)nget(d, "index");
      assert_int_equal(open, next++);
      cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(msg, "content"),
                           cJSON_Duplicate(oget(d, "content_block"), true));
      cJSON_ReplaceItemInObject(json_acc, "s", cJSON_CreateString(""));
    } else if (strcmp(name, "content_block_delta") == 0) {
      assert_int_equal((int)nget(d, "index"), open);
      cJSON *block = cJSON_GetArrayItem(oget(msg, "content"), open);
      const cJSON *delta = oget(d, "delta");
      const char *type = sget(delta, "type");
      const char *key = strcmp(type, "text_delta") == 0 ? "text" : "partial_json";
      const char *have = strcmp(type, "text_delta") == 0 ? sget(block, "text")
                                                         : sget(json_acc, "s");
      cleanup_free char *sum = NULL;
      assert_true(asprintf(&sum, "%s%s", have, sget(delta, key)) >= 0);
      if (strcmp(type, "text_delta") == 0)
        cJSON_ReplaceItemInObject(block, "text", cJSON_CreateString(sum));
      else
        cJSON_ReplaceItemInObject(json_acc, "s", cJSON_CreateString(sum));
    } else if (strcmp(name, "content_block_stop") == 0) {
      assert_int_equal((int)nget(d, "index"), open);
      cJSON *block = cJSON_GetArrayItem(oget(msg, "content"), open);
      if (strcmp(sget(block, "type"), "tool_use") == 0 && sget(json_acc, "s")[0]) {
        cJSON *input = cJSON_Parse(sget(json_acc, "s"));
        if (input == NULL)
          fail_msg("tool input is not JSON: %s", sget(json_acc, "s"));
        cJSON_ReplaceItemInObject(block, "input", input);
      }
      open = -1;
    } else if (strcmp(name, "message_delta") == 0) {
      assert_int_equal(open, -1);
      cJSON_ReplaceItemInObject(msg, "stop_reason",
                                cJSON_Duplicate(oget(oget(d, "delta"), "stop_reason"), true));
      cJSON_ReplaceItemInObject(msg, "usage", cJSON_Duplicate(oget(d, "usage"), true));
    } else if (strcmp(name, "message_stop") == 0) {
      assert_int_equal(k, n);
      stopped = true;
    }
  }
  assert_true(stopped || strcmp(sget(oget(cJSON_GetArrayItem(events, n - 1), "data"), "type"),
                                "error") == 0);
  cJSON_Delete(json_acc);
  cJSON_Delete(events);
  return msg;
}

static void
test_stream_anthropic(void **state)
{
  struct cab_translate_ctx *ctx = ctx_for("/v1/messages", NULL, ANTHROPIC_BODY);
  cleanup_free char *out = stream_all_ways(ctx, FIXTURES "chat_stream_interleaved.sse");
  cJSON *msg = replay_anthropic(out);
  cJSON *want = cJSON_Parse(
      "{\"id\":\"msg_chatcmpl-T1\",\"type\":\"message\",\"role\":\"assistant\","
      "\"model\":\"qwen3-coder-30b\",\"content\":["
      "{\"type\":\"text\",\"text\":\"I'll read both files.\"},"
      "{\"type\":\"tool_use\",\"id\":\"call_1\",\"name\":\"read_file\","
      "\"input\":{\"path\":\"a.py\"}},"
      "{\"type\":\"tool_use\",\"id\":\"call_2\",\"name\":\"read_file\","
      "\"input\":{\"path\":\"b.py\"}}],"
      "\"stop_reason\":\"tool_use\",\"stop_sequence\":null,"
      "\"usage\":{\"input_tokens\":176,\"cache_creation_input_tokens\":0,"
      "\"cache_read_input_tokens\":1024,\"output_tokens\":80}}");
  assert_json_eq(msg, want, "anthropic stream");
  assert_stream_usage_exact(FIXTURES "chat_stream_interleaved.sse", out);
  cJSON_Delete(msg);
  cJSON_Delete(want);

  cleanup_free char *rec = stream_all_ways(ctx, MODEL_FIXTURES "openai_chat_stream.sse");
  msg = replay_anthropic(rec);
  assert_string_equal(sget(msg, "stop_reason"), "end_turn");
  assert_stream_usage_exact(MODEL_FIXTURES "openai_chat_stream.sse", rec);
  cJSON_Delete(msg);
  cleanup_free char *len = stream_all_ways(ctx, MODEL_FIXTURES "openai_chat_stream_nousage.sse");
  msg = replay_anthropic(len);
  assert_string_equal(sget(msg, "stop_reason"), "max_tokens");
  cJSON_Delete(msg);
  cab_translate_ctx_free(ctx);
}

/* Gemini chunks: text parts, then one final chunk (and only that one) with
 * finishReason, usage and the function calls.  Returns the merged
 * candidate {"text", "calls": [...], "finishReason", "usageMetadata"}. */
static cJSON *
replay_gemini(const char *out, bool array)
{
  cJSON *chunks;
  if (array) {
    chunks = cJSON_Parse(out);
    if (!cJSON_IsArray(chunks))
      fail_msg("not a JSON array: %s", out);
  } else {
    cJSON *events = events_of(out);
    chunks = cJSON_CreateArray();
    const cJSON *e;
    cJSON_ArrayForEach(e, events)
    {
      assert_true(cJSON_IsNull(oget(e, "event")));
      cJSON_AddItemToArray(chunks, cJSON_Duplicate(oget(e, "data"), true));
    }
    cJSON_Delete(events);
  }
  cJSON *r = cJSON_CreateObject();
  cJSON *calls = cJSON_AddArrayToObject(r, "calls");
  char text[4096] = "";
  int k = 0, n = cJSON_GetArraySize(chunks);
  const cJSON *c;
  cJSON_ArrayForEach(c, chunks)
  {
    k++;
    const cJSON *cand = cJSON_GetArrayItem(oget(c, "candidates"), 0);
    const char *finish = sget(cand, "finishReason");
    assert_true((finish != NULL) == (k == n));
    assert_true((oget(c, "usageMetadata") != NULL) <= (k == n));
    assert_string_equal(sget(oget(cand, "content"), "role"), "model");
    const cJSON *p;
    cJSON_ArrayForEach(p, oget(oget(cand, "content"), "parts"))
    {
      if (sget(p, "text"))
        strncat(text, sget(p, "text"), sizeof text - strlen(text) - 1);
      if (oget(p, "functionCall")) {
        assert_true(k == n);
        cJSON_AddItemToArray(calls, cJSON_Duplicate(oget(p, "functionCall"), true));
      }
    }
    if (k == n) {
      cJSON_AddStringToObject(r, "finishReason", finish);
      if (oget(c, "usageMetadata"))
        cJSON_AddItemToObject(r, "usageMetadata", cJSON_Duplicate(oget(c, "usageMetadata"), true));
      /* the last chunk has content (clients insist on it) */
      assert_true(cJSON_GetArraySize(oget(oget(cand, "content"), "parts")) > 0);
    }
  }
  cJSON_AddStringToObject(r, "text", text);
  cJSON_Delete(chunks);
  return r;
}

static void
test_stream_gemini(void **state)
{
  struct cab_translate_ctx *ctx =
      ctx_for("/v1beta/models/g:streamGenerateContent", "alt=sse", GEMINI_BODY);
  assert_true(ctx->stream);
  cleanup_free char *out = stream_all_ways(ctx, FIXTURES "chat_stream_interleaved.sse");
  cJSON *got = replay_gemini(out, false);
  cJSON *want = cJSON_Parse(
      "{\"calls\":["
      "{\"id\":\"call_1\",\"name\":\"read_file\",\"args\":{\"path\":\"a.py\"}},"
      "{\"id\":\"call_2\",\"name\":\"read_file\",\"args\":{\"path\":\"b.py\"}}],"
      "\"finishReason\":\"STOP\","
      "\"usageMetadata\":{\"promptTokenCount\":1200,\"candidatesTokenCount\":64,"
      "\"thoughtsTokenCount\":16,\"totalTokenCount\":1280,\"cachedContentTokenCount\":1024},"
      "\"text\":\"I'll read both files.\"}");
  assert_json_eq(got, want, "gemini stream");
  assert_stream_usage_exact(FIXTURES "chat_stream_interleaved.sse", out);
  cJSON_Delete(got);
  cJSON_Delete(want);
  cab_translate_ctx_free(ctx);

  /* without alt=sse: one JSON array */
  ctx = ctx_for("/v1beta/models/g:streamGenerateContent", NULL, GEMINI_BODY);
  assert_string_equal(cab_translate_content_type(ctx), "application/json");
  cleanup_free char *arr = stream_all_ways(ctx, MODEL_FIXTURES "openai_chat_stream_nousage.sse");
  got = replay_gemini(arr, true);
  assert_string_equal(sget(got, "finishReason"), "MAX_TOKENS");
  assert_string_equal(sget(got, "text"), "ok");
  assert_null(oget(got, "usageMetadata"));
  cJSON_Delete(got);
  cab_translate_ctx_free(ctx);
}

/* Upstream stopped mid-answer: no finish_reason, no usage, no [DONE], and
 * its last event not even ended by a blank line.  finish() still ends the
 * client's stream properly. */
static void
test_stream_cut(void **state)
{
  struct cab_translate_ctx *ctx = ctx_for("/v1/responses", NULL, RESPONSES_BODY);
  cleanup_free char *out = stream_all_ways(ctx, FIXTURES "chat_stream_cut.sse");
  cJSON *final = replay_responses(out);
  assert_string_equal(sget(final, "status"), "completed");
  const cJSON *item = cJSON_GetArrayItem(oget(final, "output"), 0);
  assert_string_equal(sget(cJSON_GetArrayItem(oget(item, "content"), 0), "text"), "Hello, world");
  cJSON_Delete(final);
  cab_translate_ctx_free(ctx);

  ctx = ctx_for("/v1/messages", NULL, ANTHROPIC_BODY);
  cleanup_free char *ant = stream_all_ways(ctx, FIXTURES "chat_stream_cut.sse");
  cJSON *msg = replay_anthropic(ant);
  assert_string_equal(sget(msg, "stop_reason"), "end_turn");
  assert_string_equal(sget(cJSON_GetArrayItem(oget(msg, "content"), 0), "text"), "Hello, world");
  cJSON_Delete(msg);
  cab_translate_ctx_free(ctx);

  ctx = ctx_for("/v1beta/models/g:streamGenerateContent", "alt=sse", GEMINI_BODY);
  cleanup_free char *gem = stream_all_ways(ctx, FIXTURES "chat_stream_cut.sse");
  cJSON *got = replay_gemini(gem, false);
  assert_string_equal(sget(got, "text"), "Hello, world");
  assert_string_equal(sget(got, "finishReason"), "STOP");
  cJSON_Delete(got);

  /* nothing at all from upstream: one final chunk, empty */
  cleanup_free char *empty = stream(ctx, "", 0, 1, 0);
  cJSON *events = events_of(empty);
  assert_int_equal(cJSON_GetArraySize(events), 1);
  const cJSON *cand =
      cJSON_GetArrayItem(oget(oget(cJSON_GetArrayItem(events, 0), "data"), "candidates"), 0);
  assert_string_equal(sget(cand, "finishReason"), "STOP");
  cJSON_Delete(events);
  cab_translate_ctx_free(ctx);
}

static void
test_stream_error(void **state)
{
  struct cab_translate_ctx *ctx = ctx_for("/v1/responses", NULL, RESPONSES_BODY);
  cleanup_free char *out = stream_all_ways(ctx, FIXTURES "chat_stream_error.sse");
  cJSON *final = replay_responses(out);
  assert_string_equal(sget(final, "status"), "failed");
  assert_string_equal(sget(oget(final, "error"), "message"), "upstream overloaded");
  assert_null(strstr(out, "never shown"));
  cJSON_Delete(final);
  cab_translate_ctx_free(ctx);

  ctx = ctx_for("/v1/messages", NULL, ANTHROPIC_BODY);
  cleanup_free char *ant = stream_all_ways(ctx, FIXTURES "chat_stream_error.sse");
  cJSON *msg = replay_anthropic(ant);
  cJSON_Delete(msg);
  assert_non_null(strstr(ant, "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":"
                              "\"api_error\",\"message\":\"upstream overloaded\"}}\n\n"));
  assert_null(strstr(ant, "never shown"));
  cab_translate_ctx_free(ctx);
}

/* The chat wire streams through untouched. */
static void
test_stream_chat_identity(void **state)
{
  struct cab_translate_ctx *ctx = ctx_for("/v1/chat/completions", NULL,
                                          "{\"model\":\"m\",\"stream\":true,\"messages\":[]}");
  size_t len;
  cleanup_free char *in = load(FIXTURES "chat_stream_interleaved.sse", &len);
  cleanup_free char *out = stream(ctx, in, len, 13, 0);
  assert_string_equal(out, in);
  cab_translate_ctx_free(ctx);
}

/* --- errors --------------------------------------------------------------------------- */

static void
error_is(const char *path, int status, const char *body, const char *want)
{
  struct cab_wire_route r = route_of(path, NULL);
  char *out = NULL;
  size_t len = 0;
  assert_int_equal(cab_translate_error(&r, status, body, body ? strlen(body) : 0, &out, &len), 0);
  cJSON *got = cJSON_Parse(out), *w = cJSON_Parse(want);
  assert_non_null(got);
  assert_json_eq(got, w, path);
  cJSON_Delete(got);
  cJSON_Delete(w);
  free(out);
}

static void
test_errors(void **state)
{
  cleanup_free char *e429 = load(MODEL_FIXTURES "openai_error_429.json", NULL);
  const char *msg = "Rate limit reached for gpt-4o in organization org-xyz on tokens per min "
                    "(TPM): Limit 30000, Used 29640, Requested 1209. Please try again in 1.698s.";
  char want[1024];
  snprintf(want, sizeof want,
           "{\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\",\"message\":\"%s\"}}",
           msg);
  error_is("/v1/messages", 429, e429, want);
  snprintf(want, sizeof want,
           "{\"error\":{\"code\":429,\"message\":\"%s\",\"status\":\"RESOURCE_EXHAUSTED\"}}", msg);
  error_is("/v1beta/models/g:generateContent", 429, e429, want);
  snprintf(want, sizeof want,
           "{\"error\":{\"message\":\"%s\",\"type\":\"tokens\",\"param\":null,"
           "\"code\":\"rate_limit_exceeded\"}}",
           msg);
  error_is("/v1/responses", 429, e429, want);
  error_is("/v1/chat/completions", 429, e429, e429); /* as it is */
  /* plain text, FastAPI's detail, nothing at all */
  error_is("/v1/messages", 502, "Bad Gateway\r\n",
           "{\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"Bad Gateway\"}}");
  error_is("/v1beta/models/g:generateContent", 400, "{\"detail\":\"bad model\"}",
           "{\"error\":{\"code\":400,\"message\":\"bad model\",\"status\":\"INVALID_ARGUMENT\"}}");
  error_is("/v1/responses", 503, NULL,
           "{\"error\":{\"message\":\"upstream model endpoint answered HTTP 503\","
           "\"type\":\"server_error\",\"param\":null,\"code\":null}}");
  error_is("/v1/chat/completions", 500, "oops",
           "{\"error\":{\"message\":\"oops\",\"type\":\"server_error\",\"param\":null,"
           "\"code\":null}}");
  error_is("/v1/messages", 529, "{\"error\":\"busy\"}",
           "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"busy\"}}");
  /* no type from upstream: the status's, as each API sends it (api_errors.h) */
  error_is("/v1/responses", 429, "slow down",
           "{\"error\":{\"message\":\"slow down\",\"type\":\"requests\",\"param\":null,"
           "\"code\":null}}");
  error_is("/v1/responses", 404, "no such model",
           "{\"error\":{\"message\":\"no such model\",\"type\":\"invalid_request_error\","
           "\"param\":null,\"code\":null}}");
  error_is("/v1/messages", 404, "no such model",
           "{\"type\":\"error\",\"error\":{\"type\":\"not_found_error\","
           "\"message\":\"no such model\"}}");
}

/* --- the bridge, non-streamed (the order the proxy's handler calls it in) ------------- */

/* The handler asks for client bytes before any upstream byte came in: the
 * empty queue must answer 0 (it once passed memcpy a NULL source, which
 * make asan's UBSan aborts on).  Then the whole chat answer, and the client
 * gets its own wire's JSON with the upstream's usage. */
static void
test_bridge_plain(void **state)
{
  static const struct {
    const char *path, *query, *request_fixture;
  } calls[] = {
      {"/v1/responses", NULL, FIXTURES "responses_request.json"},
      {"/v1/messages", NULL, FIXTURES "anthropic_request.json"},
      {"/v1beta/models/gemini-x:generateContent", NULL, FIXTURES "gemini_request.json"},
  };
  size_t up_len;
  cleanup_free char *up = load(FIXTURES "chat_completion_tools.json", &up_len);
  for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
    size_t len;
    cleanup_free char *body = load(calls[i].request_fixture, &len);
    /* a plain (non-streamed) call, whatever the fixture says */
    cJSON *j = cJSON_Parse(body);
    cJSON_DeleteItemFromObjectCaseSensitive(j, "stream");
    cleanup_free char *plain = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    struct cab_bridge *b = NULL;
    char *chat = NULL, *refusal = NULL;
    size_t chat_len = 0, refusal_len = 0;
    int status = 0;
    cab_error err = {0};
    assert_int_equal(cab_bridge_open(CAB_WIRE_CHAT, calls[i].path, calls[i].query, plain,
                                     strlen(plain), &b, &chat, &chat_len, &status, &refusal,
                                     &refusal_len, &err),
                     CAB_BRIDGE_TRANSLATE);
    free(chat);
    assert_false(cab_bridge_ctx(b)->stream);
    cab_bridge_begin(b, 200, "application/json");
    char buf[65536];
    assert_int_equal(cab_bridge_take(b, buf, sizeof buf), 0);
    assert_false(cab_bridge_ended(b));
    /* the body in two pieces, with an empty take between them */
    assert_int_equal(cab_bridge_feed(b, up, up_len / 2, 1 << 20, &err), 0);
    assert_int_equal(cab_bridge_take(b, buf, sizeof buf), 0);
    assert_int_equal(cab_bridge_feed(b, up + up_len / 2, up_len - up_len / 2, 1 << 20, &err), 0);
    assert_int_equal(cab_bridge_end(b, &err), 0);
    assert_true(cab_bridge_ended(b));
    size_t n = cab_bridge_take(b, buf, sizeof buf - 1);
    assert_true(n > 0);
    buf[n] = '\0';
    assert_int_equal(cab_bridge_take(b, buf + n, sizeof buf - 1 - n), 0);
    struct cab_usage want, got;
    cab_usage_from_json(up, up_len, &want);
    cab_usage_from_json(buf, n, &got);
    assert_true(got.present);
    assert_int_equal(got.completion_tokens, want.completion_tokens);
    assert_int_equal(got.prompt_tokens, want.prompt_tokens);
    cab_bridge_free(b);
  }
}

/* --- hostile input ------------------------------------------------------------------- */

static void
mutate(char *buf, size_t len, unsigned *seed)
{
  static const char pick[] = "\n\r{}[]\":,\\0x ";
  int n = 1 + rand_r(seed) % 12;
  for (int i = 0; i < n && len; i++) {
    size_t at = (size_t)rand_r(seed) % len;
    buf[at] = rand_r(seed) % 2 ? pick[rand_r(seed) % (sizeof pick - 1)] : (char)rand_r(seed);
  }
}

/* Corrupted streams and requests: no crash, a finished client stream, and
 * for requests success or one error line. */
static void
test_mutations(void **state)
{
  static const char *const streams[] = {FIXTURES "chat_stream_interleaved.sse",
                                        FIXTURES "chat_stream_custom.sse",
                                        MODEL_FIXTURES "openai_chat_stream_tools_crlf.sse"};
  static const struct {
    const char *path, *query, *fixture;
  } requests[] = {
      {"/v1/responses", NULL, FIXTURES "responses_request.json"},
      {"/v1/messages", NULL, FIXTURES "anthropic_request.json"},
      {"/v1beta/models/g:streamGenerateContent", "alt=sse", FIXTURES "gemini_request.json"},
  };
  struct cab_translate_ctx *ctxs[] = {
      ctx_for("/v1/responses", NULL, RESPONSES_BODY),
      ctx_for("/v1/messages", NULL, ANTHROPIC_BODY),
      ctx_for("/v1beta/models/g:streamGenerateContent", "alt=sse", GEMINI_BODY),
      ctx_for("/v1beta/models/g:streamGenerateContent", NULL, GEMINI_BODY),
  };
  unsigned seed = 7;
  for (int round = 0; round < 300; round++) {
    size_t len;
    cleanup_free char *in = load(streams[round % 3], &len);
    mutate(in, len, &seed);
    for (int w = 0; w < 4; w++) {
      cleanup_free char *out = stream(ctxs[w], in, len, 0, seed + (unsigned)w);
      if (w == 1 && strstr(out, "event: error\n") == NULL)
        assert_non_null(strstr(out, "event: message_stop\n"));
      if (w == 3)
        assert_int_equal(out[strlen(out) - 1], ']');
    }

    cleanup_free char *body = load(requests[round % 3].fixture, &len);
    mutate(body, len, &seed);
    struct cab_wire_route r = route_of(requests[round % 3].path, requests[round % 3].query);
    char *chat = NULL;
    size_t chat_len;
    struct cab_translate_ctx *ctx = NULL;
    cab_error err = {0};
    if (cab_translate_request(&r, body, len, &chat, &chat_len, &ctx, &err) < 0)
      assert_null(strchr(err.message, '\n'));
    else {
      cJSON *j = cJSON_Parse(chat);
      assert_non_null(j);
      cJSON_Delete(j);
    }
    free(chat);
    cab_translate_ctx_free(ctx);
  }
  for (int w = 0; w < 4; w++)
    cab_translate_ctx_free(ctxs[w]);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_wire_parse),
      cmocka_unit_test(test_wire_ops_complete),
      cmocka_unit_test(test_wire_routes),
      cmocka_unit_test(test_request_responses),
      cmocka_unit_test(test_request_anthropic),
      cmocka_unit_test(test_request_gemini),
      cmocka_unit_test(test_request_repair),
      cmocka_unit_test(test_request_chat_identity),
      cmocka_unit_test(test_request_bad),
      cmocka_unit_test(test_response_responses),
      cmocka_unit_test(test_response_anthropic),
      cmocka_unit_test(test_response_gemini),
      cmocka_unit_test(test_response_count_and_bad),
      cmocka_unit_test(test_stream_responses),
      cmocka_unit_test(test_stream_responses_custom),
      cmocka_unit_test(test_stream_anthropic),
      cmocka_unit_test(test_stream_gemini),
      cmocka_unit_test(test_stream_cut),
      cmocka_unit_test(test_stream_error),
      cmocka_unit_test(test_stream_chat_identity),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_bridge_plain),
      cmocka_unit_test(test_mutations),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
