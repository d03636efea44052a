/* v1-move: what moving a fresh process into a cgroup v1 hierarchy costs,
 * the two ways cab could do it: the parent writes the child's pid to
 * cgroup.procs (what cab did up to issue 16), or the child writes "0" to
 * the tasks file the parent opened (cab_cgroup_join_self).  Each round
 * makes BASE/v1-move.N, forks, moves the child, and removes the cgroup;
 * rounds are GAP_MS apart, as separate cells would be.
 *
 *   v1-move BASE ROUNDS GAP_MS
 *
 * Prints one line per way: mean and median of the move itself, in ms. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double
now_ms(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int
cmp(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* One round: the move's time in ms, or -1. */
static double
one(const char *base, int round, int by_child)
{
  char dir[4096], knob[4200];
  snprintf(dir, sizeof dir, "%s/v1-move.%d.%d", base, (int)getpid(), round);
  if (mkdir(dir, 0755) < 0)
    return -1;
  snprintf(knob, sizeof knob, "%s/%s", dir, by_child ? "tasks" : "cgroup.procs");
  int fd = open(knob, O_WRONLY | O_CLOEXEC);
  int p[2];
  double ms = -1;
  if (fd >= 0 && pipe(p) == 0) {
    pid_t pid = fork();
    if (pid == 0) {
      double t0 = now_ms();
      int ok = !by_child || write(fd, "0", 1) == 1;
      double d = now_ms() - t0;
      if (write(p[1], ok ? &d : &(double){-1}, sizeof d) < 0)
        _exit(1);
      _exit(0);
    }
    double t0 = now_ms();
    if (!by_child) {
      char v[32];
      int n = snprintf(v, sizeof v, "%d", (int)pid);
      ms = write(fd, v, (size_t)n) == n ? now_ms() - t0 : -1;
    }
    close(p[1]);
    double d = -1;
    if (read(p[0], &d, sizeof d) != (ssize_t)sizeof d)
      d = -1;
    if (by_child)
      ms = d;
    close(p[0]);
    waitpid(pid, NULL, 0);
  }
  if (fd >= 0)
    close(fd);
  rmdir(dir);
  return ms;
}

int
main(int argc, char **argv)
{
  if (argc != 4) {
    fprintf(stderr, "usage: v1-move BASE ROUNDS GAP_MS\n");
    return 2;
  }
  int rounds = atoi(argv[2]), gap = atoi(argv[3]);
  if (rounds < 1 || rounds > 10000 || gap < 0)
    return 2;
  double *t[2] = {calloc(rounds, sizeof(double)), calloc(rounds, sizeof(double))};
  for (int i = 0; i < rounds; i++)
    for (int w = 0; w < 2; w++) {
      usleep((useconds_t)gap * 1000);
      if ((t[w][i] = one(argv[1], i, w)) < 0) {
        fprintf(stderr, "v1-move: round %d failed under %s\n", i, argv[1]);
        return 1;
      }
    }
  static const char *const name[2] = {"parent writes the pid to cgroup.procs",
                                      "child writes 0 to tasks"};
  for (int w = 0; w < 2; w++) {
    double sum = 0;
    for (int i = 0; i < rounds; i++)
      sum += t[w][i];
    qsort(t[w], rounds, sizeof(double), cmp);
    printf("%-38s mean %.3f ms, median %.3f ms\n", name[w], sum / rounds, t[w][rounds / 2]);
  }
  return 0;
}
