#include "common/lazy_curl.h"

#include <stddef.h>
#include <stdio.h>

#include "common/lazy_lib.h"

#define CAB_CURL_SYM(n) {"curl_" #n, offsetof(struct cab_curl_api, n)},
static const struct cab_lazy_sym syms[] = {CAB_CURL_FUNCS(CAB_CURL_SYM)};
static struct cab_curl_api api;

/* libcurl's global state, once, before any of its calls. */
static int
init_curl(const void *table, char *why, size_t why_size)
{
  const struct cab_curl_api *t = table;
  if (t->global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK)
    return 0;
  snprintf(why, why_size, "libcurl.so.4: curl_global_init failed");
  return -1;
}

static struct cab_lazy_lib lib = CAB_LAZY_LIB_INIT(
    "libcurl.so.4", "apt-get install libcurl4 (make deps)", syms, &api, init_curl);

int
cab_curl_load(cab_error *err)
{
  return cab_lazy_load(&lib, err);
}

const struct cab_curl_api *
cab_curl(void)
{
  return cab_lazy_table(&lib);
}
