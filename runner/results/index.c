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
#include "common/fsutil.h"
#include "common/sha256.h"
#include "runner/results/internal.h"
#include "scorers/scorers.h"

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

  struct cab_profile profile;
  if (o->profile && cab_profile_load(o->profile, &profile, err) < 0)
    return -1;
  char first_skip[2300] = "";
  for (size_t i = 0; i < l->n; i++) {
    const struct cab_record_found *f = &l->v[i];
    struct cab_results_row row;
    cab_error rerr = {0};
    if (cab_results_read_row(root, f, o->tasks_dir, o->profile ? &profile : NULL, &row, &rerr) <
        0) {
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
      put_meta(db, "profile", o->profile ? profile.name : "", err) < 0 ||
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

/* Build the index of ROOT at PATH through a temp file beside it.
 * *UNWRITABLE: the temp file could not even be created. */
static int
build_file(const char *root, const char *path, const struct cab_record_found_list *l,
           const char *fingerprint, const struct cab_results_opts *o,
           struct cab_results_summary *sum, bool *unwritable, cab_error *err)
{
  *unwritable = false;
  char tmp[PATH_MAX], dir[PATH_MAX];
  if (cab_path_printf(sum->db_path, sizeof sum->db_path, err, "%s", path) < 0 ||
      cab_path_printf(dir, sizeof dir, err, "%s", path) < 0)
    return -1;
  char *slash = strrchr(dir, '/');
  if (slash == NULL)
    strcpy(dir, ".");
  else if (slash == dir)
    dir[1] = '\0';
  else
    *slash = '\0';
  if (snprintf(tmp, sizeof tmp, "%s/.%s.tmp-XXXXXX", dir, CAB_RESULTS_DB) >= (int)sizeof tmp)
    return cab_error_set(err, ENAMETOOLONG, "%s: path too long", dir);
  int fd = mkostemp(tmp, O_CLOEXEC);
  if (fd < 0) {
    *unwritable = errno == EACCES || errno == EROFS || errno == EPERM;
    return cab_error_sys(err, "create a temporary index in %s", dir);
  }
  fchmod(fd, 0644);
  close(fd);

  sqlite3 *db = NULL;
  int rc = -1;
  if (cab_sqlite_load(err) < 0)
    goto out;
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
  fsync_path(dir, O_DIRECTORY);
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
  char path[PATH_MAX];
  int r = o->db ? cab_path_printf(path, sizeof path, err, "%s", o->db)
                : cab_path_printf(path, sizeof path, err, "%s/%s", root, CAB_RESULTS_DB);
  if (r == 0)
    r = build_file(root, path, &l, fingerprint, o, sum, &unwritable, err);
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
  if (cab_sqlite_load(err) < 0)
    return -1;
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
cab_results_cache_path(const char *root, const char *profile, char *buf, size_t size,
                       cab_error *err)
{
  char real[PATH_MAX];
  if (realpath(root, real) == NULL)
    return cab_error_sys(err, "%s", root);
  const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
  char dir[PATH_MAX];
  if (xdg && xdg[0] == '/') {
    if (cab_path_printf(dir, sizeof dir, err, "%s/cab/results", xdg) < 0)
      return -1;
  } else if (home && home[0] == '/') {
    if (cab_path_printf(dir, sizeof dir, err, "%s/.cache/cab/results", home) < 0)
      return -1;
  } else {
    return cab_error_set(err, 0, "no cache directory: neither XDG_CACHE_HOME nor HOME is set");
  }
  if (cab_mkdir_p(dir, 0700, err) < 0)
    return -1;
  /* Only a directory nobody else can write: another user must not be able
   * to put a forged index where ours would be read from. */
  struct stat st;
  if (lstat(dir, &st) < 0)
    return cab_error_sys(err, "%s", dir);
  if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022) != 0)
    return cab_error_set(err, EPERM, "%s: not a directory of this user's that only it can write",
                         dir);
  struct cab_sha256 *h = cab_sha256_new();
  if (h == NULL)
    return cab_error_set(err, ENOMEM, "sha256 of %s", real);
  cab_sha256_update(h, real, strlen(real));
  cab_sha256_update(h, "\n", 1);
  if (profile)
    cab_sha256_update(h, profile, strlen(profile));
  char digest[CAB_DIGEST_LEN + 1];
  cab_sha256_final(h, digest);
  return cab_path_printf(buf, size, err, "%s/%.32s.db", dir, digest + 7);
}

/* The fingerprint of a tree's cells scored under PROFILE (NULL: as
 * recorded): the profile's every figure, so an edited profile file is a
 * new index. */
static int
profile_fingerprint(char fingerprint[65], const char *profile, cab_error *err)
{
  if (profile == NULL)
    return 0;
  struct cab_profile p;
  if (cab_profile_load(profile, &p, err) < 0)
    return -1;
  char text[1024];
  int n = snprintf(text, sizeof text, "%s\nprofile %s %s %.17g %.17g %.17g %.17g %.17g %d %.17g %.17g %.17g %.17g",
                   fingerprint, p.name, p.methodology_version, p.w_pass, p.w_integrity, p.w_cost,
                   p.w_latency, p.w_blast, (int)p.cost_formula, p.cost_constant,
                   p.cost_scale_tokens, p.latency_scale_ms, p.refusal_factor);
  struct cab_sha256 *h = cab_sha256_new();
  if (h == NULL)
    return cab_error_set(err, ENOMEM, "sha256 of the profile");
  cab_sha256_update(h, text, n > 0 && (size_t)n < sizeof text ? (size_t)n : strlen(text));
  char digest[CAB_DIGEST_LEN + 1];
  cab_sha256_final(h, digest);
  memcpy(fingerprint, digest + 7, 65);
  return 0;
}

/* The index of L built in memory. */
static int
build_memory(const char *root, const struct cab_record_found_list *l, const char *fingerprint,
             const struct cab_results_opts *o, sqlite3 **out, struct cab_results_summary *sum,
             cab_error *err)
{
  memset(sum, 0, sizeof *sum);
  sqlite3 *db = NULL;
  if (cab_sqlite_load(err) < 0)
    return -1;
  if (sqlite3_open(":memory:", &db) != SQLITE_OK) {
    cab_results_sqlerr(db, "an in-memory index", err);
    sqlite3_close(db);
    return -1;
  }
  if (fill(db, root, l, fingerprint, o, sum, err) < 0) {
    sqlite3_close(db);
    return -1;
  }
  snprintf(sum->db_path, sizeof sum->db_path, ":memory:");
  sum->rebuilt = sum->in_memory = true;
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
  if (S_ISREG(st.st_mode)) {
    if (o->profile)
      return cab_error_set(err, 0,
                           "%s: a profile re-scores the cells of a results directory, not an "
                           "index; give the directory",
                           root);
    return open_existing(root, NULL, out, sum, err);
  }
  if (!S_ISDIR(st.st_mode))
    return cab_error_set(err, 0, "%s: neither a results directory nor a results.db", root);

  cleanup_record_found struct cab_record_found_list l = {0};
  char fingerprint[65];
  if (cab_results_find(root, &l, fingerprint, err) < 0)
    return -1;
  if (profile_fingerprint(fingerprint, o->profile, err) < 0)
    return -1;
  char path[PATH_MAX];
  cab_error ignored = {0};
  /* The tree's own index, from `cab index`, read only. */
  if (!o->db && !o->profile &&
      cab_path_printf(path, sizeof path, &ignored, "%s/%s", root, CAB_RESULTS_DB) == 0 &&
      access(path, F_OK) == 0 && open_existing(path, fingerprint, out, sum, &ignored) == 0)
    return 0;

  cab_error cache_err = {0};
  int r = o->db ? cab_path_printf(path, sizeof path, err, "%s", o->db)
                : cab_results_cache_path(root, o->profile, path, sizeof path, &cache_err);
  if (r < 0 && o->db)
    return -1;
  /* The cache's index only when it is this user's and only it can write
   * it (else it is rebuilt, and the rename replaces it). */
  struct stat st_db;
  bool trusted = o->db || (lstat(path, &st_db) == 0 && S_ISREG(st_db.st_mode) &&
                           st_db.st_uid == geteuid() && (st_db.st_mode & 022) == 0);
  if (r == 0 && trusted && access(path, F_OK) == 0 &&
      open_existing(path, fingerprint, out, sum, &ignored) == 0)
    return 0;
  if (r == 0) {
    bool unwritable;
    if (build_file(root, path, &l, fingerprint, o, sum, &unwritable, &cache_err) == 0) {
      struct cab_results_summary built = *sum;
      if (open_existing(path, NULL, out, sum, err) < 0)
        return -1;
      *sum = built;
      sum->rebuilt = true;
      if (o->warn)
        fprintf(o->warn, "cab: index: %zu cells of %s indexed in %s\n", sum->cells, root, path);
      return 0;
    }
    if (o->db || !unwritable) {
      *err = cache_err;
      return -1;
    }
  }
  /* No cache to write to: the index lives in memory. */
  char why[2300];
  cab_error_line(&cache_err, why, sizeof why);
  if (build_memory(root, &l, fingerprint, o, out, sum, err) < 0)
    return -1;
  if (o->warn)
    fprintf(o->warn, "cab: index: %zu cells of %s indexed in memory (%s)\n", sum->cells, root, why);
  return 0;
}

void
cab_results_close(sqlite3 *db)
{
  sqlite3_close(db);
}
