/* Unit tests for the cgroup module.
 *
 * Three kinds of test, and what each proves:
 *  - detection on recorded / hand-written fixtures (tests/fixtures/cgroup):
 *    the parsing of mountinfo and /proc/self/cgroup, the mode, mount points,
 *    own paths and controllers;
 *  - create / limits / kill / stats / stale cleanup on a FAKE tree: a plain
 *    temp directory laid out like a cgroupfs, where the test hooks stand in
 *    for the kernel (they create knob files on mkdir, merge "+memory" into
 *    cgroup.subtree_control, empty cgroup.procs on cgroup.kill).  These cover
 *    path computation, the order of decisions and the knob VALUES only.  They
 *    prove nothing about kernel behaviour: in particular, on a real cgroup v2
 *    host it is untested that the supervisor move satisfies the
 *    no-internal-processes rule, that the kernel accepts memory.swap.max /
 *    memory.oom.group / cpu.max as written, that cgroup.kill and the
 *    freeze+kill fallback empty a real cell, that clone3(CLONE_INTO_CGROUP)
 *    accepts the cell fd, and that memory.events / memory.peak / cpu.stat
 *    read as parsed here;
 *  - real cgroup v1 on this machine (root, hybrid): limits read back from the
 *    kernel's files, attach, kill, OOM and pids enforcement, destroy, stale
 *    cleanup.  Skipped, with "skip: <reason>", when not root or not writable. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "sandbox/cgroup.h"
#include "sandbox/cgroup_internal.h"

#define MiB (1024 * 1024)
/* snprintf that fails the test instead of truncating. */
#define xsnprintf(buf, size, ...) assert_true(snprintf((buf), (size), __VA_ARGS__) < (int)(size))

/* ---- fixtures and small file helpers ---------------------------------- */

static void
fixture(char *out, size_t size, const char *host, const char *file)
{
  const char *env = getenv("CAB_FIXTURES");
  if (env) {
    xsnprintf(out, size, "%s/cgroup/%s/%s", env, host, file);
    return;
  }
  xsnprintf(out, size, "tests/fixtures/cgroup/%s/%s", host, file);
  if (access(out, R_OK) == 0)
    return;
  /* build/tests/test_cgroup -> the source tree two levels up */
  char exe[PATH_MAX] = "";
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  exe[n > 0 ? n : 0] = '\0';
  xsnprintf(out, size, "%s/../../tests/fixtures/cgroup/%s/%s", dirname(exe), host, file);
}

static void
put(const char *dir, const char *knob, const char *content)
{
  char p[PATH_MAX];
  xsnprintf(p, sizeof p, "%s/%s", dir, knob);
  FILE *f = fopen(p, "w");
  assert_non_null(f);
  fputs(content, f);
  fclose(f);
}

/* Contents of DIR/KNOB without the trailing newline; "" if absent. */
static const char *
get(const char *dir, const char *knob, char *buf, size_t size)
{
  char p[PATH_MAX];
  xsnprintf(p, sizeof p, "%s/%s", dir, knob);
  buf[0] = '\0';
  cleanup_fclose FILE *f = fopen(p, "r");
  if (f == NULL)
    return buf;
  size_t n = fread(buf, 1, size - 1, f);
  buf[n] = '\0';
  while (n > 0 && buf[n - 1] == '\n')
    buf[--n] = '\0';
  return buf;
}

static bool
exists(const char *path)
{
  return access(path, F_OK) == 0;
}

static void
rm_rf(const char *path)
{
  char cmd[PATH_MAX + 32];
  xsnprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
  assert_int_equal(system(cmd), 0);
}

/* The one entry of DIR whose name starts with PREFIX, or "". */
static void
find_entry(const char *dir, const char *prefix, char *out, size_t size)
{
  out[0] = '\0';
  cleanup_dir DIR *d = opendir(dir);
  if (d == NULL)
    return;
  struct dirent *de;
  while ((de = readdir(d)) != NULL)
    if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
      xsnprintf(out, size, "%s/%s", dir, de->d_name);
}

static pid_t
dead_pid(void)
{
  for (int i = 0; i < 100; i++) {
    pid_t p = fork();
    assert_true(p >= 0);
    if (p == 0)
      _exit(0);
    waitpid(p, NULL, 0);
    if (kill(p, 0) < 0 && errno == ESRCH)
      return p;
  }
  fail_msg("no dead pid found");
  return -1;
}

static pid_t
sleeper(void)
{
  pid_t p = fork();
  assert_true(p >= 0);
  if (p == 0) {
    for (;;)
      pause();
  }
  return p;
}

static int
detect_fixture(const char *name, const char *prefix, const char *parent,
               struct cab_cgroup_host *h, cab_error *err)
{
  char mi[PATH_MAX], cg[PATH_MAX];
  fixture(mi, sizeof mi, name, "mountinfo");
  fixture(cg, sizeof cg, name, "cgroup");
  struct cab_cgroup_paths p = {.mountinfo = mi, .self_cgroup = cg, .prefix = prefix,
                               .parent = parent};
  return cab_cgroup_detect(&p, h, err);
}

/* ---- the fake cgroupfs ------------------------------------------------- */

/* When the own cgroup refuses "+controller" in subtree_control (EBUSY): never;
 * until cab moved into its supervisor; always; or while the own cgroup's
 * cgroup.procs lists any process (the kernel's rule; writes to another
 * cgroup.procs take the pid out of it). */
enum busy { BUSY_NEVER, BUSY_UNTIL_MOVED, BUSY_ALWAYS, BUSY_UNTIL_EMPTY };

struct fake {
  char prefix[PATH_MAX]; /* the temp dir, passed as paths.prefix */
  char cgfs[PATH_MAX];   /* prefix + /sys/fs/cgroup */
  char own[PATH_MAX];    /* the own cgroup directory */
  bool v1;
  bool has_kill;         /* create cgroup.kill (kernel >= 5.14) */
  bool has_peak;         /* create memory.peak (kernel >= 5.19) */
  bool emulate_exit;     /* on thaw, the killed processes leave the cell */
  enum busy busy;
  bool moved;            /* cab wrote its pid to a supervisor's cgroup.procs */
  char log[16384];       /* "relative/path=value" per write */
  struct cab_cgroup_test_hooks hooks;
  struct cab_cgroup_host host;
};

static void
fake_knobs(const char *dir, void *arg)
{
  struct fake *f = arg;
  put(dir, "cgroup.procs", "");
  if (f->v1) {
    static const char *const v1[] = {"tasks", "memory.limit_in_bytes",
                                     "memory.memsw.limit_in_bytes", "memory.oom_control",
                                     "memory.failcnt", "memory.max_usage_in_bytes", "pids.max",
                                     "cpu.cfs_period_us", "cpu.cfs_quota_us", "cpuacct.usage",
                                     "freezer.state"};
    for (size_t i = 0; i < sizeof v1 / sizeof v1[0]; i++)
      put(dir, v1[i], "");
    return;
  }
  static const char *const v2[] = {"cgroup.subtree_control", "cgroup.freeze", "memory.max",
                                   "memory.swap.max", "memory.oom.group", "memory.events",
                                   "pids.max", "cpu.max", "cpu.stat"};
  for (size_t i = 0; i < sizeof v2 / sizeof v2[0]; i++)
    put(dir, v2[i], "");
  put(dir, "cgroup.controllers", "cpu memory pids");
  put(dir, "cgroup.events", "populated 0\nfrozen 0\n");
  if (f->has_kill)
    put(dir, "cgroup.kill", "");
  if (f->has_peak)
    put(dir, "memory.peak", "");
}

static void
fake_rmdir(const char *dir, void *arg)
{
  (void)arg;
  cleanup_dir DIR *d = opendir(dir);
  struct dirent *de;
  while (d && (de = readdir(d)) != NULL) {
    char p[PATH_MAX];
    xsnprintf(p, sizeof p, "%s/%s", dir, de->d_name);
    if (de->d_type == DT_REG)
      unlink(p);
  }
}

static void
set_populated(const char *dir, bool on)
{
  put(dir, "cgroup.events", on ? "populated 1\nfrozen 0\n" : "populated 0\nfrozen 0\n");
}

/* Take PID out of DIR/cgroup.procs. */
static void
remove_pid(const char *dir, long pid)
{
  char procs[256], left[256] = "";
  get(dir, "cgroup.procs", procs, sizeof procs);
  char *save = NULL;
  for (char *t = strtok_r(procs, "\n", &save); t; t = strtok_r(NULL, "\n", &save))
    if (atol(t) != pid)
      xsnprintf(left + strlen(left), sizeof left - strlen(left), "%s\n", t);
  put(dir, "cgroup.procs", left);
}

static int
fake_write(const char *file, const char *value, void *arg)
{
  struct fake *f = arg;
  size_t cl = strlen(f->cgfs);
  const char *rel = strncmp(file, f->cgfs, cl) == 0 ? file + cl + 1 : file;
  size_t used = strlen(f->log);
  xsnprintf(f->log + used, sizeof f->log - used, "%s=%s\n", rel, value);

  char dir[PATH_MAX];
  xsnprintf(dir, sizeof dir, "%s", file);
  *strrchr(dir, '/') = '\0';
  const char *knob = strrchr(file, '/') + 1;

  char cur_procs[256];
  if (f->busy == BUSY_UNTIL_EMPTY && strcmp(knob, "cgroup.procs") == 0) {
    /* A migration: the pid leaves the own cgroup and joins DIR. */
    if (strcmp(dir, f->own) != 0)
      remove_pid(f->own, atol(value));
    get(dir, knob, cur_procs, sizeof cur_procs);
    size_t n = strlen(cur_procs);
    xsnprintf(cur_procs + n, sizeof cur_procs - n, "%s%s\n", n ? "\n" : "", value);
    put(dir, knob, cur_procs);
    return -1;
  }
  if (strcmp(knob, "cgroup.subtree_control") == 0) {
    if (strcmp(dir, f->own) == 0 &&
        (f->busy == BUSY_ALWAYS || (f->busy == BUSY_UNTIL_MOVED && !f->moved) ||
         (f->busy == BUSY_UNTIL_EMPTY && get(f->own, "cgroup.procs", cur_procs, sizeof cur_procs)[0])))
      return EBUSY; /* the no-internal-processes rule */
    char cur[256];
    get(dir, knob, cur, sizeof cur);
    if (value[0] == '+' && !cg_has_word(cur, value + 1)) {
      size_t n = strlen(cur);
      xsnprintf(cur + n, sizeof cur - n, "%s%s", n ? " " : "", value + 1);
    }
    put(dir, knob, cur);
    return -1;
  }
  if (strcmp(knob, "cgroup.procs") == 0 && strstr(dir, ".supervisor"))
    f->moved = true;
  if (strcmp(knob, "cgroup.procs") == 0 && strcmp(dir, f->own) == 0)
    f->moved = false;
  if (strcmp(knob, "cgroup.kill") == 0 || (strcmp(knob, "cgroup.freeze") == 0 &&
                                           strcmp(value, "0") == 0 && f->emulate_exit)) {
    if (strcmp(knob, "cgroup.kill") == 0) {
      char procs[256];
      get(dir, "cgroup.procs", procs, sizeof procs);
      if (atoi(procs) > 1)
        kill(atoi(procs), SIGKILL);
    }
    put(dir, "cgroup.procs", "");
    set_populated(dir, false);
    return strcmp(knob, "cgroup.kill") == 0 ? -1 : 0;
  }
  truncate(file, 0); /* each write replaces the value, as in cgroupfs */
  return 0;
}

/* Build the fake tree for fixture NAME with our own cgroup at OWN_REL. */
static void
fake_setup(struct fake *f, const char *name, const char *own_rel)
{
  memset(f, 0, sizeof *f);
  xsnprintf(f->prefix, sizeof f->prefix, "/tmp/cab-cgtest.XXXXXX");
  assert_non_null(mkdtemp(f->prefix));
  xsnprintf(f->cgfs, sizeof f->cgfs, "%s/sys/fs/cgroup", f->prefix);
  xsnprintf(f->own, sizeof f->own, "%s%s", f->cgfs, own_rel);
  cab_error err = {0};
  assert_int_equal(cab_mkdir_p(f->own, 0755, &err), 0);
  f->has_kill = f->has_peak = true;
  f->hooks = (struct cab_cgroup_test_hooks){.arg = f, .after_mkdir = fake_knobs,
                                            .before_write = fake_write,
                                            .before_rmdir = fake_rmdir};
  fake_knobs(f->cgfs, f);
  put(f->cgfs, "cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc");
  fake_knobs(f->own, f);
  char pid[32];
  xsnprintf(pid, sizeof pid, "%ld\n", (long)getpid());
  put(f->own, "cgroup.procs", pid);
  (void)name;
}

static void
fake_detect(struct fake *f, const char *name, const char *parent)
{
  cab_error err = {0};
  assert_int_equal(detect_fixture(name, f->prefix, parent, &f->host, &err), 0);
  f->host.test_hooks = &f->hooks;
}

static void
fake_teardown(struct fake *f)
{
  rm_rf(f->prefix);
}

static const char V2_USER_OWN[] =
    "/user.slice/user-1000.slice/user@1000.service/app.slice/"
    "run-r7c1f0e2b9a6d4b3c8e5f1a2b3c4d5e6f.scope";

/* ---- detection ----------------------------------------------------------- */

static void
test_detect_hybrid_recorded(void **state)
{
  (void)state;
  char tmp[] = "/tmp/cab-cgdet.XXXXXX";
  assert_non_null(mkdtemp(tmp));
  char unified[PATH_MAX], ctl[PATH_MAX], buf[64];
  xsnprintf(unified, sizeof unified, "%s/sys/fs/cgroup/unified", tmp);
  cab_error err = {0};
  assert_int_equal(cab_mkdir_p(unified, 0755, &err), 0);
  fixture(ctl, sizeof ctl, "hybrid", "unified.cgroup.controllers");
  put(unified, "cgroup.controllers", get(dirname(ctl), "unified.cgroup.controllers", buf, sizeof buf));

  struct cab_cgroup_host h;
  assert_int_equal(detect_fixture("hybrid", tmp, NULL, &h, &err), 0);
  char want[PATH_MAX];
  assert_int_equal(h.mode, CAB_CGROUP_MODE_HYBRID);
  assert_string_equal(cab_cgroup_mode_name(h.mode), "hybrid");
  assert_string_equal(h.v2_mount, unified);
  assert_string_equal(h.v2_self, "/");
  assert_string_equal(h.v2_controllers, "hugetlb");
  xsnprintf(want, sizeof want, "%s/sys/fs/cgroup/memory", tmp);
  assert_string_equal(h.v1_memory.mount, want);
  assert_string_equal(h.v1_memory.self, "/process_api/a27a12a84791ae5cc7e6bdc484379561");
  assert_string_equal(h.v1_memory.base, h.v1_memory.self);
  xsnprintf(want, sizeof want, "%s/sys/fs/cgroup/pids", tmp);
  assert_string_equal(h.v1_pids.mount, want);
  assert_string_equal(h.v1_pids.self, "/");
  xsnprintf(want, sizeof want, "%s/sys/fs/cgroup/cpu", tmp);
  assert_string_equal(h.v1_cpu.mount, want);
  xsnprintf(want, sizeof want, "%s/sys/fs/cgroup/cpuacct", tmp);
  assert_string_equal(h.v1_cpuacct.mount, want); /* separate mounts on this machine */
  xsnprintf(want, sizeof want, "%s/sys/fs/cgroup/freezer", tmp);
  assert_string_equal(h.v1_freezer.mount, want);
  /* The fake tree has no v1 directories: nothing writable, and a reason. */
  assert_false(h.v1_memory.writable);
  assert_false(h.v1_pids.writable);
  assert_non_null(strstr(h.reason, "cgroup v1 (hybrid)"));
  assert_non_null(strstr(h.reason, "--cgroup-parent"));

  /* Nothing writable: create says so and returns no cgroup, not an error. */
  struct cab_limits l = {.memory_bytes = 64 * MiB, .pids = 10, .cpus = 1};
  struct cab_cgroup *cg = (void *)1;
  enum cab_limit_mech mm = CAB_MECH_RLIMIT, pm = CAB_MECH_RLIMIT, cm = CAB_MECH_RLIMIT;
  char reason[512];
  assert_int_equal(cab_cgroup_create_reason(&h, &l, &cg, &mm, &pm, &cm, reason, sizeof reason,
                                            &err),
                   0);
  assert_null(cg);
  assert_int_equal(mm, CAB_MECH_NONE);
  assert_int_equal(pm, CAB_MECH_NONE);
  assert_int_equal(cm, CAB_MECH_NONE);
  assert_string_equal(reason, h.reason);
  rm_rf(tmp);
}

static void
test_detect_v2_user(void **state)
{
  (void)state;
  struct fake f;
  fake_setup(&f, "v2-user", V2_USER_OWN);
  fake_detect(&f, "v2-user", NULL);
  const struct cab_cgroup_host *h = &f.host;
  assert_int_equal(h->mode, CAB_CGROUP_MODE_UNIFIED);
  assert_string_equal(h->v2_mount, f.cgfs);
  assert_string_equal(h->v2_self, V2_USER_OWN);
  assert_string_equal(h->v2_base, V2_USER_OWN);
  assert_string_equal(h->v2_controllers, "cpu memory pids");
  assert_true(h->v2_writable);
  assert_string_equal(h->reason, "");
  assert_string_equal(h->v1_memory.mount, "");
  assert_false(h->v1_memory.writable);
  fake_teardown(&f);

  /* Same host without the tree: not writable, and the fix is named. */
  struct cab_cgroup_host h2;
  cab_error err = {0};
  assert_int_equal(detect_fixture("v2-user", "/nonexistent-cab", NULL, &h2, &err), 0);
  assert_false(h2.v2_writable);
  assert_string_equal(h2.v2_controllers, "");
  assert_non_null(strstr(h2.reason, "systemd-run --user --scope -p Delegate=yes"));
}

static void
test_detect_v2_ssh_root_parent(void **state)
{
  (void)state;
  struct cab_cgroup_host h;
  cab_error err = {0};
  assert_int_equal(detect_fixture("v2-ssh", "", NULL, &h, &err), 0);
  assert_int_equal(h.mode, CAB_CGROUP_MODE_UNIFIED);
  assert_string_equal(h.v2_mount, "/sys/fs/cgroup");
  assert_string_equal(h.v2_self, "/user.slice/user-1000.slice/session-3.scope");

  assert_int_equal(detect_fixture("v2-root", "/x", "/cab-ci", &h, &err), 0);
  assert_string_equal(h.v2_mount, "/x/sys/fs/cgroup");
  assert_string_equal(h.v2_self, "/user.slice/user-0.slice/session-4.scope");
  assert_string_equal(h.v2_base, "/cab-ci");
  assert_string_equal(h.parent, "/cab-ci");

  assert_int_equal(detect_fixture("v2-root", "/x", "cab-ci", &h, &err), -1);
  assert_int_equal(err.errnum, EINVAL);
  assert_non_null(strstr(err.message, "absolute path"));
}

static void
test_detect_v2_bindmount(void **state)
{
  (void)state;
  struct cab_cgroup_host h;
  cab_error err = {0};
  /* mountinfo root /system.slice/docker-3b8e0f5c2a1d.scope at /sys/fs/cgroup */
  assert_int_equal(detect_fixture("v2-bindmount", "", NULL, &h, &err), 0);
  assert_int_equal(h.mode, CAB_CGROUP_MODE_UNIFIED);
  assert_string_equal(h.v2_self, "/");
  assert_string_equal(h.v2_base, "/");
  assert_int_equal(detect_fixture("v2-bindmount", "", "/system.slice/docker-3b8e0f5c2a1d.scope/ci",
                                  &h, &err),
                   0);
  assert_string_equal(h.v2_base, "/ci");
  /* A parent outside the mounted subtree is not reachable. */
  assert_int_equal(detect_fixture("v2-bindmount", "", "/cab-ci", &h, &err), 0);
  assert_string_equal(h.v2_base, "");
  assert_false(h.v2_writable);
  assert_non_null(strstr(h.reason, "not visible"));
}

static void
test_detect_legacy(void **state)
{
  (void)state;
  struct cab_cgroup_host h;
  cab_error err = {0};
  assert_int_equal(detect_fixture("legacy", "/p", NULL, &h, &err), 0);
  assert_int_equal(h.mode, CAB_CGROUP_MODE_LEGACY);
  assert_string_equal(h.v2_mount, "");
  assert_string_equal(h.v1_memory.mount, "/p/sys/fs/cgroup/memory");
  assert_string_equal(h.v1_memory.self, "/user.slice");
  assert_string_equal(h.v1_pids.self, "/user.slice/user-1000.slice/session-2.scope");
  assert_string_equal(h.v1_cpu.mount, "/p/sys/fs/cgroup/cpu,cpuacct");
  assert_string_equal(h.v1_cpuacct.mount, "/p/sys/fs/cgroup/cpu,cpuacct");
  assert_string_equal(h.v1_cpu.self, "/user.slice"); /* from "cpuacct,cpu" */
  assert_string_equal(h.v1_freezer.self, "/");
  assert_non_null(strstr(h.reason, "cgroup v1 (legacy)"));
}

static void
test_detect_none_and_escapes(void **state)
{
  (void)state;
  struct cab_cgroup_host h;
  cab_error err = {0};
  assert_int_equal(detect_fixture("none", "", NULL, &h, &err), 0);
  assert_int_equal(h.mode, CAB_CGROUP_MODE_NONE);
  assert_non_null(strstr(h.reason, "no cgroup filesystem"));
  struct cab_cgroup *cg = (void *)1;
  assert_int_equal(cab_cgroup_create(&h, NULL, &cg, NULL, NULL, NULL, &err), 0);
  assert_null(cg);

  /* A cgroup2 mounted elsewhere, with an escaped space in its path. */
  char mi[] = "/tmp/cab-mi.XXXXXX", cg_file[] = "/tmp/cab-cg.XXXXXX";
  int fd1 = mkstemp(mi), fd2 = mkstemp(cg_file);
  assert_true(fd1 >= 0 && fd2 >= 0);
  dprintf(fd1, "40 30 0:37 / /mnt/my\\040cgroups rw,relatime shared:9 - cgroup2 none rw\n");
  dprintf(fd2, "0::/a/b\n");
  close(fd1);
  close(fd2);
  struct cab_cgroup_paths p = {.mountinfo = mi, .self_cgroup = cg_file};
  assert_int_equal(cab_cgroup_detect(&p, &h, &err), 0);
  assert_int_equal(h.mode, CAB_CGROUP_MODE_UNIFIED);
  assert_string_equal(h.v2_mount, "/mnt/my cgroups");
  assert_string_equal(h.v2_self, "/a/b");
  unlink(mi);
  unlink(cg_file);

  p.mountinfo = "/nonexistent/mountinfo";
  assert_int_equal(cab_cgroup_detect(&p, &h, &err), -1);
  assert_int_equal(err.errnum, ENOENT);
}

static void
test_helpers(void **state)
{
  (void)state;
  char out[64];
  assert_int_equal(cg_join(out, sizeof out, "/sys/fs/cgroup", "/"), 0);
  assert_string_equal(out, "/sys/fs/cgroup");
  assert_int_equal(cg_join(out, sizeof out, "/sys/fs/cgroup/", "/a/b"), 0);
  assert_string_equal(out, "/sys/fs/cgroup/a/b");
  assert_int_equal(cg_join(out, sizeof out, "/", "a"), 0);
  assert_string_equal(out, "/a");
  assert_int_equal(cg_join(out, 8, "/sys/fs/cgroup", "a"), -1);
  assert_true(cg_has_word("cpuset cpu io", "cpu"));
  assert_false(cg_has_word("cpuset io", "cpu"));
  pid_t pid = 0;
  assert_true(cg_parse_cab_name("cab.123.cell-1a2b", &pid));
  assert_int_equal(pid, 123);
  assert_true(cg_parse_cab_name("cab.77.supervisor", &pid));
  assert_int_equal(pid, 77);
  const char *bad[] = {"cab.x.cell-1", "cab.12.cell-", "cab.12.cellx", "cab.12", "cab..cell-1",
                       "cab.-1.cell-1", "cab.12.cell-1/..", "cab.12.supervisor2", "user.slice",
                       "cab.0.cell-1"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_false(cg_parse_cab_name(bad[i], &pid));
}

/* ---- v2 on the fake tree ---------------------------------------------- */

static void
find_cell(const char *dir, char *out, size_t size)
{
  char prefix[64];
  xsnprintf(prefix, sizeof prefix, "cab.%ld.cell-", (long)getpid());
  find_entry(dir, prefix, out, size);
}

static void
test_v2_create_limits(void **state)
{
  (void)state;
  struct fake f;
  fake_setup(&f, "v2-user", V2_USER_OWN);
  fake_detect(&f, "v2-user", NULL);
  struct cab_limits l = {.memory_bytes = 64 * MiB, .pids = 64, .cpus = 1.5};
  struct cab_cgroup *cg = NULL;
  enum cab_limit_mech mm, pm, cm;
  char reason[512];
  cab_error err = {0};
  assert_int_equal(cab_cgroup_create_reason(&f.host, &l, &cg, &mm, &pm, &cm, reason,
                                            sizeof reason, &err),
                   0);
  assert_non_null(cg);
  assert_string_equal(reason, "");
  assert_int_equal(mm, CAB_MECH_CGROUP_V2);
  assert_int_equal(pm, CAB_MECH_CGROUP_V2);
  assert_int_equal(cm, CAB_MECH_CGROUP_V2);

  char cell[PATH_MAX], buf[256];
  find_cell(f.own, cell, sizeof cell);
  assert_string_equal(cab_cgroup_cell_path(cg), cell);
  assert_string_equal(get(f.own, "cgroup.subtree_control", buf, sizeof buf), "memory pids cpu");
  assert_string_equal(get(cell, "memory.max", buf, sizeof buf), "67108864");
  assert_string_equal(get(cell, "memory.swap.max", buf, sizeof buf), "0");
  assert_string_equal(get(cell, "memory.oom.group", buf, sizeof buf), "1");
  assert_string_equal(get(cell, "pids.max", buf, sizeof buf), "64");
  assert_string_equal(get(cell, "cpu.max", buf, sizeof buf), "150000 100000");
  assert_null(strstr(f.log, "supervisor")); /* own cgroup was usable as is */

  /* The clone3 fd is the cell directory. */
  int fd = cab_cgroup_clone_fd(cg);
  assert_true(fd >= 0);
  struct stat a, b;
  assert_int_equal(fstat(fd, &a), 0);
  assert_int_equal(stat(cell, &b), 0);
  assert_int_equal(a.st_ino, b.st_ino);

  /* Destroy kills what is left (through cgroup.kill, see the hook). */
  pid_t child = sleeper();
  char pid[32];
  xsnprintf(pid, sizeof pid, "%ld", (long)child);
  assert_int_equal(cab_cgroup_attach(cg, child, &err), 0);
  assert_string_equal(get(cell, "cgroup.procs", buf, sizeof buf), pid);
  set_populated(cell, true);
  cab_cgroup_destroy(cg);
  assert_false(exists(cell));
  int st;
  assert_int_equal(waitpid(child, &st, 0), child);
  assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);

  /* 0 means "not asked": no knob written, mechanism NONE; 0.5 and a tiny
   * quota (clamped to the kernel's 1 ms minimum). */
  f.log[0] = '\0';
  struct cab_limits half = {.cpus = 0.5};
  assert_int_equal(cab_cgroup_create(&f.host, &half, &cg, &mm, &pm, &cm, &err), 0);
  find_cell(f.own, cell, sizeof cell);
  assert_string_equal(get(cell, "cpu.max", buf, sizeof buf), "50000 100000");
  assert_int_equal(mm, CAB_MECH_NONE);
  assert_int_equal(pm, CAB_MECH_NONE);
  assert_int_equal(cm, CAB_MECH_CGROUP_V2);
  assert_null(strstr(f.log, "memory.max="));
  assert_null(strstr(f.log, "pids.max="));
  assert_null(strstr(f.log, "memory.swap.max="));
  cab_cgroup_destroy(cg);
  struct cab_limits tiny = {.cpus = 0.001};
  assert_int_equal(cab_cgroup_create(&f.host, &tiny, &cg, NULL, NULL, &cm, &err), 0);
  find_cell(f.own, cell, sizeof cell);
  assert_string_equal(get(cell, "cpu.max", buf, sizeof buf), "1000 100000");
  cab_cgroup_destroy(cg);
  fake_teardown(&f);
}

static void
test_v2_missing_controller(void **state)
{
  (void)state;
  /* systemd < 252 / RHEL 9: only "memory pids" are delegated. */
  struct fake f;
  fake_setup(&f, "v2-user", V2_USER_OWN);
  put(f.own, "cgroup.controllers", "memory pids\n");
  fake_detect(&f, "v2-user", NULL);
  struct cab_limits l = {.memory_bytes = 1 * MiB, .pids = 8, .cpus = 2};
  struct cab_cgroup *cg = NULL;
  enum cab_limit_mech mm, pm, cm;
  char reason[512];
  cab_error err = {0};
  assert_int_equal(cab_cgroup_create_reason(&f.host, &l, &cg, &mm, &pm, &cm, reason,
                                            sizeof reason, &err),
                   0);
  assert_non_null(cg);
  assert_int_equal(mm, CAB_MECH_CGROUP_V2);
  assert_int_equal(pm, CAB_MECH_CGROUP_V2);
  assert_int_equal(cm, CAB_MECH_NONE);
  assert_non_null(strstr(reason, "the cpu controller is not available"));
  assert_non_null(strstr(reason, "Delegate=pids memory cpu"));
  cab_cgroup_destroy(cg);
  fake_teardown(&f);
}

static void
test_v2_supervisor_move(void **state)
{
  (void)state;
  struct fake f;
  fake_setup(&f, "v2-user", V2_USER_OWN);
  f.busy = BUSY_UNTIL_MOVED;
  fake_detect(&f, "v2-user", NULL);
  struct cab_limits l = {.pids = 16};
  struct cab_cgroup *cg = NULL;
  enum cab_limit_mech pm;
  cab_error err = {0};
  assert_int_equal(cab_cgroup_create(&f.host, &l, &cg, NULL, &pm, NULL, &err), 0);
  assert_non_null(cg);
  assert_int_equal(pm, CAB_MECH_CGROUP_V2);
  char sup[PATH_MAX], want[PATH_MAX + 64], buf[64], cell[PATH_MAX];
  xsnprintf(sup, sizeof sup, "%s/cab.%ld.supervisor", f.own, (long)getpid());
  assert_true(exists(sup));
  assert_string_equal(get(sup, "cgroup.procs", buf, sizeof buf),
                      (snprintf(want, sizeof want, "%ld", (long)getpid()), want));
  /* The cell is a sibling of the supervisor, not its child. */
  find_cell(f.own, cell, sizeof cell);
  assert_true(exists(cell));
  /* Re-detection after the move still sees the original own cgroup. */
  char cgfile[PATH_MAX], mi[PATH_MAX];
  xsnprintf(cgfile, sizeof cgfile, "%s/self-cgroup", f.prefix);
  xsnprintf(want, sizeof want, "0::%s/cab.%ld.supervisor\n", V2_USER_OWN, (long)getpid());
  put(f.prefix, "self-cgroup", want);
  fixture(mi, sizeof mi, "v2-user", "mountinfo");
  struct cab_cgroup_paths p = {.mountinfo = mi, .self_cgroup = cgfile, .prefix = f.prefix};
  struct cab_cgroup_host h2;
  assert_int_equal(cab_cgroup_detect(&p, &h2, &err), 0);
  assert_string_equal(h2.v2_self, V2_USER_OWN);
  cab_cgroup_destroy(cg);
  fake_teardown(&f);
}

/* The script that started cab shares cab's delegated scope (systemd-run
 * --user --scope -p Delegate=yes SCRIPT): cab moves itself into its
 * supervisor and the script into cab.leaf, then enables the controllers and
 * creates the cell in the scope; a later cab started by the script (now in
 * cab.leaf) takes the scope as its own cgroup again. */
/* The own cgroup holds the parent and us; the kernel's no-internal-processes
 * rule holds until it is empty. */
static void
fake_shared_scope(struct fake *f)
{
  fake_setup(f, "v2-user", V2_USER_OWN);
  f->busy = BUSY_UNTIL_EMPTY;
  char procs[64];
  xsnprintf(procs, sizeof procs, "%ld\n%ld\n", (long)getppid(), (long)getpid());
  put(f->own, "cgroup.procs", procs);
  fake_detect(f, "v2-user", NULL);
}

static void
test_v2_others_to_leaf(void **state)
{
  (void)state;
  struct fake f;
  fake_shared_scope(&f);
  /* Root writes every cgroup: systemd's mark says this one was delegated. */
  if (geteuid() == 0 && setxattr(f.own, "trusted.delegate", "1", 1, 0) < 0) {
    fake_teardown(&f);
    skip();
  }
  struct cab_limits l = {.memory_bytes = 8 * MiB, .pids = 16};
  struct cab_cgroup *cg = NULL;
  enum cab_limit_mech mm, pm;
  char reason[512] = "";
  cab_error err = {0};
  assert_int_equal(cab_cgroup_create_reason(&f.host, &l, &cg, &mm, &pm, NULL, reason,
                                            sizeof reason, &err),
                   0);
  assert_non_null(cg);
  assert_int_equal(mm, CAB_MECH_CGROUP_V2);
  assert_int_equal(pm, CAB_MECH_CGROUP_V2);
  assert_string_equal(reason, "");
  char leaf[PATH_MAX], sup[PATH_MAX], cell[PATH_MAX], buf[64], want[PATH_MAX + 64];
  xsnprintf(leaf, sizeof leaf, "%s/cab.leaf", f.own);
  xsnprintf(sup, sizeof sup, "%s/cab.%ld.supervisor", f.own, (long)getpid());
  assert_string_equal(get(leaf, "cgroup.procs", buf, sizeof buf),
                      (snprintf(want, sizeof want, "%ld", (long)getppid()), want));
  assert_string_equal(get(sup, "cgroup.procs", buf, sizeof buf),
                      (snprintf(want, sizeof want, "%ld", (long)getpid()), want));
  assert_string_equal(get(f.own, "cgroup.procs", buf, sizeof buf), "");
  assert_string_equal(get(f.own, "cgroup.subtree_control", buf, sizeof buf), "memory pids cpu");
  find_cell(f.own, cell, sizeof cell);
  assert_string_equal(cab_cgroup_cell_path(cg), cell);
  cab_cgroup_destroy(cg);
  /* The next cab, started by the script from cab.leaf. */
  char cgfile[PATH_MAX], mi[PATH_MAX];
  xsnprintf(cgfile, sizeof cgfile, "%s/self-cgroup", f.prefix);
  xsnprintf(want, sizeof want, "0::%s/cab.leaf\n", V2_USER_OWN);
  put(f.prefix, "self-cgroup", want);
  fixture(mi, sizeof mi, "v2-user", "mountinfo");
  struct cab_cgroup_paths p = {.mountinfo = mi, .self_cgroup = cgfile, .prefix = f.prefix};
  struct cab_cgroup_host h2;
  assert_int_equal(cab_cgroup_detect(&p, &h2, &err), 0);
  assert_string_equal(h2.v2_self, V2_USER_OWN);
  assert_string_equal(h2.v2_base, V2_USER_OWN);
  /* cab.leaf is not a cab.<pid>.* name: stale cleanup leaves what it holds. */
  pid_t pid;
  assert_false(cg_parse_cab_name("cab.leaf", &pid));
  fake_teardown(&f);
}

/* As root in a cgroup systemd did not delegate (a service's own cgroup
 * without Delegate=): its processes are systemd's, cab does not move them. */
static void
test_v2_root_undelegated_keeps_others(void **state)
{
  (void)state;
  if (geteuid() != 0)
    skip(); /* a user writes only what was delegated to it */
  struct fake f;
  fake_shared_scope(&f);
  struct cab_limits l = {.pids = 16};
  struct cab_cgroup *cg = NULL;
  cab_error err = {0};
  assert_int_equal(cab_cgroup_create(&f.host, &l, &cg, NULL, NULL, NULL, &err), 0);
  char leaf[PATH_MAX], buf[64], want[32];
  xsnprintf(leaf, sizeof leaf, "%s/cab.leaf", f.own);
  assert_false(exists(leaf));
  assert_null(strstr(f.log, "cab.leaf"));
  xsnprintf(want, sizeof want, "%ld", (long)getppid());
  assert_non_null(strstr(get(f.own, "cgroup.procs", buf, sizeof buf), want));
  cab_cgroup_destroy(cg);
  fake_teardown(&f);
}

/* Other processes share our own cgroup; not root, so no fallback. */
static int
busy_nonroot(struct fake *f, char *reason, size_t size)
{
  struct cab_limits l = {.memory_bytes = 8 * MiB};
  struct cab_cgroup *cg = (void *)1;
  enum cab_limit_mech mm = CAB_MECH_RLIMIT;
  cab_error err = {0};
  if (cab_cgroup_create_reason(&f->host, &l, &cg, &mm, NULL, NULL, reason, size, &err) != 0)
    return 1;
  char sup[PATH_MAX], buf[64], want[32];
  xsnprintf(sup, sizeof sup, "%s/cab.%ld.supervisor", f->own, (long)getpid());
  xsnprintf(want, sizeof want, "%ld", (long)getpid());
  if (cg != NULL || mm != CAB_MECH_NONE || exists(sup) ||
      strcmp(get(f->own, "cgroup.procs", buf, sizeof buf), want) != 0 || /* moved back */
      strstr(f->log, ".supervisor/cgroup.procs=") == NULL ||
      strstr(reason, "systemd-run --user --scope -p Delegate=yes") == NULL ||
      strstr(reason, "--cgroup-parent") == NULL)
    return 2;
  return 0;
}

static void
test_v2_busy_nonroot(void **state)
{
  (void)state;
  struct fake f;
  fake_setup(&f, "v2-user", V2_USER_OWN);
  f.busy = BUSY_ALWAYS;
  char reason[512] = "";
  if (geteuid() != 0) {
    fake_detect(&f, "v2-user", NULL);
    assert_int_equal(busy_nonroot(&f, reason, sizeof reason), 0);
    fake_teardown(&f);
    return;
  }
  /* As root, drop to nobody in a child, on a tree nobody may write. */
  char cmd[PATH_MAX + 32];
  xsnprintf(cmd, sizeof cmd, "chmod -R a+rwX '%s'", f.prefix);
  assert_int_equal(system(cmd), 0);
  int pfd[2];
  assert_int_equal(pipe(pfd), 0);
  pid_t p = fork();
  assert_true(p >= 0);
  if (p == 0) {
    if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
      _exit(9);
    fake_detect(&f, "v2-user", NULL);
    int rc = f.host.v2_writable ? busy_nonroot(&f, reason, sizeof reason) : 3;
    if (write(pfd[1], reason, strlen(reason)) < 0)
      rc = 4;
    _exit(rc);
  }
  close(pfd[1]);
  int st;
  assert_int_equal(waitpid(p, &st, 0), p);
  ssize_t n = read(pfd[0], reason, sizeof reason - 1);
  reason[n > 0 ? n : 0] = '\0';
  close(pfd[0]);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
    fail_msg("child status %d, reason '%s'", st, reason);
  print_message("  reason: %s\n", reason);
  fake_teardown(&f);
}

static void
test_v2_busy_root_fallback(void **state)
{
  (void)state;
  if (geteuid() != 0) {
    print_message("skip: the /cab fallback is for root only\n");
    skip();
  }
  struct fake f;
  fake_setup(&f, "v2-root", "/user.slice/user-0.slice/session-4.scope");
  f.busy = BUSY_ALWAYS;
  fake_detect(&f, "v2-root", NULL);
  struct cab_limits l = {.memory_bytes = 8 * MiB, .pids = 4};
  struct cab_cgroup *cg = NULL;
  enum cab_limit_mech mm, pm;
  char reason[512], dir[PATH_MAX], cell[PATH_MAX], buf[64];
  cab_error err = {0};
  assert_int_equal(cab_cgroup_create_reason(&f.host, &l, &cg, &mm, &pm, NULL, reason,
                                            sizeof reason, &err),
                   0);
  assert_non_null(cg);
  assert_string_equal(reason, "");
  assert_int_equal(mm, CAB_MECH_CGROUP_V2);
  xsnprintf(dir, sizeof dir, "%s/cab", f.cgfs);
  find_cell(dir, cell, sizeof cell);
  assert_string_equal(cab_cgroup_cell_path(cg), cell);
  assert_string_equal(get(f.cgfs, "cgroup.subtree_control", buf, sizeof buf), "memory pids cpu");
  assert_string_equal(get(dir, "cgroup.subtree_control", buf, sizeof buf), "memory pids cpu");
  assert_string_equal(get(cell, "pids.max", buf, sizeof buf), "4");
  cab_cgroup_destroy(cg);
  assert_false(exists(cell));
  fake_teardown(&f);
}

static void
test_v2_parent(void **state)
{
  (void)state;
  struct fake f;
  fake_setup(&f, "v2-root", "/user.slice/user-0.slice/session-4.scope");
  char parent[PATH_MAX], cell[PATH_MAX];
  xsnprintf(parent, sizeof parent, "%s/cab-ci", f.cgfs);
  assert_int_equal(mkdir(parent, 0755), 0);
  fake_knobs(parent, &f);
  fake_detect(&f, "v2-root", "/cab-ci");
  assert_true(f.host.v2_writable);
  struct cab_cgroup *cg = NULL;
  struct cab_limits l = {.pids = 3};
  cab_error err = {0};
  assert_int_equal(cab_cgroup_create(&f.host, &l, &cg, NULL, NULL, NULL, &err), 0);
  assert_non_null(cg);
  find_cell(parent, cell, sizeof cell);
  assert_string_equal(cab_cgroup_cell_path(cg), cell);
  cab_cgroup_destroy(cg);
  fake_teardown(&f);
}

static void
test_v2_kill_and_stats(void **state)
{
  (void)state;
  struct fake f;
  fake_setup(&f, "v2-user", V2_USER_OWN);
  fake_detect(&f, "v2-user", NULL);
  struct cab_cgroup *cg = NULL;
  cab_error err = {0};
  char cell[PATH_MAX];

  /* cgroup.kill present: cab writes 1 there (the hook then empties the cell
   * as the kernel would). */
  assert_int_equal(cab_cgroup_create(&f.host, NULL, &cg, NULL, NULL, NULL, &err), 0);
  find_cell(f.own, cell, sizeof cell);
  pid_t child = sleeper();
  assert_int_equal(cab_cgroup_attach(cg, child, &err), 0);
  set_populated(cell, true);
  assert_true(cab_cgroup_populated(cg));
  assert_int_equal(cab_cgroup_kill(cg, &err), 0);
  assert_non_null(strstr(f.log, "/cgroup.kill=1"));
  assert_false(cab_cgroup_populated(cg));
  int st;
  assert_int_equal(waitpid(child, &st, 0), child);
  assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);

  /* Stats, as the kernel formats memory.events / memory.peak / cpu.stat. */
  put(cell, "memory.events", "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n");
  put(cell, "memory.peak", "67104768\n");
  put(cell, "cpu.stat", "usage_usec 777\nuser_usec 500\nsystem_usec 277\nnr_periods 0\n");
  struct cab_cgroup_stats s;
  assert_int_equal(cab_cgroup_stats(cg, &s), 0);
  assert_true(s.oom_killed);
  assert_int_equal(s.peak_memory_bytes, 67104768);
  assert_int_equal(s.cpu_usage_us, 777);
  put(cell, "memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n");
  char peak[PATH_MAX];
  xsnprintf(peak, sizeof peak, "%s/memory.peak", cell);
  unlink(peak); /* before 5.19 */
  assert_int_equal(cab_cgroup_stats(cg, &s), 0);
  assert_false(s.oom_killed);
  assert_int_equal(s.peak_memory_bytes, -1);
  cab_cgroup_destroy(cg);
  assert_int_equal(cab_cgroup_stats(NULL, &s), -1);

  /* No cgroup.kill (before 5.14): freeze, SIGKILL each listed pid, thaw. */
  f.has_kill = false;
  f.emulate_exit = true;
  f.log[0] = '\0';
  assert_int_equal(cab_cgroup_create(&f.host, NULL, &cg, NULL, NULL, NULL, &err), 0);
  find_cell(f.own, cell, sizeof cell);
  child = sleeper();
  assert_int_equal(cab_cgroup_attach(cg, child, &err), 0);
  set_populated(cell, true);
  assert_int_equal(cab_cgroup_kill(cg, &err), 0);
  assert_int_equal(waitpid(child, &st, 0), child);
  assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL); /* killed by cab itself */
  char *fr = strstr(f.log, "/cgroup.freeze=1"), *th = strstr(f.log, "/cgroup.freeze=0");
  assert_non_null(fr);
  assert_non_null(th);
  assert_true(fr < th);
  assert_null(strstr(f.log, "cgroup.kill"));
  cab_cgroup_destroy(cg);
  fake_teardown(&f);
}

static void
make_fake_cg(struct fake *f, const char *dir, const char *name)
{
  char p[PATH_MAX];
  xsnprintf(p, sizeof p, "%s/%s", dir, name);
  assert_int_equal(mkdir(p, 0755), 0);
  fake_knobs(p, f);
}

static void
test_v2_stale_cleanup(void **state)
{
  (void)state;
  struct fake f;
  fake_setup(&f, "v2-user", V2_USER_OWN);
  fake_detect(&f, "v2-user", NULL);
  pid_t dead = dead_pid(), dead2 = dead_pid(), live = sleeper();
  char n[8][96], p[PATH_MAX];
  xsnprintf(n[0], sizeof n[0], "cab.%ld.cell-1f", (long)dead);
  xsnprintf(n[1], sizeof n[1], "cab.%ld.supervisor", (long)dead);
  xsnprintf(n[2], sizeof n[2], "cab.%ld.cell-2", (long)live);
  xsnprintf(n[3], sizeof n[3], "cab.%ld.cellx", (long)dead);    /* not our scheme */
  xsnprintf(n[4], sizeof n[4], "other.%ld.cell-1", (long)dead); /* not ours */
  xsnprintf(n[5], sizeof n[5], "cab.%ld.cell-3", (long)dead2);  /* dead2's supervisor is busy: */
  xsnprintf(n[6], sizeof n[6], "cab.%ld.supervisor", (long)dead2); /* alive in another pidns */
  for (int i = 0; i < 7; i++)
    make_fake_cg(&f, f.own, n[i]);
  xsnprintf(p, sizeof p, "%s/%s", f.own, n[6]);
  set_populated(p, true);
  xsnprintf(p, sizeof p, "%s/%s", f.own, n[0]);
  make_fake_cg(&f, p, "nested"); /* the workload's own sub-cgroup */
  pid_t victim = sleeper();      /* still running in the dead cab's cell */
  char pid[32];
  xsnprintf(pid, sizeof pid, "%ld\n", (long)victim);
  put(p, "cgroup.procs", pid);
  set_populated(p, true);

  cab_error err = {0};
  assert_int_equal(cab_cgroup_cleanup_stale(&f.host, &err), 0);
  bool gone[7] = {true, true, false, false, false, false, false};
  for (int i = 0; i < 7; i++) {
    xsnprintf(p, sizeof p, "%s/%s", f.own, n[i]);
    assert_int_equal(exists(p), !gone[i]);
  }
  int st;
  assert_int_equal(waitpid(victim, &st, 0), victim);
  assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
  kill(live, SIGKILL);
  waitpid(live, NULL, 0);
  fake_teardown(&f);
}

/* ---- v1 on the fake tree (legacy fixture) ------------------------------ */

static void
test_v1_fake_legacy(void **state)
{
  (void)state;
  struct fake f;
  fake_setup(&f, "legacy", "/memory/user.slice");
  f.v1 = true;
  const char *dirs[] = {"/pids/user.slice/user-1000.slice/session-2.scope",
                        "/cpu,cpuacct/user.slice", "/freezer", "/memory/user.slice"};
  for (size_t i = 0; i < 4; i++) {
    char d[PATH_MAX];
    xsnprintf(d, sizeof d, "%s%s", f.cgfs, dirs[i]);
    cab_error e = {0};
    assert_int_equal(cab_mkdir_p(d, 0755, &e), 0);
    fake_knobs(d, &f);
  }
  fake_detect(&f, "legacy", NULL);
  assert_true(f.host.v1_memory.writable && f.host.v1_pids.writable && f.host.v1_cpu.writable);
  assert_string_equal(f.host.reason, "");
  struct cab_limits l = {.memory_bytes = 64 * MiB, .pids = 64, .cpus = 1.5};
  struct cab_cgroup *cg = NULL;
  enum cab_limit_mech mm, pm, cm;
  char reason[512], buf[256], cell[PATH_MAX], d[PATH_MAX];
  cab_error err = {0};
  assert_int_equal(cab_cgroup_create_reason(&f.host, &l, &cg, &mm, &pm, &cm, reason,
                                            sizeof reason, &err),
                   0);
  assert_non_null(cg);
  assert_string_equal(reason, "");
  assert_int_equal(mm, CAB_MECH_CGROUP_V1);
  assert_int_equal(pm, CAB_MECH_CGROUP_V1);
  assert_int_equal(cm, CAB_MECH_CGROUP_V1);
  assert_int_equal(cab_cgroup_clone_fd(cg), -1);
  xsnprintf(d, sizeof d, "%s/memory/user.slice", f.cgfs);
  find_cell(d, cell, sizeof cell);
  assert_string_equal(get(cell, "memory.limit_in_bytes", buf, sizeof buf), "67108864");
  assert_string_equal(get(cell, "memory.memsw.limit_in_bytes", buf, sizeof buf), "67108864");
  char name[128];
  xsnprintf(name, sizeof name, "%s", strrchr(cell, '/') + 1); /* one name everywhere */
  xsnprintf(d, sizeof d, "%s/pids/user.slice/user-1000.slice/session-2.scope/%s", f.cgfs, name);
  assert_string_equal(get(d, "pids.max", buf, sizeof buf), "64");
  xsnprintf(d, sizeof d, "%s/cpu,cpuacct/user.slice/%s", f.cgfs, name);
  assert_string_equal(get(d, "cpu.cfs_period_us", buf, sizeof buf), "100000");
  assert_string_equal(get(d, "cpu.cfs_quota_us", buf, sizeof buf), "150000");
  xsnprintf(d, sizeof d, "%s/freezer/%s", f.cgfs, name);
  assert_true(exists(d));

  /* Attach writes to each of the 4 cells (cpu and cpuacct share one). */
  f.log[0] = '\0';
  pid_t child = sleeper();
  char procs[64];
  xsnprintf(procs, sizeof procs, "/cgroup.procs=%ld\n", (long)child);
  assert_int_equal(cab_cgroup_attach(cg, child, &err), 0);
  int n = 0;
  for (char *q = f.log; (q = strstr(q, procs)) != NULL; q++)
    n++;
  assert_int_equal(n, 4);
  assert_true(cab_cgroup_populated(cg));
  /* The fake cannot empty a frozen cell; take the child out by hand. */
  char *line = f.log;
  for (char *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
    *nl = '\0';
    char *eq = strstr(line, "/cgroup.procs=");
    if (eq) {
      *eq = '\0';
      xsnprintf(d, sizeof d, "%s/%s", f.cgfs, line);
      put(d, "cgroup.procs", "");
    }
  }
  assert_false(cab_cgroup_populated(cg));
  kill(child, SIGKILL);
  waitpid(child, NULL, 0);

  /* Stats as the v1 kernel formats them; then the pre-4.13 oom_control. */
  put(cell, "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
  put(cell, "memory.max_usage_in_bytes", "4096\n");
  xsnprintf(d, sizeof d, "%s/cpu,cpuacct/user.slice/%s", f.cgfs, name);
  put(d, "cpuacct.usage", "5000000\n");
  struct cab_cgroup_stats s;
  assert_int_equal(cab_cgroup_stats(cg, &s), 0);
  assert_true(s.oom_killed);
  assert_int_equal(s.peak_memory_bytes, 4096);
  assert_int_equal(s.cpu_usage_us, 5000);
  put(cell, "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\n");
  put(cell, "memory.failcnt", "3\n");
  assert_int_equal(cab_cgroup_stats(cg, &s), 0);
  assert_true(s.oom_killed);
  cab_cgroup_destroy(cg);
  assert_false(exists(cell));
  assert_false(exists(d));

  /* Only memory writable: pids and cpu degrade, with a reason. */
  xsnprintf(d, sizeof d, "%s/pids", f.cgfs);
  rm_rf(d);
  xsnprintf(d, sizeof d, "%s/cpu,cpuacct", f.cgfs);
  rm_rf(d);
  fake_detect(&f, "legacy", NULL);
  assert_int_equal(cab_cgroup_create_reason(&f.host, &l, &cg, &mm, &pm, &cm, reason,
                                            sizeof reason, &err),
                   0);
  assert_non_null(cg);
  assert_int_equal(mm, CAB_MECH_CGROUP_V1);
  assert_int_equal(pm, CAB_MECH_NONE);
  assert_int_equal(cm, CAB_MECH_NONE);
  assert_non_null(strstr(reason, "no writable pids hierarchy"));
  assert_non_null(strstr(reason, "no writable cpu hierarchy"));
  cab_cgroup_destroy(cg);
  fake_teardown(&f);
}

/* ---- real cgroup v1 on this machine ----------------------------------- */

static bool
real_v1(struct cab_cgroup_host *h)
{
  cab_error err = {0};
  if (geteuid() != 0) {
    print_message("skip: real cgroup v1 tests need root\n");
    return false;
  }
  if (cab_cgroup_detect(NULL, h, &err) < 0) {
    print_message("skip: detection failed: %s\n", err.message);
    return false;
  }
  if (h->mode != CAB_CGROUP_MODE_HYBRID && h->mode != CAB_CGROUP_MODE_LEGACY) {
    print_message("skip: host is %s, not cgroup v1\n", cab_cgroup_mode_name(h->mode));
    return false;
  }
  if (!h->v1_memory.writable || !h->v1_pids.writable || !h->v1_cpu.writable) {
    print_message("skip: v1 memory/pids/cpu hierarchies are not all writable: %s\n", h->reason);
    return false;
  }
  return true;
}

/* The directory of PID's cgroup in the v1 hierarchy of controller CTRL. */
static bool
proc_cgroup_dir(const struct cab_cgroup_host *h, pid_t pid, const char *ctrl, char *out,
                size_t size)
{
  char path[64], line[PATH_MAX];
  xsnprintf(path, sizeof path, "/proc/%ld/cgroup", (long)pid);
  cleanup_fclose FILE *f = fopen(path, "r");
  const char *mount = strcmp(ctrl, "memory") == 0   ? h->v1_memory.mount
                      : strcmp(ctrl, "pids") == 0   ? h->v1_pids.mount
                      : strcmp(ctrl, "cpu") == 0    ? h->v1_cpu.mount
                      : strcmp(ctrl, "cpuacct") == 0 ? h->v1_cpuacct.mount
                                                     : h->v1_freezer.mount;
  while (f && fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = '\0';
    char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (c2 == NULL)
      continue;
    *c2 = '\0';
    char ctrls[256];
    xsnprintf(ctrls, sizeof ctrls, ",%s,", c1 + 1);
    char want[64];
    xsnprintf(want, sizeof want, ",%s,", ctrl);
    if (strstr(ctrls, want)) {
      xsnprintf(out, size, "%s%s", mount, c2 + 1);
      return true;
    }
  }
  return false;
}

static pid_t
attached_child(struct cab_cgroup *cg, void (*body)(void))
{
  int go[2];
  assert_int_equal(pipe(go), 0);
  pid_t p = fork();
  assert_true(p >= 0);
  if (p == 0) {
    char c;
    close(go[1]);
    if (read(go[0], &c, 1) != 1)
      _exit(3);
    body();
    _exit(0);
  }
  close(go[0]);
  cab_error err = {0};
  assert_int_equal(cab_cgroup_attach(cg, p, &err), 0);
  assert_int_equal(write(go[1], "x", 1), 1);
  close(go[1]);
  return p;
}

static void
body_pause(void)
{
  for (;;)
    pause();
}

static void
test_real_v1_cell(void **state)
{
  (void)state;
  static struct cab_cgroup_host h;
  if (!real_v1(&h))
    skip();
  struct cab_limits l = {.memory_bytes = 64 * MiB, .pids = 64, .cpus = 0.5};
  struct cab_cgroup *cg = NULL;
  enum cab_limit_mech mm, pm, cm;
  char reason[512], buf[256], dir[PATH_MAX], cell_name[128];
  cab_error err = {0};
  assert_int_equal(cab_cgroup_create_reason(&h, &l, &cg, &mm, &pm, &cm, reason, sizeof reason,
                                            &err),
                   0);
  assert_non_null(cg);
  print_message("  cell %s%s%s\n", cab_cgroup_cell_path(cg), reason[0] ? ", note: " : "", reason);
  assert_int_equal(mm, CAB_MECH_CGROUP_V1);
  assert_int_equal(pm, CAB_MECH_CGROUP_V1);
  assert_int_equal(cm, CAB_MECH_CGROUP_V1);
  xsnprintf(cell_name, sizeof cell_name, "%s", strrchr(cab_cgroup_cell_path(cg), '/') + 1);

  pid_t child = attached_child(cg, body_pause);
  /* The kernel now places the child in our cell in every hierarchy. */
  const char *ctrls[] = {"memory", "pids", "cpu", "cpuacct", "freezer"};
  char dirs[5][PATH_MAX];
  for (int i = 0; i < 5; i++) {
    assert_true(proc_cgroup_dir(&h, child, ctrls[i], dirs[i], sizeof dirs[i]));
    assert_string_equal(strrchr(dirs[i], '/') + 1, cell_name);
  }
  assert_string_equal(get(dirs[0], "memory.limit_in_bytes", buf, sizeof buf), "67108864");
  if (exists(strcat(strcpy(dir, dirs[0]), "/memory.memsw.limit_in_bytes")))
    assert_string_equal(get(dirs[0], "memory.memsw.limit_in_bytes", buf, sizeof buf), "67108864");
  assert_string_equal(get(dirs[1], "pids.max", buf, sizeof buf), "64");
  assert_string_equal(get(dirs[2], "cpu.cfs_period_us", buf, sizeof buf), "100000");
  assert_string_equal(get(dirs[2], "cpu.cfs_quota_us", buf, sizeof buf), "50000");
  assert_true(cab_cgroup_populated(cg));

  assert_int_equal(cab_cgroup_kill(cg, &err), 0);
  int st;
  assert_int_equal(waitpid(child, &st, 0), child);
  assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
  assert_false(cab_cgroup_populated(cg));
  assert_string_equal(get(dirs[4], "freezer.state", buf, sizeof buf), "THAWED");

  struct cab_cgroup_stats s;
  assert_int_equal(cab_cgroup_stats(cg, &s), 0);
  assert_false(s.oom_killed);
  assert_true(s.peak_memory_bytes >= 0);
  assert_true(s.cpu_usage_us >= 0);
  cab_cgroup_destroy(cg);
  for (int i = 0; i < 5; i++)
    assert_false(exists(dirs[i]));
}

static void
body_hog(void)
{
  for (size_t total = 0; total < 512u * MiB; total += 4 * MiB) {
    char *p = malloc(4 * MiB);
    if (p == NULL)
      _exit(2);
    memset(p, 1, 4 * MiB);
  }
  _exit(0);
}

static void
body_forks(void)
{
  int ok = 0;
  for (int i = 0; i < 16; i++) {
    pid_t p = fork();
    if (p == 0) {
      pause();
      _exit(0);
    }
    if (p > 0)
      ok++;
  }
  _exit(ok);
}

static void
test_real_v1_enforced(void **state)
{
  (void)state;
  static struct cab_cgroup_host h;
  if (!real_v1(&h))
    skip();
  /* Memory: 32M with swap capped too; the OOM killer must fire. */
  struct cab_limits l = {.memory_bytes = 32 * MiB, .pids = 6};
  struct cab_cgroup *cg = NULL;
  cab_error err = {0};
  assert_int_equal(cab_cgroup_create(&h, &l, &cg, NULL, NULL, NULL, &err), 0);
  assert_non_null(cg);
  pid_t child = attached_child(cg, body_hog);
  int st;
  assert_int_equal(waitpid(child, &st, 0), child);
  assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
  struct cab_cgroup_stats s;
  assert_int_equal(cab_cgroup_stats(cg, &s), 0);
  assert_true(s.oom_killed);
  assert_true(s.peak_memory_bytes >= 16 * MiB && s.peak_memory_bytes <= 32 * MiB);
  assert_true(s.cpu_usage_us > 0);

  /* pids.max 6: the child itself plus at most 5 of its 16 forks. */
  child = attached_child(cg, body_forks);
  assert_int_equal(waitpid(child, &st, 0), child);
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 5);
  assert_true(cab_cgroup_populated(cg)); /* the 5 grandchildren */
  cab_cgroup_destroy(cg);                /* kills them, removes the cells */
}

static void
test_real_v1_stale(void **state)
{
  (void)state;
  static struct cab_cgroup_host h;
  if (!real_v1(&h))
    skip();
  pid_t dead = dead_pid(), live = sleeper(), victim = sleeper();
  char mem_dead[PATH_MAX], pids_dead[PATH_MAX], mem_live[PATH_MAX], odd[PATH_MAX];
  xsnprintf(mem_dead, sizeof mem_dead, "%s%s/cab.%ld.cell-x", h.v1_memory.mount, h.v1_memory.base,
           (long)dead);
  xsnprintf(pids_dead, sizeof pids_dead, "%s%s/cab.%ld.cell-x", h.v1_pids.mount, h.v1_pids.base,
           (long)dead);
  xsnprintf(mem_live, sizeof mem_live, "%s%s/cab.%ld.cell-x", h.v1_memory.mount,
           h.v1_memory.base, (long)live);
  xsnprintf(odd, sizeof odd, "%s%s/cab.%ld.cellx", h.v1_memory.mount, h.v1_memory.base,
           (long)dead);
  const char *all[] = {mem_dead, pids_dead, mem_live, odd};
  for (int i = 0; i < 4; i++)
    assert_int_equal(mkdir(all[i], 0755), 0);
  /* A process left behind in the dead cab's cell. */
  char pid[32];
  xsnprintf(pid, sizeof pid, "%ld", (long)victim);
  put(mem_dead, "cgroup.procs", pid);

  cab_error err = {0};
  assert_int_equal(cab_cgroup_cleanup_stale(&h, &err), 0);
  assert_false(exists(mem_dead));
  assert_false(exists(pids_dead));
  assert_true(exists(mem_live));
  assert_true(exists(odd));
  int st;
  assert_int_equal(waitpid(victim, &st, 0), victim);
  assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
  assert_int_equal(rmdir(mem_live), 0);
  assert_int_equal(rmdir(odd), 0);
  kill(live, SIGKILL);
  waitpid(live, NULL, 0);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_helpers),
      cmocka_unit_test(test_detect_hybrid_recorded),
      cmocka_unit_test(test_detect_v2_user),
      cmocka_unit_test(test_detect_v2_ssh_root_parent),
      cmocka_unit_test(test_detect_v2_bindmount),
      cmocka_unit_test(test_detect_legacy),
      cmocka_unit_test(test_detect_none_and_escapes),
      cmocka_unit_test(test_v2_create_limits),
      cmocka_unit_test(test_v2_missing_controller),
      cmocka_unit_test(test_v2_supervisor_move),
      cmocka_unit_test(test_v2_others_to_leaf),
      cmocka_unit_test(test_v2_root_undelegated_keeps_others),
      cmocka_unit_test(test_v2_busy_nonroot),
      cmocka_unit_test(test_v2_busy_root_fallback),
      cmocka_unit_test(test_v2_parent),
      cmocka_unit_test(test_v2_kill_and_stats),
      cmocka_unit_test(test_v2_stale_cleanup),
      cmocka_unit_test(test_v1_fake_legacy),
      cmocka_unit_test(test_real_v1_cell),
      cmocka_unit_test(test_real_v1_enforced),
      cmocka_unit_test(test_real_v1_stale),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
