#include "sandbox/host_probe.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/strfmt.h"
#include "sandbox/cgroup.h"
#include "sandbox/netlink.h"
#include "sandbox/preflight.h"
#include "sandbox/seccomp.h"

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#endif
#define LANDLOCK_CREATE_RULESET_VERSION (1U << 0)

/* ---- the user namespace's steps (sandbox/preflight.c runs them) ------- */

static const char *const step_names[] = {
    [CAB_USERNS_UNSHARE] = "creating the user namespace",
    [CAB_USERNS_MAPS] = "writing its id maps",
    [CAB_USERNS_TMPFS] = "mounting a tmpfs in it",
};

/* The outcome of a child that stopped at STEP or later, seen from STEP:
 * an earlier step's failure is this one's too, with that step's fix. */
static void
userns_result(const struct cab_userns_outcome *o, enum cab_userns_step step, const char *done,
              struct cab_probe_result *r)
{
  bool child_failed = o->failed == CAB_USERNS_CHILD;
  if (!child_failed && (o->failed == CAB_USERNS_DONE || o->failed > step)) {
    r->ok = true;
    snprintf(r->detail, sizeof r->detail, "%s", done);
    return;
  }
  char what[1024];
  cab_userns_diagnose(o, what, sizeof what, r->fix, sizeof r->fix);
  if (o->failed == step || child_failed)
    snprintf(r->detail, sizeof r->detail, "%s", what);
  else
    snprintf(r->detail, sizeof r->detail, "not tried: %s failed", step_names[o->failed]);
}

static void
probe_userns(const struct cab_probe_ctx *ctx, struct cab_probe_result *r)
{
  (void)ctx;
  struct cab_userns_outcome o;
  cab_userns_try(NULL, NULL, &o);
  userns_result(&o, CAB_USERNS_UNSHARE, "unshare(CLONE_NEWUSER) worked", r);
}

static void
probe_idmap(const struct cab_probe_ctx *ctx, struct cab_probe_result *r)
{
  (void)ctx;
  struct cab_userns_outcome o;
  cab_userns_try(NULL, NULL, &o);
  userns_result(&o, CAB_USERNS_MAPS, "uid_map and gid_map written, setgroups denied", r);
}

static void
probe_tmpfs(const struct cab_probe_ctx *ctx, struct cab_probe_result *r)
{
  (void)ctx;
  struct cab_userns_outcome o;
  cab_userns_try(NULL, NULL, &o);
  userns_result(&o, CAB_USERNS_TMPFS, "a tmpfs mounted in a new mount namespace", r);
}

/* A probe's own step failed: what it tried, the kernel's reason, the fix. */
static void
probe_failed(const struct cab_userns_outcome *o, const char *what, const char *fix,
             struct cab_probe_result *r)
{
  if (o->failed != CAB_USERNS_PROBE) {
    userns_result(o, CAB_USERNS_PROBE, "", r); /* an earlier step's failure */
    return;
  }
  snprintf(r->detail, sizeof r->detail, "cannot %s: %s", what, strerror(o->errnum));
  snprintf(r->fix, sizeof r->fix, "%s", fix);
}

static int
lo_up(void *arg)
{
  (void)arg;
  cab_error e = {0};
  if (unshare(CLONE_NEWNET) < 0)
    return errno;
  return cab_netlink_link_up(1, &e) == 0 ? 0 : (e.errnum ? e.errnum : EIO);
}

static void
probe_lo(const struct cab_probe_ctx *ctx, struct cab_probe_result *r)
{
  (void)ctx;
  struct cab_userns_outcome o;
  if (cab_userns_try(lo_up, NULL, &o) == 0) {
    r->ok = true;
    snprintf(r->detail, sizeof r->detail, "lo brought up in a new network namespace");
    return;
  }
  if (o.failed == CAB_USERNS_PROBE && (o.errnum == EPERM || o.errnum == EACCES))
    probe_failed(&o, "bring lo up in a new network namespace (rtnetlink)",
                 "an LSM refuses netlink in user namespaces: install cab's AppArmor profile "
                 "(make install puts it at /etc/apparmor.d/cab; then sudo apparmor_parser -r "
                 "/etc/apparmor.d/cab)", r);
  else
    probe_failed(&o, "bring lo up in a new network namespace (rtnetlink)",
                 "a kernel with CONFIG_NET_NS", r);
}

/* The pair cab's gateway makes: one end here, the peer in another
 * namespace of the same user namespace. */
static int
veth_pair(void *arg)
{
  (void)arg;
  cab_error e = {0};
  if (unshare(CLONE_NEWNET) < 0)
    return errno;
  int peer_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (peer_ns < 0)
    return errno;
  if (unshare(CLONE_NEWNET) < 0)
    return errno;
  return cab_netlink_veth_create("cab-probe0", "cab-probe1", peer_ns, &e) == 0
             ? 0
             : (e.errnum ? e.errnum : EIO);
}

static void
probe_veth(const struct cab_probe_ctx *ctx, struct cab_probe_result *r)
{
  (void)ctx;
  struct cab_userns_outcome o;
  if (cab_userns_try(veth_pair, NULL, &o) == 0) {
    r->ok = true;
    snprintf(r->detail, sizeof r->detail, "a veth pair made between two new network namespaces");
    return;
  }
  probe_failed(&o, "make a veth pair between two network namespaces",
               o.errnum == EOPNOTSUPP ? "load the veth module: sudo modprobe veth"
                                      : "a kernel with CONFIG_VETH (sudo modprobe veth)",
               r);
}

static void
probe_overlay(const struct cab_probe_ctx *ctx, struct cab_probe_result *r)
{
  (void)ctx;
  struct cab_userns_outcome o;
  if (cab_probe_overlay_outcome(&o) == 0) {
    r->ok = true;
    snprintf(r->detail, sizeof r->detail, "overlayfs with userxattr mounted in a user namespace");
    return;
  }
  probe_failed(&o, "mount overlayfs in a user namespace (cab copies the root instead: slower)",
               "a 5.11+ kernel (overlayfs with userxattr in user namespaces)", r);
}

/* ---- cgroup: where cab would put a cell -------------------------------- */

struct cgroup_report {
  bool ok;
  char detail[900];
};

/* In a child (cab may move itself into a supervisor cgroup): create the
 * cell's cgroup with a limit, put a grandchild in it, remove it. */
static void
cgroup_child(const struct cab_cgroup_host *host, struct cgroup_report *rep)
{
  const struct cab_limits limits = {.memory_bytes = 256 << 20, .pids = 256, .cpus = 1};
  enum cab_limit_mech mech[3] = {CAB_MECH_NONE, CAB_MECH_NONE, CAB_MECH_NONE};
  struct cab_cgroup *cg = NULL;
  char reason[512] = "";
  cab_error e = {0};
  char line[1100];
  if (cab_cgroup_create_reason(host, &limits, &cg, &mech[0], &mech[1], &mech[2], reason,
                               sizeof reason, &e) < 0) {
    snprintf(rep->detail, sizeof rep->detail, "%.800s", cab_error_line(&e, line, sizeof line));
    return;
  }
  if (cg == NULL) {
    snprintf(rep->detail, sizeof rep->detail, "limits fall back to rlimits: %s", reason);
    return;
  }
  char path[4096];
  snprintf(path, sizeof path, "%s", cab_cgroup_cell_path(cg));
  pid_t member = fork();
  if (member == 0) {
    pause(); /* until the cgroup's removal kills it */
    _exit(0);
  }
  int joined = member > 0 ? cab_cgroup_attach(cg, member, &e) : -1;
  cab_cgroup_destroy(cg); /* kills the member */
  if (member > 0) {
    kill(member, SIGKILL);
    while (waitpid(member, NULL, 0) < 0 && errno == EINTR)
      ;
  }
  if (joined < 0) {
    snprintf(rep->detail, sizeof rep->detail, "created %.300s but a child cannot join it: %.500s", path,
             cab_error_line(&e, line, sizeof line));
    return;
  }
  if (access(path, F_OK) == 0) {
    snprintf(rep->detail, sizeof rep->detail, "created and joined %.700s but cannot remove it", path);
    return;
  }
  const char *names[3] = {"memory", "pids", "cpu"};
  char limited[64] = "", missing[64] = "";
  for (int i = 0; i < 3; i++) {
    char *list = mech[i] != CAB_MECH_NONE ? limited : missing;
    size_t n = strlen(list);
    snprintf(list + n, sizeof limited - n, "%s%s", n ? ", " : "", names[i]);
  }
  rep->ok = missing[0] == '\0';
  if (rep->ok)
    snprintf(rep->detail, sizeof rep->detail,
             "%s: a cell cgroup %.600s took %s limits, a child joined it, it was removed",
             cab_limit_mech_name(mech[0]), path, limited);
  else
    snprintf(rep->detail, sizeof rep->detail, "%s %s limits fall back to rlimits: %s",
             limited[0] ? "only some limits by cgroup;" : "", missing, reason);
}

/* True when the v2 root hands memory, pids and cpu to its children: what a
 * root-made subtree needs before its owner can pass them on. */
static bool
root_delegates_controllers(const struct cab_cgroup_host *host)
{
  char path[4200];
  cleanup_free char *on = NULL;
  cab_error ignored = {0};
  snprintf(path, sizeof path, "%s/cgroup.subtree_control", host->v2_mount);
  if (cab_read_file_at(AT_FDCWD, path, 4096, &on, NULL, &ignored) < 0)
    return true; /* cannot tell: say nothing */
  return strstr(on, "memory") && strstr(on, "pids") && strstr(on, "cpu");
}

/* The commands that give an unprivileged user a cgroup cab can use. */
static void
cgroup_fix(const struct cab_cgroup_host *host, char *fix, size_t size)
{
  if (host->mode == CAB_CGROUP_MODE_NONE) {
    snprintf(fix, size, "sudo mount -t cgroup2 none /sys/fs/cgroup");
  } else if (host->mode == CAB_CGROUP_MODE_UNIFIED) {
    /* cab makes cells under the cgroup it runs in, which must hold no
     * other process: a delegated scope of its own, or, without a systemd
     * user manager, a root-made subtree (the shell in a leaf of it, cab
     * told to make cells beside that leaf: moving a process between two
     * cgroups needs write access to their common ancestor). */
    const char *m = host->v2_mount;
    char enable[300] = "";
    if (!root_delegates_controllers(host))
      cab_snprintf_cut(enable, sizeof enable,
                       "echo '+memory +pids +cpu' | sudo tee %.200s/cgroup.subtree_control && ", m);
    /* Read by people, and it fits the result's fix[] with any real mount
     * point; cut, never overflowed, should one not. */
    cab_snprintf_cut(fix, size,
             "systemd-run --user --scope -p Delegate=yes cab ...; without a systemd user "
             "manager: %ssudo mkdir -p %.200s/cab-$USER/shell && sudo chown -R $USER "
             "%.200s/cab-$USER && echo $$ | sudo tee %.200s/cab-$USER/shell/cgroup.procs, "
             "then cab exec --cgroup-parent /cab-$USER ...",
             enable, m, m, m);
  } else {
    snprintf(fix, size, "run cab as root (cgroup v1 cannot be delegated to a user safely), or "
                        "have root create a cgroup in the memory, pids and cpu hierarchies, "
                        "chown it to you and pass --cgroup-parent");
  }
}

static void
probe_cgroup(const struct cab_probe_ctx *ctx, struct cab_probe_result *r)
{
  struct cab_cgroup_host host;
  struct cab_cgroup_paths paths = {.parent = ctx->cgroup_parent};
  cab_error e = {0};
  char line[1100];
  if (cab_cgroup_detect(&paths, &host, &e) < 0) {
    snprintf(r->detail, sizeof r->detail, "%s", cab_error_line(&e, line, sizeof line));
    return;
  }
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) {
    snprintf(r->detail, sizeof r->detail, "pipe: %s", strerror(errno));
    return;
  }
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    struct cgroup_report rep = {0};
    cgroup_child(&host, &rep);
    _exit(write(fds[1], &rep, sizeof rep) == (ssize_t)sizeof rep ? 0 : 1);
  }
  close(fds[1]);
  struct cgroup_report rep = {0};
  ssize_t n = -1;
  if (pid > 0)
    while ((n = read(fds[0], &rep, sizeof rep)) < 0 && errno == EINTR)
      ;
  close(fds[0]);
  if (pid > 0)
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
      ;
  /* The child's supervisor cgroup, if it made one, belongs to a dead cab
   * now: removed as every cab start removes them. */
  cab_cgroup_cleanup_stale(&host, &e);
  if (n != (ssize_t)sizeof rep)
    snprintf(rep.detail, sizeof rep.detail, "the cgroup probe died");
  r->ok = rep.ok;
  snprintf(r->detail, sizeof r->detail, "%s", rep.detail);
  if (!r->ok)
    cgroup_fix(&host, r->fix, sizeof r->fix);
}

/* ---- seccomp, openat2, Landlock ---------------------------------------- */

static void
probe_seccomp(const struct cab_probe_ctx *ctx, struct cab_probe_result *r)
{
  (void)ctx;
  struct cab_seccomp_config cfg = {.kind = CAB_SECCOMP_DEFAULT};
  struct cab_seccomp_filter *f = NULL;
  cab_error e = {0};
  char line[1100];
  if (cab_seccomp_build(&cfg, &f, &e) < 0) {
    snprintf(r->detail, sizeof r->detail, "cannot build cab's default policy: %s",
             cab_error_line(&e, line, sizeof line));
    return;
  }
  size_t len = cab_seccomp_filter_length(f);
  pid_t pid = fork();
  if (pid == 0) {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
      _exit(errno);
    int rc = cab_seccomp_load(f);
    _exit(rc < 0 ? -rc : 0);
  }
  cab_seccomp_free(f);
  int st = 0;
  if (pid > 0)
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
      ;
  int code = pid < 0 ? errno : WIFEXITED(st) ? WEXITSTATUS(st) : EIO;
  if (code == 0) {
    r->ok = true;
    snprintf(r->detail, sizeof r->detail, "cab's default policy loaded, %zu BPF instructions",
             len);
    return;
  }
  snprintf(r->detail, sizeof r->detail, "cannot load cab's default seccomp policy: %s",
           strerror(code));
  snprintf(r->fix, sizeof r->fix, "a kernel with CONFIG_SECCOMP_FILTER");
}

static void
probe_openat2(const struct cab_probe_ctx *ctx, struct cab_probe_result *r)
{
  (void)ctx;
  struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT};
  long fd = syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof how);
  if (fd >= 0) {
    close((int)fd);
    r->ok = true;
    snprintf(r->detail, sizeof r->detail, "RESOLVE_IN_ROOT works");
    return;
  }
  snprintf(r->detail, sizeof r->detail, "openat2(RESOLVE_IN_ROOT): %s", strerror(errno));
  snprintf(r->fix, sizeof r->fix,
           errno == ENOSYS ? "a 5.6+ kernel, or an outer container whose seccomp profile "
                             "allows openat2"
                           : "a 5.6+ kernel");
}

static void
probe_landlock(const struct cab_probe_ctx *ctx, struct cab_probe_result *r)
{
  (void)ctx;
  long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
  r->ok = abi > 0;
  if (r->ok)
    snprintf(r->detail, sizeof r->detail, "ABI %ld", abi);
  else
    snprintf(r->detail, sizeof r->detail, "not available (%s); cab does not need it",
             strerror(errno));
}

/* In the order a sandbox needs them: a later namespace probe repeats the
 * earlier steps in its own child, so each line stands alone. */
const struct cab_host_probe cab_host_probes[] = {
    {"userns", "user namespaces", CAB_PROBE_REQUIRED, probe_userns},
    {"idmap", "uid/gid maps", CAB_PROBE_REQUIRED, probe_idmap},
    {"tmpfs", "tmpfs in userns", CAB_PROBE_REQUIRED, probe_tmpfs},
    {"netns_lo", "lo in a netns", CAB_PROBE_REQUIRED, probe_lo},
    {"veth", "veth pair", CAB_PROBE_REQUIRED, probe_veth},
    {"overlay", "overlay in userns", CAB_PROBE_DEGRADES, probe_overlay},
    {"cgroup", "cgroup for a cell", CAB_PROBE_DEGRADES, probe_cgroup},
    {"seccomp", "seccomp filter", CAB_PROBE_REQUIRED, probe_seccomp},
    {"openat2", "openat2", CAB_PROBE_REQUIRED, probe_openat2},
    {"landlock", "Landlock", CAB_PROBE_INFO, probe_landlock},
};
const size_t cab_host_probe_count = sizeof cab_host_probes / sizeof cab_host_probes[0];

void
cab_host_probe_run(const struct cab_host_probe *p, const struct cab_probe_ctx *ctx,
                   struct cab_probe_result *r)
{
  static const struct cab_probe_ctx none = {0};
  memset(r, 0, sizeof *r);
  p->run(ctx ? ctx : &none, r);
}
