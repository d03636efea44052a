/* Shared between the cgroup_*.c files; not part of cab's API. */
#ifndef CAB_SANDBOX_CGROUP_INTERNAL_H
#define CAB_SANDBOX_CGROUP_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"
#include "sandbox/cgroup.h"
#include "sandbox/limits.h"

#define CG_CPU_PERIOD_US 100000
#define CG_MAX_V1 5 /* memory, pids, cpu, cpuacct, freezer */

/* Which limit an entry of a mechanism array is about. */
enum { CG_MEM = 0, CG_PIDS = 1, CG_CPU = 2, CG_NLIMITS = 3 };

/* One v1 cell directory; co-mounted controllers share one. */
struct cg_v1_cell {
  char path[PATH_MAX];
  bool memory, pids, cpu, cpuacct, freezer;
};

struct cab_cgroup {
  int version; /* 1 or 2 */
  const struct cab_cgroup_test_hooks *hooks;
  /* v2 */
  char cell[PATH_MAX];
  int cell_fd;
  /* v1 */
  struct cg_v1_cell v1[CG_MAX_V1];
  size_t n_v1;
};

/* A one-line note for the caller, appended with "; " between clauses. */
struct cg_note {
  char *buf;
  size_t size;
};
void cg_note(struct cg_note *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* OUT = A + "/" + B without doubled slashes; -1 (ENAMETOOLONG) if too long. */
int cg_join(char *out, size_t size, const char *a, const char *b);

/* Knob access on DIR/KNOB.  cg_write goes through the test hook. */
int cg_write(const struct cab_cgroup_test_hooks *h, const char *dir, const char *knob,
             const char *value, cab_error *err);
int cg_read(const char *dir, const char *knob, char **out);
bool cg_exists(const char *dir, const char *knob);
/* "KEY VALUE" lines (memory.events, cpu.stat, oom_control); -1 if absent. */
int cg_read_key(const char *dir, const char *knob, const char *key, int64_t *val);
int cg_read_int(const char *dir, const char *knob, int64_t *val);
/* True when WORD is one of the space-separated words of LIST. */
bool cg_has_word(const char *list, const char *word);

/* mkdir / recursive rmdir (retrying EBUSY briefly) through the test hooks.
 * Both return -1 with errno set. */
int cg_mkdir(const struct cab_cgroup_test_hooks *h, const char *path);
int cg_rmdir_tree(const struct cab_cgroup_test_hooks *h, const char *path);

/* Where cab moves the other processes of its own delegated cgroup so that
 * it can enable controllers there (cgroup_v2.c); not a cab.<pid>.* name, so
 * cleanup_stale never kills what it holds. */
#define CG_V2_LEAF "cab.leaf"

/* "cab.<pid>.cell-<hex>", unique by pid and monotonic time. */
void cg_cell_name(char *name, size_t size);
/* Create DIR/<a fresh cg_cell_name> and put its path in OUT. */
int cg_make_cell(const struct cab_cgroup_test_hooks *h, const char *dir, char *out,
                 size_t size);

/* Parse "cab.<pid>.supervisor" / "cab.<pid>.cell-<id>"; false otherwise. */
bool cg_parse_cab_name(const char *name, pid_t *pid);

/* SIGKILL every pid in DIR/cgroup.procs (and its sub-cgroups), skipping
 * ourselves and pids <= 1.  Returns how many pids were listed. */
int cg_kill_procs(const char *dir);
/* True if DIR/cgroup.procs or any sub-cgroup's lists a process. */
bool cg_has_procs(const char *dir);

void cg_sleep_ms(int ms);

/* Detection helpers (cgroup_detect.c). */
bool cg_dir_writable(const char *dir, bool v2);

/* v2 (cgroup_v2.c) */
int cg_v2_create(const struct cab_cgroup_host *host, const struct cab_limits *limits,
                 struct cab_cgroup **out, enum cab_limit_mech mech[CG_NLIMITS],
                 struct cg_note *note, cab_error *err);
int cg_v2_kill_dir(const struct cab_cgroup_test_hooks *h, const char *dir, cab_error *err);
bool cg_v2_populated_dir(const char *dir);
void cg_v2_stats(const struct cab_cgroup *cg, struct cab_cgroup_stats *st);

/* v1 (cgroup_v1.c) */
int cg_v1_create(const struct cab_cgroup_host *host, const struct cab_limits *limits,
                 struct cab_cgroup **out, enum cab_limit_mech mech[CG_NLIMITS],
                 struct cg_note *note, cab_error *err);
int cg_v1_kill(struct cab_cgroup *cg, cab_error *err);
bool cg_v1_populated(const struct cab_cgroup *cg);
void cg_v1_stats(const struct cab_cgroup *cg, struct cab_cgroup_stats *st);
int cg_v1_kill_dir(const struct cab_cgroup_test_hooks *h, const char *dir, cab_error *err);

#endif
