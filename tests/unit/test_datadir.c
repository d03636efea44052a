/* Tests for common/datadir.c: the one data-file search order.  The
 * variable comes first and, for a directory, is taken as given; then the
 * build tree and the install beside the executable; never the current
 * directory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/datadir.h"
#include "common/fsutil.h"

static bool
ends_with(const char *s, const char *tail)
{
  size_t n = strlen(s), t = strlen(tail);
  return n >= t && strcmp(s + n - t, tail) == 0;
}

static void
test_order(void **state)
{
  (void)state;
  char dirs[CAB_DATADIR_MAX][CAB_DATADIR_PATH], exe[CAB_DATADIR_PATH], want[CAB_DATADIR_PATH + 32];
  assert_int_equal(cab_exe_dir(exe, sizeof exe), 0);
  unsetenv("CAB_DATA_DIR");
  setenv("CAB_ADAPTERS_DIR", "/env/adapters", 1);
  assert_int_equal(cab_datadir_candidates(CAB_DATA_ADAPTERS, dirs), 3);
  assert_string_equal(dirs[0], "/env/adapters");
  snprintf(want, sizeof want, "%s/../runner/adapters", exe);
  assert_string_equal(dirs[1], want);
  snprintf(want, sizeof want, "%s/../share/cab/adapters", exe);
  assert_string_equal(dirs[2], want);
  setenv("CAB_ADAPTERS_DIR", "", 1); /* empty: unset */
  assert_int_equal(cab_datadir_candidates(CAB_DATA_ADAPTERS, dirs), 2);
  unsetenv("CAB_ADAPTERS_DIR");
  unsetenv("CAB_PROFILE_DIR");
  assert_int_equal(cab_datadir_candidates(CAB_DATA_PROFILES, dirs), 2);
  assert_true(ends_with(dirs[0], "/../scorers/profiles"));
  assert_true(ends_with(dirs[1], "/../share/cab/profiles"));
  assert_string_equal(cab_datadir_env(CAB_DATA_TASKS), "CAB_TASKS_DIR");
}

static void
test_dir_env_as_given(void **state)
{
  (void)state;
  char buf[CAB_DATADIR_PATH];
  setenv("CAB_TASKS_DIR", "/no/such/tasks", 1);
  assert_int_equal(cab_datadir_dir(CAB_DATA_TASKS, buf, sizeof buf), 0);
  assert_string_equal(buf, "/no/such/tasks");
  unsetenv("CAB_TASKS_DIR");
  assert_int_equal(cab_datadir_dir(CAB_DATA_TASKS, buf, sizeof buf), 0);
  assert_true(ends_with(buf, "/../tasks")); /* none exists: the first, for messages */
}

/* A profile in ./scorers/profiles (the current directory) is not found;
 * the same file through the variable is. */
static void
test_never_cwd(void **state)
{
  (void)state;
  char tmp[] = "/tmp/cab-datadir-XXXXXX", cwd[4096], buf[CAB_DATADIR_PATH + 64], dir[128];
  assert_non_null(mkdtemp(tmp));
  assert_non_null(getcwd(cwd, sizeof cwd));
  snprintf(dir, sizeof dir, "%s/scorers", tmp);
  assert_int_equal(mkdir(dir, 0700), 0);
  snprintf(dir, sizeof dir, "%s/scorers/profiles", tmp);
  assert_int_equal(mkdir(dir, 0700), 0);
  snprintf(buf, sizeof buf, "%s/only-here.json", dir);
  FILE *f = fopen(buf, "w");
  assert_non_null(f);
  fclose(f);
  assert_int_equal(chdir(tmp), 0);
  unsetenv("CAB_PROFILE_DIR");
  assert_int_equal(cab_datadir_find(CAB_DATA_PROFILES, "only-here.json", buf, sizeof buf), -1);
  setenv("CAB_PROFILE_DIR", dir, 1);
  assert_int_equal(cab_datadir_find(CAB_DATA_PROFILES, "only-here.json", buf, sizeof buf), 0);
  assert_true(ends_with(buf, "/scorers/profiles/only-here.json"));
  unsetenv("CAB_PROFILE_DIR");
  assert_int_equal(chdir(cwd), 0);
  snprintf(buf, sizeof buf, "rm -rf '%s'", tmp);
  assert_int_equal(system(buf), 0);
}

/* $CAB_DATA_DIR is a share/cab tree for every kind, after the kind's own
 * variable and before anything beside cab; for a directory it is taken
 * as given, like the kind's variable. */
static void
test_data_dir_env(void **state)
{
  (void)state;
  char dirs[CAB_DATADIR_MAX][CAB_DATADIR_PATH], buf[CAB_DATADIR_PATH];
  unsetenv("CAB_ADAPTERS_DIR");
  unsetenv("CAB_TASKS_DIR");
  setenv("CAB_DATA_DIR", "/data", 1);
  assert_int_equal(cab_datadir_candidates(CAB_DATA_ADAPTERS, dirs), 3);
  assert_string_equal(dirs[0], "/data/adapters");
  assert_true(ends_with(dirs[1], "/../runner/adapters"));
  setenv("CAB_ADAPTERS_DIR", "/env/adapters", 1);
  assert_int_equal(cab_datadir_candidates(CAB_DATA_ADAPTERS, dirs), 4);
  assert_string_equal(dirs[0], "/env/adapters");
  assert_string_equal(dirs[1], "/data/adapters");
  unsetenv("CAB_ADAPTERS_DIR");
  assert_int_equal(cab_datadir_dir(CAB_DATA_TASKS, buf, sizeof buf), 0);
  assert_string_equal(buf, "/data/tasks");
  /* too long to use: the list ends there, no fall back beside cab */
  char long_dir[CAB_DATADIR_PATH + 8];
  memset(long_dir, 'x', sizeof long_dir - 1);
  long_dir[0] = '/';
  long_dir[sizeof long_dir - 1] = '\0';
  setenv("CAB_DATA_DIR", long_dir, 1);
  assert_int_equal(cab_datadir_candidates(CAB_DATA_TASKS, dirs), 0);
  assert_int_equal(cab_datadir_dir(CAB_DATA_TASKS, buf, sizeof buf), -1);
  unsetenv("CAB_DATA_DIR");
}

/* A cab with no data beside it (this test binary: build/tests has neither
 * ../runner/adapters nor ../share/cab) says where it looked and how to give
 * it its data, rather than knowing nothing silently. */
static void
test_missing(void **state)
{
  (void)state;
  char exe[CAB_DATADIR_PATH], want[2 * CAB_DATADIR_PATH + 128], tmp[] = "/tmp/cab-datadir-XXXXXX";
  assert_int_equal(cab_exe_dir(exe, sizeof exe), 0);
  unsetenv("CAB_ADAPTERS_DIR");
  unsetenv("CAB_DATA_DIR");
  assert_false(cab_datadir_present(CAB_DATA_ADAPTERS));
  cab_error err = {0};
  assert_int_equal(cab_datadir_missing(CAB_DATA_ADAPTERS, &err, "adapters"), -1);
  snprintf(want, sizeof want,
           "adapters: cab has no adapters (looked in %s/../runner/adapters, "
           "%s/../share/cab/adapters); ",
           exe, exe);
  assert_true(strncmp(err.message, want, strlen(want)) == 0);
  assert_non_null(strstr(err.message, "make install PREFIX=DIR"));
  assert_non_null(strstr(err.message, "CAB_DATA_DIR"));
  assert_non_null(mkdtemp(tmp));
  setenv("CAB_ADAPTERS_DIR", tmp, 1);
  assert_true(cab_datadir_present(CAB_DATA_ADAPTERS));
  unsetenv("CAB_ADAPTERS_DIR");
  assert_int_equal(rmdir(tmp), 0);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_order),
      cmocka_unit_test(test_dir_env_as_given),
      cmocka_unit_test(test_never_cwd),
      cmocka_unit_test(test_data_dir_env),
      cmocka_unit_test(test_missing),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
