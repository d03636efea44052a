/* Can this host give a sandbox its user namespace?  The steps every sandbox
 * takes, tried in a throw-away child before any work, and one actionable
 * line when one fails. */
#ifndef CAB_SANDBOX_PREFLIGHT_H
#define CAB_SANDBOX_PREFLIGHT_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

/* The steps into a sandbox's namespaces, in the order the child takes them;
 * an outcome names the first that failed. */
enum cab_userns_step {
  CAB_USERNS_DONE = 0,  /* every step, and the probe, worked */
  CAB_USERNS_UNSHARE,   /* unshare(CLONE_NEWUSER | CLONE_NEWNS) */
  CAB_USERNS_MAPS,      /* write uid_map, "deny" to setgroups, gid_map */
  CAB_USERNS_TMPFS,     /* mount a tmpfs (on the private /tmp) */
  CAB_USERNS_PROBE,     /* the caller's probe, after all of the above */
  CAB_USERNS_CHILD,     /* fork or pipe failed, or the child died */
};

struct cab_userns_outcome {
  enum cab_userns_step failed;
  int errnum;           /* the kernel's errno for that step */
};

/* Run PROBE(ARG) (NULL: none) in a forked child after unsharing a user and
 * a mount namespace, writing the id maps and mounting a tmpfs on /tmp.
 * PROBE returns 0 or an errno value.  Returns 0 when everything worked,
 * else -1 with OUT saying which step failed and why. */
int cab_userns_try(int (*probe)(void *arg), void *arg, struct cab_userns_outcome *out);

/* What a failed step means here, and its one fix: WHAT (say "cannot write a
 * new user namespace's uid map (...)") and FIX (an exact command), each a
 * NUL-terminated line.  Reads the sysctls that restrict user namespaces. */
void cab_userns_diagnose(const struct cab_userns_outcome *o, char *what, size_t what_size,
                         char *fix, size_t fix_size);

/* Fill ERR with the cause of a failed clone(CLONE_NEWUSER|...) whose errno
 * was ERRNUM, and the fix.  Returns -1. */
int cab_userns_explain(int errnum, cab_error *err);

/* 0 when a user namespace can be made, its id maps written and a tmpfs
 * mounted in it, else -1 with ERR one line: the step that failed, the
 * likely cause and the fix (cab_userns_diagnose).  Every command that runs
 * a sandbox calls it first, so that a restricted host (Ubuntu's AppArmor
 * policy lets unshare succeed and refuses the map write) fails before any
 * work, not mid-cell.  A success is cached for the boot
 * (sandbox/probe_cache.h): later runs fork no probe child. */
int cab_check_userns(cab_error *err);

/* Can overlayfs be mounted in a user namespace (kernel 5.11+ "userxattr"),
 * "volatile" as cab mounts the layers it throws away, with its upper layer
 * in UPPER_PARENT?  A yes is cached like cab_check_userns's, keyed also on
 * UPPER_PARENT's file system type. */
bool cab_probe_overlay(const char *upper_parent);
/* Can that overlay keep its upper layer in a tmpfs of its own (user.*
 * xattrs on tmpfs, kernel 6.6+: a directory removed and made again comes
 * back empty)?  Cached like the others. */
bool cab_probe_overlay_in_memory(void);
/* The overlay probe itself, never cached, with the outcome
 * (CAB_USERNS_PROBE: the overlay mount): what cab doctor shows. */
int cab_probe_overlay_outcome(struct cab_userns_outcome *out);

#endif
