#include "common/error.h"
#include "common/strfmt.h"

#include <stdio.h>
#include <string.h>

int
cab_error_set(cab_error *err, int errnum, const char *fmt, ...)
{
  if (err == NULL)
    return -1;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
  err->errnum = errnum;
  if (err->exit_code == 0)
    err->exit_code = CAB_EXIT_RUNNER;
  return -1;
}

int
cab_error_prefix(cab_error *err, const char *fmt, ...)
{
  if (err == NULL)
    return -1;
  char prefix[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(prefix, sizeof prefix, fmt, ap);
  va_end(ap);
  char old[sizeof err->message];
  memcpy(old, err->message, sizeof old);
  /* A message: when both do not fit, its end is cut (its start says what failed). */
  cab_snprintf_cut(err->message, sizeof err->message, "%s: %s", prefix, old);
  return -1;
}

const char *
cab_error_line(const cab_error *err, char *buf, unsigned long size)
{
  if (err->errnum != 0)
    snprintf(buf, size, "%s: %s", err->message, strerror(err->errnum));
  else
    snprintf(buf, size, "%s", err->message);
  return buf;
}
