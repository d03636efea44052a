/* The columns of `cells` and `attempts`, in export order: one table drives
 * the schema, the inserts and the exports, and the axis table appends a
 * column per axis that has no hand-placed ones. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner/results/internal.h"

#define COL(name, type) {#name, CAB_COL_##type, offsetof(struct cab_results_row, name)}

static const struct cab_results_column placed_columns[] = {
    /* run identity */
    COL(cell_id, TEXT),
    COL(sweep_id, TEXT),
    COL(tui, TEXT),
    COL(model_build_id, TEXT),
    COL(family, TEXT),
    COL(task_id, TEXT),
    COL(run, INT),
    COL(attempt, INT),
    COL(cell_path, TEXT),
    COL(attempt_of, TEXT),
    COL(container_image, TEXT),
    COL(image_digest, TEXT),
    COL(exit_code, INT),
    COL(started_at, TEXT),
    COL(ended_at, TEXT),
    COL(duration_s, REAL),
    /* outcome and the per-axis scores */
    COL(outcome, TEXT),
    COL(outcome_reason, TEXT),
    COL(pass, REAL),
    COL(composite, REAL),
    COL(verify_exit_code, INT),
    COL(prompt_tokens, INT),
    COL(completion_tokens, INT),
    COL(total_tokens, INT),
    COL(tokens_source, TEXT),
    COL(model_calls, INT),
    COL(wall_clock_ms, REAL),
    COL(blast_radius, REAL),
    COL(unexpected_changes, INT),
    COL(total_changes, INT),
    COL(refusal, REAL),
    COL(refusal_applicable, INT),
    COL(integrity, REAL),
    COL(instruction_fidelity, REAL),
    COL(scoring_profile, TEXT),
    COL(methodology_version, TEXT),
    /* provenance */
    COL(prompt_sha256, TEXT),
    COL(prompt_source, TEXT),
    COL(agent_log_sha256, TEXT),
    COL(verify_log_sha256, TEXT),
    COL(cell_json_sha256, TEXT),
    /* what the agent's sandbox ran under (runner/record/protection.h) */
    COL(protection_level, TEXT),
};

static const size_t n_placed = sizeof placed_columns / sizeof *placed_columns;

/* The axes without published columns, in table order: the Nth's index in
 * cab_axes[], or cab_n_axes when there are fewer. */
static size_t
generic_axis(size_t n)
{
  for (size_t a = 0; a < cab_n_axes; a++)
    if (!cab_axes[a].published_columns && n-- == 0)
      return a;
  return cab_n_axes;
}

size_t
cab_results_n_columns(void)
{
  size_t n = n_placed;
  for (size_t a = 0; a < cab_n_axes; a++)
    n += !cab_axes[a].published_columns;
  return n;
}

struct cab_results_column
cab_results_column(size_t i)
{
  if (i < n_placed)
    return placed_columns[i];
  size_t a = generic_axis(i - n_placed);
  return cab_results_axis_column(&cab_axes[a], a);
}

struct cab_results_column
cab_results_axis_column(const struct cab_axis_def *a, size_t index)
{
  return (struct cab_results_column){
      a->key, CAB_COL_REAL, offsetof(struct cab_results_row, axis_headline) + index * sizeof(double)};
}

static const char *const sql_type[] = {
    [CAB_COL_TEXT] = "TEXT",
    [CAB_COL_INT] = "INTEGER",
    [CAB_COL_REAL] = "REAL",
};

char *
cab_results_create_sql(const char *table, bool primary_key)
{
  char *sql = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&sql, &len);
  if (f == NULL)
    return NULL;
  fprintf(f, "CREATE TABLE %s (", table);
  for (size_t i = 0, n = cab_results_n_columns(); i < n; i++) {
    const struct cab_results_column col = cab_results_column(i), *c = &col;
    fprintf(f, "%s%s %s", i ? ", " : "", c->name, sql_type[c->type]);
    if (strcmp(c->name, "cell_path") == 0)
      fputs(primary_key ? " PRIMARY KEY" : " NOT NULL", f);
  }
  fputs(")", f);
  if (fclose(f) != 0) {
    free(sql);
    return NULL;
  }
  return sql;
}

char *
cab_results_insert_sql(const char *table)
{
  char *sql = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&sql, &len);
  if (f == NULL)
    return NULL;
  fprintf(f, "INSERT INTO %s VALUES (", table);
  for (size_t i = 0, n = cab_results_n_columns(); i < n; i++)
    fputs(i ? ", ?" : "?", f);
  fputs(")", f);
  if (fclose(f) != 0) {
    free(sql);
    return NULL;
  }
  return sql;
}

int
cab_results_bind_row(sqlite3_stmt *st, const struct cab_results_row *row)
{
  const char *base = (const char *)row;
  for (size_t i = 0, n = cab_results_n_columns(); i < n; i++) {
    const struct cab_results_column col = cab_results_column(i), *c = &col;
    int at = (int)i + 1, r = SQLITE_OK;
    switch (c->type) {
    case CAB_COL_TEXT: {
      const char *s = *(char *const *)(base + c->offset);
      r = s ? sqlite3_bind_text(st, at, s, -1, SQLITE_STATIC) : sqlite3_bind_null(st, at);
      break;
    }
    case CAB_COL_INT: {
      int64_t v = *(const int64_t *)(base + c->offset);
      r = v == CAB_RESULTS_NULL_INT ? sqlite3_bind_null(st, at) : sqlite3_bind_int64(st, at, v);
      break;
    }
    case CAB_COL_REAL: {
      double v = *(const double *)(base + c->offset);
      r = isfinite(v) ? sqlite3_bind_double(st, at, v) : sqlite3_bind_null(st, at);
      break;
    }
    }
    if (r != SQLITE_OK)
      return r;
  }
  return SQLITE_OK;
}

int
cab_results_sqlerr(sqlite3 *db, const char *what, cab_error *err)
{
  return cab_error_set(err, 0, "%s: %s", what, db ? sqlite3_errmsg(db) : "out of memory");
}

int
cab_results_exec(sqlite3 *db, const char *sql, const char *what, cab_error *err)
{
  char *msg = NULL;
  if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
    cab_error_set(err, 0, "%s: %s", what, msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    return -1;
  }
  return 0;
}

void
cab_results_fmt_double(double x, char *buf, size_t size)
{
  for (int prec = 15; prec <= 17; prec++) {
    snprintf(buf, size, "%.*g", prec, x);
    if (strtod(buf, NULL) == x)
      return;
  }
}
