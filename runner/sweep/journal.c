/* The sweep journal and lock (runner/sweep/journal.h). */
#include "runner/sweep/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/strfmt.h"

/* flock PATH (created) with OP; on EWOULDBLOCK, say who holds it. */
static int
lock_file(const char *path, int op, cab_error *err)
{
  cleanup_close int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return cab_error_sys(err, "open the sweep lock %s", path);
  if (flock(fd, op | LOCK_NB) < 0) {
    if (errno != EWOULDBLOCK)
      return cab_error_sys(err, "lock %s", path);
    char pid[32] = "";
    ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
    pid[n > 0 ? n : 0] = '\0';
    pid[strcspn(pid, "\n")] = '\0';
    return cab_error_set(err, 0, "another cab sweep%s%s%s is running on this sweep (%s); wait for "
                                 "it, or stop it and use --resume",
                         pid[0] ? " (pid " : "", pid, pid[0] ? ")" : "", path);
  }
  if (op == LOCK_EX) {
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
    if (ftruncate(fd, 0) == 0 && pwrite(fd, pid, (size_t)len, 0) < 0) {
      /* the pid is only a hint for the message above */
    }
  }
  return cab_steal_fd(&fd);
}

int
cab_sweep_journal_open(const char *meta_dir, unsigned shard_k, unsigned shard_n,
                       struct cab_sweep_journal *j, cab_error *err)
{
  j->fd = j->lock_fd = j->shard_lock_fd = -1;
  if (cab_mkdir_p(meta_dir, 0755, err) < 0)
    return -1;
  char path[PATH_MAX];
  if (cab_path_printf(path, sizeof path, err, "%s/lock", meta_dir) < 0)
    return cab_error_prefix(err, "sweep lock");
  j->lock_fd = lock_file(path, shard_n ? LOCK_SH : LOCK_EX, err);
  if (j->lock_fd < 0)
    return -1;
  if (shard_n) {
    if (cab_path_printf(path, sizeof path, err, "%s/lock.shard-%u-of-%u", meta_dir, shard_k,
                        shard_n) < 0) {
      cab_error_prefix(err, "sweep lock");
      cab_sweep_journal_close(j);
      return -1;
    }
    j->shard_lock_fd = lock_file(path, LOCK_EX, err);
    if (j->shard_lock_fd < 0) {
      cab_sweep_journal_close(j);
      return -1;
    }
  }
  if (cab_path_printf(path, sizeof path, err, "%s/journal.jsonl", meta_dir) < 0) {
    cab_error_prefix(err, "sweep journal");
    cab_sweep_journal_close(j);
    return -1;
  }
  j->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (j->fd < 0) {
    cab_error_sys(err, "open the sweep journal %s", path);
    cab_sweep_journal_close(j);
    return -1;
  }
  /* A line torn by a kill: close it, so that the next line stands alone. */
  struct stat st;
  char last = '\n';
  cleanup_close int rfd = open(path, O_RDONLY | O_CLOEXEC);
  if (rfd >= 0 && fstat(rfd, &st) == 0 && st.st_size > 0 &&
      pread(rfd, &last, 1, st.st_size - 1) == 1 && last != '\n' && write(j->fd, "\n", 1) != 1) {
    cab_error_sys(err, "write the sweep journal %s", path);
    cab_sweep_journal_close(j);
    return -1;
  }
  return 0;
}

void
cab_sweep_journal_close(struct cab_sweep_journal *j)
{
  /* The pid in an exclusively held lock file is ours: clear it. */
  int held = j->shard_lock_fd >= 0 ? j->shard_lock_fd : j->lock_fd;
  if (held >= 0 && (j->shard_lock_fd >= 0 || j->fd >= 0) && ftruncate(held, 0) < 0) {
    /* only a hint for the "another cab sweep" message */
  }
  cab_closep(&j->fd);
  cab_closep(&j->shard_lock_fd);
  cab_closep(&j->lock_fd);
  j->fd = j->lock_fd = j->shard_lock_fd = -1;
}

int
cab_sweep_journal_append(struct cab_sweep_journal *j, const cJSON *line, cab_error *err)
{
  cleanup_free char *text = cJSON_PrintUnformatted(line);
  if (text == NULL)
    return cab_error_sys(err, "sweep journal: memory");
  size_t len = strlen(text);
  text[len] = '\n'; /* replaces the NUL: the buffer is not a string after this */
  ssize_t n;
  do
    n = write(j->fd, text, len + 1);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return cab_error_sys(err, "append to the sweep journal");
  if ((size_t)n != len + 1)
    return cab_error_set(err, EIO, "append to the sweep journal: short write");
  return 0;
}

int
cab_sweep_journal_read(const char *meta_dir, int (*cb)(const cJSON *line, void *arg), void *arg,
                       cab_error *err)
{
  char path[PATH_MAX];
  if (cab_path_printf(path, sizeof path, err, "%s/journal.jsonl", meta_dir) < 0)
    return cab_error_prefix(err, "sweep journal");
  cleanup_fclose FILE *f = fopen(path, "re");
  if (f == NULL) {
    if (errno == ENOENT)
      return 0;
    return cab_error_sys(err, "read the sweep journal %s", path);
  }
  cleanup_free char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  while ((n = getline(&line, &cap, f)) >= 0) {
    if (n == 0 || line[n - 1] != '\n')
      break; /* a torn last line */
    cJSON *j = cJSON_ParseWithLength(line, (size_t)n);
    if (j == NULL)
      continue;
    int r = cJSON_IsObject(j) ? cb(j, arg) : 0;
    cJSON_Delete(j);
    if (r < 0)
      return r;
  }
  return 0;
}
