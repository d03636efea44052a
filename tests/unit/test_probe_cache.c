/* sandbox/probe_cache.c: a probe's success is found again under the same
 * key and under no other; a cache file someone else could have written
 * (another owner, group- or world-writable, a symlink) is never trusted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sandbox/probe_cache.h"
#include "test_tmpdir.h"

CAB_TEST_TMPDIR("probe-cache")

static void
cache_path(char *buf, size_t size)
{
  snprintf(buf, size, "%s/cab/host-probes", root);
}

static void
test_key_names_what_it_depends_on(void **state)
{
  (void)state;
  char a[CAB_PROBE_KEY_MAX], b[CAB_PROBE_KEY_MAX], c[CAB_PROBE_KEY_MAX];
  assert_int_equal(cab_probe_cache_key("userns", NULL, a, sizeof a), 0);
  assert_int_equal(cab_probe_cache_key("userns", NULL, b, sizeof b), 0);
  assert_string_equal(a, b);
  assert_non_null(strstr(a, " boot="));
  assert_non_null(strstr(a, " kernel="));
  assert_non_null(strstr(a, " sysctl="));
  /* The overlay's key names the upper directory's file system. */
  assert_int_equal(cab_probe_cache_key("overlay", "/proc", b, sizeof b), 0);
  assert_int_equal(cab_probe_cache_key("overlay", "/tmp", c, sizeof c), 0);
  assert_string_not_equal(b, c);
  assert_int_equal(cab_probe_cache_key("overlay", "/no/such/dir", c, sizeof c), -1);
}

static void
test_put_then_hit(void **state)
{
  (void)state;
  char path[128], key[CAB_PROBE_KEY_MAX], other[CAB_PROBE_KEY_MAX];
  cache_path(path, sizeof path);
  assert_int_equal(cab_probe_cache_key("userns", NULL, key, sizeof key), 0);
  assert_int_equal(cab_probe_cache_key("overlay", root, other, sizeof other), 0);
  assert_false(cab_probe_cache_hit_in(path, key));
  cab_probe_cache_put_in(path, key);
  assert_true(cab_probe_cache_hit_in(path, key));
  assert_false(cab_probe_cache_hit_in(path, other));
  cab_probe_cache_put_in(path, other);
  assert_true(cab_probe_cache_hit_in(path, key));
  assert_true(cab_probe_cache_hit_in(path, other));
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 07777, 0600);
  assert_int_equal(st.st_uid, geteuid());
  /* A prefix of a key is not the key. */
  key[strlen(key) - 1] = '\0';
  assert_false(cab_probe_cache_hit_in(path, key));
}

/* The attack: a cache planted with the right key, by someone who could
 * write the file.  Without the fstat check each of these would be a hit. */
static void
test_planted_cache_is_ignored(void **state)
{
  (void)state;
  char path[128], key[CAB_PROBE_KEY_MAX];
  cache_path(path, sizeof path);
  assert_int_equal(cab_probe_cache_key("userns", NULL, key, sizeof key), 0);
  cab_probe_cache_put_in(path, key);
  assert_true(cab_probe_cache_hit_in(path, key));

  assert_int_equal(chmod(path, 0666), 0);
  assert_false(cab_probe_cache_hit_in(path, key)); /* world-writable */
  assert_int_equal(chmod(path, 0620), 0);
  assert_false(cab_probe_cache_hit_in(path, key)); /* group-writable */
  assert_int_equal(chmod(path, 0600), 0);
  assert_true(cab_probe_cache_hit_in(path, key));

  /* A symlink to a trusted file is not followed. */
  char link_path[160];
  snprintf(link_path, sizeof link_path, "%s/link", root);
  assert_int_equal(symlink(path, link_path), 0);
  assert_false(cab_probe_cache_hit_in(link_path, key));

  if (geteuid() == 0) {
    /* Another user's file, mode 0600 and the right key. */
    assert_int_equal(chown(path, 65534, 65534), 0);
    assert_false(cab_probe_cache_hit_in(path, key));
    /* The next success replaces it with our own. */
    cab_probe_cache_put_in(path, key);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_uid, 0);
    assert_true(cab_probe_cache_hit_in(path, key));
  }
}

/* Lines of another boot are dropped when a key is added. */
static void
test_other_boots_dropped(void **state)
{
  (void)state;
  char path[128], key[CAB_PROBE_KEY_MAX];
  cache_path(path, sizeof path);
  assert_int_equal(cab_probe_cache_key("userns", NULL, key, sizeof key), 0);
  const char *stale = "userns boot=00000000-0000-0000-0000-000000000000 kernel=1 uid=0\n";
  char dir[128];
  snprintf(dir, sizeof dir, "%s/cab", root);
  assert_int_equal(mkdir(dir, 0700), 0);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(stale, f);
  fclose(f);
  assert_int_equal(chmod(path, 0600), 0);
  cab_probe_cache_put_in(path, key);
  f = fopen(path, "r");
  assert_non_null(f);
  char text[4096] = "";
  size_t n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[n] = '\0';
  assert_null(strstr(text, "boot=00000000"));
  assert_true(cab_probe_cache_hit_in(path, key));
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_key_names_what_it_depends_on),
      cmocka_unit_test_setup_teardown(test_put_then_hit, setup, teardown),
      cmocka_unit_test_setup_teardown(test_planted_cache_is_ignored, setup, teardown),
      cmocka_unit_test_setup_teardown(test_other_boots_dropped, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
