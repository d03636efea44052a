/* cgroup v1 (legacy and hybrid hosts): one cell directory per writable
 * hierarchy among memory, pids, cpu, cpuacct and freezer; limits, kill via
 * the freezer, stats.  As nsjail's cgroup.cc, minus its fixed parent names. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "sandbox/cgroup_internal.h"

typedef __typeof__(((struct cab_cgroup_host *)0)->v1_memory) v1_hier;

enum { H_MEMORY, H_PIDS, H_CPU, H_CPUACCT, H_FREEZER };

/* The cell directory for hierarchy MOUNT, created on first use. */
static struct cg_v1_cell *
cell_for(struct cab_cgroup *cg, const v1_hier *hier, const char *name, struct cg_note *note)
{
  char dir[PATH_MAX], path[PATH_MAX];
  if (cg_join(dir, sizeof dir, hier->mount, hier->base) < 0 ||
      cg_join(path, sizeof path, dir, name) < 0)
    return NULL;
  for (size_t i = 0; i < cg->n_v1; i++)
    if (strcmp(cg->v1[i].path, path) == 0)
      return &cg->v1[i]; /* co-mounted, e.g. cpu,cpuacct */
  if (cg->n_v1 == CG_MAX_V1)
    return NULL;
  struct cg_v1_cell *c = &cg->v1[cg->n_v1];
  memset(c, 0, sizeof *c);
  if (cg_mkdir(cg->hooks, path) == 0)
    snprintf(c->path, sizeof c->path, "%s", path);
  else if (errno != EEXIST || cg_make_cell(cg->hooks, dir, c->path, sizeof c->path) < 0) {
    cg_note(note, "cgroup v1: cannot create %s: %s", path, strerror(errno));
    return NULL;
  }
  cg->n_v1++;
  return c;
}

static const struct cg_v1_cell *
find(const struct cab_cgroup *cg, int which)
{
  for (size_t i = 0; i < cg->n_v1; i++) {
    const struct cg_v1_cell *c = &cg->v1[i];
    bool has[] = {c->memory, c->pids, c->cpu, c->cpuacct, c->freezer};
    if (has[which])
      return c;
  }
  return NULL;
}

static void
apply_limits(struct cab_cgroup *cg, const struct cab_limits *l,
             enum cab_limit_mech mech[CG_NLIMITS], struct cg_note *note)
{
  const struct cab_cgroup_test_hooks *h = cg->hooks;
  const struct cg_v1_cell *mem = find(cg, H_MEMORY), *pids = find(cg, H_PIDS);
  const struct cg_v1_cell *cpu = find(cg, H_CPU);
  char val[64], line[1024];
  cab_error e = {0};
  if (l->memory_bytes > 0 && mem) {
    snprintf(val, sizeof val, "%" PRId64, l->memory_bytes);
    if (cg_write(h, mem->path, "memory.limit_in_bytes", val, &e) == 0) {
      mech[CG_MEM] = CAB_MECH_CGROUP_V1;
      /* Without this, swap lets the cell use more than the limit. */
      if (cg_exists(mem->path, "memory.memsw.limit_in_bytes") &&
          cg_write(h, mem->path, "memory.memsw.limit_in_bytes", val, &e) < 0)
        cg_note(note, "cgroup v1: swap is not limited: %s", cab_error_line(&e, line, sizeof line));
    } else {
      cg_note(note, "cgroup v1: %s", cab_error_line(&e, line, sizeof line));
    }
  }
  if (l->pids > 0 && pids) {
    snprintf(val, sizeof val, "%" PRId64, l->pids);
    if (cg_write(h, pids->path, "pids.max", val, &e) == 0)
      mech[CG_PIDS] = CAB_MECH_CGROUP_V1;
    else
      cg_note(note, "cgroup v1: %s", cab_error_line(&e, line, sizeof line));
  }
  if (l->cpus > 0 && cpu) {
    int64_t quota = llround(l->cpus * CG_CPU_PERIOD_US);
    snprintf(val, sizeof val, "%" PRId64, quota < 1000 ? 1000 : quota);
    if (cg_write(h, cpu->path, "cpu.cfs_period_us", "100000", &e) == 0 &&
        cg_write(h, cpu->path, "cpu.cfs_quota_us", val, &e) == 0)
      mech[CG_CPU] = CAB_MECH_CGROUP_V1;
    else
      cg_note(note, "cgroup v1: %s", cab_error_line(&e, line, sizeof line));
  }
}

int
cg_v1_create(const struct cab_cgroup_host *host, const struct cab_limits *limits,
             struct cab_cgroup **out, enum cab_limit_mech mech[CG_NLIMITS],
             struct cg_note *note, cab_error *err)
{
  const v1_hier *hier[] = {[H_MEMORY] = &host->v1_memory, [H_PIDS] = &host->v1_pids,
                           [H_CPU] = &host->v1_cpu, [H_CPUACCT] = &host->v1_cpuacct,
                           [H_FREEZER] = &host->v1_freezer};
  static const char *const names[] = {"memory", "pids", "cpu", "cpuacct", "freezer"};
  if (!hier[H_MEMORY]->writable && !hier[H_PIDS]->writable && !hier[H_CPU]->writable) {
    cg_note(note, "%s", host->reason);
    return 0;
  }
  cleanup_free struct cab_cgroup *cg = calloc(1, sizeof *cg);
  if (cg == NULL)
    return cab_error_sys(err, "cgroup v1");
  cg->version = 1;
  cg->hooks = host->test_hooks;
  cg->cell_fd = -1;
  char name[64];
  cg_cell_name(name, sizeof name);
  int64_t asked[] = {limits->memory_bytes, limits->pids, limits->cpus > 0};
  for (int i = H_MEMORY; i <= H_FREEZER; i++) {
    if (!hier[i]->writable) {
      if (i <= H_CPU && asked[i] > 0)
        cg_note(note, "cgroup v1: no writable %s hierarchy (%s%s)", names[i],
                hier[i]->mount[0] ? hier[i]->mount : "not mounted", hier[i]->base);
      continue;
    }
    struct cg_v1_cell *c = cell_for(cg, hier[i], name, note);
    if (c == NULL)
      continue;
    bool *flag[] = {&c->memory, &c->pids, &c->cpu, &c->cpuacct, &c->freezer};
    *flag[i] = true;
  }
  if (cg->n_v1 == 0)
    return 0;
  apply_limits(cg, limits, mech, note);
  *out = cab_steal_ptr(&cg);
  return 0;
}

bool
cg_v1_populated(const struct cab_cgroup *cg)
{
  for (size_t i = 0; i < cg->n_v1; i++)
    if (cg_has_procs(cg->v1[i].path))
      return true;
  return false;
}

/* Freeze so nothing forks between reading cgroup.procs and the kills. */
static void
freeze(const struct cab_cgroup_test_hooks *h, const char *dir)
{
  cab_error e = {0};
  if (cg_write(h, dir, "freezer.state", "FROZEN", &e) < 0)
    return;
  for (int i = 0; i < 100; i++) {
    cleanup_free char *state = NULL;
    if (cg_read(dir, "freezer.state", &state) < 0 || strncmp(state, "FREEZING", 8) != 0)
      return;
    cg_sleep_ms(1);
  }
}

int
cg_v1_kill(struct cab_cgroup *cg, cab_error *err)
{
  const struct cg_v1_cell *fz = find(cg, H_FREEZER);
  for (int round = 0; round < 200 && cg_v1_populated(cg); round++) {
    if (fz)
      freeze(cg->hooks, fz->path);
    for (size_t i = 0; i < cg->n_v1; i++)
      cg_kill_procs(cg->v1[i].path);
    if (fz) {
      cab_error e = {0};
      cg_write(cg->hooks, fz->path, "freezer.state", "THAWED", &e); /* always thaw */
    }
    if (cg_v1_populated(cg))
      cg_sleep_ms(10);
  }
  if (cg_v1_populated(cg))
    return cab_error_set(err, EBUSY,
                         "processes remain in %s 2 s after SIGKILL (stuck in uninterruptible "
                         "sleep?); cab will retry on its next start",
                         cg->v1[0].path);
  return 0;
}

int
cg_v1_kill_dir(const struct cab_cgroup_test_hooks *h, const char *dir, cab_error *err)
{
  cab_error e = {0};
  if (cg_exists(dir, "freezer.state")) /* a cab killed between freeze and thaw */
    cg_write(h, dir, "freezer.state", "THAWED", &e);
  for (int round = 0; round < 200 && cg_has_procs(dir); round++) {
    cg_kill_procs(dir);
    cg_sleep_ms(10);
  }
  if (cg_has_procs(dir))
    return cab_error_set(err, EBUSY, "processes remain in %s after SIGKILL", dir);
  return 0;
}

void
cg_v1_stats(const struct cab_cgroup *cg, struct cab_cgroup_stats *st)
{
  int64_t v;
  const struct cg_v1_cell *mem = find(cg, H_MEMORY), *acct = find(cg, H_CPUACCT);
  if (mem) {
    /* "oom_kill N" appeared in 4.13; before it, a limit hit is the best hint
     * (the caller pairs it with a SIGKILL exit). */
    if (cg_read_key(mem->path, "memory.oom_control", "oom_kill", &v) == 0)
      st->oom_killed = v > 0;
    else
      st->oom_killed = cg_read_int(mem->path, "memory.failcnt", &v) == 0 && v > 0;
    if (cg_read_int(mem->path, "memory.max_usage_in_bytes", &v) == 0)
      st->peak_memory_bytes = v;
  }
  if (acct && cg_read_int(acct->path, "cpuacct.usage", &v) == 0)
    st->cpu_usage_us = v / 1000;
}
