/* Unit tests for the --host-rootfs masks (sandbox/host_masks.c): which
 * paths are hidden, which never are ("/", the trees a sandbox needs and
 * their ancestors), canonical paths and no duplicates; every home of
 * /etc/passwd outside the distribution's own trees. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox/host_masks.h"

static bool
has(const struct cab_host_masks *m, const char *path)
{
  for (size_t i = 0; i < m->n; i++)
    if (strcmp(m->paths[i], path) == 0)
      return true;
  return false;
}

static void
test_never_masked(void **state)
{
  (void)state;
  struct cab_host_masks m = {0};
  cab_error err = {0};
  static const char *const never[] = {"/", "/usr", "/etc", "/bin", "/var", "/tmp", "/proc",
                                      "/dev", "/run", "/opt", "", NULL};
  for (size_t i = 0; i < sizeof never / sizeof *never; i++)
    assert_int_equal(cab_host_masks_add(&m, never[i], &err), 0);
  if (m.n > 0)
    fail_msg("%s was masked", m.paths[0]);
  /* Absent paths hide nothing. */
  assert_int_equal(cab_host_masks_add(&m, "/nonexistent/cab-test-path", &err), 0);
  assert_int_equal(m.n, 0);
  cab_host_masks_free(&m);
}

static void
test_canonical_and_unique(void **state)
{
  (void)state;
  char dir[] = "/var/tmp/cab-masks-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char sub[PATH_MAX], link[PATH_MAX], dotted[PATH_MAX];
  snprintf(sub, sizeof sub, "%s/tasks", dir);
  snprintf(link, sizeof link, "%s/link", dir);
  snprintf(dotted, sizeof dotted, "%s/./tasks/", dir);
  assert_int_equal(mkdir(sub, 0755), 0);
  assert_int_equal(symlink("tasks", link), 0);
  struct cab_host_masks m = {0};
  cab_error err = {0};
  assert_int_equal(cab_host_masks_add(&m, link, &err), 0);
  assert_int_equal(cab_host_masks_add(&m, dotted, &err), 0);
  assert_int_equal(cab_host_masks_add(&m, sub, &err), 0);
  assert_int_equal(m.n, 1);
  assert_string_equal(m.paths[0], sub); /* the symlink's target, not the link */
  /* Below a system tree, an explicit path is masked (an installed task
   * tree under /usr/share). */
  assert_int_equal(cab_host_masks_add(&m, "/usr/share", &err), 0);
  assert_true(has(&m, "/usr/share"));
  cab_host_masks_free(&m);
  unlink(link);
  rmdir(sub);
  rmdir(dir);
}

static void
test_homes(void **state)
{
  (void)state;
  struct cab_host_masks m = {0};
  cab_error err = {0};
  assert_int_equal(cab_host_masks_add_homes(&m, &err), 0);
  struct stat st;
  if (stat("/root", &st) == 0)
    assert_true(has(&m, "/root"));
  if (stat("/home", &st) == 0)
    assert_true(has(&m, "/home"));
  FILE *f = fopen("/etc/passwd", "re");
  assert_non_null(f);
  struct passwd *pw;
  while ((pw = fgetpwent(f)) != NULL) {
    char real[PATH_MAX];
    if (realpath(pw->pw_dir, real) == NULL || stat(real, &st) < 0 || !S_ISDIR(st.st_mode))
      continue;
    bool system = strncmp(real, "/usr", 4) == 0 || strncmp(real, "/bin", 4) == 0 ||
                  strncmp(real, "/sbin", 5) == 0 || strcmp(real, "/") == 0 ||
                  strncmp(real, "/dev", 4) == 0 || strncmp(real, "/etc", 4) == 0;
    if (system)
      assert_false(has(&m, real));
    else
      assert_true(has(&m, real));
  }
  fclose(f);
  assert_false(has(&m, "/usr/sbin")); /* daemon's home */
  assert_false(has(&m, "/bin"));      /* sync's */
  cab_host_masks_free(&m);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_never_masked),
      cmocka_unit_test(test_canonical_and_unique),
      cmocka_unit_test(test_homes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
