/* Unit tests for model scripts (runner/model_server/script.c): validation messages,
 * turn order, and the rendered answers in every shape, read back with the
 * accounting parser (usage.c) so that the figures served are the script's. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "runner/model_server/script.h"
#include "runner/model_server/server.h"
#include "runner/model_api/usage.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static struct cab_script *
parse_ok(const char *text)
{
  struct cab_script *s = NULL;
  cab_error err = {0};
  if (cab_script_parse(text, strlen(text), "t.json", &s, &err) < 0)
    fail_msg("parse: %s", err.message);
  return s;
}

static void
expect_error(const char *text, const char *want)
{
  struct cab_script *s = NULL;
  cab_error err = {0};
  if (cab_script_parse(text, strlen(text), "t.json", &s, &err) == 0) {
    cab_script_free(s);
    fail_msg("parsed, but expected: %s\n  script: %s", want, text);
  }
  if (strcmp(err.message, want) != 0)
    fail_msg("message:  %s\nexpected: %s", err.message, want);
}

static void
test_validation(void **state)
{
  expect_error("{\"model\":\"m\",\"turns\":[{\"content\":\"a\"},{\"content\":\"b\"},"
               "{\"tool_calls\":[{\"arguments\":{}}]}]}",
               "script t.json: turns[2].tool_calls[0]: missing \"name\"");
  expect_error("{\"turns\":[{\"content\":\"a\"}]}", "script t.json: missing \"model\"");
  expect_error("{\"model\":\"m\"}", "script t.json: missing \"turns\"");
  expect_error("{\"model\":\"m\",\"turns\":[]}",
               "script t.json.turns: expected a non-empty array");
  expect_error("{\"model\":\"m\",\"turns\":[{}]}",
               "script t.json: turns[0]: needs \"content\", \"tool_calls\", an error \"status\" "
               "or \"hang\"");
  expect_error("{\"model\":\"m\",\"turns\":[{\"contnet\":\"a\"}]}",
               "script t.json: turns[0]: unknown key \"contnet\" (a typo?)");
  expect_error("{\"model\":\"m\",\"turns\":[{\"content\":7}]}",
               "script t.json: turns[0].content: expected a string");
  expect_error("{\"model\":\"m\",\"turns\":[{\"content\":\"a\",\"status\":302}]}",
               "script t.json: turns[0].status: expected 200 or an error status (400 to 599)");
  expect_error("{\"model\":\"m\",\"turns\":[{\"content\":\"a\",\"delay_ms\":-1}]}",
               "script t.json: turns[0].delay_ms: expected an integer from 0 to 3600000");
  expect_error("{\"model\":\"m\",\"turns\":[{\"content\":\"a\",\"usage\":{\"prompt_tokens\":1}}]}",
               "script t.json: turns[0].usage: missing \"completion_tokens\"");
  expect_error("{\"model\":\"m\",\"turns\":[{\"content\":\"a\",\"usage\":{\"prompt_tokens\":1.5,"
               "\"completion_tokens\":1}}]}",
               "script t.json: turns[0].usage.prompt_tokens: expected an integer from 0 to "
               "1125899906842624");
  expect_error("{\"model\":\"m\",\"turns\":[{\"content\":\"a\",\"usage\":{\"prompt_tokens\":1,"
               "\"completion_tokens\":1}}],\"usage\":[{\"prompt_tokens\":1,\"completion_tokens\":1}]}",
               "script t.json: turns[0]: usage given both here and in the top-level \"usage\" "
               "array; keep one");
  expect_error("{\"model\":\"m\",\"turns\":[{\"content\":\"a\"}],\"usage\":[{},{}]}",
               "script t.json.usage: 2 entries for 1 turns");
  expect_error("{\"model\":\"m\",\"turns\":[{\"content\":\"a\"}],\"usage\":[{\"prompt_tokens\":1}]}",
               "script t.json: usage[0]: missing \"completion_tokens\"");
  expect_error("{\"model\":\"m\",\"turns\":[{\"tool_calls\":[{\"name\":\"f\",\"arguments\":3}]}]}",
               "script t.json: turns[0].tool_calls[0].arguments: expected an object or a string "
               "of JSON");
  expect_error("{\"model\":\"m\",\"turns\":[{\"content\":\"a\"}],\"after_last\":\"loop\"}",
               "script t.json.after_last: expected \"done\" or \"repeat\", not \"loop\"");
  expect_error("{\"model\":\"m\",\n \"turns\": [}", "script t.json: not valid JSON (at line 2, "
                                                  "column 12)");
  expect_error("[1]", "script t.json: expected a JSON object {\"model\", \"turns\"}");

  struct cab_script *s = NULL;
  cab_error err = {0};
  assert_int_equal(cab_script_load("/nonexistent/s.json", &s, &err), -1);
  assert_non_null(strstr(err.message, "/nonexistent/s.json"));
}

/* without_tools: parsed as a turn, validated like one, kept apart from the
 * main turns (the server answers tool-less requests with it). */
static void
test_without_tools(void **state)
{
  struct cab_script *s = parse_ok(
      "{\"model\":\"m\",\"without_tools\":{\"content\":\"Title\",\"usage\":"
      "{\"prompt_tokens\":7,\"completion_tokens\":3}},\"turns\":[{\"content\":\"a\"}]}");
  assert_non_null(s->without_tools);
  assert_string_equal(s->without_tools->content, "Title");
  assert_int_equal(s->without_tools->prompt_tokens, 7);
  assert_int_equal(s->without_tools->completion_tokens, 3);
  assert_int_equal(s->n_turns, 1);
  assert_string_equal(cab_script_turn_for(s, 0)->content, "a");
  cab_script_free(s);
  s = parse_ok("{\"model\":\"m\",\"turns\":[{\"content\":\"a\"}]}");
  assert_null(s->without_tools);
  cab_script_free(s);
  expect_error("{\"model\":\"m\",\"without_tools\":{\"contnet\":\"x\"},\"turns\":[{\"content\":\"a\"}]}",
               "script t.json: without_tools: unknown key \"contnet\" (a typo?)");
}

static void
test_turns_and_defaults(void **state)
{
  struct cab_script *s = parse_ok(
      "{\"model\":\"m\",\"_note\":\"ignored\",\"description\":\"x\",\"stream_chunk_delay_ms\":7,"
      "\"usage\":[{\"prompt_tokens\":100,\"completion_tokens\":20}],"
      "\"turns\":[{\"content\":\"a\"},"
      "{\"tool_calls\":[{\"name\":\"f\",\"arguments\":\"{\\\"x\\\":1}\",\"id\":\"call_x\"}],"
      "\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":6,\"total_tokens\":99,"
      "\"cached_tokens\":2},\"delay_ms\":3,\"stream_chunk_delay_ms\":0},"
      "{\"status\":429,\"retry_after\":2,\"error\":\"slow down\"},{\"hang\":true}]}");
  assert_int_equal(s->n_turns, 4);
  const struct cab_script_turn *t = cab_script_turn_for(s, 0);
  assert_string_equal(t->content, "a");
  assert_string_equal(t->finish_reason, "stop");
  assert_int_equal(t->prompt_tokens, 100);
  assert_int_equal(t->completion_tokens, 20);
  assert_int_equal(t->total_tokens, 120);
  assert_int_equal(t->chunk_delay_ms, 7);
  t = cab_script_turn_for(s, 1);
  assert_string_equal(t->finish_reason, "tool_calls");
  assert_string_equal(t->tool_calls[0].arguments, "{\"x\":1}");
  assert_string_equal(t->tool_calls[0].id, "call_x");
  assert_int_equal(t->total_tokens, 99);
  assert_int_equal(t->cached_tokens, 2);
  assert_int_equal(t->delay_ms, 3);
  assert_int_equal(t->chunk_delay_ms, 0);
  t = cab_script_turn_for(s, 2);
  assert_int_equal(t->status, 429);
  assert_int_equal(t->retry_after, 2);
  assert_true(cab_script_turn_for(s, 3)->hang);
  /* after the last: "done" */
  t = cab_script_turn_for(s, 4);
  assert_string_equal(t->content, "done");
  assert_int_equal(t->prompt_tokens, 10);
  assert_int_equal(t->completion_tokens, 5);
  assert_ptr_equal(cab_script_turn_for(s, 99), t);
  cab_script_free(s);

  s = parse_ok("{\"model\":\"m\",\"after_last\":\"repeat\",\"turns\":[{\"content\":\"a\"},"
               "{\"content\":\"b\"}]}");
  assert_string_equal(cab_script_turn_for(s, 5)->content, "b");
  assert_int_equal(cab_script_turn_for(s, 0)->prompt_tokens, 10); /* the default */
  cab_script_free(s);
}

/* The pieces of a reply, concatenated. */
static char *
joined(const struct cab_model_reply *r, size_t *len)
{
  size_t n = 0;
  for (size_t i = 0; i < r->n_chunks; i++)
    n += r->chunks[i].len;
  char *out = malloc(n + 1);
  size_t o = 0;
  for (size_t i = 0; i < r->n_chunks; i++) {
    memcpy(out + o, r->chunks[i].data, r->chunks[i].len);
    o += r->chunks[i].len;
  }
  out[o] = '\0';
  *len = o;
  return out;
}

static const char SCRIPT[] =
    "{\"model\":\"scripted/t\",\"stream_chunk_delay_ms\":10,\"turns\":["
    "{\"content\":\"Hello there, \\u00e9t\\u00e9 world\",\"usage\":{\"prompt_tokens\":1234,"
    "\"completion_tokens\":56,\"cached_tokens\":1000}},"
    "{\"content\":\"Let me write it.\",\"tool_calls\":[{\"name\":\"write_file\",\"arguments\":"
    "{\"path\":\"a.txt\",\"content\":\"caf\\u00e9 and a long enough line to be cut in pieces\"}},"
    "{\"name\":\"run\",\"arguments\":{\"cmd\":\"ls\"}}],"
    "\"usage\":{\"prompt_tokens\":77,\"completion_tokens\":8}}]}";

static void
render(const struct cab_script *s, size_t turn, enum cab_model_api api, const char *req_text,
       struct cab_model_reply *r)
{
  cJSON *req = cJSON_Parse(req_text);
  cab_error err = {0};
  if (cab_script_render(s, cab_script_turn_for(s, turn), api, req, 1, r, &err) < 0)
    fail_msg("render: %s", err.message);
  cJSON_Delete(req);
}

static void
check_usage(const struct cab_usage *u, int64_t p, int64_t c, int64_t cached, const char *finish)
{
  if (!u->present || u->prompt_tokens != p || u->completion_tokens != c ||
      u->total_tokens != p + c || u->cached_tokens != cached ||
      strcmp(u->finish_reason, finish) != 0 || strcmp(u->model, "scripted/t") != 0)
    fail_msg("usage: present=%d prompt=%lld completion=%lld total=%lld cached=%lld "
             "finish=%s model=%s",
             u->present, (long long)u->prompt_tokens, (long long)u->completion_tokens,
             (long long)u->total_tokens, (long long)u->cached_tokens, u->finish_reason, u->model);
}

static void
test_render_exact_usage(void **state)
{
  struct cab_script *s = parse_ok(SCRIPT);
  struct cab_model_reply r;
  struct cab_usage u;
  size_t len;

  render(s, 0, CAB_API_CHAT, "{}", &r);
  assert_int_equal(r.status, 200);
  assert_false(r.stream);
  cleanup_free char *a = joined(&r, &len);
  cab_usage_from_json(a, len, &u);
  check_usage(&u, 1234, 56, 1000, "stop");
  cab_model_reply_free(&r);

  render(s, 0, CAB_API_CHAT, "{\"stream\":true,\"stream_options\":{\"include_usage\":true}}", &r);
  assert_true(r.stream);
  assert_string_equal(r.content_type, "text/event-stream");
  for (size_t i = 1; i < r.n_chunks; i++)
    assert_int_equal(r.chunks[i].t_ms - r.chunks[i - 1].t_ms, 10);
  cleanup_free char *b = joined(&r, &len);
  cab_usage_from_sse(b, len, &u);
  check_usage(&u, 1234, 56, 1000, "stop");
  assert_non_null(strstr(b, "data: [DONE]\n\n"));
  assert_non_null(strstr(b, "\"choices\":[],\"usage\":{\"prompt_tokens\":1234"));
  cab_model_reply_free(&r);

  /* stream without include_usage: no figures, as with the real API */
  render(s, 0, CAB_API_CHAT, "{\"stream\":true}", &r);
  cleanup_free char *c = joined(&r, &len);
  cab_usage_from_sse(c, len, &u);
  assert_false(u.present);
  assert_null(strstr(c, "\"usage\""));
  cab_model_reply_free(&r);

  render(s, 0, CAB_API_MESSAGES, "{}", &r);
  cleanup_free char *d = joined(&r, &len);
  cab_usage_from_json(d, len, &u);
  check_usage(&u, 1234, 56, 1000, "end_turn");
  assert_non_null(strstr(d, "\"input_tokens\":234,"));
  cab_model_reply_free(&r);

  render(s, 0, CAB_API_MESSAGES, "{\"stream\":true}", &r);
  cleanup_free char *e = joined(&r, &len);
  cab_usage_from_sse(e, len, &u);
  check_usage(&u, 1234, 56, 1000, "end_turn");
  assert_memory_equal(e, "event: message_start\ndata: ", 27);
  cab_model_reply_free(&r);

  render(s, 1, CAB_API_COMPLETIONS, "{}", &r);
  cleanup_free char *f = joined(&r, &len);
  cab_usage_from_json(f, len, &u);
  check_usage(&u, 77, 8, 0, "tool_calls");
  assert_non_null(strstr(f, "\"text\":\"Let me write it.\""));
  cab_model_reply_free(&r);

  render(s, 1, CAB_API_COMPLETIONS, "{\"stream\":true,\"stream_options\":{\"include_usage\":true}}",
         &r);
  cleanup_free char *g = joined(&r, &len);
  cab_usage_from_sse(g, len, &u);
  check_usage(&u, 77, 8, 0, "tool_calls");
  cab_model_reply_free(&r);
  cab_script_free(s);
}

/* Reassemble streamed tool calls (OpenAI) and text; compare with the
 * non-streamed answer. */
static void
test_render_tool_calls(void **state)
{
  struct cab_script *s = parse_ok(SCRIPT);
  struct cab_model_reply r;
  size_t len;

  render(s, 1, CAB_API_CHAT, "{}", &r);
  cleanup_free char *whole = joined(&r, &len);
  cab_model_reply_free(&r);
  cJSON *j = cJSON_Parse(whole);
  cJSON *msg = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "choices"), 0),
                                   "message");
  cJSON *tcs = cJSON_GetObjectItem(msg, "tool_calls");
  assert_int_equal(cJSON_GetArraySize(tcs), 2);
  cJSON *tc0 = cJSON_GetArrayItem(tcs, 0);
  assert_string_equal(cJSON_GetObjectItem(tc0, "id")->valuestring, "call_cab1_0");
  assert_string_equal(cJSON_GetObjectItem(tc0, "type")->valuestring, "function");
  const char *args0 =
      cJSON_GetObjectItem(cJSON_GetObjectItem(tc0, "function"), "arguments")->valuestring;

  render(s, 1, CAB_API_CHAT, "{\"stream\":true}", &r);
  char args[2][512] = {"", ""}, names[2][64] = {"", ""}, text[256] = "", finish[32] = "";
  for (size_t i = 0; i < r.n_chunks; i++) {
    const char *d = r.chunks[i].data;
    assert_memory_equal(d, "data: ", 6);
    assert_memory_equal(d + r.chunks[i].len - 2, "\n\n", 2);
    if (strcmp(d, "data: [DONE]\n\n") == 0)
      continue;
    cJSON *c = cJSON_ParseWithLength(d + 6, r.chunks[i].len - 8);
    assert_non_null(c);
    cJSON *ch = cJSON_GetArrayItem(cJSON_GetObjectItem(c, "choices"), 0);
    cJSON *delta = cJSON_GetObjectItem(ch, "delta");
    cJSON *content = cJSON_GetObjectItem(delta, "content");
    if (cJSON_IsString(content))
      strcat(text, content->valuestring);
    cJSON *fr = cJSON_GetObjectItem(ch, "finish_reason");
    if (cJSON_IsString(fr))
      snprintf(finish, sizeof finish, "%s", fr->valuestring);
    cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItem(delta, "tool_calls"))
    {
      int k = cJSON_GetObjectItem(t, "index")->valueint;
      assert_true(k == 0 || k == 1);
      cJSON *fn = cJSON_GetObjectItem(t, "function");
      cJSON *name = cJSON_GetObjectItem(fn, "name");
      if (name)
        snprintf(names[k], sizeof names[k], "%s", name->valuestring);
      strcat(args[k], cJSON_GetObjectItem(fn, "arguments")->valuestring);
    }
    cJSON_Delete(c);
  }
  cab_model_reply_free(&r);
  assert_string_equal(text, "Let me write it.");
  assert_string_equal(finish, "tool_calls");
  assert_string_equal(names[0], "write_file");
  assert_string_equal(names[1], "run");
  assert_string_equal(args[0], args0);
  assert_string_equal(args[1], "{\"cmd\":\"ls\"}");
  cJSON_Delete(j);

  /* Anthropic: text block, then tool_use blocks; input_json_delta pieces
   * join to the input */
  render(s, 1, CAB_API_MESSAGES, "{\"stream\":true}", &r);
  char partial[512] = "";
  int starts = 0;
  for (size_t i = 0; i < r.n_chunks; i++) {
    const char *d = strstr(r.chunks[i].data, "\ndata: ");
    assert_non_null(d);
    cJSON *c = cJSON_Parse(d + 7);
    assert_non_null(c);
    const char *type = cJSON_GetObjectItem(c, "type")->valuestring;
    if (strcmp(type, "content_block_start") == 0) {
      cJSON *b = cJSON_GetObjectItem(c, "content_block");
      if (starts++ == 1) {
        assert_string_equal(cJSON_GetObjectItem(b, "type")->valuestring, "tool_use");
        assert_string_equal(cJSON_GetObjectItem(b, "id")->valuestring, "toolu_cab1_0");
      }
    }
    cJSON *delta = cJSON_GetObjectItem(c, "delta");
    cJSON *pj = cJSON_GetObjectItem(delta, "partial_json");
    if (cJSON_IsString(pj) && cJSON_GetObjectItem(c, "index")->valueint == 1)
      strcat(partial, pj->valuestring);
    cJSON_Delete(c);
  }
  assert_int_equal(starts, 3);
  cab_model_reply_free(&r);
  cJSON *in = cJSON_Parse(partial);
  assert_non_null(in);
  assert_non_null(strstr(cJSON_GetObjectItem(in, "content")->valuestring, "caf\xc3\xa9"));
  cJSON_Delete(in);
  cab_script_free(s);
}

static void
test_render_errors_and_hang(void **state)
{
  struct cab_script *s = parse_ok("{\"model\":\"m\",\"turns\":[{\"status\":429,\"retry_after\":3,"
                                  "\"delay_ms\":20},{\"status\":529},{\"hang\":true}]}");
  struct cab_model_reply r;
  size_t len;
  render(s, 0, CAB_API_CHAT, "{\"stream\":true}", &r);
  assert_int_equal(r.status, 429);
  assert_int_equal(r.retry_after, 3);
  assert_int_equal(r.chunks[0].t_ms, 20);
  assert_false(r.stream);
  cleanup_free char *a = joined(&r, &len);
  assert_string_equal(a, "{\"error\":{\"message\":\"scripted failure\",\"type\":\"requests\","
                         "\"param\":null,\"code\":\"rate_limit_exceeded\"}}");
  cab_model_reply_free(&r);
  render(s, 1, CAB_API_MESSAGES, "{}", &r);
  assert_int_equal(r.status, 529);
  cleanup_free char *b = joined(&r, &len);
  assert_string_equal(b, "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
                         "\"message\":\"scripted failure\"}}");
  cab_model_reply_free(&r);
  render(s, 2, CAB_API_CHAT, "{}", &r);
  assert_true(r.hang);
  assert_int_equal(r.n_chunks, 0);
  cab_script_free(s);
}

static void
test_embeddings_and_models(void **state)
{
  struct cab_script *s = parse_ok("{\"model\":\"m\",\"turns\":[{\"content\":\"a\"}]}");
  struct cab_model_reply r, r2;
  size_t len;
  cJSON *req = cJSON_Parse("{\"input\":[\"hello world\",\"x\"],\"dimensions\":8}");
  assert_int_equal(cab_script_render_embeddings(s, req, &r), 0);
  assert_int_equal(cab_script_render_embeddings(s, req, &r2), 0);
  cJSON_Delete(req);
  cleanup_free char *a = joined(&r, &len);
  cleanup_free char *b = joined(&r2, &len);
  assert_string_equal(a, b); /* deterministic */
  cJSON *j = cJSON_Parse(a);
  cJSON *v = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "data"), 0),
                                 "embedding");
  assert_int_equal(cJSON_GetArraySize(v), 8);
  double norm = 0;
  cJSON *x;
  cJSON_ArrayForEach(x, v) norm += x->valuedouble * x->valuedouble;
  assert_true(norm > 0.999 && norm < 1.001);
  assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "usage"), "prompt_tokens")->valueint,
                   3);
  cJSON_Delete(j);
  cab_model_reply_free(&r);
  cab_model_reply_free(&r2);

  req = cJSON_Parse("{\"input\":\"hello world\",\"dimensions\":8,\"encoding_format\":\"base64\"}");
  assert_int_equal(cab_script_render_embeddings(s, req, &r), 0);
  cJSON_Delete(req);
  cleanup_free char *c = joined(&r, &len);
  assert_non_null(strstr(c, "\"embedding\":\"")); /* 32 bytes -> 44 characters */
  cab_model_reply_free(&r);

  req = cJSON_Parse("{\"input\":42}");
  assert_int_equal(cab_script_render_embeddings(s, req, &r), 0);
  assert_int_equal(r.status, 400);
  cJSON_Delete(req);
  cab_model_reply_free(&r);

  assert_int_equal(cab_script_render_models(s, false, &r), 0);
  cleanup_free char *m = joined(&r, &len);
  assert_string_equal(m, "{\"object\":\"list\",\"data\":[{\"id\":\"m\",\"object\":\"model\","
                         "\"created\":1735689600,\"owned_by\":\"cab\"}]}");
  cab_model_reply_free(&r);
  cab_script_free(s);
}

/* Every example script under tests/model loads. */
static void
test_example_scripts(void **state)
{
  static const char *const files[] = {"tests/model/basic.json", "tests/model/tools.json",
                                      "tests/model/failures.json", "tests/model/anthropic.json",
                                      "tests/model/hang.json"};
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    struct cab_script *s = NULL;
    cab_error err = {0};
    if (cab_script_load(files[i], &s, &err) < 0)
      fail_msg("%s", err.message);
    cab_script_free(s);
  }
}

/* One HTTP/1.0 exchange on 127.0.0.1:PORT; the whole response in OUT. */
static size_t
http(int port, const char *request, char *out, size_t size)
{
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  struct timeval tv = {10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
  assert_int_equal(write(fd, request, strlen(request)), (ssize_t)strlen(request));
  size_t n = 0;
  ssize_t r;
  while (n + 1 < size && (r = read(fd, out + n, size - 1 - n)) > 0)
    n += (size_t)r;
  out[n] = '\0';
  close(fd);
  return n;
}

/* The server on a listening socket the caller made (as the runner hands it
 * one from the gateway netns); stop ends a hanging call at once. */
static void
test_server_on_given_fd(void **state)
{
  struct cab_script *s = parse_ok("{\"model\":\"m\",\"turns\":[{\"content\":\"hi\","
                                  "\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":2}},"
                                  "{\"hang\":true}]}");
  cab_error err = {0};
  int fd = cab_listen_tcp("127.0.0.1:0", &err);
  assert_true(fd >= 0);
  struct cab_model_server_config cfg = {.script = s, .listen_fd = fd};
  struct cab_model_server *srv;
  if (cab_model_server_start(&cfg, &srv, &err) < 0)
    fail_msg("%s", err.message);
  int port = cab_model_server_port(srv);
  assert_true(port > 0);
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/v1", port);
  assert_string_equal(cab_model_server_url(srv), url);

  char resp[8192];
  const char *req = "POST /v1/chat/completions HTTP/1.0\r\nContent-Type: application/json\r\n"
                    "Content-Length: 2\r\n\r\n{}";
  http(port, req, resp, sizeof resp);
  assert_memory_equal(resp, "HTTP/1.", 7);
  assert_memory_equal(resp + 8, " 200 ", 5);
  const char *body = strstr(resp, "\r\n\r\n");
  assert_non_null(body);
  struct cab_usage u;
  cab_usage_from_json(body + 4, strlen(body + 4), &u);
  assert_int_equal(u.prompt_tokens, 7);
  assert_int_equal(u.completion_tokens, 2);
  assert_int_equal(cab_model_server_answered(srv), 1);

  /* the second turn hangs: a client in another process waits; stop ends it */
  pid_t pid = fork();
  if (pid == 0) {
    char r2[256];
    size_t n = http(port, req, r2, sizeof r2);
    _exit(n == 0 ? 0 : 1);
  }
  usleep(200 * 1000);
  int64_t t0 = cab_now_ns();
  cab_model_server_stop(srv);
  assert_true(cab_now_ns() - t0 < INT64_C(2000000000));
  int status;
  waitpid(pid, &status, 0);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0); /* closed, no answer */
  cab_script_free(s);

  assert_int_equal(cab_listen_tcp("127.0.0.1:99999", &err), -1);
  assert_non_null(strstr(err.message, "expected HOST:PORT"));
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_validation),
      cmocka_unit_test(test_turns_and_defaults),
      cmocka_unit_test(test_without_tools),
      cmocka_unit_test(test_render_exact_usage),
      cmocka_unit_test(test_render_tool_calls),
      cmocka_unit_test(test_render_errors_and_hang),
      cmocka_unit_test(test_embeddings_and_models),
      cmocka_unit_test(test_example_scripts),
      cmocka_unit_test(test_server_on_given_fd),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
