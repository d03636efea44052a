/* Build results.db from a results tree, atomically; open it fresh. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/strfmt.h"
#include "common/cleanup.h"
#include "runner/results/internal.h"

static const char schema_sql[] =
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);"
    "CREATE TABLE skipped (path TEXT PRIMARY KEY, reason TEXT);";

static const char index_sql[] =
    "CREATE INDEX cells_by_group ON cells (tui, model_build_id, task_id);"
    "CREATE INDEX attempts_by_cell ON attempts (attempt_of);";

static int
create_schema(sqlite3 *db, cab_error *err)
{
  if (cab_results_exec(db, schema_sql, "create the index tables", err) < 0)
    return -1;
  for (int i = 0; i < 2; i++) {
    cleanup_free char *sql = cab_results_create_sql(i ? "attempts" : "cells", i == 0);
    if (sql == NULL)
      return cab_error_sys(err, "create the index tables");
    if (cab_results_exec(db, sql, "create the index tables", err) < 0)
      return -1;
  }
  return cab_results_exec(db, index_sql, "create the index tables", err);
}

static int
put_meta(sqlite3 *db, const char *key, const char *value, cab_error *err)
{
  cleanup_stmt sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO meta VALUES (?, ?)", -1, &st, NULL) !=
          SQLITE_OK ||
      sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC) != SQLITE_OK ||
      sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC) != SQLITE_OK ||
      sqlite3_step(st) != SQLITE_DONE)
    return cab_results_sqlerr(db, "write the index's meta table", err);
  return 0;
}

static int
put_meta_count(sqlite3 *db, const char *key, size_t n, cab_error *err)
{
  char buf[32];
  snprintf(buf, sizeof buf, "%zu", n);
  return put_meta(db, key, buf, err);
}

/* Index every found cell into DB (fresh, empty). */
static int
fill(sqlite3 *db, const char *root, const struct cab_record_found_list *l,
     const char *fingerprint, const struct cab_results_opts *o, struct cab_results_summary *sum,
     cab_error *err)
{
  if (create_schema(db, err) < 0 ||
      cab_results_exec(db, "BEGIN", "start the index transaction", err) < 0)
    return -1;
  cleanup_free char *ins_cell = cab_results_insert_sql("cells");
  cleanup_free char *ins_attempt = cab_results_insert_sql("attempts");
  cleanup_stmt sqlite3_stmt *cell_st = NULL, *attempt_st = NULL, *skip_st = NULL;
  if (ins_cell == NULL || ins_attempt == NULL)
    return cab_error_sys(err, "index %s", root);
  if (sqlite3_prepare_v2(db, ins_cell, -1, &cell_st, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db, ins_attempt, -1, &attempt_st, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "INSERT INTO skipped VALUES (?, ?)", -1, &skip_st, NULL) !=
          SQLITE_OK)
    return cab_results_sqlerr(db, "prepare the index inserts", err);

  char first_skip[2300] = "";
  for (size_t i = 0; i < l->n; i++) {
    const struct cab_record_found *f = &l->v[i];
    struct cab_results_row row;
    cab_error rerr = {0};
    if (cab_results_read_row(root, f, o->tasks_dir, &row, &rerr) < 0) {
      char line[2300];
      cab_error_line(&rerr, line, sizeof line);
      if (o->strict)
        return cab_error_set(err, 0, "%s (--strict: nothing indexed)", line);
      if (o->warn)
        fprintf(o->warn, "cab: warning: %s; not indexed\n", line);
      if (first_skip[0] == '\0')
        snprintf(first_skip, sizeof first_skip, "%s", line);
      sqlite3_reset(skip_st);
      if (sqlite3_bind_text(skip_st, 1, f->rel, -1, SQLITE_STATIC) != SQLITE_OK ||
          sqlite3_bind_text(skip_st, 2, line, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
          sqlite3_step(skip_st) != SQLITE_DONE)
        return cab_results_sqlerr(db, "record a skipped cell", err);
      sum->skipped++;
      continue;
    }
    sqlite3_stmt *st = f->attempt ? attempt_st : cell_st;
    sqlite3_reset(st);
    int r = cab_results_bind_row(st, &row);
    if (r == SQLITE_OK)
      r = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    sum->no_prompt += row.prompt_sha256 == NULL;
    sum->no_agent_log += row.agent_log_sha256 == NULL;
    sum->no_verify_log += row.verify_log_sha256 == NULL;
    cab_results_row_free(&row);
    if (r != SQLITE_OK)
      return cab_results_sqlerr(db, f->rel, err);
    if (f->attempt)
      sum->attempts++;
    else
      sum->cells++;
  }
  if (sum->cells + sum->attempts == 0) {
    if (l->n == 0)
      return cab_error_set(err, 0,
                           "%s: no cell.json below it (cells are "
                           "DIR/<sweep>/<tui>/<model>/<family>/<task>/[run-N/]cell.json)",
                           root);
    return cab_error_set(err, 0, "%s: none of its %zu cell.json files could be indexed (%s)", root,
                         l->n, first_skip);
  }

  char now[32];
  time_t t = time(NULL);
  struct tm tm;
  strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
  char tasks[PATH_MAX] = "";
  if (o->tasks_dir)
    snprintf(tasks, sizeof tasks, "%s", o->tasks_dir);
  if (put_meta(db, "schema", CAB_RESULTS_SCHEMA, err) < 0 ||
      put_meta(db, "fingerprint", fingerprint, err) < 0 ||
      put_meta(db, "indexed_at", now, err) < 0 || put_meta(db, "tasks_dir", tasks, err) < 0 ||
      put_meta_count(db, "cells", sum->cells, err) < 0 ||
      put_meta_count(db, "attempts", sum->attempts, err) < 0 ||
      put_meta_count(db, "skipped", sum->skipped, err) < 0)
    return -1;
  return cab_results_exec(db, "COMMIT", "commit the index", err);
}

static int
fsync_path(const char *path, int flags)
{
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | flags);
  return fd < 0 || fsync(fd) < 0 ? -1 : 0;
}

/* Build ROOT/results.db through a temp file.  *UNWRITABLE: the temp file
 * could not even be created (a read-only tree). */
static int
build_file(const char *root, const struct cab_record_found_list *l, const char *fingerprint,
           const struct cab_results_opts *o, struct cab_results_summary *sum, bool *unwritable,
           cab_error *err)
{
  *unwritable = false;
  char tmp[PATH_MAX];
  if (cab_path_printf(sum->db_path, sizeof sum->db_path, err, "%s/%s", root, CAB_RESULTS_DB) < 0)
    return -1;
  if (snprintf(tmp, sizeof tmp, "%s/.%s.tmp-XXXXXX", root, CAB_RESULTS_DB) >= (int)sizeof tmp)
    return cab_error_set(err, ENAMETOOLONG, "%s: path too long", root);
  int fd = mkostemp(tmp, O_CLOEXEC);
  if (fd < 0) {
    *unwritable = errno == EACCES || errno == EROFS || errno == EPERM;
    return cab_error_sys(err, "create a temporary index in %s", root);
  }
  fchmod(fd, 0644);
  close(fd);

  sqlite3 *db = NULL;
  int rc = -1;
  if (sqlite3_open_v2(tmp, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
    cab_results_sqlerr(db, tmp, err);
    goto out;
  }
  /* Nobody else sees the temp file: no journal, no syncs until the end. */
  if (cab_results_exec(db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF", tmp, err) < 0 ||
      fill(db, root, l, fingerprint, o, sum, err) < 0)
    goto out;
  if (sqlite3_close(db) != SQLITE_OK) {
    cab_results_sqlerr(db, tmp, err);
    goto out;
  }
  db = NULL;
  if (fsync_path(tmp, 0) < 0) {
    cab_error_sys(err, "fsync %s", tmp);
    goto out;
  }
  if (rename(tmp, sum->db_path) < 0) {
    cab_error_sys(err, "put the new index in place as %s", sum->db_path);
    goto out;
  }
  fsync_path(root, O_DIRECTORY);
  rc = 0;
out:
  if (db)
    sqlite3_close(db);
  if (rc < 0)
    unlink(tmp);
  return rc;
}

int
cab_results_index(const char *root, const struct cab_results_opts *o,
                  struct cab_results_summary *sum, cab_error *err)
{
  memset(sum, 0, sizeof *sum);
  struct cab_record_found_list l;
  char fingerprint[65];
  if (cab_results_find(root, &l, fingerprint, err) < 0)
    return cab_error_prefix(err, "index");
  bool unwritable;
  int r = build_file(root, &l, fingerprint, o, sum, &unwritable, err);
  cab_record_found_free(&l);
  sum->rebuilt = r == 0;
  return r < 0 ? cab_error_prefix(err, "index") : 0;
}

/* The value of meta KEY (malloc'd), or NULL. */
static char *
get_meta(sqlite3 *db, const char *key)
{
  cleanup_stmt sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = ?", -1, &st, NULL) !=
          SQLITE_OK ||
      sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC) != SQLITE_OK ||
      sqlite3_step(st) != SQLITE_ROW)
    return NULL;
  const unsigned char *v = sqlite3_column_text(st, 0);
  return v ? strdup((const char *)v) : NULL;
}

static size_t
count_of(sqlite3 *db, const char *table)
{
  char sql[64];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
  cleanup_stmt sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW)
    return 0;
  return (size_t)sqlite3_column_int64(st, 0);
}

/* Open PATH read-only; it must be a cab results index.  With FINGERPRINT,
 * -1 without an error message when it is not that tree's current index. */
static int
open_existing(const char *path, const char *fingerprint, sqlite3 **out,
              struct cab_results_summary *sum, cab_error *err)
{
  sqlite3 *db = NULL;
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
    cab_results_sqlerr(db, path, err);
    sqlite3_close(db);
    return -1;
  }
  cleanup_free char *schema = get_meta(db, "schema");
  cleanup_free char *fp = get_meta(db, "fingerprint");
  if (schema == NULL || strcmp(schema, CAB_RESULTS_SCHEMA) != 0) {
    cab_error_set(err, 0, "%s: not a cab results index (%s); build one with 'cab index DIR'", path,
                  schema ? "another schema" : "no cab meta table");
    sqlite3_close(db);
    return -1;
  }
  if (fingerprint && (fp == NULL || strcmp(fp, fingerprint) != 0)) {
    sqlite3_close(db);
    return -1;
  }
  sum->cells = count_of(db, "cells");
  sum->attempts = count_of(db, "attempts");
  sum->skipped = count_of(db, "skipped");
  snprintf(sum->db_path, sizeof sum->db_path, "%s", path);
  *out = db;
  return 0;
}

int
cab_results_open(const char *root, const struct cab_results_opts *o, sqlite3 **out,
                 struct cab_results_summary *sum, cab_error *err)
{
  memset(sum, 0, sizeof *sum);
  *out = NULL;
  struct stat st;
  if (stat(root, &st) < 0)
    return cab_error_sys(err, "%s", root);
  if (S_ISREG(st.st_mode))
    return open_existing(root, NULL, out, sum, err);
  if (!S_ISDIR(st.st_mode))
    return cab_error_set(err, 0, "%s: neither a results directory nor a results.db", root);

  struct cab_record_found_list l;
  char fingerprint[65];
  if (cab_results_find(root, &l, fingerprint, err) < 0)
    return -1;
  char path[PATH_MAX];
  if (cab_path_printf(path, sizeof path, err, "%s/%s", root, CAB_RESULTS_DB) < 0) {
    cab_record_found_free(&l);
    return -1;
  }
  cab_error ignored = {0};
  if (access(path, F_OK) == 0 && open_existing(path, fingerprint, out, sum, &ignored) == 0) {
    cab_record_found_free(&l);
    return 0;
  }

  bool unwritable;
  int r = build_file(root, &l, fingerprint, o, sum, &unwritable, err);
  if (r == 0) {
    cab_record_found_free(&l);
    struct cab_results_summary built = *sum;
    if (open_existing(path, NULL, out, sum, err) < 0)
      return -1;
    *sum = built;
    sum->rebuilt = true;
    return 0;
  }
  if (!unwritable) {
    cab_record_found_free(&l);
    return -1;
  }
  /* A read-only tree (a published dataset): the index lives in memory. */
  if (o->warn)
    fprintf(o->warn, "cab: warning: %s is not writable; indexing its cells in memory\n", root);
  memset(sum, 0, sizeof *sum);
  sqlite3 *db = NULL;
  if (sqlite3_open(":memory:", &db) != SQLITE_OK) {
    cab_record_found_free(&l);
    cab_results_sqlerr(db, "an in-memory index", err);
    sqlite3_close(db);
    return -1;
  }
  r = fill(db, root, &l, fingerprint, o, sum, err);
  cab_record_found_free(&l);
  if (r < 0) {
    sqlite3_close(db);
    return -1;
  }
  snprintf(sum->db_path, sizeof sum->db_path, ":memory:");
  sum->rebuilt = sum->in_memory = true;
  *out = db;
  return 0;
}

void
cab_results_close(sqlite3 *db)
{
  sqlite3_close(db);
}
