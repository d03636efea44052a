/* How many cells at once: cores, memory, the plan and -j. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "runner/sweep/internal.h"

long
cab_sweep_host_cpus(void)
{
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
    return CPU_COUNT(&set);
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? n : 1;
}

int64_t
cab_sweep_host_mem_available(void)
{
  cleanup_fclose FILE *f = fopen("/proc/meminfo", "re");
  if (f == NULL)
    return -1;
  char line[256];
  while (fgets(line, sizeof line, f)) {
    long long kb;
    if (sscanf(line, "MemAvailable: %lld kB", &kb) == 1)
      return (int64_t)kb * 1024;
  }
  return -1;
}

static void
human(int64_t bytes, char *buf, size_t size)
{
  if (bytes >= (int64_t)1 << 30)
    snprintf(buf, size, "%.1fG", (double)bytes / (1 << 30));
  else
    snprintf(buf, size, "%.0fM", (double)bytes / (1 << 20));
}

int
cab_sweep_choose_jobs(struct sweep *s, cab_error *err)
{
  const struct cab_sweep_plan *p = s->plan;
  long cpus = cab_sweep_host_cpus();
  int64_t avail = cab_sweep_host_mem_available();
  long mem_cap = 0; /* 0: unknown */
  char a[32] = "?", m[32];
  human(p->memory_bytes, m, sizeof m);
  if (avail > 0) {
    human(avail, a, sizeof a);
    mem_cap = (long)(avail / p->memory_bytes);
    if (mem_cap < 1)
      return cab_error_set(err, 0, "%s: memory: each cell may use %s, but only %s is available "
                                   "(MemAvailable); lower \"memory\" in the plan",
                           p->origin, m, a);
    s->mem_budget = avail;
  }
  long j = s->o->jobs > 0 ? s->o->jobs : cpus;
  const char *why = s->o->jobs > 0 ? "-j" : "cores";
  if (s->o->jobs <= 0 && mem_cap > 0 && mem_cap < j) {
    j = mem_cap;
    why = "memory";
  }
  if (p->max_concurrency > 0 && p->max_concurrency < j) {
    j = p->max_concurrency;
    why = "the plan's max_concurrency";
  }
  if (mem_cap > 0 && mem_cap < j) {
    j = mem_cap;
    why = "memory";
  }
  s->jobs = j;
  snprintf(s->jobs_why, sizeof s->jobs_why, "by %s; %ld cores, %s available, %s per cell", why,
           cpus, a, m);
  return 0;
}
