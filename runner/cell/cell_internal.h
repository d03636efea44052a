/* State shared by the parts of one cell run (cell.c, cell_sandbox.c,
 * cell_record.c).  Not a public header. */
#ifndef CAB_RUNNER_CELL_INTERNAL_H
#define CAB_RUNNER_CELL_INTERNAL_H

#include <cjson/cJSON.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "rootfs/lease.h"
#include "rootfs/store.h"
#include "runner/adapters/adapter.h"
#include "runner/cell/asciicast.h"
#include "runner/cell/cell.h"
#include "common/envlist.h"
#include "runner/proxy/dns.h"
#include "runner/proxy/proxy.h"
#include "runner/task/limits.h"
#include "runner/task/task.h"
#include "runner/cell/trace.h"
#include "sandbox/host_masks.h"
#include "common/headtail.h"
#include "sandbox/sandbox.h"
#include "scorers/scores.h"


struct cell {
  const struct cab_cell_options *o;
  struct cab_adapter *adapter;
  struct cab_task *task;
  long timeout_s;              /* the agent's: --timeout, else the task's */
  long max_turns;              /* --max-turns, else the task's (0: none) */
  char sweep_id[128];
  char cell_id[1024];
  char cell_dir[PATH_MAX];     /* final */
  char staging[PATH_MAX];      /* artifacts are written here first */
  char scratch[PATH_MAX];      /* workdir, home, overlays, snapshots */
  int scratch_lock, staging_lock; /* held while they exist (runner/cell/leftovers.h) */
  char work[PATH_MAX], home[PATH_MAX], verify[PATH_MAX];
  char prompt_text_path[PATH_MAX];
  char prompt_sha256[80];      /* hex sha256 of the prompt as the agent saw it, or "" */

  /* image */
  cab_store *store;
  cab_image *image;
  char image_ref[600];         /* as shown: name:tag */
  char image_digest[80];       /* the manifest digest, "" on --host-rootfs */
  struct cab_rootfs_lease lease; /* the image's rootfs (rootfs/lease.h) */
  const char *rootfs;          /* its lower directory, "" on --host-rootfs */
  bool overlay_ok;             /* overlayfs mounts in a user namespace here */
  struct cab_host_masks masks; /* --host-rootfs: what the sandboxes do not see */

  struct cab_trace *trace;
  int root_span;
  int agent_span;              /* adapter_run: the applied_plugins tool_call, the
                                  container and the model calls are its children */

  /* timing */
  int64_t started_ns, ended_ns;
  char started_at[40], ended_at[40];
  double container_active_ms;

  /* the agent run */
  struct cab_asciicast *cast;
  struct cab_headtail agent_log; /* the pty's output, head and tail kept */
  struct cab_sandbox_result agent_res;
  bool agent_ran;
  int agent_exit_code;
  cab_error agent_err;          /* set when the agent could not start */
  bool setup_fatal;             /* cab_cell_run_agent failed on a setup problem:
                                   no cell, exit 125 (cell_preflight.c) */
  struct cab_cell_limits limits; /* the agent's, as it ran (cab_cell_check_require) */
  struct cab_proxy_totals model;
  struct cab_dns_refusal refused[CAB_DNS_MAX_REFUSALS]; /* names the agent was refused */
  size_t n_refused;
  unsigned more_refused;
  bool model_net;
  int give_up_after;            /* the proxy's limit on unreachable calls in a row,
                                   0 when not watched (replay, no network) */
  char tokens_source[32];

  /* the disk budget: set when the workdir was over it after the agent (the
   * agent's own sandbox may have stopped it first: agent_res.over_budget) */
  char over_budget[256];

  /* verify */
  struct cab_headtail verify_stdout, verify_stderr; /* head and tail kept */
  struct cab_sandbox_result verify_res;
  bool verify_ran;
  size_t verify_protected;     /* protected paths bound read-only in the verifier */
  bool verify_root_readonly;   /* the verifier's root could not be written */
  cab_error verify_err;
  char reward_dir[PATH_MAX];   /* a reward task's /logs/verifier (reward_file.c) */
  char *reward_json;           /* what it held, as verify-reward.json; NULL: no reward task */

  /* artifacts that held the real key (cell_redact.c) */
#define CAB_CELL_MAX_REDACTED 64
  char *key_redacted[CAB_CELL_MAX_REDACTED];
  size_t n_key_redacted;

  /* outcome */
  char outcome[16];
  char outcome_reason[512];
  struct cab_scores scores; /* .json NULL until scored */

  /* What the agent's sandbox (and the verifier's seccomp) ran under, and
   * what --require asked: environment.protection */
  struct cab_protection protection;
};

/* cell_sandbox.c: run the agent, then the verifier, each in a fresh
 * sandbox.  Errors that stop the cell return -1; an agent or verifier that
 * fails is recorded in C and returns 0. */
int cab_cell_run_agent(struct cell *c, cab_error *err);
int cab_cell_run_verify(struct cell *c, cab_error *err);
/* The verifier's stdout and stderr, each cut to its head and tail with a
 * marker line (malloc'd, NUL-terminated; lengths in OUT_LEN, ERR_LEN). */
int cab_cell_verify_output(const struct cell *c, char **out, size_t *out_len, char **errout,
                           size_t *err_len);
/* --require before any work: the agent's sandbox as it would be composed
 * (its limits, the adapter's seccomp and capabilities, the root HOST or
 * the image's overlay or copy), predicted on this host.  -1 (exit 125, one
 * line) when short. */
int cab_cell_check_require(struct cell *c, bool host, cab_error *err);
/* The agent as it would run, composed for C: the adapter rendered with the
 * task's PROMPT (its argv, env and config files, into R) and the agent's
 * complete environment (into ENV).  -1 with ERR; *ADAPTER_WRONG when the
 * adapter file is at fault (a setup problem, no cell).  The caller frees R
 * and ENV, also on failure. */
int cab_cell_agent_compose(const struct cell *c, const char *prompt,
                           struct cab_adapter_rendered *r, struct cab_envlist *env,
                           bool *adapter_wrong, cab_error *err);
/* The verifier's timeout: the task's scorer.timeout_s, else its timeout_s. */
long cab_cell_verify_timeout(const struct cell *c);

/* dry_run.c: run-cell --dry-run: what the cell would run (image, argv,
 * env, files, limits, workdir, verify command) as JSON text, the real key
 * replaced wherever it appears (malloc'd).  HOST: on the host's /. */
char *cab_cell_dry_run_json(struct cell *c, const char *image, bool host, cab_error *err);

/* Measure the workdir against the task's budget; fills C->over_budget and
 * returns true when over. */
bool cab_cell_workdir_over_budget(struct cell *c);

/* Where the agent (and the verifier) see the workdir: the task's
 * workdir_path (an imported Harbor task's WORKDIR), else the adapter's. */
const char *cab_cell_workdir(const struct cell *c);

/* workdir_seed.c: the fresh workdir, from the task (and, with
 * workdir_from_image, the image's workdir_path under it). */
int cab_cell_workdir_prepare(struct cell *c, cab_error *err);

/* reward_file.c: a reward task's /logs/verifier, made empty before the
 * verifier and read after it into C->reward_json (verify-reward.json). */
int cab_cell_reward_dir_make(struct cell *c, cab_error *err);
int cab_cell_reward_read(struct cell *c, cab_error *err);

/* cell_record.c: cell.json and the other artifacts. */
int cab_cell_write_artifacts(struct cell *c, cab_error *err);
int cab_cell_score_and_finish(struct cell *c, struct cab_cell_summary *sum, cab_error *err);
/* cell.json with the scorers and the complete trace, and trace.otlp.json. */
int cab_cell_write_record(struct cell *c, cab_error *err);

/* cell_redact.c: an artifact that holds the real API key gets the
 * placeholder instead (before scoring, and at the commit point, COMMIT:
 * then cell.json says so: "key_redacted", "key_redacted_in"). */
int cab_cell_redact_key(struct cell *c, bool commit, cab_error *err);
/* TEXT with the real API key replaced by the placeholder (malloc'd; a
 * copy when it holds none), or NULL when out of memory. */
char *cab_cell_redact_text(const struct cell *c, const char *text);

/* cell_preflight.c: setup problems found before the agent starts (exit
 * 125, no cell). */
int cab_cell_check_argv0(const struct cell *c, const char *argv0, const char *path_env,
                         const struct cab_bind *binds, size_t n_binds, cab_error *err);
int cab_cell_check_cassette(const struct cab_cell_options *o, const char *task_id,
                            cab_error *err);
int cab_cell_check_endpoint(const char *endpoint, cab_error *err);
/* The key named by KEY_ENV is unset, empty, or CAB_REDACT_MIN_SECRET
 * characters or more (shorter, its redaction would rewrite ordinary text);
 * else one line. */
int cab_cell_check_key(const char *key_env, cab_error *err);

/* Helpers. */
int cab_cell_write_text(const char *dir, const char *name, const char *data, size_t len,
                        cab_error *err);

#endif
