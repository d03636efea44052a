/* Shared between the files of runner/sweep/: one running sweep. */
#ifndef CAB_RUNNER_SWEEP_INTERNAL_H
#define CAB_RUNNER_SWEEP_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"
#include "common/ttyline.h"
#include "runner/sweep/cells.h"
#include "runner/sweep/journal.h"
#include "runner/sweep/plan.h"
#include "runner/sweep/sweep.h"

enum sweep_state {
  SC_PENDING, /* to run (attempt) */
  SC_WAITING, /* an attempt failed; the next one waits until not_before */
  SC_RUNNING,
  SC_DONE,    /* final: outcome says how */
};

struct sweep_cell {
  const struct cab_sweep_cell *c;
  enum sweep_state st;
  int attempt;       /* the attempt running or to run next, from 1 */
  int runner_errors; /* in this invocation */
  int64_t not_before_ns;
  pid_t pid;
  char log_path[PATH_MAX];
  char outcome[16];  /* when done: a cell outcome, or "runner_error" */
  double composite;  /* NAN when none */
  bool resumed;      /* done before this invocation */
  char cassette[PATH_MAX]; /* what run-cell gets as --record (c->record) or
                              --replay (sweep --replay), or "" */
};

struct sweep {
  const struct cab_sweep_opts *o;
  struct cab_sweep_plan *plan;
  struct cab_sweep_cells cells;
  struct sweep_cell *sc; /* the shard's cells, in plan order */
  size_t n;
  char out_dir[PATH_MAX];   /* absolute */
  char sweep_dir[PATH_MAX]; /* out_dir/<sweep_id> */
  char meta_dir[PATH_MAX];  /* sweep_dir/.sweep */
  char cab_full[PATH_MAX];
  char replay_dir[PATH_MAX]; /* --replay: the recorded sweep's directory, or "" */
  struct cab_sweep_journal journal;
  long jobs;            /* cells at once, at most */
  char jobs_why[160];   /* how jobs was chosen, for the first line */
  int64_t mem_budget;   /* bytes for the sum of the cells' limits; 0: unknown */
  int64_t t0_ns;        /* monotonic start */
  size_t finished_now;  /* cells that reached DONE in this invocation */
  /* counts for the progress line */
  size_t n_done, n_pass, n_fail, n_error, n_running, n_waiting;
  struct cab_ttyline line; /* the live progress line, with progress_tty */
};

/* ---- host.c ---- */
long cab_sweep_host_cpus(void);
/* MemAvailable from /proc/meminfo in bytes, or -1. */
int64_t cab_sweep_host_mem_available(void);
/* Choose S->jobs and S->mem_budget (and say why in S->jobs_why). */
int cab_sweep_choose_jobs(struct sweep *s, cab_error *err);

/* ---- cell_dir.c: a cell directory and its cell.json ---- */
struct sweep_record {
  bool complete;      /* parses, has "outcome" and "scorers" */
  bool same_identity; /* sweep_id, tui, model, task and run are the cell's */
  char outcome[16];
  char started_at[40];
  double composite;   /* NAN when none */
};
void cab_sweep_read_record(const struct sweep *s, const struct cab_sweep_cell *c, const char *dir,
                           struct sweep_record *r);
/* SWEEP_DIR/KEY (or KEY.attempt-N with ATTEMPT > 0) into BUF, as
 * runner/record/layout.h lays cells out; -1 when it does not fit. */
int cab_sweep_cell_dir(const struct sweep *s, const struct cab_sweep_cell *c, int attempt,
                       char *buf, size_t size, cab_error *err);
/* Move the cell's directory to KEY.attempt-ATTEMPT (replacing a stale one). */
int cab_sweep_keep_attempt(const struct sweep *s, const struct cab_sweep_cell *c, int attempt,
                           cab_error *err);
/* Remove what killed run-cells leave beside the cell (.staging-run-N-*,
 * run-N.old-*) and, with ATTEMPTS, run-N.attempt-* of an older spec. */
void cab_sweep_clean_stale(const struct sweep *s, const struct cab_sweep_cell *c, bool attempts);

/* ---- resume.c ---- */
/* From the journal and the cell directories: which cells are done, which
 * attempt each of the others runs next.  With WRITE (a locked sweep), adopt
 * cells whose run finished unjournaled and move unmoved failed attempts. */
int cab_sweep_resume_state(struct sweep *s, bool write, cab_error *err);
/* Journal lines. */
int cab_sweep_journal_event(struct sweep *s, struct sweep_cell *sc, const char *event,
                            const char *outcome, int exit_status, cab_error *err);

/* ---- cassettes.c: recording a cell's cassette, replaying a recorded sweep ---- */
/* Before an attempt of a recording cell: SC->cassette set to
 * META_DIR/cassettes/<key>.attempt-N.jsonl, its directory made, a stale one
 * (a killed attempt's) removed. */
int cab_sweep_cassette_prepare(struct sweep *s, struct sweep_cell *sc, cab_error *err);
/* --replay: every cell of the shard that talks to a model mapped to the
 * cassette the recorded sweep's journal names for it (its last finished
 * attempt), each checked to be there, its digest put in the cell's spec.
 * A cell without one is refused in one line (exit 125) before anything
 * runs: never a live call in its place. */
int cab_sweep_replay_map(struct sweep *s, cab_error *err);
/* A "done" journal line's note of the cassette: "cassette" (relative to
 * the sweep directory) when the attempt recorded one, "replayed" (the path
 * given to run-cell) when it replayed one. */
int cab_sweep_cassette_note(const struct sweep *s, const struct sweep_cell *sc, cJSON *line);

/* ---- spawn.c ---- */
int cab_sweep_spawn(struct sweep *s, struct sweep_cell *sc, cab_error *err);
/* Before any cell: `run-cell --preflight` once per TUI, host root and image
 * among the shard's cells (each with the sweep's --require), so that a host
 * below what the sweep requires is refused in one line, exit 125, with
 * nothing written. */
int cab_sweep_preflight(struct sweep *s, cab_error *err);

/* ---- sched.c ---- */
/* Run every pending cell.  -1 with ERR (exit code 128+N) when interrupted. */
int cab_sweep_schedule(struct sweep *s, cab_error *err);

/* ---- report.c ---- */
/* Count a cell that reached DONE with OUTCOME. */
void cab_sweep_count_done(struct sweep *s, const char *outcome);
void cab_sweep_progress(struct sweep *s, bool final);
void cab_sweep_summary(struct sweep *s);
int cab_sweep_dry_run(struct sweep *s, cab_error *err);

#endif
