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

/* NAME set to ROOT/SUB. */
static void
setenv_under(const char *name, const char *sub)
{
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/%s", root, sub);
  setenv(name, path, 1);
}

/* PATH is ROOT/SUB. */
static void
assert_under(const char *path, const char *sub)
{
  char want[PATH_MAX];
  snprintf(want, sizeof want, "%s/%s", root, sub);
  assert_string_equal(path, want);
}

/* HOME a regular file where a directory should be: not even root can make
 * a directory under it. */
static void
home_unusable(void)
{
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/not-a-dir", root);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fclose(f);
  setenv("HOME", path, 1);
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
  char buf[PATH_MAX];
  cab_error err = {0};
  home_unusable();
  setenv_under("XDG_CACHE_HOME", "xdg");
  unsetenv("CAB_HOME");
  assert_int_equal(cab_user_cache_dir("seccomp", buf, sizeof buf, &err), 0);
  assert_under(buf, "xdg/cab/seccomp");
  struct stat st;
  assert_int_equal(stat(buf, &st), 0);
  assert_true(S_ISDIR(st.st_mode));
  assert_int_equal(st.st_mode & 0777, 0700);

  /* An unusable XDG_CACHE_HOME falls through to HOME. */
  setenv("XDG_CACHE_HOME", getenv("HOME"), 1);
  setenv_under("HOME", "home");
  assert_int_equal(cab_user_cache_dir(NULL, buf, sizeof buf, &err), 0);
  assert_under(buf, "home/.cache/cab");
}

static void
test_cache_beside_store_without_home(void **state)
{
  (void)state;
  char buf[PATH_MAX];
  cab_error err = {0};
  home_unusable();
  unsetenv("XDG_CACHE_HOME");
  setenv_under("CAB_HOME", "store");
  assert_int_equal(cab_user_cache_dir("seccomp", buf, sizeof buf, &err), 0);
  assert_under(buf, "store/cache/seccomp");

  /* Nothing usable: an error that says what to set. */
  setenv("CAB_HOME", getenv("HOME"), 1);
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
