#include "sandbox/watchdog.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "common/cleanup.h"

/* memfd inodes already counted in this sample (a memfd shared by several
 * processes, or several fds, is one memfd). */
#define MAX_MEMFDS 1024
struct seen {
  struct {
    dev_t dev;
    ino_t ino;
  } v[MAX_MEMFDS];
  size_t n;
};

static bool
seen_add(struct seen *s, dev_t dev, ino_t ino)
{
  for (size_t i = 0; i < s->n; i++)
    if (s->v[i].dev == dev && s->v[i].ino == ino)
      return false;
  if (s->n < MAX_MEMFDS) {
    s->v[s->n].dev = dev;
    s->v[s->n].ino = ino;
    s->n++;
  }
  return true; /* past MAX_MEMFDS, count again rather than not at all */
}

/* RssAnon and RssShmem of PID, from /proc/PID/status: counters the kernel
 * keeps, read in constant time (smaps_rollup's proportional Pss_* walk the
 * page tables: a millisecond for a large process, too dear every 10 ms).
 * statm's resident - shared on kernels without them (before 4.5). */
static void
process_memory(pid_t pid, struct cab_mem_sample *s)
{
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/status", pid);
  cleanup_fclose FILE *f = fopen(path, "re");
  bool have_anon = false;
  long long kb;
  while (f && fgets(line, sizeof line, f)) {
    if (line[0] != 'R')
      continue;
    if (sscanf(line, "RssAnon: %lld kB", &kb) == 1) {
      s->anon += kb * 1024;
      have_anon = true;
    } else if (sscanf(line, "RssShmem: %lld kB", &kb) == 1) {
      s->shmem += kb * 1024;
    }
  }
  if (have_anon)
    return;
  snprintf(path, sizeof path, "/proc/%d/statm", pid);
  cleanup_fclose FILE *m = fopen(path, "re");
  long long size, resident, shared;
  if (m && fscanf(m, "%lld %lld %lld", &size, &resident, &shared) == 3 && resident > shared)
    s->anon += (resident - shared) * sysconf(_SC_PAGESIZE);
}

/* memfds PID holds open. */
static void
process_memfds(pid_t pid, struct cab_mem_sample *s, struct seen *seen)
{
  char dir[64];
  snprintf(dir, sizeof dir, "/proc/%d/fd", pid);
  cleanup_dir DIR *d = opendir(dir);
  if (d == NULL)
    return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    char link[64];
    ssize_t n = readlinkat(dirfd(d), e->d_name, link, sizeof link - 1);
    if (n <= 0)
      continue;
    link[n] = '\0';
    if (strncmp(link, "/memfd:", 7) != 0)
      continue;
    struct stat st;
    if (fstatat(dirfd(d), e->d_name, &st, 0) == 0 && seen_add(seen, st.st_dev, st.st_ino))
      s->memfd += (int64_t)st.st_blocks * 512;
  }
}

static void
walk(pid_t pid, int depth, struct cab_mem_sample *s, struct seen *seen)
{
  process_memory(pid, s);
  process_memfds(pid, s, seen);
  if (depth > 64)
    return;
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/task", pid);
  cleanup_dir DIR *tasks = opendir(path);
  if (tasks == NULL)
    return;
  struct dirent *t;
  while ((t = readdir(tasks)) != NULL) {
    if (t->d_name[0] == '.')
      continue;
    char cpath[sizeof "/proc//task//children" + 12 + sizeof t->d_name];
    snprintf(cpath, sizeof cpath, "/proc/%d/task/%s/children", pid, t->d_name);
    cleanup_fclose FILE *f = fopen(cpath, "re");
    if (f == NULL)
      continue;
    int child;
    while (fscanf(f, "%d", &child) == 1)
      walk(child, depth + 1, s, seen);
  }
}

/* The sandbox's own tmpfs mounts. */
static int64_t
tmpfs_used(const int fds[2])
{
  int64_t used = 0;
  for (int i = 0; i < 2; i++) {
    struct statfs sf;
    if (fds[i] >= 0 && fstatfs(fds[i], &sf) == 0 && sf.f_type == TMPFS_MAGIC &&
        sf.f_blocks >= sf.f_bfree)
      used += (int64_t)(sf.f_blocks - sf.f_bfree) * (int64_t)sf.f_bsize;
  }
  return used;
}

void
cab_tree_memory(pid_t root, const int tmpfs_fds[2], struct cab_mem_sample *s)
{
  memset(s, 0, sizeof *s);
  struct seen *seen = calloc(1, sizeof *seen);
  if (seen == NULL)
    return;
  walk(root, 0, s, seen);
  free(seen);
  s->tmpfs = tmpfs_used(tmpfs_fds);
  s->total = s->anon + s->shmem + s->memfd + s->tmpfs;
}
