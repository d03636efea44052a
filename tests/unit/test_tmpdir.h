/* A fresh directory under /tmp for each test, removed after it: cmocka's
 * setup and teardown for the unit tests that work on real directories.
 * The directory's path is in `root`.  Removal goes through rm -rf, not
 * through the code under test. */
#ifndef CAB_TESTS_UNIT_TEST_TMPDIR_H
#define CAB_TESTS_UNIT_TEST_TMPDIR_H

#include <stdio.h>
#include <stdlib.h>

static char root[64];

/* static int setup(void **) and teardown(void **) for /tmp/cab-test-NAME-*. */
#define CAB_TEST_TMPDIR(NAME)                                                  \
  static int setup(void **state)                                               \
  {                                                                            \
    (void)state;                                                               \
    snprintf(root, sizeof root, "/tmp/cab-test-" NAME "-XXXXXX");              \
    return mkdtemp(root) ? 0 : -1;                                             \
  }                                                                            \
  static int teardown(void **state)                                            \
  {                                                                            \
    (void)state;                                                               \
    char cmd[128];                                                             \
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);                            \
    return system(cmd) == 0 ? 0 : -1;                                          \
  }

#endif
