/* cab-agent's tools (see tools.h). */
#include "tools.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int g_wdfd = -1;
static char *g_workdir;
static int g_no_openat2; /* openat2 is missing: walk components with O_NOFOLLOW */
static volatile sig_atomic_t g_run_pid; /* the run tool's session, while it runs */

/* SIGTERM/SIGINT/SIGHUP: take the run tool's process group along, then die
 * of the same signal. */
static void on_fatal_signal(int sig) {
  pid_t p = g_run_pid;
  if (p > 0) kill(-p, SIGKILL);
  signal(sig, SIG_DFL);
  raise(sig);
}

int tools_init(const char *workdir, char *err, size_t errlen) {
  int fd = open(workdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    snprintf(err, errlen, "workdir %s: %s", workdir, strerror(errno));
    return -1;
  }
  g_wdfd = fd;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_fatal_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  /* Test knob: exercise the fallback that kernels without openat2 get. */
  const char *no2 = getenv("CAB_AGENT_NO_OPENAT2");
  if (no2 && strcmp(no2, "1") == 0) g_no_openat2 = 1;
  free(g_workdir);
  g_workdir = xstrdup(workdir);
  return 0;
}

/* --- schema ------------------------------------------------------------------ */

static const char SCHEMA[] =
    "["
    "{\"type\":\"function\",\"function\":{\"name\":\"read_file\","
    "\"description\":\"Read a text file. The path is relative to the working directory.\","
    "\"parameters\":{\"type\":\"object\",\"properties\":{\"path\":{\"type\":\"string\","
    "\"description\":\"file path relative to the working directory\"}},\"required\":[\"path\"]}}},"
    "{\"type\":\"function\",\"function\":{\"name\":\"write_file\","
    "\"description\":\"Create or overwrite a file with the given content (parent directories are "
    "created). The path is relative to the working directory.\","
    "\"parameters\":{\"type\":\"object\",\"properties\":{\"path\":{\"type\":\"string\"},"
    "\"content\":{\"type\":\"string\",\"description\":\"the complete new content of the file\"}},"
    "\"required\":[\"path\",\"content\"]}}},"
    "{\"type\":\"function\",\"function\":{\"name\":\"list_dir\","
    "\"description\":\"List a directory (directories end with '/'). The path is relative to the "
    "working directory; use \\\".\\\" for the working directory itself.\","
    "\"parameters\":{\"type\":\"object\",\"properties\":{\"path\":{\"type\":\"string\"}},"
    "\"required\":[\"path\"]}}},"
    "{\"type\":\"function\",\"function\":{\"name\":\"run\","
    "\"description\":\"Run a shell command (sh -c) in the working directory, e.g. to build or "
    "test. It is killed after 60 seconds; its output (stdout and stderr) is capped at 16 KiB "
    "and its exit code is reported.\","
    "\"parameters\":{\"type\":\"object\",\"properties\":{\"command\":{\"type\":\"string\"}},"
    "\"required\":[\"command\"]}}},"
    "{\"type\":\"function\",\"function\":{\"name\":\"finish\","
    "\"description\":\"Call this when the task is done, with a short summary of what you "
    "changed.\","
    "\"parameters\":{\"type\":\"object\",\"properties\":{\"summary\":{\"type\":\"string\"}},"
    "\"required\":[\"summary\"]}}}"
    "]";

struct json *tools_schema(void) {
  char err[160];
  struct json *j = json_parse(SCHEMA, sizeof SCHEMA - 1, err, sizeof err);
  if (!j) {
    fprintf(stderr, "cab-agent: internal error: tool schema: %s\n", err);
    exit(2);
  }
  return j;
}

/* --- paths -------------------------------------------------------------------- */

int tools_normalize_path(const char *path, size_t len, char *out, size_t outlen, char *err,
                         size_t errlen) {
  if (!path) {
    snprintf(err, errlen, "missing path");
    return -1;
  }
  if (strlen(path) != len) {
    snprintf(err, errlen, "the path contains a NUL character");
    return -1;
  }
  if (path[0] == '/') {
    snprintf(err, errlen,
             "'%.200s' is an absolute path; paths are relative to the working directory %s",
             path, g_workdir ? g_workdir : ".");
    return -1;
  }
  if (len >= outlen) {
    snprintf(err, errlen, "the path is too long");
    return -1;
  }
  /* Split on '/', drop "" and ".", let ".." pop a component. */
  size_t starts[PATH_MAX / 2];
  size_t depth = 0, o = 0;
  const char *p = path;
  while (*p) {
    const char *e = strchr(p, '/');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    if (n == 0 || (n == 1 && p[0] == '.')) {
      /* skip */
    } else if (n == 2 && p[0] == '.' && p[1] == '.') {
      if (depth == 0) {
        snprintf(err, errlen, "'%.200s' leads outside the working directory %s", path,
                 g_workdir ? g_workdir : ".");
        return -1;
      }
      o = starts[--depth];
    } else {
      if (depth >= sizeof starts / sizeof starts[0]) {
        snprintf(err, errlen, "the path is too deep");
        return -1;
      }
      starts[depth++] = o;
      if (o) out[o++] = '/';
      memcpy(out + o, p, n);
      o += n;
    }
    p += n;
    if (*p == '/') p++;
  }
  if (o == 0) out[o++] = '.';
  out[o] = '\0';
  return 0;
}

/* Open REL (normalized, relative) beneath DIRFD. */
static int open_beneath(int dirfd, const char *rel, int flags, mode_t mode) {
  if (!g_no_openat2) {
    struct open_how how = {
        .flags = (uint64_t)(flags | O_CLOEXEC),
        .mode = (flags & O_CREAT) ? mode : 0,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
    };
    long fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof how);
    if (fd >= 0 || (errno != ENOSYS && errno != EPERM)) return (int)fd;
    if (errno == EPERM) {
      /* A seccomp filter that does not know openat2 may say EPERM; tell it
       * apart from a real EPERM by a harmless call. */
      struct open_how probe = {.flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_BENEATH};
      long pfd = syscall(SYS_openat2, dirfd, ".", &probe, sizeof probe);
      if (pfd >= 0) {
        close((int)pfd);
        errno = EPERM;
        return -1;
      }
    }
    g_no_openat2 = 1;
  }
  /* Fallback: component by component, never following a symlink. */
  if (strcmp(rel, ".") == 0) return openat(dirfd, ".", flags | O_CLOEXEC, mode);
  char *copy = xstrdup(rel);
  int cur = dirfd;
  char *save = NULL, *next;
  char *comp = strtok_r(copy, "/", &save);
  int fd = -1;
  while (comp) {
    next = strtok_r(NULL, "/", &save);
    int e;
    struct stat st;
    if (next) {
      int d = openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      e = errno;
      if (d < 0 && fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
        e = ELOOP;
      if (cur != dirfd) close(cur);
      errno = e;
      if (d < 0) break;
      cur = d;
    } else {
      fd = openat(cur, comp, flags | O_NOFOLLOW | O_CLOEXEC, mode);
      e = errno;
      if (fd < 0 && fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
        e = ELOOP;
      if (cur != dirfd) close(cur);
      errno = e;
    }
    comp = next;
  }
  free(copy);
  return fd;
}

static const char *open_error(int e) {
  switch (e) {
  case EXDEV: return "it leads outside the working directory (through a symlink)";
  case ELOOP: return "it goes through a symlink, which cab-agent does not follow here";
  case ENOENT: return "no such file or directory";
  default: return strerror(e);
  }
}

/* --- helpers ------------------------------------------------------------------ */

static void result(struct tool_result *r, bool error, const char *content, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void result(struct tool_result *r, bool error, const char *content, const char *fmt, ...) {
  struct sbuf s = {0};
  va_list ap;
  va_start(ap, fmt);
  sb_vprintf(&s, fmt, ap);
  va_end(ap);
  r->error = error;
  r->summary = sb_take(&s);
  if (content) r->content = xstrdup(content);
  else if (error) {
    struct sbuf c = {0};
    sb_printf(&c, "error: %s", r->summary);
    r->content = sb_take(&c);
  } else r->content = xstrdup(r->summary);
}

/* A one-line, length-limited rendering of S for the transcript. */
static void oneline(struct sbuf *b, const char *s, size_t n, size_t max) {
  size_t cut = utf8_prefix(s, n, max);
  bool trunc = false;
  if (cut < n) {
    trunc = true;
    if (cut == 0) cut = n < max ? n : max; /* not UTF-8: show bytes */
  }
  for (size_t i = 0; i < cut; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '\n') sb_adds(b, "\\n");
    else if (c == '\t') sb_adds(b, "\\t");
    else if (c < 0x20 || c == 0x7F) sb_addc(b, '?');
    else sb_addc(b, (char)c);
  }
  if (trunc) sb_adds(b, "...");
}

/* --- read_file ------------------------------------------------------------------ */

static void t_read_file(const char *rel, struct tool_result *r) {
  int fd = open_beneath(g_wdfd, rel, O_RDONLY | O_NOCTTY | O_NONBLOCK, 0);
  if (fd < 0) {
    result(r, true, NULL, "read_file %s: %s", rel, open_error(errno));
    return;
  }
  struct stat st;
  if (fstat(fd, &st) < 0) {
    result(r, true, NULL, "read_file %s: %s", rel, strerror(errno));
    close(fd);
    return;
  }
  if (S_ISDIR(st.st_mode)) {
    result(r, true, NULL, "read_file %s: it is a directory (use list_dir)", rel);
    close(fd);
    return;
  }
  if (!S_ISREG(st.st_mode)) {
    result(r, true, NULL, "read_file %s: not a regular file", rel);
    close(fd);
    return;
  }
  struct sbuf b = {0};
  sb_grow(&b, 0);
  while (b.len < TOOL_READ_MAX) {
    sb_grow(&b, TOOL_READ_MAX - b.len);
    ssize_t n = read(fd, b.p + b.len, TOOL_READ_MAX - b.len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      result(r, true, NULL, "read_file %s: %s", rel, strerror(errno));
      close(fd);
      sb_free(&b);
      return;
    }
    if (n == 0) break;
    b.len += (size_t)n;
    b.p[b.len] = '\0';
  }
  close(fd);
  long long size = st.st_size > (off_t)b.len ? (long long)st.st_size : (long long)b.len;
  if (memchr(b.p, '\0', b.len)) {
    result(r, false, NULL, "%s is a binary file of %lld bytes; not shown", rel, size);
    sb_free(&b);
    return;
  }
  if ((long long)b.len < size) {
    size_t keep = b.len;
    sb_printf(&b, "\n[cab-agent: truncated: the file has %lld bytes; the first %zu are shown]\n",
              size, keep);
    result(r, false, b.p, "%zu of %lld bytes (truncated)", keep, size);
  } else {
    result(r, false, b.len ? b.p : "(empty file)", "%zu bytes", b.len);
  }
  sb_free(&b);
}

/* --- write_file ------------------------------------------------------------------ */

/* Open (creating as needed) the directory REL beneath the workdir. */
static int open_dir_creating(const char *rel) {
  int fd = open_beneath(g_wdfd, rel, O_PATH | O_DIRECTORY, 0);
  if (fd >= 0 || errno != ENOENT) return fd;
  char *copy = xstrdup(rel);
  int cur = g_wdfd;
  char *save = NULL;
  for (char *comp = strtok_r(copy, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
    if (mkdirat(cur, comp, 0755) < 0 && errno != EEXIST) {
      fd = -1;
      break;
    }
    fd = open_beneath(cur, comp, O_PATH | O_DIRECTORY, 0);
    int e = errno;
    if (cur != g_wdfd) close(cur);
    errno = e;
    if (fd < 0) break;
    cur = fd;
  }
  if (fd < 0 && cur != g_wdfd) {
    int e = errno;
    close(cur);
    errno = e;
  }
  free(copy);
  return fd;
}

static void t_write_file(const char *rel, const char *content, size_t len, struct tool_result *r) {
  if (strcmp(rel, ".") == 0) {
    result(r, true, NULL, "write_file: the path names the working directory itself");
    return;
  }
  char *dir = xstrdup(rel);
  char *slash = strrchr(dir, '/');
  const char *base = rel;
  int dfd;
  if (slash) {
    *slash = '\0';
    base = rel + (slash - dir) + 1;
    dfd = open_dir_creating(dir);
  } else {
    dfd = dup(g_wdfd);
  }
  if (dfd < 0) {
    result(r, true, NULL, "write_file %s: directory %s: %s", rel, dir, open_error(errno));
    free(dir);
    return;
  }
  /* O_NONBLOCK: a FIFO planted in the workdir must not hang the agent. */
  int fd = open_beneath(dfd, base, O_WRONLY | O_CREAT | O_NOCTTY | O_NONBLOCK, 0644);
  int e = errno;
  close(dfd);
  free(dir);
  if (fd < 0) {
    result(r, true, NULL, "write_file %s: %s", rel,
           e == EISDIR ? "it is a directory" : e == ENXIO ? "not a regular file" : open_error(e));
    return;
  }
  struct stat st;
  const char *why = NULL;
  if (fstat(fd, &st) < 0) why = strerror(errno);
  else if (!S_ISREG(st.st_mode)) why = "not a regular file";
  else if (ftruncate(fd, 0) < 0) why = strerror(errno);
  if (why) {
    result(r, true, NULL, "write_file %s: %s", rel, why);
    close(fd);
    return;
  }
  size_t off = 0;
  while (off < len) {
    ssize_t w = write(fd, content + off, len - off);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      result(r, true, NULL, "write_file %s: %s", rel, strerror(errno));
      close(fd);
      return;
    }
    off += (size_t)w;
  }
  if (close(fd) < 0) {
    result(r, true, NULL, "write_file %s: %s", rel, strerror(errno));
    return;
  }
  result(r, false, NULL, "wrote %zu bytes to %s", len, rel);
}

/* --- list_dir ------------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void t_list_dir(const char *rel, struct tool_result *r) {
  int fd = open_beneath(g_wdfd, rel, O_RDONLY | O_DIRECTORY, 0);
  if (fd < 0) {
    result(r, true, NULL, "list_dir %s: %s", rel,
           errno == ENOTDIR ? "not a directory" : open_error(errno));
    return;
  }
  DIR *d = fdopendir(fd);
  if (!d) {
    result(r, true, NULL, "list_dir %s: %s", rel, strerror(errno));
    close(fd);
    return;
  }
  char **names = NULL;
  size_t n = 0, cap = 0;
  struct dirent *de;
  while ((de = readdir(d))) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
    struct stat st;
    const char *suffix = "";
    if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
      if (S_ISDIR(st.st_mode)) suffix = "/";
      else if (S_ISLNK(st.st_mode)) suffix = "@";
    }
    if (n == cap) {
      cap = cap ? cap * 2 : 64;
      names = xrealloc(names, cap * sizeof *names);
    }
    struct sbuf s = {0};
    sb_printf(&s, "%s%s", de->d_name, suffix);
    names[n++] = sb_take(&s);
  }
  closedir(d);
  qsort(names, n, sizeof *names, cmp_str);
  struct sbuf b = {0};
  size_t shown = n < TOOL_LIST_MAX ? n : TOOL_LIST_MAX;
  for (size_t i = 0; i < shown; i++) sb_printf(&b, "%s\n", names[i]);
  if (shown < n) sb_printf(&b, "[cab-agent: %zu more entries not shown]\n", n - shown);
  if (n == 0) sb_adds(&b, "(empty directory)\n");
  struct sbuf sum = {0};
  for (size_t i = 0; i < shown && sum.len < 120; i++) sb_printf(&sum, " %s", names[i]);
  if (shown && sum.len >= 120) sb_adds(&sum, " ...");
  result(r, false, b.p, "%zu entries:%s", n, sum.p ? sum.p : "");
  for (size_t i = 0; i < n; i++) free(names[i]);
  free(names);
  sb_free(&b);
  sb_free(&sum);
}

/* --- run ---------------------------------------------------------------------------- */

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Keeps the first and the last half of the cap, counting what falls between. */
struct capture {
  char head[TOOL_RUN_OUTPUT_MAX / 2];
  size_t head_len;
  char tail[TOOL_RUN_OUTPUT_MAX / 2]; /* ring */
  size_t tail_pos, tail_len;
  unsigned long long total;
};

static void capture_add(struct capture *c, const char *p, size_t n) {
  c->total += n;
  size_t h = sizeof c->head - c->head_len;
  if (h > n) h = n;
  memcpy(c->head + c->head_len, p, h);
  c->head_len += h;
  p += h;
  n -= h;
  for (size_t i = 0; i < n; i++) {
    c->tail[c->tail_pos] = p[i];
    c->tail_pos = (c->tail_pos + 1) % sizeof c->tail;
    if (c->tail_len < sizeof c->tail) c->tail_len++;
  }
}

static void capture_render(const struct capture *c, struct sbuf *b) {
  sb_add(b, c->head, c->head_len);
  unsigned long long omitted = c->total - c->head_len - c->tail_len;
  if (omitted) sb_printf(b, "\n[cab-agent: %llu bytes of output omitted]\n", omitted);
  size_t start = (c->tail_pos + sizeof c->tail - c->tail_len) % sizeof c->tail;
  for (size_t i = 0; i < c->tail_len; i++) sb_addc(b, c->tail[(start + i) % sizeof c->tail]);
}

static int run_timeout_s(void) {
  const char *e = getenv("CAB_AGENT_RUN_TIMEOUT");
  if (e && *e) {
    char *end;
    long v = strtol(e, &end, 10);
    if (*end == '\0' && v > 0 && v < 86400) return (int)v;
  }
  return TOOL_RUN_TIMEOUT_S;
}

static void t_run(const char *cmd, struct tool_result *r) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) {
    result(r, true, NULL, "run: pipe: %s", strerror(errno));
    return;
  }
  int timeout_s = run_timeout_s();
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    result(r, true, NULL, "run: fork: %s", strerror(errno));
    close(p[0]);
    close(p[1]);
    return;
  }
  if (pid == 0) {
    /* A session of its own: no controlling terminal, and one process group
     * to kill. */
    setsid();
    signal(SIGPIPE, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    int nul = open("/dev/null", O_RDONLY);
    if (nul >= 0) dup2(nul, 0);
    else close(0);
    dup2(p[1], 1);
    dup2(p[1], 2);
    if (fchdir(g_wdfd) < 0 && chdir(g_workdir) < 0) {
      dprintf(2, "cab-agent: cannot enter %s: %s\n", g_workdir, strerror(errno));
      _exit(126);
    }
    execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
    dprintf(2, "cab-agent: cannot run /bin/sh: %s\n", strerror(errno));
    _exit(127);
  }
  g_run_pid = pid;
  close(p[1]);
  fcntl(p[0], F_SETFL, O_NONBLOCK);
  struct capture *cap = xcalloc(1, sizeof *cap);
  int64_t start = mono_ms(), deadline = start + (int64_t)timeout_s * 1000, exited_at = 0;
  bool eof = false, exited = false, timed_out = false;
  int status = 0;
  while (!(eof && exited)) {
    if (!exited) {
      pid_t w = waitpid(pid, &status, WNOHANG);
      if (w == pid) {
        exited = true;
        exited_at = mono_ms();
      }
    }
    int64_t now = mono_ms();
    if (!exited && now >= deadline) {
      timed_out = true;
      kill(-pid, SIGKILL);
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      exited = true;
      exited_at = now;
    }
    /* The shell is gone but something it started holds the pipe: give it a
     * moment, then stop listening (the group is killed below). */
    if (exited && !eof && now - exited_at > 1000) break;
    if (eof) {
      if (!exited) {
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
      }
      continue;
    }
    struct pollfd pfd = {.fd = p[0], .events = POLLIN};
    int pr = poll(&pfd, 1, 50);
    if (pr > 0) {
      char buf[8192];
      for (;;) {
        ssize_t n = read(p[0], buf, sizeof buf);
        if (n > 0) {
          capture_add(cap, buf, (size_t)n);
          continue;
        }
        if (n == 0) eof = true;
        break;
      }
    }
  }
  close(p[0]);
  kill(-pid, SIGKILL); /* anything it left in its process group */
  g_run_pid = 0;
  int64_t ms = mono_ms() - start;

  struct sbuf out = {0};
  capture_render(cap, &out);
  struct sbuf c = {0};
  char state[96];
  if (timed_out) snprintf(state, sizeof state, "timed out after %d s and was killed", timeout_s);
  else if (WIFEXITED(status)) snprintf(state, sizeof state, "exit code %d", WEXITSTATUS(status));
  else if (WIFSIGNALED(status)) snprintf(state, sizeof state, "killed by signal %d", WTERMSIG(status));
  else snprintf(state, sizeof state, "status %d", status);
  sb_printf(&c, "%s\n", state);
  if (out.len) {
    sb_add(&c, out.p, out.len);
    if (out.p[out.len - 1] != '\n') sb_addc(&c, '\n');
  } else {
    sb_adds(&c, "(no output)\n");
  }
  /* The transcript shows the last non-empty line of output. */
  struct sbuf last = {0};
  if (out.len) {
    size_t e = out.len;
    while (e > 0 && (out.p[e - 1] == '\n' || out.p[e - 1] == '\r' || out.p[e - 1] == ' ')) e--;
    size_t s = e;
    while (s > 0 && out.p[s - 1] != '\n') s--;
    if (e > s) {
      sb_adds(&last, ": ");
      oneline(&last, out.p + s, e - s, 100);
    }
  }
  result(r, timed_out, c.p, "%s, %llu bytes of output in %.1f s%s", state, cap->total,
         (double)ms / 1000.0, last.p ? last.p : "");
  sb_free(&out);
  sb_free(&c);
  sb_free(&last);
  free(cap);
}

/* --- dispatch -------------------------------------------------------------------- */

void tool_result_free(struct tool_result *r) {
  free(r->call);
  free(r->content);
  free(r->summary);
  memset(r, 0, sizeof *r);
}

static const char *TOOL_NAMES = "read_file, write_file, list_dir, run, finish";

/* The string argument KEY, or NULL after filling R with an error. */
static const char *need_string(const char *tool, const struct json *args, const char *key,
                               size_t *len, struct tool_result *r) {
  const struct json *v = json_get(args, key);
  if (!v || v->type != JSON_STRING) {
    result(r, true, NULL, "%s needs a string argument \"%s\"%s", tool, key,
           v ? " (it is not a string)" : "");
    return NULL;
  }
  if (len) *len = v->len;
  return v->str;
}

static bool path_arg(const char *tool, const struct json *args, char *out, size_t outlen,
                     struct tool_result *r) {
  size_t len;
  const char *path = need_string(tool, args, "path", &len, r);
  if (!path) return false;
  char err[512];
  if (tools_normalize_path(path, len, out, outlen, err, sizeof err) < 0) {
    result(r, true, NULL, "%s refused: %s", tool, err);
    return false;
  }
  return true;
}

/* The transcript's line for a call: the tool and its main argument. */
static char *describe_call(const char *name, const struct json *args, const char *raw,
                           size_t raw_len) {
  struct sbuf b = {0};
  oneline(&b, name ? name : "", name ? strlen(name) : 0, 80);
  const struct json *v;
  if (!args || args->type != JSON_OBJECT) {
    sb_addc(&b, ' ');
    oneline(&b, raw, raw_len, 160);
  } else if (strcmp(name, "run") == 0 && (v = json_get(args, "command")) && v->type == JSON_STRING) {
    sb_adds(&b, ": ");
    oneline(&b, v->str, v->len, 200);
  } else if (strcmp(name, "finish") == 0) {
    /* the summary is the result line */
  } else if ((v = json_get(args, "path")) && v->type == JSON_STRING) {
    sb_addc(&b, ' ');
    oneline(&b, v->str, v->len, 200);
    const struct json *c = json_get(args, "content");
    if (strcmp(name, "write_file") == 0 && c && c->type == JSON_STRING)
      sb_printf(&b, " (%zu bytes)", c->len);
  } else {
    sb_addc(&b, ' ');
    oneline(&b, raw, raw_len, 160);
  }
  return sb_take(&b);
}

void tool_call(const char *name, const char *args_text, size_t args_len, struct tool_result *r) {
  memset(r, 0, sizeof *r);
  bool known = name && (strcmp(name, "read_file") == 0 || strcmp(name, "write_file") == 0 ||
                        strcmp(name, "list_dir") == 0 || strcmp(name, "run") == 0 ||
                        strcmp(name, "finish") == 0);
  if (!known) {
    r->call = describe_call(name, NULL, args_text, args_len);
    struct sbuf n = {0};
    oneline(&n, name ? name : "", name ? strlen(name) : 0, 80);
    result(r, true, NULL, "unknown tool \"%s\"; the tools are %s", n.p ? n.p : "", TOOL_NAMES);
    sb_free(&n);
    return;
  }
  /* Empty arguments count as {}. */
  size_t i = 0;
  while (i < args_len && (args_text[i] == ' ' || args_text[i] == '\n' || args_text[i] == '\t' ||
                          args_text[i] == '\r'))
    i++;
  struct json *args;
  char perr[160];
  if (i == args_len) args = json_new_object();
  else args = json_parse(args_text, args_len, perr, sizeof perr);
  r->call = describe_call(name, args, args_text, args_len);
  if (!args) {
    result(r, true, NULL, "the arguments of %s are not valid JSON (%s); send a JSON object", name,
           perr);
    return;
  }
  if (args->type != JSON_OBJECT) {
    result(r, true, NULL, "the arguments of %s must be a JSON object, not a %s", name,
           json_type_name(args->type));
    json_free(args);
    return;
  }
  char rel[PATH_MAX];
  if (strcmp(name, "read_file") == 0) {
    if (path_arg(name, args, rel, sizeof rel, r)) t_read_file(rel, r);
  } else if (strcmp(name, "write_file") == 0) {
    size_t clen;
    const char *content;
    if (path_arg(name, args, rel, sizeof rel, r) &&
        (content = need_string(name, args, "content", &clen, r)))
      t_write_file(rel, content, clen, r);
  } else if (strcmp(name, "list_dir") == 0) {
    const struct json *p = json_get(args, "path");
    if (!p || p->type == JSON_NULL) {
      json_set(args, "path", json_new_string("."));
    }
    if (path_arg(name, args, rel, sizeof rel, r)) t_list_dir(rel, r);
  } else if (strcmp(name, "run") == 0) {
    size_t clen;
    const char *cmd = need_string(name, args, "command", &clen, r);
    if (cmd) {
      if (strlen(cmd) != clen) result(r, true, NULL, "run: the command contains a NUL character");
      else if (clen == 0) result(r, true, NULL, "run: the command is empty");
      else t_run(cmd, r);
    }
  } else { /* finish */
    const struct json *s = json_get(args, "summary");
    struct sbuf sum = {0};
    if (s && s->type == JSON_STRING) oneline(&sum, s->str, s->len, 200);
    result(r, false, "ok", "%s", sum.p ? sum.p : "(no summary)");
    r->finish = true;
    sb_free(&sum);
  }
  json_free(args);
}
