/* A sweep plan: which cells to run (tuis x models x tasks x reruns) and how
 * (concurrency limits, retries, per-cell limits).  JSON, every key checked:
 *
 *   sweep_id        required; letters, digits, '.', '_', '-'
 *   scoring         scoring profile (default codingagentbench-v0.1)
 *   reruns          runs per cell, --run 1..reruns (default 1)
 *   tuis            required, [{tui, image?}]; a TUI without an image runs in
 *                   the plan's "image", else on the host's / when
 *                   host_rootfs, else in the task's or the adapter's image
 *   models          required, [{model, endpoint?, key_env?, endpoint_wire?
 *                   (chat|responses|anthropic), replay? (a cassette: offline
 *                   cells), record? (true: each cell that talks to the model
 *                   records its cassette, OUT/<sweep_id>/.sweep/cassettes/
 *                   <key>.attempt-N.jsonl, named in the journal, for
 *                   `cab sweep --replay`), model_retries?, max_concurrency?}]
 *   tasks           required, [id or glob] over the tasks directory (globs as
 *                   the task module's: Python fnmatch, '*' crosses '/')
 *   host_rootfs     bool (default false)
 *   image           image for TUIs that name none
 *   max_concurrency cells at once, at most (default: no plan limit)
 *   endpoint_max_concurrency  a number (for each endpoint) or {url: number}
 *   retries         {infra: N (default 0), backoff_s: S (default 2)}
 *   memory          per cell, "4G" or bytes (default 4G, run-cell's)
 *   cpus            per cell (default none)
 *   tasks_dir       default $CAB_TASKS_DIR or the bundled tasks
 *   ramp_up_s       concurrency grows by one every S seconds (default 0.5)
 *   require         the protection every cell needs, as run-cell's --require:
 *                   "namespaces,seccomp,cgroup" or ["namespaces", ...]
 *                   (default namespaces,seccomp; "none": nothing)
 *
 * Relative paths (tasks_dir, replay) are relative to the plan's directory.
 * Every error is one line naming the file and the key path:
 *   plan.json: models[1].max_concurrency: expected a positive integer */
#ifndef CAB_RUNNER_SWEEP_PLAN_H
#define CAB_RUNNER_SWEEP_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "runner/record/protection.h"
#include "runner/task/task.h"

#define CAB_SWEEP_PLAN_MAX (16 << 20)

struct cab_sweep_tui {
  char *tui;
  char *image;         /* as the plan gives it, or NULL */
  /* cab_sweep_plan_resolve: */
  char *adapter_image; /* the adapter's default image, or NULL */
  bool needs_model;    /* the adapter speaks to a model (wire != none) */
};

struct cab_sweep_model {
  char *model;
  char *endpoint, *key_env, *endpoint_wire, *replay; /* NULL when not given */
  long max_concurrency;                              /* 0: no limit */
  long model_retries;                                /* -1: run-cell's default */
  bool record;                                       /* record each cell's cassette */
  char replay_sha256[72];                            /* resolve: the cassette's digest */
};

struct cab_sweep_endpoint_limit {
  char *endpoint;
  long max;
};

struct cab_sweep_task_info {
  char *id;
  long timeout_s;
  char *image;         /* the task's own image, or NULL */
  char sha256[72];     /* of task.json: a changed task is a changed cell */
};

struct cab_sweep_plan {
  char *origin; /* the plan's path as given, for messages */
  char plan_sha256[72];
  char *sweep_id, *scoring;
  long reruns;
  struct cab_sweep_tui *tuis;
  size_t n_tuis;
  struct cab_sweep_model *models;
  size_t n_models;
  char **task_patterns;
  size_t n_task_patterns;
  bool host_rootfs;
  char *image;
  long max_concurrency;   /* 0: none */
  long endpoint_max_each; /* 0: none */
  struct cab_sweep_endpoint_limit *endpoint_limits;
  size_t n_endpoint_limits;
  long retries_infra;
  double backoff_s, ramp_up_s;
  int64_t memory_bytes;
  double cpus; /* 0: none */
  char *tasks_dir; /* NULL: the default root */
  cab_protection_set require; /* each cell's --require */
  /* cab_sweep_plan_resolve: the tasks, expanded and loaded, sorted by id */
  struct cab_sweep_task_info *tasks;
  size_t n_tasks;
};

/* Parse and check plan TEXT.  ORIGIN names it in errors; BASE_DIR anchors
 * relative paths (NULL: the current directory).  No file is touched. */
int cab_sweep_plan_parse(const char *text, size_t len, const char *origin, const char *base_dir,
                         struct cab_sweep_plan **out, cab_error *err);

/* Read PATH, then cab_sweep_plan_parse and cab_sweep_plan_resolve. */
int cab_sweep_plan_load(const char *path, struct cab_sweep_plan **out, cab_error *err);

/* What needs the filesystem: the TUIs' adapters, the scoring profile, the
 * replay cassettes, the tasks (patterns expanded, each task.json loaded),
 * and that every cell has somewhere to run. */
int cab_sweep_plan_resolve(struct cab_sweep_plan *p, cab_error *err);

/* Expand PATTERNS (ids or globs) over ALL (sorted ids) into OUT: sorted,
 * each id once.  A pattern matching nothing is an error naming
 * "ORIGIN: tasks[i]". */
int cab_sweep_expand_tasks(char *const *patterns, size_t n, const struct cab_strv *all,
                           const char *origin, const char *tasks_root, struct cab_strv *out,
                           cab_error *err);

/* "sha256:<hex>" of the file at PATH (a cassette: at most 1 GiB). */
int cab_sweep_file_sha256(const char *path, char *out, cab_error *err);

/* The endpoint limit for ENDPOINT (NULL: none), 0 when unlimited. */
long cab_sweep_plan_endpoint_limit(const struct cab_sweep_plan *p, const char *endpoint);

void cab_sweep_plan_free(struct cab_sweep_plan *p);

#endif
