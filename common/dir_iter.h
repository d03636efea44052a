/* Iterating a directory by fd, with each entry's path relative to the top
 * of a walk: the loop that recursive walks (tree copies, protected-path
 * scans, pruning) share. */
#ifndef CAB_COMMON_DIR_ITER_H
#define CAB_COMMON_DIR_ITER_H

#include <dirent.h>
#include <stddef.h>

#include "common/error.h"

/* A DIR stream on a duplicate of directory fd FD, which stays open and the
 * caller's; REL names the directory in errors ("" for the top). */
int cab_dir_open_fd(int fd, const char *rel, DIR **out, cab_error *err);

/* The next entry of D but "." and "..", in *DE, with REL/NAME (NAME alone
 * when REL is "") in SUB.  1 for an entry, 0 at the end, -1 when the path
 * does not fit in SIZE. */
int cab_dir_next(DIR *d, const char *rel, struct dirent **de, char *sub, size_t size,
                 cab_error *err);

#endif
