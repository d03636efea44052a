#include "common/lazy_sqlite.h"

#include <stddef.h>

#include "common/lazy_lib.h"

#define CAB_SQLITE_SYM(n) {"sqlite3_" #n, offsetof(struct cab_sqlite_api, n)},
static const struct cab_lazy_sym syms[] = {CAB_SQLITE_FUNCS(CAB_SQLITE_SYM)};
static struct cab_sqlite_api api;

static struct cab_lazy_lib lib = CAB_LAZY_LIB_INIT(
    "libsqlite3.so.0", "apt-get install libsqlite3-0 (make deps)", syms, &api, NULL);

int
cab_sqlite_load(cab_error *err)
{
  return cab_lazy_load(&lib, err);
}

const struct cab_sqlite_api *
cab_sqlite(void)
{
  return cab_lazy_table(&lib);
}
