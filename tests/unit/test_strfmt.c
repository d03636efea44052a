/* Tests for common/strfmt: a formatted path, name or key that does not fit
 * is an error, never a shorter string; a cut label says so by its name. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "common/strfmt.h"

static void
test_checked(void **state)
{
  char buf[8];
  assert_int_equal(cab_snprintf_checked(buf, sizeof buf, "%s/%d", "ab", 1234), 0);
  assert_string_equal(buf, "ab/1234"); /* 7 bytes and the NUL: exactly full */
  errno = 0;
  assert_int_equal(cab_snprintf_checked(buf, sizeof buf, "%s/%d", "ab", 12345), -1);
  assert_int_equal(errno, ENAMETOOLONG);
}

static void
test_path(void **state)
{
  char buf[16];
  cab_error err = {0};
  assert_int_equal(cab_path_printf(buf, sizeof buf, &err, "%s/%s", "/out", "cell"), 0);
  assert_string_equal(buf, "/out/cell");
  assert_int_equal(err.errnum, 0);
  assert_int_equal(cab_path_printf(buf, sizeof buf, &err, "%s/%s", "/out", "cell.json.tmp"), -1);
  assert_int_equal(err.errnum, ENAMETOOLONG);
  assert_string_equal(err.message, "/out/cell.json....: path longer than 15 bytes");
}

static void
test_cut(void **state)
{
  char buf[6];
  cab_snprintf_cut(buf, sizeof buf, "%s", "a label");
  assert_string_equal(buf, "a lab");
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_checked),
      cmocka_unit_test(test_path),
      cmocka_unit_test(test_cut),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
