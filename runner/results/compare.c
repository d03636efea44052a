/* cab compare A B: two cells, or two results trees, task by task.
 *
 * Each side's cells are read through the walker and cab_results_read_row
 * (never an index: nothing is written).  Cells are matched on (tui, model,
 * task); when each side holds a single (tui, model) and they differ (one
 * agent or model against another), on the task alone.  Per matched key:
 * each side's scored cells (infra_error left out, as in the leaderboard),
 * their mean pass, composite, tokens and wall time, and the differences
 * B - A; pass@k (k = 1..n, the unbiased estimator 1 - C(n-c,k)/C(n,k)) for a
 * side with several reruns; the cells whose verdict flipped, run against
 * run (or cell against cell when each side has one). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/cleanup.h"
#include "runner/record/artifacts.h"
#include "runner/results/internal.h"
#include "scorers/scorers.h"

struct side {
  const char *path;
  char root[PATH_MAX];
  struct cab_results_row *rows;
  size_t n;
};

static void
side_free(struct side *s)
{
  for (size_t i = 0; i < s->n; i++)
    cab_results_row_free(&s->rows[i]);
  free(s->rows);
}

/* PATH: a cell's directory, its cell.json, or a results tree. */
static int
side_load(struct side *s, const char *path, FILE *warn, cab_error *err)
{
  s->path = path;
  struct stat st;
  if (stat(path, &st) < 0)
    return cab_error_sys(err, "%s", path);
  size_t len = strlen(path);
  size_t cut = S_ISREG(st.st_mode) && len >= strlen(CAB_CELL_JSON) &&
                       strcmp(path + len - strlen(CAB_CELL_JSON), CAB_CELL_JSON) == 0
                   ? len - strlen(CAB_CELL_JSON)
                   : len;
  if (S_ISREG(st.st_mode) && cut == len)
    return cab_error_set(err, 0, "%s: give a cell's directory, its cell.json or a results tree",
                         path);
  if (cut == 0)
    snprintf(s->root, sizeof s->root, ".");
  else if (snprintf(s->root, sizeof s->root, "%.*s", (int)cut, path) >= (int)sizeof s->root)
    return cab_error_set(err, ENAMETOOLONG, "%s", path);
  cleanup_record_found struct cab_record_found_list l = {0};
  if (cab_record_walk(s->root, 0, &l, err) < 0)
    return -1;
  s->rows = calloc(l.n ? l.n : 1, sizeof *s->rows);
  if (s->rows == NULL)
    return cab_error_set(err, ENOMEM, "%s", path);
  size_t seen = 0;
  for (size_t i = 0; i < l.n; i++) {
    if (l.v[i].attempt)
      continue; /* an earlier try, as in the leaderboard */
    seen++;
    cab_error rerr = {0};
    if (cab_results_read_row(s->root, &l.v[i], NULL, NULL, &s->rows[s->n], &rerr) < 0) {
      char line[2300];
      if (warn)
        fprintf(warn, "cab: warning: %s; not compared\n", cab_error_line(&rerr, line, sizeof line));
      continue;
    }
    s->n++;
  }
  if (s->n == 0)
    return cab_error_set(err, 0, "%s: %s", path,
                         seen ? "none of its cell.json files is a readable cab cell"
                              : "no cell.json in or below it");
  return 0;
}

static bool
scored(const struct cab_results_row *r)
{
  return !(r->outcome && strcmp(r->outcome, "infra_error") == 0);
}

/* One (tui, model) for every row of S: it, else NULL. */
static const struct cab_results_row *
single_pair(const struct side *s)
{
  for (size_t i = 1; i < s->n; i++)
    if (strcmp(s->rows[i].tui, s->rows[0].tui) || strcmp(s->rows[i].model_build_id, s->rows[0].model_build_id))
      return NULL;
  return &s->rows[0];
}

struct key_ctx {
  bool task_only;
};

static bool
same_key(const struct key_ctx *k, const struct cab_results_row *a, const struct cab_results_row *b)
{
  if (strcmp(a->task_id, b->task_id) != 0)
    return false;
  return k->task_only ||
         (strcmp(a->tui, b->tui) == 0 && strcmp(a->model_build_id, b->model_build_id) == 0);
}

struct stats {
  size_t cells, scored, passes, tokens_n;
  double pass, composite, tokens, wall_ms;
};

static struct stats
stats_of(const struct side *s, const struct key_ctx *k, const struct cab_results_row *key)
{
  struct stats st = {0};
  double pass = 0, comp = 0, tok = 0, wall = 0;
  for (size_t i = 0; i < s->n; i++) {
    const struct cab_results_row *r = &s->rows[i];
    if (!same_key(k, r, key))
      continue;
    st.cells++;
    if (!scored(r))
      continue;
    st.scored++;
    double p = isnan(r->pass) ? 0 : r->pass;
    pass += p;
    st.passes += p >= 1.0;
    comp += isnan(r->composite) ? 0 : r->composite;
    wall += isnan(r->wall_clock_ms) ? 0 : r->wall_clock_ms;
    if (r->total_tokens != CAB_RESULTS_NULL_INT) {
      tok += (double)r->total_tokens;
      st.tokens_n++;
    }
  }
  double n = (double)st.scored;
  st.pass = st.scored ? pass / n : NAN;
  st.composite = st.scored ? comp / n : NAN;
  st.wall_ms = st.scored ? wall / n : NAN;
  st.tokens = st.tokens_n ? tok / (double)st.tokens_n : NAN;
  return st;
}

/* The unbiased pass@k of n samples with c passes: 1 - C(n-c,k)/C(n,k). */
static double
pass_at_k(size_t n, size_t c, size_t k)
{
  if (n - c < k)
    return 1.0;
  double q = 1.0;
  for (size_t i = n - c + 1; i <= n; i++)
    q *= 1.0 - (double)k / (double)i;
  return 1.0 - q;
}

static bool
differs(double a, double b)
{
  if (isnan(a) || isnan(b))
    return isnan(a) != isnan(b);
  return fabs(a - b) > 1e-12;
}

static cJSON *
num_or_null(double x)
{
  return isnan(x) ? cJSON_CreateNull() : cJSON_CreateNumber(x);
}

static cJSON *
side_json(const struct side *s, const struct stats *st)
{
  if (st->cells == 0)
    return cJSON_CreateNull();
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "cells", (double)st->cells);
  cJSON_AddNumberToObject(o, "scored", (double)st->scored);
  cJSON_AddNumberToObject(o, "passes", (double)st->passes);
  cJSON_AddItemToObject(o, "pass", num_or_null(st->pass));
  cJSON_AddItemToObject(o, "composite", num_or_null(st->composite));
  cJSON_AddItemToObject(o, "mean_tokens", num_or_null(st->tokens));
  cJSON_AddItemToObject(o, "mean_wall_clock_ms", num_or_null(st->wall_ms));
  if (st->scored >= 2) {
    cJSON *pk = cJSON_AddObjectToObject(o, "pass_at_k");
    for (size_t k = 1; k <= st->scored; k++) {
      char name[32];
      snprintf(name, sizeof name, "%zu", k);
      cJSON_AddNumberToObject(pk, name, pass_at_k(st->scored, st->passes, k));
    }
  } else {
    cJSON_AddNullToObject(o, "pass_at_k");
  }
  (void)s;
  return o;
}

static int64_t
run_of(const struct cab_results_row *r)
{
  return r->run == CAB_RESULTS_NULL_INT ? 0 : r->run;
}

/* X with DECIMALS digits ("-" when missing), signed for a difference. */
static void
fmt_num(double x, int decimals, bool sign, char *buf, size_t size)
{
  if (isnan(x))
    snprintf(buf, size, "-");
  else
    snprintf(buf, size, sign ? "%+.*f" : "%.*f", decimals, x);
}

static int
by_key(const void *x, const void *y)
{
  const struct cab_results_row *a = *(const struct cab_results_row *const *)x;
  const struct cab_results_row *b = *(const struct cab_results_row *const *)y;
  int c = strcmp(a->task_id, b->task_id);
  if (c == 0)
    c = strcmp(a->tui, b->tui);
  if (c == 0)
    c = strcmp(a->model_build_id, b->model_build_id);
  return c;
}

int
cab_results_compare(const char *a_path, const char *b_path, bool json, FILE *out, FILE *warn,
                    bool *differ, cab_error *err)
{
  *differ = false;
  struct side a = {0}, b = {0};
  int rc = -1;
  if (side_load(&a, a_path, warn, err) < 0 || side_load(&b, b_path, warn, err) < 0)
    goto out;
  const struct cab_results_row *pa = single_pair(&a), *pb = single_pair(&b);
  struct key_ctx k = {
      .task_only = pa && pb &&
                   (strcmp(pa->tui, pb->tui) || strcmp(pa->model_build_id, pb->model_build_id))};

  /* The keys: one representative row of each, A's first, then B's own. */
  size_t nk = 0;
  const struct cab_results_row **keys = calloc(a.n + b.n, sizeof *keys);
  if (keys == NULL) {
    cab_error_set(err, ENOMEM, "compare");
    goto out;
  }
  for (int side = 0; side < 2; side++) {
    const struct side *s = side ? &b : &a;
    for (size_t i = 0; i < s->n; i++) {
      bool known = false;
      for (size_t j = 0; j < nk && !known; j++)
        known = same_key(&k, keys[j], &s->rows[i]);
      if (!known)
        keys[nk++] = &s->rows[i];
    }
  }
  qsort(keys, nk, sizeof *keys, by_key);

  cJSON *doc = cJSON_CreateObject();
  cJSON_AddStringToObject(doc, "schema", "cab.compare/v1");
  cJSON *ja = cJSON_AddObjectToObject(doc, "a"), *jb = cJSON_AddObjectToObject(doc, "b");
  cJSON_AddStringToObject(ja, "path", a_path);
  cJSON_AddNumberToObject(ja, "cells", (double)a.n);
  cJSON_AddStringToObject(jb, "path", b_path);
  cJSON_AddNumberToObject(jb, "cells", (double)b.n);
  cJSON_AddStringToObject(doc, "matched_on", k.task_only ? "task" : "tui, model, task");
  cJSON *jtasks = cJSON_AddArrayToObject(doc, "tasks");
  cJSON *jflips = cJSON_AddArrayToObject(doc, "flipped");

  if (!json) {
    fprintf(out, "A: %s (%zu %s)\nB: %s (%zu %s)\nmatched on %s\n\n", a_path, a.n,
            a.n == 1 ? "cell" : "cells", b_path, b.n, b.n == 1 ? "cell" : "cells",
            k.task_only ? "the task (one TUI x model on each side)" : "TUI, model and task");
    fprintf(out, "%-36s %-10s %-16s %7s %7s %7s %7s %7s %7s %9s %8s\n", "TASK", "TUI", "MODEL",
            "A_PASS", "B_PASS", "D_PASS", "A_COMP", "B_COMP", "D_COMP", "D_TOKENS", "D_WALL_S");
  }
  char pk_lines[8192] = "";
  size_t pk_used = 0;
  for (size_t i = 0; i < nk; i++) {
    struct stats sa = stats_of(&a, &k, keys[i]), sb = stats_of(&b, &k, keys[i]);
    if (sa.cells == 0 || sb.cells == 0 || differs(sa.pass, sb.pass) ||
        differs(sa.composite, sb.composite))
      *differ = true;
    double dp = sb.pass - sa.pass, dc = sb.composite - sa.composite, dt = sb.tokens - sa.tokens,
           dw = sb.wall_ms - sa.wall_ms;
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "task_id", keys[i]->task_id);
    if (!k.task_only) {
      cJSON_AddStringToObject(t, "tui", keys[i]->tui);
      cJSON_AddStringToObject(t, "model", keys[i]->model_build_id);
    }
    cJSON_AddItemToObject(t, "a", side_json(&a, &sa));
    cJSON_AddItemToObject(t, "b", side_json(&b, &sb));
    cJSON *d = cJSON_AddObjectToObject(t, "delta");
    cJSON_AddItemToObject(d, "pass", num_or_null(dp));
    cJSON_AddItemToObject(d, "composite", num_or_null(dc));
    cJSON_AddItemToObject(d, "mean_tokens", num_or_null(dt));
    cJSON_AddItemToObject(d, "mean_wall_clock_ms", num_or_null(dw));
    cJSON_AddItemToArray(jtasks, t);
    if (!json) {
      char f[8][32];
      fmt_num(sa.pass, 3, false, f[0], 32);
      fmt_num(sb.pass, 3, false, f[1], 32);
      fmt_num(dp, 3, true, f[2], 32);
      fmt_num(sa.composite, 3, false, f[3], 32);
      fmt_num(sb.composite, 3, false, f[4], 32);
      fmt_num(dc, 3, true, f[5], 32);
      fmt_num(dt, 0, true, f[6], 32);
      fmt_num(dw / 1000.0, 1, true, f[7], 32);  /* ms -> s */
      fprintf(out, "%-36s %-10s %-16s %7s %7s %7s %7s %7s %7s %9s %8s\n", keys[i]->task_id,
              k.task_only ? "-" : keys[i]->tui, k.task_only ? "-" : keys[i]->model_build_id,
              f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7]);
      for (int side = 0; side < 2; side++) {
        const struct stats *st = side ? &sb : &sa;
        if (st->scored < 2)
          continue;
        int n = snprintf(pk_lines + pk_used, sizeof pk_lines - pk_used, "  %s %s:", side ? "B" : "A",
                         keys[i]->task_id);
        pk_used += n > 0 ? (size_t)n : 0;
        for (size_t kk = 1; kk <= st->scored && pk_used < sizeof pk_lines; kk++) {
          n = snprintf(pk_lines + pk_used, sizeof pk_lines - pk_used, " pass@%zu %.3f", kk,
                       pass_at_k(st->scored, st->passes, kk));
          pk_used += n > 0 ? (size_t)n : 0;
        }
        if (pk_used < sizeof pk_lines - 1) {
          n = snprintf(pk_lines + pk_used, sizeof pk_lines - pk_used, " (%zu of %zu passed)\n",
                       st->passes, st->scored);
          pk_used += n > 0 ? (size_t)n : 0;
        }
        if (pk_used >= sizeof pk_lines)
          pk_used = sizeof pk_lines - 1;
      }
    }
  }

  /* The flips: run against run, or cell against cell when each side holds
   * one cell of the key. */
  size_t flips = 0;
  for (size_t i = 0; i < a.n; i++) {
    const struct cab_results_row *x = &a.rows[i];
    if (!scored(x))
      continue;
    struct stats sa = stats_of(&a, &k, x), sb = stats_of(&b, &k, x);
    bool one_each = sa.cells == 1 && sb.cells == 1;
    for (size_t j = 0; j < b.n; j++) {
      const struct cab_results_row *y = &b.rows[j];
      if (!scored(y) || !same_key(&k, x, y) || (!one_each && run_of(x) != run_of(y)))
        continue;
      bool xp = x->pass >= 1.0, yp = y->pass >= 1.0;
      if (xp == yp)
        continue;
      *differ = true;
      flips++;
      cJSON *f = cJSON_CreateObject();
      cJSON_AddStringToObject(f, "task_id", x->task_id);
      cJSON_AddStringToObject(f, "from", xp ? "pass" : "fail");
      cJSON_AddStringToObject(f, "to", yp ? "pass" : "fail");
      cJSON_AddStringToObject(f, "a_cell", x->cell_path);
      cJSON_AddStringToObject(f, "b_cell", y->cell_path);
      cJSON_AddItemToArray(jflips, f);
      if (!json) {
        if (flips == 1)
          fprintf(out, "\nflipped:\n");
        fprintf(out, "  %s -> %s  %s  A %s  B %s\n", xp ? "pass" : "fail", yp ? "pass" : "fail",
                x->task_id, x->cell_path, y->cell_path);
      }
    }
  }
  cJSON_AddBoolToObject(doc, "differ", *differ);
  if (json) {
    cleanup_free char *text = cab_json_print(doc, true);
    if (text)
      fprintf(out, "%s\n", text);
  } else {
    if (flips == 0)
      fprintf(out, "\nflipped: none\n");
    if (pk_used)
      fprintf(out, "\npass@k over reruns (k = 1..n):\n%s", pk_lines);
    fprintf(out, "\n%s\n", *differ ? "the two sides differ" : "no difference in pass or composite");
  }
  cJSON_Delete(doc);
  free(keys);
  rc = 0;
out:
  side_free(&a);
  side_free(&b);
  return rc;
}
