/* Scratch a run owns only while it lives: its directory is named
 * PREFIX<pid>-XXXXXX (mkdtemp) and flock'ed for the run's whole life, so a
 * run killed with SIGKILL leaves a directory that the next run recognises as
 * dead (its pid is gone AND its lock is free: a reused pid only keeps the
 * directory longer, a live run's lock always protects it) and removes.
 * The pattern is the cgroups' (sandbox/cgroup.c: cleanup_stale), with the
 * lock added because a directory in a shared /tmp can outlive its pid. */
#ifndef CAB_RUNNER_LEFTOVERS_H
#define CAB_RUNNER_LEFTOVERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/* Make PARENT/PREFIX<pid>-XXXXXX (mode 0700) into PATH and hold its lock:
 * *LOCK is the fd to close when the directory is gone. */
int cab_owned_dir_make(const char *parent, const char *prefix, char *path, size_t size,
                       int *lock, cab_error *err);

/* Lock a directory made some other way (a staging directory must keep a
 * name its readers know) for the run's life: -1 when it cannot. */
int cab_owned_dir_lock(const char *path);

/* Remove PATH, made by cab_owned_dir_make with LOCK, after the caller has
 * gone on: a detached process holding LOCK (so that no reaper touches the
 * directory meanwhile) removes it and exits, and LOCK is closed here.  For a
 * run's layer once the run is over: on a disk file system its removal waits
 * for the file system (a synchronous discard per freed block with
 * -o discard), which the caller's exit need not wait for.  Killed before it
 * is done, it leaves a directory with a free lock and a dead pid, which the
 * next reap removes.  Without a process to spare, the removal is done here. */
void cab_owned_dir_remove_behind(const char *path, int lock);

struct cab_reaped {
  size_t entries;
  int64_t bytes; /* counted only when asked: it walks the trees */
};

/* One readdir of PARENT: remove each directory whose name starts with one
 * of PREFIXES (NULL-terminated) and ends in -<pid>-XXXXXX, when it is ours
 * (our euid), its pid is dead and its lock is free.  Failures are ignored:
 * this is housekeeping, and the next run tries again. */
void cab_owned_dirs_reap(const char *parent, const char *const *prefixes, bool count_bytes,
                         struct cab_reaped *r);

/* TMPDIR, else /tmp: where cells and execs keep their scratch, named
 * CAB_SCRATCH_CELL or CAB_SCRATCH_EXEC (cab_scratch_prefixes, for a reap). */
const char *cab_scratch_parent(void);
#define CAB_SCRATCH_CELL "cab-cell-"
#define CAB_SCRATCH_EXEC "cab-exec-"
extern const char *const cab_scratch_prefixes[];

#endif
