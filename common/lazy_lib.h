/* A shared library opened at first use (dlopen), its functions looked up
 * into a table of pointers, so that a cab process maps a heavy library
 * (libcurl, libmicrohttpd, libarchive, SQLite and the ~30 libraries they
 * pull in) only when it uses it.  common/lazy_<lib>.{c,h} are the users:
 * each holds one `struct cab_lazy_lib` and its table. */
#ifndef CAB_COMMON_LAZY_LIB_H
#define CAB_COMMON_LAZY_LIB_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "common/error.h"

struct cab_lazy_sym {
  const char *name;  /* the library's symbol, e.g. "curl_easy_init" */
  size_t offset;     /* where its pointer goes in the table */
};

/* One library.  Filled once, by the first cab_lazy_load (any thread; the
 * others wait for it), and only read after: the process's one copy, like
 * the library's own global state. */
struct cab_lazy_lib {
  const char *soname;        /* "libcurl.so.4" */
  const char *install_hint;  /* "apt-get install libcurl4 (make deps)" */
  const struct cab_lazy_sym *syms;
  size_t n_syms;
  void *table;
  /* Run once the table is full (curl_global_init); NULL: nothing.  Returns
   * 0, or -1 with one line in WHY. */
  int (*after_open)(const void *table, char *why, size_t why_size);
  pthread_mutex_t mu;
  atomic_int state;  /* 0 not tried, 1 loaded, -1 failed (why says why) */
  char why[512];
};

#define CAB_LAZY_LIB_INIT(soname, hint, syms, table, after)                                     \
  {(soname), (hint), (syms), sizeof(syms) / sizeof *(syms), (table), (after),                  \
   PTHREAD_MUTEX_INITIALIZER, 0, ""}

/* Open LIB and fill its table, once per process.  Returns 0, or -1 with
 * "SONAME not found: INSTALL_HINT (dlerror)" or the missing symbol in ERR;
 * a failure is final (the same line every time). */
int cab_lazy_load(struct cab_lazy_lib *lib, cab_error *err);

/* LIB's table, opened first if no one has: for the calls, after a
 * cab_lazy_load that a caller may have skipped.  If the library cannot be
 * opened, prints that line and ends the process with 125. */
const void *cab_lazy_table(struct cab_lazy_lib *lib);

#endif
