/* Sweep plans: what needs the filesystem (adapters, profile, cassettes,
 * tasks), and loading a plan file. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/glob.h"
#include "common/sha256.h"
#include "common/strfmt.h"
#include "runner/adapters/adapter.h"
#include "runner/sweep/plan.h"
#include "scorers/scorers.h"

static bool
has_glob(const char *s)
{
  return strpbrk(s, "*?[") != NULL;
}

int
cab_sweep_expand_tasks(char *const *patterns, size_t n, const struct cab_strv *all,
                       const char *origin, const char *tasks_root, struct cab_strv *out,
                       cab_error *err)
{
  cleanup_free bool *take = calloc(all->n ? all->n : 1, sizeof *take);
  if (take == NULL)
    return cab_error_sys(err, "%s: memory", origin);
  for (size_t i = 0; i < n; i++) {
    size_t hits = 0;
    for (size_t k = 0; k < all->n; k++)
      if (has_glob(patterns[i]) ? cab_glob_match(patterns[i], all->v[k])
                                : strcmp(patterns[i], all->v[k]) == 0) {
        take[k] = true;
        hits++;
      }
    if (hits == 0) {
      if (has_glob(patterns[i]))
        return cab_error_set(err, 0, "%s: tasks[%zu]: '%s' matches no task in %s (see 'cab tasks "
                                     "list')", origin, i, patterns[i], tasks_root);
      return cab_error_set(err, 0, "%s: tasks[%zu]: no task '%s' in %s (see 'cab tasks list')",
                           origin, i, patterns[i], tasks_root);
    }
  }
  size_t count = 0;
  for (size_t k = 0; k < all->n; k++)
    count += take[k];
  out->v = calloc(count ? count : 1, sizeof *out->v);
  out->n = 0;
  if (out->v == NULL)
    return cab_error_sys(err, "%s: memory", origin);
  for (size_t k = 0; k < all->n; k++) {
    if (!take[k])
      continue;
    out->v[out->n] = strdup(all->v[k]);
    if (out->v[out->n] == NULL) {
      cab_strv_free(out);
      return cab_error_sys(err, "%s: memory", origin);
    }
    out->n++;
  }
  return 0;
}

static int
resolve_tasks(struct cab_sweep_plan *p, cab_error *err)
{
  char given[PATH_MAX], root[PATH_MAX];
  if (p->tasks_dir) {
    if (cab_path_printf(given, sizeof given, err, "%s", p->tasks_dir) < 0)
      return cab_error_prefix(err, "%s: tasks_dir", p->origin);
  } else if (cab_task_default_root(given, sizeof given, err) < 0) {
    return cab_error_prefix(err, "%s", p->origin);
  }
  if (realpath(given, root) == NULL)
    snprintf(root, sizeof root, "%s", given);
  struct cab_strv all = {0}, ids = {0};
  if (cab_task_list(root, &all, err) < 0)
    return cab_error_prefix(err, "%s: tasks", p->origin);
  int r = cab_sweep_expand_tasks(p->task_patterns, p->n_task_patterns, &all, p->origin, root,
                                 &ids, err);
  cab_strv_free(&all);
  if (r < 0)
    return -1;
  p->tasks = calloc(ids.n ? ids.n : 1, sizeof *p->tasks);
  if (p->tasks == NULL) {
    cab_strv_free(&ids);
    return cab_error_sys(err, "%s: memory", p->origin);
  }
  for (size_t i = 0; i < ids.n && r == 0; i++) {
    struct cab_task *t = NULL;
    if (cab_task_find(root, ids.v[i], &t, err) < 0) {
      r = cab_error_prefix(err, "%s: tasks", p->origin);
      break;
    }
    struct cab_sweep_task_info *ti = &p->tasks[p->n_tasks++];
    ti->id = strdup(t->task_id);
    ti->timeout_s = t->timeout_s;
    ti->image = t->image ? strdup(t->image) : NULL;
    char *text = cJSON_PrintUnformatted(t->json);
    if (text) {
      cab_sha256_buffer(text, strlen(text), ti->sha256);
      free(text);
    }
    if (ti->id == NULL || (t->image && ti->image == NULL) || text == NULL)
      r = cab_error_sys(err, "%s: memory", p->origin);
    cab_task_free(t);
  }
  cab_strv_free(&ids);
  return r;
}

int
cab_sweep_file_sha256(const char *path, char *out, cab_error *err)
{
  cleanup_free char *text = NULL;
  size_t len = 0;
  if (cab_read_file_at(AT_FDCWD, path, (size_t)1 << 30, &text, &len, err) < 0)
    return -1;
  cab_sha256_buffer(text, len, out);
  return 0;
}

int
cab_sweep_plan_resolve(struct cab_sweep_plan *p, cab_error *err)
{
  struct cab_profile profile;
  if (cab_profile_load(p->scoring, &profile, err) < 0)
    return cab_error_prefix(err, "%s: scoring", p->origin);
  char **names = NULL;
  size_t n_names = 0;
  if (cab_adapter_list(&names, &n_names, err) < 0)
    return cab_error_prefix(err, "%s: tuis", p->origin);
  for (size_t i = 0; i < p->n_tuis; i++) {
    bool known = false;
    for (size_t k = 0; k < n_names && !known; k++)
      known = strcmp(names[k], p->tuis[i].tui) == 0;
    if (!known) {
      cab_adapter_names_free(names, n_names);
      return cab_error_set(err, 0, "%s: tuis[%zu].tui: '%s' is not a known agent (see 'cab "
                                   "adapters list')",
                           p->origin, i, p->tuis[i].tui);
    }
  }
  cab_adapter_names_free(names, n_names);
  for (size_t i = 0; i < p->n_tuis; i++) {
    struct cab_adapter *a = NULL;
    if (cab_adapter_load(p->tuis[i].tui, &a, err) < 0)
      return cab_error_prefix(err, "%s: tuis[%zu].tui", p->origin, i);
    p->tuis[i].needs_model = strcmp(a->wire, "none") != 0;
    if (a->image && (p->tuis[i].adapter_image = strdup(a->image)) == NULL) {
      cab_adapter_free(a);
      return cab_error_sys(err, "%s: memory", p->origin);
    }
    cab_adapter_free(a);
  }
  for (size_t i = 0; i < p->n_models; i++)
    if (p->models[i].replay && cab_sweep_file_sha256(p->models[i].replay, p->models[i].replay_sha256, err) < 0)
      return cab_error_prefix(err, "%s: models[%zu].replay", p->origin, i);
  if (resolve_tasks(p, err) < 0)
    return -1;
  /* Somewhere to run every cell: the TUI's image, the plan's, the host's /,
   * or the task's or adapter's own. */
  for (size_t i = 0; i < p->n_tuis; i++) {
    const struct cab_sweep_tui *t = &p->tuis[i];
    if (t->image || p->image || p->host_rootfs || t->adapter_image)
      continue;
    for (size_t k = 0; k < p->n_tasks; k++)
      if (p->tasks[k].image == NULL)
        return cab_error_set(err, 0, "%s: tuis[%zu]: %s has no image for task %s: give "
                                     "tuis[%zu].image, a plan-level \"image\", or "
                                     "\"host_rootfs\": true",
                             p->origin, i, t->tui, p->tasks[k].id, i);
  }
  return 0;
}

int
cab_sweep_plan_load(const char *path, struct cab_sweep_plan **out, cab_error *err)
{
  cleanup_free char *text = NULL;
  size_t len = 0;
  if (cab_read_file_at(AT_FDCWD, path, CAB_SWEEP_PLAN_MAX, &text, &len, err) < 0)
    return -1;
  char abs[PATH_MAX];
  if (realpath(path, abs) == NULL)
    return cab_error_sys(err, "%s", path);
  char *base = dirname(abs);
  struct cab_sweep_plan *p = NULL;
  if (cab_sweep_plan_parse(text, len, path, base, &p, err) < 0)
    return -1;
  if (cab_sweep_plan_resolve(p, err) < 0) {
    cab_sweep_plan_free(p);
    return -1;
  }
  *out = p;
  return 0;
}
