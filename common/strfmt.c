/* snprintf that fails instead of cutting (common/strfmt.h). */
#include "common/strfmt.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

static int
vformat_whole(char *buf, size_t size, const char *fmt, va_list ap)
{
  int n = vsnprintf(buf, size, fmt, ap);
  if (n < 0)
    return -1;
  if ((size_t)n >= size) {
    errno = ENAMETOOLONG;
    return -1;
  }
  return 0;
}

int
cab_snprintf_checked(char *buf, size_t size, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int rc = vformat_whole(buf, size, fmt, ap);
  va_end(ap);
  return rc;
}

int
cab_path_printf(char *buf, size_t size, cab_error *err, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int rc = vformat_whole(buf, size, fmt, ap);
  va_end(ap);
  if (rc == 0)
    return 0;
  if (errno != ENAMETOOLONG)
    return cab_error_sys(err, "format a path");
  return cab_error_set(err, ENAMETOOLONG, "%.*s...: path longer than %zu bytes", 200, buf,
                       size - 1);
}

void
cab_snprintf_cut(char *buf, size_t size, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, size, fmt, ap);
  va_end(ap);
}
