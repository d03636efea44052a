/* snprintf that fails instead of cutting.
 *
 * A path, a name, a key or a command cut short names something else (a
 * sibling directory, another file, another cell), so where a formatted
 * string is used as one of those, a result that does not fit is an error,
 * never a shorter string.  Where a cut is harmless (a message, a label, a log
 * line, all read by people) the caller says so with cab_snprintf_cut. */
#ifndef CAB_COMMON_STRFMT_H
#define CAB_COMMON_STRFMT_H

#include <stddef.h>

#include "common/error.h"

/* The word for N things, ONE or MANY: "1 cell", "2 cells", "0 cells". */
static inline const char *
cab_plural(unsigned long long n, const char *one, const char *many)
{
  return n == 1 ? one : many;
}

/* Format into BUF (SIZE bytes).  Returns 0, or -1 with errno ENAMETOOLONG
 * when the result does not fit (BUF then holds the cut string: never use
 * it), for callers that report errors through errno. */
int cab_snprintf_checked(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* cab_snprintf_checked for a path, filling ERR on failure with ENAMETOOLONG
 * and "START...: path longer than SIZE-1 bytes" (START: its first 200
 * bytes).  Returns 0 or -1. */
int cab_path_printf(char *buf, size_t size, cab_error *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Format into BUF, cutting what does not fit: only for text read by people
 * (a message, a label, a log line), never for a path, name, key or command.
 * The name is the point: it says at the call that a cut is accepted. */
void cab_snprintf_cut(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
