/* Tests for common/userdir.c: the user's data and cache directories.  The
 * cache is the first usable of $XDG_CACHE_HOME/cab, ~/.cache/cab and the
 * data directory's cache/, so a user whose HOME cannot be written still
 * gets one beside the store; with none usable the error says what to set. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/userdir.h"
#include "test_tmpdir.h"

CAB_TEST_TMPDIR("userdir")

/* A regular file where a directory should be: not even root can make a
 * directory under it. */
static void
make_file(char *buf, size_t size, const char *name)
{
  snprintf(buf, size, "%s/%s", root, name);
  FILE *f = fopen(buf, "w");
  assert_non_null(f);
  fclose(f);
}

static void
test_data_dir_order(void **state)
{
  (void)state;
  char buf[PATH_MAX];
  cab_error err = {0};
  setenv("CAB_HOME", "/store", 1);
  setenv("XDG_DATA_HOME", "/xdg-data", 1);
  setenv("HOME", "/home/u", 1);
  assert_int_equal(cab_user_data_dir(buf, sizeof buf, &err), 0);
  assert_string_equal(buf, "/store");
  setenv("CAB_HOME", "", 1); /* empty: unset */
  assert_int_equal(cab_user_data_dir(buf, sizeof buf, &err), 0);
  assert_string_equal(buf, "/xdg-data/cab");
  unsetenv("XDG_DATA_HOME");
  assert_int_equal(cab_user_data_dir(buf, sizeof buf, &err), 0);
  assert_string_equal(buf, "/home/u/.local/share/cab");
}

static void
test_cache_first_usable(void **state)
{
  (void)state;
  char buf[PATH_MAX], want[PATH_MAX], bad[PATH_MAX];
  cab_error err = {0};
  make_file(bad, sizeof bad, "not-a-dir");
  snprintf(want, sizeof want, "%s/xdg", root);
  setenv("XDG_CACHE_HOME", want, 1);
  setenv("HOME", bad, 1);
  unsetenv("CAB_HOME");
  assert_int_equal(cab_user_cache_dir("seccomp", buf, sizeof buf, &err), 0);
  snprintf(want, sizeof want, "%s/xdg/cab/seccomp", root);
  assert_string_equal(buf, want);
  struct stat st;
  assert_int_equal(stat(buf, &st), 0);
  assert_true(S_ISDIR(st.st_mode));
  assert_int_equal(st.st_mode & 0777, 0700);

  /* An unusable XDG_CACHE_HOME falls through to HOME. */
  setenv("XDG_CACHE_HOME", bad, 1);
  snprintf(want, sizeof want, "%s/home", root);
  setenv("HOME", want, 1);
  assert_int_equal(cab_user_cache_dir(NULL, buf, sizeof buf, &err), 0);
  snprintf(want, sizeof want, "%s/home/.cache/cab", root);
  assert_string_equal(buf, want);
}

static void
test_cache_beside_store_without_home(void **state)
{
  (void)state;
  char buf[PATH_MAX], want[PATH_MAX], bad[PATH_MAX];
  cab_error err = {0};
  make_file(bad, sizeof bad, "not-a-dir");
  unsetenv("XDG_CACHE_HOME");
  setenv("HOME", bad, 1);
  snprintf(want, sizeof want, "%s/store", root);
  setenv("CAB_HOME", want, 1);
  assert_int_equal(cab_user_cache_dir("seccomp", buf, sizeof buf, &err), 0);
  snprintf(want, sizeof want, "%s/store/cache/seccomp", root);
  assert_string_equal(buf, want);

  /* Nothing usable: an error that says what to set. */
  setenv("CAB_HOME", bad, 1);
  assert_int_equal(cab_user_cache_dir("seccomp", buf, sizeof buf, &err), -1);
  assert_non_null(strstr(err.message, "set CAB_HOME or XDG_CACHE_HOME"));
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_data_dir_order),
      cmocka_unit_test_setup_teardown(test_cache_first_usable, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cache_beside_store_without_home, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
