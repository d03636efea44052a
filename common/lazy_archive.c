#include "common/lazy_archive.h"

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>

#include "common/lazy_lib.h"

#define CAB_ARCHIVE_SYM(n) {"archive_" #n, offsetof(struct cab_archive_api, f_##n)},
static const struct cab_lazy_sym archive_syms[] = {CAB_ARCHIVE_FUNCS(CAB_ARCHIVE_SYM)};

/* Written once, under pthread_once, and only read after: the process's one
 * copy of libarchive, like a linked library's own. */
static pthread_once_t archive_once = PTHREAD_ONCE_INIT;
static struct {
  struct cab_archive_api api;
  int ok;
  char why[512];
} archive_loaded;

static void
load_archive(void)
{
  if (cab_lazy_open("libarchive.so.13", "apt-get install libarchive13 (make deps)", archive_syms,
                    sizeof archive_syms / sizeof *archive_syms, &archive_loaded.api, archive_loaded.why,
                    sizeof archive_loaded.why) < 0)
    return;
  archive_loaded.ok = 1;
}

int
cab_archive_load(cab_error *err)
{
  pthread_once(&archive_once, load_archive);
  if (!archive_loaded.ok)
    return cab_error_set(err, 0, "%s", archive_loaded.why);
  return 0;
}

const struct cab_archive_api *
cab_archive(void)
{
  pthread_once(&archive_once, load_archive);
  if (!archive_loaded.ok) {
    /* A use no cab_archive_load() guarded: still one line, still 125. */
    fprintf(stderr, "cab: %s\n", archive_loaded.why);
    _exit(CAB_EXIT_RUNNER);
  }
  return &archive_loaded.api;
}
