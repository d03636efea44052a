/* A word for sh (see shquote.h). */
#include "common/shquote.h"

#include <string.h>

void
cab_shell_quote(FILE *f, const char *s, bool always)
{
  if (!always && *s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                 "0123456789-_./:=@%+,") == strlen(s)) {
    fputs(s, f);
    return;
  }
  fputc('\'', f);
  for (; *s; s++) {
    if (*s == '\'')
      fputs("'\\''", f);
    else
      fputc(*s, f);
  }
  fputc('\'', f);
}
