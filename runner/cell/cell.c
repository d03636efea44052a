/* One cell, top to bottom in the order it runs; each phase is a span. */
#include "runner/cell/cell.h"
#include "common/rm_tree.h"
#include "common/sha256.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/strfmt.h"
#include "common/stopsig.h"
#include "rootfs/ref.h"
#include "rootfs/unpack.h"
#include "runner/cell/cell_internal.h"
#include "runner/cell/leftovers.h"
#include "runner/record/artifacts.h"
#include "runner/record/layout.h"
#include "runner/record/model_calls.h"
#include "runner/cell/snapshot.h"
#include "sandbox/preflight.h"
#include "scorers/scorers.h"

#define DIFF_KEEP ((size_t)8 << 20)

/* Model ids nest as directories: keep them to plain path components. */
static int
check_model_id(const char *m, cab_error *err)
{
  if (m == NULL || *m == '\0')
    return cab_error_set(err, 0, "run-cell: --model is required (e.g. scripted/demo)");
  if (m[0] == '/' || strstr(m, "//") || strstr(m, "..") || m[strlen(m) - 1] == '/')
    return cab_error_set(err, 0, "--model %s: must be a relative id like vendor/name, without "
                                 "'..' or empty components", m);
  for (const char *p = m; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
          strchr("._-/:+@", *p)))
      return cab_error_set(err, 0, "--model %s: character '%c' is not allowed", m, *p);
  return 0;
}

static int
remove_tree(const char *path)
{
  char parent[PATH_MAX];
  snprintf(parent, sizeof parent, "%s", path);
  char *slash = strrchr(parent, '/');
  if (slash == NULL)
    return -1;
  *slash = '\0';
  cleanup_close int fd = open(parent[0] ? parent : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  cab_error ignored = {0};
  return cab_rm_tree_at(fd, slash + 1, CAB_RM_PLAIN_NAME, &ignored);
}

/* A stop signal (^C, kill) ends the cell without a record: a half-run cell
 * is no measurement, and scoring it as a fail or an agent_error would be a
 * false result.  SEEN is the one a sandbox's supervisor took while the agent
 * or verifier ran; else one may be pending (we block them, cab_cell_run). */
static bool
interrupted(int seen, const char *phase, cab_error *err)
{
  int sig = seen && !cab_stopsig_ignored(seen) ? seen : cab_stopsig_take();
  if (sig == 0)
    return false;
  const char *name = sigabbrev_np(sig);
  cab_error_set(err, 0, "interrupted by SIG%s during %s: nothing recorded", name ? name : "?",
                phase);
  err->exit_code = 128 + sig;
  return true;
}

/* Find the image in the store before any work.  A cell never pulls: a
 * missing image is the caller's error (exit 125, naming 'cab pull' and
 * 'cab import'), not an infra cell. */
static int
resolve_image(struct cell *c, const char *ref, cab_error *err)
{
  if (cab_store_open(NULL, &c->store, err) < 0 || cab_store_use(c->store, err) < 0)
    return -1;
  if (cab_image_resolve(c->store, ref, &c->image, err) < 0) {
    if (err->errnum != ENOENT)
      return -1;
    return cab_error_set(err, ENOENT,
                         "image %s is not in the store at %s; fetch it with 'cab pull %s' or "
                         "load it offline with 'cab import'",
                         ref, cab_store_home(c->store), ref);
  }
  return 0;
}

/* The resolved image's rootfs: unpacked once per manifest digest (later
 * cells hit the cache), locked for this cell's lifetime. */
static int
prepare_image(struct cell *c, const char *ref, cab_error *err)
{
  int span = cab_trace_begin(c->trace, "image", ref, c->root_span, 0);
  bool cached = false;
  struct cab_unpack_stats stats = {0};
  if (cab_rootfs_lease_take(c->store, c->image, &c->lease, &cached, &stats, err) < 0)
    return -1;
  c->overlay_ok = cab_probe_overlay(cab_scratch_parent());
  cab_trace_attr(c->trace, span, "writable_root", c->overlay_ok ? "overlay" : "copy");
  /* The image as the user or the plan named it ("busybox:1", not the
   * store's "docker.io/library/busybox:1"), as the published cells record
   * it; the digest is kept apart.  A bare digest names no image: then the
   * stored name, in its short form. */
  if (strncmp(ref, "sha256:", 7) == 0 && c->image->name[0])
    cab_ref_familiar(c->image->name, c->image_ref, sizeof c->image_ref);
  else
    snprintf(c->image_ref, sizeof c->image_ref, "%s", ref);
  snprintf(c->image_digest, sizeof c->image_digest, "%s",
           c->image->index_digest[0] ? c->image->index_digest : c->image->digest);
  cab_trace_attr(c->trace, span, "digest", c->image->digest);
  cab_trace_attr(c->trace, span, "cache", cached ? "hit" : "unpacked");
  cab_trace_end(c->trace, span, 0);
  return 0;
}

/* What killed runs left: their scratch (workdir, snapshots, overlay upper
 * layers: gigabytes) and their staging directories beside this cell.  One
 * readdir each; only dead owners' directories go (runner/cell/leftovers.h). */
static void
reap_leftovers(const struct cell *c)
{
  static const char *const staging[] = {CAB_RECORD_STAGING_PREFIX, NULL};
  cab_owned_dirs_reap(cab_scratch_parent(), cab_scratch_prefixes, false, NULL);
  char parent[PATH_MAX];
  snprintf(parent, sizeof parent, "%s", c->cell_dir);
  char *slash = strrchr(parent, '/');
  if (slash) {
    *slash = '\0';
    cab_owned_dirs_reap(parent, staging, false, NULL);
  }
}

/* A run killed inside publish(), between its two renames, left the previous
 * cell aside as LEAF.old-PID and none at LEAF: put it back (readers would
 * otherwise see no cell, or the aside as a second one).  A dead owner's
 * aside beside a cell in place is removed. */
static void
restore_aside(const struct cell *c)
{
  char parent[PATH_MAX];
  snprintf(parent, sizeof parent, "%s", c->cell_dir);
  char *slash = strrchr(parent, '/');
  if (slash == NULL)
    return;
  *slash = '\0';
  const char *leaf = slash + 1;
  cleanup_dir DIR *d = opendir(parent);
  if (d == NULL)
    return;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    const char *n = de->d_name;
    long pid = cab_record_aside_of(n, leaf);
    if (pid <= 1 || pid == getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
      continue;
    if (renameat(dirfd(d), n, dirfd(d), leaf) < 0) {
      cab_error ignored = {0};
      cab_rm_tree_at(dirfd(d), n, CAB_RM_PLAIN_NAME, &ignored);
    }
  }
}

static int
make_dirs(struct cell *c, cab_error *err)
{
  if (cab_owned_dir_make(cab_scratch_parent(), CAB_SCRATCH_CELL, c->scratch, sizeof c->scratch,
                         &c->scratch_lock, err) < 0) {
    c->scratch[0] = '\0';
    return -1;
  }
  if (cab_path_printf(c->work, sizeof c->work, err, "%s/work", c->scratch) < 0 ||
      cab_path_printf(c->home, sizeof c->home, err, "%s/home", c->scratch) < 0 ||
      cab_path_printf(c->verify, sizeof c->verify, err, "%s/verify", c->scratch) < 0)
    return -1;
  if (mkdir(c->home, 0755) < 0)
    return cab_error_sys(err, "create %s", c->home);

  /* The cell directory is built as a staging sibling, renamed at the end. */
  char parent[PATH_MAX];
  snprintf(parent, sizeof parent, "%s", c->cell_dir);
  *strrchr(parent, '/') = '\0';
  if (cab_mkdir_p(parent, 0755, err) < 0)
    return -1;
  const char *leaf = strrchr(c->cell_dir, '/') + 1;
  if (cab_record_staging_template(c->staging, sizeof c->staging, parent, leaf, getpid(), err) < 0) {
    c->staging[0] = '\0';
    return -1;
  }
  if (mkdtemp(c->staging) == NULL) {
    c->staging[0] = '\0';
    return cab_error_sys(err, "create a staging directory in %s", parent);
  }
  chmod(c->staging, 0755);
  c->staging_lock = cab_owned_dir_lock(c->staging);
  if (c->staging_lock < 0)
    return cab_error_sys(err, "lock the staging directory %s", c->staging);
  return 0;
}

/* Put the staging directory in the cell's place: the old cell (if any) is
 * moved aside first, so readers see the old cell or the new one. */
static int
publish(struct cell *c, cab_error *err)
{
  char aside[PATH_MAX + 32];
  if (cab_record_aside_path(aside, sizeof aside, c->cell_dir, getpid(), err) < 0)
    return -1;
  bool had_old = rename(c->cell_dir, aside) == 0;
  if (!had_old && errno != ENOENT)
    return cab_error_sys(err, "move the previous %s aside", c->cell_dir);
  if (rename(c->staging, c->cell_dir) < 0) {
    int saved = errno;
    if (had_old)
      rename(aside, c->cell_dir);
    return cab_error_set(err, saved, "publish %s", c->cell_dir);
  }
  if (had_old)
    remove_tree(aside);
  return 0;
}

static int
snapshots(struct cell *c, struct cab_snapshot_store *store, const char *label,
          struct cab_snapshot *snap, cab_error *err)
{
  int span = cab_trace_begin(c->trace, "snapshot", label, c->root_span, 0);
  int r = cab_snapshot_take(store, c->work, label, snap, err);
  cab_trace_attr_int(c->trace, span, "files", (int64_t)snap->n_files);
  cab_trace_end(c->trace, span, 0);
  return r;
}

/* STORE NULL: the workdir was over its budget and never snapshotted
 * after the agent; the cell records no changes (it is an agent_error). */
static int
write_changes(struct cell *c, struct cab_snapshot_store *store, const struct cab_snapshot *before,
              const struct cab_snapshot *after, cab_error *err)
{
  struct cab_change_list changes = {0};
  char *patch = NULL;
  size_t patch_len = 0;
  if (store && cab_snapshot_diff(store, before->id, after->id, &changes, &patch, &patch_len,
                                 err) < 0)
    return -1;
  /* The diff is the agent's text, up to the workdir's budget: keep its
   * first and last 8 MiB (the change list keeps every path). */
  if (patch_len > 2 * DIFF_KEEP) {
    struct cab_headtail ht;
    cab_headtail_init(&ht, DIFF_KEEP);
    cab_headtail_add(&ht, patch, patch_len);
    char *cut = cab_headtail_render(&ht, CAB_CELL_DIFF, &patch_len);
    cab_headtail_free(&ht);
    free(patch);
    patch = cut;
    if (patch == NULL) {
      cab_change_list_free(&changes);
      return cab_error_set(err, ENOMEM, CAB_CELL_DIFF);
    }
  }
  cJSON *j = cab_changes_to_json(&changes);
  char *text = cab_json_print(j, true);
  int r = cab_cell_write_text(c->staging, CAB_CELL_CHANGES, text, strlen(text), err);
  if (r == 0)
    r = cab_cell_write_text(c->staging, CAB_CELL_DIFF, patch, patch_len, err);
  free(text);
  cJSON_Delete(j);
  free(patch);
  cab_change_list_free(&changes);
  return r;
}

/* Model calls become child spans of the agent's run. */
struct call_spans {
  struct cell *c;
  int parent;
};

static void
model_call_span(const struct cab_model_call *call, void *arg)
{
  struct call_spans *cs = arg;
  struct cab_trace *t = cs->c->trace;
  int64_t start = cab_model_call_time_ns(call->timestamp);
  int s = cab_trace_begin(t, "model_call", call->path ? call->path : "model_call", cs->parent,
                          start);
  cab_trace_end(t, s, start + (int64_t)((call->latency_ms.has ? call->latency_ms.v : 0) * 1e6));
  const struct {
    const char *key;
    struct cab_num v;
  } ints[] = {{CAB_CALL_STATUS, call->status},
              {CAB_CALL_PROMPT_TOKENS, call->prompt_tokens},
              {CAB_CALL_COMPLETION_TOKENS, call->completion_tokens},
              {CAB_CALL_TOTAL_TOKENS, call->total_tokens}};
  for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
    if (ints[i].v.has)
      cab_trace_attr_int(t, s, ints[i].key, (int64_t)ints[i].v.v);
}

static void
model_call_spans(struct cell *c)
{
  char path[PATH_MAX];
  if (cab_snprintf_checked(path, sizeof path, "%s/" CAB_CELL_MODEL_CALLS, c->staging) < 0)
    return; /* never: check_cell_dir_room made room for every artifact */
  cleanup_free char *text = NULL;
  size_t len = 0;
  cab_error ignored = {0};
  if (cab_read_file(AT_FDCWD, path, SIZE_MAX - 1, 0, &text, &len, NULL, &ignored) < 0)
    return;
  struct call_spans cs = {c, c->agent_span >= 0 ? c->agent_span : c->root_span};
  /* A line that is JSON but no object still makes a (bare) span, as always. */
  cab_model_calls_each(text, len, CAB_MODEL_CALLS_ANY_JSON, model_call_span, &cs);
}

/* On the host's /, the sandboxes must not see the task tree (its
 * solutions), cab's store, the results (other cells, this cell's own
 * artifacts as they are written), the cell's scratch (snapshots, the
 * verifier's copy) or anyone's home.  The cell's own binds (workdir, HOME,
 * cab-agent) are mounted after the masks and still appear. */
static int
collect_masks(struct cell *c, const char *tasks_dir, cab_error *err)
{
  char store[PATH_MAX];
  cab_error ignored = {0};
  struct cab_host_masks *m = &c->masks;
  if (cab_host_masks_add(m, tasks_dir, err) < 0 || cab_host_masks_add(m, c->task->dir, err) < 0)
    return -1;
  if (cab_store_default_home(store, sizeof store, &ignored) == 0 &&
      cab_host_masks_add(m, store, err) < 0)
    return -1;
  if (cab_host_masks_add(m, c->o->out_dir ? c->o->out_dir : "results", err) < 0 ||
      cab_host_masks_add(m, c->scratch, err) < 0)
    return -1;
  return cab_host_masks_add_homes(m, err);
}

static void
cell_free(struct cell *c)
{
  if (c->scratch[0])
    remove_tree(c->scratch);
  if (c->staging[0])
    remove_tree(c->staging);
  cab_rootfs_lease_release(&c->lease);
  /* Unlocked only once removed (or published). */
  if (c->scratch_lock >= 0)
    close(c->scratch_lock);
  if (c->staging_lock >= 0)
    close(c->staging_lock);
  cab_image_free(c->image);
  cab_store_close(c->store);
  cab_adapter_free(c->adapter);
  cab_host_masks_free(&c->masks);
  cab_task_free(c->task);
  cab_trace_free(c->trace);
  cab_scores_free(&c->scores);
  cab_headtail_free(&c->agent_log);
  cab_headtail_free(&c->verify_stdout);
  cab_headtail_free(&c->verify_stderr);
  free(c->reward_json);
  for (size_t i = 0; i < c->n_key_redacted; i++)
    free(c->key_redacted[i]);
}

/* The artifacts are written into the staging directory beside the cell,
 * each through a temporary file beside it (cab_write_file_atomic): when the
 * longest of those paths does not fit, the cell is refused here, before
 * anything is created or run, not after the agent ran for nothing. */
static int
check_cell_dir_room(const struct cell *c, const char *out, cab_error *err)
{
  static const char *const artifacts[] = {
      CAB_CELL_JSON,      CAB_CELL_MODEL_CALLS,   CAB_CELL_TRACE, CAB_CELL_AGENT_LOG,
      CAB_CELL_VERIFY_LOG, CAB_CELL_TERMINAL_CAST, CAB_CELL_DIFF,  CAB_CELL_CHANGES,
      CAB_CELL_VERIFY_REWARD,
  };
  char parent[PATH_MAX], staging[PATH_MAX], path[PATH_MAX];
  memcpy(parent, c->cell_dir, sizeof parent);
  char *slash = strrchr(parent, '/');
  *slash = '\0';
  cab_error why = {0};
  int rc = cab_record_staging_template(staging, sizeof staging, parent, slash + 1, getpid(), &why);
  for (size_t i = 0; rc == 0 && i < sizeof artifacts / sizeof artifacts[0]; i++)
    rc = cab_path_printf(path, sizeof path, &why, "%s/%s.tmp.XXXXXX", staging, artifacts[i]);
  if (rc < 0)
    return cab_error_set(err, ENAMETOOLONG,
                         "--out %.200s%s: too long for the cell's files (a path below it would be "
                         "longer than %zu bytes)",
                         out, strlen(out) > 200 ? "..." : "", sizeof path - 1);
  return 0;
}

static int
identify(struct cell *c, cab_error *err)
{
  const struct cab_cell_options *o = c->o;
  if (o->sweep_id) {
    snprintf(c->sweep_id, sizeof c->sweep_id, "%s", o->sweep_id);
  } else {
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(c->sweep_id, sizeof c->sweep_id, "local-%Y%m%d", &tm);
  }
  if (strchr(c->sweep_id, '/') || strstr(c->sweep_id, "..") || c->sweep_id[0] == '.')
    return cab_error_set(err, 0, "--sweep-id %s: must be one path component", c->sweep_id);
  /* The cell id names the cell in cell.json and the results index: a cut
   * one would name another cell. */
  int n = o->run > 0 ? cab_snprintf_checked(c->cell_id, sizeof c->cell_id, "%s/%s/%s/%s#run%d",
                                            c->sweep_id, o->tui, o->model, c->task->task_id,
                                            o->run)
                     : cab_snprintf_checked(c->cell_id, sizeof c->cell_id, "%s/%s/%s/%s",
                                            c->sweep_id, o->tui, o->model, c->task->task_id);
  if (n < 0) {
    c->cell_id[0] = '\0';
    return cab_error_set(err, ENAMETOOLONG, "cell id %s/%s/%s/%s: longer than %zu bytes",
                         c->sweep_id, o->tui, o->model, c->task->task_id, sizeof c->cell_id - 1);
  }
  const char *out = o->out_dir ? o->out_dir : "results";
  if (cab_record_cell_dir(c->cell_dir, sizeof c->cell_dir, out, c->sweep_id, o->tui, o->model,
                          c->task->task_id, o->run, err) < 0)
    return -1;
  return check_cell_dir_room(c, out, err);
}

/* The prompt's sha256 (bare hex, as sha256sum prints it), for the
 * provenance of exported rows: the task can change after the cell ran. */
static void
prompt_digest(struct cell *c)
{
  cleanup_free char *text = NULL;
  size_t len = 0;
  cab_error ignored = {0};
  c->prompt_sha256[0] = '\0';
  if (cab_read_file_at(AT_FDCWD, c->prompt_text_path, 1 << 20, &text, &len, &ignored) < 0)
    return;
  char d[80];
  cab_sha256_buffer(text, len, d);
  snprintf(c->prompt_sha256, sizeof c->prompt_sha256, "%s", strncmp(d, "sha256:", 7) == 0 ? d + 7 : d);
}

int
cab_cell_run(const struct cab_cell_options *o, struct cab_cell_summary *sum, cab_error *err)
{
  struct cell c;
  memset(&c, 0, sizeof c);
  c.o = o;
  cab_rootfs_lease_init(&c.lease);
  c.rootfs = c.lease.lower;
  c.scratch_lock = -1;
  c.staging_lock = -1;
  c.agent_span = -1;
  snprintf(c.tokens_source, sizeof c.tokens_source, "not recorded");
  int rc = -1;
  struct cab_snapshot_store *snapstore = NULL;
  /* Stop signals wait for the next step boundary, and the cell ends there
   * with its sandboxes killed and its scratch and staging removed. */
  sigset_t oldmask;
  cab_stopsig_block(&oldmask);

  /* Everything that can be wrong with the request is found before any
   * work: unknown TUI or task, bad ids. */
  char tasks_dir[PATH_MAX];
  if (o->tasks_dir) {
    if (cab_path_printf(tasks_dir, sizeof tasks_dir, err, "%s", o->tasks_dir) < 0) {
      cab_error_prefix(err, "--tasks-dir");
      goto out;
    }
  } else if (cab_task_default_root(tasks_dir, sizeof tasks_dir, err) < 0) {
    goto out;
  }
  if (check_model_id(o->model, err) < 0 || cab_adapter_load(o->tui, &c.adapter, err) < 0 ||
      cab_task_check_id(o->task_id, err) < 0 ||
      cab_task_find(tasks_dir, o->task_id, &c.task, err) < 0 || identify(&c, err) < 0)
    goto out;
  c.timeout_s = o->timeout_s > 0 ? o->timeout_s : c.task->timeout_s;
  c.max_turns = o->max_turns > 0 ? o->max_turns : c.task->max_turns;
  bool net = strcmp(c.adapter->wire, "none") != 0;
  if (net && !o->endpoint && !o->replay) {
    cab_error_set(err, 0, "run-cell: --tui %s needs a model endpoint: pass --endpoint URL, set "
                          "CAB_ENDPOINT, or --replay a cassette", o->tui);
    goto out;
  }
  if (net && o->replay && cab_cell_check_cassette(o, c.task->task_id, err) < 0)
    goto out;
  if (net && !o->replay && cab_cell_check_endpoint(o->endpoint, err) < 0)
    goto out;
  if (net && cab_cell_check_key(o->key_env, err) < 0)
    goto out;
  /* Every sandbox of a cell needs a user namespace: a host without them
   * gets one line and its fix now, not a half-run cell. */
  if (cab_check_userns(err) < 0)
    goto out;
  const char *image = o->image ? o->image : (c.task->image ? c.task->image : c.adapter->image);
  bool host = o->host_rootfs || image == NULL;
  /* Below --require on this host: one line, no cell. */
  c.protection.required = o->require;
  if (cab_cell_check_require(&c, host, err) < 0)
    goto out;
  if (o->preflight) {
    rc = 0;
    goto out;
  }

  if (!host && resolve_image(&c, image, err) < 0)
    goto out;
  /* --dry-run: everything checked, the image found; nothing runs. */
  if (o->dry_run) {
    sum->dry_run_json = cab_cell_dry_run_json(&c, image, host, err);
    rc = sum->dry_run_json ? 0 : -1;
    goto out;
  }

  c.trace = cab_trace_new(c.cell_id);
  c.started_ns = cab_wall_ns();
  cab_iso8601_us(c.started_ns, c.started_at, sizeof c.started_at);
  c.root_span = cab_trace_begin(c.trace, "cell", c.cell_id, -1, c.started_ns);
  if (interrupted(0, "setup", err))
    goto out;
  reap_leftovers(&c);
  restore_aside(&c);
  if (make_dirs(&c, err) < 0 || (host && collect_masks(&c, tasks_dir, err) < 0))
    goto out;

  /* 1. image */
  cab_error phase_err = {0};
  bool setup_ok = true;
  if (!host)
    cab_cell_progress_phase(o->progress, "image");
  if (!host && prepare_image(&c, image, &phase_err) < 0) {
    setup_ok = false;
    snprintf(c.outcome, sizeof c.outcome, "infra_error");
    char line[2300];
    snprintf(c.outcome_reason, sizeof c.outcome_reason, "image: %s",
             cab_error_line(&phase_err, line, sizeof line));
  }

  if (interrupted(0, "the image unpack", err))
    goto out;

  /* 2. the task's workdir, fresh; the prompt is its README.md */
  char name[600];
  snprintf(name, sizeof name, "prepare:%s", c.task->task_id);
  cab_cell_progress_phase(o->progress, "setup");
  int setup = cab_trace_begin(c.trace, "task_setup", name, c.root_span, 0);
  /* The published keys; the workdir as the agent sees it, never the host's
   * scratch path.  cab applies no plugins: the agent runs as its adapter
   * file says, the published "factory" mode. */
  cab_trace_attr(c.trace, setup, "workdir", cab_cell_workdir(&c));
  cab_trace_attr(c.trace, setup, "task_category", c.task->family);
  cab_trace_attr_strings(c.trace, setup, "plugin_stack", NULL, 0);
  cab_trace_attr(c.trace, setup, "behavior_mode", "factory");
  if (cab_cell_workdir_prepare(&c, err) < 0)
    goto out;
  if (cab_path_printf(c.prompt_text_path, sizeof c.prompt_text_path, err, "%s/README.md",
                      c.work) < 0)
    goto out;
  prompt_digest(&c);
  cab_trace_end(c.trace, setup, 0);
  /* A task whose own workdir is over its budget is the task's fault, not
   * the agent's: no agent runs. */
  if (setup_ok && cab_cell_workdir_over_budget(&c)) {
    setup_ok = false;
    snprintf(c.outcome, sizeof c.outcome, "infra_error");
    snprintf(c.outcome_reason, sizeof c.outcome_reason,
             "task: the pristine %s; raise workdir_budget in task.json", c.over_budget);
  }

  /* 3. snapshot before, in a store outside the workdir */
  char snapdir[PATH_MAX];
  struct cab_snapshot before = {0}, after = {0};
  if (cab_path_printf(snapdir, sizeof snapdir, err, "%s/snapshots", c.scratch) < 0 ||
      cab_snapshot_store_open(snapdir, c.work, &snapstore, err) < 0 ||
      snapshots(&c, snapstore, "before", &before, err) < 0 ||
      interrupted(0, "the task setup", err))
    goto out;

  /* 4. the adapter's run, as published: what it applies (a tool_call),
   * then the agent's sandbox (a container), both under adapter_run. */
  snprintf(name, sizeof name, "%s:%s", c.adapter->tui, c.task->task_id);
  c.agent_span = cab_trace_begin(c.trace, "adapter_run", name, c.root_span, 0);
  cab_trace_attr_int(c.trace, c.agent_span, "timeout_s", c.limits.timeout_s);
  cab_trace_attr_strings(c.trace, c.agent_span, "plugin_stack", NULL, 0);
  /* No plugins yet: the published keys, empty; the adapter's config files
   * (written into the agent's HOME) counted. */
  int plugins = cab_trace_begin(c.trace, "tool_call", "applied_plugins", c.agent_span, 0);
  cab_trace_attr(c.trace, plugins, "tui", c.adapter->tui);
  cab_trace_attr_int(c.trace, plugins, "count", 0);
  cab_trace_attr_strings(c.trace, plugins, "applied", NULL, 0);
  cab_trace_attr_strings(c.trace, plugins, "env_keys", NULL, 0);
  cab_trace_attr_strings(c.trace, plugins, "extra_args", NULL, 0);
  cab_trace_attr_int(c.trace, plugins, "applied_count", 0);
  cab_trace_attr_int(c.trace, plugins, "skipped_count", 0);
  cab_trace_attr_int(c.trace, plugins, "config_files", (int64_t)c.adapter->n_files);
  cab_trace_end(c.trace, plugins, 0);

  /* 5. the agent */
  if (setup_ok)
    cab_cell_progress_phase(o->progress, "agent");
  int agent_rc = setup_ok ? cab_cell_run_agent(&c, &phase_err) : 0;
  if (agent_rc == 0 && c.agent_ran)
    cab_trace_attr_int(c.trace, c.agent_span, "exit_code", c.agent_exit_code);
  cab_trace_end(c.trace, c.agent_span, 0);
  cab_cell_progress_counts(o->progress, c.model.model_calls, c.model.total_tokens);
  if (agent_rc < 0 && c.setup_fatal) {
    *err = phase_err; /* a setup problem: no cell */
    goto out;
  }
  if (agent_rc < 0) {
    snprintf(c.outcome, sizeof c.outcome, "infra_error");
    char line[2300];
    snprintf(c.outcome_reason, sizeof c.outcome_reason, "setup: %s",
             cab_error_line(&phase_err, line, sizeof line));
    c.agent_exit_code = CAB_EXIT_RUNNER;
  }
  if (interrupted(c.agent_res.interrupted, "the agent run", err))
    goto out;
  /* The agent ran below --require (the prediction was wrong): no
   * measurement, not verified, recorded as infra_error. */
  char gave[256];
  int short_of = c.agent_ran ? cab_protection_first_missing(&c.protection, o->require, false,
                                                            gave, sizeof gave)
                             : -1;
  if (short_of >= 0) {
    setup_ok = false;
    snprintf(c.outcome, sizeof c.outcome, "infra_error");
    snprintf(c.outcome_reason, sizeof c.outcome_reason,
             "protection: --require %s: %s, below what this host was predicted to give",
             cab_protection_item_name((enum cab_protection_item)short_of), gave);
  }
  if (c.model.model_calls > 0)
    snprintf(c.tokens_source, sizeof c.tokens_source, "proxy");
  model_call_spans(&c);

  /* 6. snapshot after, and the diff (the progress line's "verify": what
   * the verifier gets is made here).  Measured first (the agent's
   * watchdog samples; a last write can land between two samples): a tree
   * over the task's budget is never hashed, copied or verified. */
  cab_cell_progress_phase(o->progress, "verify");
  bool over = c.agent_res.over_budget || cab_cell_workdir_over_budget(&c);
  if (over) {
    int span = cab_trace_begin(c.trace, "snapshot", "after", c.root_span, 0);
    cab_trace_status(c.trace, span, 0,
                     c.agent_res.over_budget ? c.agent_res.budget_reason : c.over_budget);
    cab_trace_end(c.trace, span, 0);
  }
  if (over ? write_changes(&c, NULL, &before, &after, err) < 0
           : (snapshots(&c, snapstore, "after", &after, err) < 0 ||
              write_changes(&c, snapstore, &before, &after, err) < 0))
    goto out;

  /* 7. verify in a fresh sandbox, protected paths restored */
  if (interrupted(0, "the snapshot", err) ||
      (setup_ok && !over && cab_cell_run_verify(&c, err) < 0) ||
      interrupted(c.verify_res.interrupted, "the verification", err))
    goto out;
  if (!setup_ok || over)
    c.verify_res.exit_code = CAB_EXIT_RUNNER;

  c.ended_ns = cab_wall_ns();
  cab_iso8601_us(c.ended_ns, c.ended_at, sizeof c.ended_at);

  /* 8. score */
  cab_cell_progress_phase(o->progress, "score");
  if (cab_cell_write_artifacts(&c, err) < 0 || cab_cell_redact_key(&c, false, err) < 0 ||
      cab_cell_score_and_finish(&c, sum, err) < 0)
    goto out;

  /* 9. clean up, then write the record and put it in place */
  snprintf(name, sizeof name, "cleanup:%s", c.adapter->tui);
  int cleanup = cab_trace_begin(c.trace, "cleanup", name, c.root_span, 0);
  cab_snapshot_store_close(snapstore);
  snapstore = NULL;
  remove_tree(c.scratch);
  c.scratch[0] = '\0';
  cab_trace_end(c.trace, cleanup, 0);
  cab_trace_end(c.trace, c.root_span, c.ended_ns);
  /* The commit point: nothing is published that holds the real key. */
  if (cab_cell_write_record(&c, err) < 0 || cab_cell_redact_key(&c, true, err) < 0 ||
      interrupted(0, "the scoring", err) ||
      publish(&c, err) < 0)
    goto out;
  c.staging[0] = '\0';
  snprintf(sum->cell_dir, sizeof sum->cell_dir, "%s", c.cell_dir);
  rc = 0;

out:
  if (rc < 0 && err->message[0] && c.cell_id[0])
    cab_error_prefix(err, "cell %s", c.cell_id);
  cab_snapshot_store_close(snapstore);
  cell_free(&c);
  /* Decided: a signal that comes after the last check changes nothing (the
   * cell is published, or the error already says why not). */
  while (cab_stopsig_take() != 0)
    ;
  cab_stopsig_restore(&oldmask);
  return rc;
}
