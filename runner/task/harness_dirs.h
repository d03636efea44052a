/* The harness's own directories.  A directory that a hidden layer
 * contributes and the pristine workdir lacks (the integrity graders'
 * .cab/) belongs to the harness whole: a grader run from it has it first on
 * sys.path (or its language's equivalent), so any file the agent leaves
 * there (.cab/hashlib.py, a sitecustomize.py, a conftest.py, an __init__.py,
 * a .pth) would run as the grader.  The verify copy drops whatever the
 * agent put at such a path before the hidden layers are overlaid
 * (cab_task_prune_harness_dirs), and the verifier binds the directory
 * read-only whole (runner/cell/protected_binds.c), so code the grader runs
 * cannot add a module there either.
 *
 * A directory the pristine workdir has too is mixed: the hidden files in
 * it are bound read-only one by one, and what the agent adds beside them is
 * the task author's to restore through protected_paths (tasks/README.md). */
#ifndef CAB_RUNNER_TASK_HARNESS_DIRS_H
#define CAB_RUNNER_TASK_HARNESS_DIRS_H

#include <stdbool.h>

#include "common/error.h"
#include "runner/task/task.h"

/* A task's trees as directory fds, -1 for an absent one. */
struct cab_task_layers {
  int hidden[CAB_TASK_HIDDEN_LAYERS]; /* cab_task_hidden_path, bottom first */
  int pristine;                       /* workdir/ */
};

/* Open T's hidden layers and pristine workdir (a task without a directory
 * has none); no symlink is followed at the last component, as the overlay
 * does not follow one.  Close with cab_task_layers_close. */
int cab_task_layers_open(const struct cab_task *t, struct cab_task_layers *out, cab_error *err);
void cab_task_layers_close(struct cab_task_layers *l);

bool cab_task_layers_any_hidden(const struct cab_task_layers *l);

/* Whether REL (relative to the workdir) is a directory of a hidden layer
 * and not a directory of the pristine workdir. */
bool cab_task_harness_dir(const struct cab_task_layers *l, const char *rel);

/* Remove from DEST (a verify copy, before the hidden layers are overlaid)
 * every harness directory whole, whatever it holds or is (a symlink is
 * removed, never followed). */
int cab_task_prune_harness_dirs(const struct cab_task *t, const char *dest, cab_error *err);

#endif
