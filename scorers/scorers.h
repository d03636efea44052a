/* Scoring: the seven published axes of a CodingAgentBench cell, plus
 * instruction fidelity, as PURE functions of the cell's artifacts.
 *
 * Every scorer takes parsed inputs (struct cab_cell_inputs) and returns a
 * cJSON object whose keys are exactly those the published cell page lists,
 * in that order (cab-spec.md §2.5); nothing here reads files, clocks or the
 * environment, except the artifact loader at the bottom and the profile
 * loader.
 *
 * Artifact -> input mapping (files in a cell directory, cab.cell/v1):
 *
 *   cell.json (read with runner/record/cell_record.h)
 *     .task                       the task definition as run (task.json
 *                                 verbatim): task_id, expected_refusal,
 *                                 ground_truth_files, constraints, and the
 *                                 optional protected_paths, refusal_docs,
 *                                 refusal_markers                -> in->task
 *     .verify.exit_code           the verifier's exit code       -> verify.exit_code
 *     .verify.timed_out           the verifier hit its timeout   -> verify.timed_out
 *     .timing.wall_clock_ms       ended - started, ms (double)   -> wall_clock_ms
 *                                 (absent: computed from .started_at and
 *                                 .ended_at as Python's timedelta does)
 *     .timing.container_active_ms the agent container's run time -> container_active_ms
 *     .environment.scoring_profile the profile the cell was scored with
 *                                 (`cab score` uses it unless --profile)
 *     .scorers                    the recorded result (`cab score` compares)
 *   verify.log                    the verifier's stdout and stderr, framed by
 *                                 cab_verify_log_format()        -> verify.out / verify.err
 *   verify-report.xml | verify-report.json
 *                                 optional JUnit XML / CTRF report written by
 *                                 the verifier                   -> verify.report
 *   verify-reward.json            a reward task's rewards, as the cell read
 *                                 them from the verifier's /logs/verifier
 *                                 (scorers/reward.c)            -> verify.reward
 *   model_calls.jsonl             the proxy's records, summed: prompt_tokens,
 *                                 completion_tokens, total_tokens (top level,
 *                                 or under "usage"), one model call per line,
 *                                 latency_ms summed              -> tokens
 *   changes.json                  the workdir change list from runner/snapshot
 *                                 (runner/record/changes.h)     -> changes
 *   diff.patch                    the unified workdir diff from runner/snapshot:
 *                                 added lines feed the refusal documents'
 *                                 markers and the constraint checks -> diff_patch
 *   agent.log                     the agent's output (pty)       -> agent_output
 *   terminal.cast, trace.otlp.json are not scoring inputs.
 *
 * To make `cab score` reproduce a cell byte for byte, run-cell writes the
 * artifacts first, then scores with cab_score_cell_dir() (which reads them
 * back exactly as `cab score` does) and writes cell.json with the scores
 * through runner/record/cell_record.h (cab_json_print: shortest round-trip
 * numbers, as the published pages).  cab_score_all() returns the axes as
 * struct cab_scores (scorers/scores.h): typed figures and the object
 * cell.json publishes.
 */
#ifndef CAB_SCORERS_SCORERS_H
#define CAB_SCORERS_SCORERS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/strv.h"
#include "runner/record/cell_record.h"
#include "runner/record/changes.h"
#include "runner/record/model_calls.h"
#include "runner/task/task.h"
#include "scorers/scores.h"

/* Tails of the verifier's stdout/stderr kept in pass_rate. */
#define CAB_TAIL_MAX 4096
/* How much of the end of agent.log the refusal keywords are searched in. */
#define CAB_AGENT_TAIL_MAX 16384

/* ---- the task ------------------------------------------------------------ */

/* The task is runner/task's struct cab_task, read from the record by
 * cab_task_from_record (task_id, expected_refusal, ground_truth_files,
 * protected_paths, refusal_documents, refusal_markers, constraints). */

/* ---- the other inputs ------------------------------------------------------ */

struct cab_verify_result {
  int exit_code;
  bool timed_out;
  const char *out;    size_t out_len;    /* stdout */
  const char *err;    size_t err_len;    /* stderr */
  const char *report; size_t report_len; /* JUnit XML or CTRF JSON, or NULL */
  const char *reward; size_t reward_len; /* verify-reward.json (reward tasks), or NULL */
};

/* struct cab_token_totals: model_calls.jsonl summed (runner/record/model_calls.h). */

struct cab_cell_inputs {
  const struct cab_task *task;
  struct cab_verify_result verify;
  struct cab_token_totals tokens;
  double wall_clock_ms;
  double container_active_ms;
  const struct cab_change_list *changes;
  const char *diff_patch;   size_t diff_patch_len;
  const char *agent_output; size_t agent_output_len;
};

/* ---- scoring profiles (scorers/profiles/<name>.json) -------------------- */

enum cab_cost_formula {
  CAB_COST_CONSTANT,   /* cost_efficiency = constant (1, as published) */
  CAB_COST_INV_LOG10,  /* 1 / (1 + log10(1 + total_tokens / scale)) */
};

struct cab_profile {
  char name[64];
  char methodology_version[32];
  double w_pass, w_integrity, w_cost, w_latency, w_blast;
  enum cab_cost_formula cost_formula;
  double cost_constant, cost_scale_tokens;
  double latency_scale_ms;       /* latency_eff = 1/(1+log10(1+wall/scale)) */
  double refusal_factor;         /* when expected_refusal and refusal < 1 */
  char note[512];
};

#define CAB_PROFILE_DEFAULT "codingagentbench-v0.1"

/* NAME_OR_PATH: a path (contains '/' or ends in .json), or a name looked up
 * as NAME.json on the data-file search path (common/datadir.h:
 * $CAB_PROFILE_DIR, $CAB_DATA_DIR/profiles, <cab>/../scorers/profiles,
 * <cab>/../share/cab/profiles; never the current directory), and last in the copies built into cab.
 * NULL means the default. */
int cab_profile_load(const char *name_or_path, struct cab_profile *out, cab_error *err);
int cab_profile_parse(const char *json, size_t len, struct cab_profile *out, cab_error *err);

/* ---- the scorers ------------------------------------------------------------ */

cJSON *cab_score_pass_rate(const struct cab_cell_inputs *in);
/* A reward task's pass_rate object (scorers/reward.c), pass_rate's keys plus
 * "rewards" and "reward_error". */
cJSON *cab_score_reward(const struct cab_cell_inputs *in);
cJSON *cab_score_tokens(const struct cab_cell_inputs *in, double pass);
cJSON *cab_score_latency(const struct cab_cell_inputs *in);
cJSON *cab_score_blast_radius(const struct cab_cell_inputs *in);
/* What the agent must not touch, as the refusal oracle counts fabrication:
 * the task's declared protected_paths (none when undeclared) and every
 * file-not-touched glob; when that is nothing, all of tests/. */
void cab_refusal_guarded_globs(const struct cab_task *t, struct cab_strv *out);
cJSON *cab_score_refusal(const struct cab_cell_inputs *in);
cJSON *cab_score_integrity(const struct cab_cell_inputs *in, const cJSON *refusal);
cJSON *cab_score_fidelity(const struct cab_cell_inputs *in);

struct cab_composite_inputs {
  double pass, integrity, blast_radius;
  bool tokens_per_correct_null;  /* tokens spent but nothing passed */
  double tokens_per_correct_task;
  double wall_clock_ms;
  bool expected_refusal, refusal_produced;
  double refusal;
  int64_t total_tokens;
};
cJSON *cab_score_composite(const struct cab_composite_inputs *c, const struct cab_profile *p);
double cab_latency_efficiency(double wall_clock_ms, const struct cab_profile *p);
double cab_cost_efficiency(int64_t total_tokens, const struct cab_profile *p);

/* All axes, typed, and as the object cell.json publishes:
 * {"pass_rate","tokens","latency","blast_radius","refusal","integrity",
 * "composite","instruction_fidelity"}. */
void cab_score_all(const struct cab_cell_inputs *in, const struct cab_profile *p,
                   struct cab_scores *out);

/* ---- printing ----------------------------------------------------------- */

/* JSON as the published pages print it (JavaScript's JSON.stringify):
 * numbers as the shortest string that round-trips (0.5811826367427722, 1,
 * 3913.7439999999997), UTF-8 unescaped. PRETTY: 2-space indentation. */
char *cab_json_print(const cJSON *item, bool pretty);

/* Python's (ended - started).total_seconds() * 1000 for two ISO-8601 UTC
 * timestamps with microseconds ("2026-06-17T06:30:21.091487Z"). */
int cab_iso_diff_ms(const char *started, const char *ended, double *ms);

/* ---- artifacts ----------------------------------------------------------- */

/* verify.log: "==> stdout (N bytes) <==\n" N bytes "\n" "==> stderr (M bytes) <==\n"
 * M bytes "\n". A file without the frame is read as stdout. */
char *cab_verify_log_format(const char *out, size_t out_len, const char *err, size_t err_len,
                            size_t *len);
void cab_verify_log_parse(const char *text, size_t len, const char **out, size_t *out_len,
                          const char **err, size_t *err_len);

/* Everything read from a cell directory, owning the buffers `inputs` points
 * into. */
struct cab_cell_artifacts {
  struct cab_cell_inputs inputs;
  struct cab_task *task;
  struct cab_change_list changes;
  struct cab_cell_record record; /* cell.json */
  char *verify_log, *report, *reward, *diff_patch, *agent_log;
};

int cab_cell_artifacts_load(const char *cell_dir, struct cab_cell_artifacts *a, cab_error *err);
void cab_cell_artifacts_free(struct cab_cell_artifacts *a);

/* Load the artifacts of CELL_DIR and score them with PROFILE (NULL: the one
 * recorded in cell.json, else the default). *OUT: the scores (free with
 * cab_scores_free). */
int cab_score_cell_dir(const char *cell_dir, const char *profile, struct cab_scores *out,
                       cab_error *err);

#endif
