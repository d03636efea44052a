/* Workdir snapshots as git trees (libgit2) in a bare object store that lives
 * OUTSIDE the workdir, where the agent can neither see nor alter it.
 *
 * A snapshot records every regular file (content and executable bit),
 * symlink (its target), hidden file and binary below the workdir.  Empty
 * directories are not recorded (git trees cannot hold them), nor are
 * sockets, fifos and devices.  A directory entry named exactly ".git" (a
 * directory or a gitfile) is not descended into: its path is recorded in the
 * snapshot's commit message instead, so a later diff can tell that the agent
 * created one (extra_git_dir).  Unreadable files and directories are stored
 * as a placeholder blob ("cab: unreadable ...") so that they still show as
 * changed.  Nothing is ever written into the workdir.
 *
 * A snapshot is a commit (fixed author and time, so its id depends only on
 * the tree and the .git list) and is also kept as refs/cab/<label>.  The
 * objects the store lacks are written as one undeltified packfile per
 * snapshot (files over 1 MiB as streamed loose objects).  Measured on this
 * project's CI VM: a 1000-file workdir takes ~110-180 ms for the first
 * snapshot into an empty store, ~40-70 ms when the store already holds it
 * (the walk is syscall-bound), a 20-file one 1-10 ms; diff + patch ~2 ms.
 * A store shared by many cells (e.g. one per sweep) dedups the pristine
 * task trees; give such cells distinct labels (or NULL) and keep the ids.
 *
 * Diffing two snapshots gives the change list the scorers use (added,
 * removed, modified with content/mode/type kinds, binary flag; no rename
 * detection: a rename is a removal and an addition) and a unified
 * diff.patch (binary files as "Binary files ... differ"). */
#ifndef CAB_RUNNER_SNAPSHOT_H
#define CAB_RUNNER_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "runner/record/changes.h"

struct cab_snapshot_store;

struct cab_snapshot {
  char id[41];          /* commit id (hex) */
  char tree[41];        /* tree id (hex) */
  size_t n_files;       /* files and symlinks recorded */
  size_t n_git_dirs;    /* .git entries found (not descended) */
  int64_t elapsed_us;
};

/* Open (creating if needed) the bare store at STORE_DIR.  Refused when
 * STORE_DIR is inside WORKDIR (pass NULL to skip the check). */
int cab_snapshot_store_open(const char *store_dir, const char *workdir,
                            struct cab_snapshot_store **out, cab_error *err);
void cab_snapshot_store_close(struct cab_snapshot_store *s);

/* Snapshot WORKDIR; LABEL (e.g. "before", "after") names the ref, may be NULL. */
int cab_snapshot_take(struct cab_snapshot_store *s, const char *workdir, const char *label,
                      struct cab_snapshot *out, cab_error *err);

/* Diff snapshot OLD_ID -> NEW_ID (commit ids or refs/cab/<label> names).
 * Fills CHANGES (caller frees with cab_change_list_free) and, if PATCH is not
 * NULL, a malloc'd unified diff in *PATCH / *PATCH_LEN. */
int cab_snapshot_diff(struct cab_snapshot_store *s, const char *old_id, const char *new_id,
                      struct cab_change_list *changes, char **patch, size_t *patch_len,
                      cab_error *err);

/* The .git paths recorded in snapshot ID (caller clears the list). */
int cab_snapshot_git_dirs(struct cab_snapshot_store *s, const char *id, struct cab_strv *out,
                          cab_error *err);

#endif
