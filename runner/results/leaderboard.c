/* cab leaderboard: the cells of an index aggregated per TUI × model. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "runner/results/internal.h"
#include "runner/results/leaderboard_stats.h"
#include "scorers/scorers.h"

/* The methods, said once, for the text footer and the JSON "method" object. */
static const char M_MEANS[] =
    "COMPOSITE and PASS@1 are means over the scored cells (every cell whose outcome is not "
    "infra_error; reruns count once each).";
static const char M_INFRA[] =
    "infra_error cells are counted in CELLS and shown apart in INFRA, and left out of every "
    "mean, interval, SHIPS, STAYS and cost.";
static const char M_CI[] =
    "+/-CI95: half-width of a Student t 95% interval over per-task means (each task's reruns "
    "averaged first; n = tasks, mean +/- t(0.975, n-1) * s / sqrt(n)); '-' with fewer than 2 "
    "tasks. It is centred on the mean of the task means, which is COMPOSITE when every task has "
    "as many reruns; it is not clipped to [0, 1].";
static const char M_SHIPS[] =
    "SHIPS: fraction of scored (task, run) cells that pass with the diff on plan (blast_radius "
    "0: no unexpected change).";
static const char M_STAYS[] =
    "STAYS: fraction of tasks with 2 or more scored reruns whose reruns all got the same "
    "verdict (pass or fail); '-' when no task was rerun.";
static const char M_COSTS[] =
    "TOKENS, WALL_S, OFF-PLAN (Costs): mean total tokens (cells that recorded them), wall-clock "
    "seconds and off-plan (unexpected) changed files per scored cell.";
static const char M_PARETO[] =
    "PARETO: T = on the frontier of COMPOSITE (higher) against TOKENS (lower), W = against "
    "WALL_S (lower).";

struct lb_row {
  char *tui, *model;
  struct cab_lb_stats s;
  size_t attempts;
  bool pareto_tokens, pareto_wall;
};

struct lb {
  struct lb_row *rows;
  size_t n, cap;
  size_t attempts, skipped;
};

static void
lb_free(struct lb *b)
{
  for (size_t i = 0; i < b->n; i++) {
    free(b->rows[i].tui);
    free(b->rows[i].model);
  }
  free(b->rows);
}

struct cells_buf {
  struct cab_lb_cell *v;
  size_t n, cap;
};

static void
cells_clear(struct cells_buf *c)
{
  for (size_t i = 0; i < c->n; i++)
    free((char *)c->v[i].task);
  c->n = 0;
}

static double
col_num(sqlite3_stmt *st, int i)
{
  return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

static char *
col_dup(sqlite3_stmt *st, int i)
{
  const unsigned char *t = sqlite3_column_text(st, i);
  return strdup(t ? (const char *)t : "");
}

static int
close_group(struct lb *b, struct cells_buf *c, const char *tui, const char *model, cab_error *err)
{
  if (b->n == b->cap) {
    size_t cap = b->cap ? 2 * b->cap : 16;
    struct lb_row *v = realloc(b->rows, cap * sizeof *v);
    if (v == NULL)
      return cab_error_sys(err, "leaderboard");
    b->rows = v;
    b->cap = cap;
  }
  struct lb_row *r = &b->rows[b->n];
  memset(r, 0, sizeof *r);
  r->tui = strdup(tui);
  r->model = strdup(model);
  if (r->tui == NULL || r->model == NULL) {
    free(r->tui);
    free(r->model);
    return cab_error_sys(err, "leaderboard");
  }
  b->n++;
  cab_stats_group(c->v, c->n, &r->s);
  cells_clear(c);
  return 0;
}

static int
load(sqlite3 *db, const char *sweep, struct lb *b, cab_error *err)
{
  char sql[512];
  snprintf(sql, sizeof sql,
           "SELECT tui, model_build_id, task_id, outcome, pass, composite, total_tokens, "
           "wall_clock_ms, blast_radius, unexpected_changes FROM cells %s "
           "ORDER BY tui, model_build_id, task_id, cell_path",
           sweep ? "WHERE sweep_id = ?1" : "");
  cleanup_stmt sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK ||
      (sweep && sqlite3_bind_text(st, 1, sweep, -1, SQLITE_STATIC) != SQLITE_OK))
    return cab_results_sqlerr(db, "read the cells", err);
  struct cells_buf c = {0};
  cleanup_free char *tui = NULL, *model = NULL;
  int r, rc = -1;
  while ((r = sqlite3_step(st)) == SQLITE_ROW) {
    const char *t = (const char *)sqlite3_column_text(st, 0);
    const char *m = (const char *)sqlite3_column_text(st, 1);
    t = t ? t : "";
    m = m ? m : "";
    if (tui && (strcmp(tui, t) != 0 || strcmp(model, m) != 0)) {
      if (close_group(b, &c, tui, model, err) < 0)
        goto out;
      free(tui);
      free(model);
      tui = model = NULL;
    }
    if (tui == NULL && ((tui = strdup(t)) == NULL || (model = strdup(m)) == NULL)) {
      cab_error_sys(err, "leaderboard");
      goto out;
    }
    if (c.n == c.cap) {
      size_t cap = c.cap ? 2 * c.cap : 64;
      struct cab_lb_cell *v = realloc(c.v, cap * sizeof *v);
      if (v == NULL) {
        cab_error_sys(err, "leaderboard");
        goto out;
      }
      c.v = v;
      c.cap = cap;
    }
    const unsigned char *outcome = sqlite3_column_text(st, 3);
    c.v[c.n] = (struct cab_lb_cell){
        .task = col_dup(st, 2),
        .infra = outcome && strcmp((const char *)outcome, "infra_error") == 0,
        .pass = col_num(st, 4),
        .composite = col_num(st, 5),
        .tokens = col_num(st, 6),
        .wall_ms = col_num(st, 7),
        .blast = col_num(st, 8),
        .off_plan = col_num(st, 9),
    };
    if (c.v[c.n++].task == NULL) {
      cab_error_sys(err, "leaderboard");
      goto out;
    }
  }
  if (r != SQLITE_DONE) {
    cab_results_sqlerr(db, "read the cells", err);
    goto out;
  }
  if (tui && close_group(b, &c, tui, model, err) < 0)
    goto out;
  rc = 0;
out:
  cells_clear(&c);
  free(c.v);
  return rc;
}

/* Attempts per row, and the totals the footer owes the reader. */
static int
load_extras(sqlite3 *db, const char *sweep, struct lb *b, cab_error *err)
{
  char sql[256];
  snprintf(sql, sizeof sql,
           "SELECT tui, model_build_id, count(*) FROM attempts %s GROUP BY 1, 2",
           sweep ? "WHERE sweep_id = ?1" : "");
  cleanup_stmt sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK ||
      (sweep && sqlite3_bind_text(st, 1, sweep, -1, SQLITE_STATIC) != SQLITE_OK))
    return cab_results_sqlerr(db, "read the attempts", err);
  while (sqlite3_step(st) == SQLITE_ROW) {
    const char *t = (const char *)sqlite3_column_text(st, 0);
    const char *m = (const char *)sqlite3_column_text(st, 1);
    size_t k = (size_t)sqlite3_column_int64(st, 2);
    b->attempts += k;
    for (size_t i = 0; i < b->n; i++)
      if (t && m && strcmp(b->rows[i].tui, t) == 0 && strcmp(b->rows[i].model, m) == 0)
        b->rows[i].attempts = k;
  }
  cleanup_stmt sqlite3_stmt *sk = NULL;
  if (sqlite3_prepare_v2(db, "SELECT count(*) FROM skipped", -1, &sk, NULL) == SQLITE_OK &&
      sqlite3_step(sk) == SQLITE_ROW)
    b->skipped = (size_t)sqlite3_column_int64(sk, 0);
  return 0;
}

static void
mark_pareto(struct lb *b)
{
  size_t n = b->n;
  double *score = calloc(n + 1, sizeof *score), *tok = calloc(n + 1, sizeof *tok);
  double *wall = calloc(n + 1, sizeof *wall);
  bool *on_t = calloc(n + 1, sizeof *on_t), *on_w = calloc(n + 1, sizeof *on_w);
  if (score && tok && wall && on_t && on_w) {
    for (size_t i = 0; i < n; i++) {
      score[i] = b->rows[i].s.composite;
      tok[i] = b->rows[i].s.tokens;
      wall[i] = b->rows[i].s.wall_ms;
    }
    cab_stats_pareto(score, tok, n, on_t);
    cab_stats_pareto(score, wall, n, on_w);
    for (size_t i = 0; i < n; i++) {
      b->rows[i].pareto_tokens = on_t[i];
      b->rows[i].pareto_wall = on_w[i];
    }
  }
  free(score);
  free(tok);
  free(wall);
  free(on_t);
  free(on_w);
}

/* Highest composite first (rows with none last), then TUI, then model. */
static int
cmp_rows(const void *pa, const void *pb)
{
  const struct lb_row *a = pa, *b = pb;
  bool fa = isfinite(a->s.composite), fb = isfinite(b->s.composite);
  if (fa != fb)
    return fa ? -1 : 1;
  if (fa && a->s.composite != b->s.composite)
    return a->s.composite > b->s.composite ? -1 : 1;
  int c = strcmp(a->tui, b->tui);
  return c ? c : strcmp(a->model, b->model);
}

/* ---- text ------------------------------------------------------------------ */

enum { NCOLS = 13 };
static const char *const heads[NCOLS] = {"TUI",    "MODEL",   "CELLS",  "INFRA", "PASS@1",
                                         "COMPOSITE", "+/-CI95", "SHIPS", "STAYS", "TOKENS",
                                         "WALL_S", "OFF-PLAN", "PARETO"};

static void
fmt(char *buf, size_t size, const char *f, double v)
{
  if (isfinite(v))
    snprintf(buf, size, f, v);
  else
    snprintf(buf, size, "-");
}

static void
print_text(const struct lb *b, FILE *out)
{
  char (*cells)[NCOLS][64] = calloc(b->n + 1, sizeof *cells);
  if (cells == NULL)
    return;
  size_t width[NCOLS];
  for (int j = 0; j < NCOLS; j++) {
    snprintf(cells[0][j], sizeof cells[0][j], "%s", heads[j]);
    width[j] = strlen(heads[j]);
  }
  size_t total = 0, infra = 0;
  for (size_t i = 0; i < b->n; i++) {
    const struct lb_row *r = &b->rows[i];
    char (*c)[64] = cells[i + 1];
    total += r->s.cells;
    infra += r->s.infra;
    snprintf(c[0], 64, "%.63s", r->tui);
    snprintf(c[1], 64, "%.63s", r->model);
    snprintf(c[2], 64, "%zu", r->s.cells);
    snprintf(c[3], 64, "%zu", r->s.infra);
    fmt(c[4], 64, "%.3f", r->s.pass_at_1);
    fmt(c[5], 64, "%.3f", r->s.composite);
    fmt(c[6], 64, "%.3f", r->s.composite_ci.half);
    fmt(c[7], 64, "%.3f", r->s.ships);
    fmt(c[8], 64, "%.3f", r->s.stays);
    fmt(c[9], 64, "%.0f", r->s.tokens);
    fmt(c[10], 64, "%.1f", r->s.wall_ms / 1000);
    fmt(c[11], 64, "%.2f", r->s.off_plan);
    snprintf(c[12], 64, "%s%s%s", r->pareto_tokens ? "T" : "", r->pareto_wall ? "W" : "",
             r->pareto_tokens || r->pareto_wall ? "" : "-");
    for (int j = 0; j < NCOLS; j++)
      if (strlen(c[j]) > width[j])
        width[j] = strlen(c[j]);
  }
  for (size_t i = 0; i <= b->n; i++) {
    for (int j = 0; j < NCOLS; j++) {
      bool left = j < 2 || j == NCOLS - 1;
      const char *sep = j ? "  " : "";
      if (j == NCOLS - 1)
        fprintf(out, "%s%s", sep, cells[i][j]);
      else
        fprintf(out, left ? "%s%-*s" : "%s%*s", sep, (int)width[j], cells[i][j]);
    }
    fputc('\n', out);
  }
  free(cells);
  fprintf(out,
          "\n%zu %s in %zu TUI x model %s, %zu of them infra_error; not counted: %zu "
          "earlier %s, %zu unreadable cell.json %s.\n",
          total, total == 1 ? "cell" : "cells", b->n, b->n == 1 ? "row" : "rows", infra,
          b->attempts, b->attempts == 1 ? "attempt" : "attempts", b->skipped,
          b->skipped == 1 ? "file" : "files");
  fprintf(out, "%s\n%s\n%s\n%s\n%s\n%s\n%s\n", M_MEANS, M_INFRA, M_CI, M_SHIPS, M_STAYS, M_COSTS,
          M_PARETO);
}

/* ---- JSON ------------------------------------------------------------------ */

static void
add_num(cJSON *o, const char *key, double v)
{
  if (isfinite(v))
    cJSON_AddNumberToObject(o, key, v);
  else
    cJSON_AddNullToObject(o, key);
}

static cJSON *
ci_json(const struct cab_ci *ci)
{
  cJSON *o = cJSON_CreateObject();
  add_num(o, "mean", ci->mean);
  add_num(o, "low", ci->lo);
  add_num(o, "high", ci->hi);
  add_num(o, "half_width", ci->half);
  cJSON_AddNumberToObject(o, "n", (double)ci->n);
  return o;
}

static int
print_json(const struct lb *b, const char *sweep, FILE *out, cab_error *err)
{
  cJSON *j = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "schema", "cab.leaderboard/v1");
  if (sweep)
    cJSON_AddStringToObject(j, "sweep_id", sweep);
  else
    cJSON_AddNullToObject(j, "sweep_id");
  size_t total = 0, infra = 0;
  for (size_t i = 0; i < b->n; i++) {
    total += b->rows[i].s.cells;
    infra += b->rows[i].s.infra;
  }
  cJSON_AddNumberToObject(j, "cells", (double)total);
  cJSON_AddNumberToObject(j, "infra_error", (double)infra);
  cJSON_AddNumberToObject(j, "attempts_not_counted", (double)b->attempts);
  cJSON_AddNumberToObject(j, "unreadable_cells_not_counted", (double)b->skipped);
  cJSON *m = cJSON_AddObjectToObject(j, "method");
  cJSON_AddStringToObject(m, "ci", "t-interval over per-task means, 95%");
  cJSON_AddStringToObject(m, "means", M_MEANS);
  cJSON_AddStringToObject(m, "infra_error", M_INFRA);
  cJSON_AddStringToObject(m, "ci_detail", M_CI);
  cJSON_AddStringToObject(m, "ships", M_SHIPS);
  cJSON_AddStringToObject(m, "stays", M_STAYS);
  cJSON_AddStringToObject(m, "costs", M_COSTS);
  cJSON_AddStringToObject(m, "pareto", M_PARETO);
  cJSON *rows = cJSON_AddArrayToObject(j, "rows");
  for (size_t i = 0; i < b->n; i++) {
    const struct lb_row *r = &b->rows[i];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToArray(rows, o);
    cJSON_AddNumberToObject(o, "rank", (double)(i + 1));
    cJSON_AddStringToObject(o, "tui", r->tui);
    cJSON_AddStringToObject(o, "model", r->model);
    cJSON_AddNumberToObject(o, "cells", (double)r->s.cells);
    cJSON_AddNumberToObject(o, "infra_error", (double)r->s.infra);
    cJSON_AddNumberToObject(o, "scored", (double)r->s.scored);
    cJSON_AddNumberToObject(o, "tasks", (double)r->s.tasks);
    cJSON_AddNumberToObject(o, "attempts_not_counted", (double)r->attempts);
    add_num(o, "pass_at_1", r->s.pass_at_1);
    cJSON_AddItemToObject(o, "pass_at_1_ci95", ci_json(&r->s.pass_ci));
    add_num(o, "composite", r->s.composite);
    cJSON_AddItemToObject(o, "composite_ci95", ci_json(&r->s.composite_ci));
    add_num(o, "ships", r->s.ships);
    add_num(o, "stays", r->s.stays);
    cJSON_AddNumberToObject(o, "stays_tasks", (double)r->s.stays_tasks);
    cJSON *costs = cJSON_AddObjectToObject(o, "costs");
    add_num(costs, "mean_tokens", r->s.tokens);
    add_num(costs, "mean_wall_clock_ms", r->s.wall_ms);
    add_num(costs, "mean_off_plan_files", r->s.off_plan);
    cJSON *p = cJSON_AddObjectToObject(o, "pareto");
    cJSON_AddBoolToObject(p, "tokens", r->pareto_tokens);
    cJSON_AddBoolToObject(p, "wall_clock", r->pareto_wall);
  }
  char *text = cab_json_print(j, true);
  cJSON_Delete(j);
  if (text == NULL)
    return cab_error_set(err, ENOMEM, "print the leaderboard");
  fprintf(out, "%s\n", text);
  free(text);
  return 0;
}

int
cab_results_leaderboard(sqlite3 *db, const struct cab_leaderboard_opts *o, FILE *out,
                        cab_error *err)
{
  struct lb b = {0};
  int rc = -1;
  if (load(db, o->sweep, &b, err) < 0 || load_extras(db, o->sweep, &b, err) < 0)
    goto out;
  if (b.n == 0) {
    if (o->sweep)
      cab_error_set(err, 0, "no cells of sweep '%s' in the index", o->sweep);
    else
      cab_error_set(err, 0, "no cells in the index");
    goto out;
  }
  mark_pareto(&b);
  qsort(b.rows, b.n, sizeof *b.rows, cmp_rows);
  if (o->json)
    rc = print_json(&b, o->sweep, out, err);
  else {
    print_text(&b, out);
    rc = 0;
  }
out:
  lb_free(&b);
  return rc;
}
