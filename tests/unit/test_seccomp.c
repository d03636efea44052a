/* The seccomp module against the real kernel: each case forks a child, loads
 * a filter there and reports what raw syscalls returned. */
#include <errno.h>
#include <linux/capability.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "sandbox/seccomp.h"
#include "sandbox/seccomp_cache.h"
#include "sandbox/seccomp_profile.h"

#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#ifndef AF_ALG
#define AF_ALG 38
#endif

#define PTRACE_PEEKDATA_ 2
#define X32_BIT 0x40000000L
#define I386_GETPID 20
#define I386_KEYCTL 288

static const uint64_t docker_caps =
    CAB_CAP(CAP_CHOWN) | CAB_CAP(CAP_DAC_OVERRIDE) | CAB_CAP(CAP_FOWNER) | CAB_CAP(CAP_FSETID) |
    CAB_CAP(CAP_KILL) | CAB_CAP(CAP_SETGID) | CAB_CAP(CAP_SETUID) | CAB_CAP(CAP_SETPCAP) |
    CAB_CAP(CAP_NET_BIND_SERVICE) | CAB_CAP(CAP_NET_RAW) | CAB_CAP(CAP_SYS_CHROOT) |
    CAB_CAP(CAP_MKNOD) | CAB_CAP(CAP_AUDIT_WRITE) | CAB_CAP(CAP_SETFCAP);

/* ---- helpers ---- */

static long
sys_result(long r)
{
  return r < 0 ? -errno : r;
}

static char fixtures[4096];

/* tests/fixtures/seccomp, found from the binary (BUILD/tests/test_seccomp)
 * or, failing that, from the current directory. */
static const char *
fixture(const char *name)
{
  static char path[4096 + 256];
  snprintf(path, sizeof path, "%s/%s", fixtures, name);
  return path;
}

static void
find_fixtures(void)
{
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    exe[n] = '\0';
    for (int up = 0; up < 3; up++) {
      char *slash = strrchr(exe, '/');
      if (slash)
        *slash = '\0';
    }
    if (snprintf(fixtures, sizeof fixtures, "%s/tests/fixtures/seccomp", exe) <
            (int)sizeof fixtures &&
        access(fixtures, R_OK) == 0)
      return;
  }
  snprintf(fixtures, sizeof fixtures, "tests/fixtures/seccomp");
}

static struct cab_seccomp_filter *
build_or_fail(enum cab_seccomp_kind kind, const char *path, uint64_t caps)
{
  struct cab_seccomp_config cfg = {.kind = kind, .path = path, .caps = caps};
  struct cab_seccomp_filter *f = NULL;
  cab_error err = {0};
  if (cab_seccomp_build(&cfg, &f, &err) < 0) {
    char line[4096];
    fail_msg("cab_seccomp_build: %s", cab_error_line(&err, line, sizeof line));
  }
  return f;
}

/* fork(), with the child free of cmocka's signal handlers (a crash must end
 * the child, not resume the test run in it). */
static pid_t
fork_child(void)
{
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid == 0) {
    const int crashes[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGSYS, SIGABRT};
    for (size_t i = 0; i < sizeof crashes / sizeof crashes[0]; i++)
      signal(crashes[i], SIG_DFL);
  }
  return pid;
}

typedef long (*probe_fn)(void);

enum { MAX_PROBES = 32, LOAD_FAILED = 0x7fff0000 };

/* Run PROBES in a child confined by F; fill RESULTS (a -errno or a return
 * value each).  Returns the child's wait status. */
static int
run_confined(const struct cab_seccomp_filter *f, const probe_fn *probes, size_t n, long *results)
{
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  pid_t pid = fork_child();
  assert_true(pid >= 0);
  if (pid == 0) {
    long out[MAX_PROBES];
    close(fds[0]);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
      _exit(3);
    int r = cab_seccomp_load(f);
    if (r < 0) {
      out[0] = LOAD_FAILED + -r;
      (void)!write(fds[1], out, sizeof out[0]);
      _exit(4);
    }
    for (size_t i = 0; i < n; i++)
      out[i] = probes[i]();
    (void)!write(fds[1], out, n * sizeof out[0]);
    _exit(0);
  }
  close(fds[1]);
  size_t got = 0;
  while (got < n * sizeof(long)) {
    ssize_t r = read(fds[0], (char *)results + got, n * sizeof(long) - got);
    if (r <= 0)
      break;
    got += (size_t)r;
  }
  close(fds[0]);
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  if (got >= sizeof(long) && results[0] >= LOAD_FAILED)
    fail_msg("cab_seccomp_load failed: %s", strerror((int)(results[0] - LOAD_FAILED)));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    fail_msg("confined child ended with status 0x%x after %zu of %zu results", status,
             got / sizeof(long), n);
  return status;
}

#define RUN(filter, results, ...)                                            \
  do {                                                                       \
    const probe_fn probes_[] = {__VA_ARGS__};                                \
    run_confined((filter), probes_, sizeof probes_ / sizeof probes_[0], (results)); \
  } while (0)

/* ---- probes: each one raw syscall ---- */

static long probe_getpid(void) { return sys_result(syscall(SYS_getpid)) > 0 ? 0 : -1; }
static long probe_keyctl(void)
{
  return sys_result(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0));
}
static long probe_add_key(void) { return sys_result(syscall(SYS_add_key, NULL, NULL, NULL, 0, 0)); }
static long probe_request_key(void) { return sys_result(syscall(SYS_request_key, NULL, NULL, NULL, 0)); }
static long probe_bpf(void) { return sys_result(syscall(SYS_bpf, 0, NULL, 0)); }
static long probe_perf_event_open(void)
{
  return sys_result(syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
}
static long probe_io_uring_setup(void) { return sys_result(syscall(SYS_io_uring_setup, 0, NULL)); }
static long probe_userfaultfd(void)
{
  long r = sys_result(syscall(SYS_userfaultfd, 0));
  if (r >= 0)
    close((int)r);
  return r;
}
static long probe_unshare_user(void) { return sys_result(syscall(SYS_unshare, CLONE_NEWUSER)); }
static long probe_unshare_nothing(void) { return sys_result(syscall(SYS_unshare, 0)); }

static long
clone_with(unsigned long flags)
{
  long r = sys_result(syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0));
  if (r == 0)
    _exit(0);
  if (r > 0) {
    waitpid((pid_t)r, NULL, 0);
    return 0;
  }
  return r;
}
static long probe_clone_newuser(void) { return clone_with(CLONE_NEWUSER); }
static long probe_clone_newnet(void) { return clone_with(CLONE_NEWNET); }
static long probe_clone_plain(void) { return clone_with(0); }
static long probe_clone3(void) { return sys_result(syscall(SYS_clone3, NULL, 0)); }
static long probe_nr_1000(void) { return sys_result(syscall(1000)); }
static long probe_syslog_size(void) { return sys_result(syscall(SYS_syslog, 10, NULL, 0)); }
static long probe_mount(void) { return sys_result(syscall(SYS_mount, NULL, NULL, NULL, 0, NULL)); }

static long
probe_socket(int family, int type)
{
  long r = sys_result(syscall(SYS_socket, family, type, 0));
  if (r >= 0) {
    close((int)r);
    return 0;
  }
  return r;
}
static long probe_socket_alg(void) { return probe_socket(AF_ALG, SOCK_SEQPACKET); }
static long probe_socket_vsock(void) { return probe_socket(AF_VSOCK, SOCK_STREAM); }
static long probe_socket_inet(void) { return probe_socket(AF_INET, SOCK_STREAM); }

static long
ioctl_on_pipe(unsigned long request)
{
  int fds[2];
  if (pipe(fds) < 0)
    return -1000;
  char c = 'x';
  int avail = 0;
  void *arg = request == FIONREAD ? (void *)&avail : (void *)&c;
  long r = sys_result(syscall(SYS_ioctl, fds[0], request, arg));
  close(fds[0]);
  close(fds[1]);
  return r;
}
static long probe_tiocsti(void) { return ioctl_on_pipe(TIOCSTI); }
static long probe_tioclinux(void) { return ioctl_on_pipe(TIOCLINUX); }
/* The kernel ignores the upper half of the request: so must the filter. */
static long probe_tiocsti_high_bits(void) { return ioctl_on_pipe((1UL << 32) | TIOCSTI); }
static long probe_fionread(void) { return ioctl_on_pipe(FIONREAD); }
/* musl passes the request as an int: sign-extended when bit 31 is set. */
static long probe_sign_extended_request(void)
{
  return ioctl_on_pipe((unsigned long)(long)(int)0x80045430u);
}

static long
probe_pipe_read_write(void)
{
  int fds[2];
  if (pipe(fds) < 0)
    return -errno;
  char c = 0;
  long w = sys_result(syscall(SYS_write, fds[1], "y", 1));
  long r = sys_result(syscall(SYS_read, fds[0], &c, 1));
  close(fds[0]);
  close(fds[1]);
  return w == 1 && r == 1 && c == 'y' ? 0 : -1;
}

static long probe_x32_keyctl(void) { return sys_result(syscall(X32_BIT | SYS_keyctl, 0, 0, 0)); }
static long probe_x32_getpid(void) { return sys_result(syscall(X32_BIT | SYS_getpid)); }
static long probe_x32_nr_1000(void) { return sys_result(syscall(X32_BIT | 1000)); }
static long probe_personality_query(void) { return sys_result(syscall(SYS_personality, 0xffffffffUL)); }
static long probe_personality_bsd(void) { return sys_result(syscall(SYS_personality, 0x0006UL)); }
static long
probe_uname(void)
{
  struct utsname u;
  return sys_result(syscall(SYS_uname, &u));
}
static long probe_getppid(void) { return sys_result(syscall(SYS_getppid)) > 0 ? 0 : -1; }
static long probe_getuid(void) { return sys_result(syscall(SYS_getuid)) >= 0 ? 0 : -errno; }
static long probe_getgid(void) { return sys_result(syscall(SYS_getgid)) >= 0 ? 0 : -errno; }
static long probe_getegid(void) { return sys_result(syscall(SYS_getegid)) >= 0 ? 0 : -errno; }

#if defined(__x86_64__)
static long
int80(long nr, long a, long b, long c)
{
  long r;
  __asm__ volatile("int $0x80"
                   : "=a"(r)
                   : "a"(nr), "b"(a), "c"(b), "d"(c)
                   : "r8", "r9", "r10", "r11", "memory", "cc");
  return r;
}
static long probe_i386_getpid(void) { return int80(I386_GETPID, 0, 0, 0) > 0 ? 0 : -1; }
static long
probe_i386_keyctl(void)
{
  return int80(I386_KEYCTL, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
}

/* Whether this kernel runs i386 syscalls from a 64-bit process (not under
 * every hypervisor, nor with ia32_emulation=0). */
static bool
i386_syscalls_work(void)
{
  pid_t pid = fork_child();
  if (pid == 0)
    _exit(int80(I386_GETPID, 0, 0, 0) > 0 ? 0 : 1);
  int status;
  if (pid < 0 || waitpid(pid, &status, 0) != pid)
    return false;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}
#endif

/* ---- the built-in profile ---- */

static void
test_default_refuses_dangerous_calls(void **state)
{
  struct cab_seccomp_filter *f = build_or_fail(CAB_SECCOMP_DEFAULT, NULL, docker_caps);
  assert_non_null(f);
  long r[MAX_PROBES];
  RUN(f, r, probe_keyctl, probe_add_key, probe_request_key, probe_bpf, probe_perf_event_open,
      probe_io_uring_setup, probe_userfaultfd, probe_unshare_nothing, probe_clone_newuser,
      probe_clone_newnet, probe_socket_alg, probe_socket_vsock, probe_tiocsti, probe_tioclinux,
      probe_tiocsti_high_bits, probe_syslog_size, probe_mount, probe_personality_bsd,
      probe_unshare_user /* last: unconfined, it would change what follows */);
  const char *names[] = {"keyctl", "add_key", "request_key", "bpf", "perf_event_open",
                         "io_uring_setup", "userfaultfd", "unshare(0)", "clone(CLONE_NEWUSER)",
                         "clone(CLONE_NEWNET)", "socket(AF_ALG)", "socket(AF_VSOCK)",
                         "ioctl(TIOCSTI)", "ioctl(TIOCLINUX)", "ioctl(TIOCSTI | 1<<32)", "syslog",
                         "mount", "personality(PER_BSD)", "unshare(CLONE_NEWUSER)"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (r[i] != -EPERM)
      fail_msg("%s: expected EPERM, got %ld", names[i], r[i]);
  cab_seccomp_free(f);
}

static void
test_default_enosys_for_newer_calls(void **state)
{
  struct cab_seccomp_filter *f = build_or_fail(CAB_SECCOMP_DEFAULT, NULL, docker_caps);
  long r[MAX_PROBES];
  RUN(f, r, probe_clone3, probe_nr_1000);
  assert_int_equal(r[0], -ENOSYS);
  assert_int_equal(r[1], -ENOSYS);
  cab_seccomp_free(f);
}

static void
test_default_allows_ordinary_calls(void **state)
{
  struct cab_seccomp_filter *f = build_or_fail(CAB_SECCOMP_DEFAULT, NULL, docker_caps);
  long r[MAX_PROBES];
  RUN(f, r, probe_getpid, probe_pipe_read_write, probe_socket_inet, probe_clone_plain,
      probe_fionread, probe_sign_extended_request, probe_personality_query, probe_uname);
  assert_int_equal(r[0], 0);
  assert_int_equal(r[1], 0);
  assert_int_equal(r[2], 0);
  assert_int_equal(r[3], 0);
  assert_int_equal(r[4], 0);
  assert_int_equal(r[5], -ENOTTY); /* reached the kernel */
  assert_true(r[6] >= 0);
  assert_int_equal(r[7], 0);
  cab_seccomp_free(f);
}

static void
test_default_x32(void **state)
{
  struct cab_seccomp_filter *f = build_or_fail(CAB_SECCOMP_DEFAULT, NULL, docker_caps);
  long r[MAX_PROBES];
  RUN(f, r, probe_x32_keyctl, probe_x32_getpid, probe_x32_nr_1000);
  assert_int_equal(r[0], -EPERM);
  /* Allowed by the filter; ENOSYS when the kernel has no x32 ABI. */
  assert_int_not_equal(r[1], -EPERM);
  assert_int_equal(r[2], -ENOSYS);
  cab_seccomp_free(f);
}

static void
test_default_i386(void **state)
{
#if defined(__x86_64__)
  if (!i386_syscalls_work()) {
    printf("skip: this kernel does not run i386 syscalls (int $0x80) from 64-bit processes\n");
    skip();
  }
  struct cab_seccomp_filter *f = build_or_fail(CAB_SECCOMP_DEFAULT, NULL, docker_caps);
  long r[MAX_PROBES];
  RUN(f, r, probe_i386_keyctl, probe_i386_getpid);
  assert_int_equal(r[0], -EPERM);
  assert_int_equal(r[1], 0);
  cab_seccomp_free(f);
#else
  printf("skip: not an x86_64 host\n");
  skip();
#endif
}

static void
test_default_sys_admin_keeps_user_namespaces_out(void **state)
{
  struct cab_seccomp_filter *f =
      build_or_fail(CAB_SECCOMP_DEFAULT, NULL, docker_caps | CAB_CAP(CAP_SYS_ADMIN));
  long r[MAX_PROBES];
  RUN(f, r, probe_unshare_nothing, probe_unshare_user, probe_clone_newuser, probe_clone3,
      probe_clone_plain);
  assert_int_equal(r[0], 0);
  assert_int_equal(r[1], -EPERM);
  assert_int_equal(r[2], -EPERM);
  assert_int_equal(r[3], -ENOSYS);
  assert_int_equal(r[4], 0);
  cab_seccomp_free(f);
}

static void
test_default_fits_in_bpf(void **state)
{
  struct cab_seccomp_filter *f = build_or_fail(CAB_SECCOMP_DEFAULT, NULL, docker_caps);
  size_t len = cab_seccomp_filter_length(f);
  printf("default filter: %zu BPF instructions\n", len);
  assert_true(len > 0 && len <= 4096);
  cab_seccomp_free(f);
}

static void
test_rule_conditions(void **state)
{
  struct cab_seccomp_ctx ctx = {.caps = CAB_CAP(CAP_SYS_ADMIN), .host_arch = CAB_ARCH_AMD64,
                                .kernel_major = 5, .kernel_minor = 10};
  struct cab_seccomp_rule rule = {.includes = {.caps = CAB_CAP(CAP_SYS_ADMIN)}};
  assert_true(cab_seccomp_rule_applies(&ctx, &rule));
  rule.excludes.arches = CAB_ARCH_AMD64;
  assert_false(cab_seccomp_rule_applies(&ctx, &rule));
  rule = (struct cab_seccomp_rule){.includes = {.min_kernel = "5.11"}};
  assert_false(cab_seccomp_rule_applies(&ctx, &rule));
  rule.includes.min_kernel = "4.19";
  assert_true(cab_seccomp_rule_applies(&ctx, &rule));
  rule = (struct cab_seccomp_rule){.excludes = {.caps = CAB_CAP(CAP_SYS_ADMIN)}};
  assert_false(cab_seccomp_rule_applies(&ctx, &rule));
  unsigned major, minor;
  assert_true(cab_seccomp_parse_kernel_version("6.18.44-fc", &major, &minor));
  assert_int_equal(major, 6);
  assert_int_equal(minor, 18);
  assert_false(cab_seccomp_parse_kernel_version("six", &major, &minor));
}

/* ---- the verifier's profile ---- */

/* Calls that reach into another process.  Each is aimed at ourselves or at
 * nothing, so that where the filter lets it through it reaches the kernel
 * and fails (or succeeds) harmlessly: the result tells the two apart. */
static long
probe_ptrace_peek(void)
{
  return sys_result(syscall(SYS_ptrace, PTRACE_PEEKDATA_, (long)getpid(), 0, 0));
}
static long
probe_vm_readv(void)
{
  char src[4] = "abc", dst[4];
  struct iovec l = {dst, sizeof dst}, r = {src, sizeof src};
  return sys_result(syscall(SYS_process_vm_readv, getpid(), &l, 1, &r, 1, 0));
}
static long
probe_vm_writev(void)
{
  char src[4] = "abc", dst[4];
  struct iovec l = {src, sizeof src}, r = {dst, sizeof dst};
  return sys_result(syscall(SYS_process_vm_writev, getpid(), &l, 1, &r, 1, 0));
}
static long probe_pidfd_getfd(void) { return sys_result(syscall(SYS_pidfd_getfd, -1, 0, 0)); }
static long probe_process_madvise(void)
{
  return sys_result(syscall(SYS_process_madvise, -1, NULL, 0, 0, 0));
}
static long probe_kcmp(void)
{
  return sys_result(syscall(SYS_kcmp, getpid(), getpid(), 0 /* KCMP_FILE */, 0, 0));
}

static const probe_fn cross_process[] = {probe_ptrace_peek, probe_vm_readv, probe_vm_writev,
                                         probe_pidfd_getfd, probe_process_madvise, probe_kcmp};
static const char *const cross_process_names[] = {"ptrace", "process_vm_readv",
                                                  "process_vm_writev", "pidfd_getfd",
                                                  "process_madvise", "kcmp"};

static void
test_verifier_refuses_reaching_other_processes(void **state)
{
  /* Even with CAP_SYS_PTRACE, which opens the whole group in the default
   * policy. */
  uint64_t caps[] = {docker_caps, docker_caps | CAB_CAP(CAP_SYS_PTRACE)};
  size_t n = sizeof cross_process / sizeof cross_process[0];
  for (size_t c = 0; c < 2; c++) {
    struct cab_seccomp_filter *f = build_or_fail(CAB_SECCOMP_VERIFIER, NULL, caps[c]);
    long r[MAX_PROBES];
    run_confined(f, cross_process, n, r);
    for (size_t i = 0; i < n; i++)
      if (r[i] != -EPERM)
        fail_msg("verifier, caps %zu: %s: expected EPERM, got %ld", c, cross_process_names[i], r[i]);
    cab_seccomp_free(f);
  }
  /* The default policy with CAP_SYS_PTRACE lets every one reach the kernel:
   * the probes themselves can tell a refusal from a call. */
  struct cab_seccomp_filter *f =
      build_or_fail(CAB_SECCOMP_DEFAULT, NULL, docker_caps | CAB_CAP(CAP_SYS_PTRACE));
  long r[MAX_PROBES];
  run_confined(f, cross_process, n, r);
  for (size_t i = 0; i < n; i++)
    if (r[i] == -EPERM)
      fail_msg("default with CAP_SYS_PTRACE: %s was refused", cross_process_names[i]);
  cab_seccomp_free(f);
}

static void
test_verifier_keeps_the_rest(void **state)
{
  struct cab_seccomp_filter *f = build_or_fail(CAB_SECCOMP_VERIFIER, NULL, docker_caps);
  long r[MAX_PROBES];
  RUN(f, r, probe_getpid, probe_pipe_read_write, probe_clone_plain, probe_keyctl, probe_clone3);
  assert_int_equal(r[0], 0);
  assert_int_equal(r[1], 0);
  assert_int_equal(r[2], 0);
  assert_int_equal(r[3], -EPERM);
  assert_int_equal(r[4], -ENOSYS);
  cab_seccomp_free(f);
}

/* The compiled filter is cached on disk by its key: the verifier's must
 * never be served the default's (or the other way round). */
static void
test_verifier_cache_key_differs(void **state)
{
  struct cab_seccomp_config d = {.kind = CAB_SECCOMP_DEFAULT, .caps = docker_caps};
  struct cab_seccomp_config v = {.kind = CAB_SECCOMP_VERIFIER, .caps = docker_caps};
  char *kd = NULL, *kv = NULL;
  size_t ld = 0, lv = 0;
  assert_int_equal(cab_seccomp_cache_key(&d, &kd, &ld), 0);
  assert_int_equal(cab_seccomp_cache_key(&v, &kv, &lv), 0);
  assert_false(ld == lv && memcmp(kd, kv, ld) == 0);
  free(kd);
  free(kv);
  /* Built twice each, in turn: the second builds come from the cache and
   * still differ where they must. */
  for (int round = 0; round < 2; round++) {
    struct cab_seccomp_filter *fd = build_or_fail(CAB_SECCOMP_DEFAULT, NULL, docker_caps);
    struct cab_seccomp_filter *fv = build_or_fail(CAB_SECCOMP_VERIFIER, NULL, docker_caps);
    long r[MAX_PROBES];
    RUN(fd, r, probe_vm_readv);
    assert_int_equal(r[0], 4);
    RUN(fv, r, probe_vm_readv);
    assert_int_equal(r[0], -EPERM);
    cab_seccomp_free(fd);
    cab_seccomp_free(fv);
  }
  struct cab_seccomp_config cfg = {0};
  cab_error err = {0};
  assert_int_equal(cab_seccomp_config_from_option(&cfg, "verifier", &err), 0);
  assert_int_equal(cfg.kind, CAB_SECCOMP_VERIFIER);
  assert_string_equal(cab_seccomp_kind_name(cfg.kind), "verifier");
}

/* ---- unconfined ---- */

static void
test_unconfined_builds_no_filter(void **state)
{
  struct cab_seccomp_config cfg = {.caps = docker_caps};
  cab_error err = {0};
  assert_int_equal(cab_seccomp_config_from_option(&cfg, "unconfined", &err), 0);
  assert_int_equal(cfg.kind, CAB_SECCOMP_UNCONFINED);
  struct cab_seccomp_filter *f = (void *)1;
  assert_int_equal(cab_seccomp_build(&cfg, &f, &err), 0);
  assert_null(f);
  assert_int_equal(cab_seccomp_load(NULL), 0);
  assert_int_equal(cab_seccomp_filter_length(NULL), 0);
  cab_seccomp_free(NULL);

  assert_int_equal(cab_seccomp_config_from_option(&cfg, "/some/profile.json", &err), 0);
  assert_int_equal(cfg.kind, CAB_SECCOMP_FILE);
  assert_string_equal(cfg.path, "/some/profile.json");
  assert_int_equal(cab_seccomp_config_from_option(&cfg, "", &err), -1);
}

/* ---- JSON profiles ---- */

static void
test_json_allow_all_but_one(void **state)
{
  struct cab_seccomp_filter *f =
      build_or_fail(CAB_SECCOMP_FILE, fixture("allow_all_but_uname.json"), docker_caps);
  assert_non_null(f);
  long r[MAX_PROBES];
  RUN(f, r, probe_uname, probe_getpid, probe_keyctl, probe_socket_inet);
  assert_int_equal(r[0], -EXDEV);
  assert_int_equal(r[1], 0);
  assert_int_not_equal(r[2], -EPERM);
  assert_int_equal(r[3], 0);
  cab_seccomp_free(f);
}

static void
test_json_docker_style(void **state)
{
  struct cab_seccomp_filter *f =
      build_or_fail(CAB_SECCOMP_FILE, fixture("docker_style.json"), docker_caps);
  long r[MAX_PROBES];
  RUN(f, r, probe_getpid, probe_getppid, probe_getuid, probe_getgid, probe_getegid,
      probe_keyctl, probe_nr_1000, probe_clone_plain, probe_clone_newnet, probe_unshare_nothing,
      probe_clone3, probe_x32_keyctl);
  assert_int_equal(r[0], 0);
  assert_int_equal(r[1], 0);       /* includes.minKernel 4.8 */
  assert_int_equal(r[2], -EPERM);  /* includes.minKernel 99.0 */
  assert_int_equal(r[3], -EPERM);  /* includes.arches arm64 */
  assert_int_equal(r[4], 0);       /* excludes.arches arm64 */
  assert_int_equal(r[5], -EPERM);  /* defaultErrnoRet */
  assert_int_equal(r[6], -ENOSYS); /* newer than the profile */
  assert_int_equal(r[7], 0);       /* clone without namespace flags */
  assert_int_equal(r[8], -EPERM);
  assert_int_equal(r[9], -EPERM); /* includes.caps CAP_SYS_ADMIN, not kept */
  assert_int_equal(r[10], -ENOSYS);
  assert_int_equal(r[11], -EPERM); /* archMap gave x32 */
  cab_seccomp_free(f);

  f = build_or_fail(CAB_SECCOMP_FILE, fixture("docker_style.json"),
                    docker_caps | CAB_CAP(CAP_SYS_ADMIN));
  RUN(f, r, probe_unshare_nothing, probe_clone_plain);
  assert_int_equal(r[0], 0);
  assert_int_equal(r[1], -EPERM); /* excludes.caps CAP_SYS_ADMIN */
  cab_seccomp_free(f);
}

static void
expect_build_error(const char *file, const char *expected)
{
  char path[4096 + 256];
  snprintf(path, sizeof path, "%s", fixture(file));
  struct cab_seccomp_config cfg = {.kind = CAB_SECCOMP_FILE, .path = path, .caps = docker_caps};
  struct cab_seccomp_filter *f = NULL;
  cab_error err = {0};
  assert_int_equal(cab_seccomp_build(&cfg, &f, &err), -1);
  assert_null(f);
  char want[8192];
  snprintf(want, sizeof want, "seccomp profile %s: %s", path, expected);
  char line[4096];
  cab_error_line(&err, line, sizeof line);
  if (strncmp(line, want, strlen(want)) != 0)
    fail_msg("error line\n  %s\ndoes not start with\n  %s", line, want);
}

static void
test_json_errors(void **state)
{
  expect_build_error("bad_action.json",
                     "syscalls[1].action: unknown action \"SCMP_ACT_FOO\"; use one of "
                     "SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, "
                     "SCMP_ACT_KILL_THREAD, SCMP_ACT_TRAP, SCMP_ACT_LOG");
  expect_build_error("bad_syntax.json", "invalid JSON at line 3, column ");
  expect_build_error("bad_arg_index.json",
                     "syscalls[1].args[1].index: 7 is out of range (at most 5)");
  expect_build_error("no_such_file.json", "");
}

int
main(void)
{
  find_fixtures();
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_default_refuses_dangerous_calls),
    cmocka_unit_test(test_default_enosys_for_newer_calls),
    cmocka_unit_test(test_default_allows_ordinary_calls),
    cmocka_unit_test(test_default_x32),
    cmocka_unit_test(test_default_i386),
    cmocka_unit_test(test_default_sys_admin_keeps_user_namespaces_out),
    cmocka_unit_test(test_default_fits_in_bpf),
    cmocka_unit_test(test_rule_conditions),
    cmocka_unit_test(test_verifier_refuses_reaching_other_processes),
    cmocka_unit_test(test_verifier_keeps_the_rest),
    cmocka_unit_test(test_verifier_cache_key_differs),
    cmocka_unit_test(test_unconfined_builds_no_filter),
    cmocka_unit_test(test_json_allow_all_but_one),
    cmocka_unit_test(test_json_docker_style),
    cmocka_unit_test(test_json_errors),
  };
  return cmocka_run_group_tests_name("seccomp", tests, NULL, NULL);
}
