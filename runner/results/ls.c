/* cab results ls: the cells of an index, filtered, as an aligned table or JSON. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "runner/results/internal.h"
#include "scorers/scorers.h"

enum { L_SWEEP, L_TUI, L_MODEL, L_TASK, L_RUN, L_OUTCOME, L_PASS, L_COMPOSITE, L_TOKENS, L_WALL,
       L_PATH, L_NCOLS };
static const char *const heads[L_NCOLS] = {"SWEEP",     "TUI",    "MODEL",  "TASK",
                                           "RUN",       "OUTCOME", "PASS",  "COMPOSITE",
                                           "TOKENS",    "WALL_S", "PATH"};
/* The numbers right-aligned, like the leaderboard's. */
static const bool right[L_NCOLS] = {[L_RUN] = true,    [L_PASS] = true, [L_COMPOSITE] = true,
                                    [L_TOKENS] = true, [L_WALL] = true};

static const char ls_sql[] =
    "SELECT sweep_id, tui, model_build_id, task_id, run, outcome, pass, composite, total_tokens,"
    " wall_clock_ms, cell_path, outcome_reason FROM cells"
    " WHERE (?1 IS NULL OR tui GLOB ?1) AND (?2 IS NULL OR model_build_id GLOB ?2)"
    " AND (?3 IS NULL OR task_id GLOB ?3) AND (?4 IS NULL OR outcome GLOB ?4)"
    " AND (?5 IS NULL OR sweep_id GLOB ?5) ORDER BY cell_path";

static void
cell_text(sqlite3_stmt *st, int c, char *buf, size_t size)
{
  if (sqlite3_column_type(st, c) == SQLITE_NULL) {
    snprintf(buf, size, "-");
    return;
  }
  switch (c) {
  case L_PASS:
  case L_COMPOSITE: snprintf(buf, size, "%.3f", sqlite3_column_double(st, c)); break;
  case L_WALL: snprintf(buf, size, "%.1f", sqlite3_column_double(st, c) / 1000.0); break;
  default: snprintf(buf, size, "%s", (const char *)sqlite3_column_text(st, c)); break;
  }
}

static cJSON *
cell_json(sqlite3_stmt *st)
{
  static const char *const keys[] = {"sweep_id", "tui",       "model",        "task_id",
                                     "run",      "outcome",   "pass",         "composite",
                                     "total_tokens", "wall_clock_ms", "cell_path",
                                     "outcome_reason"};
  cJSON *o = cJSON_CreateObject();
  for (int c = 0; c < (int)(sizeof keys / sizeof *keys); c++) {
    switch (sqlite3_column_type(st, c)) {
    case SQLITE_NULL: cJSON_AddNullToObject(o, keys[c]); break;
    case SQLITE_INTEGER:
    case SQLITE_FLOAT: cJSON_AddNumberToObject(o, keys[c], sqlite3_column_double(st, c)); break;
    default: cJSON_AddStringToObject(o, keys[c], (const char *)sqlite3_column_text(st, c)); break;
    }
  }
  return o;
}

struct text_rows {
  char **v; /* L_NCOLS strings a row */
  size_t n, cap;
};

static void
text_rows_free(struct text_rows *t)
{
  for (size_t i = 0; i < t->n * L_NCOLS; i++)
    free(t->v[i]);
  free(t->v);
}

int
cab_results_ls(struct sqlite3 *db, const struct cab_results_filter *f, bool json, FILE *out,
               cab_error *err)
{
  cleanup_stmt sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db, ls_sql, -1, &st, NULL) != SQLITE_OK)
    return cab_results_sqlerr(db, "list the cells", err);
  const char *binds[] = {f->tui, f->model, f->task, f->outcome, f->sweep};
  for (int i = 0; i < 5; i++)
    if ((binds[i] ? sqlite3_bind_text(st, i + 1, binds[i], -1, SQLITE_STATIC)
                  : sqlite3_bind_null(st, i + 1)) != SQLITE_OK)
      return cab_results_sqlerr(db, "list the cells", err);

  if (json) {
    cJSON *doc = cJSON_CreateObject(), *cells = cJSON_CreateArray();
    cJSON_AddStringToObject(doc, "schema", "cab.results.ls/v1");
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW)
      cJSON_AddItemToArray(cells, cell_json(st));
    cJSON_AddNumberToObject(doc, "count", cJSON_GetArraySize(cells));
    cJSON_AddItemToObject(doc, "cells", cells);
    if (r != SQLITE_DONE) {
      cJSON_Delete(doc);
      return cab_results_sqlerr(db, "list the cells", err);
    }
    cleanup_free char *text = cab_json_print(doc, true);
    cJSON_Delete(doc);
    if (text == NULL)
      return cab_error_set(err, ENOMEM, "list the cells");
    fprintf(out, "%s\n", text);
    return 0;
  }

  struct text_rows t = {0};
  size_t width[L_NCOLS];
  for (int c = 0; c < L_NCOLS; c++)
    width[c] = strlen(heads[c]);
  int r;
  while ((r = sqlite3_step(st)) == SQLITE_ROW) {
    if (t.n == t.cap) {
      size_t cap = t.cap ? t.cap * 2 : 64;
      char **v = realloc(t.v, cap * L_NCOLS * sizeof *v);
      if (v == NULL) {
        text_rows_free(&t);
        return cab_error_set(err, ENOMEM, "list the cells");
      }
      t.v = v;
      t.cap = cap;
    }
    for (int c = 0; c < L_NCOLS; c++) {
      char buf[1024];
      cell_text(st, c, buf, sizeof buf);
      size_t len = strlen(buf);
      if (len > width[c])
        width[c] = len;
      t.v[t.n * L_NCOLS + c] = strdup(buf);
    }
    t.n++;
  }
  if (r != SQLITE_DONE) {
    text_rows_free(&t);
    return cab_results_sqlerr(db, "list the cells", err);
  }
  for (size_t i = 0; i <= t.n; i++) {
    for (int c = 0; c < L_NCOLS; c++) {
      const char *s = i == 0 ? heads[c] : t.v[(i - 1) * L_NCOLS + c];
      const char *sep = c + 1 < L_NCOLS ? "  " : "\n";
      if (c + 1 == L_NCOLS)
        fprintf(out, "%s%s", s ? s : "", sep);
      else
        fprintf(out, right[c] ? "%*s%s" : "%-*s%s", (int)width[c], s ? s : "", sep);
    }
  }
  fprintf(out, "\n%zu %s\n", t.n, t.n == 1 ? "cell" : "cells");
  text_rows_free(&t);
  return 0;
}
