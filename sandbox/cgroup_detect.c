/* Which cgroup hierarchies the host offers and where we are in them, read from
 * mountinfo and /proc/self/cgroup (crun's detect_cgroup_mode, but driven by
 * mountinfo so that recorded fixtures work).  Writes nothing. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "sandbox/cgroup_internal.h"

#define CG_PROC_MAX (4 << 20)

/* One cgroup mount as mountinfo shows it. */
struct cg_mnt {
  bool found;
  char point[PATH_MAX]; /* mount point, unescaped, without prefix */
  char root[PATH_MAX];  /* the hierarchy path mounted there */
  char self[PATH_MAX];  /* our path from /proc/self/cgroup */
};

enum { M_MEMORY, M_PIDS, M_CPU, M_CPUACCT, M_FREEZER, M_V1_COUNT };
static const char *const v1_names[M_V1_COUNT] = {"memory", "pids", "cpu", "cpuacct", "freezer"};

struct cg_mounts {
  bool any_v1;
  struct cg_mnt v2;
  struct cg_mnt v1[M_V1_COUNT];
};

const char *
cab_cgroup_mode_name(enum cab_cgroup_mode m)
{
  switch (m) {
  case CAB_CGROUP_MODE_UNIFIED: return "unified";
  case CAB_CGROUP_MODE_HYBRID: return "hybrid";
  case CAB_CGROUP_MODE_LEGACY: return "legacy";
  case CAB_CGROUP_MODE_NONE: break;
  }
  return "none";
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void
unescape(char *s)
{
  char *w = s;
  for (char *r = s; *r; r++) {
    if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
        r[3] >= '0' && r[3] <= '7') {
      *w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
      r += 3;
    } else {
      *w++ = *r;
    }
  }
  *w = '\0';
}

static bool
in_comma_list(const char *list, const char *word)
{
  size_t wl = strlen(word);
  for (const char *p = list; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
    if (strncmp(p, word, wl) == 0 && (p[wl] == ',' || p[wl] == '\0'))
      return true;
  return false;
}

static void
set_mnt(struct cg_mnt *m, const char *root, const char *point)
{
  m->found = true;
  snprintf(m->root, sizeof m->root, "%s", root);
  snprintf(m->point, sizeof m->point, "%s", point);
}

/* "36 25 0:31 / /sys/fs/cgroup/memory rw,relatime shared:1 - cgroup cgroup rw,memory" */
static void
parse_mount_line(char *line, struct cg_mounts *m)
{
  char *f[6] = {0};
  char *save = NULL;
  char *tok = strtok_r(line, " ", &save);
  for (int i = 0; i < 6 && tok; i++, tok = strtok_r(NULL, " ", &save))
    f[i] = tok;
  while (tok && strcmp(tok, "-") != 0)
    tok = strtok_r(NULL, " ", &save);
  char *fstype = strtok_r(NULL, " ", &save);
  strtok_r(NULL, " ", &save); /* source */
  char *super = strtok_r(NULL, " ", &save);
  if (f[5] == NULL || fstype == NULL)
    return;
  char *root = f[3], *point = f[4];
  unescape(root);
  unescape(point);
  if (strcmp(fstype, "cgroup2") == 0) {
    /* The first cgroup2 mount, unless /sys/fs/cgroup itself is one. */
    if (!m->v2.found || strcmp(point, "/sys/fs/cgroup") == 0)
      set_mnt(&m->v2, root, point);
  } else if (strcmp(fstype, "cgroup") == 0 && super) {
    m->any_v1 = true;
    for (int i = 0; i < M_V1_COUNT; i++)
      if (!m->v1[i].found && in_comma_list(super, v1_names[i]))
        set_mnt(&m->v1[i], root, point);
  }
}

/* "4:memory:/process_api/x", "1:cpu,cpuacct:/", "0::/user.slice/..." */
static void
parse_cgroup_line(char *line, struct cg_mounts *m)
{
  char *c1 = strchr(line, ':');
  char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
  if (c2 == NULL)
    return;
  *c2 = '\0';
  const char *ctrls = c1 + 1, *path = c2 + 1;
  if (*ctrls == '\0' && strncmp(line, "0:", 2) == 0) {
    snprintf(m->v2.self, sizeof m->v2.self, "%s", path);
    return;
  }
  for (int i = 0; i < M_V1_COUNT; i++)
    if (in_comma_list(ctrls, v1_names[i]))
      snprintf(m->v1[i].self, sizeof m->v1[i].self, "%s", path);
}

static int
read_lines(const char *path, void (*fn)(char *, struct cg_mounts *), struct cg_mounts *m,
           cab_error *err)
{
  cleanup_free char *text = NULL;
  if (cab_read_file_at(AT_FDCWD, path, CG_PROC_MAX, &text, NULL, err) < 0)
    return cab_error_prefix(err, "cgroup detection");
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
    fn(line, m);
  return 0;
}

/* PATH (hierarchy-absolute) relative to a mount of ROOT; false if outside. */
static bool
strip_root(const char *path, const char *root, char *out, size_t size)
{
  if (path[0] != '/' || strstr(path, "/..") != NULL)
    return false;
  size_t rl = strlen(root);
  if (strcmp(root, "/") == 0)
    return (size_t)snprintf(out, size, "%s", path) < size;
  if (strncmp(path, root, rl) != 0 || (path[rl] != '/' && path[rl] != '\0'))
    return false;
  return (size_t)snprintf(out, size, "%s", path[rl] ? path + rl : "/") < size;
}

/* Remove the last component of SELF when it is NAME ("/x"). */
static bool
strip_last(char *self, const char *name)
{
  size_t sl = strlen(self), nl = strlen(name);
  if (sl <= nl || strcmp(self + sl - nl, name) != 0)
    return false;
  self[sl - nl] = '\0';
  if (self[0] == '\0')
    strcpy(self, "/");
  return true;
}

/* After a previous cab_cgroup_create moved us into our supervisor cgroup, our
 * own cgroup is still its parent; likewise after an earlier cab moved us (the
 * script that runs cab) into the leaf of its delegated cgroup. */
static void
strip_own_supervisor(char *self)
{
  char name[64];
  snprintf(name, sizeof name, "/cab.%ld.supervisor", (long)getpid());
  if (!strip_last(self, name))
    strip_last(self, "/" CG_V2_LEAF);
}

bool
cg_dir_writable(const char *dir, bool v2)
{
  char p[PATH_MAX];
  if (access(dir, W_OK | X_OK) < 0)
    return false;
  if (cg_join(p, sizeof p, dir, "cgroup.procs") < 0 || access(p, W_OK) < 0)
    return false;
  if (v2 && (cg_join(p, sizeof p, dir, "cgroup.subtree_control") < 0 || access(p, W_OK) < 0))
    return false;
  return true;
}

/* Fill MOUNT, SELF and BASE for one hierarchy; false if we are not in it. */
static int
fill_hier(const struct cg_mnt *m, const char *prefix, const char *parent, char *mount,
          char *self, char *base, size_t size, cab_error *err)
{
  mount[0] = self[0] = base[0] = '\0';
  if (!m->found)
    return 0;
  if ((size_t)snprintf(mount, size, "%s%s", prefix, m->point) >= size)
    return cab_error_set(err, ENAMETOOLONG, "cgroup mount point too long: %s%s", prefix,
                         m->point);
  if (!strip_root(m->self, m->root, self, size))
    self[0] = '\0'; /* outside the mounted part of the hierarchy */
  if (parent[0] && !strip_root(parent, m->root, base, size))
    base[0] = '\0';
  else if (!parent[0])
    snprintf(base, size, "%s", self);
  return 0;
}

static bool
hier_writable(const char *mount, const char *base, bool v2)
{
  char dir[PATH_MAX];
  return mount[0] && base[0] && cg_join(dir, sizeof dir, mount, base) == 0 &&
         cg_dir_writable(dir, v2);
}

static void
explain(struct cab_cgroup_host *h)
{
  struct cg_note n = {h->reason, sizeof h->reason};
  int uid = (int)geteuid();
  if (h->mode == CAB_CGROUP_MODE_NONE) {
    cg_note(&n, "no cgroup filesystem is mounted");
  } else if (h->mode == CAB_CGROUP_MODE_UNIFIED) {
    if (h->v2_base[0] == '\0')
      cg_note(&n, "cgroup v2: %s is not visible under %s (cgroup namespace?); pass "
                  "--cgroup-parent with a writable cgroup",
              h->parent[0] ? h->parent : h->v2_self, h->v2_mount);
    else if (!h->v2_writable)
      cg_note(&n, "cgroup v2: %s%s is not writable by uid %d; start cab inside a "
                  "delegated cgroup (systemd-run --user --scope -p Delegate=yes cab ...) "
                  "or pass --cgroup-parent with a writable cgroup",
              h->v2_mount, h->v2_base, uid);
    else if (!cg_has_word(h->v2_controllers, "memory") &&
             !cg_has_word(h->v2_controllers, "pids") && !cg_has_word(h->v2_controllers, "cpu"))
      cg_note(&n, "cgroup v2: %s%s offers none of the memory, pids, cpu controllers "
                  "(cgroup.controllers: '%s'); ask root to delegate them "
                  "(systemd: Delegate=pids memory cpu)",
              h->v2_mount, h->v2_base, h->v2_controllers);
  } else if (!h->v1_memory.writable && !h->v1_pids.writable && !h->v1_cpu.writable) {
    const char *mount = h->v1_memory.mount[0] ? h->v1_memory.mount : h->v1_pids.mount;
    const char *base = h->v1_memory.mount[0] ? h->v1_memory.base : h->v1_pids.base;
    if (mount[0] == '\0')
      cg_note(&n, "cgroup v1 (%s): neither the memory nor the pids controller is mounted",
              cab_cgroup_mode_name(h->mode));
    else
      cg_note(&n, "cgroup v1 (%s): %s%s is not writable by uid %d, and v1 cannot be "
                  "delegated safely; run cab as root, or have root create a cgroup in the "
                  "memory, pids and cpu hierarchies, chown it to you and pass --cgroup-parent",
              cab_cgroup_mode_name(h->mode), mount, base[0] ? base : "(not visible)", uid);
  }
}

static void
read_controllers(struct cab_cgroup_host *h)
{
  char dir[PATH_MAX];
  cleanup_free char *text = NULL;
  h->v2_controllers[0] = '\0';
  if (!h->v2_mount[0] || !h->v2_base[0] || cg_join(dir, sizeof dir, h->v2_mount, h->v2_base) < 0 ||
      cg_read(dir, "cgroup.controllers", &text) < 0)
    return;
  text[strcspn(text, "\n")] = '\0';
  snprintf(h->v2_controllers, sizeof h->v2_controllers, "%s", text);
}

int
cab_cgroup_detect(const struct cab_cgroup_paths *paths, struct cab_cgroup_host *host,
                  cab_error *err)
{
  static const struct cab_cgroup_paths defaults = {0};
  if (paths == NULL)
    paths = &defaults;
  const char *prefix = paths->prefix ? paths->prefix : "";
  const char *parent = paths->parent ? paths->parent : "";
  if (parent[0] && parent[0] != '/')
    return cab_error_set(err, EINVAL,
                         "--cgroup-parent %s: give the cgroup's absolute path within the "
                         "hierarchy, e.g. /cab-ci",
                         parent);
  cleanup_free struct cg_mounts *m = calloc(1, sizeof *m);
  if (m == NULL)
    return cab_error_sys(err, "cgroup detection");
  if (read_lines(paths->mountinfo ? paths->mountinfo : "/proc/self/mountinfo",
                 parse_mount_line, m, err) < 0 ||
      read_lines(paths->self_cgroup ? paths->self_cgroup : "/proc/self/cgroup",
                 parse_cgroup_line, m, err) < 0)
    return -1;

  memset(host, 0, sizeof *host);
  snprintf(host->parent, sizeof host->parent, "%s", parent);
  if (m->v2.found && strcmp(m->v2.point, "/sys/fs/cgroup") == 0)
    host->mode = CAB_CGROUP_MODE_UNIFIED;
  else if (m->any_v1)
    host->mode = m->v2.found ? CAB_CGROUP_MODE_HYBRID : CAB_CGROUP_MODE_LEGACY;
  else if (m->v2.found)
    host->mode = CAB_CGROUP_MODE_UNIFIED;

  strip_own_supervisor(m->v2.self);
  if (fill_hier(&m->v2, prefix, parent, host->v2_mount, host->v2_self, host->v2_base,
                sizeof host->v2_mount, err) < 0)
    return -1;
  host->v2_writable = hier_writable(host->v2_mount, host->v2_base, true);
  read_controllers(host);

  __typeof__(host->v1_memory) *v1[M_V1_COUNT] = {
      [M_MEMORY] = &host->v1_memory, [M_PIDS] = &host->v1_pids, [M_CPU] = &host->v1_cpu,
      [M_CPUACCT] = &host->v1_cpuacct, [M_FREEZER] = &host->v1_freezer};
  for (int i = 0; i < M_V1_COUNT; i++) {
    if (fill_hier(&m->v1[i], prefix, parent, v1[i]->mount, v1[i]->self, v1[i]->base,
                  sizeof v1[i]->mount, err) < 0)
      return -1;
    v1[i]->writable = hier_writable(v1[i]->mount, v1[i]->base, false);
  }
  explain(host);
  return 0;
}
