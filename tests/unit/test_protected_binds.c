/* Unit tests for the verifier's read-only harness (runner/cell/protected_binds.c):
 * which paths of a verify copy are bound, whole directories where every
 * entry is protected, a pin before the files of a mixed directory, hidden
 * graders (the task's and its family's), the harness's own directories
 * bound whole, no symlinks, and nothing for a task that protects nothing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runner/cell/protected_binds.h"

static char base[PATH_MAX];

static void
put(const char *rel)
{
  char p[PATH_MAX * 2];
  snprintf(p, sizeof p, "%s/%s", base, rel);
  for (char *s = strchr(p + strlen(base) + 1, '/'); s; s = strchr(s + 1, '/')) {
    *s = '\0';
    mkdir(p, 0755);
    *s = '/';
  }
  int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  assert_true(fd >= 0);
  close(fd);
}

/* The index of the bind on DST (below /work), or -1. */
static int
find(const struct cab_protected_binds *b, const char *dst, bool readonly)
{
  char want[PATH_MAX];
  snprintf(want, sizeof want, "/work/%s", dst);
  for (size_t i = 0; i < b->n; i++)
    if (strcmp(b->v[i].dst, want) == 0) {
      assert_int_equal(b->v[i].readonly, readonly);
      char src[PATH_MAX * 2];
      snprintf(src, sizeof src, "%s/verify/%s", base, dst);
      assert_string_equal(b->v[i].src, src);
      return (int)i;
    }
  return -1;
}

static int
setup(void **state)
{
  (void)state;
  snprintf(base, sizeof base, "/var/tmp/cab-protected-XXXXXX");
  assert_non_null(mkdtemp(base));
  put("task/hidden/.cab/grade.sh");
  put("verify/.cab/grade.sh");
  put("verify/tests/run.sh");
  put("verify/tests/data/in.txt");
  put("verify/src/main.c");
  put("verify/docs/spec.md");
  put("verify/docs/notes.md");
  char link[PATH_MAX * 2];
  snprintf(link, sizeof link, "%s/verify/docs/link.md", base);
  assert_int_equal(symlink("spec.md", link), 0);
  return 0;
}

static int
teardown(void **state)
{
  (void)state;
  char cmd[PATH_MAX + 16];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
  return system(cmd) == 0 ? 0 : -1;
}

static void
test_whole_mixed_hidden(void **state)
{
  (void)state;
  char task_dir[PATH_MAX * 2], verify[PATH_MAX * 2];
  snprintf(task_dir, sizeof task_dir, "%s/task", base);
  snprintf(verify, sizeof verify, "%s/verify", base);
  char *globs[] = {"tests/**", "docs/spec.md", "docs/link.md"};
  struct cab_task t = {.dir = task_dir, .task_id = "polyglot/x",
                       .protected_paths = {.v = globs, .n = 3}};
  struct cab_protected_binds b;
  cab_error err = {0};
  assert_int_equal(cab_protected_binds(&t, verify, "/work", &b, &err), 0);
  /* tests/ and .cab/ whole; docs/ pinned (writable), then its one file. */
  assert_int_equal(b.n, 4);
  assert_int_equal(b.n_readonly, 3);
  assert_true(find(&b, "tests", true) >= 0);
  assert_true(find(&b, ".cab", true) >= 0);
  int pin = find(&b, "docs", false), spec = find(&b, "docs/spec.md", true);
  assert_true(pin >= 0 && spec > pin);
  assert_int_equal(find(&b, "src/main.c", true), -1);
  cab_protected_binds_free(&b);
}

/* The family's shared hidden layer (tasks/<family>/hidden/, the task's
 * parent's) is protected as the task's own.  A .cab/ that only the hidden
 * layers have is the harness's own: bound read-only whole, whatever else
 * it holds, so that nothing can be added beside the graders while they
 * run. */
static void
test_family_hidden(void **state)
{
  (void)state;
  put("fam/hidden/.cab/lib.py");
  put("fam/task/hidden/.cab/grade.sh");
  put("fam/task/workdir/README.md");
  put("verify2/.cab/lib.py");
  put("verify2/.cab/grade.sh");
  put("verify2/.cab/agent.txt");
  char task_dir[PATH_MAX * 2], verify[PATH_MAX * 2];
  snprintf(task_dir, sizeof task_dir, "%s/fam/task", base);
  snprintf(verify, sizeof verify, "%s/verify2", base);
  struct cab_task t = {.dir = task_dir, .task_id = "integrity/x"};
  struct cab_protected_binds b;
  cab_error err = {0};
  assert_int_equal(cab_protected_binds(&t, verify, "/work", &b, &err), 0);
  assert_int_equal(b.n, 1);
  assert_int_equal(b.n_readonly, 1);
  assert_string_equal(b.v[0].dst, "/work/.cab");
  assert_true(b.v[0].readonly);
  cab_protected_binds_free(&b);
}

/* A .cab/ the pristine workdir has too is mixed: pinned, both layers'
 * files in it bound read-only, what the agent left there is not (the task
 * author's protected_paths say what to restore there). */
static void
test_mixed_hidden_dir(void **state)
{
  (void)state;
  put("fam2/hidden/.cab/lib.py");
  put("fam2/task/hidden/.cab/grade.sh");
  put("fam2/task/workdir/.cab/config");
  put("verify3/.cab/config");
  put("verify3/.cab/lib.py");
  put("verify3/.cab/grade.sh");
  put("verify3/.cab/agent.txt");
  char task_dir[PATH_MAX * 2], verify[PATH_MAX * 2];
  snprintf(task_dir, sizeof task_dir, "%s/fam2/task", base);
  snprintf(verify, sizeof verify, "%s/verify3", base);
  struct cab_task t = {.dir = task_dir, .task_id = "integrity/x"};
  struct cab_protected_binds b;
  cab_error err = {0};
  assert_int_equal(cab_protected_binds(&t, verify, "/work", &b, &err), 0);
  assert_int_equal(b.n, 3);
  assert_int_equal(b.n_readonly, 2);
  assert_string_equal(b.v[0].dst, "/work/.cab");
  assert_false(b.v[0].readonly);
  bool lib = false, grade = false;
  for (size_t i = 1; i < b.n; i++) {
    lib |= strcmp(b.v[i].dst, "/work/.cab/lib.py") == 0 && b.v[i].readonly;
    grade |= strcmp(b.v[i].dst, "/work/.cab/grade.sh") == 0 && b.v[i].readonly;
  }
  assert_true(lib && grade);
  cab_protected_binds_free(&b);
}

static void
test_nothing_protected(void **state)
{
  (void)state;
  char verify[PATH_MAX * 2];
  snprintf(verify, sizeof verify, "%s/verify", base);
  struct cab_task t = {.dir = NULL, .task_id = "integrity/x"};
  struct cab_protected_binds b;
  cab_error err = {0};
  assert_int_equal(cab_protected_binds(&t, verify, "/work", &b, &err), 0);
  assert_int_equal(b.n, 0);
  cab_protected_binds_free(&b);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_whole_mixed_hidden),
      cmocka_unit_test(test_family_hidden),
      cmocka_unit_test(test_mixed_hidden_dir),
      cmocka_unit_test(test_nothing_protected),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
