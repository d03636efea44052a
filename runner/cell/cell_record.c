/* A cell's record: the artifacts, the scoring, cell.json and the strip.
 * Scoring reads the artifacts back exactly as `cab score` does, so that
 * re-scoring an unchanged cell reproduces cell.json's scorers. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/strfmt.h"
#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/version.h"
#include "runner/cell/cell_internal.h"
#include "runner/record/artifacts.h"
#include "runner/record/cell_record.h"
#include "scorers/axes.h"
#include "scorers/scorers.h"

int
cab_cell_write_text(const char *dir, const char *name, const char *data, size_t len,
                    cab_error *err)
{
  char path[PATH_MAX];
  if (cab_path_printf(path, sizeof path, err, "%s/%s", dir, name) < 0)
    return -1;
  return cab_write_file_atomic(path, data ? data : "", data ? len : 0, 0644, err);
}

static int
write_json(const char *dir, const char *name, const cJSON *j, bool pretty, cab_error *err)
{
  cleanup_free char *text = cab_json_print(j, pretty);
  if (text == NULL)
    return cab_error_set(err, ENOMEM, "render %s", name);
  size_t len = strlen(text);
  cleanup_free char *withnl = malloc(len + 2);
  if (withnl == NULL)
    return cab_error_sys(err, "allocate");
  memcpy(withnl, text, len);
  withnl[len] = '\n';
  return cab_cell_write_text(dir, name, withnl, len + 1, err);
}

/* verify.log, agent.log; changes.json and diff.patch are written by the
 * snapshot step; model_calls.jsonl and terminal.cast while the agent runs. */
int
cab_cell_write_artifacts(struct cell *c, cab_error *err)
{
  cleanup_free char *out = NULL, *errout = NULL;
  size_t out_len = 0, err_len = 0;
  if (cab_cell_verify_output(c, &out, &out_len, &errout, &err_len) < 0)
    return cab_error_set(err, ENOMEM, CAB_CELL_VERIFY_LOG);
  size_t len = 0;
  cleanup_free char *log = cab_verify_log_format(out, out_len, errout, err_len, &len);
  if (log == NULL || cab_cell_write_text(c->staging, CAB_CELL_VERIFY_LOG, log, len, err) < 0)
    return log == NULL ? cab_error_set(err, ENOMEM, CAB_CELL_VERIFY_LOG) : -1;
  if (c->reward_json && cab_cell_write_text(c->staging, CAB_CELL_VERIFY_REWARD, c->reward_json,
                                            strlen(c->reward_json), err) < 0)
    return -1;
  size_t agent_len = 0;
  cleanup_free char *agent = cab_headtail_render(&c->agent_log, CAB_CELL_AGENT_LOG, &agent_len);
  if (agent == NULL)
    return cab_error_set(err, ENOMEM, CAB_CELL_AGENT_LOG);
  if (cab_cell_write_text(c->staging, CAB_CELL_AGENT_LOG, agent, agent_len, err) < 0)
    return -1;
  /* Every cell has a model_calls.jsonl, empty when nothing was called. */
  char calls[PATH_MAX];
  if (cab_path_printf(calls, sizeof calls, err, "%s/" CAB_CELL_MODEL_CALLS, c->staging) < 0)
    return -1;
  int fd = open(calls, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0)
    return cab_error_sys(err, "create %s", calls);
  close(fd);
  return 0;
}

/* The environment's details, after the version and profile the record types. */
static cJSON *
environment_json(const struct cell *c)
{
  cJSON *env = cJSON_CreateObject();
  struct utsname u;
  if (uname(&u) == 0) {
    char kernel[400];
    snprintf(kernel, sizeof kernel, "%s %s %s", u.sysname, u.release, u.machine);
    cJSON_AddStringToObject(env, "kernel", kernel);
  }
  cJSON_AddStringToObject(env, "root", c->rootfs[0] ? "image-overlay" : "host-rootfs");
  cJSON_AddStringToObject(env, "rootfs", c->rootfs[0] ? "image" : "host");
  if (!c->rootfs[0]) {
    /* What the agent and the verifier could not see of the host, and the
     * host ids they ran as (65534 when cab ran as root). */
    cJSON *masked = cJSON_AddArrayToObject(env, "masked_paths");
    for (size_t i = 0; i < c->masks.n; i++)
      cJSON_AddItemToArray(masked, cJSON_CreateString(c->masks.paths[i]));
    struct cab_sandbox_config probe = {.host_rootfs = true};
    uid_t uid;
    gid_t gid;
    cab_sandbox_host_ids(&probe, &uid, &gid, NULL);
    cJSON_AddNumberToObject(env, "sandbox_host_uid", uid);
    cJSON_AddNumberToObject(env, "sandbox_host_gid", gid);
  }
  cJSON *lim = cJSON_AddObjectToObject(env, "limits");
  const struct cab_sandbox_result *r = &c->agent_res;
  cJSON_AddStringToObject(lim, "memory", cab_limit_mech_name(r->memory));
  cJSON_AddStringToObject(lim, "pids", cab_limit_mech_name(r->pids));
  cJSON_AddStringToObject(lim, "cpu", cab_limit_mech_name(r->cpu));
  cJSON_AddStringToObject(lim, "time", "supervisor");
  /* In words, what held: "watchdog (anon+shmem+memfd+tmpfs, poll 10 ms) and
   * RLIMIT_DATA" or "cgroup v1 (...)"; the disk budget's watchdog. */
  cJSON_AddStringToObject(lim, "memory_enforced", r->memory_how[0] ? r->memory_how : "none");
  cJSON_AddStringToObject(lim, "disk", r->disk_how[0] ? r->disk_how : "none");
  cJSON_AddStringToObject(env, "cgroup_mode", r->cgroup_mode[0] ? r->cgroup_mode : "none");
  /* An endpoint that stops answering ends the agent after this many calls
   * in a row (cell_sandbox.c); null: not watched (replay, no network). */
  if (c->give_up_after > 0)
    cJSON_AddNumberToObject(env, "endpoint_give_up_after", c->give_up_after);
  else
    cJSON_AddNullToObject(env, "endpoint_give_up_after");
  if (r->degraded[0])
    cJSON_AddStringToObject(env, "degraded", r->degraded);
  /* What kept the code under test away from the harness, as it ran. */
  const struct cab_sandbox_result *v = &c->verify_res;
  if (c->verify_ran && v->seccomp) {
    cJSON *vd = cJSON_AddObjectToObject(env, "verifier");
    cJSON_AddStringToObject(vd, "seccomp", v->seccomp);
    if (strcmp(v->seccomp, "verifier") == 0) {
      cJSON *refused = cJSON_AddArrayToObject(vd, "refused_syscalls");
      for (const char *const *n = cab_seccomp_verifier_refused; *n; n++)
        cJSON_AddItemToArray(refused, cJSON_CreateString(*n));
    }
    cJSON_AddStringToObject(vd, "proc", v->proc_readonly ? "read-only" : "read-write");
    /* Through a socket cab drains, the harness's output cannot be re-opened
     * and rewritten by the code under test. */
    cJSON_AddStringToObject(vd, "output", v->output_append_only ? "append-only" : "re-openable");
    /* The harness's files (tests/, hidden graders) and the programs it
     * runs, as the code under test found them. */
    cJSON_AddStringToObject(vd, "protected", c->verify_protected ? "read-only binds" : "none");
    cJSON_AddNumberToObject(vd, "protected_binds", (double)c->verify_protected);
    cJSON_AddStringToObject(vd, "root", c->verify_root_readonly ? "read-only" : "writable");
  }
  /* The level and what made it, as it ran (runner/record/protection.h). */
  cJSON_AddItemToObject(env, "protection", cab_protection_to_json(&c->protection));
  return env;
}

static struct cab_num
num(double v)
{
  return (struct cab_num){true, v};
}

/* The model section: the proxy's totals, typed, and what follows them. */
static cJSON *
model_json(const struct cell *c, struct cab_cell_model *typed)
{
  const struct cab_proxy_totals *t = &c->model;
  *typed = (struct cab_cell_model){
      .present = true,
      .network = c->model_net,
      .model_calls = num((double)t->model_calls),
      .prompt_tokens = num((double)t->prompt_tokens),
      .completion_tokens = num((double)t->completion_tokens),
      .total_tokens = num((double)t->total_tokens),
      .model_call_ms = num((double)t->model_call_ms),
      .ok = num((double)t->ok),
      .infra_errors = num((double)t->infra_errors),
      .client_errors = num((double)t->client_errors),
  };
  cJSON *m = cJSON_CreateObject();
  /* calls whose usage held a figure that was not a token count: each such
   * figure was counted as the maximum (runner/model_api/usage.h) */
  if (t->usage_clamped)
    cJSON_AddNumberToObject(m, "usage_clamped_calls", (double)t->usage_clamped);
  /* answered calls that reported no usage: they count no tokens */
  if (t->calls_without_usage)
    cJSON_AddNumberToObject(m, "calls_without_usage", (double)t->calls_without_usage);
  /* calls refused with 503 because the cell's proxy held 16 calls or 64 MiB
   * of request bodies already (runner/proxy/proxy.h) */
  /* calls whose upstream answer held the real key: the agent got the
   * placeholder instead (runner/proxy/redact.h) */
  if (t->key_reflected)
    cJSON_AddNumberToObject(m, "key_reflected_calls", (double)t->key_reflected);
  if (t->busy_refusals)
    cJSON_AddNumberToObject(m, "busy_refusals", (double)t->busy_refusals);
  if (c->o->record)
    cJSON_AddStringToObject(m, "cassette_recorded", c->o->record);
  if (c->o->replay)
    cJSON_AddStringToObject(m, "cassette_replayed", c->o->replay);
  /* Everything else the agent tried to reach, refused at once by cab's DNS. */
  cJSON *refused = cJSON_AddArrayToObject(m, "refused_hosts");
  for (size_t i = 0; i < c->n_refused; i++) {
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "host", c->refused[i].name);
    cJSON_AddNumberToObject(r, "queries", c->refused[i].count);
    cJSON_AddItemToArray(refused, r);
  }
  if (c->more_refused)
    cJSON_AddNumberToObject(m, "refused_hosts_more", c->more_refused);
  return m;
}

/* cell.json without "scorers" or with them, and without spans or with
 * them: the record owns the order (runner/record/cell_record.c). */
static int
write_cell_json(const struct cell *c, const struct cab_profile *p, const struct cab_scores *scores,
                const cJSON *spans, cab_error *err)
{
  double wall = 0;
  cab_iso_diff_ms(c->started_at, c->ended_at, &wall);
  struct cab_cell_record r = {
      .cell_id = c->cell_id,
      .sweep_id = c->sweep_id,
      .tui = c->adapter->tui,
      .container_image = c->image_ref[0] ? c->image_ref : "host-rootfs",
      .image_digest = c->image_digest[0] ? c->image_digest : NULL,
      .model_build_id = c->o->model,
      .exit_code = num(c->agent_exit_code),
      .task_id = c->task->task_id,
      .family = c->task->family,
      .run = {c->o->run > 0, c->o->run},
      .started_at = c->started_at,
      .ended_at = c->ended_at,
      .duration_s = num(wall / 1000.0),
      .timing = {.wall_clock_ms = num(wall), .container_active_ms = num(c->container_active_ms)},
      .tokens_source = c->tokens_source,
      .outcome = c->outcome,
      .outcome_reason = c->outcome_reason,
      .has_scores = scores != NULL,
      .verify = {.exit_code = num(c->verify_res.exit_code),
                 .timed_out = c->verify_res.timed_out,
                 .wall_ms = num((double)c->verify_res.wall_ms)},
      .task = c->task->json,
      .prompt_sha256 = c->prompt_sha256[0] ? c->prompt_sha256 : NULL,
      .environment = {.cab_version = CAB_VERSION,
                      .scoring_profile = p->name,
                      .methodology_version = p->methodology_version,
                      .limits = {.has_values = true,
                                 .memory_bytes = num((double)c->limits.memory_bytes),
                                 .cpus = {c->limits.cpus > 0, c->limits.cpus},
                                 .pids_max = num((double)c->limits.pids),
                                 .timeout_s = num((double)c->limits.timeout_s),
                                 .max_turns = {c->max_turns > 0, (double)c->max_turns}}},
      .spans = spans,
  };
  if (scores)
    r.scores = *scores;
  cJSON *model = model_json(c, &r.model);
  cJSON *env = environment_json(c);
  r.model.json = model;
  r.environment.json = env;
  int rc = cab_cell_record_write(c->staging, &r, err);
  cJSON_Delete(model);
  cJSON_Delete(env);
  return rc;
}

static void
decide_outcome(struct cell *c, const struct cab_scores *scores)
{
  double pass = scores->pass_rate.pass.has ? scores->pass_rate.pass.v : 0;
  if (strcmp(c->outcome, "infra_error") == 0 || strcmp(c->outcome, "agent_error") == 0)
    return; /* decided earlier, with its reason */
  if (c->agent_err.message[0]) {
    char line[2300];
    cab_error_line(&c->agent_err, line, sizeof line);
    bool not_found = c->agent_err.exit_code == CAB_EXIT_NOT_FOUND;
    snprintf(c->outcome, sizeof c->outcome, "%s",
             c->agent_err.exit_code == CAB_EXIT_RUNNER ? "infra_error" : "agent_error");
    cab_snprintf_cut(c->outcome_reason, sizeof c->outcome_reason, "%s%s", /* a reason: text */
                     not_found ? "command not found: " : "", line);
    return;
  }
  /* Over the disk budget: the agent broke the cell's rules, as when it runs
   * out of memory (agent_error, never retried as infra); nothing of the
   * workdir was snapshotted or verified. */
  if (c->agent_res.over_budget || c->over_budget[0]) {
    snprintf(c->outcome, sizeof c->outcome, "agent_error");
    snprintf(c->outcome_reason, sizeof c->outcome_reason, "%s",
             c->agent_res.over_budget ? c->agent_res.budget_reason : c->over_budget);
    return;
  }
  if (c->model.gave_up) {
    snprintf(c->outcome, sizeof c->outcome, "infra_error");
    snprintf(c->outcome_reason, sizeof c->outcome_reason,
             "the model endpoint could not be reached for %lld calls in a row; cab stopped the "
             "agent", (long long)c->model.unreachable_streak);
    return;
  }
  if (c->model_net && c->model.ok == 0 && c->model.infra_errors > 0) {
    snprintf(c->outcome, sizeof c->outcome, "infra_error");
    snprintf(c->outcome_reason, sizeof c->outcome_reason,
             "the model endpoint failed (%lld infra errors) before any successful call",
             (long long)c->model.infra_errors);
    return;
  }
  if (c->agent_res.timed_out) {
    snprintf(c->outcome, sizeof c->outcome, "timeout");
    snprintf(c->outcome_reason, sizeof c->outcome_reason, "the agent hit the %s %lds timeout",
             c->o->timeout_s ? "--timeout" : "task's", c->timeout_s);
    return;
  }
  if (c->agent_res.signal && !c->agent_res.oom_killed) {
    snprintf(c->outcome, sizeof c->outcome, "agent_error");
    snprintf(c->outcome_reason, sizeof c->outcome_reason, "the agent was killed by signal %d",
             c->agent_res.signal);
    return;
  }
  if (c->agent_res.oom_killed) {
    snprintf(c->outcome, sizeof c->outcome, "agent_error");
    snprintf(c->outcome_reason, sizeof c->outcome_reason, "the agent ran out of memory");
    return;
  }
  snprintf(c->outcome, sizeof c->outcome, "%s", pass >= 1 ? "pass" : "fail");
  if (c->outcome_reason[0] == '\0' && c->verify_res.over_budget)
    snprintf(c->outcome_reason, sizeof c->outcome_reason, "the verifier was stopped: %s",
             c->verify_res.budget_reason);
  if (c->outcome_reason[0] == '\0')
    snprintf(c->outcome_reason, sizeof c->outcome_reason, "verifier exited %d",
             c->verify_res.exit_code);
}

static double
or0(struct cab_num n)
{
  return n.has ? n.v : 0;
}

static void
fill_summary(const struct cell *c, const struct cab_scores *s, struct cab_cell_summary *sum)
{
  memset(sum, 0, sizeof *sum);
  snprintf(sum->cell_dir, sizeof sum->cell_dir, "%s", c->cell_dir);
  snprintf(sum->cell_id, sizeof sum->cell_id, "%s", c->cell_id);
  snprintf(sum->outcome, sizeof sum->outcome, "%s", c->outcome);
  snprintf(sum->outcome_reason, sizeof sum->outcome_reason, "%s", c->outcome_reason);
  sum->agent_exit_code = c->agent_exit_code;
  sum->pass = or0(s->pass_rate.pass);
  sum->blast = or0(s->blast_radius.blast_radius);
  cab_axes_strip(s, sum->scores_strip, sizeof sum->scores_strip);
  for (size_t i = 0; i < cab_n_axes; i++)
    sum->axes[i] = cab_axis_headline(&cab_axes[i], s->json);
}

/* The one round trip of cell.json: written without scores, read back by
 * the scorers exactly as `cab score` reads it (so that re-scoring an
 * unchanged cell reproduces them), and rewritten whole by
 * cab_cell_write_record once the trace is complete. */
int
cab_cell_score_and_finish(struct cell *c, struct cab_cell_summary *sum, cab_error *err)
{
  struct cab_profile profile;
  if (cab_profile_load(c->o->scoring, &profile, err) < 0)
    return -1;
  if (write_cell_json(c, &profile, NULL, NULL, err) < 0)
    return -1;
  int span = cab_trace_begin(c->trace, "score", profile.name, c->root_span, 0);
  if (cab_score_cell_dir(c->staging, profile.name, &c->scores, err) < 0)
    return cab_error_prefix(err, "score %s", c->cell_id);
  cab_trace_end(c->trace, span, 0);
  decide_outcome(c, &c->scores);
  fill_summary(c, &c->scores, sum);
  return 0;
}

/* The final record, once the trace is complete. */
int
cab_cell_write_record(struct cell *c, cab_error *err)
{
  struct cab_profile profile;
  if (cab_profile_load(c->o->scoring, &profile, err) < 0)
    return -1;
  cJSON *spans = cab_trace_to_json(c->trace);
  cJSON *otlp = cab_trace_to_otlp(c->trace, "cab");
  int r = write_json(c->staging, CAB_CELL_TRACE, otlp, false, err);
  if (r == 0)
    r = write_cell_json(c, &profile, c->scores.json ? &c->scores : NULL, spans, err);
  cJSON_Delete(spans);
  cJSON_Delete(otlp);
  return r;
}

void
cab_cell_print_strip(const struct cab_cell_summary *s, FILE *out)
{
  fprintf(out, "%s | outcome %s\n", s->scores_strip, s->outcome);
}
