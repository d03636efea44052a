/* Where cab keeps a user's own files when no directory is given: the data
 * directory (the image store) and the caches beside it.  One lookup for
 * every part, so that a user without a usable HOME (a CI runner's or an HPC
 * service account's /home/USER that does not exist) still gets a cache
 * wherever the store itself lives.
 *
 * The data directory: $CAB_HOME, else $XDG_DATA_HOME/cab, else
 * ${HOME:-the passwd entry's home}/.local/share/cab.
 *
 * A cache directory SUB: the first of $XDG_CACHE_HOME/cab/SUB,
 * $HOME/.cache/cab/SUB and <data directory>/cache/SUB that exists or can be
 * made, made 0700 (an older one of ours tightened).  A directory that is
 * someone else's is used as it is: what is read from a cache must still be
 * checked to be the caller's own (cab_read_file's CAB_READ_OWN). */
#ifndef CAB_COMMON_USERDIR_H
#define CAB_COMMON_USERDIR_H

#include <stddef.h>

#include "common/error.h"

/* The data directory into BUF; an error when no variable or passwd entry
 * says where. */
int cab_user_data_dir(char *buf, size_t size, cab_error *err);

/* The cache directory SUB ("seccomp"; NULL: cab's cache directory itself),
 * made if missing, into BUF; an error saying what to set when none can be
 * used. */
int cab_user_cache_dir(const char *sub, char *buf, size_t size, cab_error *err);

#endif
