/* The two sandboxes of a cell: the agent (under a pty, on the model
 * network, with the adapter's argv, env and config files) and the verifier
 * (a fresh sandbox on a copy of the post-agent workdir, no network). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/strfmt.h"
#include "common/cleanup.h"
#include "common/fsutil.h"
#include "runner/cell/cell_internal.h"
#include "runner/cell/leftovers.h"
#include "runner/cell/modelnet.h"
#include "runner/cell/progress.h"
#include "runner/cell/protection.h"
#include "runner/cell/protected_binds.h"
#include "runner/cell/run_spec.h"
#include "runner/record/artifacts.h"
#include "runner/task/limits.h"
#include "sandbox/caps.h"
#include "sandbox/preflight.h"

/* Every output a hostile command controls is kept as its first and last
 * MiB: agent.log, and the verifier's stdout and stderr (in verify.log). */
#define OUTPUT_KEEP ((size_t)1 << 20)
/* Calls in a row that cannot reach the endpoint (each after its retries)
 * before the proxy gives up and the agent is stopped: an endpoint that
 * went away mid-cell then costs seconds, not the task's timeout, and the
 * cell is infra_error (retried by a sweep), not a timeout. */
#define GIVE_UP_AFTER 3

static void
on_agent_output(void *ctx, const char *data, size_t len)
{
  struct cell *c = ctx;
  cab_asciicast_output(c->cast, data, len);
  cab_headtail_add(&c->agent_log, data, len);
}

static void
on_verify_output(void *ctx, int stream, const char *data, size_t len)
{
  struct cell *c = ctx;
  cab_headtail_add(stream == 1 ? &c->verify_stdout : &c->verify_stderr, data, len);
}

/* The disk budget of one sandbox: DIR (the workdir or its verify copy),
 * HOME (may be NULL) and the root's overlay layer, all host directories the
 * command writes to, together within the task's workdir_budget.  UPPER
 * holds the layer's path for the run. */
static void
disk_budget(const struct cell *c, struct cab_sandbox_config *cfg, const char *dir,
            const char *home, char *upper, size_t upper_size)
{
  struct cab_disk_budget *b = &cfg->disk;
  b->max_bytes = c->task->budget_bytes;
  b->max_inodes = c->task->budget_inodes;
  b->paths[b->n] = dir;
  b->labels[b->n++] = "workdir";
  if (home) {
    b->paths[b->n] = home;
    b->labels[b->n++] = "the agent's home";
  }
  if (cfg->overlay_dir) {
    snprintf(upper, upper_size, "%s/upper", cfg->overlay_dir);
    b->paths[b->n] = upper;
    b->labels[b->n++] = "the root's writable layer";
  }
}

bool
cab_cell_workdir_over_budget(struct cell *c)
{
  struct cab_disk_budget b = {.paths = {c->work}, .labels = {"workdir"}, .n = 1,
                              .max_bytes = c->task->budget_bytes,
                              .max_inodes = c->task->budget_inodes};
  return cab_disk_budget_check(&b, c->over_budget, sizeof c->over_budget) > 0;
}

/* The image's Env first (it carries the PATH its tools need), then ours. */
static int
base_env(const struct cell *c, struct cab_envlist *env, const char *home)
{
  if (cab_envlist_set(env, "PATH", CAB_DEFAULT_PATH) < 0 ||
      cab_run_spec_image_env(env, c->image ? c->image->config : NULL, false) < 0)
    return -1;
  /* The task's own (an imported Dockerfile's ENV), over the image's. */
  for (size_t i = 0; i < c->task->env.n; i++)
    if (cab_envlist_put(env, c->task->env.v[i]) < 0)
      return -1;
  if (cab_envlist_set(env, "HOME", home) < 0 || cab_envlist_set(env, "TERM", "xterm-256color") < 0)
    return -1;
  return 0;
}

/* Where the workdir is mounted: the task's workdir_path (an imported
 * Harbor task's WORKDIR), else the adapter's. */
const char *
cab_cell_workdir(const struct cell *c)
{
  return c->task->workdir_path ? c->task->workdir_path : c->adapter->workdir;
}

/* The image's rootfs under the cell's writable layer (read-only, the
 * lease's lower directory, when OVERLAY_NAME is NULL), or the host's / with
 * the cell's masks, WRITABLE handed to the sandbox's host id. */
static int
root_config(struct cell *c, struct cab_sandbox_config *cfg, const char *overlay_name,
            const char *const *writable, size_t n_writable, cab_error *err)
{
  struct cab_run_root root = {
      .lease = &c->lease,
      .lower_only = overlay_name == NULL,
      .host = c->rootfs[0] == '\0',
      .masks = (const char *const *)c->masks.paths,
      .n_masks = c->masks.n,
      .writable = writable,
      .n_writable = n_writable,
  };
  if (!root.host && overlay_name) {
    char dir[PATH_MAX];
    if (cab_path_printf(dir, sizeof dir, err, "%s/%s", c->scratch, overlay_name) < 0)
      return -1;
    mkdir(dir, 0700);
    if (cab_rootfs_lease_writable(&c->lease, dir, c->overlay_ok, err) < 0)
      return -1;
  }
  return cab_run_spec_root(&root, cfg, err);
}

/* The command line's limits and the task's TIMEOUT_S, the rest from the
 * defaults (runner/task/limits.h). */
static struct cab_cell_limits
cell_limits(const struct cell *c, long timeout_s)
{
  struct cab_cell_limits l = {.memory_bytes = c->o->memory_bytes, .pids = c->o->pids,
                         .cpus = c->o->cpus, .timeout_s = timeout_s};
  const struct cab_cell_limits task = {.memory_bytes = c->task->limit_memory_mb << 20,
                                       .cpus = c->task->limit_cpus};
  cab_cell_limits_fill(&l, &task);
  cab_cell_limits_fill(&l, &cab_cell_limits_default);
  return l;
}

static void
limits_config(const struct cell *c, struct cab_sandbox_config *cfg, long timeout_s)
{
  struct cab_cell_limits l = cell_limits(c, timeout_s);
  cfg->limits.memory_bytes = l.memory_bytes;
  cfg->limits.pids = l.pids;
  cfg->limits.cpus = l.cpus;
  cfg->limits.timeout_s = (double)l.timeout_s;
  cfg->cgroup_parent = c->o->cgroup_parent;
}

/* The adapter's config files, rendered, written into the agent's HOME
 * (outside the workdir, so they are never counted as the agent's changes). */
static int
write_adapter_files(struct cell *c, const struct cab_adapter_rendered *r, cab_error *err)
{
  size_t hl = strlen(c->adapter->home);
  for (size_t i = 0; i < r->n_files; i++) {
    const struct cab_adapter_file *f = &r->files[i];
    char host[PATH_MAX];
    if (cab_path_printf(host, sizeof host, err, "%s%s", c->home, f->path + hl) < 0)
      return -1;
    char *slash = strrchr(host, '/');
    *slash = '\0';
    if (cab_mkdir_p(host, 0755, err) < 0)
      return -1;
    *slash = '/';
    if (cab_write_file_atomic(host, f->content, strlen(f->content), f->mode, err) < 0)
      return -1;
  }
  return 0;
}

/* The agent's binds: the workdir, its HOME, then the adapter's mounts
 * (cab-agent beside cab, the oracle's solution in the task), each resolved
 * below its base.  SRCS holds their host paths (freed by the caller). */
static int
agent_binds(const struct cell *c, struct cab_bind *binds, char (*srcs)[PATH_MAX], size_t *n,
            cab_error *err)
{
  const struct cab_adapter *a = c->adapter;
  char cab_dir[PATH_MAX];
  bool have_cab_dir = cab_exe_dir(cab_dir, sizeof cab_dir) == 0;
  size_t nb = 0;
  binds[nb++] = (struct cab_bind){.src = c->work, .dst = cab_cell_workdir(c)};
  binds[nb++] = (struct cab_bind){.src = c->home, .dst = a->home};
  for (size_t i = 0; i < a->n_mounts; i++) {
    const struct cab_adapter_mount *m = &a->mounts[i];
    const char *base = m->from == CAB_MOUNT_FROM_CAB ? (have_cab_dir ? cab_dir : NULL) : c->task->dir;
    bool fits = base && cab_snprintf_checked(srcs[i], PATH_MAX, "%s/%s", base, m->path) == 0;
    if (m->missing && (!fits || access(srcs[i], F_OK) != 0))
      return cab_error_set(err, ENOENT, "%s", m->missing);
    if (!fits)
      return cab_error_set(err, ENAMETOOLONG, "adapter %s: mounts[%zu]: the source path does "
                                              "not fit", a->source_path, i);
    binds[nb++] = (struct cab_bind){.src = srcs[i], .dst = m->target, .readonly = m->readonly};
  }
  *n = nb;
  return 0;
}

/* The adapter's "sandbox": Docker's seccomp policy and capabilities
 * (cab_run_spec_init) unless it says otherwise.  A bad capability name is
 * the adapter file's error: exit 125, no cell. */
static int
adapter_sandbox(const struct cab_adapter *a, struct cab_sandbox_config *cfg, cab_error *err)
{
  const struct cab_adapter_sandbox *s = &a->sandbox;
  if (s->seccomp && cab_seccomp_config_from_option(&cfg->seccomp, s->seccomp, err) < 0)
    return cab_error_prefix(err, "adapter %s: sandbox.seccomp", a->source_path);
  cfg->proc_readonly = s->read_only_proc;
  for (size_t i = 0; i < s->n_cap_add; i++)
    if (cab_caps_adjust(&cfg->caps, s->cap_add[i], 1, err) < 0)
      return cab_error_prefix(err, "adapter %s: sandbox.cap_add", a->source_path);
  for (size_t i = 0; i < s->n_cap_drop; i++)
    if (cab_caps_adjust(&cfg->caps, s->cap_drop[i], 0, err) < 0)
      return cab_error_prefix(err, "adapter %s: sandbox.cap_drop", a->source_path);
  return 0;
}

/* The agent's model network: the proxy configured from the cell's options,
 * its calls logged into the staging directory, and (without a cassette) an
 * eventfd the proxy writes to stop the agent once the endpoint is gone. */
static int
agent_model_net(struct cell *c, struct cab_modelnet *mn, struct cab_sandbox_config *cfg,
                int *give_up, cab_error *err)
{
  const struct cab_cell_options *o = c->o;
  char calls[PATH_MAX];
  if (cab_path_printf(calls, sizeof calls, err, "%s/" CAB_CELL_MODEL_CALLS, c->staging) < 0)
    return -1;
  mn->pc.endpoint = o->replay ? NULL : o->endpoint;
  mn->pc.key_env = o->key_env;
  mn->pc.calls_path = strdup(calls);
  mn->pc.record_path = o->record;
  mn->pc.record_for[0] = o->tui;
  mn->pc.record_for[1] = o->model;
  mn->pc.record_for[2] = c->task->task_id;
  mn->pc.replay_path = o->replay;
  mn->pc.replay_order = !o->replay_exact;
  mn->pc.retries = o->model_retries;
  mn->pc.endpoint_wire = (enum cab_wire)o->endpoint_wire;
  if (!o->replay) {
    *give_up = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (*give_up < 0)
      return cab_error_sys(err, "eventfd");
    mn->pc.give_up_after = GIVE_UP_AFTER;
    c->give_up_after = GIVE_UP_AFTER;
    mn->pc.give_up_fd = *give_up;
    cfg->stop_fd = give_up;
  }
  return cab_modelnet_prepare(mn, cfg, err);
}

/* After the agent: the model totals, and what else the agent tried to
 * reach: every refused name becomes an instant span under the agent's run
 * (a refusal, not a hang). */
static void
agent_model_net_finish(struct cell *c, struct cab_modelnet *mn)
{
  cab_modelnet_finish(mn, &c->model, false);
  memcpy(c->refused, mn->refused, mn->n_refused * sizeof *mn->refused);
  c->n_refused = mn->n_refused;
  c->more_refused = mn->more_refused;
  for (size_t i = 0; i < mn->n_refused; i++) {
    char name[300];
    snprintf(name, sizeof name, "refused %s", mn->refused[i].name);
    int s = cab_trace_begin(c->trace, "network", name,
                            c->agent_span >= 0 ? c->agent_span : c->root_span,
                            mn->refused[i].first_ns);
    cab_trace_attr(c->trace, s, "host", mn->refused[i].name);
    cab_trace_attr(c->trace, s, "answer", "NXDOMAIN");
    cab_trace_attr_int(c->trace, s, "queries", mn->refused[i].count);
    cab_trace_end(c->trace, s, mn->refused[i].first_ns);
  }
  if (mn->start_failed && c->agent_err.message[0] == '\0') {
    char line[2300];
    snprintf(c->outcome_reason, sizeof c->outcome_reason, "model proxy: %s",
             cab_error_line(&mn->start_err, line, sizeof line));
  }
}

long
cab_cell_verify_timeout(const struct cell *c)
{
  return c->task->scorer_timeout_s > 0 ? c->task->scorer_timeout_s : c->task->timeout_s;
}

int
cab_cell_agent_compose(const struct cell *c, const char *prompt, struct cab_adapter_rendered *r,
                       struct cab_envlist *env, bool *adapter_wrong, cab_error *err)
{
  const struct cab_adapter *a = c->adapter;
  const struct cab_task *t = c->task;
  bool net = strcmp(a->wire, "none") != 0;
  char prompt_file[PATH_MAX];
  snprintf(prompt_file, sizeof prompt_file, "%s/README.md", cab_cell_workdir(c));
  struct cab_template_vars v = {
      .endpoint = net ? CAB_MODEL_BASE_URL : "",
      .endpoint_root = net ? CAB_MODEL_ROOT_URL : "",
      .model = c->o->model,
      .key = CAB_PLACEHOLDER_KEY,
      .prompt = prompt ? prompt : "",
      .prompt_file = prompt_file,
      .workdir = cab_cell_workdir(c),
      .home = a->home,
      .task_id = t->task_id,
      .max_turns = (int)c->max_turns,
  };
  *adapter_wrong = false;
  memset(r, 0, sizeof *r);
  if (cab_adapter_render(a, &v, r, err) < 0) {
    *adapter_wrong = true; /* the adapter file is wrong: no cell */
    return -1;
  }
  if (base_env(c, env, a->home) < 0)
    return cab_error_sys(err, "environment");
  for (size_t i = 0; i < r->n_env; i++)
    cab_envlist_put(env, r->env[i]);
  if (net)
    for (unsigned i = 0; i < cab_modelnet_env_count; i++)
      cab_envlist_put(env, cab_modelnet_env[i]);
  cab_envlist_set(env, "CAB_TASK_ID", t->task_id);
  return 0;
}

/* The live count of the agent's model calls, for the progress line. */
static void
proxy_counts(void *ctx, int64_t *turns, int64_t *tokens)
{
  struct cab_proxy_totals t;
  cab_proxy_totals(ctx, &t);
  *turns = t.model_calls;
  *tokens = t.total_tokens;
}

int
cab_cell_run_agent(struct cell *c, cab_error *err)
{
  const struct cab_adapter *a = c->adapter;
  const struct cab_task *t = c->task;
  bool net = strcmp(a->wire, "none") != 0;
  cleanup_free char *prompt = NULL;
  cab_error ignored = {0};
  cab_read_file_at(AT_FDCWD, c->prompt_text_path, 1 << 20, &prompt, NULL, &ignored);
  struct cab_adapter_rendered rendered;
  struct cab_envlist env = {0};
  int rc = -1;
  struct cab_modelnet mn;
  memset(&mn, 0, sizeof mn);
  bool mn_prepared = false;
  cleanup_close int give_up = -1;
  cleanup_free struct cab_bind *binds = NULL;
  cleanup_free char (*mount_srcs)[PATH_MAX] = NULL;
  bool adapter_wrong = false;
  if (cab_cell_agent_compose(c, prompt, &rendered, &env, &adapter_wrong, err) < 0) {
    c->setup_fatal = adapter_wrong;
    goto out;
  }
  char **argv = rendered.argv;
  if (write_adapter_files(c, &rendered, err) < 0)
    goto out;

  size_t nb = 0;
  binds = calloc(2 + a->n_mounts, sizeof *binds);
  mount_srcs = calloc(a->n_mounts + 1, sizeof *mount_srcs);
  if (binds == NULL || mount_srcs == NULL) {
    cab_error_sys(err, "allocate");
    goto out;
  }
  if (agent_binds(c, binds, mount_srcs, &nb, err) < 0)
    goto out;

  /* The agent's command must exist where it will run: a missing one is a
   * setup problem, not an agent_error to score. */
  if (cab_cell_check_argv0(c, argv[0], cab_envlist_get(&env, "PATH"), binds, nb, err) < 0) {
    c->setup_fatal = true;
    goto out;
  }

  struct cab_sandbox_config cfg = {0};
  cab_run_spec_init(&cfg);
  const char *writable[] = {c->work, c->home};
  if (root_config(c, &cfg, "overlay-agent", writable, 2, err) < 0)
    goto out;
  limits_config(c, &cfg, c->timeout_s);
  if (adapter_sandbox(a, &cfg, err) < 0) {
    c->setup_fatal = true;
    goto out;
  }
  char upper[PATH_MAX + 8];
  disk_budget(c, &cfg, c->work, c->home, upper, sizeof upper);
  cab_headtail_init(&c->agent_log, OUTPUT_KEEP);
  cfg.argv = argv;
  cfg.envp = env.v;
  cfg.workdir = cab_cell_workdir(c);
  cfg.binds = binds;
  cfg.n_binds = nb;
  if (a->user && cab_run_spec_ids(a->user, &cfg.uid, &cfg.gid) < 0) {
    cab_error_set(err, 0, "adapter %s: user: expected UID[:GID]", a->source_path);
    goto out;
  }
  cfg.tty = true;
  cfg.tty_io.on_output = on_agent_output;
  cfg.tty_io.ctx = c;
  cfg.tty_io.quiet = !c->o->verbose;
  cfg.tty_io.no_input = true;
  cfg.tty_io.rows = 40;
  cfg.tty_io.cols = 120;

  if (net) {
    if (agent_model_net(c, &mn, &cfg, &give_up, err) < 0)
      goto out;
    mn_prepared = true;
    c->model_net = true;
  }

  char castpath[PATH_MAX];
  if (cab_path_printf(castpath, sizeof castpath, err, "%s/" CAB_CELL_TERMINAL_CAST, c->staging) <
      0)
    goto out;
  char title[1200];
  snprintf(title, sizeof title, "%s", c->cell_id);
  if (cab_asciicast_open(castpath, 120, 40, title, &c->cast, err) < 0)
    goto out;

  /* The agent's sandbox: a child of the adapter's run (cell.c), as
   * published ("<tui>-run:<task>"). */
  char name[600];
  snprintf(name, sizeof name, "%s-run:%s", a->tui, t->task_id);
  int run = c->agent_span;
  int container = cab_trace_begin(c->trace, "container", name, run, 0);
  int64_t t0 = cab_now_ns();
  cab_error run_err = {0};
  /* The progress line counts the agent's turns and tokens as they come. */
  if (mn.proxy)
    cab_cell_progress_source(c->o->progress, proxy_counts, mn.proxy);
  int r = cab_sandbox_run(&cfg, &c->agent_res, &run_err);
  cab_cell_progress_source(c->o->progress, NULL, NULL);
  c->container_active_ms = (double)(cab_now_ns() - t0) / 1e6;
  cab_protection_of_run(&c->protection, &cfg, r == 0 ? &c->agent_res : NULL);
  cab_trace_end(c->trace, container, 0);
  if (r < 0) {
    c->agent_err = run_err;
    c->agent_exit_code = run_err.exit_code ? run_err.exit_code : 125;
    cab_trace_status(c->trace, container, 0, run_err.message);
    cab_trace_status(c->trace, run, 0, run_err.message);
  } else {
    c->agent_ran = true;
    c->agent_exit_code = c->agent_res.exit_code;
    if (c->agent_res.timed_out)
      cab_trace_attr_bool(c->trace, run, "timed_out", true);
    if (c->agent_res.over_budget)
      cab_trace_attr(c->trace, run, "over_budget", c->agent_res.budget_reason);
  }
  /* The published keys and types; the image as named, the endpoint as the
   * agent saw it. */
  cab_trace_attr(c->trace, container, "image", c->image_ref[0] ? c->image_ref : "host-rootfs");
  cab_trace_attr(c->trace, container, "model", c->o->model);
  cab_trace_attr(c->trace, container, "base_url", net ? CAB_MODEL_BASE_URL : "");
  cab_trace_attr_int(c->trace, container, "exit_code", c->agent_exit_code);
  cab_trace_attr_double(c->trace, container, "duration_s", c->container_active_ms / 1000.0);
  cab_trace_attr_bool(c->trace, container, "timed_out", r == 0 && c->agent_res.timed_out);
  cab_trace_attr(c->trace, container, "image_digest", c->image_digest);
  cab_trace_attr(c->trace, container, "argv0", argv[0]);
  cab_asciicast_close(c->cast);
  c->cast = NULL;
  rc = 0;

out:
  if (mn_prepared || mn.proxy)
    agent_model_net_finish(c, &mn);
  free((char *)mn.pc.calls_path);
  cab_adapter_rendered_free(&rendered);
  cab_envlist_free(&env);
  return rc;
}

int
cab_cell_run_verify(struct cell *c, cab_error *err)
{
  const struct cab_task *t = c->task;
  int span = cab_trace_begin(c->trace, "verify", t->task_id, c->root_span, 0);
  if (cab_task_prepare_verify(t, c->work, c->verify, err) < 0) {
    cab_trace_end(c->trace, span, 0);
    return -1;
  }
  struct cab_envlist env = {0};
  if (base_env(c, &env, "/tmp") < 0 || cab_envlist_set(&env, "TMPDIR", "/tmp") < 0 ||
      cab_envlist_set(&env, "TERM", "dumb") < 0) {
    cab_envlist_free(&env);
    return cab_error_sys(err, "environment");
  }
  char *argv[] = {"/bin/sh", "-c", t->scorer_command, NULL};
  /* The workdir, then the harness (protected paths, hidden graders) over
   * it read-only: the code under test shares the harness's uid, and could
   * otherwise rewrite a script the shell is still reading or a grader a
   * later step reads. */
  cleanup_protected_binds struct cab_protected_binds prot = {0};
  if (cab_protected_binds(t, c->verify, cab_cell_workdir(c), &prot, err) < 0) {
    cab_envlist_free(&env);
    cab_trace_end(c->trace, span, 0);
    return -1;
  }
  cleanup_free struct cab_bind *binds = calloc(prot.n + 3, sizeof *binds);
  if (binds == NULL) {
    cab_envlist_free(&env);
    cab_trace_end(c->trace, span, 0);
    return cab_error_sys(err, "allocate");
  }
  binds[0] = (struct cab_bind){.src = c->verify, .dst = cab_cell_workdir(c)};
  if (prot.n) /* none for a task that protects nothing (prot.v NULL) */
    memcpy(binds + 1, prot.v, prot.n * sizeof *binds);
  size_t n_binds = prot.n + 1;
  c->verify_protected = prot.n_readonly;
  /* A reward task: its tests read-only at /tests, and a reward directory
   * made now, empty, so that nothing the agent wrote is read as a reward. */
  char tests[PATH_MAX];
  const char *writable[] = {c->verify, c->reward_dir};
  if (t->scorer_reward) {
    if (cab_path_printf(tests, sizeof tests, err, "%s/" CAB_TASK_REWARD_TESTS_DIR, t->dir) < 0 ||
        cab_cell_reward_dir_make(c, err) < 0) {
      cab_envlist_free(&env);
      cab_trace_end(c->trace, span, 0);
      return -1;
    }
    binds[n_binds++] = (struct cab_bind){.src = tests, .dst = CAB_TASK_REWARD_TESTS_MOUNT,
                                         .readonly = true};
    binds[n_binds++] = (struct cab_bind){.src = c->reward_dir, .dst = CAB_TASK_REWARD_LOGS_MOUNT};
  }
  for (size_t i = 0; i < t->scorer_env.n; i++)
    if (cab_envlist_put(&env, t->scorer_env.v[i]) < 0) {
      cab_envlist_free(&env);
      cab_trace_end(c->trace, span, 0);
      return cab_error_sys(err, "environment");
    }
  struct cab_sandbox_config cfg = {0};
  cab_run_spec_init(&cfg);
  if (root_config(c, &cfg, NULL, writable, t->scorer_reward ? 2 : 1, err) < 0) {
    cab_envlist_free(&env);
    cab_trace_end(c->trace, span, 0);
    return -1;
  }
  c->verify_root_readonly = !cfg.root_writable && cfg.overlay_dir == NULL;
  limits_config(c, &cfg, cab_cell_verify_timeout(c));
  /* The verifier runs the agent's code: the same budget holds for it. */
  char upper[PATH_MAX + 8];
  disk_budget(c, &cfg, c->verify, NULL, upper, sizeof upper);
  if (t->scorer_reward) { /* the reward directory is the verifier's to write, within the budget */
    cfg.disk.paths[cfg.disk.n] = c->reward_dir;
    cfg.disk.labels[cfg.disk.n++] = CAB_TASK_REWARD_LOGS_MOUNT;
  }
  /* The harness and the code under test share a uid here: nothing may reach
   * into another process or the harness's printed output, or the code could
   * rewrite that output and the exit status.  The agent's sandbox keeps
   * Docker's policy: agents may debug their own code, and nothing there is
   * cab's. */
  cfg.seccomp.kind = CAB_SECCOMP_VERIFIER;
  cfg.proc_readonly = true;
  cfg.stdio_append_only = true;
  cfg.argv = argv;
  cfg.envp = env.v;
  cfg.workdir = cab_cell_workdir(c);
  cfg.binds = binds;
  cfg.n_binds = n_binds;

  /* stdout and stderr go through sockets (append-only: stdio_append_only)
   * into capped captures: no file grows with what the verifier prints. */
  cleanup_close int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (in < 0) {
    cab_envlist_free(&env);
    return cab_error_sys(err, "open /dev/null");
  }
  int fds[3] = {in, -1, -1};
  cfg.stdio_fds = fds;
  cab_headtail_init(&c->verify_stdout, OUTPUT_KEEP);
  cab_headtail_init(&c->verify_stderr, OUTPUT_KEEP);
  cfg.capture.on_output = on_verify_output;
  cfg.capture.ctx = c;
  int r = cab_sandbox_run(&cfg, &c->verify_res, &c->verify_err);
  if (r == 0)
    snprintf(c->protection.verifier_seccomp, sizeof c->protection.verifier_seccomp, "%s",
             c->verify_res.seccomp);
  cab_envlist_free(&env);
  cab_trace_end(c->trace, span, 0);
  if (r < 0) {
    /* The verifier could not start: record it as a failed verification. */
    int stop = c->verify_res.interrupted;
    memset(&c->verify_res, 0, sizeof c->verify_res);
    c->verify_res.interrupted = stop;
    c->verify_res.exit_code = c->verify_err.exit_code ? c->verify_err.exit_code : 125;
    cab_trace_status(c->trace, span, 0, c->verify_err.message);
  }
  c->verify_ran = true;
  if (t->scorer_reward && cab_cell_reward_read(c, err) < 0)
    return -1;
  cab_trace_attr_int(c->trace, span, "exit_code", c->verify_res.exit_code);
  if (c->verify_res.over_budget)
    cab_trace_attr(c->trace, span, "over_budget", c->verify_res.budget_reason);
  return 0;
}

int
cab_cell_check_require(struct cell *c, bool host, cab_error *err)
{
  /* The agent's limits, for cell.json and its reproduce command. */
  c->limits = cell_limits(c, c->timeout_s);
  struct cab_sandbox_config cfg = {0};
  cab_run_spec_init(&cfg);
  limits_config(c, &cfg, c->timeout_s);
  if (adapter_sandbox(c->adapter, &cfg, err) < 0)
    return -1;
  cfg.host_rootfs = host;
  if (!host) {
    bool overlay = cab_probe_overlay(cab_scratch_parent());
    cfg.overlay_dir = overlay ? "overlay" : NULL;
    cfg.root_writable = !overlay;
  }
  cfg.gateway.enabled = strcmp(c->adapter->wire, "none") != 0;
  cfg.disk.n = 1; /* every cell has its workdir budget */
  struct cab_protection predicted = {.required = c->o->require};
  char why[600];
  cab_protection_predict(&predicted, &cfg, why, sizeof why);
  return cab_protection_refuse("run-cell", &predicted, c->o->require, &cfg, why, err);
}

/* The verifier's captured output, for verify.log. */
int
cab_cell_verify_output(const struct cell *c, char **out, size_t *out_len, char **errout,
                       size_t *err_len)
{
  *out = cab_headtail_render(&c->verify_stdout, "verify stdout", out_len);
  *errout = cab_headtail_render(&c->verify_stderr, "verify stderr", err_len);
  if (*out == NULL || *errout == NULL)
    return -1;
  /* Why the verifier did not finish, when cab knows: one line at the end. */
  char line[2300];
  const char *why = c->verify_err.message[0]   ? cab_error_line(&c->verify_err, line, sizeof line)
                    : c->verify_res.over_budget ? c->verify_res.budget_reason
                                                : NULL;
  if (why) {
    char *joined = malloc(*err_len + strlen(why) + 16);
    if (joined == NULL)
      return -1;
    memcpy(joined, *errout, *err_len);
    *err_len += (size_t)sprintf(joined + *err_len, "cab: %s\n", why);
    free(*errout);
    *errout = joined;
  }
  return 0;
}
