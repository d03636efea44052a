/* cgroup v2: base selection (own cgroup, supervisor move, root fallback),
 * the cell cgroup, its limits, kill and stats. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "sandbox/cgroup_internal.h"

static const char *const wanted[CG_NLIMITS] = {[CG_MEM] = "memory", [CG_PIDS] = "pids",
                                               [CG_CPU] = "cpu"};

/* Where cells go, and which of memory/pids/cpu are enabled for them. */
struct v2_base {
  char dir[PATH_MAX];
  bool enabled[CG_NLIMITS];
};

static int
move_self(const struct cab_cgroup_test_hooks *h, const char *dir, cab_error *err)
{
  char pid[32];
  snprintf(pid, sizeof pid, "%ld", (long)getpid());
  return cg_write(h, dir, "cgroup.procs", pid, err);
}

/* Enable what DIR's cgroup.controllers offers of memory/pids/cpu in its
 * subtree_control.  Returns 0, or -1 with errno EBUSY when DIR holds
 * processes (the no-internal-processes rule); other failures only leave
 * that controller disabled, with a note. */
static int
enable_controllers(const struct cab_cgroup_test_hooks *h, struct v2_base *b,
                   struct cg_note *note)
{
  cleanup_free char *avail = NULL, *on = NULL;
  if (cg_read(b->dir, "cgroup.controllers", &avail) < 0)
    avail = strdup("");
  if (cg_read(b->dir, "cgroup.subtree_control", &on) < 0)
    on = strdup("");
  if (avail == NULL || on == NULL)
    return -1;
  for (int i = 0; i < CG_NLIMITS; i++) {
    b->enabled[i] = false;
    if (!cg_has_word(avail, wanted[i]))
      continue;
    if (cg_has_word(on, wanted[i])) {
      b->enabled[i] = true;
      continue;
    }
    char plus[16];
    snprintf(plus, sizeof plus, "+%s", wanted[i]);
    cab_error e = {0};
    if (cg_write(h, b->dir, "cgroup.subtree_control", plus, &e) == 0) {
      b->enabled[i] = true;
    } else if (e.errnum == EBUSY) {
      errno = EBUSY;
      return -1;
    } else {
      char line[1024];
      cg_note(note, "cgroup v2: cannot enable %s: %s", wanted[i],
              cab_error_line(&e, line, sizeof line));
    }
  }
  return 0;
}

static bool
any_enabled(const struct v2_base *b)
{
  return b->enabled[CG_MEM] || b->enabled[CG_PIDS] || b->enabled[CG_CPU];
}

/* Whether DIR was delegated to us, so that its inner layout is ours to
 * change.  A user can write only what was delegated (or chowned) to it; root
 * can write every cgroup, so for root only systemd's mark counts
 * (trusted.delegate, or user.delegate from a user manager, since systemd
 * 251/252): a root service's own cgroup without Delegate= is systemd's. */
static bool
delegated_to_us(const char *dir)
{
  if (geteuid() != 0)
    return true;
  static const char *const marks[] = {"trusted.delegate", "user.delegate"};
  for (size_t i = 0; i < sizeof marks / sizeof *marks; i++) {
    char v[8] = "";
    if (getxattr(dir, marks[i], v, sizeof v - 1) > 0 && v[0] == '1')
      return true;
  }
  return false;
}

/* Move every process of DIR but cab into DIR/cab.leaf, so that DIR obeys
 * the no-internal-processes rule.  Those are the processes that started cab
 * in the cgroup delegated to them (delegated_to_us): a script run by
 * systemd-run --user --scope -p Delegate=yes, with the cab model-server
 * beside it.  They stay in the
 * delegated subtree, under the same limits; only their cgroup path changes
 * (cab's detection treats ".../cab.leaf" as its parent).  A few rounds, as
 * they may fork meanwhile.  0 when DIR holds only cab, else -1. */
static int
move_others_to_leaf(const struct cab_cgroup_test_hooks *h, const char *dir)
{
  char leaf[PATH_MAX];
  if (cg_join(leaf, sizeof leaf, dir, CG_V2_LEAF) < 0 || (cg_mkdir(h, leaf) < 0 && errno != EEXIST))
    return -1;
  for (int round = 0; round < 8; round++) {
    cleanup_free char *procs = NULL;
    if (cg_read(dir, "cgroup.procs", &procs) < 0)
      return -1;
    int left = 0;
    for (char *p = procs, *end; *p; p = end) {
      long pid = strtol(p, &end, 10);
      if (end == p)
        break;
      if (pid <= 0 || pid == (long)getpid())
        continue;
      char value[32];
      cab_error e = {0};
      snprintf(value, sizeof value, "%ld", pid);
      if (cg_write(h, leaf, "cgroup.procs", value, &e) < 0 && e.errnum != ESRCH)
        return -1;
      left++;
    }
    if (left == 0)
      return 0;
  }
  return -1;
}

/* Our own cgroup (or --cgroup-parent).  When it holds processes, move cab
 * into <base>/cab.<pid>.supervisor and retry; if other processes live there
 * too, move them into <base>/cab.leaf (our own cgroup, delegated to us; never a
 * --cgroup-parent), and if that does not help either, move cab back.  0
 * usable, 1 not (with a note). */
static int
use_own(const struct cab_cgroup_host *host, struct v2_base *b, struct cg_note *note)
{
  const struct cab_cgroup_test_hooks *h = host->test_hooks;
  if (!host->v2_base[0] || !host->v2_writable) {
    cg_note(note, "%s", host->reason);
    return 1;
  }
  if (cg_join(b->dir, sizeof b->dir, host->v2_mount, host->v2_base) < 0)
    return 1;
  if (enable_controllers(h, b, note) == 0)
    return any_enabled(b) ? 0 : (cg_note(note, "%s", host->reason), 1);
  if (errno != EBUSY || strcmp(host->v2_base, host->v2_self) != 0) {
    cg_note(note, "cgroup v2: %s holds processes, so no controller can be enabled for "
                  "child cgroups; pass --cgroup-parent with an empty writable cgroup",
            b->dir);
    return 1;
  }
  char sup[PATH_MAX], name[64];
  snprintf(name, sizeof name, "cab.%ld.supervisor", (long)getpid());
  cab_error e = {0};
  if (cg_join(sup, sizeof sup, b->dir, name) < 0 ||
      (cg_mkdir(h, sup) < 0 && errno != EEXIST) || move_self(h, sup, &e) < 0) {
    cg_note(note, "cgroup v2: cannot move cab into %s/%s: %s", b->dir, name, strerror(errno));
    cg_rmdir_tree(h, sup);
    return 1;
  }
  int busy = enable_controllers(h, b, note);
  if (busy == 0 && any_enabled(b))
    return 0;
  if (busy < 0 && errno == EBUSY && delegated_to_us(b->dir) && move_others_to_leaf(h, b->dir) == 0 &&
      enable_controllers(h, b, note) == 0 && any_enabled(b))
    return 0;
  move_self(h, b->dir, &e);
  cg_rmdir_tree(h, sup);
  cg_note(note, "cgroup v2: %s holds other processes besides cab that cab cannot move into "
                "its " CG_V2_LEAF ", so no controller can be enabled for child cgroups "
                "(no-internal-processes rule); run cab in its own "
                "delegated scope (systemd-run --user --scope -p Delegate=yes cab ...) or pass "
                "--cgroup-parent with an empty writable cgroup",
          b->dir);
  return 1;
}

/* As root: a "cab" cgroup right under the v2 root. */
static int
use_root_cab(const struct cab_cgroup_host *host, struct v2_base *b, struct cg_note *note)
{
  const struct cab_cgroup_test_hooks *h = host->test_hooks;
  struct v2_base root = {0};
  snprintf(root.dir, sizeof root.dir, "%s", host->v2_mount);
  if (cg_join(b->dir, sizeof b->dir, host->v2_mount, "cab") < 0)
    return 1;
  if (cg_mkdir(h, b->dir) < 0 && errno != EEXIST) {
    cg_note(note, "cgroup v2: cannot create %s: %s", b->dir, strerror(errno));
    return 1;
  }
  if (enable_controllers(h, &root, note) < 0 || enable_controllers(h, b, note) < 0 ||
      !any_enabled(b)) {
    cg_note(note, "cgroup v2: cannot enable controllers in %s", b->dir);
    return 1;
  }
  return 0;
}

static void
apply_limits(const struct cab_cgroup_test_hooks *h, const char *cell, const struct v2_base *b,
             const struct cab_limits *l, enum cab_limit_mech mech[CG_NLIMITS],
             struct cg_note *note)
{
  char val[64], line[1024];
  int64_t asked[CG_NLIMITS] = {[CG_MEM] = l->memory_bytes, [CG_PIDS] = l->pids,
                               [CG_CPU] = l->cpus > 0 ? 1 : 0};
  static const char *const knob[CG_NLIMITS] = {[CG_MEM] = "memory.max",
                                               [CG_PIDS] = "pids.max", [CG_CPU] = "cpu.max"};
  for (int i = 0; i < CG_NLIMITS; i++) {
    if (asked[i] <= 0)
      continue;
    if (!b->enabled[i]) {
      cg_note(note, "cgroup v2: the %s controller is not available in %s; ask root to "
                    "delegate it (systemd: Delegate=pids memory cpu)",
              wanted[i], b->dir);
      continue;
    }
    if (i == CG_CPU) {
      int64_t quota = llround(l->cpus * CG_CPU_PERIOD_US);
      snprintf(val, sizeof val, "%" PRId64 " %d", quota < 1000 ? 1000 : quota,
               CG_CPU_PERIOD_US);
    } else {
      snprintf(val, sizeof val, "%" PRId64, asked[i]);
    }
    cab_error e = {0};
    if (cg_write(h, cell, knob[i], val, &e) == 0)
      mech[i] = CAB_MECH_CGROUP_V2;
    else
      cg_note(note, "cgroup v2: %s", cab_error_line(&e, line, sizeof line));
  }
  if (b->enabled[CG_MEM]) {
    cab_error e = {0};
    if (mech[CG_MEM] == CAB_MECH_CGROUP_V2 && cg_exists(cell, "memory.swap.max") &&
        cg_write(h, cell, "memory.swap.max", "0", &e) < 0)
      cg_note(note, "cgroup v2: swap is not limited: %s", cab_error_line(&e, line, sizeof line));
    if (cg_exists(cell, "memory.oom.group"))
      cg_write(h, cell, "memory.oom.group", "1", &e);
  }
}

int
cg_v2_create(const struct cab_cgroup_host *host, const struct cab_limits *limits,
             struct cab_cgroup **out, enum cab_limit_mech mech[CG_NLIMITS],
             struct cg_note *note, cab_error *err)
{
  const struct cab_cgroup_test_hooks *h = host->test_hooks;
  struct v2_base b = {0};
  int r = use_own(host, &b, note);
  if (r != 0 && host->parent[0] == '\0' && geteuid() == 0) {
    char own_note[512] = "";
    struct cg_note tmp = {own_note, sizeof own_note};
    r = use_root_cab(host, &b, &tmp);
    if (r == 0)
      note->buf[0] = '\0'; /* the fallback worked: nothing to warn about */
    else
      cg_note(note, "%s", own_note);
  }
  if (r != 0)
    return 0;

  cleanup_free struct cab_cgroup *cg = calloc(1, sizeof *cg);
  if (cg == NULL)
    return cab_error_sys(err, "cgroup v2");
  cg->version = 2;
  cg->hooks = h;
  cg->cell_fd = -1;
  if (cg_make_cell(h, b.dir, cg->cell, sizeof cg->cell) < 0) {
    cg_note(note, "cgroup v2: cannot create a cell cgroup in %s: %s", b.dir, strerror(errno));
    return 0;
  }
  cg->cell_fd = open(cg->cell, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  apply_limits(h, cg->cell, &b, limits, mech, note);
  *out = cab_steal_ptr(&cg);
  return 0;
}

bool
cg_v2_populated_dir(const char *dir)
{
  int64_t v;
  if (cg_read_key(dir, "cgroup.events", "populated", &v) == 0)
    return v != 0;
  return cg_has_procs(dir);
}

/* cgroup.kill (5.14+), else freeze + SIGKILL each pid + thaw, as crun's
 * cgroup_killall_path.  Waits up to about 2 s for the cell to empty. */
int
cg_v2_kill_dir(const struct cab_cgroup_test_hooks *h, const char *dir, cab_error *err)
{
  bool killed = false;
  if (cg_exists(dir, "cgroup.kill")) {
    cab_error e = {0};
    killed = cg_write(h, dir, "cgroup.kill", "1", &e) == 0;
  }
  for (int i = 0; i < 200 && cg_v2_populated_dir(dir); i++) {
    if (!killed || i % 20 == 19) {
      cab_error e = {0};
      bool frozen = cg_exists(dir, "cgroup.freeze") &&
                    cg_write(h, dir, "cgroup.freeze", "1", &e) == 0;
      cg_kill_procs(dir);
      if (frozen)
        cg_write(h, dir, "cgroup.freeze", "0", &e);
    }
    cg_sleep_ms(10);
  }
  if (cg_v2_populated_dir(dir))
    return cab_error_set(err, EBUSY,
                         "processes remain in %s 2 s after SIGKILL (stuck in uninterruptible "
                         "sleep?); cab will retry on its next start",
                         dir);
  return 0;
}

void
cg_v2_stats(const struct cab_cgroup *cg, struct cab_cgroup_stats *st)
{
  int64_t v;
  st->oom_killed = (cg_read_key(cg->cell, "memory.events", "oom_kill", &v) == 0 && v > 0) ||
                   (cg_read_key(cg->cell, "memory.events", "oom_group_kill", &v) == 0 && v > 0);
  if (cg_read_int(cg->cell, "memory.peak", &v) == 0)
    st->peak_memory_bytes = v;
  if (cg_read_key(cg->cell, "cpu.stat", "usage_usec", &v) == 0)
    st->cpu_usage_us = v;
}
