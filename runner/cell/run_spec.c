#include "runner/cell/run_spec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsutil.h"
#include "sandbox/caps.h"

void
cab_run_spec_init(struct cab_sandbox_config *cfg)
{
  cfg->caps = cab_caps_default();
  cfg->seccomp.kind = CAB_SECCOMP_DEFAULT;
}

/* The host's /: a sandbox of root's runs as an unprivileged host id, so the
 * trees it must write are handed to that id first. */
static int
host_root(const struct cab_run_root *root, struct cab_sandbox_config *cfg, cab_error *err)
{
  cfg->host_rootfs = true;
  cfg->masks = root->masks;
  cfg->n_masks = root->n_masks;
  uid_t uid;
  gid_t gid;
  bool away;
  cab_sandbox_host_ids(cfg, &uid, &gid, &away);
  for (size_t i = 0; away && i < root->n_writable; i++)
    if (cab_chown_tree(root->writable[i], uid, gid, err) < 0)
      return cab_error_prefix(err, "hand %s to the sandbox's host id %u", root->writable[i],
                              (unsigned)uid);
  return 0;
}

int
cab_run_spec_root(const struct cab_run_root *root, struct cab_sandbox_config *cfg,
                  cab_error *err)
{
  const struct cab_rootfs_lease *l = root->lease;
  if (root->host)
    return host_root(root, cfg, err);
  if (l == NULL) {
    cfg->rootfs = root->dir;
    cfg->overlay_dir = root->overlay_dir;
  } else if (!root->lower_only && (l->overlay_dir[0] || l->in_memory)) {
    cfg->rootfs = l->lower;
    cfg->overlay_dir = l->in_memory ? "(in memory)" : l->overlay_dir;
    cfg->overlay_in_memory = l->in_memory;
    /* A lease's layer is removed with the lease: never worth a sync. */
    cfg->overlay_volatile = true;
  } else if (!root->lower_only && l->copy[0]) {
    cfg->rootfs = l->copy;
    cfg->root_writable = true;
  } else {
    cfg->rootfs = l->lower;
  }
  return 0;
}

int
cab_run_spec_ids(const char *spec, uid_t *uid, gid_t *gid)
{
  char *end;
  errno = 0;
  unsigned long u = strtoul(spec, &end, 10);
  if (errno || end == spec || (*end != '\0' && *end != ':') || u > 0xfffffffeUL)
    return -1;
  unsigned long g = u;
  if (*end == ':') {
    const char *gs = end + 1;
    g = strtoul(gs, &end, 10);
    if (errno || end == gs || *end != '\0' || g > 0xfffffffeUL)
      return -1;
  }
  *uid = (uid_t)u;
  *gid = (gid_t)g;
  return 0;
}

int
cab_run_spec_image_env(struct cab_envlist *env, const cab_image_config *ic, bool keep_set)
{
  for (char **e = ic && ic->env ? ic->env : NULL; e && *e; e++) {
    size_t klen = strcspn(*e, "=");
    if ((*e)[klen] != '=')
      continue; /* not K=V: nothing to set */
    bool set = false;
    for (size_t i = 0; keep_set && i < env->n; i++)
      set = set || strncmp(env->v[i], *e, klen + 1) == 0;
    if (!set && cab_envlist_put(env, *e) < 0 && klen > 0)
      return -1;
  }
  return 0;
}

int
cab_run_spec_image_process(const cab_image_config *ic, const char *ref, bool workdir_set,
                           bool user_set, char *const *rest, size_t n_rest,
                           struct cab_sandbox_config *cfg, char ***argv, cab_error *err)
{
  if (!workdir_set && ic && ic->working_dir && ic->working_dir[0] == '/')
    cfg->workdir = ic->working_dir;
  if (!user_set && ic && ic->user && ic->user[0] &&
      cab_run_spec_ids(ic->user, &cfg->uid, &cfg->gid) < 0)
    return cab_error_set(err, 0, "image %s runs as user \"%s\"; cab maps numeric ids only: pass "
                                 "--user UID[:GID]", ref, ic->user);
  size_t n_entry = 0, n_cmd = 0;
  while (ic && ic->entrypoint && ic->entrypoint[n_entry])
    n_entry++;
  while (ic && n_rest == 0 && ic->cmd && ic->cmd[n_cmd])
    n_cmd++;
  size_t total = n_entry + (n_rest > 0 ? n_rest : n_cmd);
  if (total == 0)
    return cab_error_set(err, 0, "image %s has no Entrypoint or Cmd; give a command after --",
                         ref);
  char **v = calloc(total + 1, sizeof *v);
  if (v == NULL)
    return cab_error_sys(err, "allocate");
  size_t k = 0;
  for (size_t i = 0; i < n_entry; i++)
    v[k++] = ic->entrypoint[i];
  for (size_t i = 0; i < n_rest; i++)
    v[k++] = rest[i];
  for (size_t i = 0; i < n_cmd; i++)
    v[k++] = ic->cmd[i];
  *argv = v;
  cfg->argv = v;
  return 0;
}
