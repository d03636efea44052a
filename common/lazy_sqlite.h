/* SQLite, opened at first use (common/lazy_lib.h): only the results
 * commands (runner/results/) keep an index, so a cell, a sweep and every
 * other command never map it.
 *
 * Include this instead of <sqlite3.h>.  Call cab_sqlite_load() where a use
 * begins (it fills ERR with one line when the library is missing); the
 * sqlite3_* calls below then go through the table unchanged in spelling.  A
 * call before any cab_sqlite_load() still loads, and ends the process with
 * the same line (exit 125) if that fails. */
#ifndef CAB_COMMON_LAZY_SQLITE_H
#define CAB_COMMON_LAZY_SQLITE_H

#include <sqlite3.h>

#include "common/error.h"

#define CAB_SQLITE_FUNCS(X) \
  X(bind_double) X(bind_int64) X(bind_null) X(bind_text) X(close) X(column_double) \
  X(column_int64) X(column_text) X(column_type) X(errmsg) X(exec) X(finalize) X(free) X(open) \
  X(open_v2) X(prepare_v2) X(reset) X(step)

/* One pointer per function, typed as sqlite3.h declares it. */
#define CAB_SQLITE_MEMBER(n) __typeof__(sqlite3_##n) *n;
struct cab_sqlite_api {
  CAB_SQLITE_FUNCS(CAB_SQLITE_MEMBER)
};
#undef CAB_SQLITE_MEMBER

/* Open libsqlite3.so.0, once per process (thread-safe).  Returns 0, or -1
 * with "libsqlite3.so.0 not found: apt-get install libsqlite3-0 (make
 * deps)" in ERR. */
int cab_sqlite_load(cab_error *err);

/* The table (loads it first if no one has). */
const struct cab_sqlite_api *cab_sqlite(void);

#define sqlite3_bind_double (cab_sqlite()->bind_double)
#define sqlite3_bind_int64 (cab_sqlite()->bind_int64)
#define sqlite3_bind_null (cab_sqlite()->bind_null)
#define sqlite3_bind_text (cab_sqlite()->bind_text)
#define sqlite3_close (cab_sqlite()->close)
#define sqlite3_column_double (cab_sqlite()->column_double)
#define sqlite3_column_int64 (cab_sqlite()->column_int64)
#define sqlite3_column_text (cab_sqlite()->column_text)
#define sqlite3_column_type (cab_sqlite()->column_type)
#define sqlite3_errmsg (cab_sqlite()->errmsg)
#define sqlite3_exec (cab_sqlite()->exec)
#define sqlite3_finalize (cab_sqlite()->finalize)
#define sqlite3_free (cab_sqlite()->free)
#define sqlite3_open (cab_sqlite()->open)
#define sqlite3_open_v2 (cab_sqlite()->open_v2)
#define sqlite3_prepare_v2 (cab_sqlite()->prepare_v2)
#define sqlite3_reset (cab_sqlite()->reset)
#define sqlite3_step (cab_sqlite()->step)

#endif
