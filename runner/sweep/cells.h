/* The cells of a sweep plan, in one deterministic order: tuis, then models,
 * then tasks (sorted), then runs 1..reruns.  Each cell has
 *
 *   key     its directory under OUT/<sweep_id>/, as run-cell names it:
 *           <tui>/<model>/<family>/<task>/run-<N>
 *   spec    sha256 of what decides its result (TUI and image, model,
 *           endpoint, wire, cassette digest, whether it records one,
 *           task.json digest, run, scoring, limits): the "plan hash" of this one cell.  A resumed sweep keeps
 *           a finished cell only when its spec is unchanged, so extending a
 *           plan (more reruns, tasks, models) runs only the new cells.
 *   weight  its expected duration in seconds (the task's timeout_s), for
 *           sharding. */
#ifndef CAB_RUNNER_SWEEP_CELLS_H
#define CAB_RUNNER_SWEEP_CELLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "runner/sweep/plan.h"

struct cab_sweep_cell {
  size_t tui, model, task; /* indexes into the plan */
  int run;
  char *key;
  const char *image;       /* --image, or NULL */
  bool host_rootfs;        /* --host-rootfs */
  const char *shown_image; /* what it runs in, for people: a ref or "host-rootfs" */
  int64_t weight;
  bool record;             /* records its cassette (its model's "record", a TUI
                              that talks to a model) */
  char replay_sha256[72];  /* the cassette `cab sweep --replay` gives it, or "" */
  char spec_sha256[72];
};

struct cab_sweep_cells {
  struct cab_sweep_cell *v;
  size_t n;
};

int cab_sweep_cells_build(const struct cab_sweep_plan *p, struct cab_sweep_cells *out,
                          cab_error *err);
void cab_sweep_cells_free(struct cab_sweep_cells *c);

/* C's spec again, after its replay_sha256 was set: a cell replayed from
 * another cassette is another cell. */
int cab_sweep_cell_respec(const struct cab_sweep_plan *p, struct cab_sweep_cell *c,
                          cab_error *err);

#endif
