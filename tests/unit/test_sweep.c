/* Tests for runner/sweep/: plan validation (every bad plan under
 * tests/fixtures/sweep/bad/ is rejected with exactly the one line its .err
 * file gives), a good plan's defaults and paths, task glob expansion, the
 * cell list and its per-cell spec hashes, and sharding (every cell in
 * exactly one shard, balance within the heaviest cell, determinism that
 * depends only on the cells, not their order).
 *
 * Run from the source tree's root (tests/run.sh does). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsutil.h"
#include "runner/sweep/cells.h"
#include "runner/sweep/plan.h"
#include "runner/sweep/shard.h"
#include "runner/task/limits.h"

#define BAD "tests/fixtures/sweep/bad"

static int
setup_env(void **state)
{
  (void)state;
  char tasks[PATH_MAX], adapters[PATH_MAX];
  if (realpath("tasks", tasks) == NULL || realpath("runner/adapters", adapters) == NULL)
    return -1;
  setenv("CAB_TASKS_DIR", tasks, 1);
  setenv("CAB_ADAPTERS_DIR", adapters, 1);
  return 0;
}

static char *
slurp(const char *path, size_t *len)
{
  char *text = NULL;
  cab_error err = {0};
  if (cab_read_file_at(AT_FDCWD, path, 1 << 20, &text, len, &err) < 0)
    fail_msg("%s", err.message);
  return text;
}

/* Parse and resolve TEXT as "plan.json"; the plan, or NULL with ERR. */
static struct cab_sweep_plan *
load_text(const char *text, cab_error *err)
{
  struct cab_sweep_plan *p = NULL;
  memset(err, 0, sizeof *err);
  if (cab_sweep_plan_parse(text, strlen(text), "plan.json", "/plans", &p, err) < 0)
    return NULL;
  if (cab_sweep_plan_resolve(p, err) < 0) {
    cab_sweep_plan_free(p);
    return NULL;
  }
  return p;
}

static void
test_bad_plans(void **state)
{
  (void)state;
  DIR *d = opendir(BAD);
  assert_non_null(d);
  struct dirent *e;
  int n = 0;
  while ((e = readdir(d)) != NULL) {
    size_t len = strlen(e->d_name);
    if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
      continue;
    char path[PATH_MAX], errpath[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", BAD, e->d_name);
    snprintf(errpath, sizeof errpath, "%s/%.*s.err", BAD, (int)(len - 5), e->d_name);
    char *text = slurp(path, NULL);
    char *want = slurp(errpath, NULL);
    want[strcspn(want, "\n")] = '\0';
    char expect[2048];
    snprintf(expect, sizeof expect, "plan.json: %s", want);
    cab_error err;
    struct cab_sweep_plan *p = load_text(text, &err);
    if (p != NULL)
      fail_msg("%s was accepted; expected: %s", e->d_name, expect);
    char line[2300];
    cab_error_line(&err, line, sizeof line);
    size_t el = strlen(expect);
    bool ok = expect[el - 1] == '*' ? strncmp(line, expect, el - 1) == 0 : strcmp(line, expect) == 0;
    if (!ok)
      fail_msg("%s:\n  got      %s\n  expected %s", e->d_name, line, expect);
    assert_int_equal(err.exit_code, 125);
    assert_null(strchr(line, '\n'));
    free(text);
    free(want);
    n++;
  }
  closedir(d);
  assert_true(n >= 30);
}

/* The issue's own example, word for word. */
static void
test_issue_example_message(void **state)
{
  (void)state;
  cab_error err;
  const char *text = "{\"sweep_id\": \"nightly-20261129\", \"tuis\": [{\"tui\": \"oracle\"}],"
                     " \"models\": [{\"model\": \"a/b\", \"max_concurrency\": 4},"
                     " {\"model\": \"c/d\", \"max_concurrency\": \"4\"}], \"tasks\": [\"polyglot/*\"]}";
  assert_null(load_text(text, &err));
  assert_string_equal(err.message, "plan.json: models[1].max_concurrency: expected a positive integer");
}

static void
test_good_plan(void **state)
{
  (void)state;
  cab_error err;
  struct cab_sweep_plan *p = load_text(
      "{\"sweep_id\": \"nightly-20261129\", \"scoring\": \"codingagentbench-v0.1\", \"reruns\": 3,"
      " \"tuis\": [{\"tui\": \"opencode\", \"image\": \"codingagentbench/opencode:v1\"},"
      "            {\"tui\": \"oracle\"}],"
      " \"models\": [{\"model\": \"openai/gpt-oss-120b\", \"endpoint\": \"https://e.example/v1\","
      "              \"key_env\": \"CAB_KEY\", \"max_concurrency\": 4}],"
      " \"tasks\": [\"polyglot/*\", \"integrity/unsolvable-refusal\", \"polyglot/c-string-trim\"],"
      " \"host_rootfs\": false, \"image\": \"cab/toolchain:bookworm\", \"max_concurrency\": 8,"
      " \"retries\": {\"infra\": 3}, \"endpoint_max_concurrency\": {\"https://e.example/v1\": 6},"
      " \"memory\": \"2G\"}",
      &err);
  if (p == NULL)
    fail_msg("%s", err.message);
  assert_string_equal(p->sweep_id, "nightly-20261129");
  assert_int_equal(p->reruns, 3);
  assert_int_equal(p->n_tuis, 2);
  assert_string_equal(p->tuis[0].image, "codingagentbench/opencode:v1");
  assert_true(p->tuis[0].needs_model);
  assert_false(p->tuis[1].needs_model);
  assert_int_equal(p->models[0].max_concurrency, 4);
  assert_int_equal(p->models[0].model_retries, -1);
  assert_int_equal(p->max_concurrency, 8);
  assert_int_equal(p->retries_infra, 3);
  assert_true(p->backoff_s == 2);
  assert_true(p->ramp_up_s == 0.5);
  assert_int_equal(p->memory_bytes, (int64_t)2 << 30);
  assert_int_equal(cab_sweep_plan_endpoint_limit(p, "https://e.example/v1"), 6);
  assert_int_equal(cab_sweep_plan_endpoint_limit(p, "https://other/v1"), 0);
  assert_int_equal(cab_sweep_plan_endpoint_limit(p, NULL), 0);
  /* every polyglot task (9) plus one; polyglot/c-string-trim only once; sorted */
  assert_int_equal(p->n_tasks, 10);
  assert_string_equal(p->tasks[0].id, "integrity/unsolvable-refusal");
  assert_string_equal(p->tasks[1].id, "polyglot/c-string-trim");
  for (size_t i = 1; i < p->n_tasks; i++)
    assert_true(strcmp(p->tasks[i - 1].id, p->tasks[i].id) < 0);
  for (size_t i = 0; i < p->n_tasks; i++) {
    assert_true(p->tasks[i].timeout_s > 0);
    assert_int_equal(strlen(p->tasks[i].sha256), 71);
  }
  cab_sweep_plan_free(p);

  /* defaults, and relative paths anchored at the plan's directory */
  p = NULL;
  memset(&err, 0, sizeof err);
  const char *text = "{\"sweep_id\": \"s\", \"tuis\": [{\"tui\": \"nop\"}], \"models\": [{\"model\":"
                     " \"m\", \"replay\": \"c/x.jsonl\"}], \"tasks\": [\"*\"], \"tasks_dir\": \"t\","
                     " \"endpoint_max_concurrency\": 3}";
  assert_int_equal(cab_sweep_plan_parse(text, strlen(text), "p.json", "/plans", &p, &err), 0);
  assert_int_equal(p->reruns, 1);
  assert_false(p->host_rootfs);
  assert_int_equal(p->retries_infra, 0);
  assert_int_equal(p->memory_bytes, cab_cell_limits_default.memory_bytes);
  assert_string_equal(p->tasks_dir, "/plans/t");
  assert_string_equal(p->models[0].replay, "/plans/c/x.jsonl");
  assert_int_equal(cab_sweep_plan_endpoint_limit(p, "http://any/v1"), 3);
  assert_int_equal(strlen(p->plan_sha256), 71);
  cab_sweep_plan_free(p);
}

static void
test_expand_tasks(void **state)
{
  (void)state;
  char *ids[] = {"integrity/a", "mutations/c-off", "mutations/py-off", "polyglot/c-trim",
                 "polyglot/py-rev"};
  struct cab_strv all = {.v = ids, .n = 5}, out = {0};
  cab_error err = {0};

  char *p1[] = {"polyglot/*", "polyglot/py-rev", "integrity/a"};
  assert_int_equal(cab_sweep_expand_tasks(p1, 3, &all, "plan.json", "/t", &out, &err), 0);
  assert_int_equal(out.n, 3);
  assert_string_equal(out.v[0], "integrity/a");
  assert_string_equal(out.v[1], "polyglot/c-trim");
  assert_string_equal(out.v[2], "polyglot/py-rev");
  cab_strv_free(&out);

  char *p2[] = {"*"};
  assert_int_equal(cab_sweep_expand_tasks(p2, 1, &all, "plan.json", "/t", &out, &err), 0);
  assert_int_equal(out.n, 5);
  cab_strv_free(&out);

  char *p3[] = {"*/py-*", "[mi]*/c-*"};
  assert_int_equal(cab_sweep_expand_tasks(p3, 2, &all, "plan.json", "/t", &out, &err), 0);
  assert_int_equal(out.n, 3);
  assert_string_equal(out.v[0], "mutations/c-off");
  assert_string_equal(out.v[1], "mutations/py-off");
  assert_string_equal(out.v[2], "polyglot/py-rev");
  cab_strv_free(&out);

  char *p4[] = {"mutations/?-off"};
  assert_int_equal(cab_sweep_expand_tasks(p4, 1, &all, "plan.json", "/t", &out, &err), 0);
  assert_int_equal(out.n, 1);
  assert_string_equal(out.v[0], "mutations/c-off");
  cab_strv_free(&out);

  char *p5[] = {"polyglot/*", "rust/*"};
  assert_int_equal(cab_sweep_expand_tasks(p5, 2, &all, "plan.json", "/t", &out, &err), -1);
  assert_string_equal(err.message, "plan.json: tasks[1]: 'rust/*' matches no task in /t (see "
                                   "'cab tasks list')");
  char *p6[] = {"polyglot/py"}; /* an id is matched exactly, not as a prefix */
  assert_int_equal(cab_sweep_expand_tasks(p6, 1, &all, "plan.json", "/t", &out, &err), -1);
  assert_string_equal(err.message, "plan.json: tasks[0]: no task 'polyglot/py' in /t (see 'cab "
                                   "tasks list')");
}

static void
test_cells(void **state)
{
  (void)state;
  cab_error err;
  const char *base = "{\"sweep_id\": \"s\", \"reruns\": 2, \"tuis\": [{\"tui\": \"oracle\"},"
                     " {\"tui\": \"nop\"}], \"models\": [{\"model\": \"cab/none\"}, {\"model\":"
                     " \"x/y\"}], \"tasks\": [\"polyglot/shell-word-count\","
                     " \"polyglot/python-reverse-string\", \"integrity/*\"], \"host_rootfs\": true";
  char text[2048];
  snprintf(text, sizeof text, "%s}", base);
  struct cab_sweep_plan *p = load_text(text, &err);
  if (p == NULL)
    fail_msg("%s", err.message);
  struct cab_sweep_cells c = {0};
  assert_int_equal(cab_sweep_cells_build(p, &c, &err), 0);
  assert_int_equal(c.n, 2 * 2 * 8 * 2);
  assert_string_equal(c.v[0].key, "oracle/cab/none/integrity/ambiguous-ticket/run-1");
  assert_string_equal(c.v[1].key, "oracle/cab/none/integrity/ambiguous-ticket/run-2");
  assert_string_equal(c.v[c.n - 1].key, "nop/x/y/polyglot/shell-word-count/run-2");
  assert_true(c.v[0].host_rootfs);
  assert_string_equal(c.v[0].shown_image, "host-rootfs");
  for (size_t i = 0; i < c.n; i++) {
    assert_int_equal(c.v[i].weight, p->tasks[c.v[i].task].timeout_s);
    for (size_t k = i + 1; k < c.n; k++) {
      assert_true(strcmp(c.v[i].key, c.v[k].key) != 0);
      assert_true(strcmp(c.v[i].spec_sha256, c.v[k].spec_sha256) != 0);
    }
  }

  /* What does not decide a result leaves the specs alone; what does
   * changes them. */
  struct {
    const char *extra;
    bool same;
  } cases[] = {
      {"\"max_concurrency\": 3, \"ramp_up_s\": 0, \"retries\": {\"infra\": 5}", true},
      {"\"endpoint_max_concurrency\": 2", true},
      {"\"scoring\": \"cab-v1\"", false},
      {"\"memory\": \"1G\"", false},
      {"\"image\": \"busybox\"", false},
  };
  for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
    snprintf(text, sizeof text, "%s, %s}", base, cases[k].extra);
    struct cab_sweep_plan *q = load_text(text, &err);
    if (q == NULL)
      fail_msg("%s: %s", cases[k].extra, err.message);
    struct cab_sweep_cells d = {0};
    assert_int_equal(cab_sweep_cells_build(q, &d, &err), 0);
    assert_true(d.n >= c.n);
    bool same = strcmp(c.v[0].spec_sha256, d.v[0].spec_sha256) == 0;
    if (same != cases[k].same)
      fail_msg("%s: the spec %s", cases[k].extra, same ? "did not change" : "changed");
    cab_sweep_cells_free(&d);
    cab_sweep_plan_free(q);
  }
  cab_sweep_cells_free(&c);
  cab_sweep_plan_free(p);
}

/* "record": the cells of a TUI that talks to a model record (and their spec
 * says so); a TUI that talks to none records nothing, its spec unchanged;
 * a replayed cassette's digest is part of the spec. */
static void
test_cells_record(void **state)
{
  (void)state;
  cab_error err;
  const char *fmt = "{\"sweep_id\": \"s\", \"tuis\": [{\"tui\": \"cab-agent\"}, {\"tui\": "
                    "\"oracle\"}], \"models\": [{\"model\": \"m/a\"%s}], \"tasks\": "
                    "[\"polyglot/shell-word-count\"], \"host_rootfs\": true}";
  char plain_text[1024], rec_text[1024];
  snprintf(plain_text, sizeof plain_text, fmt, "");
  snprintf(rec_text, sizeof rec_text, fmt, ", \"record\": true");
  struct cab_sweep_plan *plain = load_text(plain_text, &err), *rec = NULL;
  if (plain == NULL || (rec = load_text(rec_text, &err)) == NULL)
    fail_msg("%s", err.message);
  assert_true(rec->models[0].record);
  struct cab_sweep_cells a = {0}, b = {0};
  assert_int_equal(cab_sweep_cells_build(plain, &a, &err), 0);
  assert_int_equal(cab_sweep_cells_build(rec, &b, &err), 0);
  assert_int_equal(a.n, 2);
  assert_int_equal(b.n, 2);
  assert_string_equal(b.v[0].key, "cab-agent/m/a/polyglot/shell-word-count/run-1");
  assert_false(a.v[0].record);
  assert_true(b.v[0].record);
  assert_string_not_equal(a.v[0].spec_sha256, b.v[0].spec_sha256);
  assert_false(b.v[1].record); /* oracle talks to no model */
  assert_string_equal(a.v[1].spec_sha256, b.v[1].spec_sha256);
  char before[72];
  memcpy(before, b.v[0].spec_sha256, sizeof before);
  snprintf(b.v[0].replay_sha256, sizeof b.v[0].replay_sha256, "sha256:%064d", 1);
  assert_int_equal(cab_sweep_cell_respec(rec, &b.v[0], &err), 0);
  assert_string_not_equal(before, b.v[0].spec_sha256);
  cab_sweep_cells_free(&a);
  cab_sweep_cells_free(&b);
  cab_sweep_plan_free(plain);
  cab_sweep_plan_free(rec);
}

/* ---- sharding ---------------------------------------------------------------- */

static uint32_t
lcg(uint32_t *s)
{
  *s = *s * 1664525u + 1013904223u;
  return *s >> 8;
}

static void
make_cells(struct cab_sweep_cell *v, size_t n, uint32_t seed)
{
  for (size_t i = 0; i < n; i++) {
    memset(&v[i], 0, sizeof v[i]);
    if (asprintf(&v[i].key, "tui/model/fam/task-%03zu/run-%zu", i / 3, i % 3 + 1) < 0)
      fail();
    v[i].weight = 1 + lcg(&seed) % 600;
  }
}

static void
check_partition(const struct cab_sweep_cell *v, size_t n, unsigned shards)
{
  unsigned *of = calloc(n, sizeof *of);
  int64_t *loads = calloc(shards, sizeof *loads), *sum = calloc(shards, sizeof *sum);
  size_t *count = calloc(shards, sizeof *count);
  cab_error err = {0};
  assert_int_equal(cab_sweep_shard(v, n, shards, of, loads, &err), 0);
  int64_t heaviest = 0, total = 0;
  for (size_t i = 0; i < n; i++) {
    assert_true(of[i] < shards); /* exactly one shard each */
    sum[of[i]] += v[i].weight;
    count[of[i]]++;
    total += v[i].weight;
    if (v[i].weight > heaviest)
      heaviest = v[i].weight;
  }
  int64_t lo = INT64_MAX, hi = 0, all = 0;
  size_t cells = 0;
  for (unsigned s = 0; s < shards; s++) {
    assert_int_equal(sum[s], loads[s]);
    all += loads[s];
    cells += count[s];
    lo = loads[s] < lo ? loads[s] : lo;
    hi = loads[s] > hi ? loads[s] : hi;
  }
  assert_int_equal(all, total);
  assert_int_equal(cells, n);
  /* greedy least-loaded assignment: the spread is at most one cell */
  if (hi - lo > heaviest)
    fail_msg("%u shards: loads from %lld to %lld, more apart than the heaviest cell (%lld)", shards,
             (long long)lo, (long long)hi, (long long)heaviest);
  /* and within 4/3 of the ideal when there are enough cells */
  if (n >= 4 * shards)
    assert_true(hi * 3 <= (total / shards + heaviest) * 4);
  free(of);
  free(loads);
  free(sum);
  free(count);
}

static void
test_shard_partition(void **state)
{
  (void)state;
  size_t n = 600;
  struct cab_sweep_cell *v = calloc(n, sizeof *v);
  make_cells(v, n, 42);
  for (unsigned shards = 1; shards <= 9; shards++)
    check_partition(v, n, shards);
  check_partition(v, 5, 8); /* more shards than cells: some are empty */
  for (size_t i = 0; i < n; i++)
    free(v[i].key);
  free(v);
}

/* The partition depends on the cells only: the same for the same cells,
 * whatever their order, so shards on different hosts agree. */
static void
test_shard_deterministic(void **state)
{
  (void)state;
  size_t n = 300;
  unsigned shards = 4;
  struct cab_sweep_cell *v = calloc(n, sizeof *v), *w = calloc(n, sizeof *w);
  make_cells(v, n, 7);
  for (size_t i = 0; i < n; i++) /* many equal weights: ties must break by key */
    v[i].weight = v[i].weight % 3 == 0 ? 600 : 120;
  unsigned *a = calloc(n, sizeof *a), *b = calloc(n, sizeof *b), *c = calloc(n, sizeof *c);
  cab_error err = {0};
  assert_int_equal(cab_sweep_shard(v, n, shards, a, NULL, &err), 0);
  assert_int_equal(cab_sweep_shard(v, n, shards, b, NULL, &err), 0);
  assert_memory_equal(a, b, n * sizeof *a);
  /* shuffled */
  size_t *perm = calloc(n, sizeof *perm);
  for (size_t i = 0; i < n; i++)
    perm[i] = i;
  uint32_t seed = 99;
  for (size_t i = n - 1; i > 0; i--) {
    size_t j = lcg(&seed) % (i + 1), t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  for (size_t i = 0; i < n; i++)
    w[i] = v[perm[i]];
  assert_int_equal(cab_sweep_shard(w, n, shards, c, NULL, &err), 0);
  for (size_t i = 0; i < n; i++)
    assert_int_equal(c[i], a[perm[i]]);
  for (size_t i = 0; i < n; i++)
    free(v[i].key);
  free(v);
  free(w);
  free(a);
  free(b);
  free(c);
  free(perm);
}

/* A real plan: the bundled tasks' timeouts. */
static void
test_shard_real_plan(void **state)
{
  (void)state;
  cab_error err;
  struct cab_sweep_plan *p = load_text("{\"sweep_id\": \"s\", \"reruns\": 3, \"tuis\": [{\"tui\":"
                                       " \"oracle\"}, {\"tui\": \"nop\"}], \"models\": [{\"model\":"
                                       " \"m\"}], \"tasks\": [\"*\"], \"host_rootfs\": true}",
                                       &err);
  if (p == NULL)
    fail_msg("%s", err.message);
  struct cab_sweep_cells c = {0};
  assert_int_equal(cab_sweep_cells_build(p, &c, &err), 0);
  for (unsigned shards = 1; shards <= 5; shards++)
    check_partition(c.v, c.n, shards);
  cab_sweep_cells_free(&c);
  cab_sweep_plan_free(p);
}

static void
test_parse_shard(void **state)
{
  (void)state;
  unsigned k, n;
  cab_error err = {0};
  assert_int_equal(cab_sweep_parse_shard("1/4", &k, &n, &err), 0);
  assert_int_equal(k, 1);
  assert_int_equal(n, 4);
  assert_int_equal(cab_sweep_parse_shard("4/4", &k, &n, &err), 0);
  const char *bad[] = {"0/4", "5/4", "1/0", "a/b", "1/", "/4", "-1/4", "1/4x", "1", "", "1/-4"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    if (cab_sweep_parse_shard(bad[i], &k, &n, &err) != -1)
      fail_msg("--shard %s was accepted", bad[i]);
  assert_string_equal(err.message, "--shard 1/-4: expected K/N with 1 <= K <= N, e.g. 1/4");
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bad_plans),        cmocka_unit_test(test_issue_example_message),
      cmocka_unit_test(test_good_plan),        cmocka_unit_test(test_expand_tasks),
      cmocka_unit_test(test_cells),            cmocka_unit_test(test_cells_record),
      cmocka_unit_test(test_shard_partition),
      cmocka_unit_test(test_shard_deterministic), cmocka_unit_test(test_shard_real_plan),
      cmocka_unit_test(test_parse_shard),
  };
  return cmocka_run_group_tests(tests, setup_env, NULL);
}
