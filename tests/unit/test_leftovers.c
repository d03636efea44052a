/* Tests for runner/cell/leftovers.c on real directories and real processes: a
 * dead run's scratch is removed; a live run's never is, whether its pid is
 * alive here or it only holds its lock (a run in another pid namespace, or
 * a reused pid); names that are not a run's, other users' directories and
 * symlinks are left alone; gc's byte count is the trees' size. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runner/cell/leftovers.h"
#include "tests/unit/test_tmpdir.h"

CAB_TEST_TMPDIR("leftovers")

/* A pid that was ours a moment ago and is dead now (reaped). */
static pid_t
dead_pid(void)
{
  pid_t p = fork();
  if (p == 0)
    _exit(0);
  waitpid(p, NULL, 0);
  return p;
}

static void
make_tree(const char *name, size_t bytes)
{
  char path[256];
  snprintf(path, sizeof path, "%s/%s", root, name);
  assert_int_equal(mkdir(path, 0700), 0);
  snprintf(path, sizeof path, "%s/%s/work", root, name);
  assert_int_equal(mkdir(path, 0700), 0);
  snprintf(path, sizeof path, "%s/%s/work/file", root, name);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  for (size_t i = 0; i < bytes; i++)
    fputc('x', f);
  fclose(f);
}

static bool
exists(const char *name)
{
  char path[256];
  snprintf(path, sizeof path, "%s/%s", root, name);
  struct stat st;
  return lstat(path, &st) == 0;
}

static void
test_reap(void **state)
{
  (void)state;
  pid_t dead = dead_pid();
  char gone[64], held[64], live[64], other[64], link[64];
  snprintf(gone, sizeof gone, "cab-cell-%d-aaaaaa", (int)dead);
  snprintf(held, sizeof held, "cab-cell-%d-bbbbbb", (int)dead);
  snprintf(live, sizeof live, "cab-cell-%d-cccccc", (int)getpid());
  snprintf(other, sizeof other, "cab-other-%d-dddddd", (int)dead);
  snprintf(link, sizeof link, "cab-cell-%d-eeeeee", (int)dead);
  make_tree(gone, 100000);
  make_tree(held, 10);
  make_tree(live, 10);
  make_tree(other, 10);
  char target[256], lpath[256];
  snprintf(target, sizeof target, "%s/%s", root, other);
  snprintf(lpath, sizeof lpath, "%s/%s", root, link);
  assert_int_equal(symlink(target, lpath), 0);

  /* HELD's owner looks dead here but holds its lock (another pid
   * namespace, or its pid was reused by a cab that locked its own). */
  char hpath[256];
  snprintf(hpath, sizeof hpath, "%s/%s", root, held);
  int lock = cab_owned_dir_lock(hpath);
  assert_true(lock >= 0);

  static const char *const prefixes[] = {"cab-cell-", NULL};
  struct cab_reaped r = {0};
  cab_owned_dirs_reap(root, prefixes, true, &r);
  assert_false(exists(gone));
  assert_true(exists(held));
  assert_true(exists(live));
  assert_true(exists(other));
  assert_true(exists(link)); /* not a directory: never followed */
  assert_true(exists(other));
  assert_int_equal(r.entries, 1);
  assert_true(r.bytes >= 100000);

  /* Its lock released (the run died), HELD goes too. */
  close(lock);
  cab_owned_dirs_reap(root, prefixes, false, NULL);
  assert_false(exists(held));
  assert_true(exists(live));
}

/* cab_owned_dir_make names the directory after us and holds its lock: a
 * reaper that runs meanwhile (even one that thought us dead) keeps it. */
static void
test_make(void **state)
{
  (void)state;
  char path[256];
  int lock = -1;
  cab_error err = {0};
  assert_int_equal(cab_owned_dir_make(root, "cab-exec-", path, sizeof path, &lock, &err), 0);
  char want[128];
  snprintf(want, sizeof want, "%s/cab-exec-%d-", root, (int)getpid());
  assert_memory_equal(path, want, strlen(want));
  assert_int_equal(strlen(path), strlen(want) + 6);
  int other = open(path, O_RDONLY | O_DIRECTORY);
  assert_true(other >= 0);
  assert_int_equal(flock(other, LOCK_EX | LOCK_NB), -1); /* held */
  close(other);
  static const char *const prefixes[] = {"cab-exec-", NULL};
  cab_owned_dirs_reap(root, prefixes, false, NULL);
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  close(lock);
}

/* cab_owned_dir_remove_behind: the directory and its contents go, by a
 * process that holds the lock until they have. */
static void
test_remove_behind(void **state)
{
  (void)state;
  char path[256], file[300];
  int lock = -1;
  cab_error err = {0};
  assert_int_equal(cab_owned_dir_make(root, "cab-exec-", path, sizeof path, &lock, &err), 0);
  snprintf(file, sizeof file, "%s/upper", path);
  assert_int_equal(mkdir(file, 0755), 0);
  snprintf(file, sizeof file, "%s/upper/written", path);
  int fd = open(file, O_WRONLY | O_CREAT, 0644);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, "x", 1), 1);
  close(fd);

  cab_owned_dir_remove_behind(path, lock);

  /* Wait for the remover by taking the lock it holds, then: gone. */
  int other = open(path, O_RDONLY | O_DIRECTORY);
  if (other >= 0) {
    assert_int_equal(flock(other, LOCK_EX), 0);
    close(other);
  }
  struct stat st;
  assert_int_equal(stat(path, &st), -1);
  assert_int_equal(errno, ENOENT);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_reap, setup, teardown),
      cmocka_unit_test_setup_teardown(test_make, setup, teardown),
      cmocka_unit_test_setup_teardown(test_remove_behind, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
