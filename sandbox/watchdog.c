#include "sandbox/watchdog.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"

static int64_t
anon_rss(pid_t pid)
{
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/statm", pid);
  cleanup_fclose FILE *f = fopen(path, "re");
  long long size, resident, shared;
  if (f == NULL || fscanf(f, "%lld %lld %lld", &size, &resident, &shared) != 3)
    return 0;
  long long anon = resident - shared;
  return anon > 0 ? anon * sysconf(_SC_PAGESIZE) : 0;
}

static int64_t
walk(pid_t pid, int depth)
{
  int64_t total = anon_rss(pid);
  if (depth > 64)
    return total;
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/task", pid);
  cleanup_dir DIR *tasks = opendir(path);
  if (tasks == NULL)
    return total;
  struct dirent *t;
  while ((t = readdir(tasks)) != NULL) {
    if (t->d_name[0] == '.')
      continue;
    char cpath[128];
    snprintf(cpath, sizeof cpath, "/proc/%d/task/%s/children", pid, t->d_name);
    cleanup_fclose FILE *f = fopen(cpath, "re");
    if (f == NULL)
      continue;
    int child;
    while (fscanf(f, "%d", &child) == 1)
      total += walk(child, depth + 1);
  }
  return total;
}

int64_t
cab_tree_anon_rss(pid_t root)
{
  return walk(root, 0);
}
