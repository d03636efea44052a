/* cab exec past its options (runner/cli/cmd_exec.c reads them): the host
 * checks, the image's lease and writable layer, the environment, the root,
 * the model network, the run, and what is said about it.
 *
 * Built twice like cmd_exec.c: into the core cab (-DCAB_CORE), which runs
 * --rootfs, --host-rootfs and an already unpacked IMAGE itself, and into
 * cab-full, which also unpacks and runs the model network (#ifndef
 * CAB_CORE), so that the core links none of their libraries. */
#include "runner/cli/exec_run.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/rm_tree.h"
#include "runner/cell/leftovers.h"
#include "runner/cell/run_result.h"
#include "runner/cli/commands.h"
#include "runner/proxy/proxy.h"
#include "runner/proxy/redact.h"
#include "runner/task/task.h"
#include "sandbox/preflight.h"

void
cab_exec_opts_init(struct cab_exec_opts *o)
{
  memset(o, 0, sizeof *o);
  cab_rootfs_lease_init(&o->lease);
  o->layer_lock = -1;
  o->overlay_ok = -1;
}

/* Whether an image's run layer can be an overlay: one probe child per run,
 * shared by --require's prediction and the layer itself. */
static bool
overlay_ok(struct cab_exec_opts *o)
{
  if (o->overlay_ok < 0)
    o->overlay_ok = cab_probe_overlay(cab_scratch_parent());
  return o->overlay_ok;
}

int
cab_exec_env_add(struct cab_exec_opts *o, const char *kv, cab_error *err)
{
  if (o->env.n >= CAB_EXEC_MAX_LIST)
    return cab_error_set(err, 0, "too many --env options (at most %d)", CAB_EXEC_MAX_LIST);
  const char *eq = strchr(kv, '=');
  if (eq == kv)
    return cab_error_set(err, 0, "--env %s: the name is empty; use K=V", kv);
  const char *v = eq ? NULL : getenv(kv);
  if (eq == NULL && v == NULL)
    return 0; /* pass-through of an unset variable: nothing */
  if ((eq ? cab_envlist_put(&o->env, kv) : cab_envlist_set(&o->env, kv, v)) < 0)
    return cab_error_sys(err, "--env");
  return 0;
}

/* The store, its use lock held, and the image resolved (once per run: the
 * core's check for an unpacked rootfs keeps them for exec_image). */
static int
open_image(struct cab_exec_opts *o, cab_error *err)
{
  if (o->img)
    return 0;
  if (cab_store_open(NULL, &o->store, err) < 0 || cab_store_use(o->store, err) < 0)
    return -1;
  if (cab_image_resolve(o->store, o->image, &o->img, err) < 0)
    return err->errnum == ENOENT
               ? cab_error_set(err, ENOENT, "exec: image %s is not in the store; run 'cab pull "
                               "%s' or 'cab import'", o->image, o->image)
               : -1;
  return 0;
}

/* Take the image's rootfs: the core only ever gets here for one that is
 * unpacked (exec_needs_full), and the use lock held since has kept gc off
 * it; cab-full unpacks it first when it is not. */
static int
take_lease(struct cab_exec_opts *o, cab_error *err)
{
#ifdef CAB_CORE
  int r = cab_rootfs_lease_take_unpacked(o->store, o->img, &o->lease, err);
  if (r > 0)
    return cab_error_set(err, ENOENT, "exec: the rootfs of image %s is no longer unpacked; run "
                         "the command again", o->image);
  return r;
#else
  bool cached = false;
  return cab_rootfs_lease_take(o->store, o->img, &o->lease, &cached, NULL, err);
#endif
}

/* CAB_NO_OVERLAY=1 (not 0): rootfs/lease.c reads it too. */
static bool
env_on(const char *v)
{
  return v && *v && *v != '0';
}

/* The run's layer in memory (a tmpfs of the sandbox's own) rather than in
 * TMPDIR, where the kernel's overlay works on a tmpfs in a user namespace:
 * on a disk file system the layer's directories cost more than the rest of
 * the run's start.  Not with --memory: writes to / would then count against
 * the budget (or, under the watchdog, escape it), where on disk they do not;
 * not with CAB_NO_OVERLAY=1 (the copy). */
static bool
layer_in_memory(struct cab_exec_opts *o)
{
  return o->cfg.limits.memory_bytes <= 0 && overlay_ok(o) && !env_on(getenv("CAB_NO_OVERLAY")) &&
         cab_probe_overlay_in_memory();
}

/* The run's writable layer: in memory, else a cab-exec-* directory in
 * TMPDIR (an overlay's, or the copy's). */
static int
make_layer(struct cab_exec_opts *o, cab_error *err)
{
  if (layer_in_memory(o))
    return cab_rootfs_lease_writable(&o->lease, NULL, true, err);
  /* What killed runs left in TMPDIR (one readdir), then our own layer. */
  cab_owned_dirs_reap(cab_scratch_parent(), cab_scratch_prefixes, false, NULL);
  if (cab_owned_dir_make(cab_scratch_parent(), CAB_SCRATCH_EXEC, o->layer, sizeof o->layer,
                         &o->layer_lock, err) < 0) {
    o->layer[0] = '\0';
    return cab_error_prefix(err, "exec: the overlay directory");
  }
  return cab_rootfs_lease_writable(&o->lease, o->layer, overlay_ok(o), err);
}

/* cab exec IMAGE: the image's rootfs (unpacked once per manifest digest)
 * under a fresh writable layer, with its Env, WorkingDir, User, Entrypoint
 * and Cmd as Docker applies them (runner/cell/run_spec.h). */
static int
exec_image(struct cab_exec_opts *o, cab_error *err)
{
  if (open_image(o, err) < 0 || take_lease(o, err) < 0 || make_layer(o, err) < 0)
    return -1;
  o->root.lease = &o->lease;
  if (cab_run_spec_image_env(&o->env, o->lease.config, true) < 0)
    return cab_error_sys(err, "environment");
  if (cab_run_spec_image_process(o->lease.config, o->image, o->workdir_given, o->user_given,
                                 o->rest, o->n_rest, &o->cfg, &o->image_argv, err) < 0)
    return cab_error_prefix(err, "exec");
  return 0;
}

#ifndef CAB_CORE
/* cab-full only: the model network. */

/* What a sandbox on the model network sees: the proxy's URL and a
 * placeholder key, under the names agents and SDKs read. */
static int
set_model_env(struct cab_exec_opts *o, cab_error *err)
{
  for (unsigned i = 0; i < cab_modelnet_env_count; i++)
    if (cab_exec_env_add(o, cab_modelnet_env[i], err) < 0)
      return -1;
  return 0;
}
#else
/* The core cab: what it cannot run itself, cab-full runs from the same
 * argv: the model network, and an image whose rootfs is not unpacked yet.
 * Any failure to resolve the image goes to cab-full too, which says it in
 * its own words, exactly as before the core ran images. */
bool
cab_exec_needs_full(struct cab_exec_opts *o)
{
  if (o->net_enabled)
    return true;
  if (o->image == NULL)
    return false;
  cab_error ignored = {0};
  if (open_image(o, &ignored) == 0 && cab_rootfs_lease_ready(o->store, o->img))
    return false;
  cab_image_free(o->img);
  o->img = NULL;
  cab_store_close(o->store);
  o->store = NULL;
  return true;
}
#endif

/* cab exec IMAGE: the run's writable layer; its changes are not kept.  Once
 * the run is over (BEHIND), a process of its own removes it while cab goes
 * on to report the exit status: on a disk file system the removal is most of
 * the difference between a run with --memory (a layer on disk) and one
 * without (in memory), and nothing after the run needs it gone. */
static void
remove_run_layer(struct cab_exec_opts *o, bool behind)
{
  if (o->layer[0] && behind)
    cab_owned_dir_remove_behind(o->layer, o->layer_lock);
  else if (o->layer[0])
    cab_rm_tree_at(AT_FDCWD, o->layer, 0, NULL);
  if (o->layer_lock >= 0 && !(o->layer[0] && behind))
    close(o->layer_lock);
  o->layer[0] = '\0';
  o->layer_lock = -1;
}

/* The real key must not reach the sandbox by way of --env either.  Only
 * compared in place: cab copies the key into its memory only once the
 * sandbox's init has been cloned (cab_proxy_start). */
static int
key_leaks(const struct cab_exec_opts *o, cab_error *err)
{
  const char *key = o->net.pc.key_env ? getenv(o->net.pc.key_env) : NULL;
  if (key == NULL || strlen(key) < 8)
    return 0;
  for (size_t i = 0; i < o->env.n; i++)
    if (strstr(o->env.v[i], key)) {
      int n = (int)strcspn(o->env.v[i], "=");
      cab_error_set(err, 0, "exec: --env %.*s would put the --key-env %s key into the sandbox; "
                    "drop it (the proxy adds the key upstream)", n, o->env.v[i], o->net.pc.key_env);
      return -1;
    }
  return 0;
}

/* TERM, HOME and PATH in front, each unless set already, then the rest. */
static int
env_defaults(struct cab_exec_opts *o, cab_error *err)
{
  const char *term = getenv("TERM");
  const char *defaults[3][2] = {
      {"TERM", term && *term ? term : "xterm"},
      {"HOME", o->cfg.uid == 0 ? "/root" : "/"},
      {"PATH", CAB_DEFAULT_PATH},
  };
  struct cab_envlist full = {0};
  int rc = 0;
  for (int i = 0; i < 3; i++)
    if (cab_envlist_get(&o->env, defaults[i][0]) == NULL)
      rc |= cab_envlist_set(&full, defaults[i][0], defaults[i][1]);
  for (size_t i = 0; i < o->env.n; i++)
    rc |= cab_envlist_put(&full, o->env.v[i]);
  cab_envlist_free(&o->env);
  o->env = full;
  return rc < 0 ? cab_error_sys(err, "environment") : 0;
}

/* After the image (if any): the model network's options and the environment. */
static int
finish_config(struct cab_exec_opts *o, cab_error *err)
{
  struct cab_proxy_config *pc = &o->net.pc;
  if (o->model_opt && !o->net_enabled)
    return cab_error_set(err, 0, "exec: --%s needs --net model", o->model_opt);
  if (o->net_enabled && !pc->endpoint && !pc->replay_path)
    return cab_error_set(err, 0, "exec: --net model needs --endpoint URL (or --replay FILE to "
                                 "answer from a cassette)");
  if (pc->record_path && pc->replay_path)
    return cab_error_set(err, 0, "exec: --record and --replay exclude each other");
  if (pc->key_env) {
    const char *key = getenv(pc->key_env);
    if (key == NULL || key[0] == '\0')
      return cab_error_set(err, 0, "exec: --key-env %s: that variable is not set in cab's "
                                   "environment; export it, or drop --key-env for an endpoint "
                                   "without a key", pc->key_env);
    if (strlen(key) < CAB_REDACT_MIN_SECRET)
      return cab_error_set(err, 0, "exec: --key-env %s: the key is %zu character%s long; cab "
                                   "removes it from every answer the command gets, and a key under "
                                   "%d characters would match ordinary text: use a longer key (a "
                                   "local server accepts any)",
                           pc->key_env, strlen(key), strlen(key) == 1 ? "" : "s",
                           CAB_REDACT_MIN_SECRET);
  }
#ifndef CAB_CORE
  if (o->net_enabled && set_model_env(o, err) < 0)
    return -1;
#endif
  if (env_defaults(o, err) < 0 || key_leaks(o, err) < 0)
    return -1;
  o->cfg.envp = o->env.v;
  o->cfg.binds = o->binds;
  return 0;
}

/* --host-rootfs: the built-in task tree (its solutions), cab's store and
 * every home are hidden; --bind mounts still appear, even below them. */
static int
host_masks(struct cab_exec_opts *o, cab_error *err)
{
  char path[PATH_MAX];
  cab_error ignored = {0};
  if (cab_task_default_root(path, sizeof path, err) < 0 ||
      cab_host_masks_add(&o->masks, path, err) < 0)
    return -1;
  if (cab_store_default_home(path, sizeof path, &ignored) == 0 &&
      cab_host_masks_add(&o->masks, path, err) < 0)
    return -1;
  if (cab_host_masks_add_homes(&o->masks, err) < 0)
    return -1;
  o->root.masks = (const char *const *)o->masks.paths;
  o->root.n_masks = o->masks.n;
  return 0;
}

/* --require, before anything is made: what this run's options would get
 * on this host (cgroup detection, the root, --no-cgroup, the overlay
 * probe) against what was required; one line and exit 125 when short. */
static int
check_require(struct cab_exec_opts *o, cab_error *err)
{
  /* An explicit --seccomp unconfined is what the caller asked for: only
   * an explicit --require seccomp refuses it. */
  if (!o->require_given) {
    o->require = CAB_PROTECTION_REQUIRE_DEFAULT;
    if (o->cfg.seccomp.kind == CAB_SECCOMP_UNCONFINED)
      o->require &= ~CAB_PROT_BIT(CAB_PROT_SECCOMP);
  }
  struct cab_sandbox_config will = o->cfg;
  will.host_rootfs = o->root.host;
  will.overlay_dir = o->root.overlay_dir;
  will.gateway.enabled = o->net_enabled;
  if (o->image) {
    bool overlay = overlay_ok(o);
    will.overlay_dir = overlay ? "overlay" : NULL;
    will.root_writable = !overlay;
  }
  struct cab_protection predicted = {.required = o->require};
  char why[600];
  cab_protection_predict(&predicted, &will, why, sizeof why);
  return cab_protection_refuse("exec", &predicted, o->require, &will, why, err);
}

/* Everything between the options and the run: the image's layer, the
 * environment, the root, the model network. */
static int
exec_setup(struct cab_exec_opts *o, cab_error *err)
{
  if (o->image && exec_image(o, err) < 0)
    return -1;
  if (finish_config(o, err) < 0 || (o->root.host && host_masks(o, err) < 0) ||
      cab_run_spec_root(&o->root, &o->cfg, err) < 0)
    return -1;
#ifndef CAB_CORE
  if (o->net_enabled && cab_modelnet_prepare(&o->net, &o->cfg, err) < 0) {
    cab_proxy_free(o->net.proxy);
    return cab_error_prefix(err, "exec --net model");
  }
#endif
  return 0;
}

/* From the host checks to the exit status. */
int
cab_exec_run(struct cab_exec_opts *o)
{
  cab_error err = {0};
  /* A host that cannot give the sandbox its user namespace (disabled, or
   * restricted so that the map write fails) gets one line and its fix
   * before anything exists: no run layer, no cgroup, no result file; so
   * does a host below --require. */
  if (cab_check_userns(&err) < 0 || check_require(o, &err) < 0)
    return cab_cli_fail(&err);
  /* A failure after the run layer exists removes it (an image's bad User
   * used to leave an empty cab-exec-* behind on every run). */
  if (exec_setup(o, &err) < 0) {
    remove_run_layer(o, false);
    return cab_cli_fail(&err);
  }

  struct cab_sandbox_result res;
  struct cab_proxy_totals totals;
  const struct cab_proxy_totals *model = o->net_enabled ? &totals : NULL;
  int rc = cab_sandbox_run(&o->cfg, &res, &err);
  remove_run_layer(o, true);
  struct cab_protection prot = {.required = o->require};
  cab_protection_of_run(&prot, &o->cfg, rc == 0 ? &res : NULL);
#ifndef CAB_CORE
  if (o->net_enabled)
    cab_modelnet_finish(&o->net, &totals, true);
#endif
  if (rc < 0) {
    /* The result file still tells what happened: nothing ran, so no limit
     * held, whatever was set up for it. */
    res.exit_code = err.exit_code ? err.exit_code : CAB_EXIT_RUNNER;
    res.memory = res.pids = res.cpu = CAB_MECH_NONE;
    cab_error ignored = {0};
    if (o->result_path)
      cab_run_result_write(o->result_path, &o->cfg, &res, model, &prot, &ignored);
    return cab_cli_fail(&err);
  }
  if (res.degraded[0])
    fprintf(stderr, "cab: warning: %s\n", res.degraded);
  /* A kill the user asked for is still news: say which limit fired, so a
   * 137 is not mistaken for the command's own crash. */
  if (res.timed_out)
    fprintf(stderr, "cab: exec: --timeout %g s fired: the command was killed (exit %d)\n",
            o->cfg.limits.timeout_s, res.exit_code);
  else if (res.oom_killed)
    fprintf(stderr, "cab: exec: --memory fired: the command was killed out of memory (exit %d)\n",
            res.exit_code);
  else if (res.over_budget)
    fprintf(stderr, "cab: exec: %s: the command was killed (exit %d)\n", res.budget_reason,
            res.exit_code);
  if (res.stdio_nulled)
    fprintf(stderr, "cab: warning: a directory or O_PATH fd given as stdin, stdout or stderr "
                    "was replaced by /dev/null: through /proc it leads out of the sandbox\n");
  if (o->result_path &&
      cab_run_result_write(o->result_path, &o->cfg, &res, model, &prot, &err) < 0)
    return cab_cli_fail(&err);
  /* What held is what counts: a run that came out below --require (the
   * prediction was wrong) is the runner's failure, whatever it printed. */
  char gave[256];
  int short_of = cab_protection_first_missing(&prot, o->require, false, gave, sizeof gave);
  if (short_of >= 0) {
    cab_error_set(&err, 0, "exec: --require %s: %s, below what was predicted",
                  cab_protection_item_name((enum cab_protection_item)short_of), gave);
    return cab_cli_fail(&err);
  }
  if (o->net.start_failed)
    return cab_cli_fail(&o->net.start_err);
  return res.exit_code;
}
