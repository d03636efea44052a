#include "sandbox/preflight.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "sandbox/probe_cache.h"

/* The fix for a host whose policy lets unshare succeed and then refuses
 * the namespace's use (Ubuntu 24.04's AppArmor restriction). */
#define APPARMOR_FIX                                                                        \
  "install cab's AppArmor profile (make install puts it at /etc/apparmor.d/cab; then sudo " \
  "apparmor_parser -r /etc/apparmor.d/cab) or sudo sysctl -w "                              \
  "kernel.apparmor_restrict_unprivileged_userns=0"

/* The sysctls that restrict user namespaces, as data: which value
 * restricts, whether root is restricted too, and the fix. */
struct restriction {
  const char *path;
  const char *name;
  long restricted;   /* the value that restricts */
  long absent;       /* what a missing file means (not restricting) */
  bool root_too;     /* false: only unprivileged users are restricted */
  const char *fix;
};

static const struct restriction restrictions[] = {
    {"/proc/sys/kernel/unprivileged_userns_clone", "kernel.unprivileged_userns_clone", 0, 1,
     false, "sudo sysctl -w kernel.unprivileged_userns_clone=1"},
    {"/proc/sys/user/max_user_namespaces", "user.max_user_namespaces", 0, 1, true,
     "sudo sysctl -w user.max_user_namespaces=15000"},
    {"/proc/sys/kernel/apparmor_restrict_unprivileged_userns",
     "kernel.apparmor_restrict_unprivileged_userns", 1, 0, false, APPARMOR_FIX},
};

static long
read_long(const char *path, long fallback)
{
  cleanup_fclose FILE *f = fopen(path, "re");
  long v;
  if (f == NULL || fscanf(f, "%ld", &v) != 1)
    return fallback;
  return v;
}

/* The first restriction in force for us, or NULL. */
static const struct restriction *
restriction_in_force(void)
{
  for (size_t i = 0; i < sizeof restrictions / sizeof restrictions[0]; i++) {
    const struct restriction *r = &restrictions[i];
    if ((r->root_too || geteuid() != 0) && read_long(r->path, r->absent) == r->restricted)
      return r;
  }
  return NULL;
}

/* Are we inside a container whose seccomp profile blocks CLONE_NEWUSER?
 * Docker's default profile does; /proc/self/status then shows Seccomp: 2. */
static int
seccomp_mode(void)
{
  cleanup_fclose FILE *f = fopen("/proc/self/status", "re");
  char line[256];
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, "Seccomp:", 8) == 0)
      return atoi(line + 8);
  return 0;
}

/* In a user namespace nobody gave a uid map (`unshare --user`), we are the
 * overflow uid and the kernel refuses to nest another namespace. */
static bool
in_unmapped_userns(void)
{
  cleanup_free char *map = NULL;
  cab_error ignored = {0};
  return cab_read_file_at(AT_FDCWD, "/proc/self/uid_map", 4096, &map, NULL, &ignored) == 0 &&
         strspn(map, " \n") == strlen(map);
}

static void
diagnose_unshare(int errnum, char *what, size_t ws, char *fix, size_t fs)
{
  const struct restriction *r = restriction_in_force();
  if (r != NULL) {
    snprintf(what, ws, "cannot create a user namespace: %s=%ld", r->name, r->restricted);
    snprintf(fix, fs, "%s", r->fix);
  } else if (errnum == ENOSPC) {
    snprintf(what, ws, "cannot create a user namespace: the per-user limit is reached "
                       "(user.max_user_namespaces=%ld)",
             read_long("/proc/sys/user/max_user_namespaces", -1));
    snprintf(fix, fs, "end other sandboxes, or sudo sysctl -w user.max_user_namespaces=15000");
  } else if (errnum == EPERM && in_unmapped_userns()) {
    snprintf(what, ws, "cannot create a user namespace: cab runs in a user namespace without a "
                       "uid map (as under 'unshare --user'), in which the kernel refuses to "
                       "create another");
    snprintf(fix, fs, "give that namespace a map: unshare --user --map-current-user (or "
                      "--map-root-user)");
  } else if (seccomp_mode() == 2) {
    snprintf(what, ws, "cannot create a user namespace: cab runs under a seccomp filter that "
                       "blocks CLONE_NEWUSER (a container's default profile?)");
    snprintf(fix, fs, "run the outer container with --security-opt seccomp=unconfined");
  } else {
    snprintf(what, ws, "cannot create the sandbox's namespaces (user, mount, pid, net, uts, "
                       "ipc): %s", strerror(errnum));
    snprintf(fix, fs, "a kernel with CONFIG_USER_NS, and no LSM policy against user "
                      "namespaces ('cab doctor' shows which steps work)");
  }
}

/* The namespace exists but using it is refused: the AppArmor restriction's
 * signature (the sysctl named when it is on, else the likely cause). */
static void
diagnose_use(const char *step, int errnum, char *what, size_t ws, char *fix, size_t fs)
{
  const struct restriction *r = restriction_in_force();
  if (r != NULL && strcmp(r->fix, APPARMOR_FIX) == 0)
    snprintf(what, ws, "cannot %s (%s): AppArmor restricts unprivileged user namespaces (%s=1)",
             step, strerror(errnum), r->name);
  else
    snprintf(what, ws, "cannot %s (%s): creating the namespace worked, so something refuses "
                       "its use, likely an LSM such as AppArmor's restriction of unprivileged "
                       "user namespaces (Ubuntu 24.04)",
             step, strerror(errnum));
  snprintf(fix, fs, "%s", APPARMOR_FIX);
}

void
cab_userns_diagnose(const struct cab_userns_outcome *o, char *what, size_t what_size, char *fix,
                    size_t fix_size)
{
  switch (o->failed) {
  case CAB_USERNS_DONE:
    snprintf(what, what_size, "%s", "");
    snprintf(fix, fix_size, "%s", "");
    return;
  case CAB_USERNS_UNSHARE:
    diagnose_unshare(o->errnum, what, what_size, fix, fix_size);
    return;
  case CAB_USERNS_MAPS:
    diagnose_use("write a new user namespace's id maps (/proc/self/uid_map, setgroups, "
                 "gid_map)", o->errnum, what, what_size, fix, fix_size);
    return;
  case CAB_USERNS_TMPFS:
    diagnose_use("mount a tmpfs in a new user namespace", o->errnum, what, what_size, fix,
                 fix_size);
    return;
  case CAB_USERNS_PROBE:
  case CAB_USERNS_CHILD:
    break;
  }
  snprintf(what, what_size, "the user namespace probe failed: %s", strerror(o->errnum));
  snprintf(fix, fix_size, "%s", "");
}

int
cab_userns_explain(int errnum, cab_error *err)
{
  char what[1024], fix[512];
  struct cab_userns_outcome o = {CAB_USERNS_UNSHARE, errnum};
  cab_userns_diagnose(&o, what, sizeof what, fix, sizeof fix);
  return cab_error_set(err, 0, "%s; fix: %s", what, fix);
}

/* 0, or the errno of the first write that failed. */
static int
map_self(uid_t uid, gid_t gid)
{
  char m[64];
  cab_error e = {0};
  snprintf(m, sizeof m, "0 %u 1", uid);
  if (cab_write_file_at(AT_FDCWD, "/proc/self/uid_map", m, &e) < 0)
    return e.errnum ? e.errnum : EIO;
  /* Absent before 3.19: then gid_map needs no "deny" first. */
  if (cab_write_file_at(AT_FDCWD, "/proc/self/setgroups", "deny", &e) < 0 && e.errnum != ENOENT)
    return e.errnum ? e.errnum : EIO;
  snprintf(m, sizeof m, "0 %u 1", gid);
  if (cab_write_file_at(AT_FDCWD, "/proc/self/gid_map", m, &e) < 0)
    return e.errnum ? e.errnum : EIO;
  return 0;
}

/* The child's steps; it exits with the outcome written to FD. */
static void __attribute__((noreturn))
child_steps(int fd, uid_t uid, gid_t gid, int (*probe)(void *), void *arg)
{
  struct cab_userns_outcome o = {CAB_USERNS_DONE, 0};
  int e;
  if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
    o = (struct cab_userns_outcome){CAB_USERNS_UNSHARE, errno};
  else if ((e = map_self(uid, gid)) != 0)
    o = (struct cab_userns_outcome){CAB_USERNS_MAPS, e};
  /* Everything on a private tmpfs: nothing on the host is touched. */
  else if (mount("tmpfs", "/tmp", "tmpfs", 0, "size=1m") < 0)
    o = (struct cab_userns_outcome){CAB_USERNS_TMPFS, errno};
  else if (probe != NULL && (o.errnum = probe(arg)) != 0)
    o.failed = CAB_USERNS_PROBE;
  _exit(write(fd, &o, sizeof o) == (ssize_t)sizeof o ? 0 : 1);
}

int
cab_userns_try(int (*probe)(void *arg), void *arg, struct cab_userns_outcome *out)
{
  int fds[2];
  *out = (struct cab_userns_outcome){CAB_USERNS_CHILD, 0};
  if (pipe2(fds, O_CLOEXEC) < 0)
    return out->errnum = errno, -1;
  uid_t uid = geteuid();
  gid_t gid = getegid();
  pid_t pid = fork();
  if (pid < 0) {
    out->errnum = errno;
    close(fds[0]);
    close(fds[1]);
    return -1;
  }
  if (pid == 0) {
    close(fds[0]);
    child_steps(fds[1], uid, gid, probe, arg);
  }
  close(fds[1]);
  struct cab_userns_outcome o;
  ssize_t n;
  while ((n = read(fds[0], &o, sizeof o)) < 0 && errno == EINTR)
    ;
  close(fds[0]);
  int st;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
    ;
  if (n != (ssize_t)sizeof o) {
    out->errnum = EPIPE; /* the child died before it could say */
    return -1;
  }
  *out = o;
  return o.failed == CAB_USERNS_DONE ? 0 : -1;
}

int
cab_check_userns(cab_error *err)
{
  /* A success is remembered for this boot, kernel, identity, namespace and
   * sysctls (sandbox/probe_cache.h); a failure is probed again each time. */
  char key[CAB_PROBE_KEY_MAX];
  bool keyed = cab_probe_cache_key("userns", NULL, key, sizeof key) == 0;
  if (keyed && cab_probe_cache_hit(key))
    return 0;
  struct cab_userns_outcome o;
  if (cab_userns_try(NULL, NULL, &o) == 0) {
    if (keyed)
      cab_probe_cache_put(key);
    return 0;
  }
  char what[1024], fix[512];
  cab_userns_diagnose(&o, what, sizeof what, fix, sizeof fix);
  return cab_error_set(err, 0, "%s; fix: %s", what, fix);
}

static int
overlay_probe(void *arg)
{
  (void)arg;
  const char *dirs[4] = {"/tmp/l", "/tmp/u", "/tmp/w", "/tmp/m"};
  for (int i = 0; i < 4; i++)
    if (mkdir(dirs[i], 0755) < 0 && errno != EEXIST)
      return errno;
  /* With "volatile" (5.10+, before userxattr's 5.11), as cab mounts the
   * layers it throws away: a kernel without it gets the copied root. */
  return mount("overlay", "/tmp/m", "overlay", 0,
               "lowerdir=/tmp/l,upperdir=/tmp/u,workdir=/tmp/w,userxattr,volatile") == 0 ? 0 : errno;
}

/* The overlay probe with its layer in a tmpfs, as an in-memory layer is,
 * used as a run uses it: a directory of the lower layer removed and made
 * again must come back empty, which needs user.* xattrs on the tmpfs
 * (the opaque mark; tmpfs has them from 6.6).  Without them overlay mounts
 * all the same and fails that later, with EIO. */
static int
overlay_in_memory_probe(void *arg)
{
  (void)arg;
  if (mkdir("/tmp/l", 0755) < 0 || mkdir("/tmp/l/d", 0755) < 0 || mkdir("/tmp/l/d/e", 0755) < 0)
    return errno;
  int e = overlay_probe(NULL);
  if (e != 0)
    return e;
  if (rmdir("/tmp/m/d/e") < 0 || rmdir("/tmp/m/d") < 0 || mkdir("/tmp/m/d", 0755) < 0 ||
      rmdir("/tmp/m/d") < 0)
    return errno;
  return 0;
}

bool
cab_probe_overlay_in_memory(void)
{
  char key[CAB_PROBE_KEY_MAX];
  bool keyed = cab_probe_cache_key("overlay-in-memory", NULL, key, sizeof key) == 0;
  if (keyed && cab_probe_cache_hit(key))
    return true;
  struct cab_userns_outcome o;
  if (cab_userns_try(overlay_in_memory_probe, NULL, &o) != 0)
    return false;
  if (keyed)
    cab_probe_cache_put(key);
  return true;
}

int
cab_probe_overlay_outcome(struct cab_userns_outcome *out)
{
  return cab_userns_try(overlay_probe, NULL, out);
}

bool
cab_probe_overlay(const char *upper_parent)
{
  char key[CAB_PROBE_KEY_MAX];
  bool keyed = cab_probe_cache_key("overlay", upper_parent, key, sizeof key) == 0;
  if (keyed && cab_probe_cache_hit(key))
    return true;
  struct cab_userns_outcome o;
  if (cab_probe_overlay_outcome(&o) != 0)
    return false;
  if (keyed)
    cab_probe_cache_put(key);
  return true;
}
