/* A sandbox's protection, predicted from the host and read from a run. */
#include "runner/cell/protection.h"

#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sandbox/caps.h"
#include "sandbox/cgroup.h"

static void
set(char *dst, size_t size, const char *v)
{
  snprintf(dst, size, "%s", v);
}
#define SET(field, v) set((field), sizeof(field), (v))

/* What every run of CFG shares, predicted or not. */
static void
of_config(struct cab_protection *p, const struct cab_sandbox_config *cfg)
{
  char caps[sizeof p->capabilities];
  cab_caps_format(cfg->caps, caps, sizeof caps);
  SET(p->capabilities, caps);
  SET(p->limits.time, cfg->limits.timeout_s > 0 ? "supervisor" : CAB_PROT_UNLIMITED);
  SET(p->limits.disk, cfg->disk.n > 0 ? "watchdog" : CAB_PROT_UNLIMITED);
  SET(p->root, cfg->host_rootfs      ? "host"
               : cfg->overlay_dir    ? "overlay"
               : cfg->root_writable  ? "copy"
                                     : "directory");
  p->masked_paths = cfg->host_rootfs ? cfg->n_masks : 0;
  SET(p->network, cfg->gateway.enabled ? "veth+proxy" : "none");
}

static unsigned
namespace_bits(unsigned long flags)
{
  static const struct {
    unsigned long clone;
    unsigned bit;
  } map[] = {{CLONE_NEWUSER, CAB_NS_USER}, {CLONE_NEWNS, CAB_NS_MOUNT},
             {CLONE_NEWPID, CAB_NS_PID},   {CLONE_NEWNET, CAB_NS_NET},
             {CLONE_NEWIPC, CAB_NS_IPC},   {CLONE_NEWUTS, CAB_NS_UTS},
             {CLONE_NEWCGROUP, CAB_NS_CGROUP}};
  unsigned bits = 0;
  for (size_t i = 0; i < sizeof map / sizeof *map; i++)
    if (flags & map[i].clone)
      bits |= map[i].bit;
  return bits;
}

static const char *
limit_of_run(bool asked, enum cab_limit_mech m)
{
  return asked ? cab_limit_mech_name(m) : CAB_PROT_UNLIMITED;
}

void
cab_protection_of_run(struct cab_protection *p, const struct cab_sandbox_config *cfg,
                      const struct cab_sandbox_result *res)
{
  cab_protection_set required = p->required;
  memset(p, 0, sizeof *p);
  p->required = required;
  of_config(p, cfg);
  const struct cab_limits *l = &cfg->limits;
  /* A sandbox that never ran enforced nothing. */
  bool ran = res != NULL && res->seccomp != NULL;
  p->ran = ran;
  SET(p->limits.memory, limit_of_run(l->memory_bytes > 0, ran ? res->memory : CAB_MECH_NONE));
  SET(p->limits.pids, limit_of_run(l->pids > 0, ran ? res->pids : CAB_MECH_NONE));
  SET(p->limits.cpu, limit_of_run(l->cpus > 0, ran ? res->cpu : CAB_MECH_NONE));
  if (!ran)
    return;
  p->namespaces = namespace_bits(res->namespaces);
  SET(p->seccomp, res->seccomp);
}

/* WORD is in the space-separated LIST (cgroup.controllers). */
static bool
listed(const char *list, const char *word)
{
  size_t n = strlen(word);
  for (const char *s = list; (s = strstr(s, word)) != NULL; s += n)
    if ((s == list || s[-1] == ' ') && (s[n] == '\0' || s[n] == ' ' || s[n] == '\n'))
      return true;
  return false;
}

void
cab_protection_predict(struct cab_protection *p, const struct cab_sandbox_config *cfg,
                       char *why, size_t why_size)
{
  cab_protection_set required = p->required;
  memset(p, 0, sizeof *p);
  p->required = required;
  of_config(p, cfg);
  p->ran = true;
  p->namespaces = CAB_NS_ALL;
  SET(p->seccomp, cab_seccomp_kind_name(cfg->seccomp.kind));
  why[0] = '\0';

  const struct cab_limits *l = &cfg->limits;
  bool asked[3] = {l->memory_bytes > 0, l->pids > 0, l->cpus > 0};
  char *out[3] = {p->limits.memory, p->limits.pids, p->limits.cpu};
  size_t out_size = sizeof p->limits.memory;
  static const char *const controller[3] = {"memory", "pids", "cpu"};
  struct cab_cgroup_host host;
  struct cab_cgroup_paths paths = {.parent = cfg->cgroup_parent};
  cab_error cgerr = {0};
  /* As the sandbox: no limit asked for, no cgroup looked at. */
  bool detected = !cfg->no_cgroup && (asked[0] || asked[1] || asked[2]) &&
                  cab_cgroup_detect(&paths, &host, &cgerr) == 0;
  bool root = geteuid() == 0;
  /* The sandbox's ladder (sandbox/cgroup.h): v2 in our own cgroup when it
   * is writable, as root else in <mount>/cab; v1 per writable hierarchy. */
  bool v2 = detected && host.mode == CAB_CGROUP_MODE_UNIFIED &&
            (host.v2_writable || (root && !cfg->cgroup_parent));
  bool v1 = detected &&
            (host.mode == CAB_CGROUP_MODE_HYBRID || host.mode == CAB_CGROUP_MODE_LEGACY);
  const bool v1_writable[3] = {v1 && host.v1_memory.writable, v1 && host.v1_pids.writable,
                               v1 && host.v1_cpu.writable};
  for (int i = 0; i < 3; i++) {
    const char *m;
    if (!asked[i])
      m = CAB_PROT_UNLIMITED;
    else if (v2 && (listed(host.v2_controllers, controller[i]) || !host.v2_writable))
      m = cab_limit_mech_name(CAB_MECH_CGROUP_V2);
    else if (v1_writable[i])
      m = cab_limit_mech_name(CAB_MECH_CGROUP_V1);
    else if (i == 0 || (i == 1 && !root)) /* the kernel exempts root from RLIMIT_NPROC */
      m = cab_limit_mech_name(CAB_MECH_RLIMIT);
    else
      m = cab_limit_mech_name(CAB_MECH_NONE);
    snprintf(out[i], out_size, "%s", m);
    if (asked[i] && strncmp(m, "cgroup-", 7) != 0 && why[0] == '\0') {
      if (cfg->no_cgroup)
        snprintf(why, why_size, "cgroups not used, as --no-cgroup asked");
      else if (!detected)
        cab_error_line(&cgerr, why, why_size);
      else if (host.reason[0])
        snprintf(why, why_size, "%s", host.reason);
      else
        snprintf(why, why_size, "%s: no writable %s controller for this user",
                 cab_cgroup_mode_name(host.mode), controller[i]);
    }
  }
}

/* What would give ITEM, for P predicted from CFG. */
static const char *
fix_for(enum cab_protection_item item, const struct cab_protection *p,
        const struct cab_sandbox_config *cfg)
{
  const char *lim[3] = {p->limits.memory, p->limits.pids, p->limits.cpu};
  static const char *const ask[3] = {"pass --memory SIZE", "pass --pids N", "pass --cpus N"};
  int which = -1;
  if (item >= CAB_PROT_MEMORY && item <= CAB_PROT_CPU)
    which = item - CAB_PROT_MEMORY;
  for (int i = 0; item == CAB_PROT_CGROUP && i < 3 && which < 0; i++)
    if (strncmp(lim[i], "cgroup-", 7) != 0 && strcmp(lim[i], CAB_PROT_UNLIMITED) != 0)
      which = i;
  switch (item) {
  case CAB_PROT_NAMESPACES:
    return "see 'cab doctor'";
  case CAB_PROT_SECCOMP:
    return "drop the unconfined seccomp policy (--seccomp, or the adapter's sandbox.seccomp)";
  case CAB_PROT_IMAGE:
    return "run in an image instead of on the host's / (--host-rootfs, or a task without one)";
  case CAB_PROT_OVERLAY:
    if (strcmp(p->root, "copy") == 0)
      return "run on a kernel that mounts overlayfs in a user namespace (Linux 5.11+)";
    if (strcmp(p->root, "directory") == 0)
      return "pass --overlay DIR";
    return "run in an image instead of on the host's / (--host-rootfs)";
  case CAB_PROT_CGROUP:
  case CAB_PROT_MEMORY:
  case CAB_PROT_PIDS:
  case CAB_PROT_CPU:
    break;
  case CAB_PROT_N_ITEMS:
    return "see 'cab doctor'";
  }
  if (which < 0)
    return "ask for a limit (--memory, --pids or --cpus)";
  if (strcmp(lim[which], CAB_PROT_UNLIMITED) == 0)
    return ask[which];
  if (cfg->no_cgroup)
    return "drop --no-cgroup";
  return NULL; /* the host's: the cgroup detection says it after its reason */
}

int
cab_protection_refuse(const char *command, const struct cab_protection *predicted,
                      cab_protection_set required, const struct cab_sandbox_config *cfg,
                      const char *why, cab_error *err)
{
  char gives[256];
  int item = cab_protection_first_missing(predicted, required, true, gives, sizeof gives);
  if (item < 0)
    return 0;
  const char *name = cab_protection_item_name((enum cab_protection_item)item);
  /* The host's reason matters only for a limit asked for and not held by a
   * cgroup: not for one never asked for. */
  const char *lim[3] = {predicted->limits.memory, predicted->limits.pids, predicted->limits.cpu};
  bool asked_not_held = false;
  for (int i = 0; i < 3; i++)
    if ((item == CAB_PROT_CGROUP || item == CAB_PROT_MEMORY + i) &&
        strcmp(lim[i], CAB_PROT_UNLIMITED) != 0 && strncmp(lim[i], "cgroup-", 7) != 0)
      asked_not_held = true;
  bool because = asked_not_held && why[0];
  /* The cgroup detection's reasons read "what is wrong; what fixes it". */
  char reason[600];
  snprintf(reason, sizeof reason, "%s", because ? why : "");
  const char *fix = fix_for((enum cab_protection_item)item, predicted, cfg);
  char *semi = strstr(reason, "; ");
  if (fix == NULL && semi) {
    *semi = '\0';
    fix = semi + 2;
  } else if (fix == NULL) {
    fix = geteuid() != 0 ? "run as root, or under systemd-run --user --scope -p Delegate=yes on "
                           "a cgroup v2 host"
                         : "see 'cab doctor'";
  }
  cab_error_set(err, 0, "%s: --require %s: %s%s%s%s; %s, or drop %s from --require", command,
                name, gives, because ? " here (" : "", reason, because ? ")" : "", fix, name);
  err->exit_code = CAB_EXIT_RUNNER;
  return -1;
}
