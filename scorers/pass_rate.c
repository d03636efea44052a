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
 *              Maven "Tests run: N, Failures: 0, Errors: 0"; JUnit 5's
 *              console launcher "[ N tests successful ]" (N > 0), failure
 *              "[ N tests failed ]" / "[ N tests aborted ]" with N > 0
 *   node       "# pass N" / "ℹ pass N" (N > 0); failure "# fail N" N > 0;
 *              TAP: a plan "1..N" (N > 0) with "ok" lines; failure "not ok"
 *   plain      "N passed, N failed" (N passed > 0); failure: N failed > 0
 *   checks     a line "ok: <what>" (integrity graders: "ok: refusal
 *              documented, tests untouched")
 *   reports    a JUnit XML / CTRF report with tests > 0 (failures fail)
 *
 * partial_score = passed / (passed + failed [+ errors]) from the report, else
 * from the last "N passed, N failed" line, else null.
 *
 * tests_ran / tests_passed: the runner's own count (null when none printed
 * one): the report's, else the first of cargo's "test result:" lines
 * (summed), go test -v's top-level "--- PASS:" / "--- FAIL:" lines,
 * unittest's "Ran N tests" less its "FAILED (failures=, errors=)", pytest's
 * summary, Catch2's "test cases: N | P passed | F failed" or "All tests
 * passed (A assertions in N test cases)", jest's "Tests: F failed, P
 * passed, T total", Maven's last "Tests run:", JUnit 4's "OK (N tests)",
 * JUnit 5's console launcher's "tests successful/failed/aborted",
 * node's "# pass N" / "# fail N".  With the task's scorer.min_tests, a pass
 * also needs at least that many counted, all passed, and the object gets
 * min_tests, tests_ran and tests_passed (only then: the published shape
 * stays exact for the other tasks).
 *
 * A reward task (scorer.kind "reward") is judged by its rewards instead
 * (scorers/reward.c). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "scorers/scorers.h"
#include "scorers/util.h"

/* A runner's own count of the tests it ran and passed (-1: none seen). */
struct count {
  long ran, passed;
};

struct evidence {
  bool ran, failed;
  /* one count per runner; the first that saw any is reported */
  struct count c_cargo, c_go, c_unittest, c_pytest, c_catch, c_jest, c_maven, c_junit4, c_junit5,
      c_node;
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

static void
add_count(struct count *c, long ran, long passed)
{
  if (ran < 0 || passed < 0)
    return;
  if (c->ran < 0)
    c->ran = c->passed = 0;
  c->ran += ran;
  c->passed += passed;
}

/* The integer after KEY in S, 0 when absent. */
static long
count_after(const char *s, const char *key)
{
  const char *k = strstr(s, key);
  return k ? strtol(k + strlen(key), NULL, 10) : 0;
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
    if (end != line + 4 && (starts(end, " test in") || starts(end, " tests in"))) {
      ev->unittest_ran += n;
      add_count(&ev->c_unittest, n, n); /* failures subtracted at "FAILED (" */
    }
    return;
  }
  if (strcmp(line, "OK") == 0 || starts(line, "OK (")) {
    long n;
    /* JUnit 4's text runner: "OK (3 tests)" */
    if (starts(line, "OK (") && (n = strtol(line + 4, NULL, 10)) > 0 &&
        (strstr(line, " tests)") || strstr(line, " test)"))) {
      ev->ran = true;
      add_count(&ev->c_junit4, n, n);
    }
    ev->unittest_ok = true;
    return;
  }
  if (starts(line, "FAILED (") || starts(line, "FAILURES!!!")) {
    /* unittest: "FAILED (failures=1, errors=2, skipped=1)" */
    const char *k;
    long bad = 0;
    if ((k = strstr(line, "failures=")))
      bad += strtol(k + 9, NULL, 10);
    if ((k = strstr(line, "errors=")))
      bad += strtol(k + 7, NULL, 10);
    if (ev->c_unittest.ran >= bad)
      ev->c_unittest.passed -= bad;
    ev->failed = true;
    return;
  }
  /* cargo */
  if (starts(line, "test result: ")) {
    const char *r = line + 13;
    long n = count_of(r, "passed"), nf = count_of(r, "failed");
    add_count(&ev->c_cargo, (n > 0 ? n : 0) + (nf > 0 ? nf : 0), n > 0 ? n : 0);
    if (starts(r, "ok.")) {
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
  /* go test -v: the top-level tests' results start the line (subtests
   * are indented under them) */
  if (starts(line, "--- PASS: ")) {
    add_count(&ev->c_go, 1, 1);
    return;
  }
  if (starts(line, "--- FAIL: "))
    add_count(&ev->c_go, 1, 0);
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
    long n = strtol(strstr(tl, "pass ") + 5, NULL, 10);
    add_count(&ev->c_node, n, n);
    if (n > 0)
      ev->ran = true;
    return;
  }
  if (starts(tl, "# fail ") || starts(tl, "\xe2\x84\xb9 fail ")) {
    long n = strtol(strstr(tl, "fail ") + 5, NULL, 10);
    add_count(&ev->c_node, n, 0);
    if (n > 0)
      ev->failed = true;
    return;
  }
  /* jest: "Tests:       1 failed, 5 passed, 6 total" */
  if (starts(tl, "Tests: ") && strstr(tl, " total")) {
    long total = count_of(tl, "total"), p = count_of(tl, "passed"), f = count_of(tl, "failed");
    if (total > 0 && p >= 0) {
      add_count(&ev->c_jest, (p > 0 ? p : 0) + (f > 0 ? f : 0), p);
      if (f > 0)
        ev->failed = true;
      else if (p > 0)
        ev->ran = true;
    } else if (f > 0) {
      add_count(&ev->c_jest, f, 0);
      ev->failed = true;
    }
    return;
  }
  /* Catch2: "test cases: 4 | 3 passed | 1 failed" (a failure, or a pass
   * with skipped ones) */
  if (starts(tl, "test cases: ")) {
    long total = strtol(tl + 12, NULL, 10), p = count_of(tl, "passed"), f = count_of(tl, "failed");
    if (p < 0)
      p = f > 0 ? total - f : 0;
    add_count(&ev->c_catch, (p > 0 ? p : 0) + (f > 0 ? f : 0), p > 0 ? p : 0);
    if (f > 0)
      ev->failed = true;
    else if (p > 0)
      ev->ran = true;
    return;
  }
  /* JUnit-ish custom runners; Catch2's "All tests passed (12 assertions in
   * 4 test cases)" */
  if (cab_memcasemem(line, strlen(line), "all tests passed")) {
    const char *in = strstr(line, " assertions in ");
    if (in == NULL)
      in = strstr(line, " assertion in ");
    long n = in ? strtol(strstr(in, " in ") + 4, NULL, 10) : -1;
    if (n > 0 && strstr(line, " test case"))
      add_count(&ev->c_catch, n, n);
    ev->ran = true;
    return;
  }
  /* JUnit 5's console launcher's summary box: "[         2 tests successful      ]",
   * "[         0 tests failed          ]", "[ 0 tests aborted ]" */
  if (line[0] == '[') {
    char *end;
    long n = strtol(line + 1, &end, 10);
    if (end != line + 1 && n >= 0) {
      if (starts(end, " tests successful") || starts(end, " test successful")) {
        add_count(&ev->c_junit5, n, n);
        if (n > 0)
          ev->ran = true;
        return;
      }
      if (starts(end, " tests failed") || starts(end, " test failed") ||
          starts(end, " tests aborted") || starts(end, " test aborted")) {
        add_count(&ev->c_junit5, n, 0);
        if (n > 0)
          ev->failed = true;
        return;
      }
    }
  }
  /* Maven / JUnit: "Tests run: 4, Failures: 0, Errors: 0, Skipped: 0" */
  if (starts(tl, "Tests run: ") || strstr(line, "] Tests run: ")) {
    const char *t = strstr(line, "Tests run: ");
    long run = strtol(t + 11, NULL, 10);
    const char *f = strstr(t, "Failures: "), *e = strstr(t, "Errors: ");
    long nf = f ? strtol(f + 10, NULL, 10) : 0, ne = e ? strtol(e + 8, NULL, 10) : 0;
    /* per class, then the totals: the last line is the whole run */
    ev->c_maven.ran = run;
    ev->c_maven.passed = run - nf - ne - count_after(t, "Skipped: ");
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
    long p = passed > 0 ? passed : 0;
    add_count(&ev->c_pytest, p + (failed > 0 ? failed : 0) + (errors > 0 ? errors : 0), p);
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
  if (in->task && in->task->scorer_reward)
    return cab_score_reward(in);
  const struct cab_verify_result *v = &in->verify;
  struct evidence ev = {0};
  struct count *all[] = {&ev.c_cargo, &ev.c_go,     &ev.c_unittest, &ev.c_pytest,
                         &ev.c_catch, &ev.c_jest,   &ev.c_maven,    &ev.c_junit4,
                         &ev.c_junit5, &ev.c_node};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    *all[i] = (struct count){-1, -1};
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

  /* The runners' own count: a report's, else the first runner that
   * printed one.  A task's min_tests asks for at least that many run and
   * passed: a verifier that skipped tests (Exercism skips all but the
   * first unless told) or ran none is no pass. */
  struct count cnt = {-1, -1};
  if (have_report)
    cnt = (struct count){rp + rf, rp};
  const struct count *order[] = {&ev.c_cargo, &ev.c_go,    &ev.c_unittest, &ev.c_pytest,
                                 &ev.c_catch, &ev.c_jest, &ev.c_maven,    &ev.c_junit4,
                                 &ev.c_junit5, &ev.c_node};
  for (size_t i = 0; i < sizeof order / sizeof order[0] && cnt.ran < 0; i++)
    if (order[i]->ran >= 0)
      cnt = *order[i];
  long min_tests = in->task ? in->task->scorer_min_tests : 0;

  bool pass = v->exit_code == 0 && !v->timed_out && ev.ran && !ev.failed;
  if (min_tests > 0 && (cnt.passed < min_tests || cnt.passed < cnt.ran))
    pass = false;

  cJSON *j = cJSON_CreateObject();
  cJSON_AddNumberToObject(j, "pass", pass ? 1 : 0);
  cJSON_AddNumberToObject(j, "exit_code", v->exit_code);
  cJSON_AddBoolToObject(j, "timed_out", v->timed_out);
  /* Only for a task that declares min_tests: the published shape of the
   * object stays exact for the others. */
  if (min_tests > 0) {
    cJSON_AddNumberToObject(j, "min_tests", (double)min_tests);
    if (cnt.ran >= 0) {
      cJSON_AddNumberToObject(j, "tests_ran", (double)cnt.ran);
      cJSON_AddNumberToObject(j, "tests_passed", (double)cnt.passed);
    } else {
      cJSON_AddNullToObject(j, "tests_ran");
      cJSON_AddNullToObject(j, "tests_passed");
    }
  }
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
