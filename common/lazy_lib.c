#include "common/lazy_lib.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int
open_table(struct cab_lazy_lib *lib)
{
  /* RTLD_LOCAL: nothing else in cab resolves against it by accident. */
  void *h = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
  if (h == NULL) {
    const char *e = dlerror();
    snprintf(lib->why, sizeof lib->why, "%s not found: %s (%s)", lib->soname, lib->install_hint,
             e ? e : "dlopen failed");
    return -1;
  }
  for (size_t i = 0; i < lib->n_syms; i++) {
    void *f = dlsym(h, lib->syms[i].name);
    if (f == NULL) {
      snprintf(lib->why, sizeof lib->why, "%s has no %s: too old; %s", lib->soname,
               lib->syms[i].name, lib->install_hint);
      dlclose(h);
      return -1;
    }
    memcpy((char *)lib->table + lib->syms[i].offset, &f, sizeof f);
  }
  if (lib->after_open && lib->after_open(lib->table, lib->why, sizeof lib->why) < 0)
    return -1;
  return 0; /* never closed: the table points into it for the process's life */
}

/* pthread_once with a state to keep: the first caller opens the library
 * under the mutex, later ones see the state without taking it. */
static int
load_once(struct cab_lazy_lib *lib)
{
  int st = atomic_load_explicit(&lib->state, memory_order_acquire);
  if (st != 0)
    return st;
  pthread_mutex_lock(&lib->mu);
  st = atomic_load_explicit(&lib->state, memory_order_relaxed);
  if (st == 0) {
    st = open_table(lib) == 0 ? 1 : -1;
    atomic_store_explicit(&lib->state, st, memory_order_release);
  }
  pthread_mutex_unlock(&lib->mu);
  return st;
}

int
cab_lazy_load(struct cab_lazy_lib *lib, cab_error *err)
{
  if (load_once(lib) < 0)
    return cab_error_set(err, 0, "%s", lib->why);
  return 0;
}

const void *
cab_lazy_table(struct cab_lazy_lib *lib)
{
  if (load_once(lib) < 0) {
    /* A use no cab_lazy_load guarded: still one line, still 125. */
    fprintf(stderr, "cab: %s\n", lib->why);
    _exit(CAB_EXIT_RUNNER);
  }
  return lib->table;
}
