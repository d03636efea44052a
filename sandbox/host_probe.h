/* What a cell needs from this host, tried for real: each probe performs
 * one operation a sandbox performs (a user namespace, its maps, a tmpfs,
 * lo, a veth pair, an overlay, a cgroup with a limit and a member, a
 * seccomp filter, openat2), in a throw-away child, and says what failed and
 * the one fix.  The table is the policy: which probes exist, in which
 * order, and whether a failure stops cells or only degrades them.  `cab
 * doctor` prints it. */
#ifndef CAB_SANDBOX_HOST_PROBE_H
#define CAB_SANDBOX_HOST_PROBE_H

#include <stdbool.h>
#include <stddef.h>

enum cab_probe_kind {
  CAB_PROBE_REQUIRED, /* a cell cannot run without it */
  CAB_PROBE_DEGRADES, /* cells run, less well (limits by rlimits, a copied root) */
  CAB_PROBE_INFO,     /* reported, never a problem (Landlock: cab does not use it yet) */
};

struct cab_probe_ctx {
  const char *cgroup_parent; /* as --cgroup-parent; NULL: cab's own cgroup */
};

struct cab_probe_result {
  bool ok;
  char detail[1024]; /* what was done, or what failed and why */
  char fix[1024];    /* on failure: the exact command(s) that fix it; may be "" */
};

struct cab_host_probe {
  const char *name;  /* stable, for --json: "userns", "idmap", ... */
  const char *label; /* for people: "user namespaces" */
  enum cab_probe_kind kind;
  void (*run)(const struct cab_probe_ctx *ctx, struct cab_probe_result *r);
};

extern const struct cab_host_probe cab_host_probes[];
extern const size_t cab_host_probe_count;

/* Run one probe: R filled, ok or not. */
void cab_host_probe_run(const struct cab_host_probe *p, const struct cab_probe_ctx *ctx,
                        struct cab_probe_result *r);

#endif
