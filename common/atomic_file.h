/* A file written in full before anyone sees it: an unnamed file in the
 * target's directory (O_TMPFILE), given its name only once it is complete
 * and fsynced.  A writer killed half-way (SIGKILL, a full disk, RLIMIT_FSIZE)
 * leaves nothing behind and the old file, if any, untouched.  Where the file
 * system has no O_TMPFILE, a named "PATH.tmp.XXXXXX" sibling stands in (then
 * a kill can leave that sibling, never a half PATH). */
#ifndef CAB_COMMON_ATOMIC_FILE_H
#define CAB_COMMON_ATOMIC_FILE_H

#include <limits.h>
#include <sys/types.h>

#include "common/error.h"

struct cab_atomic_file {
  int fd;                /* write here */
  char path[PATH_MAX];   /* the name it gets */
  char tmp[PATH_MAX];    /* the named stand-in, or "" for an unnamed file */
};

/* Open an empty file that will become PATH with MODE. */
int cab_atomic_open(const char *path, mode_t mode, struct cab_atomic_file *f, cab_error *err);
/* fsync it and give it its name (replacing PATH atomically); closes F. */
int cab_atomic_commit(struct cab_atomic_file *f, cab_error *err);
/* Drop it (nothing is named); closes F.  Safe after a commit or twice. */
void cab_atomic_abort(struct cab_atomic_file *f);

#endif
