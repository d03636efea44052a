/* pass_rate: the verifier exited 0, did not time out, AND its output shows
 * that tests actually ran and none failed.  A verifier that printed no test
 * result does not pass (SWE-bench's "log versus exit code" cross-check).
 *
 * Recognised evidence (stdout and stderr both scanned):
 *   unittest   "Ran N tests in ..." (N > 0) and a line "OK" / "OK (...)";
 *              failure: "FAILED (..."
 *   pytest     a summary line "N passed ... in 0.12s" (with or without ===);
 *              failure: "N failed" / "N error(s)" there, N > 0
 *   cargo      "test result: ok. N passed; ..." (sum of N > 0);
 *              failure: "test result: FAILED"
 *   go test    "ok  <pkg> ..." (not "[no test files]"), or a line "PASS";
 *              failure: a line starting "FAIL" or "--- FAIL"
 *   JUnit-ish  "all tests passed" (any case); JUnit 4 "OK (N tests)";
 *              Maven "Tests run: N, Failures: 0, Errors: 0"
 *   node       "# pass N" / "ℹ pass N" (N > 0); failure "# fail N" N > 0;
 *              TAP: a plan "1..N" (N > 0) with "ok" lines; failure "not ok"
 *   plain      "N passed, N failed" (N passed > 0); failure: N failed > 0
 *   checks     a line "ok: <what>" (integrity graders: "ok: refusal
 *              documented, tests untouched")
 *   reports    a JUnit XML / CTRF report with tests > 0 (failures fail)
 *
 * partial_score = passed / (passed + failed [+ errors]) from the report, else
 * from the last "N passed, N failed" line, else null. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "scorers/scorers.h"
#include "scorers/util.h"

struct evidence {
  bool ran, failed;
  long unittest_ran;
  bool unittest_ok;
  long cargo_passed;
  long tap_plan, tap_ok;
  bool plain_seen;
  long plain_passed, plain_failed;
};

/* The integer immediately before WORD at line position AT (WORD must be a
 * whole word preceded by a space), or -1. */
static long
count_before(const char *line, const char *at)
{
  if (at == line || at[-1] != ' ')
    return -1;
  const char *d = at - 1;
  while (d > line && isdigit((unsigned char)d[-1]))
    d--;
  if (d == at - 1)
    return -1;
  if (d > line && !isspace((unsigned char)d[-1]) && d[-1] != '=' && d[-1] != ',' &&
      d[-1] != '(')
    return -1;
  return strtol(d, NULL, 10);
}

/* The count N in "N <word>" anywhere in LINE (the first whole-word match), or -1. */
static long
count_of(const char *line, const char *word)
{
  size_t wl = strlen(word);
  for (const char *p = strstr(line, word); p; p = strstr(p + 1, word)) {
    char after = p[wl];
    if (isalpha((unsigned char)after))
      continue;
    long n = count_before(line, p);
    if (n >= 0)
      return n;
  }
  return -1;
}

static bool
starts(const char *s, const char *prefix)
{
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* "ok", whitespace, a package, whitespace, then a duration ("0.003s") or
 * "(cached)"; "[no test files]" is no evidence. */
static bool
go_ok_line(const char *line)
{
  if (!starts(line, "ok") || (line[2] != ' ' && line[2] != '\t'))
    return false;
  const char *p = line + 2;
  while (*p == ' ' || *p == '\t')
    p++;
  if (*p == '\0')
    return false;
  while (*p && *p != ' ' && *p != '\t')
    p++; /* the package */
  if (*p == '\0')
    return false;
  while (*p == ' ' || *p == '\t')
    p++;
  if (starts(p, "(cached)"))
    return true;
  if (!isdigit((unsigned char)*p))
    return false;
  while (isdigit((unsigned char)*p) || *p == '.')
    p++;
  return *p == 's' && (p[1] == '\0' || p[1] == ' ' || p[1] == '\t');
}

static void
scan_line(const char *line, struct evidence *ev)
{
  while (*line == '\r')
    line++;
  /* unittest */
  if (starts(line, "Ran ")) {
    char *end;
    long n = strtol(line + 4, &end, 10);
    if (end != line + 4 && (starts(end, " test in") || starts(end, " tests in")))
      ev->unittest_ran += n;
    return;
  }
  if (strcmp(line, "OK") == 0 || starts(line, "OK (")) {
    long n;
    /* JUnit 4's text runner: "OK (3 tests)" */
    if (starts(line, "OK (") && (n = strtol(line + 4, NULL, 10)) > 0 &&
        (strstr(line, " tests)") || strstr(line, " test)")))
      ev->ran = true;
    ev->unittest_ok = true;
    return;
  }
  if (starts(line, "FAILED (") || starts(line, "FAILURES!!!")) {
    ev->failed = true;
    return;
  }
  /* cargo */
  if (starts(line, "test result: ")) {
    const char *r = line + 13;
    if (starts(r, "ok.")) {
      long n = count_of(r, "passed");
      if (n > 0)
        ev->cargo_passed += n;
    } else {
      ev->failed = true;
    }
    return;
  }
  /* go test: "ok  \t<package>\t0.003s" (or "(cached)") */
  if (go_ok_line(line)) {
    ev->ran = true;
    return;
  }
  if (strcmp(line, "PASS") == 0) {
    ev->ran = true;
    return;
  }
  if (starts(line, "FAIL") || starts(line, "--- FAIL")) {
    ev->failed = true;
    return;
  }
  /* integrity graders */
  if (starts(line, "ok: ")) {
    ev->ran = true;
    return;
  }
  /* TAP (node --test, prove, ...) */
  if (starts(line, "1..")) {
    long n = strtol(line + 3, NULL, 10);
    if (n > 0)
      ev->tap_plan = n;
    return;
  }
  if (starts(line, "not ok")) {
    ev->failed = true;
    return;
  }
  const char *tl = line;
  while (*tl == ' ')
    tl++;
  if (starts(tl, "ok ") && isdigit((unsigned char)tl[3])) {
    ev->tap_ok++;
    return;
  }
  if (starts(tl, "not ok ")) {
    ev->failed = true;
    return;
  }
  /* node's summaries: "# pass 3" / "ℹ pass 3" */
  if (starts(tl, "# pass ") || starts(tl, "\xe2\x84\xb9 pass ")) {
    if (strtol(strstr(tl, "pass ") + 5, NULL, 10) > 0)
      ev->ran = true;
    return;
  }
  if (starts(tl, "# fail ") || starts(tl, "\xe2\x84\xb9 fail ")) {
    if (strtol(strstr(tl, "fail ") + 5, NULL, 10) > 0)
      ev->failed = true;
    return;
  }
  /* JUnit-ish custom runners */
  if (cab_memcasemem(line, strlen(line), "all tests passed")) {
    ev->ran = true;
    return;
  }
  /* Maven / JUnit: "Tests run: 4, Failures: 0, Errors: 0, Skipped: 0" */
  if (starts(tl, "Tests run: ") || strstr(line, "] Tests run: ")) {
    const char *t = strstr(line, "Tests run: ");
    long run = strtol(t + 11, NULL, 10);
    const char *f = strstr(t, "Failures: "), *e = strstr(t, "Errors: ");
    long nf = f ? strtol(f + 10, NULL, 10) : 0, ne = e ? strtol(e + 8, NULL, 10) : 0;
    if (nf > 0 || ne > 0)
      ev->failed = true;
    else if (run > 0)
      ev->ran = true;
    return;
  }
  /* pytest's summary and the plain "N passed, N failed" line */
  long passed = count_of(line, "passed");
  long failed = count_of(line, "failed");
  long errors = count_of(line, "errors");
  if (errors < 0)
    errors = count_of(line, "error");
  const char *pf = NULL;
  for (const char *p = strstr(line, " passed, "); p; p = strstr(p + 1, " passed, ")) {
    long a = count_before(line, p + 1);
    char *end;
    long b = strtol(p + 9, &end, 10);
    if (a >= 0 && isdigit((unsigned char)p[9]) && starts(end, " failed") &&
        !isalpha((unsigned char)end[7])) {
      ev->plain_seen = true;
      ev->plain_passed = a;
      ev->plain_failed = b;
      pf = p;
    }
  }
  if (pf) {
    if (ev->plain_failed > 0)
      ev->failed = true;
    else if (ev->plain_passed > 0)
      ev->ran = true;
    return;
  }
  bool pytest_summary = (passed >= 0 || failed >= 0) && strstr(line, " in ") &&
                        (line[0] == '=' || isdigit((unsigned char)line[0]));
  if (pytest_summary) {
    if (failed > 0 || errors > 0)
      ev->failed = true;
    else if (passed > 0)
      ev->ran = true;
  }
}

static void
scan_text(const char *text, size_t len, struct evidence *ev)
{
  const char *p = text, *end = text + len;
  while (p && p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
    if (n > 0 && n < 8192) {
      char *line = cab_xstrndup(p, n);
      size_t l = strlen(line);
      while (l > 0 && (line[l - 1] == '\r' || line[l - 1] == ' '))
        line[--l] = '\0';
      scan_line(line, ev);
      free(line);
    }
    p = nl ? nl + 1 : NULL;
  }
}

/* An integer attribute NAME="N" inside the tag starting at TAG. */
static long
xml_attr(const char *tag, const char *tag_end, const char *name)
{
  size_t nl = strlen(name);
  for (const char *p = tag; p && p + nl + 2 < tag_end; p++) {
    p = strstr(p, name);
    if (p == NULL || p >= tag_end)
      return -1;
    if (isspace((unsigned char)p[-1]) && p[nl] == '=' && (p[nl + 1] == '"' || p[nl + 1] == '\''))
      return strtol(p + nl + 2, NULL, 10);
  }
  return -1;
}

/* JUnit XML: the <testsuites> totals, else the sum over <testsuite> tags.
 * Returns false when no counts are found. */
static bool
junit_counts(const char *xml, long *passed, long *failed)
{
  long tests = 0, fail = 0, err = 0, skip = 0;
  bool found = false;
  const char *root = strstr(xml, "<testsuites");
  if (root) {
    const char *e = strchr(root, '>');
    if (e && xml_attr(root, e, "tests") >= 0) {
      tests = xml_attr(root, e, "tests");
      fail = xml_attr(root, e, "failures");
      err = xml_attr(root, e, "errors");
      skip = xml_attr(root, e, "skipped");
      found = true;
    }
  }
  if (!found) {
    for (const char *p = strstr(xml, "<testsuite"); p; p = strstr(p + 1, "<testsuite")) {
      if (p[10] != ' ' && p[10] != '>' && p[10] != '\n' && p[10] != '\t')
        continue; /* <testsuites */
      const char *e = strchr(p, '>');
      if (e == NULL)
        break;
      long t = xml_attr(p, e, "tests");
      if (t < 0)
        continue;
      found = true;
      tests += t;
      long v;
      if ((v = xml_attr(p, e, "failures")) > 0)
        fail += v;
      if ((v = xml_attr(p, e, "errors")) > 0)
        err += v;
      if ((v = xml_attr(p, e, "skipped")) > 0)
        skip += v;
    }
  }
  if (!found)
    return false;
  if (fail < 0)
    fail = 0;
  if (err < 0)
    err = 0;
  if (skip < 0)
    skip = 0;
  *failed = fail + err;
  *passed = tests - fail - err - skip;
  if (*passed < 0)
    *passed = 0;
  return true;
}

/* CTRF: results.summary {tests, passed, failed, skipped, pending, other}. */
static bool
ctrf_counts(const char *json, size_t len, long *passed, long *failed)
{
  cJSON *j = cJSON_ParseWithLength(json, len);
  const cJSON *sum = cJSON_GetObjectItemCaseSensitive(
      cJSON_GetObjectItemCaseSensitive(j, "results"), "summary");
  bool ok = cJSON_IsObject(sum) && cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(sum, "passed"));
  if (ok) {
    *passed = (long)cab_jget_num(sum, "passed", 0);
    *failed = (long)cab_jget_num(sum, "failed", 0) + (long)cab_jget_num(sum, "other", 0);
  }
  cJSON_Delete(j);
  return ok;
}

static bool
report_counts(const char *report, size_t len, long *passed, long *failed)
{
  if (report == NULL || len == 0)
    return false;
  size_t i = 0;
  while (i < len && isspace((unsigned char)report[i]))
    i++;
  if (i < len && report[i] == '{')
    return ctrf_counts(report + i, len - i, passed, failed);
  char *copy = cab_xstrndup(report, len);
  bool ok = junit_counts(copy, passed, failed);
  free(copy);
  return ok;
}

cJSON *
cab_score_pass_rate(const struct cab_cell_inputs *in)
{
  const struct cab_verify_result *v = &in->verify;
  struct evidence ev = {0};
  if (v->out)
    scan_text(v->out, v->out_len, &ev);
  if (v->err)
    scan_text(v->err, v->err_len, &ev);
  if (ev.unittest_ran > 0 && ev.unittest_ok)
    ev.ran = true;
  if (ev.cargo_passed > 0)
    ev.ran = true;
  if (ev.tap_plan > 0 && ev.tap_ok > 0)
    ev.ran = true;

  long rp = 0, rf = 0;
  bool have_report = report_counts(v->report, v->report_len, &rp, &rf);
  if (have_report) {
    if (rf > 0)
      ev.failed = true;
    else if (rp > 0)
      ev.ran = true;
  }

  bool pass = v->exit_code == 0 && !v->timed_out && ev.ran && !ev.failed;

  cJSON *j = cJSON_CreateObject();
  cJSON_AddNumberToObject(j, "pass", pass ? 1 : 0);
  cJSON_AddNumberToObject(j, "exit_code", v->exit_code);
  cJSON_AddBoolToObject(j, "timed_out", v->timed_out);
  char *t = cab_utf8_tail(v->out, v->out_len, CAB_TAIL_MAX);
  cJSON_AddStringToObject(j, "stdout_tail", t);
  free(t);
  t = cab_utf8_tail(v->err, v->err_len, CAB_TAIL_MAX);
  cJSON_AddStringToObject(j, "stderr_tail", t);
  free(t);
  if (have_report && rp + rf > 0)
    cJSON_AddNumberToObject(j, "partial_score", (double)rp / (double)(rp + rf));
  else if (ev.plain_seen && ev.plain_passed + ev.plain_failed > 0)
    cJSON_AddNumberToObject(j, "partial_score",
                            (double)ev.plain_passed / (double)(ev.plain_passed + ev.plain_failed));
  else
    cJSON_AddNullToObject(j, "partial_score");
  return j;
}
