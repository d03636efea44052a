/* cgroup module: shared helpers (paths, knobs, naming, pid lists) and the
 * public entry points, which dispatch to cgroup_v1.c / cgroup_v2.c. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "sandbox/cgroup_internal.h"

#define CG_KNOB_MAX (1 << 20)
#define CG_TREE_DEPTH 16

void
cg_note(struct cg_note *n, const char *fmt, ...)
{
  if (n == NULL || n->buf == NULL || n->size == 0)
    return;
  char clause[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(clause, sizeof clause, fmt, ap);
  va_end(ap);
  if (clause[0] == '\0' || strstr(n->buf, clause) != NULL)
    return; /* nothing to say, or said already */
  size_t used = strlen(n->buf);
  snprintf(n->buf + used, n->size - used, "%s%s", used ? "; " : "", clause);
}

int
cg_join(char *out, size_t size, const char *a, const char *b)
{
  size_t la = strlen(a);
  while (la > 1 && a[la - 1] == '/')
    la--;
  while (*b == '/')
    b++;
  int n;
  if (*b == '\0')
    n = snprintf(out, size, "%.*s", (int)la, a);
  else if (la == 1 && a[0] == '/')
    n = snprintf(out, size, "/%s", b);
  else
    n = snprintf(out, size, "%.*s/%s", (int)la, a, b);
  if (n < 0 || (size_t)n >= size) {
    errno = ENAMETOOLONG;
    return -1;
  }
  return 0;
}

int
cg_write(const struct cab_cgroup_test_hooks *h, const char *dir, const char *knob,
         const char *value, cab_error *err)
{
  char path[PATH_MAX];
  if (cg_join(path, sizeof path, dir, knob) < 0)
    return cab_error_sys(err, "cgroup path %s/%s", dir, knob);
  if (h && h->before_write) {
    int e = h->before_write(path, value, h->arg);
    if (e < 0)
      return 0;
    if (e > 0)
      return cab_error_set(err, e, "write '%s' to %s", value, path);
  }
  return cab_write_file_at(AT_FDCWD, path, value, err);
}

int
cg_read(const char *dir, const char *knob, char **out)
{
  char path[PATH_MAX];
  if (cg_join(path, sizeof path, dir, knob) < 0)
    return -1;
  cab_error ignored = {0};
  return cab_read_file_at(AT_FDCWD, path, CG_KNOB_MAX, out, NULL, &ignored);
}

bool
cg_exists(const char *dir, const char *knob)
{
  char path[PATH_MAX];
  return cg_join(path, sizeof path, dir, knob) == 0 && access(path, F_OK) == 0;
}

int
cg_read_key(const char *dir, const char *knob, const char *key, int64_t *val)
{
  cleanup_free char *text = NULL;
  if (cg_read(dir, knob, &text) < 0)
    return -1;
  size_t klen = strlen(key);
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    if (strncmp(line, key, klen) == 0 && line[klen] == ' ') {
      *val = strtoll(line + klen + 1, NULL, 10);
      return 0;
    }
  }
  return -1;
}

int
cg_read_int(const char *dir, const char *knob, int64_t *val)
{
  cleanup_free char *text = NULL;
  if (cg_read(dir, knob, &text) < 0)
    return -1;
  char *end = NULL;
  errno = 0;
  long long v = strtoll(text, &end, 10);
  if (errno != 0 || end == text)
    return -1;
  *val = v;
  return 0;
}

bool
cg_has_word(const char *list, const char *word)
{
  size_t wl = strlen(word);
  for (const char *p = list; (p = strstr(p, word)) != NULL; p += wl) {
    bool start = p == list || isspace((unsigned char)p[-1]);
    bool end = p[wl] == '\0' || isspace((unsigned char)p[wl]);
    if (start && end)
      return true;
  }
  return false;
}

int
cg_mkdir(const struct cab_cgroup_test_hooks *h, const char *path)
{
  if (mkdir(path, 0755) < 0)
    return -1;
  if (h && h->after_mkdir)
    h->after_mkdir(path, h->arg);
  return 0;
}

static int
rmdir_tree(const struct cab_cgroup_test_hooks *h, const char *path, int depth)
{
  if (depth > CG_TREE_DEPTH) {
    errno = ELOOP;
    return -1;
  }
  {
    cleanup_dir DIR *d = opendir(path);
    if (d == NULL)
      return errno == ENOENT ? 0 : -1;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
      if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 ||
          strcmp(de->d_name, "..") == 0)
        continue;
      char sub[PATH_MAX];
      if (cg_join(sub, sizeof sub, path, de->d_name) < 0 || rmdir_tree(h, sub, depth + 1) < 0)
        return -1;
    }
  }
  if (h && h->before_rmdir)
    h->before_rmdir(path, h->arg);
  /* The kernel keeps a cgroup busy for a moment after its last task exits. */
  for (int i = 0; i < 100; i++) {
    if (rmdir(path) == 0 || errno == ENOENT)
      return 0;
    if (errno != EBUSY)
      return -1;
    cg_sleep_ms(10);
  }
  return -1;
}

int
cg_rmdir_tree(const struct cab_cgroup_test_hooks *h, const char *path)
{
  return rmdir_tree(h, path, 0);
}

void
cg_cell_name(char *name, size_t size)
{
  snprintf(name, size, "cab.%ld.cell-%" PRIx64, (long)getpid(), (uint64_t)cab_now_ns());
}

int
cg_make_cell(const struct cab_cgroup_test_hooks *h, const char *dir, char *out, size_t size)
{
  for (int i = 0; i < 16; i++) {
    char name[64];
    cg_cell_name(name, sizeof name);
    if (cg_join(out, size, dir, name) < 0)
      return -1;
    if (cg_mkdir(h, out) == 0)
      return 0;
    if (errno != EEXIST)
      return -1;
  }
  errno = EEXIST;
  return -1;
}

bool
cg_parse_cab_name(const char *name, pid_t *pid)
{
  if (strncmp(name, "cab.", 4) != 0 || !isdigit((unsigned char)name[4]))
    return false;
  char *end = NULL;
  errno = 0;
  long v = strtol(name + 4, &end, 10);
  if (errno != 0 || v <= 0 || v > INT_MAX || *end != '.')
    return false;
  const char *rest = end + 1;
  if (strcmp(rest, "supervisor") != 0) {
    if (strncmp(rest, "cell-", 5) != 0 || rest[5] == '\0')
      return false;
    for (const char *p = rest + 5; *p; p++)
      if (!isalnum((unsigned char)*p))
        return false;
  }
  *pid = (pid_t)v;
  return true;
}

static int
kill_procs(const char *dir, int depth)
{
  int n = 0;
  cleanup_free char *text = NULL;
  if (cg_read(dir, "cgroup.procs", &text) == 0) {
    for (char *p = text; *p;) {
      char *end = NULL;
      long pid = strtol(p, &end, 10);
      if (end == p)
        break;
      p = end;
      while (*p == '\n' || *p == ' ')
        p++;
      n++;
      if (pid > 1 && pid != (long)getpid())
        kill((pid_t)pid, SIGKILL);
    }
  }
  if (depth >= CG_TREE_DEPTH)
    return n;
  cleanup_dir DIR *d = opendir(dir);
  if (d == NULL)
    return n;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_type != DT_DIR || de->d_name[0] == '.')
      continue;
    char sub[PATH_MAX];
    if (cg_join(sub, sizeof sub, dir, de->d_name) == 0)
      n += kill_procs(sub, depth + 1);
  }
  return n;
}

int
cg_kill_procs(const char *dir)
{
  return kill_procs(dir, 0);
}

static bool
has_procs(const char *dir, int depth)
{
  cleanup_free char *text = NULL;
  if (cg_read(dir, "cgroup.procs", &text) == 0 && strspn(text, " \n") != strlen(text))
    return true;
  if (depth >= CG_TREE_DEPTH)
    return false;
  cleanup_dir DIR *d = opendir(dir);
  if (d == NULL)
    return false;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_type != DT_DIR || de->d_name[0] == '.')
      continue;
    char sub[PATH_MAX];
    if (cg_join(sub, sizeof sub, dir, de->d_name) == 0 && has_procs(sub, depth + 1))
      return true;
  }
  return false;
}

bool
cg_has_procs(const char *dir)
{
  return has_procs(dir, 0);
}

void
cg_sleep_ms(int ms)
{
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
  }
}

/* ---- public entry points ---------------------------------------------- */

int
cab_cgroup_create_reason(const struct cab_cgroup_host *host, const struct cab_limits *limits,
                         struct cab_cgroup **out, enum cab_limit_mech *mem_mech,
                         enum cab_limit_mech *pids_mech, enum cab_limit_mech *cpu_mech,
                         char *reason, size_t reason_size, cab_error *err)
{
  static const struct cab_limits none = {0};
  enum cab_limit_mech mech[CG_NLIMITS] = {CAB_MECH_NONE, CAB_MECH_NONE, CAB_MECH_NONE};
  char local[512];
  struct cg_note note = {local, sizeof local};
  if (reason && reason_size > 0)
    note = (struct cg_note){reason, reason_size};
  note.buf[0] = '\0';
  *out = NULL;
  if (limits == NULL)
    limits = &none;
  int r = 0;
  switch (host->mode) {
  case CAB_CGROUP_MODE_UNIFIED:
    r = cg_v2_create(host, limits, out, mech, &note, err);
    break;
  case CAB_CGROUP_MODE_HYBRID:
  case CAB_CGROUP_MODE_LEGACY:
    r = cg_v1_create(host, limits, out, mech, &note, err);
    break;
  case CAB_CGROUP_MODE_NONE:
    cg_note(&note, "%s", host->reason[0] ? host->reason : "no cgroup filesystem is mounted");
    break;
  }
  if (r == 0 && *out == NULL && note.buf[0] == '\0')
    cg_note(&note, "no usable cgroup (%s)", cab_cgroup_mode_name(host->mode));
  if (mem_mech)
    *mem_mech = mech[CG_MEM];
  if (pids_mech)
    *pids_mech = mech[CG_PIDS];
  if (cpu_mech)
    *cpu_mech = mech[CG_CPU];
  return r;
}

int
cab_cgroup_create(const struct cab_cgroup_host *host, const struct cab_limits *limits,
                  struct cab_cgroup **out, enum cab_limit_mech *mem_mech,
                  enum cab_limit_mech *pids_mech, enum cab_limit_mech *cpu_mech, cab_error *err)
{
  return cab_cgroup_create_reason(host, limits, out, mem_mech, pids_mech, cpu_mech, NULL, 0,
                                  err);
}

const char *
cab_cgroup_cell_path(const struct cab_cgroup *cg)
{
  if (cg == NULL)
    return "";
  if (cg->version == 2)
    return cg->cell;
  return cg->n_v1 > 0 ? cg->v1[0].path : "";
}

int
cab_cgroup_clone_fd(const struct cab_cgroup *cg)
{
  return cg && cg->version == 2 ? cg->cell_fd : -1;
}

int
cab_cgroup_attach(struct cab_cgroup *cg, pid_t pid, cab_error *err)
{
  if (cg == NULL)
    return cab_error_set(err, EINVAL, "attach pid %ld: no cgroup", (long)pid);
  char val[32];
  snprintf(val, sizeof val, "%ld", (long)pid);
  if (cg->version == 2) {
    if (cg_write(cg->hooks, cg->cell, "cgroup.procs", val, err) < 0)
      return cab_error_prefix(err, "attach pid %ld to cgroup %s (moving a process needs write "
                                   "access to cgroup.procs of the common ancestor of its old "
                                   "and new cgroup)",
                              (long)pid, cg->cell);
    return 0;
  }
  for (size_t i = 0; i < cg->n_v1; i++)
    if (cg_write(cg->hooks, cg->v1[i].path, "cgroup.procs", val, err) < 0)
      return cab_error_prefix(err, "attach pid %ld to cgroup %s", (long)pid, cg->v1[i].path);
  return 0;
}

void
cab_cgroup_join_open(const struct cab_cgroup *cg, struct cab_cgroup_join *j)
{
  j->n = 0;
  if (cg == NULL || cg->version != 1 || cg->hooks != NULL || cg->n_v1 > CAB_CGROUP_JOIN_MAX)
    return;
  for (size_t i = 0; i < cg->n_v1; i++) {
    char path[PATH_MAX];
    int fd = cg_join(path, sizeof path, cg->v1[i].path, "tasks") < 0
                 ? -1
                 : open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
      cab_cgroup_join_close(j);
      return;
    }
    j->fd[j->n++] = fd;
  }
}

int
cab_cgroup_join_self(struct cab_cgroup_join *j, cab_error *err)
{
  int ret = 0;
  for (size_t i = 0; i < j->n && ret == 0; i++)
    if (write(j->fd[i], "0", 1) != 1)
      ret = cab_error_sys(err, "join the sandbox's cgroup (write 0 to a v1 tasks file)");
  cab_cgroup_join_close(j);
  return ret;
}

void
cab_cgroup_join_close(struct cab_cgroup_join *j)
{
  for (size_t i = 0; i < j->n; i++)
    close(j->fd[i]);
  j->n = 0;
}

int
cab_cgroup_kill(struct cab_cgroup *cg, cab_error *err)
{
  if (cg == NULL)
    return 0;
  if (cg->version == 2)
    return cg_v2_kill_dir(cg->hooks, cg->cell, err);
  return cg_v1_kill(cg, err);
}

bool
cab_cgroup_populated(struct cab_cgroup *cg)
{
  if (cg == NULL)
    return false;
  return cg->version == 2 ? cg_v2_populated_dir(cg->cell) : cg_v1_populated(cg);
}

int
cab_cgroup_stats(struct cab_cgroup *cg, struct cab_cgroup_stats *st)
{
  *st = (struct cab_cgroup_stats){.oom_killed = false, .peak_memory_bytes = -1,
                                  .cpu_usage_us = -1};
  if (cg == NULL)
    return -1;
  if (cg->version == 2)
    cg_v2_stats(cg, st);
  else
    cg_v1_stats(cg, st);
  return 0;
}

void
cab_cgroup_destroy(struct cab_cgroup *cg)
{
  if (cg == NULL)
    return;
  cab_error ignored = {0};
  cab_cgroup_kill(cg, &ignored);
  if (cg->version == 2) {
    if (cg->cell_fd >= 0)
      close(cg->cell_fd);
    cg_rmdir_tree(cg->hooks, cg->cell);
  }
  for (size_t i = 0; i < cg->n_v1; i++)
    cg_rmdir_tree(cg->hooks, cg->v1[i].path);
  free(cg);
}

/* ---- stale cgroups of dead cab processes ------------------------------ */

static bool
pid_dead(pid_t pid)
{
  return kill(pid, 0) < 0 && errno == ESRCH;
}

/* A cab in another pid namespace looks dead from here, but it still sits
 * in its populated supervisor cgroup. */
static bool
supervisor_busy(const char *dir, pid_t pid)
{
  char name[64], sup[PATH_MAX];
  snprintf(name, sizeof name, "cab.%ld.supervisor", (long)pid);
  return cg_join(sup, sizeof sup, dir, name) == 0 && access(sup, F_OK) == 0 &&
         cg_v2_populated_dir(sup);
}

static int
clean_dir(const struct cab_cgroup_test_hooks *h, const char *dir, int version, int rc,
          cab_error *err)
{
  cleanup_dir DIR *d = opendir(dir);
  if (d == NULL)
    return rc; /* nothing of ours can be there */
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    pid_t pid;
    char path[PATH_MAX];
    if (de->d_type != DT_DIR || !cg_parse_cab_name(de->d_name, &pid) || pid == getpid() ||
        !pid_dead(pid) || (version == 2 && supervisor_busy(dir, pid)) ||
        cg_join(path, sizeof path, dir, de->d_name) < 0)
      continue;
    cab_error e = {0};
    int k = version == 2 ? cg_v2_kill_dir(h, path, &e) : cg_v1_kill_dir(h, path, &e);
    if (k < 0 && rc == 0) {
      *err = e;
      rc = -1;
    }
    if (cg_rmdir_tree(h, path) < 0 && rc == 0)
      rc = cab_error_sys(err, "remove stale cgroup %s of dead cab %ld", path, (long)pid);
  }
  return rc;
}

int
cab_cgroup_cleanup_stale(const struct cab_cgroup_host *host, cab_error *err)
{
  const struct cab_cgroup_test_hooks *h = host->test_hooks;
  char seen[CG_MAX_V1 + 1][PATH_MAX];
  size_t n = 0;
  int rc = 0;
  cab_error first = {0}; /* report the first failure, keep cleaning */
  err = err ? err : &first;
  if (host->mode == CAB_CGROUP_MODE_UNIFIED) {
    if (host->v2_writable && cg_join(seen[n], PATH_MAX, host->v2_mount, host->v2_base) == 0)
      rc = clean_dir(h, seen[n++], 2, rc, err);
    char root_cab[PATH_MAX];
    if (geteuid() == 0 && cg_join(root_cab, sizeof root_cab, host->v2_mount, "cab") == 0 &&
        (n == 0 || strcmp(root_cab, seen[0]) != 0))
      rc = clean_dir(h, root_cab, 2, rc, err);
    return rc;
  }
  if (host->mode == CAB_CGROUP_MODE_NONE)
    return 0;
  const __typeof__(host->v1_memory) *hier[] = {&host->v1_memory, &host->v1_pids, &host->v1_cpu,
                                               &host->v1_cpuacct, &host->v1_freezer};
  for (size_t i = 0; i < sizeof hier / sizeof hier[0]; i++) {
    if (!hier[i]->writable || cg_join(seen[n], PATH_MAX, hier[i]->mount, hier[i]->base) < 0)
      continue;
    bool dup = false;
    for (size_t j = 0; j < n; j++)
      dup |= strcmp(seen[j], seen[n]) == 0;
    if (!dup)
      rc = clean_dir(h, seen[n++], 1, rc, err);
  }
  return rc;
}
