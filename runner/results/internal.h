/* Private to runner/results/: the walk, one row, the columns, SQLite helpers. */
#ifndef CAB_RUNNER_RESULTS_INTERNAL_H
#define CAB_RUNNER_RESULTS_INTERNAL_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/lazy_sqlite.h"
#include "runner/record/walk.h"
#include "runner/results/results.h"
#include "scorers/axes.h"

/* ---- the walk (walk.c) ----------------------------------------------------- */

/* Every cell below ROOT (runner/record/walk.h), sorted by rel, and a
 * fingerprint (hex sha256 of every rel, size and mtime) that changes when a
 * cell is added, removed or rewritten. */
int cab_results_find(const char *root, struct cab_record_found_list *l, char fingerprint[65],
                     cab_error *err);

static inline void
cab_results_found_freep(struct cab_record_found_list *l)
{
  cab_record_found_free(l);
}
#define cleanup_record_found __attribute__((cleanup(cab_results_found_freep)))

/* ---- one row (cell_row.c) ----------------------------------------------------- */

#define CAB_RESULTS_NULL_INT INT64_MIN /* an integer column's NULL; a real's is NaN */

struct cab_results_row {
  char *cell_id, *sweep_id, *tui, *model_build_id, *family, *task_id;
  int64_t run, attempt;
  char *cell_path, *attempt_of;
  char *container_image, *image_digest;
  int64_t exit_code;
  char *started_at, *ended_at;
  double duration_s;
  char *outcome, *outcome_reason;
  double pass, composite;
  int64_t verify_exit_code;
  int64_t prompt_tokens, completion_tokens, total_tokens;
  char *tokens_source;
  int64_t model_calls;
  double wall_clock_ms, blast_radius;
  int64_t unexpected_changes, total_changes;
  double refusal;
  int64_t refusal_applicable;
  double integrity, instruction_fidelity;
  char *scoring_profile, *methodology_version;
  char *prompt_sha256, *prompt_source, *agent_log_sha256, *verify_log_sha256, *cell_json_sha256;
  char *protection_level; /* environment.protection.level; NULL in older records */
  /* The headline of each axis without published columns, by its index in
   * cab_axes[] (scorers/axes.h): the columns appended after the above. */
  double axis_headline[CAB_AXES_MAX];
};

/* Read ROOT/F->rel/cell.json and its logs into ROW.  -1 with ERR saying why
 * the cell cannot be indexed (the caller warns and skips it). */
struct cab_profile;
/* PROFILE NULL: the scores cell.json records; else computed again from the
 * cell's artifacts under PROFILE (and the row's scoring_profile is its name). */
int cab_results_read_row(const char *root, const struct cab_record_found *f,
                         const char *tasks_dir, const struct cab_profile *profile,
                         struct cab_results_row *row, cab_error *err);
void cab_results_row_free(struct cab_results_row *row);

/* Hex sha256 of a file (malloc'd), NULL with errno set when it cannot be read. */
char *cab_results_sha256_file(const char *path);

/* ---- the columns (columns.c) ------------------------------------------------ */

enum cab_results_col_type { CAB_COL_TEXT, CAB_COL_INT, CAB_COL_REAL };

struct cab_results_column {
  const char *name;
  enum cab_results_col_type type;
  size_t offset; /* in struct cab_results_row */
};

/* The columns, in export order: the hand-placed ones (identity, the
 * published axes' figures, provenance), then one REAL column per axis of
 * the axis table without published columns, named by its key. */
size_t cab_results_n_columns(void);
struct cab_results_column cab_results_column(size_t i);
/* The column of axis A, at INDEX in cab_axes[]: "<key>" REAL, its headline
 * (row->axis_headline[INDEX], which cab_results_read_row fills). */
struct cab_results_column cab_results_axis_column(const struct cab_axis_def *a, size_t index);

/* CREATE TABLE NAME (...) from the column table (malloc'd SQL). */
char *cab_results_create_sql(const char *table, bool primary_key);
/* INSERT INTO TABLE VALUES (?, ...) (malloc'd SQL), and binding ROW to it. */
char *cab_results_insert_sql(const char *table);
int cab_results_bind_row(sqlite3_stmt *st, const struct cab_results_row *row);

/* ---- SQLite ---------------------------------------------------------------- */

/* Run SQL (no result rows); -1 with "WHAT: sqlite's message". */
int cab_results_exec(sqlite3 *db, const char *sql, const char *what, cab_error *err);
int cab_results_sqlerr(sqlite3 *db, const char *what, cab_error *err);

static inline void
cab_results_finalizep(sqlite3_stmt **st)
{
  if (*st)
    sqlite3_finalize(*st);
}
#define cleanup_stmt __attribute__((cleanup(cab_results_finalizep)))

/* Shortest "%.Ng" (15..17) that reads back as X: what a JSON encoder prints. */
void cab_results_fmt_double(double x, char *buf, size_t size);

#endif
