/* A shared library opened at first use (dlopen), its functions looked up
 * into a table of pointers, so that a cab process maps a heavy library
 * (libcurl, libmicrohttpd: 30 more libraries with their dependencies) only
 * when it uses it.  common/lazy_curl.h and common/lazy_mhd.h are the two
 * users. */
#ifndef CAB_COMMON_LAZY_LIB_H
#define CAB_COMMON_LAZY_LIB_H

#include <stddef.h>

struct cab_lazy_sym {
  const char *name;  /* the library's symbol, e.g. "curl_easy_init" */
  size_t offset;     /* where its pointer goes in the table */
};

/* dlopen SONAME and fill TABLE with every symbol of SYMS.  On failure
 * writes one line to WHY ("SONAME not found: INSTALL_HINT" or the missing
 * symbol) and returns -1; the library is closed again. */
int cab_lazy_open(const char *soname, const char *install_hint, const struct cab_lazy_sym *syms,
                  size_t n_syms, void *table, char *why, size_t why_size);

#endif
