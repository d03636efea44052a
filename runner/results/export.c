/* One row per cell, as JSON lines or CSV: every column of `cells`, in order. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "runner/results/internal.h"
#include "scorers/scorers.h"

/* A text field.  One that starts with = + - @ TAB or CR is a formula to a
 * spreadsheet (OWASP "CSV injection": a hostile agent or task controls
 * outcome_reason, ids, paths): it gets a leading single quote, which makes
 * it text.  Numbers are written by csv_row, never through here. */
static void
csv_field(FILE *out, const char *s)
{
  bool formula = s[0] != '\0' && strchr("=+-@\t\r", s[0]) != NULL;
  if (strpbrk(s, ",\"\r\n") == NULL) {
    if (formula)
      fputc('\'', out);
    fputs(s, out);
    return;
  }
  fputc('"', out);
  if (formula)
    fputc('\'', out);
  for (; *s; s++) {
    if (*s == '"')
      fputc('"', out);
    fputc(*s, out);
  }
  fputc('"', out);
}

static int
jsonl_row(sqlite3_stmt *st, FILE *out, cab_error *err)
{
  cJSON *o = cJSON_CreateObject();
  if (o == NULL)
    return cab_error_set(err, ENOMEM, "export");
  for (size_t i = 0, n = cab_results_n_columns(); i < n; i++) {
    const char *name = cab_results_column(i).name;
    int c = (int)i;
    switch (sqlite3_column_type(st, c)) {
    case SQLITE_NULL:
      cJSON_AddNullToObject(o, name);
      break;
    case SQLITE_INTEGER:
      cJSON_AddNumberToObject(o, name, (double)sqlite3_column_int64(st, c));
      break;
    case SQLITE_FLOAT:
      cJSON_AddNumberToObject(o, name, sqlite3_column_double(st, c));
      break;
    default:
      cJSON_AddStringToObject(o, name, (const char *)sqlite3_column_text(st, c));
      break;
    }
  }
  /* numbers as JSON.stringify prints them: the shortest that round-trips */
  char *line = cab_json_print(o, false);
  cJSON_Delete(o);
  if (line == NULL)
    return cab_error_set(err, ENOMEM, "export");
  fprintf(out, "%s\n", line);
  free(line);
  return 0;
}

static void
csv_row(sqlite3_stmt *st, FILE *out)
{
  for (size_t i = 0, n = cab_results_n_columns(); i < n; i++) {
    int c = (int)i;
    if (i)
      fputc(',', out);
    switch (sqlite3_column_type(st, c)) {
    case SQLITE_NULL:
      break;
    case SQLITE_INTEGER:
      fprintf(out, "%lld", (long long)sqlite3_column_int64(st, c));
      break;
    case SQLITE_FLOAT: {
      char buf[40];
      cab_results_fmt_double(sqlite3_column_double(st, c), buf, sizeof buf);
      fputs(buf, out);
      break;
    }
    default:
      csv_field(out, (const char *)sqlite3_column_text(st, c));
      break;
    }
  }
  fputc('\n', out);
}

int
cab_results_export(sqlite3 *db, enum cab_results_format fmt, bool attempts, FILE *out,
                   cab_error *err)
{
  char *cols = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&cols, &len);
  if (f == NULL)
    return cab_error_sys(err, "export");
  for (size_t i = 0, n = cab_results_n_columns(); i < n; i++)
    fprintf(f, "%s%s", i ? ", " : "", cab_results_column(i).name);
  if (fclose(f) != 0) {
    free(cols);
    return cab_error_sys(err, "export");
  }
  cleanup_free char *sql = NULL;
  int n = attempts ? asprintf(&sql,
                              "SELECT %s FROM (SELECT %s FROM cells UNION ALL SELECT %s FROM "
                              "attempts) ORDER BY cell_path",
                              cols, cols, cols)
                   : asprintf(&sql, "SELECT %s FROM cells ORDER BY cell_path", cols);
  free(cols);
  if (n < 0) {
    sql = NULL;
    return cab_error_sys(err, "export");
  }
  cleanup_stmt sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
    return cab_results_sqlerr(db, "read the cells", err);

  if (fmt == CAB_RESULTS_CSV) {
    for (size_t i = 0, ncol = cab_results_n_columns(); i < ncol; i++)
      fprintf(out, "%s%s", i ? "," : "", cab_results_column(i).name);
    fputc('\n', out);
  }
  int r;
  while ((r = sqlite3_step(st)) == SQLITE_ROW) {
    if (fmt == CAB_RESULTS_CSV)
      csv_row(st, out);
    else if (jsonl_row(st, out, err) < 0)
      return -1;
  }
  if (r != SQLITE_DONE)
    return cab_results_sqlerr(db, "read the cells", err);
  return 0;
}

int
cab_results_export_file(struct sqlite3 *db, enum cab_results_format fmt, bool attempts,
                        const char *path, cab_error *err)
{
  char tmp[PATH_MAX];
  if (snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", path) >= (int)sizeof tmp)
    return cab_error_set(err, ENAMETOOLONG, "--out %s: path too long", path);
  int fd = mkostemp(tmp, O_CLOEXEC);
  if (fd < 0)
    return cab_error_sys(err, "--out %s: create a temporary file beside it", path);
  fchmod(fd, 0644);
  FILE *f = fdopen(fd, "w");
  if (f == NULL) {
    close(fd);
    unlink(tmp);
    return cab_error_sys(err, "--out %s", path);
  }
  int r = cab_results_export(db, fmt, attempts, f, err);
  if (r == 0 && (fflush(f) != 0 || fsync(fileno(f)) != 0))
    r = cab_error_sys(err, "write %s", tmp);
  if (fclose(f) != 0 && r == 0)
    r = cab_error_sys(err, "write %s", tmp);
  if (r == 0 && rename(tmp, path) < 0)
    r = cab_error_sys(err, "--out %s: put the export in place", path);
  if (r < 0)
    unlink(tmp);
  return r;
}
