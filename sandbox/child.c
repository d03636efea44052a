/* pid 1 inside the sandbox.  Reads top to bottom in the order the kernel
 * needs: wait for the id maps, enter the cell's cgroup namespace, build the
 * root, name the host, bring lo up, then fork the command and act as its init:
 * reap zombies, forward signals, and report the command's status. */
#include "sandbox/child.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "sandbox/caps.h"
#include "sandbox/netlink.h"
#include "sandbox/protocol.h"
#include "sandbox/stdio.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

/* What went wrong in the command process before execve succeeded. */
enum payload_stage { STAGE_SETUP = 1, STAGE_EXEC = 2 };
struct payload_failure {
  int stage;
  int errnum;
  char what[256];
};

static void
send_msg(int fd, int type, int value, int errnum, const char *text)
{
  struct cab_msg m = {.type = type, .value = value, .errnum = errnum};
  if (text)
    snprintf(m.text, sizeof m.text, "%s", text);
  ssize_t r;
  do
    r = send(fd, &m, sizeof m, MSG_NOSIGNAL);
  while (r < 0 && errno == EINTR);
}

__attribute__((noreturn)) static void
setup_failed(int sync_fd, const cab_error *err)
{
  char line[2300];
  send_msg(sync_fd, CAB_MSG_SETUP_FAILED, 0, 0, cab_error_line(err, line, sizeof line));
  _exit(CAB_EXIT_RUNNER);
}

static int
send_fd(int sock, int type, int value, int fd)
{
  struct cab_msg m = {.type = type, .value = value};
  struct iovec iov = {.iov_base = &m, .iov_len = sizeof m};
  char cbuf[CMSG_SPACE(sizeof(int))];
  memset(cbuf, 0, sizeof cbuf);
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                      .msg_controllen = sizeof cbuf};
  struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof fd);
  return sendmsg(sock, &mh, MSG_NOSIGNAL) < 0 ? -1 : 0;
}

__attribute__((noreturn)) static void
payload_fail(int errfd, int stage, int errnum, const char *what)
{
  struct payload_failure f = {.stage = stage, .errnum = errnum};
  snprintf(f.what, sizeof f.what, "%s", what);
  if (write(errfd, &f, sizeof f) < 0) {
    /* nothing more to do: init sees the pipe close */
  }
  _exit(stage == STAGE_EXEC ? (errnum == ENOENT ? CAB_EXIT_NOT_FOUND : CAB_EXIT_CANNOT_RUN)
                            : CAB_EXIT_RUNNER);
}

/* The command process: drop everything, then exec.  Seccomp goes last, so
 * every step before it may use any syscall. */
__attribute__((noreturn)) static void
run_payload(const struct cab_child_args *a, int errfd, int tty_slave, const sigset_t *oldmask)
{
  const struct cab_sandbox_config *cfg = a->cfg;

  /* A new session: no way to inject input into the caller's terminal
   * (TIOCSTI, CVE-2017-5226). */
  setsid();
  /* Stdio as the supervisor sorted it: a relay socket, the caller's fd, or
   * our own /dev/null in place of a directory or O_PATH fd, whose
   * /proc/self/fd/N/.. would lead out of this root. */
  for (int i = 0; i < 3; i++) {
    int fd = a->stdio->child[i];
    if (fd == CAB_STDIO_NULL)
      fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    else if (fd == CAB_STDIO_KEEP)
      continue;
    if (fd < 0 || dup2(fd, i) < 0)
      payload_fail(errfd, STAGE_SETUP, errno, "attach the command's stdio");
  }
  if (tty_slave >= 0) {
    if (ioctl(tty_slave, TIOCSCTTY, 0) < 0)
      payload_fail(errfd, STAGE_SETUP, errno, "make the pty the controlling terminal");
    for (int i = 0; i < 3; i++)
      if (dup2(tty_slave, i) < 0)
        payload_fail(errfd, STAGE_SETUP, errno, "attach the pty");
    if (tty_slave > 2)
      close(tty_slave);
  }
  for (int s = 1; s < NSIG; s++)
    signal(s, SIG_DFL);
  sigprocmask(SIG_SETMASK, oldmask, NULL);

  const char *wd = cfg->workdir ? cfg->workdir : "/";
  if (chdir(wd) < 0) {
    char what[300];
    snprintf(what, sizeof what, "--workdir %s", wd);
    payload_fail(errfd, STAGE_SETUP, errno, what);
  }
  umask(022);

  if (a->rlimit_pids) {
    /* RLIMIT_NPROC counts per user namespace (ucounts), so this caps the
     * sandbox's own processes only. */
    struct rlimit rl = {(rlim_t)cfg->limits.pids, (rlim_t)cfg->limits.pids};
    if (setrlimit(RLIMIT_NPROC, &rl) < 0)
      payload_fail(errfd, STAGE_SETUP, errno, "set RLIMIT_NPROC");
  }
  if (a->rlimit_memory && CAB_RLIMIT_DATA_BACKSTOP) {
    /* A per-process backstop; the supervisor's watchdog enforces the total. */
    rlim_t v = (rlim_t)cfg->limits.memory_bytes * 2;
    struct rlimit rl = {v, v};
    if (setrlimit(RLIMIT_DATA, &rl) < 0)
      payload_fail(errfd, STAGE_SETUP, errno, "set RLIMIT_DATA");
  }

  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    payload_fail(errfd, STAGE_SETUP, errno, "set no_new_privs");
  int r = cab_caps_apply(cfg->caps);
  if (r < 0)
    payload_fail(errfd, STAGE_SETUP, -r, "drop capabilities");
  /* No host fd may reach the command (CVE-2024-21626). */
  if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
    for (int fd = 3; fd < 1024; fd++)
      if (fd != errfd)
        fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  r = cab_seccomp_load(a->filter);
  if (r < 0)
    payload_fail(errfd, STAGE_SETUP, -r, "load the seccomp filter");

  extern char **environ;
  environ = (char **)cfg->envp;
  execvp(cfg->argv[0], cfg->argv);
  payload_fail(errfd, STAGE_EXEC, errno, cfg->argv[0]);
}

/* Become the sandbox's own uid and gid, whose host ids are not cab's (the
 * supervisor mapped them to an unprivileged host id).  Capabilities in our
 * user namespace survive the switch (the namespace's root, or a uid that
 * was never its root, capabilities(7)); root's supplementary groups go
 * first, or a file readable by host group 0 would stay readable. */
static int
take_mapped_ids(const struct cab_sandbox_config *cfg, int sync_fd, cab_error *err)
{
  /* The raw system calls, not glibc's wrappers: those apply the change to
   * every thread glibc knows of, and this process was cloned without
   * glibc (supervisor.c) from a runner that may have threads (the progress
   * line, the proxy): its copy of glibc's thread list names threads that
   * do not exist here, and the wrapper waited on one of them forever (an
   * agent phase hung in about 1 of 40 cells on a terminal).  This process
   * has one thread, so the per-thread system calls are the whole change. */
  if (syscall(SYS_setgroups, 0, NULL) < 0)
    return cab_error_sys(err, "drop the supplementary groups");
  if (syscall(SYS_setresgid, cfg->gid, cfg->gid, cfg->gid) < 0)
    return cab_error_sys(err, "take the sandbox's gid %u", cfg->gid);
  if (syscall(SYS_setresuid, cfg->uid, cfg->uid, cfg->uid) < 0)
    return cab_error_sys(err, "take the sandbox's uid %u", cfg->uid);
  /* A change of credentials clears the parent-death signal: set it again,
   * then make sure the supervisor did not die in between (its end of the
   * socket would be closed). */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  struct pollfd p = {.fd = sync_fd, .events = POLLRDHUP};
  if (poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLRDHUP | POLLERR)))
    _exit(CAB_EXIT_RUNNER);
  return 0;
}

static void
forward_noop(int sig)
{
  (void)sig;
}

/* Signals init forwards to the command.  Init installs a real handler for
 * each: the kernel drops SIG_DFL signals sent to a pid-namespace init. */
static const int forwarded[] = {SIGHUP,  SIGINT,  SIGQUIT, SIGTERM, SIGUSR1,
                                SIGUSR2, SIGPIPE, SIGALRM, SIGWINCH, SIGCONT,
                                SIGTSTP, SIGTTIN, SIGTTOU};

/* Init is a fork of cab: its argv and environment are cab's, and
 * /proc/1/cmdline is readable by anyone inside.  Overwrite both regions so
 * no host argument or variable (an API key, say) is visible in the sandbox. */
static void
wipe_inherited_args(void)
{
  cleanup_fclose FILE *f = fopen("/proc/self/stat", "re");
  char buf[2048];
  if (f == NULL || fgets(buf, sizeof buf, f) == NULL)
    return;
  /* Fields after the ')' of comm; arg_start is field 48 (man 5 proc). */
  char *p = strrchr(buf, ')');
  if (p == NULL)
    return;
  /* v[N] is field N; the first token after ')' is field 3. */
  unsigned long v[53] = {0};
  int field = 3;
  for (char *tok = strtok(p + 1, " "); tok && field <= 52; tok = strtok(NULL, " "))
    v[field++] = strtoul(tok, NULL, 10);
  unsigned long regions[2][2] = {{v[48], v[49]}, {v[50], v[51]}};
  for (int i = 0; i < 2; i++)
    if (regions[i][0] && regions[i][1] > regions[i][0])
      memset((void *)regions[i][0], 0, regions[i][1] - regions[i][0]);
  if (v[48] && v[49] - v[48] > 9)
    memcpy((void *)v[48], "cab-init", 9);
  prctl(PR_SET_NAME, "cab-init");
}

/* SysV shared memory outlives every mapping (a segment stays after shmdt),
 * so no watchdog sees it: cap the whole IPC namespace's at the memory
 * budget.  Best effort: the kernel lets the namespace's owner set these
 * since 5.17; /proc/sys is still the host's here, but these files act on
 * the writer's own IPC namespace. */
static void
cap_sysv_shm(const struct cab_limits *lim)
{
  if (lim->memory_bytes <= 0)
    return;
  char v[32];
  cab_error ignored = {0};
  snprintf(v, sizeof v, "%lld", (long long)(lim->memory_bytes / sysconf(_SC_PAGESIZE)));
  cab_write_file_at(AT_FDCWD, "/proc/sys/kernel/shmall", v, &ignored);
  snprintf(v, sizeof v, "%lld", (long long)lim->memory_bytes);
  cab_write_file_at(AT_FDCWD, "/proc/sys/kernel/shmmax", v, &ignored);
}

__attribute__((noreturn)) void
cab_child_main(const struct cab_child_args *a)
{

  const struct cab_sandbox_config *cfg = a->cfg;
  int sync_fd = a->sync_fd;
  cab_error err = {0};

  /* Die with the supervisor: then the kernel tears down the whole pid
   * namespace, so nothing is orphaned even if cab is SIGKILLed. */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  /* The stdio relay's supervisor ends came with the clone: a pipe reaches
   * EOF only once every write end is closed. */
  cab_stdio_close_supervisor_ends(a->stdio);

  /* Wait until the supervisor has written our id maps (and cgroups).  EOF
   * means it died before that. */
  struct cab_msg go;
  ssize_t n;
  do
    n = recv(sync_fd, &go, sizeof go, 0);
  while (n < 0 && errno == EINTR);
  if (n != (ssize_t)sizeof go || go.type != CAB_MSG_GO)
    _exit(CAB_EXIT_RUNNER);

  /* On v1 we move ourselves into the cell (cheaper than being moved), and
   * close those files before anything else: they carry the supervisor's
   * credentials. */
  if (cab_cgroup_join_self(a->cgroup_join, &err) < 0)
    setup_failed(sync_fd, &err);
  /* Our cgroup is now the cell's: make it the root of our view. */
  if (unshare(CLONE_NEWCGROUP) < 0) {
    cab_error_sys(&err, "unshare the cgroup namespace");
    setup_failed(sync_fd, &err);
  }
  cap_sysv_shm(&cfg->limits);
  /* The host objects are opened with cab's own host ids (as root, a
   * workdir under a 0700 scratch directory is reachable), then, when the
   * sandbox maps to other ids, we become those before building the root:
   * every mount point, mask and file made from here on, and everything
   * the command does, is done as that unprivileged host id. */
  struct cab_host_fds *fds = a->fds;
  if (cab_host_fds_open(cfg, fds, &err) < 0 ||
      (a->take_mapped_ids && take_mapped_ids(cfg, sync_fd, &err) < 0) ||
      cab_mounts_build_root(cfg, fds, &err) < 0)
    setup_failed(sync_fd, &err);
  if (a->rlimit_memory) {
    /* Without a memory cgroup nothing charges tmpfs pages to the sandbox:
     * the supervisor's watchdog statfs()es these mounts through the fds
     * (its view of /proc/PID/root would follow a chroot'ed command). */
    static const char *const tmpfs[] = {"/tmp", "/dev/shm"};
    for (int i = 0; i < 2; i++) {
      cleanup_close int t = open(tmpfs[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (t >= 0 && send_fd(sync_fd, CAB_MSG_TMPFS, i, t) < 0) {
        cab_error_sys(&err, "pass %s to the supervisor", tmpfs[i]);
        setup_failed(sync_fd, &err);
      }
    }
  }
  const char *hostname = cfg->hostname ? cfg->hostname : "cab";
  if (sethostname(hostname, strlen(hostname)) < 0) {
    cab_error_sys(&err, "sethostname %s", hostname);
    setup_failed(sync_fd, &err);
  }
  if (cab_netlink_link_up(1, &err) < 0)
    setup_failed(sync_fd, &err);

  /* The host fds have served: none may outlive the pivot.  And init becomes
   * non-dumpable, so the command cannot reach init's remaining fds through
   * /proc/1/fd. */
  cab_host_fds_close(fds, cfg->n_binds);
  prctl(PR_SET_DUMPABLE, 0);

  /* The command line and working directory still point into cab's argv,
   * which is about to be wiped: keep private copies. */
  size_t argc = 0;
  while (cfg->argv[argc])
    argc++;
  char **argv_copy = calloc(argc + 1, sizeof *argv_copy);
  struct cab_sandbox_config *own = malloc(sizeof *own);
  struct cab_child_args *own_args = malloc(sizeof *own_args);
  if (argv_copy == NULL || own == NULL || own_args == NULL) {
    cab_error_sys(&err, "allocate");
    setup_failed(sync_fd, &err);
  }
  for (size_t i = 0; i < argc; i++)
    argv_copy[i] = strdup(cfg->argv[i]);
  *own = *cfg;
  own->argv = argv_copy;
  own->workdir = cfg->workdir ? strdup(cfg->workdir) : NULL;
  own->rootfs = own->hostname = NULL;
  own->binds = NULL;
  own->n_binds = 0;
  *own_args = *a;
  own_args->cfg = own;
  a = own_args;
  cfg = own;
  wipe_inherited_args();

  int tty_slave = -1;
  if (cfg->tty) {
    /* The pty comes from the sandbox's own devpts instance; the supervisor
     * gets the master end. */
    cleanup_close int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    int unlock = 0;
    if (master < 0 || ioctl(master, TIOCSPTLCK, &unlock) < 0) {
      cab_error_sys(&err, "open a pty in the sandbox");
      setup_failed(sync_fd, &err);
    }
    tty_slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
    if (tty_slave < 0 || send_fd(sync_fd, CAB_MSG_PTY_MASTER, 0, master) < 0) {
      cab_error_sys(&err, "pass the pty to the supervisor");
      setup_failed(sync_fd, &err);
    }
  }

  sigset_t all, oldmask;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, &oldmask);
  /* The supervisor blocked its own signals before cloning; the command
   * starts with none blocked. */
  sigemptyset(&oldmask);
  struct sigaction sa = {.sa_handler = forward_noop};
  sigfillset(&sa.sa_mask);
  for (size_t i = 0; i < sizeof forwarded / sizeof *forwarded; i++)
    sigaction(forwarded[i], &sa, NULL);
  sigaction(SIGCHLD, &sa, NULL);

  int errpipe[2];
  if (pipe2(errpipe, O_CLOEXEC) < 0) {
    cab_error_sys(&err, "pipe");
    setup_failed(sync_fd, &err);
  }
  pid_t cmd = fork();
  if (cmd < 0) {
    cab_error_sys(&err, "fork the command");
    setup_failed(sync_fd, &err);
  }
  if (cmd == 0) {
    close(errpipe[0]);
    close(sync_fd);
    run_payload(a, errpipe[1], tty_slave, &oldmask);
  }
  close(errpipe[1]);
  if (tty_slave >= 0)
    close(tty_slave);

  struct payload_failure f;
  do
    n = read(errpipe[0], &f, sizeof f);
  while (n < 0 && errno == EINTR);
  close(errpipe[0]);
  if (n == (ssize_t)sizeof f) {
    waitpid(cmd, NULL, 0);
    if (f.stage == STAGE_EXEC) {
      send_msg(sync_fd, CAB_MSG_EXEC_FAILED, 0, f.errnum, f.what);
      _exit(f.errnum == ENOENT ? CAB_EXIT_NOT_FOUND : CAB_EXIT_CANNOT_RUN);
    }
    cab_error_set(&err, f.errnum, "%s", f.what);
    setup_failed(sync_fd, &err);
  }
  send_msg(sync_fd, CAB_MSG_STARTED, cmd, 0, NULL);

  /* init: reap everything, forward signals, stop when the command ends.
   * Returning tears the namespace down, killing any daemons it left. */
  for (;;) {
    siginfo_t si;
    int sig = sigwaitinfo(&all, &si);
    if (sig < 0)
      continue;
    if (sig != SIGCHLD) {
      kill(cmd, sig);
      continue;
    }
    int status;
    pid_t p;
    while ((p = waitpid(-1, &status, WNOHANG)) > 0) {
      if (p == cmd) {
        send_msg(sync_fd, CAB_MSG_EXITED, status, 0, NULL);
        _exit(0);
      }
    }
  }
}
