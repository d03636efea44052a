#include "common/lazy_mhd.h"

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>

#include "common/lazy_lib.h"

#define CAB_MHD_SYM(n) {"MHD_" #n, offsetof(struct cab_mhd_api, n)},
static const struct cab_lazy_sym mhd_syms[] = {CAB_MHD_FUNCS(CAB_MHD_SYM)};

/* Written once, under pthread_once, and only read after: the process's one
 * copy of libmicrohttpd, like a linked library's own. */
static pthread_once_t mhd_once = PTHREAD_ONCE_INIT;
static struct {
  struct cab_mhd_api api;
  int ok;
  char why[512];
} mhd_loaded;

static void
load_mhd(void)
{
  if (cab_lazy_open("libmicrohttpd.so.12", "apt-get install libmicrohttpd12 (make deps)", mhd_syms,
                    sizeof mhd_syms / sizeof *mhd_syms, &mhd_loaded.api, mhd_loaded.why,
                    sizeof mhd_loaded.why) < 0)
    return;
  mhd_loaded.ok = 1;
}

int
cab_mhd_load(cab_error *err)
{
  pthread_once(&mhd_once, load_mhd);
  if (!mhd_loaded.ok)
    return cab_error_set(err, 0, "%s", mhd_loaded.why);
  return 0;
}

const struct cab_mhd_api *
cab_mhd(void)
{
  pthread_once(&mhd_once, load_mhd);
  if (!mhd_loaded.ok) {
    /* A use no cab_mhd_load() guarded: still one line, still 125. */
    fprintf(stderr, "cab: %s\n", mhd_loaded.why);
    _exit(CAB_EXIT_RUNNER);
  }
  return &mhd_loaded.api;
}
