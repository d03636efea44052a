#include "common/lazy_lib.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

int
cab_lazy_open(const char *soname, const char *install_hint, const struct cab_lazy_sym *syms,
              size_t n_syms, void *table, char *why, size_t why_size)
{
  /* RTLD_LOCAL: nothing else in cab resolves against it by accident. */
  void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  if (h == NULL) {
    const char *e = dlerror();
    snprintf(why, why_size, "%s not found: %s (%s)", soname, install_hint, e ? e : "dlopen failed");
    return -1;
  }
  for (size_t i = 0; i < n_syms; i++) {
    void *f = dlsym(h, syms[i].name);
    if (f == NULL) {
      snprintf(why, why_size, "%s has no %s: too old; %s", soname, syms[i].name, install_hint);
      dlclose(h);
      return -1;
    }
    memcpy((char *)table + syms[i].offset, &f, sizeof f);
  }
  return 0; /* never closed: the table points into it for the process's life */
}
