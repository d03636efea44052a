/* Path globs with the task format's rules (task.json protected_paths,
 * refusal_docs, the scorers' path lists, sweep task patterns): Python's
 * fnmatch.fnmatch() on POSIX, as the reference scorers use it. */
#ifndef CAB_COMMON_GLOB_H
#define CAB_COMMON_GLOB_H

#include <stdbool.h>
#include <stddef.h>

/* Whole-string match of PATH against PATTERN: '*' and '?' also match '/',
 * a leading '.' is not special, '[...]' and '[!...]' sets (a ']' first in
 * the set is a member; an unclosed '[' is literal), no backslash escapes,
 * case sensitive, code points compared (invalid UTF-8 byte by byte).
 * Allocates nothing: it runs for every file of a workdir. */
bool cab_glob_match(const char *pattern, const char *path);

/* Any of the N patterns V matches PATH. */
bool cab_glob_any(char *const *v, size_t n, const char *path);

#endif
