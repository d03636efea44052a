/* cgroup setup for one sandbox: detection, creation, limits, kill, stats.
 *
 * Ladder, by host mode:
 *   1. unified (cgroup v2): our own cgroup (or --cgroup-parent) when writable.
 *      Cells are <base>/cab.<pid>.cell-<hex>; if <base> holds processes, cab
 *      moves itself into <base>/cab.<pid>.supervisor first (it stays there
 *      until it exits; the next cab's cleanup_stale removes that directory),
 *      and, in its own cgroup, the other processes (the script that started
 *      it in a delegated scope) into <base>/cab.leaf, which stays.
 *      As root, when that fails: <mount>/cab/cab.<pid>.cell-<hex>.
 *   2. hybrid / legacy: v1 memory, pids, cpu, cpuacct and freezer, each where
 *      our path (or --cgroup-parent) is writable.  A hybrid host's cgroup2
 *      mount is not used (on it controllers are on v1).
 *   3. nothing writable: create returns no cgroup and a reason; the caller
 *      falls back to rlimits and a watchdog.
 * Every path is taken relative to a root directory so that unit tests can run
 * the logic on recorded fixtures (a fake /sys/fs/cgroup and /proc/self/cgroup). */
#ifndef CAB_SANDBOX_CGROUP_H
#define CAB_SANDBOX_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"
#include "sandbox/limits.h"

enum cab_cgroup_mode {
  CAB_CGROUP_MODE_NONE = 0,  /* no cgroupfs mounted at all */
  CAB_CGROUP_MODE_UNIFIED,   /* pure cgroup v2 */
  CAB_CGROUP_MODE_HYBRID,    /* v1 controllers + a cgroup2 mount at unified/ */
  CAB_CGROUP_MODE_LEGACY,    /* v1 only */
};

const char *cab_cgroup_mode_name(enum cab_cgroup_mode m);

/* Where to look.  All NULL fields take the real host defaults.
 * cab_cgroup_detect fails only when MOUNTINFO or SELF_CGROUP cannot be read
 * or PARENT is not absolute; an unusable host is reported in HOST->reason. */
struct cab_cgroup_paths {
  const char *mountinfo;    /* default /proc/self/mountinfo */
  const char *self_cgroup;  /* default /proc/self/cgroup */
  const char *prefix;       /* prepended to every mount point found in
                               mountinfo (fixtures); default "" */
  const char *parent;       /* --cgroup-parent: a pre-created, writable
                               cgroup to use instead of our own */
};

/* What the host offers, found without writing anything. */
struct cab_cgroup_test_hooks;

struct cab_cgroup_host {
  enum cab_cgroup_mode mode;
  char v2_mount[4096];         /* cgroup2 mount point, "" if none */
  char v2_self[4096];          /* our path from the "0::" line */
  char v2_controllers[256];    /* contents of cgroup.controllers of v2_self */
  bool v2_writable;            /* can create children under v2_self */
  /* v1: per controller mount point and our own path in it */
  struct {
    char mount[4096];
    char self[4096];
    bool writable;
    char base[4096];           /* where cab creates cells: the parent if given,
                                  else self; "" if the controller is absent */
  } v1_memory, v1_pids, v1_cpu, v1_freezer, v1_cpuacct;
  /* Paths (v2_self, v2_base, v1_*.self, v1_*.base) are relative to the mount
   * point: a mount whose mountinfo root is not "/" has that root stripped, so
   * mount + path is always the directory.  v2_controllers and v2_writable
   * describe v2_base; v1_*.writable describes base. */
  char v2_base[4096];          /* the parent if given, else v2_self */
  char parent[4096];           /* paths->parent, "" if none */
  char reason[512];            /* why no cgroup looks usable; "" if one does */
  /* Unit tests only; NULL in real use.  See struct cab_cgroup_test_hooks. */
  const struct cab_cgroup_test_hooks *test_hooks;
};

/* Unit tests run the create/kill/cleanup logic on a plain directory tree that
 * mimics a cgroupfs.  A plain mkdir creates no knob files and a plain rmdir
 * fails on a non-empty directory, so the test stands in for the kernel here.
 * Every hook may be NULL. */
struct cab_cgroup_test_hooks {
  void *arg;
  /* After cab created cgroup directory DIR: create the kernel's knob files. */
  void (*after_mkdir)(const char *dir, void *arg);
  /* Before cab writes VALUE to knob FILE: return 0 to go on with the write,
   * -1 when the hook did the write itself (e.g. to emulate the kernel's
   * cgroup.subtree_control), or an errno value to make it fail (EBUSY). */
  int (*before_write)(const char *file, const char *value, void *arg);
  /* Before cab removes cgroup directory DIR: remove its knob files. */
  void (*before_rmdir)(const char *dir, void *arg);
};

int cab_cgroup_detect(const struct cab_cgroup_paths *paths, struct cab_cgroup_host *host,
                      cab_error *err);

/* One cell's cgroup(s).  Opaque. */
struct cab_cgroup;

struct cab_cgroup_stats {
  bool oom_killed;          /* the kernel OOM killer fired in the cell */
  int64_t peak_memory_bytes; /* -1 if unknown */
  int64_t cpu_usage_us;      /* -1 if unknown */
};

/* Create the cell's cgroup under HOST with a unique NAME component and apply
 * LIMITS (NULL: none).  MECH receives, per limit, what is enforced: V2/V1
 * only when the knob write succeeded; a limit of 0 ("not asked") or one the
 * cgroup cannot take is left at CAB_MECH_NONE for the caller to degrade.
 * Returns 0 with *OUT NULL when no cgroup is usable (not an error). */
int cab_cgroup_create(const struct cab_cgroup_host *host, const struct cab_limits *limits,
                      struct cab_cgroup **out, enum cab_limit_mech *mem_mech,
                      enum cab_limit_mech *pids_mech, enum cab_limit_mech *cpu_mech,
                      cab_error *err);

/* cab_cgroup_create, plus REASON (REASON_SIZE bytes, may be NULL): one line
 * saying why no cgroup, or why a requested limit, could not be used, with the
 * fix; "" when every requested limit is enforced.  For the CLI's warning.
 * MEM_MECH, PIDS_MECH and CPU_MECH may be NULL. */
int cab_cgroup_create_reason(const struct cab_cgroup_host *host,
                             const struct cab_limits *limits, struct cab_cgroup **out,
                             enum cab_limit_mech *mem_mech, enum cab_limit_mech *pids_mech,
                             enum cab_limit_mech *cpu_mech, char *reason, size_t reason_size,
                             cab_error *err);

/* The cell's directory (v2), or its first v1 directory; for messages. */
const char *cab_cgroup_cell_path(const struct cab_cgroup *cg);

/* A directory fd for clone3(CLONE_INTO_CGROUP), or -1 (v1, or unknown).
 * Owned by CG: valid until cab_cgroup_destroy, do not close it. */
int cab_cgroup_clone_fd(const struct cab_cgroup *cg);

/* Move PID into the cell cgroup(s) (v2 without clone3, and v1). */
int cab_cgroup_attach(struct cab_cgroup *cg, pid_t pid, cab_error *err);

/* v1: the sandbox's first process joins the cell itself.  A process moved
 * by its pid (cgroup.procs, cab_cgroup_attach) takes the kernel's global
 * threadgroup lock for writing, which waits for an RCU grace period: 9-23 ms
 * on an idle host, most of what limits cost.  A single-threaded process
 * writing "0" to a v1 "tasks" file moves only itself and skips that lock
 * (cgroup_procs_write_start).  The supervisor opens the files (the kernel
 * checks the opener's credentials); the child writes and closes them before
 * anything else, in cab_cgroup_join_self. */
#define CAB_CGROUP_JOIN_MAX 5
struct cab_cgroup_join {
  int fd[CAB_CGROUP_JOIN_MAX];
  size_t n;
};
/* Open the cell's v1 "tasks" files.  N is 0 (nothing to do; use
 * cab_cgroup_attach) for v2, for NULL CG, under unit test hooks, and when a
 * file cannot be opened. */
void cab_cgroup_join_open(const struct cab_cgroup *cg, struct cab_cgroup_join *j);
/* In the child: write "0" to each file, then close them all. */
int cab_cgroup_join_self(struct cab_cgroup_join *j, cab_error *err);
void cab_cgroup_join_close(struct cab_cgroup_join *j);

/* Kill every process in the cell: v2 cgroup.kill, else freeze + SIGKILL each
 * pid + thaw; v1 the freezer, else SIGKILL in a loop.  Waits up to ~2 s for
 * the cell to empty, -1 (EBUSY) if it does not. */
int cab_cgroup_kill(struct cab_cgroup *cg, cab_error *err);

/* True when the cell cgroup still holds processes. */
bool cab_cgroup_populated(struct cab_cgroup *cg);

/* v2: memory.events oom_kill / oom_group_kill, memory.peak, cpu.stat
 * usage_usec.  v1: memory.oom_control oom_kill (before 4.13: failcnt > 0),
 * memory.max_usage_in_bytes, cpuacct.usage.  -1 with ST all unknown if CG is
 * NULL. */
int cab_cgroup_stats(struct cab_cgroup *cg, struct cab_cgroup_stats *st);

/* Kill what is left, remove the cgroup(s) and free CG.  NULL is fine. */
void cab_cgroup_destroy(struct cab_cgroup *cg);

/* Remove cab cgroups left by cab processes that no longer exist: in each
 * writable base directory (and <v2 mount>/cab as root), the directories named
 * cab.<pid>.supervisor / cab.<pid>.cell-<id> whose pid is gone (ESRCH), after
 * killing what still runs in them.  Nothing else is touched.  Keeps going on
 * failure and reports the first one. */
int cab_cgroup_cleanup_stale(const struct cab_cgroup_host *host, cab_error *err);

#endif
