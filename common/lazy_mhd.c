#include "common/lazy_mhd.h"

#include <stddef.h>

#include "common/lazy_lib.h"

#define CAB_MHD_SYM(n) {"MHD_" #n, offsetof(struct cab_mhd_api, n)},
static const struct cab_lazy_sym syms[] = {CAB_MHD_FUNCS(CAB_MHD_SYM)};
static struct cab_mhd_api api;

static struct cab_lazy_lib lib = CAB_LAZY_LIB_INIT(
    "libmicrohttpd.so.12", "apt-get install libmicrohttpd12 (make deps)", syms, &api, NULL);

int
cab_mhd_load(cab_error *err)
{
  return cab_lazy_load(&lib, err);
}

const struct cab_mhd_api *
cab_mhd(void)
{
  return cab_lazy_table(&lib);
}
