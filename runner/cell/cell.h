/* One CodingAgentBench cell, end to end: image -> task copy -> snapshot ->
 * agent in the sandbox (model network through cab's proxy) -> snapshot ->
 * verify in a fresh sandbox -> score -> cell.json and artifacts.  The cell
 * directory appears whole or not at all: it is built in a staging sibling
 * and renamed into place. */
#ifndef CAB_RUNNER_CELL_H
#define CAB_RUNNER_CELL_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/error.h"
#include "runner/cell/progress.h"
#include "runner/record/protection.h"
#include "scorers/axes.h"

struct cab_cell_options {
  const char *tui;          /* adapter name */
  const char *model;        /* model id, e.g. openai/gpt-oss-120b */
  const char *task_id;      /* family/name */
  const char *image;        /* NULL: the task's, else the adapter's */
  bool host_rootfs;         /* run agent and verifier on the host's / */
  const char *endpoint;     /* NULL: $CAB_ENDPOINT */
  const char *key_env;      /* NULL: CAB_KEY */
  int endpoint_wire;        /* enum cab_wire the endpoint speaks (0: chat) */
  const char *sweep_id;     /* NULL: local-YYYYMMDD */
  int run;                  /* 0: no run-N/ level */
  const char *out_dir;      /* NULL: ./results */
  const char *tasks_dir;    /* NULL: $CAB_TASKS_DIR or the bundled tasks */
  const char *record;       /* cassette to write */
  const char *replay;       /* cassette to answer from */
  bool replay_exact;        /* --replay-match hash: a differing request is a miss */
  const char *scoring;      /* profile name or path; NULL: default */
  int model_retries;
  int64_t memory_bytes;     /* 0: the default (runner/task/limits.h) */
  int64_t pids;             /* 0: the default */
  double cpus;              /* 0: the default, no cpu limit */
  const char *cgroup_parent; /* a pre-created, writable cgroup for the cells'
                                sandboxes (NULL: cab's own) */
  bool verbose;             /* show the agent's terminal live */
  long timeout_s;           /* the agent's timeout; 0: the task's timeout_s */
  long max_turns;           /* the agent's turn budget; 0: the task's max_turns */
  struct cab_cell_progress *progress; /* the phase line (progress.h); NULL: none */
  bool dry_run;             /* after the checks, describe what would run
                               (cab_cell_summary.dry_run_json): nothing run,
                               nothing written */
  bool preflight;           /* stop after the checks before any work (a sweep's
                               --require check): nothing run, nothing written */
  cab_protection_set require; /* --require: refused before the cell when this host
                                 would not give it, infra_error when the run did
                                 not (the CLI's default: namespaces, seccomp) */
};

struct cab_cell_summary {
  char cell_dir[PATH_MAX];
  char cell_id[1024];
  char outcome[16];
  char outcome_reason[512];
  int agent_exit_code;
  double pass, blast; /* 0 when absent: what `cab tasks validate` checks */
  char scores_strip[512]; /* the axes' part of the strip (scorers/axes.h) */
  struct cab_num axes[CAB_AXES_MAX]; /* each axis's headline figure, in the
                                        table's order (cab_axes[]) */
  char *dry_run_json;     /* --dry-run: what would run, JSON text with the
                             real key replaced (malloc'd; the caller frees) */
};

/* run-cell's exit code for a cell recorded as infra_error: the cell is
 * written but is no measurement, so a CI must not read it as one (0) nor as
 * cab failing (125).  3: below podman's 125-127 and the shells' 128+N, and
 * clear of 1 (any failure) and 2 (usage errors, by convention). */
#define CAB_CELL_EXIT_INFRA 3

/* Run the cell.  Returns 0 when a cell.json was written (whatever its
 * outcome), -1 with ERR when not even that was possible (bad options, an
 * unknown TUI or task...) or when a stop signal interrupted it (ERR's
 * exit_code is then 128+N; nothing is recorded, nothing left behind). */
int cab_cell_run(const struct cab_cell_options *o, struct cab_cell_summary *sum, cab_error *err);

/* The "Per-axis scores" strip, as the cell page shows it. */
void cab_cell_print_strip(const struct cab_cell_summary *sum, FILE *out);

#endif
