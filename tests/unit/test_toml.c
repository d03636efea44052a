/* Tests for common/toml: a Harbor task.toml reads as JSON; hostile or
 * unsupported input is refused with one line naming the line and the fix,
 * and no prefix or byte-flip of a document crashes the reader. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/toml.h"

static const char TASK[] =
    "# a Harbor task\n"
    "version = \"1.0\"\n"
    "\n"
    "[metadata]\n"
    "author_name = 'Ada'   # literal\n"
    "tags = [\"shell\",\n  \"files\", ] # trailing comma\n"
    "difficulty = \"easy\"\n"
    "\n"
    "[verifier]\n"
    "timeout_sec = 120.0\n"
    "env = { LANG = \"C.UTF-8\", \"DEBUG\" = \"1\" }\n"
    "\n"
    "[agent]\n"
    "timeout_sec = 1_800\n"
    "\n"
    "[environment]\n"
    "cpus = 2\n"
    "memory_mb = 0x800\n"
    "gpus = 0\n"
    "allow_internet = false\n"
    "network_mode = \"no-network\"\n"
    "build.args.x = -1.5e3\n"
    "note = \"\"\"\nline one \\\n   still one\nline \"two\"\\u00e9\"\"\"\n"
    "raw = '''C:\\path'''\n"
    "\n"
    "[[steps]]\n"
    "name = \"a\"\n"
    "[[steps]]\n"
    "name = \"b\"\n"
    "[steps.extra]\n"
    "k = true\n";

static void
test_task(void **state)
{
  cJSON *j = NULL;
  cab_error err = {0};
  int rc = cab_toml_parse(TASK, strlen(TASK), "task.toml", &j, &err);
  if (rc < 0)
    fail_msg("%s", err.message);
  char *s = cJSON_PrintUnformatted(j);
  assert_string_equal(
      s, "{\"version\":\"1.0\",\"metadata\":{\"author_name\":\"Ada\",\"tags\":[\"shell\","
         "\"files\"],\"difficulty\":\"easy\"},\"verifier\":{\"timeout_sec\":120,\"env\":"
         "{\"LANG\":\"C.UTF-8\",\"DEBUG\":\"1\"}},\"agent\":{\"timeout_sec\":1800},"
         "\"environment\":{\"cpus\":2,\"memory_mb\":2048,\"gpus\":0,\"allow_internet\":false,"
         "\"network_mode\":\"no-network\",\"build\":{\"args\":{\"x\":-1500}},\"note\":"
         "\"line one still one\\nline \\\"two\\\"\xc3\xa9\",\"raw\":\"C:\\\\path\"},"
         "\"steps\":[{\"name\":\"a\"},{\"name\":\"b\",\"extra\":{\"k\":true}}]}");
  free(s);
  cJSON_Delete(j);
}

struct bad {
  const char *text;
  const char *message; /* the whole error line */
};

static const struct bad BAD[] = {
    {"a = 1\na = 2\n", "t.toml:2: key 'a' is defined twice; keep one"},
    {"[x]\n[x]\n", "t.toml:2: table [x] is defined twice; merge the two"},
    {"d = 1979-05-27\n",
     "t.toml:1: dates and times are not supported; quote '1979-05-27' as a string"},
    {"t = 07:32:00\n", "t.toml:1: dates and times are not supported; quote '07:32:00' as a string"},
    {"x = inf\n", "t.toml:1: inf and nan are not supported (JSON has no such numbers)"},
    {"x = 9007199254740993\n",
     "t.toml:1: integer '9007199254740993' is beyond +-2^53, which cab cannot hold exactly; "
     "quote it"},
    {"x = 012\n", "t.toml:1: '012': leading zeros are not allowed"},
    {"x = 1__0\n", "t.toml:1: '1__0' is not a number; quote it if it is text"},
    {"x = \"abc\n", "t.toml:1: newline in a one-line string; close it on its line, or use \"\"\""},
    {"\n\nx = \"\"\"abc\n", "t.toml:3: unterminated string; close it with \"\"\""},
    {"x = \"\\q\"\n",
     "t.toml:1: unknown escape \\q in a string; write \\\\ for a backslash, or use a 'literal "
     "string'"},
    {"x = \"\\ud800\"\n", "t.toml:1: \\u escape U+D800 is not a Unicode scalar value"},
    {"x = \"a\x01\"\n", "t.toml:1: control character 0x01 in a string; escape it (\\u0001)"},
    {"x = \"\xff\"\n", "t.toml:1: invalid UTF-8; TOML is UTF-8 text"},
    {"x = 1 y = 2\n",
     "t.toml:1: unexpected 'y' after the value; put one key = value or [table] per line"},
    {"x = \n", "t.toml:1: a key needs a value after ="},
    {"x = [1, 2\n", "t.toml:2: unterminated array; close it with ]"},
    {"x = {a = 1\n}\n",
     "t.toml:1: expected , or } in an inline table (it must fit on one line)"},
    {"x = {a = 1}\n[x]\n", "t.toml:2: table [x] is defined twice; merge the two"},
    {"x = {a = 1}\nx.b = 2\n", "t.toml:2: key 'x' is already a value; a key is defined once"},
    {"a = [1]\n[[a]]\n", "t.toml:2: [[a]] names a key that is not an array of tables"},
    {"[a\n", "t.toml:1: expected ] to close the table header"},
    {"= 1\n", "t.toml:1: expected a key (letters, digits, _ or -, or a quoted key)"},
    {"x = @\n",
     "t.toml:1: unexpected '@': a value is a \"string\", number, true/false, [array] or { inline "
     "table }"},
    {"x = 0x-1\n", "t.toml:1: '-1' is not a number; quote it if it is text"},
    {"# c\x07\n", "t.toml:1: control character 0x07 in a comment; remove it"},
};

static void
test_refused(void **state)
{
  for (size_t i = 0; i < sizeof BAD / sizeof *BAD; i++) {
    cJSON *j = NULL;
    cab_error err = {0};
    int rc = cab_toml_parse(BAD[i].text, strlen(BAD[i].text), "t.toml", &j, &err);
    if (rc == 0)
      fail_msg("accepted: %s", BAD[i].text);
    assert_null(j);
    assert_string_equal(err.message, BAD[i].message);
  }
}

static void
test_nesting_bounded(void **state)
{
  char text[400] = "x = ";
  for (int i = 0; i < 100; i++)
    strcat(text, "[");
  cJSON *j = NULL;
  cab_error err = {0};
  assert_int_equal(cab_toml_parse(text, strlen(text), "t.toml", &j, &err), -1);
  assert_string_equal(err.message, "t.toml:1: values nested deeper than 32; flatten them");
  char nul[] = "x = 1\n\0y = 2\n";
  assert_int_equal(cab_toml_parse(nul, sizeof nul - 1, "t.toml", &j, &err), -1);
  assert_string_equal(err.message, "t.toml:2: a NUL byte; TOML is text");
}

/* Every prefix, and every byte replaced by each of a few hostile bytes:
 * parsed or refused, never a crash or a leak (run under make asan). */
static void
test_mangled(void **state)
{
  size_t n = strlen(TASK);
  char *buf = malloc(n + 1);
  static const char hostile[] = {'"', '\'', '[', ']', '{', '}', '=', '.', '\\', '\n', '#', ','};
  for (size_t len = 0; len <= n; len++) {
    cJSON *j = NULL;
    cab_error err = {0};
    if (cab_toml_parse(TASK, len, "t.toml", &j, &err) == 0)
      cJSON_Delete(j);
  }
  for (size_t i = 0; i < n; i++) {
    for (size_t h = 0; h < sizeof hostile; h++) {
      memcpy(buf, TASK, n);
      buf[i] = hostile[h];
      cJSON *j = NULL;
      cab_error err = {0};
      if (cab_toml_parse(buf, n, "t.toml", &j, &err) == 0)
        cJSON_Delete(j);
      else
        assert_true(strncmp(err.message, "t.toml:", 7) == 0);
    }
  }
  free(buf);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_task),
      cmocka_unit_test(test_refused),
      cmocka_unit_test(test_nesting_bounded),
      cmocka_unit_test(test_mangled),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
