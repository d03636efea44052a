#include "common/lazy_archive.h"

#include <stddef.h>

#include "common/lazy_lib.h"

#define CAB_ARCHIVE_SYM(n) {"archive_" #n, offsetof(struct cab_archive_api, f_##n)},
static const struct cab_lazy_sym syms[] = {CAB_ARCHIVE_FUNCS(CAB_ARCHIVE_SYM)};
static struct cab_archive_api api;

static struct cab_lazy_lib lib = CAB_LAZY_LIB_INIT(
    "libarchive.so.13", "apt-get install libarchive13 (make deps)", syms, &api, NULL);

int
cab_archive_load(cab_error *err)
{
  return cab_lazy_load(&lib, err);
}

const struct cab_archive_api *
cab_archive(void)
{
  return cab_lazy_table(&lib);
}
