/* The built-in seccomp policy: Docker's default profile as a table, with
 * cab's hardening (no nested user namespaces, no clone3, no TIOCSTI).
 *
 * Everything not allowed here gets EPERM; syscalls newer than the table get
 * ENOSYS (see seccomp.c). */
#include "sandbox/seccomp_profile.h"

#include <errno.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#define NAMES(...) ((const char *const[]){__VA_ARGS__, NULL})
#define ARG(i, cmp, v) {.arg = (i), .op = (cmp), .datum_a = (v), .datum_b = 0}
#define ARG_MASKED(i, mask, v) {.arg = (i), .op = SCMP_CMP_MASKED_EQ, .datum_a = (mask), .datum_b = (v)}

/* One socket address family allowed. */
#define SOCKET_FAMILY(cmp, family) \
  {.names = NAMES("socket"), .action = SCMP_ACT_ALLOW, .n_args = 1, .args = {ARG(0, cmp, family)}}

#define PERSONALITY(persona) \
  {.names = NAMES("personality"), .action = SCMP_ACT_ALLOW, .n_args = 1, \
   .args = {ARG(0, SCMP_CMP_EQ, persona)}}

#define WITH_CAP(cap, ...) \
  {.names = NAMES(__VA_ARGS__), .action = SCMP_ACT_ALLOW, .includes = {.caps = CAB_CAP(cap)}}

#define ON_ARCHES(arches_, ...) \
  {.names = NAMES(__VA_ARGS__), .action = SCMP_ACT_ALLOW, .includes = {.arches = (arches_)}}

/* Docker's mask of namespace flags refused on clone without CAP_SYS_ADMIN. */
#define CLONE_NAMESPACE_FLAGS 0x7E020000ULL

const struct cab_seccomp_rule cab_seccomp_default_rules[] = {
  {.action = SCMP_ACT_ALLOW,
   .names = NAMES(
       "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "cachestat", "capget",
       "capset", "chdir", "chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64",
       "clock_getres", "clock_getres_time64", "clock_gettime", "clock_gettime64",
       "clock_nanosleep", "clock_nanosleep_time64", "close", "close_range", "connect",
       "copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create", "epoll_create1",
       "epoll_ctl", "epoll_ctl_old", "epoll_pwait", "epoll_pwait2", "epoll_wait",
       "epoll_wait_old", "eventfd", "eventfd2", "execve", "execveat", "exit", "exit_group",
       "faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate", "fanotify_mark",
       "fchdir", "fchmod", "fchmodat", "fchmodat2", "fchown", "fchown32", "fchownat", "fcntl",
       "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr",
       "fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync",
       "ftruncate", "ftruncate64", "futex", "futex_requeue", "futex_time64", "futex_wait",
       "futex_waitv", "futex_wake", "futimesat", "getcpu", "getcwd", "getdents", "getdents64",
       "getegid", "getegid32", "geteuid", "geteuid32", "getgid", "getgid32", "getgroups",
       "getgroups32", "getitimer", "getpeername", "getpgid", "getpgrp", "getpid", "getppid",
       "getpriority", "getrandom", "getresgid", "getresgid32", "getresuid", "getresuid32",
       "getrlimit", "get_robust_list", "getrusage", "getsid", "getsockname", "getsockopt",
       "get_thread_area", "gettid", "gettimeofday", "getuid", "getuid32", "getxattr",
       "getxattrat", "inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch",
       "io_cancel", "io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64",
       "ioprio_get", "ioprio_set", "io_setup", "io_submit", "ipc", "kill", "landlock_add_rule",
       "landlock_create_ruleset", "landlock_restrict_self", "lchown", "lchown32", "lgetxattr",
       "link", "linkat", "listen", "listmount", "listxattr", "listxattrat", "llistxattr",
       "_llseek", "lremovexattr", "lseek", "lsetxattr", "lstat", "lstat64", "madvise",
       "map_shadow_stack", "membarrier", "memfd_create", "memfd_secret", "mincore", "mkdir",
       "mkdirat", "mknod", "mknodat", "mlock", "mlock2", "mlockall", "mmap", "mmap2",
       "mprotect", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive",
       "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "mremap",
       "mseal", "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock", "munlockall",
       "munmap", "name_to_handle_at", "nanosleep", "newfstatat", "_newselect", "open", "openat",
       "openat2", "pause", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc",
       "pkey_free", "pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl", "pread64",
       "preadv", "preadv2", "prlimit64", "process_mrelease", "pselect6", "pselect6_time64",
       "pwrite64", "pwritev", "pwritev2", "read", "readahead", "readlink", "readlinkat", "readv",
       "recv", "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg", "remap_file_pages",
       "removexattr", "removexattrat", "rename", "renameat", "renameat2", "restart_syscall",
       "riscv_hwprobe", "rmdir", "rseq", "rt_sigaction", "rt_sigpending", "rt_sigprocmask",
       "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
       "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_getaffinity", "sched_getattr",
       "sched_getparam", "sched_get_priority_max", "sched_get_priority_min",
       "sched_getscheduler", "sched_rr_get_interval", "sched_rr_get_interval_time64",
       "sched_setaffinity", "sched_setattr", "sched_setparam", "sched_setscheduler",
       "sched_yield", "seccomp", "select", "semctl", "semget", "semop", "semtimedop",
       "semtimedop_time64", "send", "sendfile", "sendfile64", "sendmmsg", "sendmsg", "sendto",
       "setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups",
       "setgroups32", "setitimer", "setpgid", "setpriority", "setregid", "setregid32",
       "setresgid", "setresgid32", "setresuid", "setresuid32", "setreuid", "setreuid32",
       "setrlimit", "set_robust_list", "setsid", "setsockopt", "set_thread_area",
       "set_tid_address", "setuid", "setuid32", "setxattr", "setxattrat", "shmat", "shmctl",
       "shmdt", "shmget", "shutdown", "sigaltstack", "signalfd", "signalfd4", "sigprocmask",
       "sigreturn", "socketcall", "socketpair", "splice", "stat", "stat64", "statfs",
       "statfs64", "statmount", "statx", "symlink", "symlinkat", "sync", "sync_file_range",
       "syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create", "timer_delete",
       "timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime",
       "timer_settime64", "timerfd_create", "timerfd_gettime", "timerfd_gettime64",
       "timerfd_settime", "timerfd_settime64", "times", "tkill", "truncate", "truncate64",
       "ugetrlimit", "umask", "uname", "unlink", "unlinkat", "uretprobe", "utime", "utimensat",
       "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4", "waitid", "waitpid", "write",
       "writev")},

  /* Docker allows ioctl outright; cab refuses pushing input into a terminal
   * (TIOCSTI) and the Linux console's grab bag (TIOCLINUX). */
  {.names = NAMES("ioctl"), .action = SCMP_ACT_ALLOW, .refused_arg = 1, .n_refused = 2,
   .refused = {TIOCSTI, TIOCLINUX}},

  {.names = NAMES("process_vm_readv", "process_vm_writev", "ptrace"), .action = SCMP_ACT_ALLOW,
   .includes = {.min_kernel = "4.8"}},

  /* Address families; AF_ALG (38) and AF_VSOCK (40), among others, stay
   * refused. */
  SOCKET_FAMILY(SCMP_CMP_LT, 12), SOCKET_FAMILY(SCMP_CMP_EQ, 13), SOCKET_FAMILY(SCMP_CMP_EQ, 14),
  SOCKET_FAMILY(SCMP_CMP_EQ, 15), SOCKET_FAMILY(SCMP_CMP_EQ, 16), SOCKET_FAMILY(SCMP_CMP_EQ, 17),
  SOCKET_FAMILY(SCMP_CMP_EQ, 18), SOCKET_FAMILY(SCMP_CMP_EQ, 21), SOCKET_FAMILY(SCMP_CMP_EQ, 22),
  SOCKET_FAMILY(SCMP_CMP_EQ, 24), SOCKET_FAMILY(SCMP_CMP_EQ, 26), SOCKET_FAMILY(SCMP_CMP_EQ, 27),
  SOCKET_FAMILY(SCMP_CMP_EQ, 28), SOCKET_FAMILY(SCMP_CMP_EQ, 29), SOCKET_FAMILY(SCMP_CMP_EQ, 30),
  SOCKET_FAMILY(SCMP_CMP_EQ, 31), SOCKET_FAMILY(SCMP_CMP_EQ, 32), SOCKET_FAMILY(SCMP_CMP_EQ, 33),
  SOCKET_FAMILY(SCMP_CMP_EQ, 35), SOCKET_FAMILY(SCMP_CMP_EQ, 36), SOCKET_FAMILY(SCMP_CMP_EQ, 39),
  SOCKET_FAMILY(SCMP_CMP_EQ, 41), SOCKET_FAMILY(SCMP_CMP_EQ, 42), SOCKET_FAMILY(SCMP_CMP_EQ, 43),
  SOCKET_FAMILY(SCMP_CMP_EQ, 44), SOCKET_FAMILY(SCMP_CMP_EQ, 45),

  /* PER_LINUX, UNAME26, PER_LINUX32, UNAME26|PER_LINUX32, and the query. */
  PERSONALITY(0x0), PERSONALITY(0x8), PERSONALITY(0x20000), PERSONALITY(0x20008),
  PERSONALITY(0xffffffff),

  ON_ARCHES(CAB_ARCH_PPC64LE, "sync_file_range2", "swapcontext"),
  ON_ARCHES(CAB_ARCH_ARM | CAB_ARCH_ARM64, "arm_fadvise64_64", "arm_sync_file_range",
            "sync_file_range2", "breakpoint", "cacheflush", "set_tls"),
  ON_ARCHES(CAB_ARCH_AMD64 | CAB_ARCH_X32, "arch_prctl"),
  ON_ARCHES(CAB_ARCH_AMD64 | CAB_ARCH_X32 | CAB_ARCH_X86, "modify_ldt"),
  ON_ARCHES(CAB_ARCH_S390 | CAB_ARCH_S390X, "s390_pci_mmio_read", "s390_pci_mmio_write",
            "s390_runtime_instr"),
  ON_ARCHES(CAB_ARCH_RISCV64, "riscv_flush_icache"),

  WITH_CAP(CAP_DAC_READ_SEARCH, "open_by_handle_at"),
  WITH_CAP(CAP_SYS_ADMIN, "bpf", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick",
           "lookup_dcookie", "lsm_get_self_attr", "lsm_list_modules", "lsm_set_self_attr",
           "mount", "mount_setattr", "move_mount", "open_tree", "perf_event_open", "quotactl",
           "quotactl_fd", "setdomainname", "sethostname", "setns", "syslog", "umount",
           "umount2"),

  /* Namespaces.  Docker lets CAP_SYS_ADMIN have clone and unshare outright;
   * cab never lets the sandbox create a nested user namespace. */
  {.names = NAMES("clone"), .action = SCMP_ACT_ALLOW, .n_args = 1,
   .args = {ARG_MASKED(0, CLONE_NAMESPACE_FLAGS, 0)},
   .excludes = {.caps = CAB_CAP(CAP_SYS_ADMIN), .arches = CAB_ARCH_S390 | CAB_ARCH_S390X}},
  {.names = NAMES("clone"), .action = SCMP_ACT_ALLOW, .n_args = 1,
   .args = {ARG_MASKED(1, CLONE_NAMESPACE_FLAGS, 0)}, /* s390 passes flags second */
   .includes = {.arches = CAB_ARCH_S390 | CAB_ARCH_S390X},
   .excludes = {.caps = CAB_CAP(CAP_SYS_ADMIN)}},
  {.names = NAMES("clone"), .action = SCMP_ACT_ALLOW, .n_args = 1,
   .args = {ARG_MASKED(0, CLONE_NEWUSER, 0)},
   .includes = {.caps = CAB_CAP(CAP_SYS_ADMIN)},
   .excludes = {.arches = CAB_ARCH_S390 | CAB_ARCH_S390X}},
  {.names = NAMES("clone"), .action = SCMP_ACT_ALLOW, .n_args = 1,
   .args = {ARG_MASKED(1, CLONE_NEWUSER, 0)},
   .includes = {.caps = CAB_CAP(CAP_SYS_ADMIN), .arches = CAB_ARCH_S390 | CAB_ARCH_S390X}},
  {.names = NAMES("unshare"), .action = SCMP_ACT_ALLOW, .n_args = 1,
   .args = {ARG_MASKED(0, CLONE_NEWUSER, 0)}, .includes = {.caps = CAB_CAP(CAP_SYS_ADMIN)}},
  /* clone3's flags sit behind a pointer a filter cannot read: ENOSYS sends
   * glibc back to clone, whatever the capabilities. */
  {.names = NAMES("clone3"), .action = SCMP_ACT_ERRNO(ENOSYS)},

  WITH_CAP(CAP_SYS_BOOT, "reboot"),
  WITH_CAP(CAP_SYS_CHROOT, "chroot"),
  WITH_CAP(CAP_SYS_MODULE, "delete_module", "init_module", "finit_module"),
  WITH_CAP(CAP_SYS_PACCT, "acct"),
  WITH_CAP(CAP_SYS_PTRACE, "kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv",
           "process_vm_writev", "ptrace"),
  WITH_CAP(CAP_SYS_RAWIO, "iopl", "ioperm"),
  WITH_CAP(CAP_SYS_TIME, "settimeofday", "stime", "clock_settime", "clock_settime64"),
  WITH_CAP(CAP_SYS_TTY_CONFIG, "vhangup"),
  WITH_CAP(CAP_SYS_NICE, "get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"),
  WITH_CAP(CAP_SYSLOG, "syslog"),
  WITH_CAP(CAP_BPF, "bpf"),
  WITH_CAP(CAP_PERFMON, "perf_event_open"),
};

const unsigned cab_seccomp_default_rules_count =
    sizeof cab_seccomp_default_rules / sizeof cab_seccomp_default_rules[0];

/* The verifier runs the task's harness and the code under test under one
 * uid: with these, the code could attach to the harness and rewrite its
 * output or its exit status (issue 10).  Checking code needs no debugger:
 * every call that reaches another process's memory (ptrace,
 * process_vm_readv/writev, process_madvise), its fds (pidfd_getfd) or
 * compares its kernel objects (kcmp) is refused, whatever the capabilities.
 * /proc/PID/mem, which seccomp cannot see by path, is closed by mounting the
 * verifier's /proc read-only (sandbox/mounts.c). */
const char *const cab_seccomp_verifier_refused[] = {
    "ptrace", "process_vm_readv", "process_vm_writev", "process_madvise", "pidfd_getfd", "kcmp",
    NULL,
};

int
cab_seccomp_default_profile(struct cab_seccomp_ctx *ctx, uint64_t caps,
                            const char *const *refused, cab_error *err)
{
  if (cab_seccomp_ctx_init(ctx, SCMP_ACT_ERRNO(EPERM), caps, err) < 0)
    return -1;
  ctx->refused = refused;
  if (cab_seccomp_ctx_add_host_arches(ctx, err) < 0)
    return -1;
  for (unsigned i = 0; i < cab_seccomp_default_rules_count; i++)
    if (cab_seccomp_ctx_add_rule(ctx, &cab_seccomp_default_rules[i], err) < 0)
      return -1;
  return 0;
}

/* Rule conditions, as Docker evaluates them. */

unsigned
cab_seccomp_arch_bit_by_name(const char *name)
{
  static const struct {
    const char *name;
    unsigned bit;
  } names[] = {
    {"amd64", CAB_ARCH_AMD64},     {"x86_64", CAB_ARCH_AMD64},   {"x86", CAB_ARCH_X86},
    {"386", CAB_ARCH_X86},         {"x32", CAB_ARCH_X32},        {"arm", CAB_ARCH_ARM},
    {"arm64", CAB_ARCH_ARM64},     {"aarch64", CAB_ARCH_ARM64},  {"ppc64le", CAB_ARCH_PPC64LE},
    {"s390", CAB_ARCH_S390},       {"s390x", CAB_ARCH_S390X},    {"riscv64", CAB_ARCH_RISCV64},
    {"mips", CAB_ARCH_MIPS},       {"mipsle", CAB_ARCH_MIPS},    {"mips64", CAB_ARCH_MIPS},
    {"mips64le", CAB_ARCH_MIPS},   {"mips64n32", CAB_ARCH_MIPS}, {"mipsel64n32", CAB_ARCH_MIPS},
    {"loong64", CAB_ARCH_LOONGARCH64}, {"loongarch64", CAB_ARCH_LOONGARCH64},
  };
  for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strcmp(names[i].name, name) == 0)
      return names[i].bit;
  return 0;
}

bool
cab_seccomp_parse_kernel_version(const char *s, unsigned *major, unsigned *minor)
{
  char *end;
  errno = 0;
  unsigned long ma = strtoul(s, &end, 10);
  if (end == s || *end != '.' || errno != 0 || ma > 0xffff)
    return false;
  const char *p = end + 1;
  unsigned long mi = strtoul(p, &end, 10);
  if (end == p || errno != 0 || mi > 0xffff)
    return false;
  *major = (unsigned)ma;
  *minor = (unsigned)mi;
  return true;
}

static bool
kernel_at_least(const struct cab_seccomp_ctx *ctx, const char *version)
{
  unsigned major, minor;
  if (!cab_seccomp_parse_kernel_version(version, &major, &minor))
    return false;
  return ctx->kernel_major > major || (ctx->kernel_major == major && ctx->kernel_minor >= minor);
}

bool
cab_seccomp_rule_applies(const struct cab_seccomp_ctx *ctx, const struct cab_seccomp_rule *rule)
{
  const struct cab_seccomp_when *in = &rule->includes, *ex = &rule->excludes;
  if ((ctx->caps & in->caps) != in->caps)
    return false;
  if (in->arches != 0 && (in->arches & ctx->host_arch) == 0)
    return false;
  if (in->min_kernel != NULL && !kernel_at_least(ctx, in->min_kernel))
    return false;
  if ((ctx->caps & ex->caps) != 0)
    return false;
  if ((ex->arches & ctx->host_arch) != 0)
    return false;
  if (ex->min_kernel != NULL && kernel_at_least(ctx, ex->min_kernel))
    return false;
  return true;
}
