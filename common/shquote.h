/* A word for sh: printed so that the shell reads it back as it is. */
#ifndef CAB_COMMON_SHQUOTE_H
#define CAB_COMMON_SHQUOTE_H

#include <stdbool.h>
#include <stdio.h>

/* S to F in single quotes (' becomes '\''); unless ALWAYS, bare when it
 * holds only characters sh takes literally (letters, digits, -_./:=@%+,). */
void cab_shell_quote(FILE *f, const char *s, bool always);

#endif
