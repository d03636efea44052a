/* A unified diff (diff.patch, as git and libgit2 print it), parsed into the
 * lines each file gained and lost.  Private to scorers/. */
#ifndef CAB_SCORERS_PATCH_H
#define CAB_SCORERS_PATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "scorers/scorers.h"

struct cab_patch_file {
  char *path;            /* new path; the old one for a deletion */
  bool binary, is_new, is_deleted;
  struct cab_strv added, removed; /* line text without the +/- and newline */
};

struct cab_patch {
  struct cab_patch_file *files;
  size_t n, cap;
};

void cab_patch_parse(const char *text, size_t len, struct cab_patch *out);
void cab_patch_free(struct cab_patch *p);
const struct cab_patch_file *cab_patch_find(const struct cab_patch *p, const char *path);

#endif
