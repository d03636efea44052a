#include "common/lazy_sqlite.h"

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>

#include "common/lazy_lib.h"

#define CAB_SQLITE_SYM(n) {"sqlite3_" #n, offsetof(struct cab_sqlite_api, n)},
static const struct cab_lazy_sym sqlite_syms[] = {CAB_SQLITE_FUNCS(CAB_SQLITE_SYM)};

/* Written once, under pthread_once, and only read after: the process's one
 * copy of SQLite, like a linked library's own. */
static pthread_once_t sqlite_once = PTHREAD_ONCE_INIT;
static struct {
  struct cab_sqlite_api api;
  int ok;
  char why[512];
} sqlite_loaded;

static void
load_sqlite(void)
{
  if (cab_lazy_open("libsqlite3.so.0", "apt-get install libsqlite3-0 (make deps)", sqlite_syms,
                    sizeof sqlite_syms / sizeof *sqlite_syms, &sqlite_loaded.api, sqlite_loaded.why,
                    sizeof sqlite_loaded.why) < 0)
    return;
  sqlite_loaded.ok = 1;
}

int
cab_sqlite_load(cab_error *err)
{
  pthread_once(&sqlite_once, load_sqlite);
  if (!sqlite_loaded.ok)
    return cab_error_set(err, 0, "%s", sqlite_loaded.why);
  return 0;
}

const struct cab_sqlite_api *
cab_sqlite(void)
{
  pthread_once(&sqlite_once, load_sqlite);
  if (!sqlite_loaded.ok) {
    /* A use no cab_sqlite_load() guarded: still one line, still 125. */
    fprintf(stderr, "cab: %s\n", sqlite_loaded.why);
    _exit(CAB_EXIT_RUNNER);
  }
  return &sqlite_loaded.api;
}
