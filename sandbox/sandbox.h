/* cab's sandbox: run one command in fresh user, mount, pid, net, uts, ipc and
 * cgroup namespaces, on a read-only root, under seccomp, capability and
 * resource limits.  It takes a directory; it knows nothing of images or cells. */
#ifndef CAB_SANDBOX_SANDBOX_H
#define CAB_SANDBOX_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"
#include "sandbox/diskwatch.h"
#include "sandbox/gateway.h"
#include "sandbox/limits.h"
#include "sandbox/seccomp.h"

struct cab_bind {
  const char *src;   /* host path */
  const char *dst;   /* path inside the sandbox */
  bool readonly;
};

struct cab_sandbox_config {
  const char *rootfs;         /* directory to use as / (NULL with host_rootfs) */
  bool host_rootfs;           /* use the host's / read-only; as root, the
                                 sandbox's ids then map to CAB_SANDBOX_NOBODY
                                 (see cab_sandbox_host_ids) */
  const char *const *masks;   /* host_rootfs: directories hidden under an
                                 empty read-only tmpfs (sandbox/host_masks.h),
                                 mounted before BINDS, which still appear */
  size_t n_masks;
  bool root_writable;         /* ROOTFS is a private copy: leave it writable */
  const char *overlay_dir;    /* when set, the root is an overlay: ROOTFS is
                                 the read-only lower layer, and OVERLAY_DIR
                                 (empty, writable) holds upper/ and work/, so
                                 the root is writable and ROOTFS untouched */
  bool overlay_volatile;      /* OVERLAY_DIR is thrown away after the run:
                                 mount it "volatile" (never synced; see
                                 cab_probe_overlay) */
  bool overlay_in_memory;     /* with OVERLAY_DIR set: upper/ and work/ go in a
                                 tmpfs of the sandbox's own instead (the
                                 directory is not used; a tmpfs's default size,
                                 half of RAM): nothing to create or remove on
                                 the host.  Only without a memory limit, which
                                 would not count it (cab_probe_overlay_in_memory) */
  char *const *argv;          /* command; argv[0] is searched in PATH inside */
  char *const *envp;          /* the complete environment of the command */
  const char *hostname;       /* default "cab" */
  const char *workdir;        /* default "/" */
  const struct cab_bind *binds;
  size_t n_binds;
  uid_t uid;                  /* identity inside; cab_sandbox_host_ids map to it */
  gid_t gid;
  uint64_t caps;              /* capability mask kept by the command */
  struct cab_seccomp_config seccomp;
  bool proc_readonly;         /* mount /proc read-only: nothing inside can open
                                 another process's /proc/PID/mem (or any /proc
                                 file) for writing, which seccomp cannot see */
  struct cab_limits limits;
  const char *cgroup_parent;  /* optional pre-created, writable cgroup */
  struct cab_gateway_spec gateway; /* a veth to a gateway namespace; when not
                                       enabled the sandbox has only lo */
  const char *const *extra_hosts; /* "IP NAME..." lines added to /etc/hosts */
  size_t n_extra_hosts;
  const int *stdio_fds;       /* NULL: the command inherits our stdin, stdout
                                 and stderr; else these three fds (-1: keep).
                                 Either way sorted first (sandbox/stdio.h):
                                 no directory, O_PATH fd or re-openable host
                                 file reaches the command */
  bool stdio_append_only;     /* relay regular-file stdout and stderr, and
                                 the capture below, through sockets: the
                                 command can neither re-open nor read back
                                 what it printed (the verifier; /dev/stdout
                                 then fails ENXIO) */
  bool tty;                   /* run under a pty relayed to our stdio */
  struct {
    /* With --tty: every chunk the pty prints, as it arrives (for a
     * terminal recording).  QUIET: do not also copy it to our stdout;
     * NO_INPUT: do not forward our stdin (headless runs). */
    void (*on_output)(void *ctx, const char *data, size_t len);
    void *ctx;
    bool quiet;
    bool no_input;
    unsigned short rows, cols;  /* initial size when our stdin is no tty */
  } tty_io;
  int kill_grace_ms;          /* after forwarding SIGINT/SIGTERM; default 3000 */
  bool no_cgroup;             /* limits by rlimits and the watchdogs only, as
                                 for a user without a writable cgroup */
  struct cab_disk_budget disk; /* host directories to keep within a budget */
  struct {
    /* When set, the command's stdout (STREAM 1) and stderr (2) are pipes
     * drained by the supervisor into this callback, so that their size is
     * the caller's to cap (stdio_fds[1] and [2] are then ignored). */
    void (*on_output)(void *ctx, int stream, const char *data, size_t len);
    void *ctx;
  } capture;
  const int *stop_fd;         /* when set: *STOP_FD readable (an eventfd the
                                 caller's threads write) kills the command, as
                                 the timeout does (res.stopped) */
};

struct cab_sandbox_result {
  int exit_code;             /* command's code, 128+N on signal N */
  int signal;                /* 0 unless killed by a signal */
  bool timed_out;
  bool stopped;              /* killed because STOP_FD became readable */
  bool oom_killed;
  int interrupted;           /* the first SIGINT/SIGTERM/SIGHUP/SIGQUIT we
                                received (and forwarded) while it ran, else 0:
                                the caller decides whether the run counts */
  int64_t wall_ms, user_ms, sys_ms;
  int64_t peak_memory_bytes; /* -1 when unknown */
  enum cab_limit_mech memory, pids, cpu;
  char cgroup_mode[16];      /* host cgroup mode, for reports */
  char degraded[512];        /* why limits were degraded, "" if not */
  bool over_budget;          /* the disk budget's watchdog killed the tree */
  char budget_reason[256];   /* "workdir over budget: 20.0 GiB > 1.0 GiB" */
  char memory_how[160];      /* what enforced memory, in words */
  char disk_how[160];        /* what enforced the disk budget, in words */
  /* The defences the command ran under (set once it ran: a defence that
   * cannot be applied fails the setup, it is never skipped). */
  const char *seccomp;       /* cab_seccomp_kind_name() of the filter */
  unsigned long namespaces;  /* the CLONE_NEW* namespaces the command ran in */
  bool proc_readonly;
  bool stdio_relayed;        /* some of fds 0-2 went through the relay
                                (sandbox/stdio.h) */
  bool output_append_only;   /* stdout and stderr went through sockets */
  bool stdio_nulled;         /* some were a directory or O_PATH fd, replaced
                                by /dev/null */
};

/* The unprivileged host id root's host-rootfs sandboxes run as: the
 * kernel's overflow id, "nobody". */
#define CAB_SANDBOX_NOBODY 65534

/* The host ids the sandbox's one uid and gid map to: the caller's, except
 * that when cab runs as root a host-rootfs sandbox maps to
 * CAB_SANDBOX_NOBODY, so no host file that is root's alone is readable or
 * writable from inside.  What the sandbox must write (a workdir, a HOME, a
 * rw bind) has to be owned by these ids; MAPPED_AWAY tells the caller so. */
void cab_sandbox_host_ids(const struct cab_sandbox_config *cfg, uid_t *uid, gid_t *gid,
                          bool *mapped_away);

/* Run CFG.  Returns 0 once the command has run (whatever its exit code, see
 * RES), or -1 with ERR filled when the sandbox could not be set up or the
 * command could not be started (ERR->exit_code is then 125, 126 or 127). */
int cab_sandbox_run(const struct cab_sandbox_config *cfg, struct cab_sandbox_result *res,
                    cab_error *err);

#endif
