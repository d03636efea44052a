/* The supervisor: cab's side of one sandbox.  It creates the namespaces,
 * maps ids, places the child in its cgroup, then watches it: signals,
 * timeout, the memory watchdog, an optional pty relay, and the final report. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/strfmt.h"
#include "common/cleanup.h"
#include "common/fsutil.h"
#include "sandbox/cgroup.h"
#include "sandbox/child.h"
#include "sandbox/preflight.h"
#include "sandbox/protocol.h"
#include "sandbox/sandbox.h"
#include "sandbox/stdio.h"
#include "sandbox/tty.h"
#include "sandbox/watchdog.h"

/* clone3's argument, spelled out to avoid <linux/sched.h> clashing with
 * glibc's <sched.h>. */
struct clone3_args {
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
      set_tid_size, cgroup;
};
#define CLONE_INTO_CGROUP_FLAG 0x200000000ULL

#define NS_FLAGS                                                                             \
  (CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC)
#define CAPTURE_CHUNK 65536

struct watch {
  pid_t init;
  int sync_fd;
  int sig_fd;
  int pty_master;
  struct cab_tty_relay *relay;
  struct cab_tty_options tty_opts;
  struct cab_cgroup *cg;
  struct cab_stdio *stdio;
  bool mem_watchdog;
  int64_t mem_limit;
  const struct cab_disk_budget *disk; /* NULL: none */
  int64_t disk_next_ns;
  int64_t mem_next_ns;   /* next memory sample */
  bool over_budget;
  char budget_reason[256];
  int cap_fd[2];         /* read ends of the captured stdout, stderr; -1 */
  int tmpfs_fd[2];       /* the sandbox's /tmp and /dev/shm (O_PATH); -1 */
  void (*on_output)(void *ctx, int stream, const char *data, size_t len);
  void *cap_ctx;
  int64_t deadline_ns;   /* 0: none */
  int64_t grace_ns;      /* 0: no kill pending */
  int grace_ms;
  int interrupted;       /* first stop signal received, 0: none */
  int stop_fd;           /* -1: none */
  bool stopped;
  bool killed;
  /* from init */
  bool got_exit;
  int wait_status;
  bool setup_failed;
  bool exec_failed;
  int exec_errnum;
  char text[1536];
  /* results */
  bool timed_out;
  bool watchdog_oom;
  int64_t peak_rss;
  int init_status;
  struct rusage ru;
};

/* *BORN_INSIDE: the child started in CGROUP_FD's cgroup (clone3 took it);
 * false after the plain clone fallback, which the caller must then attach. */
static pid_t
clone_sandbox(int cgroup_fd, bool *born_inside)
{
  *born_inside = false;
  if (cgroup_fd >= 0) {
    /* Born inside the cell cgroup: no window before it is attached. */
    struct clone3_args args = {
        .flags = NS_FLAGS | CLONE_INTO_CGROUP_FLAG,
        .exit_signal = SIGCHLD,
        .cgroup = (uint64_t)cgroup_fd,
    };
    pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof args);
    if (pid >= 0 || (errno != ENOSYS && errno != E2BIG && errno != EINVAL)) {
      *born_inside = pid >= 0;
      return pid;
    }
  }
  return (pid_t)syscall(SYS_clone, NS_FLAGS | SIGCHLD, NULL, NULL, NULL, NULL);
}

/* After clone3 into CGROUP_FD failed with ERRNUM: was it the cgroup?  A
 * bare child (no namespaces) is started into the same cgroup and exits at
 * once; if that fails too, the kernel refused the migration (cab may move a
 * process only where it can write the common ancestor's cgroup.procs), not
 * the namespaces.  Only on the failure path. */
static bool
cgroup_refused(int cgroup_fd, int errnum)
{
  if (cgroup_fd < 0 || (errnum != EACCES && errnum != EPERM))
    return false;
  struct clone3_args args = {
      .flags = CLONE_INTO_CGROUP_FLAG,
      .exit_signal = SIGCHLD,
      .cgroup = (uint64_t)cgroup_fd,
  };
  pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof args);
  if (pid == 0)
    _exit(0);
  if (pid < 0)
    return true;
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
    ;
  return false;
}

/* One id inside, mapped to HOST_UID/HOST_GID (cab_sandbox_host_ids).  When
 * those are not our own ids (root mapping a host-rootfs sandbox to nobody),
 * setgroups stays allowed: the child drops root's supplementary groups
 * before it takes the mapped ids.  With one gid mapped, a later setgroups
 * inside can add no group but that one. */
static int
write_id_maps(pid_t pid, const struct cab_sandbox_config *cfg, bool mapped_away,
              cab_error *err)
{
  uid_t host_uid;
  gid_t host_gid;
  cab_sandbox_host_ids(cfg, &host_uid, &host_gid, NULL);
  char path[64], map[64];
  snprintf(path, sizeof path, "/proc/%d/uid_map", pid);
  snprintf(map, sizeof map, "%u %u 1\n", cfg->uid, host_uid);
  if (cab_write_file_at(AT_FDCWD, path, map, err) < 0)
    return cab_error_prefix(err, "map uid %u", cfg->uid);
  /* setgroups must be denied before an unprivileged gid_map write. */
  snprintf(path, sizeof path, "/proc/%d/setgroups", pid);
  if (!mapped_away && cab_write_file_at(AT_FDCWD, path, "deny", err) < 0)
    return -1;
  snprintf(path, sizeof path, "/proc/%d/gid_map", pid);
  snprintf(map, sizeof map, "%u %u 1\n", cfg->gid, host_gid);
  if (cab_write_file_at(AT_FDCWD, path, map, err) < 0)
    return cab_error_prefix(err, "map gid %u", cfg->gid);
  return 0;
}

static void
kill_all(struct watch *w)
{
  if (w->killed)
    return;
  w->killed = true;
  cab_error ignored = {0};
  if (w->cg)
    cab_cgroup_kill(w->cg, &ignored);
  /* SIGKILL to the namespace's init takes every process in it along. */
  kill(w->init, SIGKILL);
}

static int
recv_msg(struct watch *w)
{
  struct cab_msg m;
  struct iovec iov = {.iov_base = &m, .iov_len = sizeof m};
  char cbuf[CMSG_SPACE(sizeof(int))];
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                      .msg_controllen = sizeof cbuf};
  ssize_t n = recvmsg(w->sync_fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  if (n <= 0)
    return n == 0 || (errno != EAGAIN && errno != EINTR) ? -1 : 0;
  if (n != (ssize_t)sizeof m)
    return 0;
  switch (m.type) {
  case CAB_MSG_SETUP_FAILED:
    w->setup_failed = true;
    snprintf(w->text, sizeof w->text, "%s", m.text);
    break;
  case CAB_MSG_EXEC_FAILED:
    w->exec_failed = true;
    w->exec_errnum = m.errnum;
    snprintf(w->text, sizeof w->text, "%s", m.text);
    break;
  case CAB_MSG_EXITED:
    w->got_exit = true;
    w->wait_status = m.value;
    break;
  case CAB_MSG_PTY_MASTER: {
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    if (c && c->cmsg_type == SCM_RIGHTS)
      memcpy(&w->pty_master, CMSG_DATA(c), sizeof(int));
    break;
  }
  case CAB_MSG_TMPFS: {
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    int fd = -1;
    if (c && c->cmsg_type == SCM_RIGHTS)
      memcpy(&fd, CMSG_DATA(c), sizeof(int));
    if (fd >= 0 && m.value >= 0 && m.value < 2 && w->tmpfs_fd[m.value] < 0)
      w->tmpfs_fd[m.value] = fd;
    else if (fd >= 0)
      close(fd);
    break;
  }
  default:
    break;
  }
  return 1;
}

static void
on_signal(struct watch *w)
{
  struct signalfd_siginfo si;
  while (read(w->sig_fd, &si, sizeof si) == (ssize_t)sizeof si) {
    int sig = (int)si.ssi_signo;
    if (sig == SIGCHLD || sig == SIGPIPE)
      continue;
    if (sig == SIGWINCH) {
      if (w->relay)
        cab_tty_relay_resize(w->relay);
      continue;
    }
    if (w->interrupted == 0)
      w->interrupted = sig;
    if (w->grace_ns != 0) {
      /* Asked twice: stop waiting. */
      kill_all(w);
      continue;
    }
    kill(w->init, sig);
    w->grace_ns = cab_now_ns() + (int64_t)w->grace_ms * 1000000;
  }
}

static bool
reap_init(struct watch *w)
{
  int status;
  pid_t p = wait4(w->init, &status, WNOHANG, &w->ru);
  if (p != w->init)
    return false;
  w->init_status = status;
  return true;
}

/* A poll timeout of MS (-1: none) shortened to wake at AT_NS (rounded up
 * to whole ms, 0 if already past). */
static int
sooner_ms(int ms, int64_t at_ns, int64_t now)
{
  int at_ms = (int)((at_ns - now + 999999) / 1000000);
  if (at_ms < 0)
    at_ms = 0;
  return ms < 0 || at_ms < ms ? at_ms : ms;
}

static int
poll_timeout_ms(const struct watch *w)
{
  int64_t now = cab_now_ns();
  int64_t next = -1;
  if (w->deadline_ns && !w->killed)
    next = w->deadline_ns;
  if (w->grace_ns && !w->killed && (next < 0 || w->grace_ns < next))
    next = w->grace_ns;
  int ms = next < 0 ? -1 : (int)((next - now + 999999) / 1000000);
  if (ms < 0 && next >= 0)
    ms = 0;
  if (w->mem_watchdog && !w->killed)
    ms = sooner_ms(ms, w->mem_next_ns, now);
  if (w->disk && !w->killed)
    ms = sooner_ms(ms, w->disk_next_ns, now);
  return ms;
}

static void
check_timers(struct watch *w)
{
  int64_t now = cab_now_ns();
  if (w->deadline_ns && now >= w->deadline_ns && !w->killed) {
    w->timed_out = true;
    kill_all(w);
  }
  if (w->grace_ns && now >= w->grace_ns)
    kill_all(w);
  if (w->mem_watchdog && !w->killed && now >= w->mem_next_ns) {
    struct cab_mem_sample m;
    cab_tree_memory(w->init, w->tmpfs_fd, &m);
    if (m.total > w->peak_rss)
      w->peak_rss = m.total;
    if (m.total > w->mem_limit) {
      w->watchdog_oom = true;
      kill_all(w);
    }
    /* A sample costs tens of microseconds per process: with many
     * processes, sample less often rather than take the core (at most
     * 5% of it). */
    int64_t took = cab_now_ns() - now;
    int64_t every = (int64_t)CAB_WATCHDOG_INTERVAL_MS * 1000000;
    w->mem_next_ns = now + (took * 20 > every ? took * 20 : every);
  }
  if (w->disk && !w->killed && now >= w->disk_next_ns) {
    int64_t t0 = cab_now_ns();
    if (cab_disk_budget_check(w->disk, w->budget_reason, sizeof w->budget_reason) > 0) {
      w->over_budget = true;
      kill_all(w);
    }
    /* A big tree within budget must not eat the core it is measured on:
     * wait at least ten times as long as the walk took. */
    int64_t took = cab_now_ns() - t0;
    int64_t every = (int64_t)(w->disk->interval_ms > 0 ? w->disk->interval_ms
                                                       : CAB_DISK_INTERVAL_MS) * 1000000;
    w->disk_next_ns = cab_now_ns() + (took * 10 > every ? took * 10 : every);
  }
}

/* Move what the captured pipe FD holds to the callback.  Returns false at
 * end of file (or on an error): the pipe is then closed. */
static bool
drain_capture(struct watch *w, int i)
{
  char buf[CAPTURE_CHUNK];
  for (int rounds = 0; rounds < 16; rounds++) {
    ssize_t n = read(w->cap_fd[i], buf, sizeof buf);
    if (n > 0) {
      w->on_output(w->cap_ctx, i + 1, buf, (size_t)n);
      continue;
    }
    if (n < 0 && (errno == EINTR))
      continue;
    if (n < 0 && errno == EAGAIN)
      return true;
    close(w->cap_fd[i]);
    w->cap_fd[i] = -1;
    return false;
  }
  return true;
}

static void
supervise(struct watch *w)
{
  bool init_gone = false;
  bool sync_open = true;
  while (!init_gone) {
    struct pollfd p[11];
    int n = 0;
    p[n++] = (struct pollfd){.fd = w->sig_fd, .events = POLLIN};
    if (sync_open)
      p[n++] = (struct pollfd){.fd = w->sync_fd, .events = POLLIN};
    int cap_first = n;
    for (int i = 0; i < 2; i++)
      p[n++] = (struct pollfd){.fd = w->cap_fd[i], .events = POLLIN};
    int stop_at = -1;
    if (w->stop_fd >= 0 && !w->killed) {
      stop_at = n;
      p[n++] = (struct pollfd){.fd = w->stop_fd, .events = POLLIN};
    }
    int relay_first = n;
    if (w->relay)
      n += cab_tty_relay_pollfds(w->relay, p + n);
    int stdio_first = n;
    n += cab_stdio_pollfds(w->stdio, p + n);
    int r = poll(p, (nfds_t)n, poll_timeout_ms(w));
    if (r < 0 && errno != EINTR)
      break;
    if (r > 0) {
      if (p[0].revents & POLLIN)
        on_signal(w);
      if (sync_open && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
        while ((r = recv_msg(w)) > 0)
          ;
        if (r < 0)
          sync_open = false;
        if (w->pty_master >= 0 && w->relay == NULL)
          w->relay = cab_tty_relay_new(w->pty_master, &w->tty_opts);
      }
      for (int i = 0; i < 2; i++)
        if (w->cap_fd[i] >= 0 && (p[cap_first + i].revents & (POLLIN | POLLHUP | POLLERR)))
          drain_capture(w, i);
      if (w->relay && relay_first < stdio_first)
        cab_tty_relay_service(w->relay, p + relay_first, stdio_first - relay_first);
      cab_stdio_service(w->stdio, p + stdio_first, n - stdio_first);
      if (stop_at >= 0 && (p[stop_at].revents & POLLIN)) {
        w->stopped = true;
        kill_all(w);
      }
    }
    check_timers(w);
    init_gone = reap_init(w);
  }
  while (sync_open && recv_msg(w) > 0)
    ;
  /* Every writer goes with the pid namespace: read the pipes to EOF (a
   * writer still being torn down gets a moment, never forever). */
  for (int i = 0; i < 2; i++)
    while (w->cap_fd[i] >= 0) {
      struct pollfd cp = {.fd = w->cap_fd[i], .events = POLLIN};
      if (poll(&cp, 1, 2000) <= 0) {
        close(w->cap_fd[i]);
        w->cap_fd[i] = -1;
        break;
      }
      drain_capture(w, i);
    }
  if (w->relay)
    cab_tty_relay_drain(w->relay);
  /* Init is reaped only once every process of its namespace has exited:
   * nothing holds the sockets' other ends any more. */
  cab_stdio_drain(w->stdio);
}

static void
fill_result(struct watch *w, struct cab_sandbox_result *res)
{
  int st = w->got_exit ? w->wait_status : w->init_status;
  if (w->timed_out || w->watchdog_oom || !w->got_exit) {
    /* The command did not report: init itself was killed. */
    if (WIFSIGNALED(w->init_status)) {
      res->signal = WTERMSIG(w->init_status);
      res->exit_code = 128 + res->signal;
    } else {
      res->exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : CAB_EXIT_RUNNER;
    }
  } else if (WIFSIGNALED(st)) {
    res->signal = WTERMSIG(st);
    res->exit_code = 128 + res->signal;
  } else {
    res->exit_code = WEXITSTATUS(st);
  }
  res->timed_out = w->timed_out;
  res->stopped = w->stopped;
  res->user_ms = (int64_t)w->ru.ru_utime.tv_sec * 1000 + w->ru.ru_utime.tv_usec / 1000;
  res->sys_ms = (int64_t)w->ru.ru_stime.tv_sec * 1000 + w->ru.ru_stime.tv_usec / 1000;
  res->oom_killed = w->watchdog_oom;
  res->over_budget = w->over_budget;
  snprintf(res->budget_reason, sizeof res->budget_reason, "%s", w->budget_reason);
  res->peak_memory_bytes = w->mem_watchdog ? w->peak_rss : -1;
  if (w->cg) {
    struct cab_cgroup_stats stats = {.peak_memory_bytes = -1, .cpu_usage_us = -1};
    if (cab_cgroup_stats(w->cg, &stats) == 0) {
      res->oom_killed = res->oom_killed || stats.oom_killed;
      if (stats.peak_memory_bytes >= 0)
        res->peak_memory_bytes = stats.peak_memory_bytes;
    }
  }
  if (res->peak_memory_bytes < 0 && w->ru.ru_maxrss > 0)
    res->peak_memory_bytes = (int64_t)w->ru.ru_maxrss * 1024; /* largest single process */
}

/* The veth route, built while init waits for its go-ahead; the caller's
 * callback takes the gateway's sockets. */
static int
start_gateway(const struct cab_sandbox_config *cfg, pid_t pid, cab_error *err)
{
  if (!cfg->gateway.enabled)
    return 0;
  struct cab_gateway gw;
  if (cab_gateway_setup(pid, &cfg->gateway, &gw, err) < 0)
    return -1;
  if (cfg->gateway.on_ready)
    cfg->gateway.on_ready(cfg->gateway.ctx, &gw);
  else
    cab_gateway_close(&gw);
  return 0;
}

/* What held memory and the disk budget, in words, for the report. */
static void
describe_limits(const struct cab_sandbox_config *cfg, struct cab_sandbox_result *res,
                bool rl_mem)
{
  if (rl_mem)
    snprintf(res->memory_how, sizeof res->memory_how,
             "watchdog (anon+shmem+memfd+tmpfs, poll %d ms)%s", CAB_WATCHDOG_INTERVAL_MS,
             CAB_MEMORY_BACKSTOP_WORDS);
  else if (res->memory == CAB_MECH_CGROUP_V2)
    snprintf(res->memory_how, sizeof res->memory_how, "cgroup v2 (memory.max)");
  else if (res->memory == CAB_MECH_CGROUP_V1)
    snprintf(res->memory_how, sizeof res->memory_how, "cgroup v1 (memory.limit_in_bytes)");
  else
    snprintf(res->memory_how, sizeof res->memory_how, "none");
  cab_disk_budget_describe(&cfg->disk, res->disk_how, sizeof res->disk_how);
}

/* Decide, per limit, what enforces it when no cgroup took it. */
static void
degrade_limits(const struct cab_sandbox_config *cfg, struct cab_sandbox_result *res,
               bool *rl_pids, bool *rl_mem, const char *why)
{
  char msg[512] = "";
  size_t used = 0;
  if (cfg->limits.memory_bytes > 0 && res->memory == CAB_MECH_NONE) {
    res->memory = CAB_MECH_RLIMIT;
    *rl_mem = true;
    used += (size_t)snprintf(msg + used, sizeof msg - used,
                             "memory by a watchdog (anon+shmem+memfd+tmpfs)%s; ",
                             CAB_MEMORY_BACKSTOP_WORDS);
  }
  if (cfg->limits.pids > 0 && res->pids == CAB_MECH_NONE && used < sizeof msg) {
    /* The kernel exempts the host's root user from RLIMIT_NPROC. */
    if (geteuid() != 0) {
      res->pids = CAB_MECH_RLIMIT;
      *rl_pids = true;
      used += (size_t)snprintf(msg + used, sizeof msg - used, "pids by RLIMIT_NPROC; ");
    } else {
      used += (size_t)snprintf(msg + used, sizeof msg - used, "pids NOT enforced; ");
    }
  }
  if (cfg->limits.cpus > 0 && res->cpu == CAB_MECH_NONE && used < sizeof msg)
    used += (size_t)snprintf(msg + used, sizeof msg - used, "cpu NOT enforced; ");
  if (used > 0 && used < sizeof msg) {
    msg[used - 2] = '\0';
    cab_snprintf_cut(res->degraded, sizeof res->degraded, "limits degraded (%s): %s", why,
                     msg); /* a warning for people */
  }
}

int
cab_sandbox_run(const struct cab_sandbox_config *cfg, struct cab_sandbox_result *res,
                cab_error *err)
{
  memset(res, 0, sizeof *res);
  res->peak_memory_bytes = -1;
  snprintf(res->cgroup_mode, sizeof res->cgroup_mode, "none");

  /* Docker gates some syscall groups on capabilities: the filter follows
   * the set the command keeps. */
  struct cab_seccomp_config scfg = cfg->seccomp;
  scfg.caps = cfg->caps;
  struct cab_seccomp_filter *filter = NULL;
  if (cab_seccomp_build(&scfg, &filter, err) < 0)
    return -1;

  cleanup_free int *bind_fds = calloc(cfg->n_binds + 1, sizeof(int));
  struct cab_host_fds fds = {.rootfs = -1, .overlay = -1, .layer_tmpfs = -1, .dev = {-1, -1, -1, -1, -1, -1}, .bind_src = bind_fds};
  for (size_t i = 0; i < cfg->n_binds; i++)
    bind_fds[i] = -1;
  int ret = -1;
  struct cab_cgroup *cg = NULL;
  struct cab_cgroup_join join = {.n = 0};
  int sv[2] = {-1, -1};
  int sig_fd = -1;
  sigset_t mask, oldmask;
  sigemptyset(&mask);
  bool masked = false;
  bool rl_pids = false, rl_mem = false;
  struct watch w = {.pty_master = -1, .grace_ms = cfg->kill_grace_ms > 0 ? cfg->kill_grace_ms : 3000,
                    .cap_fd = {-1, -1}, .tmpfs_fd = {-1, -1}};
  int cap_w[2] = {-1, -1};
  struct cab_sandbox_config child_cfg = *cfg;
  int child_stdio[3];
  struct cab_stdio stdio;
  cab_stdio_init(&stdio);

  /* Check the host paths now, for a clear error before any namespace
   * exists.  The child opens them again inside its own mount namespace:
   * bind mounts cannot take a source from another namespace. */
  if (cab_host_fds_open(cfg, &fds, err) < 0)
    goto out;
  cab_host_fds_close(&fds, cfg->n_binds);
  fds = (struct cab_host_fds){.rootfs = -1, .overlay = -1, .layer_tmpfs = -1, .dev = {-1, -1, -1, -1, -1, -1}, .bind_src = bind_fds};
  for (size_t i = 0; i < cfg->n_binds; i++)
    bind_fds[i] = -1;

  const struct cab_limits *lim = &cfg->limits;
  char why[600] = "no writable cgroup";
  if (cfg->no_cgroup && (lim->memory_bytes > 0 || lim->pids > 0 || lim->cpus > 0)) {
    snprintf(why, sizeof why, "cgroups not used, as asked");
    degrade_limits(cfg, res, &rl_pids, &rl_mem, why);
  } else if (lim->memory_bytes > 0 || lim->pids > 0 || lim->cpus > 0) {
    struct cab_cgroup_host host;
    struct cab_cgroup_paths paths = {.parent = cfg->cgroup_parent};
    cab_error cgerr = {0};
    if (cab_cgroup_detect(&paths, &host, &cgerr) == 0) {
      snprintf(res->cgroup_mode, sizeof res->cgroup_mode, "%s", cab_cgroup_mode_name(host.mode));
      cab_cgroup_cleanup_stale(&host, &cgerr);
      char reason[512] = "";
      if (cab_cgroup_create_reason(&host, lim, &cg, &res->memory, &res->pids, &res->cpu, reason,
                                   sizeof reason, &cgerr) < 0) {
        cab_error_line(&cgerr, why, sizeof why);
        cg = NULL;
      } else if (reason[0]) {
        snprintf(why, sizeof why, "%s", reason);
      }
    } else {
      cab_error_line(&cgerr, why, sizeof why);
    }
    degrade_limits(cfg, res, &rl_pids, &rl_mem, why);
  }

  /* Signals arrive through a signalfd; the child unblocks its own. */
  sigaddset(&mask, SIGCHLD);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGHUP);
  sigaddset(&mask, SIGQUIT);
  sigaddset(&mask, SIGWINCH);
  /* A stdin relay pipe whose reader is gone: EPIPE, not death. */
  sigaddset(&mask, SIGPIPE);
  if (sigprocmask(SIG_BLOCK, &mask, &oldmask) < 0) {
    cab_error_sys(err, "block signals");
    goto out;
  }
  masked = true;
  sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sig_fd < 0) {
    cab_error_sys(err, "signalfd");
    goto out;
  }
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
    cab_error_sys(err, "socketpair");
    goto out;
  }
  /* Captured output: the command writes into pipes only we read, so no
   * file grows with what it prints.  Append-only, they are sockets: a pipe
   * re-opened through /proc/PID/fd could be read by the command before we
   * read it (and what it printed rewritten); a socket cannot be opened. */
  if (cfg->capture.on_output) {
    for (int i = 0; i < 2; i++) {
      int p[2];
      if (cfg->stdio_append_only ? socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) < 0
                                 : pipe2(p, O_CLOEXEC) < 0) {
        cab_error_sys(err, "create the output pipes");
        goto out;
      }
      if (cfg->stdio_append_only)
        shutdown(p[0], SHUT_WR); /* one way: the command reads nothing back */
      w.cap_fd[i] = p[0];
      cap_w[i] = p[1];
      fcntl(p[0], F_SETFL, O_NONBLOCK);
    }
    child_stdio[0] = cfg->stdio_fds ? cfg->stdio_fds[0] : -1;
    child_stdio[1] = cap_w[0];
    child_stdio[2] = cap_w[1];
    child_cfg.stdio_fds = child_stdio;
    w.on_output = cfg->capture.on_output;
    w.cap_ctx = cfg->capture.ctx;
  }
  /* Without a pty, the command's stdio is sorted before it exists: no
   * directory and no re-openable file of ours reaches it (stdio.h). */
  int given[3] = {-1, -1, -1};
  if (child_cfg.stdio_fds)
    memcpy(given, child_cfg.stdio_fds, sizeof given);
  if (!cfg->tty && cab_stdio_prepare(given, cfg->stdio_append_only, &stdio, err) < 0)
    goto out;

  uid_t host_uid;
  gid_t host_gid;
  bool mapped_away = false;
  cab_sandbox_host_ids(cfg, &host_uid, &host_gid, &mapped_away);
  /* The relay's pipes are the command's own: let its host id re-open them
   * (/dev/stdout), as it could had it made them. */
  if (mapped_away)
    cab_stdio_chown_child_ends(&stdio, host_uid, host_gid);

  int cgroup_fd = cg ? cab_cgroup_clone_fd(cg) : -1;
  if (cgroup_fd < 0)
    cab_cgroup_join_open(cg, &join);
  bool child_joins = join.n > 0;
  int64_t start = cab_now_ns();
  bool born_inside = false;
  pid_t pid = clone_sandbox(cgroup_fd, &born_inside);
  if (pid < 0) {
    int errnum = errno;
    if (cgroup_refused(cgroup_fd, errnum))
      cab_error_set(err, errnum, "cannot start the sandbox inside its cgroup: cab can move "
                    "a process only within the cgroup subtree it was started in; start cab from "
                    "inside that subtree (or the --cgroup-parent given), or run without "
                    "--cgroup-parent");
    else
      cab_userns_explain(errnum, err);
    goto out;
  }
  if (pid == 0) {
    close(sv[0]);
    close(sig_fd);
    struct cab_child_args args = {
        .cfg = &child_cfg, .fds = &fds, .sync_fd = sv[1], .filter = filter,
        .rlimit_pids = rl_pids, .rlimit_memory = rl_mem, .take_mapped_ids = mapped_away,
        .stdio = &stdio, .cgroup_join = &join,
    };
    cab_child_main(&args);
  }
  cab_cgroup_join_close(&join);
  close(sv[1]);
  sv[1] = -1;
  for (int i = 0; i < 2; i++)
    if (cap_w[i] >= 0) {
      close(cap_w[i]);
      cap_w[i] = -1;
    }
  cab_stdio_close_child_ends(&stdio);

  w.init = pid;
  w.sync_fd = sv[0];
  w.sig_fd = sig_fd;
  w.stop_fd = cfg->stop_fd ? *cfg->stop_fd : -1;
  w.cg = cg;
  w.stdio = &stdio;
  w.mem_watchdog = rl_mem;
  w.mem_limit = lim->memory_bytes;
  if (cfg->disk.n > 0) {
    w.disk = &cfg->disk;
    w.disk_next_ns = start + (int64_t)(cfg->disk.interval_ms > 0 ? cfg->disk.interval_ms
                                                                 : CAB_DISK_INTERVAL_MS) * 1000000;
  }
  describe_limits(cfg, res, rl_mem);
  w.tty_opts = (struct cab_tty_options){
      .on_output = cfg->tty_io.on_output, .ctx = cfg->tty_io.ctx, .quiet = cfg->tty_io.quiet,
      .no_input = cfg->tty_io.no_input, .rows = cfg->tty_io.rows, .cols = cfg->tty_io.cols};
  if (lim->timeout_s > 0)
    w.deadline_ns = start + (int64_t)(lim->timeout_s * 1e9);

  struct cab_msg go = {.type = CAB_MSG_GO};
  if (write_id_maps(pid, cfg, mapped_away, err) < 0 ||
      (cg && !born_inside && !child_joins && cab_cgroup_attach(cg, pid, err) < 0) ||
      start_gateway(cfg, pid, err) < 0 || send(sv[0], &go, sizeof go, MSG_NOSIGNAL) < 0) {
    if (err->message[0] == '\0')
      cab_error_sys(err, "start the sandbox");
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    goto out;
  }

  supervise(&w);
  res->wall_ms = (cab_now_ns() - start) / 1000000;
  res->interrupted = w.interrupted;

  if (w.setup_failed) {
    cab_error_set(err, 0, "sandbox setup failed: %s", w.text);
    goto out;
  }
  if (w.exec_failed) {
    cab_error_set(err, w.exec_errnum, "cannot run %s", w.text);
    err->exit_code = w.exec_errnum == ENOENT ? CAB_EXIT_NOT_FOUND : CAB_EXIT_CANNOT_RUN;
    goto out;
  }
  fill_result(&w, res);
  res->seccomp = cab_seccomp_kind_name(cfg->seccomp.kind);
  res->namespaces = NS_FLAGS | CLONE_NEWCGROUP; /* the child's unshare, or it failed */
  res->proc_readonly = cfg->proc_readonly;
  res->stdio_relayed = stdio.relayed;
  res->stdio_nulled = stdio.nulled;
  res->output_append_only = cab_stdio_output_append_only(&stdio) ||
                            (cfg->capture.on_output && cfg->stdio_append_only);
  ret = 0;

out:
  cab_cgroup_join_close(&join);
  cab_stdio_free(&stdio);
  for (int i = 0; i < 2; i++) {
    if (w.tmpfs_fd[i] >= 0)
      close(w.tmpfs_fd[i]);
    if (cap_w[i] >= 0)
      close(cap_w[i]);
    if (w.cap_fd[i] >= 0)
      close(w.cap_fd[i]);
  }
  if (w.relay)
    cab_tty_relay_free(w.relay);
  if (w.pty_master >= 0)
    close(w.pty_master);
  cab_cgroup_destroy(cg);
  cab_host_fds_close(&fds, cfg->n_binds);
  if (sv[0] >= 0)
    close(sv[0]);
  if (sv[1] >= 0)
    close(sv[1]);
  if (sig_fd >= 0)
    close(sig_fd);
  if (masked) {
    /* Discard a SIGPIPE our relay raised since the last read of sig_fd. */
    sigset_t pipe_only;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    struct timespec now = {0, 0};
    if (!sigismember(&oldmask, SIGPIPE))
      while (sigtimedwait(&pipe_only, NULL, &now) == SIGPIPE)
        ;
    sigprocmask(SIG_SETMASK, &oldmask, NULL);
  }
  cab_seccomp_free(filter);
  return ret;
}
