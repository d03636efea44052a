/* Where cab finds its data files: agent adapters, tasks and scoring
 * profiles.  One search order for every kind, first hit wins:
 *
 *   1. the kind's environment variable, when set and not empty
 *      ($CAB_ADAPTERS_DIR, $CAB_TASKS_DIR, $CAB_PROFILE_DIR), then
 *      $CAB_DATA_DIR/<kind> (adapters, tasks, profiles: a share/cab tree,
 *      one variable for all three);
 *   2. beside the executable, as a build tree has it:
 *      <dir of cab>/../<the source folder> (runner/adapters, tasks,
 *      scorers/profiles), unless <dir of cab>/../share/cab exists: an
 *      install never reads a build-tree layout (with PREFIX=$HOME,
 *      $HOME/tasks is the user's own);
 *   3. beside the executable, as an install has it (make install):
 *      <dir of cab>/../share/cab/<kind> (adapters, tasks, profiles), so
 *      /usr/local/bin/cab reads /usr/local/share/cab/.  Relative to the
 *      executable, not a path compiled in, so that a DESTDIR stage or a
 *      moved package reads its own tree.
 *
 * Never the current directory: what cab runs and how it scores must not
 * depend on where it was started.  A path given explicitly (--tasks-dir,
 * --profile FILE.json) is the caller's business, not a lookup. */
#ifndef CAB_COMMON_DATADIR_H
#define CAB_COMMON_DATADIR_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

enum cab_datadir_kind {
  CAB_DATA_ADAPTERS,
  CAB_DATA_TASKS,
  CAB_DATA_PROFILES,
};

#define CAB_DATADIR_MAX 4     /* candidates per kind */
#define CAB_DATADIR_ENV "CAB_DATA_DIR" /* a share/cab tree, for every kind */
#define CAB_DATADIR_PATH 4096 /* bytes per candidate */

/* The candidate directories of KIND in search order, whether they exist or
 * not (but 2. only where there is no share/cab); returns how many (0 when
 * no variable is set and /proc/self/exe cannot be read).  A candidate
 * beside cab that would not fit is left out; a variable that would not
 * fit ends the list there. */
size_t cab_datadir_candidates(enum cab_datadir_kind kind,
                              char dirs[CAB_DATADIR_MAX][CAB_DATADIR_PATH]);

/* The path of NAME (a file name) in the first candidate that has it
 * readable, in BUF.  Returns -1 when none has. */
int cab_datadir_find(enum cab_datadir_kind kind, const char *name, char *buf, size_t size);

/* The directory of KIND for a caller that needs one (the tasks root): the
 * first variable's (the kind's, else $CAB_DATA_DIR/<kind>) when one is
 * set, existing or not; else the first candidate
 * that is a directory, else the first candidate (so that an error names
 * where it looked).  Returns -1 when there is no candidate at all. */
int cab_datadir_dir(enum cab_datadir_kind kind, char *buf, size_t size);

/* The kind's environment variable ("CAB_TASKS_DIR"), for messages. */
const char *cab_datadir_env(enum cab_datadir_kind kind);

/* Whether any candidate of KIND is a directory: false for a cab copied
 * without its data (cp build/cab /usr/local/bin), which the caller says
 * with cab_datadir_missing rather than list nothing. */
bool cab_datadir_present(enum cab_datadir_kind kind);

/* The way to give cab its data of KIND, for a message (BUF, cut to SIZE):
 * "'make install PREFIX=DIR' puts the tasks in ... or set CAB_DATA_DIR". */
void cab_datadir_hint(enum cab_datadir_kind kind, char *buf, size_t size);

/* ERR: "WHAT: cab has no <kind> (looked in <the candidates>); <the hint>".
 * Returns -1. */
int cab_datadir_missing(enum cab_datadir_kind kind, cab_error *err, const char *what);

#endif
