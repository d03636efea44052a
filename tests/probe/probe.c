/* probe: runs INSIDE a cab sandbox and reports what the sandbox allows.
 *
 * In the spirit of bubblewrap's tests/try-syscall.c, but it prints one JSON
 * object so that the shell tests can check it with jq.  It is linked
 * statically so that it runs in any rootfs (busybox, host, empty).
 *
 *   probe [report] [--rootfs-path P] [--workdir-path D]
 *                           the full report (default)
 *   probe forkbomb SECONDS [--leave] [TAG]
 *                           fork as fast as possible for SECONDS; children
 *                           sleep.  Prints {"forks":N,"first_errno":...}.
 *                           Without --leave the children are killed before
 *                           exit; with it they are left asleep (1000 s) for
 *                           the sandbox to clean up.  Stops at 5000 forks so
 *                           that an uncontained run cannot take the host down.
 *   probe hog MIB [HOLD_SECONDS]
 *   probe shmfill memfd|sysv|PATH MIB HOLD_SECONDS
 *                           allocate and touch MIB MiB in 1 MiB chunks, then
 *                           hold them for HOLD_SECONDS (default 0)
 *   probe daemon [TAG]      double-fork + setsid a grandchild that sleeps
 *                           1000 s with stdio on /dev/null; the parent prints
 *                           the grandchild's pid and sleeps 1000 s itself
 *   probe exit N            exit with status N
 *   probe kill SIG          kill itself with SIG
 *   probe env               the environment as a JSON object
 *   probe write PATH        create PATH (O_CREAT|O_EXCL) and remove it again;
 *                           exit 0 if that worked, 1 if not
 *   probe listen PORT SECONDS
 *                           listen on 127.0.0.1:PORT (0: any), print the port,
 *                           accept connections for SECONDS
 *   probe connect PORT      connect to 127.0.0.1:PORT; exit 0 if it worked
 *   probe sleep SECONDS
 *   probe spin SECONDS      burn CPU for SECONDS of wall time; print the CPU
 *                           time used ({"wall_ms":..,"cpu_ms":..})
 *   probe http METHOD URL [BODY|@FILE] [--out FILE] [--header 'K: V']...
 *                           one HTTP/1.1 request (names resolved by DNS);
 *                           prints {"status","ttfb_ms","ms","bytes","body"}
 *   probe dns NAME [A|AAAA] query /etc/resolv.conf's nameserver; prints
 *                           {"rcode","answers":[...],"ms"}
 *   probe escape IP PORT MSG
 *                           try TCP, UDP, raw IP and AF_PACKET towards IP:PORT
 *                           (and TCP to 127.0.0.1 and the gateway at PORT)
 *   probe memgrep HEX       search every file, every process's environ,
 *                           cmdline and memory for the bytes HEX encodes
 *   probe udplisten PORT SECONDS
 *                           count the UDP datagrams arriving at PORT
 *
 * TAG arguments are ignored; they only mark the command line so that a test
 * can find leftover processes on the host with pgrep -f.
 *
 * A syscall result is "ok" or {"errno":N,"name":"EPERM"}; a test that killed
 * its process (seccomp SECCOMP_RET_KILL) is {"signal":N}.  Every syscall test
 * runs in a forked child, so that a successful unshare() or mount() does not
 * change what the later tests see. */

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/if_alg.h>
#include <linux/io_uring.h>
#include <linux/keyctl.h>
#include <linux/magic.h>
#include <linux/perf_event.h>
#include <linux/sched.h>
#include <linux/userfaultfd.h>
#include <linux/vm_sockets.h>
#include <linux/if_ether.h>
#include <net/if.h>
#include <netpacket/packet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#ifndef AF_ALG
#define AF_ALG 38
#endif

extern char **environ;

/* ---- JSON output ------------------------------------------------------- */

static int j_depth;
static bool j_need_comma[64];

static void
j_sep(void)
{
  if (j_need_comma[j_depth])
    putchar(',');
  j_need_comma[j_depth] = true;
}

static void
j_string_raw(const char *s)
{
  putchar('"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\')
      printf("\\%c", *p);
    else if (*p == '\n')
      fputs("\\n", stdout);
    else if (*p == '\t')
      fputs("\\t", stdout);
    else if (*p < 0x20 || *p >= 0x7f)
      printf("\\u%04x", *p);
    else
      putchar(*p);
  }
  putchar('"');
}

/* Start a member (KEY non-NULL, inside an object) or an element (KEY NULL). */
static void
j_key(const char *key)
{
  j_sep();
  if (key) {
    j_string_raw(key);
    putchar(':');
  }
}

static void
j_open(const char *key, char bracket)
{
  j_key(key);
  putchar(bracket);
  j_need_comma[++j_depth] = false;
}

static void
j_close(char bracket)
{
  putchar(bracket);
  j_depth--;
}

#define j_obj(key) j_open((key), '{')
#define j_end_obj() j_close('}')
#define j_arr(key) j_open((key), '[')
#define j_end_arr() j_close(']')

static void
j_str(const char *key, const char *value)
{
  j_key(key);
  if (value)
    j_string_raw(value);
  else
    fputs("null", stdout);
}

static void
j_int(const char *key, long long value)
{
  j_key(key);
  printf("%lld", value);
}

static void
j_bool(const char *key, bool value)
{
  j_key(key);
  fputs(value ? "true" : "false", stdout);
}

static void
j_null(const char *key)
{
  j_key(key);
  fputs("null", stdout);
}

static void
j_errno(const char *key, int e)
{
  const char *name = strerrorname_np(e);

  j_obj(key);
  j_int("errno", e);
  j_str("name", name ? name : "?");
  j_end_obj();
}

/* "ok" for 0, {"errno":..} for a positive errno. */
static void
j_result(const char *key, int e)
{
  if (e == 0)
    j_str(key, "ok");
  else
    j_errno(key, e);
}

static void
j_done(void)
{
  putchar('\n');
  fflush(stdout);
}

/* ---- small helpers ----------------------------------------------------- */

static void
die(const char *fmt, ...)
{
  va_list ap;

  fputs("probe: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  exit(2);
}

static long long
parse_num(const char *s, const char *what)
{
  char *end;
  long long v;

  errno = 0;
  v = strtoll(s, &end, 10);
  if (errno || end == s || *end)
    die("bad %s: '%s'", what, s);
  return v;
}

static int64_t
now_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read up to SIZE-1 bytes of PATH; returns bytes read or -errno. */
static ssize_t
read_file(const char *path, char *buf, size_t size)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  ssize_t n, total = 0;

  if (fd < 0)
    return -errno;
  while ((size_t)total < size - 1) {
    n = read(fd, buf + total, size - 1 - total);
    if (n < 0) {
      int e = errno;
      close(fd);
      return -e;
    }
    if (n == 0)
      break;
    total += n;
  }
  buf[total] = '\0';
  close(fd);
  return total;
}

static void
chomp(char *s)
{
  size_t n = strlen(s);

  while (n > 0 && isspace((unsigned char)s[n - 1]))
    s[--n] = '\0';
}

/* The value of "FIELD:" in /proc/self/status, whitespace-trimmed, or NULL. */
static const char *
status_field(const char *field)
{
  static char buf[8192];
  static char value[256];
  static bool loaded;
  size_t flen = strlen(field);

  if (!loaded) {
    if (read_file("/proc/self/status", buf, sizeof buf) < 0)
      return NULL;
    loaded = true;
  }
  for (char *line = buf; line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
    if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
      const char *p = line + flen + 1;
      size_t n = 0;

      while (*p == ' ' || *p == '\t')
        p++;
      while (p[n] && p[n] != '\n' && n < sizeof value - 1)
        n++;
      memcpy(value, p, n);
      value[n] = '\0';
      return value;
    }
  }
  return NULL;
}

static void
j_status_int(const char *key, const char *field)
{
  const char *v = status_field(field);

  if (v)
    j_int(key, strtoll(v, NULL, 10));
  else
    j_null(key);
}

/* ---- syscall tests ----------------------------------------------------- */

/* Each returns 0 if the operation worked, or an errno. */
typedef int (*probe_fn)(void);

/* Run FN in a forked child and emit its outcome under KEY. */
static void
j_try(const char *key, probe_fn fn)
{
  int status;
  pid_t pid;

  fflush(stdout);
  pid = fork();
  if (pid < 0) {
    j_obj(key);
    j_str("error", "fork failed");
    j_int("errno", errno);
    j_end_obj();
    return;
  }
  if (pid == 0)
    _exit(fn() & 0xff);
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (WIFEXITED(status)) {
    j_result(key, WEXITSTATUS(status));
  } else {
    j_obj(key);
    j_int("signal", WIFSIGNALED(status) ? WTERMSIG(status) : -1);
    j_end_obj();
  }
}

static int
ret_errno(long r)
{
  return r < 0 ? (errno ? errno : EIO) : 0;
}

static int
try_keyctl(void)
{
  return ret_errno(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_USER_KEYRING, 0));
}

static int
try_add_key(void)
{
  return ret_errno(syscall(SYS_add_key, "user", "cab-probe", "x", 1, KEY_SPEC_PROCESS_KEYRING));
}

static int
try_bpf(void)
{
  union bpf_attr attr;
  long fd;

  memset(&attr, 0, sizeof attr);
  attr.map_type = BPF_MAP_TYPE_ARRAY;
  attr.key_size = 4;
  attr.value_size = 4;
  attr.max_entries = 1;
  fd = syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof attr);
  return ret_errno(fd);
}

static int
try_unshare_newuser(void)
{
  return ret_errno(unshare(CLONE_NEWUSER));
}

static int
try_unshare_newns(void)
{
  return ret_errno(unshare(CLONE_NEWNS));
}

static int
try_unshare_newnet(void)
{
  return ret_errno(unshare(CLONE_NEWNET));
}

static int
try_clone_newuser(void)
{
  /* Raw clone(2) with namespace flags: fork-like, no new stack needed. */
  long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, 0);

  if (pid == 0)
    _exit(0);
  if (pid < 0)
    return errno;
  waitpid(pid, NULL, 0);
  return 0;
}

static int
try_clone3(void)
{
  struct clone_args args;
  long pid;

  memset(&args, 0, sizeof args);
  args.exit_signal = SIGCHLD;
  pid = syscall(SYS_clone3, &args, sizeof args);
  if (pid == 0)
    _exit(0);
  if (pid < 0)
    return errno;
  waitpid(pid, NULL, 0);
  return 0;
}

static int
try_mount_tmpfs(void)
{
  char dir[] = "/tmp/probe-mnt-XXXXXX";
  const char *target = mkdtemp(dir) ? dir : "/tmp";
  int e = 0;

  if (mount("probe", target, "tmpfs", 0, "size=64k") < 0)
    e = errno;
  else
    umount2(target, MNT_DETACH);
  if (target == dir)
    rmdir(dir);
  return e;
}

static int
try_mount_proc(void)
{
  char dir[] = "/tmp/probe-proc-XXXXXX";
  int e = 0;

  if (!mkdtemp(dir))
    return errno;
  if (mount("proc", dir, "proc", 0, NULL) < 0)
    e = errno;
  else
    umount2(dir, MNT_DETACH);
  rmdir(dir);
  return e;
}

static int
try_perf_event_open(void)
{
  struct perf_event_attr attr;
  long fd;

  memset(&attr, 0, sizeof attr);
  attr.type = PERF_TYPE_SOFTWARE;
  attr.size = sizeof attr;
  attr.config = PERF_COUNT_SW_CPU_CLOCK;
  attr.disabled = 1;
  attr.exclude_kernel = 1;
  attr.exclude_hv = 1;
  fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
  return ret_errno(fd);
}

static int
try_io_uring_setup(void)
{
  struct io_uring_params params;

  memset(&params, 0, sizeof params);
  return ret_errno(syscall(SYS_io_uring_setup, 1, &params));
}

static int
try_userfaultfd(void)
{
  return ret_errno(syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY));
}

static int
try_socket_alg(void)
{
  return ret_errno(socket(AF_ALG, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
}

static int
try_socket_vsock(void)
{
  return ret_errno(socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0));
}

static int
try_socket_packet(void)
{
  return ret_errno(socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(0x0003 /* ETH_P_ALL */)));
}

static int
try_socket_inet(void)
{
  return ret_errno(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
}

static int
try_socket_netlink(void)
{
  return ret_errno(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0 /* NETLINK_ROUTE */));
}

static int
try_ptrace_child(void)
{
  pid_t child = fork();
  int e = 0, status;

  if (child < 0)
    return errno;
  if (child == 0) {
    pause();
    _exit(0);
  }
  if (ptrace(PTRACE_ATTACH, child, NULL, NULL) < 0) {
    e = errno;
  } else {
    waitpid(child, &status, __WALL);
    ptrace(PTRACE_DETACH, child, NULL, NULL);
  }
  kill(child, SIGKILL);
  waitpid(child, NULL, __WALL);
  return e;
}

static int
try_chroot(void)
{
  return ret_errno(chroot("/"));
}

static int
try_setns(void)
{
  int fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);

  if (fd < 0)
    return errno;
  return ret_errno(setns(fd, CLONE_NEWNET));
}

static int
try_sethostname(void)
{
  char name[256];

  if (gethostname(name, sizeof name) < 0)
    return errno;
  return ret_errno(sethostname(name, strlen(name)));
}

static int
try_setuid0(void)
{
  return ret_errno(setuid(0));
}

static int
try_mknod(void)
{
  char path[] = "/tmp/probe-mknod-XXXXXX";
  int e;

  if (!mkdtemp(path))
    return errno;
  rmdir(path);
  e = ret_errno(mknod(path, S_IFCHR | 0600, makedev(1, 3)));
  unlink(path);
  return e;
}

/* ---- filesystem checks ------------------------------------------------- */

/* Create PATH exclusively and remove it again: 0 or errno. */
static int
create_remove(const char *path)
{
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

  if (fd < 0)
    return errno;
  if (write(fd, "probe\n", 6) != 6) {
    int e = errno;
    close(fd);
    unlink(path);
    return e ? e : EIO;
  }
  close(fd);
  if (unlink(path) < 0)
    return errno;
  return 0;
}

static int
create_remove_in(const char *dir)
{
  char path[4096];

  snprintf(path, sizeof path, "%s/.probe-write-%d", dir, (int)getpid());
  return create_remove(path);
}

/* Describe PATH as "chr 1:3", "blk 8:0", "dir", "reg", "link:TARGET",
 * "fifo", "sock" or "absent" (lstat, no following). */
static void
j_file_type(const char *key, const char *path)
{
  struct stat st;
  char buf[4200];

  if (lstat(path, &st) < 0) {
    j_str(key, errno == ENOENT ? "absent" : strerrorname_np(errno));
    return;
  }
  switch (st.st_mode & S_IFMT) {
  case S_IFCHR:
  case S_IFBLK:
    snprintf(buf, sizeof buf, "%s %u:%u", S_ISCHR(st.st_mode) ? "chr" : "blk",
             major(st.st_rdev), minor(st.st_rdev));
    break;
  case S_IFDIR:
    snprintf(buf, sizeof buf, "dir");
    break;
  case S_IFLNK: {
    char target[4096];
    ssize_t n = readlink(path, target, sizeof target - 1);

    target[n < 0 ? 0 : n] = '\0';
    snprintf(buf, sizeof buf, "link:%s", target);
    break;
  }
  case S_IFIFO:
    snprintf(buf, sizeof buf, "fifo");
    break;
  case S_IFSOCK:
    snprintf(buf, sizeof buf, "sock");
    break;
  default:
    snprintf(buf, sizeof buf, "reg");
  }
  j_str(key, buf);
}

/* Open PATH with FLAGS and close it again: 0 or errno. */
static int
open_close(const char *path, int flags)
{
  int fd = open(path, flags | O_CLOEXEC);

  if (fd < 0)
    return errno;
  close(fd);
  return 0;
}

static int
count_dir_entries(const char *path)
{
  DIR *d = opendir(path);
  struct dirent *de;
  int n = 0;

  if (!d)
    return -errno;
  while ((de = readdir(d)))
    if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
      n++;
  closedir(d);
  return n;
}

/* A path that a runtime masks: "masked" is true when it is absent, a bind of
 * /dev/null, or an empty directory that is not procfs (a read-only tmpfs). */
static void
j_masked_path(const char *path, dev_t proc_dev)
{
  struct stat st;
  bool masked = false;

  j_obj(path);
  if (stat(path, &st) < 0) {
    masked = errno == ENOENT;
    j_str("type", errno == ENOENT ? "absent" : strerrorname_np(errno));
  } else if (S_ISCHR(st.st_mode)) {
    masked = major(st.st_rdev) == 1 && minor(st.st_rdev) == 3;
    j_file_type("type", path);
  } else if (S_ISDIR(st.st_mode)) {
    int n = count_dir_entries(path);

    masked = st.st_dev != proc_dev && n == 0;
    j_str("type", "dir");
    j_int("entries", n);
  } else {
    char buf[512];
    ssize_t r = read_file(path, buf, sizeof buf);

    j_str("type", "reg");
    if (r < 0)
      j_errno("read", (int)-r);
    else
      j_int("read", r);
  }
  j_bool("on_procfs", st.st_dev == proc_dev);
  j_bool("masked", masked);
  j_end_obj();
}

/* ---- network ----------------------------------------------------------- */

static int
tcp_connect(uint16_t port)
{
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), e = 0;

  if (fd < 0)
    return errno;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
    e = errno;
  close(fd);
  return e;
}

/* Listen on 127.0.0.1:PORT; returns the fd and sets *BOUND, or -errno. */
static int
tcp_listen(uint16_t port, uint16_t *bound)
{
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
  socklen_t len = sizeof sa;
  int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  if (fd < 0)
    return -errno;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 16) < 0 ||
      getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  *bound = ntohs(sa.sin_port);
  return fd;
}

/* Loopback inside the sandbox's own namespace: listen and connect to self. */
static int
loopback_selftest(void)
{
  uint16_t port;
  int lfd = tcp_listen(0, &port), e;

  if (lfd < 0)
    return -lfd;
  e = tcp_connect(port);
  close(lfd);
  return e;
}

static void
j_interfaces(void)
{
  struct if_nameindex *ifs = if_nameindex();
  DIR *d;

  j_arr("interfaces");
  if (ifs) {
    for (struct if_nameindex *i = ifs; i->if_index; i++)
      j_str(NULL, i->if_name);
    if_freenameindex(ifs);
  }
  j_end_arr();
  if (!ifs)
    j_errno("interfaces_error", errno);

  /* What /sys says, if there is a /sys: a host sysfs here would leak the
   * host's interfaces. */
  d = opendir("/sys/class/net");
  if (!d) {
    j_null("sys_class_net");
  } else {
    struct dirent *de;

    j_arr("sys_class_net");
    while ((de = readdir(d)))
      if (de->d_name[0] != '.')
        j_str(NULL, de->d_name);
    j_end_arr();
    closedir(d);
  }

  {
    struct ifreq ifr;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "lo");
    if (fd >= 0 && ioctl(fd, SIOCGIFFLAGS, &ifr) == 0)
      j_bool("lo_up", (ifr.ifr_flags & IFF_UP) != 0);
    else
      j_null("lo_up");
    if (fd >= 0)
      close(fd);
  }
  j_result("loopback_connect", loopback_selftest());
}

/* ---- report ------------------------------------------------------------ */

static void
j_pids(void)
{
  DIR *d = opendir("/proc");
  struct dirent *de;
  long max = 0;
  char comm[64];

  j_arr("visible_pids");
  if (d) {
    while ((de = readdir(d))) {
      char *end;
      long v = strtol(de->d_name, &end, 10);

      if (*end || end == de->d_name)
        continue;
      j_int(NULL, v);
      if (v > max)
        max = v;
    }
    closedir(d);
  }
  j_end_arr();
  j_int("max_pid_seen", max);
  if (read_file("/proc/1/comm", comm, sizeof comm) >= 0) {
    chomp(comm);
    j_str("pid1_comm", comm);
  } else {
    j_null("pid1_comm");
  }
}

static void
j_rlimit(const char *key, int resource)
{
  struct rlimit rl;

  if (getrlimit(resource, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
    j_null(key);
  else
    j_int(key, (long long)rl.rlim_cur);
}

static void
j_text_file(const char *key, const char *path)
{
  char buf[4096];

  if (read_file(path, buf, sizeof buf) < 0) {
    j_null(key);
    return;
  }
  chomp(buf);
  j_str(key, buf);
}

static void
j_lines_file(const char *key, const char *path)
{
  char buf[8192], *save = NULL;

  if (read_file(path, buf, sizeof buf) < 0) {
    j_null(key);
    return;
  }
  j_arr(key);
  for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
    j_str(NULL, line);
  j_end_arr();
}

static bool
file_contains(const char *path, const char *needle)
{
  char buf[8192];

  return read_file(path, buf, sizeof buf) >= 0 && strstr(buf, needle);
}

static void
j_statvfs_ro(const char *key, const char *path)
{
  struct statvfs sv;

  if (statvfs(path, &sv) < 0)
    j_null(key);
  else
    j_bool(key, (sv.f_flag & ST_RDONLY) != 0);
}

static void
j_dev(void)
{
  static const char *const expected[] = {
    "null", "zero", "full", "random", "urandom", "tty", "ptmx", "pts", "shm",
    "fd", "stdin", "stdout", "stderr", "console", "core", "mqueue", NULL,
  };
  DIR *d;
  struct dirent *de;

  j_obj("dev");
  for (int i = 0; expected[i]; i++) {
    char path[64];

    snprintf(path, sizeof path, "/dev/%s", expected[i]);
    j_file_type(expected[i], path);
  }
  j_end_obj();

  /* Anything else in /dev: host devices must not leak in. */
  j_arr("dev_other");
  d = opendir("/dev");
  if (d) {
    while ((de = readdir(d))) {
      bool known = false;

      for (int i = 0; expected[i]; i++)
        known |= strcmp(de->d_name, expected[i]) == 0;
      if (!known && strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
        j_str(NULL, de->d_name);
    }
    closedir(d);
  }
  j_end_arr();

  {
    char buf[16];
    int fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
    bool zero_ok = fd >= 0 && read(fd, buf, sizeof buf) == (ssize_t)sizeof buf &&
                   buf[0] == 0 && buf[15] == 0;
    int wfd = open("/dev/null", O_WRONLY | O_CLOEXEC);

    if (fd >= 0)
      close(fd);
    j_bool("dev_zero_reads_zero", zero_ok);
    j_bool("dev_null_writable", wfd >= 0 && write(wfd, "x", 1) == 1);
    if (wfd >= 0)
      close(wfd);
  }
  j_result("dev_ptmx_open", open_close("/dev/ptmx", O_RDWR | O_NOCTTY));
}

static void
j_proc(void)
{
  static const char *const masked[] = {
    "/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug",
    "/proc/acpi", "/proc/scsi", "/proc/latency_stats", "/proc/timer_stats",
    "/proc/asound", "/sys/firmware", NULL,
  };
  static const char *const readonly[] = {
    "/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs", NULL,
  };
  struct stat proc_st;
  struct statfs sfs;
  char buf[1];
  ssize_t n;
  int fd;

  if (stat("/proc/self", &proc_st) < 0)
    proc_st.st_dev = (dev_t)-1;
  j_bool("proc_is_procfs", statfs("/proc", &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC);

  /* /proc/kcore: masked means a /dev/null bind (or gone).  "read_bytes" is
   * what a read returns; the real file needs CAP_SYS_RAWIO to open at all. */
  j_obj("proc_kcore");
  j_file_type("type", "/proc/kcore");
  fd = open("/proc/kcore", O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    j_errno("open", errno);
  } else {
    n = read(fd, buf, sizeof buf);
    if (n < 0)
      j_errno("read", errno);
    else
      j_int("read_bytes", n);
    close(fd);
  }
  {
    struct stat st;
    bool m = stat("/proc/kcore", &st) < 0 ? errno == ENOENT
             : S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == 3;
    j_bool("masked", m);
  }
  j_end_obj();

  j_obj("masked_paths");
  for (int i = 0; masked[i]; i++)
    j_masked_path(masked[i], proc_st.st_dev);
  j_end_obj();

  j_obj("readonly_paths");
  for (int i = 0; readonly[i]; i++)
    j_statvfs_ro(readonly[i], readonly[i]);
  j_end_obj();

  /* Opening for writing does not write anything. */
  j_result("proc_sys_writable", open_close("/proc/sys/kernel/hostname", O_WRONLY));
  j_result("proc_sysrq_writable", open_close("/proc/sysrq-trigger", O_WRONLY));
}

static void
j_syscalls(void)
{
  static const struct {
    const char *name;
    probe_fn fn;
  } tests[] = {
    { "keyctl", try_keyctl },
    { "add_key", try_add_key },
    { "bpf", try_bpf },
    { "unshare_newuser", try_unshare_newuser },
    { "unshare_newns", try_unshare_newns },
    { "unshare_newnet", try_unshare_newnet },
    { "clone_newuser", try_clone_newuser },
    { "clone3", try_clone3 },
    { "mount_tmpfs", try_mount_tmpfs },
    { "mount_proc", try_mount_proc },
    { "perf_event_open", try_perf_event_open },
    { "io_uring_setup", try_io_uring_setup },
    { "userfaultfd", try_userfaultfd },
    { "socket_alg", try_socket_alg },
    { "socket_vsock", try_socket_vsock },
    { "socket_packet", try_socket_packet },
    { "socket_inet", try_socket_inet },
    { "socket_netlink", try_socket_netlink },
    { "ptrace_attach_child", try_ptrace_child },
    { "chroot", try_chroot },
    { "setns", try_setns },
    { "sethostname", try_sethostname },
    { "setuid0", try_setuid0 },
    { "mknod", try_mknod },
  };

  j_obj("syscalls");
  for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
    j_try(tests[i].name, tests[i].fn);
  j_end_obj();
}

static int
cmd_report(int argc, char **argv)
{
  const char *rootfs_path = "/probe-write-test";
  const char *workdir_path = NULL;
  char host[256], cwd[4096];
  struct statfs sfs;

  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--rootfs-path") == 0 && i + 1 < argc)
      rootfs_path = argv[++i];
    else if (strcmp(argv[i], "--workdir-path") == 0 && i + 1 < argc)
      workdir_path = argv[++i];
    else
      die("report: unknown argument '%s'", argv[i]);
  }

  j_obj(NULL);
  j_int("pid", getpid());
  j_int("ppid", getppid());
  j_str("nspid", status_field("NSpid"));
  j_pids();

  j_int("uid", getuid());
  j_int("gid", getgid());
  j_int("euid", geteuid());
  j_int("egid", getegid());
  j_text_file("uid_map", "/proc/self/uid_map");
  j_text_file("gid_map", "/proc/self/gid_map");
  if (gethostname(host, sizeof host) == 0)
    j_str("hostname", host);
  else
    j_null("hostname");

  j_str("cap_eff", status_field("CapEff"));
  j_str("cap_prm", status_field("CapPrm"));
  j_str("cap_inh", status_field("CapInh"));
  j_str("cap_bnd", status_field("CapBnd"));
  j_str("cap_amb", status_field("CapAmb"));
  j_status_int("no_new_privs", "NoNewPrivs");
  j_int("no_new_privs_prctl", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
  j_status_int("seccomp", "Seccomp");
  j_status_int("seccomp_filters", "Seccomp_filters");
  j_lines_file("cgroup", "/proc/self/cgroup");

  j_interfaces();
  j_syscalls();
  j_proc();
  j_dev();

  j_result("rootfs_write", create_remove(rootfs_path));
  j_str("rootfs_write_path", rootfs_path);
  j_statvfs_ro("rootfs_readonly", "/");
  if (getcwd(cwd, sizeof cwd))
    j_str("cwd", cwd);
  else
    j_null("cwd");
  if (workdir_path) {
    j_result("workdir_write", create_remove_in(workdir_path));
    j_str("workdir_path", workdir_path);
  } else {
    j_null("workdir_write");
  }
  j_result("tmp_writable", create_remove_in("/tmp"));
  if (statfs("/tmp", &sfs) == 0) {
    j_bool("tmp_is_tmpfs", sfs.f_type == TMPFS_MAGIC);
    j_int("tmp_size_bytes", (long long)sfs.f_blocks * sfs.f_bsize);
  } else {
    j_null("tmp_is_tmpfs");
    j_null("tmp_size_bytes");
  }

  j_text_file("etc_hostname", "/etc/hostname");
  j_bool("etc_hosts_localhost", file_contains("/etc/hosts", "127.0.0.1"));
  j_bool("etc_resolv_conf", access("/etc/resolv.conf", F_OK) == 0);

  j_rlimit("rlimit_nproc", RLIMIT_NPROC);
  j_rlimit("rlimit_as", RLIMIT_AS);
  j_rlimit("rlimit_nofile", RLIMIT_NOFILE);
  j_bool("stdin_tty", isatty(0));
  j_bool("stdout_tty", isatty(1));

  j_arr("env");
  for (char **e = environ; *e; e++) {
    const char *eq = strchr(*e, '=');
    char name[256];
    size_t n = eq ? (size_t)(eq - *e) : strlen(*e);

    if (n >= sizeof name)
      n = sizeof name - 1;
    memcpy(name, *e, n);
    name[n] = '\0';
    j_str(NULL, name);
  }
  j_end_arr();
  j_end_obj();
  j_done();
  return 0;
}

/* ---- limit tests ------------------------------------------------------- */

static void
sleep_s(unsigned s)
{
  struct timespec ts = { .tv_sec = s };

  while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
    ;
}

static int
cmd_forkbomb(int argc, char **argv)
{
  enum { CAP = 5000 };
  static pid_t kids[CAP];
  long long seconds;
  bool leave = false;
  int forks = 0, failures = 0, first_errno = 0;
  int64_t start, end;

  if (argc < 1)
    die("usage: probe forkbomb SECONDS [--leave] [TAG]");
  seconds = parse_num(argv[0], "seconds");
  for (int i = 1; i < argc; i++)
    leave |= strcmp(argv[i], "--leave") == 0;

  fflush(stdout);
  start = now_ms();
  end = start + seconds * 1000;
  while (now_ms() < end && forks < CAP) {
    pid_t pid = fork();

    if (pid == 0) {
      /* Sleep past the parent, then go (if the sandbox did not kill us). */
      sleep_s(leave ? 1000 : (unsigned)seconds + 30);
      _exit(0);
    }
    if (pid < 0) {
      if (!first_errno)
        first_errno = errno;
      failures++;
      continue;
    }
    kids[forks++] = pid;
  }

  j_obj(NULL);
  j_int("forks", forks);
  j_int("failures", failures);
  if (first_errno)
    j_errno("first_errno", first_errno);
  else
    j_null("first_errno");
  j_bool("capped_by_probe", forks >= CAP);
  j_int("elapsed_ms", now_ms() - start);
  j_bool("children_left", leave);
  j_end_obj();
  j_done();

  if (!leave) {
    for (int i = 0; i < forks; i++)
      kill(kids[i], SIGKILL);
    for (int i = 0; i < forks; i++)
      waitpid(kids[i], NULL, 0);
  }
  return 0;
}

static int
cmd_hog(int argc, char **argv)
{
  long page = sysconf(_SC_PAGESIZE);
  long long mib, hold = 0, done = 0;

  if (argc < 1)
    die("usage: probe hog MIB [HOLD_SECONDS]");
  mib = parse_num(argv[0], "MiB");
  if (argc > 1)
    hold = parse_num(argv[1], "seconds");

  for (done = 0; done < mib; done++) {
    /* Never freed: the point is to keep it resident. */
    char *chunk = malloc(1 << 20);

    if (!chunk) {
      fprintf(stderr, "probe hog: malloc failed after %lld MiB: %s\n", done, strerror(errno));
      printf("{\"allocated_mib\":%lld,\"error\":\"malloc\"}\n", done);
      return 3;
    }
    for (long off = 0; off < (1 << 20); off += page)
      chunk[off] = (char)(off | 1);
    if ((done + 1) % 16 == 0)
      fprintf(stderr, "probe hog: %lld MiB\n", done + 1);
  }
  printf("{\"allocated_mib\":%lld}\n", done);
  fflush(stdout);
  if (hold > 0)
    sleep_s((unsigned)hold);
  return 0;
}

/* probe shmfill memfd|sysv|PATH MIB HOLD_SECONDS: write MIB MiB into a memfd
 * held only by its fd (never mapped: in no process's RSS), into detached
 * SysV segments of 1 MiB, or into the file PATH
 * (on a tmpfs, closed: in no process at all), then hold for HOLD_SECONDS and
 * exit, so the generator is bounded whatever the sandbox does.  A write
 * error (ENOSPC on a full tmpfs) ends the filling, not the hold.  Prints
 * {"written_mib":N,"errno":E}. */
static int
shmfill_done(long long done, int werr, long long hold)
{
  printf("{\"written_mib\":%lld,\"errno\":%d}\n", done, werr);
  fflush(stdout);
  if (hold > 0)
    sleep_s((unsigned)hold);
  return 0;
}

static int
cmd_shmfill(int argc, char **argv)
{
  static char chunk[1 << 20];
  long long mib, hold, done = 0;
  int fd, werr = 0;

  if (argc < 3)
    die("usage: probe shmfill memfd|sysv|PATH MIB HOLD_SECONDS");
  mib = parse_num(argv[1], "MiB");
  hold = parse_num(argv[2], "seconds");
  if (strcmp(argv[0], "sysv") == 0) {
    /* 1 MiB SysV segments, written and detached: they stay, mapped by no
     * one, until the IPC namespace goes. */
    for (done = 0; done < mib; done++) {
      int id = shmget(IPC_PRIVATE, 1 << 20, IPC_CREAT | 0600);
      char *p = id >= 0 ? shmat(id, NULL, 0) : (char *)-1;
      if (p == (char *)-1) {
        werr = errno;
        break;
      }
      memset(p, 'x', 1 << 20);
      shmdt(p);
    }
    return shmfill_done(done, werr, hold);
  }
  if (strcmp(argv[0], "memfd") == 0)
    fd = (int)syscall(SYS_memfd_create, "probe-shmfill", 0);
  else
    fd = open(argv[0], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    die("shmfill: open %s: %s", argv[0], strerror(errno));
  memset(chunk, 'x', sizeof chunk);
  for (done = 0; done < mib; done++) {
    size_t off = 0;
    while (off < sizeof chunk) {
      ssize_t n = write(fd, chunk + off, sizeof chunk - off);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0) {
        werr = errno;
        break;
      }
      off += (size_t)n;
    }
    if (werr)
      break;
    if ((done + 1) % 64 == 0)
      fprintf(stderr, "probe shmfill: %lld MiB\n", done + 1);
  }
  if (strcmp(argv[0], "memfd") != 0)
    close(fd);
  return shmfill_done(done, werr, hold);
}

static int
cmd_daemon(void)
{
  int pfd[2];
  pid_t child, grandchild = -1;

  if (pipe(pfd) < 0)
    die("pipe: %s", strerror(errno));
  fflush(stdout);
  child = fork();
  if (child < 0)
    die("fork: %s", strerror(errno));
  if (child == 0) {
    close(pfd[0]);
    if (setsid() < 0)
      _exit(1);
    grandchild = fork();
    if (grandchild < 0)
      _exit(1);
    if (grandchild == 0) {
      int null = open("/dev/null", O_RDWR | O_CLOEXEC);

      close(pfd[1]);
      if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
      } else {
        close(0);
        close(1);
        close(2);
      }
      if (chdir("/") < 0)
        _exit(1);
      sleep_s(1000);
      _exit(0);
    }
    if (write(pfd[1], &grandchild, sizeof grandchild) != sizeof grandchild)
      _exit(1);
    _exit(0);
  }
  close(pfd[1]);
  if (read(pfd[0], &grandchild, sizeof grandchild) != sizeof grandchild)
    die("daemon: no grandchild pid");
  close(pfd[0]);
  waitpid(child, NULL, 0);
  printf("{\"daemon_pid\":%d,\"parent_pid\":%d}\n", (int)grandchild, (int)getpid());
  fflush(stdout);
  sleep_s(1000);
  return 0;
}

static int
cmd_env(void)
{
  j_obj(NULL);
  for (char **e = environ; *e; e++) {
    const char *eq = strchr(*e, '=');
    char name[256];
    size_t n = eq ? (size_t)(eq - *e) : strlen(*e);

    if (n >= sizeof name)
      n = sizeof name - 1;
    memcpy(name, *e, n);
    name[n] = '\0';
    j_str(name, eq ? eq + 1 : "");
  }
  j_end_obj();
  j_done();
  return 0;
}

static int
cmd_listen(int argc, char **argv)
{
  uint16_t port;
  int64_t end;
  int fd;

  if (argc < 2)
    die("usage: probe listen PORT SECONDS");
  fd = tcp_listen((uint16_t)parse_num(argv[0], "port"), &port);
  if (fd < 0)
    die("listen: %s", strerror(-fd));
  printf("%u\n", port);
  fflush(stdout);
  end = now_ms() + parse_num(argv[1], "seconds") * 1000;
  for (int64_t left; (left = end - now_ms()) > 0;) {
    struct pollfd p = { .fd = fd, .events = POLLIN };

    if (poll(&p, 1, (int)left) > 0) {
      int c = accept(fd, NULL, NULL);

      if (c >= 0)
        close(c);
    }
  }
  close(fd);
  return 0;
}

static int
cmd_spin(long long seconds)
{
  int64_t start = now_ms(), end = start + seconds * 1000;
  volatile unsigned long x = 0;
  struct rusage ru;

  while (now_ms() < end)
    for (int i = 0; i < 100000; i++)
      x += i;
  getrusage(RUSAGE_SELF, &ru);
  printf("{\"wall_ms\":%lld,\"cpu_ms\":%lld}\n", (long long)(now_ms() - start),
         (long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
             (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000);
  return 0;
}

/* ---- model network (cab exec --net model) ------------------------------ */

/* A name's IPv4 address: a literal, or an A query to the first nameserver
 * of /etc/resolv.conf (static binaries have no NSS).  Returns 0, -1 when
 * the name does not resolve (*RCODE set), or an errno. */
static int
dns_query(const char *name, int qtype, int *rcode, struct in_addr *addrs, int *n_addrs,
          int64_t *ms)
{
  char conf[4096], ns[64] = "";
  unsigned char q[512], r[1500];
  size_t qlen = 12;
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(53) };
  struct timeval tv = { .tv_sec = 2 };
  int64_t t0 = now_ms();
  ssize_t n;
  int fd, max = *n_addrs;

  *n_addrs = 0;
  *rcode = -1;
  if (read_file("/etc/resolv.conf", conf, sizeof conf) < 0)
    return ENOENT;
  for (char *line = strtok(conf, "\n"); line; line = strtok(NULL, "\n"))
    if (sscanf(line, "nameserver %63s", ns) == 1)
      break;
  if (!ns[0] || inet_pton(AF_INET, ns, &sa.sin_addr) != 1)
    return ENOENT;
  memset(q, 0, sizeof q);
  q[0] = 0x4a;
  q[1] = 0x11;
  q[2] = 0x01; /* RD */
  q[5] = 1;
  for (const char *p = name; *p;) {
    size_t l = strcspn(p, ".");

    if (l == 0 || l > 63 || qlen + l + 6 > sizeof q)
      return EINVAL;
    q[qlen++] = (unsigned char)l;
    memcpy(q + qlen, p, l);
    qlen += l;
    p += l;
    if (*p == '.')
      p++;
  }
  q[qlen++] = 0;
  q[qlen++] = 0;
  q[qlen++] = (unsigned char)qtype;
  q[qlen++] = 0;
  q[qlen++] = 1;
  fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return errno;
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (sendto(fd, q, qlen, 0, (struct sockaddr *)&sa, sizeof sa) < 0 ||
      (n = recv(fd, r, sizeof r, 0)) < 0) {
    int e = errno;

    close(fd);
    return e;
  }
  close(fd);
  *ms = now_ms() - t0;
  if (n < 12 || r[0] != 0x4a || r[1] != 0x11)
    return EBADMSG;
  *rcode = r[3] & 0x0f;
  /* Skip the echoed question, then read the answers. */
  size_t pos = 12, an = (size_t)(r[6] << 8 | r[7]);

  while (pos < (size_t)n && r[pos] != 0)
    pos += (r[pos] & 0xc0) ? 2 : (size_t)r[pos] + 1;
  pos += (pos < (size_t)n && r[pos] == 0) ? 5 : 4;
  for (size_t i = 0; i < an && pos + 12 <= (size_t)n; i++) {
    unsigned type, rdlen;

    if (r[pos] & 0xc0)
      pos += 2;
    else {
      while (pos < (size_t)n && r[pos] != 0)
        pos += (size_t)r[pos] + 1;
      pos++;
    }
    if (pos + 10 > (size_t)n)
      break;
    type = (unsigned)(r[pos] << 8 | r[pos + 1]);
    rdlen = (unsigned)(r[pos + 8] << 8 | r[pos + 9]);
    pos += 10;
    if (pos + rdlen > (size_t)n)
      break;
    if (type == 1 && rdlen == 4 && *n_addrs < max)
      memcpy(&addrs[(*n_addrs)++], r + pos, 4);
    pos += rdlen;
  }
  return *rcode == 0 && (qtype != 1 || *n_addrs > 0) ? 0 : -1;
}

static int
cmd_dns(int argc, char **argv)
{
  struct in_addr addrs[8];
  int n = 8, rcode, e;
  int64_t ms = -1, t0 = now_ms();
  int qtype = argc > 1 && strcmp(argv[1], "AAAA") == 0 ? 28 : 1;

  if (argc < 1)
    die("usage: probe dns NAME [A|AAAA]");
  e = dns_query(argv[0], qtype, &rcode, addrs, &n, &ms);
  j_obj(NULL);
  j_str("name", argv[0]);
  if (e > 0)
    j_errno("error", e);
  j_int("rcode", rcode);
  j_arr("answers");
  for (int i = 0; i < n; i++)
    j_str(NULL, inet_ntoa(addrs[i]));
  j_end_arr();
  j_int("ms", ms >= 0 ? ms : now_ms() - t0);
  j_end_obj();
  j_done();
  return e == 0 ? 0 : 1;
}

/* probe http METHOD URL [BODY|@FILE] [--out FILE] [--header "K: V"]...
 * HTTP/1.1 with Connection: close and chunked decoding.  Prints
 * {"status","ttfb_ms","ms","bytes","body"} (body only without --out). */
static int
cmd_http(int argc, char **argv)
{
  const char *method, *url, *body = "", *out = NULL;
  char host[256], path[2048], headers[4096] = "", *req, *resp = NULL, *bodybuf = NULL;
  size_t rlen = 0, rcap = 0, blen = 0;
  unsigned port = 80;
  struct sockaddr_in sa = { .sin_family = AF_INET };
  int fd, status = -1, e = 0;
  int64_t t0 = now_ms(), ttfb = -1;
  bool chunked = false;

  if (argc < 2)
    die("usage: probe http METHOD URL [BODY|@FILE] [--out FILE] [--header 'K: V']...");
  method = argv[0];
  url = argv[1];
  for (int i = 2; i < argc; i++) {
    if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
      out = argv[++i];
    else if (strcmp(argv[i], "--header") == 0 && i + 1 < argc) {
      size_t hl = strlen(headers);

      snprintf(headers + hl, sizeof headers - hl, "%s\r\n", argv[++i]);
    } else if (argv[i][0] == '@') {
      static char fbuf[1 << 20];
      ssize_t n = read_file(argv[i] + 1, fbuf, sizeof fbuf);

      if (n < 0)
        die("cannot read %s", argv[i] + 1);
      body = fbuf;
    } else
      body = argv[i];
  }
  if (sscanf(url, "http://%255[^/:]:%u%2047s", host, &port, path) < 3) {
    port = 80;
    if (sscanf(url, "http://%255[^/:]%2047s", host, path) < 2)
      die("bad URL '%s' (http://HOST[:PORT]/PATH)", url);
  }
  sa.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
    struct in_addr a[1];
    int n = 1, rcode;
    int64_t ms;

    e = dns_query(host, 1, &rcode, a, &n, &ms);
    if (e != 0) {
      j_obj(NULL);
      j_str("error", "name does not resolve");
      j_int("rcode", rcode);
      j_end_obj();
      j_done();
      return 1;
    }
    sa.sin_addr = a[0];
  }
  fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
    j_obj(NULL);
    j_errno("error", errno);
    j_end_obj();
    j_done();
    return 1;
  }
  if (asprintf(&req,
               "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\nContent-Type: "
               "application/json\r\nContent-Length: %zu\r\n%s\r\n",
               method, path, host, strlen(body), headers) < 0)
    die("out of memory");
  if (write(fd, req, strlen(req)) < 0 || write(fd, body, strlen(body)) < 0)
    e = errno;
  free(req);
  for (;;) {
    ssize_t n;

    if (rlen + 65536 > rcap) {
      rcap = rcap ? rcap * 2 : 1 << 20;
      resp = realloc(resp, rcap + 1);
      if (!resp)
        die("out of memory");
    }
    n = read(fd, resp + rlen, rcap - rlen);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    if (ttfb < 0)
      ttfb = now_ms() - t0;
    rlen += (size_t)n;
  }
  close(fd);
  if (!resp)
    resp = strdup("");
  resp[rlen] = '\0';
  {
    char *hend = strstr(resp, "\r\n\r\n"), *b;

    if (hend) {
      sscanf(resp, "HTTP/%*s %d", &status);
      *hend = '\0';
      for (char *h = resp; *h; h++)
        *h = (char)tolower((unsigned char)*h);
      chunked = strstr(resp, "transfer-encoding: chunked") != NULL;
      b = hend + 4;
      blen = rlen - (size_t)(b - resp);
      bodybuf = malloc(blen + 1);
      if (!bodybuf)
        die("out of memory");
      if (chunked) {
        size_t in = 0, o = 0;

        while (in < blen) {
          char *endp;
          unsigned long cl = strtoul(b + in, &endp, 16);
          char *crlf = strstr(b + in, "\r\n");

          if (!crlf || endp == b + in || cl == 0)
            break;
          in = (size_t)(crlf - b) + 2;
          if (in + cl > blen)
            cl = blen - in;
          memcpy(bodybuf + o, b + in, cl);
          o += cl;
          in += cl + 2;
        }
        blen = o;
      } else
        memcpy(bodybuf, b, blen);
      bodybuf[blen] = '\0';
    }
  }
  if (out) {
    int ofd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

    if (ofd < 0 || (blen && write(ofd, bodybuf, blen) < 0))
      die("cannot write %s", out);
    close(ofd);
  }
  j_obj(NULL);
  j_int("status", status);
  j_int("ttfb_ms", ttfb);
  j_int("ms", now_ms() - t0);
  j_int("bytes", (long long)blen);
  j_bool("chunked", chunked);
  if (!out)
    j_str("body", bodybuf ? bodybuf : "");
  if (e)
    j_errno("error", e);
  j_end_obj();
  j_done();
  free(resp);
  free(bodybuf);
  return status >= 200 && status < 300 ? 0 : 1;
}

/* Try every way out to HOST (an IPv4 address outside) at PORT: TCP, UDP, a
 * raw IP socket and AF_PACKET frames on every interface.  Each result is
 * "ok" or an errno; "sent" means the kernel accepted the packet, the test
 * then checks that nothing arrived. */
static int
try_connect(const char *ip, uint16_t port)
{
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
  struct timeval tv = { .tv_sec = 2 };
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), e = 0;

  if (fd < 0)
    return errno;
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  inet_pton(AF_INET, ip, &sa.sin_addr);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
    e = errno;
  close(fd);
  return e;
}

static int
try_send(int type, int proto, const char *ip, uint16_t port, const void *msg, size_t len)
{
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
  int fd = socket(AF_INET, type | SOCK_CLOEXEC, proto), e = 0;

  if (fd < 0)
    return errno;
  inet_pton(AF_INET, ip, &sa.sin_addr);
  if (sendto(fd, msg, len, 0, (struct sockaddr *)&sa, sizeof sa) < 0)
    e = errno;
  close(fd);
  return e;
}

static uint16_t
ip_checksum(const void *data, size_t len)
{
  const uint8_t *p = data;
  uint32_t sum = 0;

  for (size_t i = 0; i + 1 < len; i += 2)
    sum += (uint32_t)(p[i] << 8 | p[i + 1]);
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)~sum;
}

/* An Ethernet broadcast frame carrying IPv4/UDP from the sandbox to IP:PORT. */
static size_t
udp_frame(uint8_t *f, const char *ip, uint16_t port, const char *msg)
{
  size_t mlen = strlen(msg), iplen = 20 + 8 + mlen;
  uint8_t *iph = f + 14, *udp = iph + 20;

  memset(f, 0xff, 6);
  memset(f + 6, 0x02, 6);
  f[12] = 0x08;
  f[13] = 0x00;
  memset(iph, 0, 20);
  iph[0] = 0x45;
  iph[2] = (uint8_t)(iplen >> 8);
  iph[3] = (uint8_t)iplen;
  iph[8] = 64;
  iph[9] = 17;
  inet_pton(AF_INET, "169.254.77.2", iph + 12);
  inet_pton(AF_INET, ip, iph + 16);
  {
    uint16_t c = ip_checksum(iph, 20);

    iph[10] = (uint8_t)(c >> 8);
    iph[11] = (uint8_t)c;
  }
  udp[0] = 0x30;
  udp[1] = 0x39;
  udp[2] = (uint8_t)(port >> 8);
  udp[3] = (uint8_t)port;
  udp[4] = (uint8_t)((8 + mlen) >> 8);
  udp[5] = (uint8_t)(8 + mlen);
  udp[6] = udp[7] = 0;
  memcpy(udp + 8, msg, mlen);
  return 14 + iplen;
}

static int
cmd_escape(int argc, char **argv)
{
  const char *ip, *msg;
  uint16_t port;
  struct if_nameindex *ifs;
  int e;

  if (argc < 3)
    die("usage: probe escape IP PORT MESSAGE");
  ip = argv[0];
  port = (uint16_t)parse_num(argv[1], "port");
  msg = argv[2];
  j_obj(NULL);
  j_result("tcp", try_connect(ip, port));
  j_result("tcp_loopback", try_connect("127.0.0.1", port));
  j_result("tcp_gateway_other_port", try_connect("169.254.77.1", port));
  j_result("udp", try_send(SOCK_DGRAM, 0, ip, port, msg, strlen(msg)));
  {
    /* An ICMP echo request on a raw socket. */
    uint8_t icmp[8 + 64] = { 8, 0 };
    uint16_t c;

    snprintf((char *)icmp + 8, 64, "%s", msg);
    c = ip_checksum(icmp, sizeof icmp);
    icmp[2] = (uint8_t)(c >> 8);
    icmp[3] = (uint8_t)c;
    j_result("raw_icmp", try_send(SOCK_RAW, IPPROTO_ICMP, ip, 0, icmp, sizeof icmp));
  }
  {
    uint8_t pkt[1500];
    size_t n = udp_frame(pkt, ip, port, msg);

    j_result("raw_ip_udp", try_send(SOCK_RAW, IPPROTO_RAW, ip, port, pkt + 14, n - 14));
  }
  j_obj("packet");
  ifs = if_nameindex();
  for (struct if_nameindex *i = ifs; i && i->if_index; i++) {
    uint8_t frame[1500];
    size_t n = udp_frame(frame, ip, port, msg);
    struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_ifindex = (int)i->if_index,
                              .sll_halen = 6 };
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));

    memset(ll.sll_addr, 0xff, 6);
    e = 0;
    if (fd < 0)
      e = errno;
    else if (sendto(fd, frame, n, 0, (struct sockaddr *)&ll, sizeof ll) < 0)
      e = errno;
    if (fd >= 0)
      close(fd);
    j_result(i->if_name, e);
  }
  if (ifs)
    if_freenameindex(ifs);
  j_end_obj();
  j_end_obj();
  j_done();
  return 0;
}

/* probe memgrep HEX: look for the bytes HEX encodes (so that the needle is
 * in no command line) in every file under /, in every process's environ and
 * cmdline, and in the memory of every other process (/proc/PID/mem; needs
 * ptrace rights over it).  Prints what was searched and where it was found. */
struct grep_state {
  const unsigned char *needle;
  size_t nlen;
  long long files, bytes;
  int found;
};

static bool
buf_has(const unsigned char *buf, size_t len, const struct grep_state *g)
{
  return len >= g->nlen && memmem(buf, len, g->needle, g->nlen) != NULL;
}

static void
grep_found(struct grep_state *g, const char *where)
{
  if (g->found++ < 20)
    j_str(NULL, where);
}

static void
grep_fd(struct grep_state *g, int fd, const char *where)
{
  static unsigned char buf[1 << 20];
  size_t have = 0, keep;

  for (;;) {
    ssize_t n = read(fd, buf + have, sizeof buf - have);

    if (n <= 0)
      break;
    g->bytes += n;
    have += (size_t)n;
    if (buf_has(buf, have, g)) {
      grep_found(g, where);
      return;
    }
    /* Keep the tail, so that a needle across two reads is seen. */
    keep = have < g->nlen - 1 ? have : g->nlen - 1;
    memmove(buf, buf + have - keep, keep);
    have = keep;
  }
}

static void
grep_tree(struct grep_state *g, const char *dir)
{
  DIR *d = opendir(dir);
  struct dirent *e;

  if (!d)
    return;
  while ((e = readdir(d))) {
    char path[4096];
    struct stat st;

    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
      continue;
    snprintf(path, sizeof path, "%s/%s", strcmp(dir, "/") ? dir : "", e->d_name);
    if (!strcmp(path, "/proc") || !strcmp(path, "/sys") || lstat(path, &st) < 0)
      continue;
    if (S_ISDIR(st.st_mode))
      grep_tree(g, path);
    else if (S_ISREG(st.st_mode)) {
      int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

      if (fd >= 0) {
        g->files++;
        grep_fd(g, fd, path);
        close(fd);
      }
    }
  }
  closedir(d);
}

static void
grep_mem(struct grep_state *g, int pid, long long *regions, bool *readable)
{
  char path[64], line[512];
  FILE *maps;
  int fd;
  static unsigned char buf[1 << 20];

  snprintf(path, sizeof path, "/proc/%d/maps", pid);
  maps = fopen(path, "re");
  snprintf(path, sizeof path, "/proc/%d/mem", pid);
  fd = open(path, O_RDONLY | O_CLOEXEC);
  *readable = maps && fd >= 0;
  while (*readable && fgets(line, sizeof line, maps)) {
    unsigned long start, end;
    char perms[8];

    if (sscanf(line, "%lx-%lx %7s", &start, &end, perms) != 3 || perms[0] != 'r')
      continue;
    if (strstr(line, "[vvar]") || strstr(line, "[vsyscall]"))
      continue;
    (*regions)++;
    for (unsigned long a = start; a < end;) {
      size_t want = end - a > sizeof buf ? sizeof buf : end - a;
      ssize_t n = pread(fd, buf, want, (off_t)a);

      if (n <= 0)
        break;
      g->bytes += n;
      if (buf_has(buf, (size_t)n, g)) {
        char where[80];

        snprintf(where, sizeof where, "/proc/%d/mem@%lx", pid, a);
        grep_found(g, where);
        break;
      }
      /* Overlap the next read so a needle across the boundary is seen. */
      a += (size_t)n > g->nlen ? (size_t)n - g->nlen + 1 : (size_t)n;
    }
  }
  if (maps)
    fclose(maps);
  if (fd >= 0)
    close(fd);
}

static int
cmd_memgrep(int argc, char **argv)
{
  static unsigned char needle[256];
  struct grep_state g = { .needle = needle };
  DIR *d;
  struct dirent *e;
  int self = getpid();

  if (argc < 1 || strlen(argv[0]) % 2 || strlen(argv[0]) / 2 > sizeof needle ||
      strlen(argv[0]) < 8)
    die("usage: probe memgrep HEX (at least 4 bytes)");
  for (size_t i = 0; argv[0][2 * i]; i++) {
    unsigned v;

    if (sscanf(argv[0] + 2 * i, "%2x", &v) != 1)
      die("bad hex");
    needle[g.nlen++] = (unsigned char)v;
  }
  j_obj(NULL);
  j_arr("found");
  grep_tree(&g, "/");
  j_end_arr();
  j_int("files", g.files);
  j_arr("processes");
  d = opendir("/proc");
  while (d && (e = readdir(d))) {
    int pid = atoi(e->d_name);
    long long regions = 0;
    bool readable = false;
    char path[64], where[64];
    int fd;

    if (pid <= 0 || pid == self)
      continue;
    j_obj(NULL);
    j_int("pid", pid);
    j_arr("found");
    for (int k = 0; k < 2; k++) {
      snprintf(path, sizeof path, "/proc/%d/%s", pid, k ? "cmdline" : "environ");
      fd = open(path, O_RDONLY | O_CLOEXEC);
      if (fd >= 0) {
        snprintf(where, sizeof where, "%s", path);
        grep_fd(&g, fd, where);
        close(fd);
      }
    }
    grep_mem(&g, pid, &regions, &readable);
    j_end_arr();
    j_bool("mem_readable", readable);
    j_int("regions", regions);
    j_end_obj();
  }
  if (d)
    closedir(d);
  j_end_arr();
  j_int("bytes", g.bytes);
  j_int("hits", g.found);
  j_end_obj();
  j_done();
  return g.found ? 1 : 0;
}

/* probe udplisten PORT SECONDS: count the datagrams that reach any address
 * of this namespace at PORT (the host side of "probe escape"); stops early
 * on SIGTERM, and prints the count either way. */
static volatile sig_atomic_t udp_stop;

static void
on_udp_stop(int sig)
{
  (void)sig;
  udp_stop = 1;
}

static int
cmd_udplisten(int argc, char **argv)
{
  struct sockaddr_in sa = { .sin_family = AF_INET };
  struct sigaction act = { .sa_handler = on_udp_stop };
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), count = 0;
  int64_t end;
  char buf[2048];

  if (argc < 2)
    die("usage: probe udplisten PORT SECONDS");
  sigaction(SIGTERM, &act, NULL);
  sa.sin_port = htons((uint16_t)parse_num(argv[0], "port"));
  if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
    die("udplisten: %s", strerror(errno));
  end = now_ms() + parse_num(argv[1], "seconds") * 1000;
  for (int64_t left; !udp_stop && (left = end - now_ms()) > 0;) {
    struct pollfd p = { .fd = fd, .events = POLLIN };

    if (poll(&p, 1, (int)left) > 0 && recv(fd, buf, sizeof buf, 0) >= 0)
      count++;
  }
  printf("{\"datagrams\":%d}\n", count);
  return 0;
}

int
main(int argc, char **argv)
{
  const char *cmd = argc > 1 ? argv[1] : "report";

  setvbuf(stdout, NULL, _IOFBF, 1 << 16);
  if (cmd[0] == '-')
    return cmd_report(argc - 1, argv + 1);
  if (strcmp(cmd, "report") == 0)
    return cmd_report(argc - 2, argv + 2);
  if (strcmp(cmd, "forkbomb") == 0)
    return cmd_forkbomb(argc - 2, argv + 2);
  if (strcmp(cmd, "hog") == 0)
    return cmd_hog(argc - 2, argv + 2);
  if (strcmp(cmd, "shmfill") == 0)
    return cmd_shmfill(argc - 2, argv + 2);
  if (strcmp(cmd, "daemon") == 0)
    return cmd_daemon();
  if (strcmp(cmd, "env") == 0)
    return cmd_env();
  if (strcmp(cmd, "exit") == 0 && argc > 2)
    return (int)parse_num(argv[2], "status");
  if (strcmp(cmd, "kill") == 0 && argc > 2) {
    int sig = (int)parse_num(argv[2], "signal");

    fflush(stdout);
    signal(sig, SIG_DFL);
    kill(getpid(), sig);
    fprintf(stderr, "probe: still alive after signal %d\n", sig);
    return 1;
  }
  if (strcmp(cmd, "write") == 0 && argc > 2) {
    int e = create_remove(argv[2]);

    j_obj(NULL);
    j_str("path", argv[2]);
    j_result("result", e);
    j_end_obj();
    j_done();
    return e ? 1 : 0;
  }
  if (strcmp(cmd, "listen") == 0)
    return cmd_listen(argc - 2, argv + 2);
  if (strcmp(cmd, "connect") == 0 && argc > 2) {
    int e = tcp_connect((uint16_t)parse_num(argv[2], "port"));

    j_obj(NULL);
    j_result("connect", e);
    j_end_obj();
    j_done();
    return e ? 1 : 0;
  }
  if (strcmp(cmd, "sleep") == 0 && argc > 2) {
    sleep_s((unsigned)parse_num(argv[2], "seconds"));
    return 0;
  }
  if (strcmp(cmd, "spin") == 0 && argc > 2)
    return cmd_spin(parse_num(argv[2], "seconds"));
  if (strcmp(cmd, "http") == 0)
    return cmd_http(argc - 2, argv + 2);
  if (strcmp(cmd, "dns") == 0)
    return cmd_dns(argc - 2, argv + 2);
  if (strcmp(cmd, "escape") == 0)
    return cmd_escape(argc - 2, argv + 2);
  if (strcmp(cmd, "memgrep") == 0)
    return cmd_memgrep(argc - 2, argv + 2);
  if (strcmp(cmd, "udplisten") == 0)
    return cmd_udplisten(argc - 2, argv + 2);
  die("unknown command '%s' (report, forkbomb, hog, daemon, exit, kill, env, write, listen, "
      "connect, sleep, spin, http, dns, escape, memgrep, udplisten)", cmd);
  return 2;
}
