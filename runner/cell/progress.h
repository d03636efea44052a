/* What a running cell shows on stderr: its phase (image, setup, agent,
 * verify, score), the time since it started and, from the agent on, the
 * model calls (turns) and tokens counted so far.
 *
 * LIVE (stderr is a terminal): one line redrawn about four times a second
 * by a thread of its own (common/ttyline.h), cleared by
 * cab_cell_progress_stop.  LINES (a pipe or file): one plain line per
 * phase change.  The cell reports its phases (cell.c) and, while the agent
 * runs, a source of the model counts (cell_sandbox.c reads its proxy's
 * totals: the proxy knows nothing of this).  A NULL reporter ignores every
 * call, so the cell needs no test before each. */
#ifndef CAB_RUNNER_CELL_PROGRESS_H
#define CAB_RUNNER_CELL_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

#include "common/error.h"

enum cab_cell_progress_mode {
  CAB_CELL_PROGRESS_LINES, /* one plain line per phase */
  CAB_CELL_PROGRESS_LIVE,  /* one live line on a terminal */
};

struct cab_cell_progress;

/* The model counts so far: turns (answered model calls) and tokens. */
typedef void cab_cell_progress_counts_fn(void *ctx, int64_t *turns, int64_t *tokens);

/* A reporter writing to OUT, naming the cell by LABEL (the task id).
 * Nothing is drawn before the first phase. */
int cab_cell_progress_new(enum cab_cell_progress_mode mode, FILE *out, const char *label,
                          struct cab_cell_progress **p, cab_error *err);

/* The cell entered PHASE (a static string). */
void cab_cell_progress_phase(struct cab_cell_progress *p, const char *phase);

/* While set (FN not NULL), the live line asks FN for the counts at each
 * redraw; cleared (FN NULL) before what FN reads goes away. */
void cab_cell_progress_source(struct cab_cell_progress *p, cab_cell_progress_counts_fn *fn,
                              void *ctx);

/* The counts as they ended (after the agent). */
void cab_cell_progress_counts(struct cab_cell_progress *p, int64_t turns, int64_t tokens);

/* Stop drawing, erase the live line, free P.  NULL is fine. */
void cab_cell_progress_free(struct cab_cell_progress *p);

#endif
