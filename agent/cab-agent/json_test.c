/* Unit checks for cab-agent's own JSON reader/writer, plus its chunked
 * decoder, URL parser, /etc/hosts resolver and path normalizer.  A
 * standalone program (cmocka has no static archive to link into a static
 * build): prints "ok"/"not ok" lines and exits 1 if any check failed.
 * Built by agent/cab-agent/build.mk, run by tests/integration/cab_agent.sh. */
#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http.h"
#include "json.h"
#include "tools.h"
#include "util.h"

static int failures, checks;

#define CHECK(cond, ...)                   \
  do {                                     \
    checks++;                              \
    if (cond) {                            \
    } else {                               \
      failures++;                          \
      printf("not ok: %s:%d: ", __FILE__, __LINE__); \
      printf(__VA_ARGS__);                 \
      putchar('\n');                       \
    }                                      \
  } while (0)

static struct json *parse(const char *s) {
  char err[200];
  return json_parse(s, strlen(s), err, sizeof err);
}

/* Parse S and serialize it back compactly; NULL if it does not parse. */
static char *roundtrip(const char *s) {
  struct json *j = parse(s);
  if (!j) return NULL;
  char *out = json_serialize(j);
  json_free(j);
  return out;
}

static void expect_roundtrip(const char *in, const char *want) {
  char *out = roundtrip(in);
  CHECK(out && strcmp(out, want) == 0, "roundtrip %s: want %s, got %s", in, want,
        out ? out : "(parse error)");
  free(out);
}

static void expect_reject(const char *in, size_t len, const char *why) {
  char err[200] = "";
  struct json *j = json_parse(in, len, err, sizeof err);
  CHECK(j == NULL && err[0], "must reject (%s): %.*s", why, (int)len, in);
  json_free(j);
}

static void test_accept(void) {
  expect_roundtrip("null", "null");
  expect_roundtrip(" true ", "true");
  expect_roundtrip("\t\r\nfalse\n", "false");
  expect_roundtrip("0", "0");
  expect_roundtrip("-0", "0");
  expect_roundtrip("123", "123");
  expect_roundtrip("-9223372036854775808", "-9223372036854775808");
  expect_roundtrip("9223372036854775807", "9223372036854775807");
  expect_roundtrip("1.5", "1.5");
  expect_roundtrip("0.1", "0.1");
  expect_roundtrip("-2.5e-3", "-0.0025");
  expect_roundtrip("1E2", "100");
  expect_roundtrip("1e+2", "100");
  expect_roundtrip("\"\"", "\"\"");
  expect_roundtrip("[]", "[]");
  expect_roundtrip("{}", "{}");
  expect_roundtrip("[ 1 , [ 2 , { } ] ]", "[1,[2,{}]]");
  expect_roundtrip("{\"a\" : 1, \"b\":[true,null]}", "{\"a\":1,\"b\":[true,null]}");
  expect_roundtrip("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\\"\\\\/\\b\\f\\n\\r\\t\"");
  expect_roundtrip("\"\\u0041\\u00e9\\u20AC\"", "\"A\xc3\xa9\xe2\x82\xac\"");
  expect_roundtrip("\"\\ud83d\\ude00\"", "\"\xf0\x9f\x98\x80\""); /* surrogate pair */
  expect_roundtrip("\"\xf0\x9f\x98\x80 \xe2\x82\xac\"", "\"\xf0\x9f\x98\x80 \xe2\x82\xac\"");
  /* Lone surrogates are grammatical; they decode to U+FFFD. */
  expect_roundtrip("\"\\ud800\"", "\"\xef\xbf\xbd\"");
  expect_roundtrip("\"\\udc00x\"", "\"\xef\xbf\xbdx\"");
  expect_roundtrip("\"\\ud800\\u0041\"", "\"\xef\xbf\xbd" "A\"");
  /* Control characters come out escaped. */
  expect_roundtrip("\"\\u0001\\u001f\\u007f\"", "\"\\u0001\\u001f\\u007f\"");

  /* Big integers beyond int64 stay numbers (as doubles). */
  struct json *j = parse("123456789012345678901234567890");
  CHECK(j && j->type == JSON_NUMBER && !j->is_int && j->number > 1e29, "huge integer");
  json_free(j);

  /* \u0000 inside a string: length is kept. */
  j = parse("\"a\\u0000b\"");
  CHECK(j && j->type == JSON_STRING && j->len == 3 && j->str[1] == '\0' && j->str[2] == 'b',
        "embedded NUL keeps its length");
  char *out = json_serialize(j);
  CHECK(strcmp(out, "\"a\\u0000b\"") == 0, "embedded NUL is written back escaped: %s", out);
  free(out);
  json_free(j);

  /* Duplicate keys: the last wins for json_get. */
  j = parse("{\"k\":1,\"k\":2}");
  CHECK(j && json_get_int(j, "k", 0) == 2, "duplicate key: last wins");
  CHECK(j && j->n == 2, "duplicate keys are kept");
  json_free(j);

  /* Accessors. */
  j = parse("{\"s\":\"x\",\"n\":3,\"f\":2.0,\"g\":2.5,\"a\":[1,2]}");
  CHECK(j && strcmp(json_get_string(j, "s"), "x") == 0, "get_string");
  CHECK(json_get_string(j, "n") == NULL, "get_string on a number");
  CHECK(json_get_int(j, "n", -1) == 3, "get_int");
  CHECK(json_get_int(j, "f", -1) == 2, "get_int on 2.0");
  CHECK(json_get_int(j, "g", -1) == -1, "get_int on 2.5 gives the default");
  CHECK(json_get_int(j, "zz", -7) == -7, "get_int on a missing key");
  CHECK(json_at(json_get(j, "a"), 1) && json_at(json_get(j, "a"), 1)->integer == 2, "json_at");
  CHECK(json_at(json_get(j, "a"), 2) == NULL, "json_at out of range");
  CHECK(json_get(json_get(j, "s"), "x") == NULL, "json_get on a non-object");
  json_free(j);

  /* Deep but allowed nesting. */
  char deep[2 * JSON_MAX_DEPTH + 1];
  memset(deep, '[', JSON_MAX_DEPTH);
  memset(deep + JSON_MAX_DEPTH, ']', JSON_MAX_DEPTH);
  deep[2 * JSON_MAX_DEPTH] = '\0';
  j = parse(deep);
  CHECK(j != NULL, "nesting of exactly JSON_MAX_DEPTH is accepted");
  json_free(j);
}

static void test_reject(void) {
  static const char *bad[] = {
      "", " ", "nul", "nulll", "tru", "True", "NaN", "Infinity", "-Infinity", "+1", "01", "-01",
      "1.", ".5", "1e", "1e+", "-", "0x10", "1 2", "[1,]", "[,1]", "[1 2]", "{\"a\":1,}",
      "{\"a\" 1}", "{a:1}", "{'a':1}", "['a']", "{\"a\":1", "[1", "\"abc", "\"\\x\"", "\"\\u12\"",
      "\"\\u12G4\"", "\"\\", "// c\n1", "/* c */ 1", "[1]x", "{\"a\":1}}", "\"tab\there\"",
      "\"nl\nhere\"", "[\"a\",]", "{,}", "\xef\xbb\xbf{}", /* BOM */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) expect_reject(bad[i], strlen(bad[i]), "grammar");
  /* Bad UTF-8 inside strings. */
  expect_reject("\"\xff\"", 3, "invalid byte");
  expect_reject("\"\xc0\xaf\"", 4, "overlong /");
  expect_reject("\"\xe0\x80\xaf\"", 5, "overlong 3-byte");
  expect_reject("\"\xed\xa0\x80\"", 5, "encoded surrogate");
  expect_reject("\"\xf4\x90\x80\x80\"", 6, "above U+10FFFF");
  expect_reject("\"\xe2\x82\"", 4, "truncated sequence");
  expect_reject("\"\x80\"", 3, "lone continuation byte");
  /* A NUL byte in the text. */
  expect_reject("[1,\0 2]", 7, "raw NUL");
  expect_reject("\"a\0b\"", 5, "raw NUL in a string");
  /* Too deep. */
  char deep[2 * JSON_MAX_DEPTH + 3];
  memset(deep, '[', JSON_MAX_DEPTH + 1);
  memset(deep + JSON_MAX_DEPTH + 1, ']', JSON_MAX_DEPTH + 1);
  deep[2 * JSON_MAX_DEPTH + 2] = '\0';
  expect_reject(deep, strlen(deep), "too deep");
  /* Truncations of a valid document all fail, and never crash. */
  const char *doc = "{\"a\":[1,2.5e3,\"x\\u00e9\\ud83d\\ude00\",{\"b\":null}],\"c\":true}";
  struct json *j = parse(doc);
  CHECK(j != NULL, "the document parses whole");
  json_free(j);
  for (size_t n = 0; n < strlen(doc); n++) expect_reject(doc, n, "truncated document");

  /* The message says where. */
  char err[200];
  j = json_parse("{\n  \"a\" 1}", 10, err, sizeof err);
  CHECK(!j && strstr(err, "line 2") && strstr(err, "':'"), "error message: %s", err);
}

static void test_writer(void) {
  struct sbuf b = {0};
  /* Malformed UTF-8 is replaced, valid UTF-8 kept, controls escaped. */
  json_write_string(&b, "a\xff" "b\xc3\xa9\x01\"\\", 8);
  CHECK(strcmp(b.p, "\"a\xef\xbf\xbd" "b\xc3\xa9\\u0001\\\"\\\\\"") == 0, "writer sanitizes: %s", b.p);
  sb_free(&b);
  /* Truncated multibyte sequence at the end. */
  json_write_string(&b, "x\xe2\x82", 3);
  CHECK(strcmp(b.p, "\"x\xef\xbf\xbd\xef\xbf\xbd\"") == 0, "truncated UTF-8 at the end: %s", b.p);
  sb_free(&b);

  /* Built values serialize in insertion order; json_set replaces. */
  struct json *o = json_new_object();
  json_set(o, "z", json_new_int(1));
  json_set(o, "a", json_new_string("s"));
  json_set(o, "z", json_new_int(2));
  struct json *arr = json_new_array();
  json_append(arr, json_new_null());
  json_append(arr, json_new_bool(false));
  json_append(arr, json_new_number(0.25));
  json_append(arr, json_new_number(NAN));
  json_append(arr, json_new_number(1e300));
  json_set(o, "arr", arr);
  char *s = json_serialize(o);
  CHECK(strcmp(s, "{\"z\":2,\"a\":\"s\",\"arr\":[null,false,0.25,null,1e+300]}") == 0,
        "built object: %s", s);
  /* Clone is deep and equal. */
  struct json *c = json_clone(o);
  json_free(o);
  char *s2 = json_serialize(c);
  CHECK(strcmp(s, s2) == 0, "clone serializes the same: %s", s2);
  free(s);
  free(s2);
  json_free(c);

  /* Every serialization re-parses to the same text. */
  const char *docs[] = {"{\"k\":\"\\u0000\\u001f\xe2\x82\xac\",\"n\":-0.000123,\"m\":[[],{}]}",
                        "[1e-7,123456.789,-5]"};
  for (size_t i = 0; i < 2; i++) {
    char *a = roundtrip(docs[i]);
    char *a2 = a ? roundtrip(a) : NULL;
    CHECK(a && a2 && strcmp(a, a2) == 0, "stable roundtrip of %s", docs[i]);
    free(a);
    free(a2);
  }
}

static void test_dechunk(void) {
  char *out;
  size_t n;
  const char *ok = "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-T: y\r\n\r\n";
  CHECK(http_dechunk(ok, strlen(ok), &out, &n) == 0 && n == 12 && memcmp(out, "hello, world", 12) == 0,
        "chunked decode");
  free(out);
  const char *lf = "3\nabc\n0\n\n";
  CHECK(http_dechunk(lf, strlen(lf), &out, &n) == 0 && n == 3, "bare LF chunked");
  free(out);
  const char *upper = "A\r\n0123456789\r\n0\r\n\r\n";
  CHECK(http_dechunk(upper, strlen(upper), &out, &n) == 0 && n == 10, "hex size");
  free(out);
  for (size_t k = 0; k < strlen(ok); k++)
    CHECK(http_dechunk(ok, k, &out, &n) == 1, "partial chunked input (%zu bytes) needs more", k);
  CHECK(http_dechunk("zz\r\n", 4, &out, &n) == -1, "bad chunk size");
  CHECK(http_dechunk("3\r\nabcX\r\n", 9, &out, &n) == -1, "missing CRLF after chunk data");
  CHECK(http_dechunk("fffffffffffff\r\n", 15, &out, &n) == -1, "huge chunk size");
}

static void test_url(void) {
  struct http_url u;
  char err[300];
  CHECK(http_parse_url("http://127.0.0.1:8080/v1", &u, err, sizeof err) == 0 &&
            strcmp(u.host, "127.0.0.1") == 0 && u.port == 8080 && strcmp(u.path, "/v1") == 0,
        "plain URL");
  CHECK(http_parse_url("http://model.cab.internal/v1/", &u, err, sizeof err) == 0 && u.port == 80 &&
            strcmp(u.path, "/v1") == 0 && strcmp(u.hostport, "model.cab.internal") == 0,
        "name, default port, trailing slash");
  CHECK(http_parse_url("http://[::1]:9/x", &u, err, sizeof err) == 0 && strcmp(u.host, "::1") == 0 &&
            u.port == 9 && strcmp(u.hostport, "[::1]:9") == 0,
        "IPv6 literal");
  CHECK(http_parse_url("http://h:1", &u, err, sizeof err) == 0 && strcmp(u.path, "") == 0, "no path");
  CHECK(http_parse_url("https://h/v1", &u, err, sizeof err) < 0 && strstr(err, "https"), "https refused");
  CHECK(http_parse_url("ftp://h/v1", &u, err, sizeof err) < 0, "other scheme refused");
  CHECK(http_parse_url("http://h:0/v1", &u, err, sizeof err) < 0, "port 0 refused");
  CHECK(http_parse_url("http://h:99999/v1", &u, err, sizeof err) < 0, "port too big");
  CHECK(http_parse_url("http://h:x/v1", &u, err, sizeof err) < 0, "port not a number");
  CHECK(http_parse_url("http:///v1", &u, err, sizeof err) < 0, "no host");
  CHECK(http_parse_url("http://u:p@h/v1", &u, err, sizeof err) < 0, "user info refused");
  CHECK(http_parse_url("http://h/v 1", &u, err, sizeof err) < 0, "space in path refused");
}

static void test_resolve(void) {
  char path[] = "/tmp/cab-agent-hosts.XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0, "mkstemp");
  if (fd < 0) return;
  const char *hosts = "# comment\n127.0.0.1\tlocalhost\n10.1.2.3 other model.cab.internal # gw\n"
                      "::1 ip6-only\n";
  CHECK(write(fd, hosts, strlen(hosts)) == (ssize_t)strlen(hosts), "write hosts");
  close(fd);
  setenv("CAB_AGENT_HOSTS_FILE", path, 1);
  struct http_addrs a;
  char err[300];
  char buf[64];
  CHECK(http_resolve("model.cab.internal", &a, err, sizeof err) == 0 && a.n == 1 &&
            a.a[0].family == AF_INET && strcmp(inet_ntop(AF_INET, a.a[0].addr, buf, sizeof buf), "10.1.2.3") == 0,
        "hosts file lookup (alias)");
  CHECK(http_resolve("MODEL.cab.internal", &a, err, sizeof err) == 0, "names are case-insensitive");
  CHECK(http_resolve("ip6-only", &a, err, sizeof err) == 0 && a.a[0].family == AF_INET6, "IPv6 entry");
  CHECK(http_resolve("192.168.1.1", &a, err, sizeof err) == 0 && a.n == 1, "numeric IPv4");
  CHECK(http_resolve("fe80::1", &a, err, sizeof err) == 0 && a.a[0].family == AF_INET6, "numeric IPv6");
  CHECK(http_resolve("gw", &a, err, sizeof err) < 0 && strstr(err, "gw"), "names after # are comments");
  CHECK(http_resolve("nowhere.example", &a, err, sizeof err) < 0 && strstr(err, "no DNS"),
        "unknown name: %s", err);
  unlink(path);
  CHECK(http_resolve("localhost", &a, err, sizeof err) == 0 && a.n >= 1, "localhost without a hosts file");
  unsetenv("CAB_AGENT_HOSTS_FILE");
}

static void expect_norm(const char *in, const char *want) {
  char out[4096], err[600];
  int rc = tools_normalize_path(in, strlen(in), out, sizeof out, err, sizeof err);
  if (want) CHECK(rc == 0 && strcmp(out, want) == 0, "normalize %s: want %s, got %s", in, want, rc ? err : out);
  else CHECK(rc < 0, "normalize %s must be refused (got %s)", in, out);
}

static void test_paths(void) {
  expect_norm("a.txt", "a.txt");
  expect_norm("./a.txt", "a.txt");
  expect_norm("src//x/./y.c", "src/x/y.c");
  expect_norm("a/../b", "b");
  expect_norm("a/b/../c/", "a/c");
  expect_norm("", ".");
  expect_norm(".", ".");
  expect_norm("a/..", ".");
  expect_norm("..a/b..", "..a/b..");
  expect_norm("../x", NULL);
  expect_norm("..", NULL);
  expect_norm("a/../../x", NULL);
  expect_norm("a/../b/../../etc/passwd", NULL);
  expect_norm("/etc/passwd", NULL);
  expect_norm("//etc", NULL);
  char out[64], err[600];
  CHECK(tools_normalize_path("a\0b", 3, out, sizeof out, err, sizeof err) < 0, "NUL in a path refused");
}

int main(void) {
  test_accept();
  test_reject();
  test_writer();
  test_dechunk();
  test_url();
  test_resolve();
  test_paths();
  if (failures) {
    printf("cab-agent-json-test: %d of %d checks failed\n", failures, checks);
    return 1;
  }
  printf("cab-agent-json-test: all %d checks passed\n", checks);
  return 0;
}
