/* sandbox/preflight.c and sandbox/host_probe.c: the explanations of a
 * failed step (what a user reads), the probe child against the real
 * kernel, and the probe table's shape. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sandbox/host_probe.h"
#include "sandbox/preflight.h"

static bool
sysctl_is(const char *path, const char *value)
{
  FILE *f = fopen(path, "re");
  char buf[32] = "";
  if (f == NULL)
    return false;
  bool is = fgets(buf, sizeof buf, f) && strncmp(buf, value, strlen(value)) == 0;
  fclose(f);
  return is;
}

/* The namespace is made but cannot be used: the map write named, and the
 * fix is cab's AppArmor profile or the sysctl, whatever the errno. */
static void
test_map_write_names_apparmor_fix(void **state)
{
  (void)state;
  int errnums[] = {EPERM, EACCES, EROFS};
  for (size_t i = 0; i < sizeof errnums / sizeof errnums[0]; i++) {
    struct cab_userns_outcome o = {CAB_USERNS_MAPS, errnums[i]};
    char what[1024], fix[512];
    cab_userns_diagnose(&o, what, sizeof what, fix, sizeof fix);
    assert_non_null(strstr(what, "cannot write a new user namespace's id maps"));
    assert_non_null(strstr(what, strerror(errnums[i])));
    assert_non_null(strstr(what, "AppArmor"));
    assert_non_null(strstr(fix, "sudo apparmor_parser -r /etc/apparmor.d/cab"));
    assert_non_null(strstr(fix, "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"));
  }
  struct cab_userns_outcome t = {CAB_USERNS_TMPFS, EPERM};
  char what[1024], fix[512];
  cab_userns_diagnose(&t, what, sizeof what, fix, sizeof fix);
  assert_non_null(strstr(what, "cannot mount a tmpfs in a new user namespace"));
  assert_non_null(strstr(fix, "apparmor_parser"));
}

static void
test_unshare_causes(void **state)
{
  (void)state;
  if (sysctl_is("/proc/sys/user/max_user_namespaces", "0") ||
      sysctl_is("/proc/sys/kernel/unprivileged_userns_clone", "0"))
    skip();
  struct cab_userns_outcome o = {CAB_USERNS_UNSHARE, ENOSPC};
  char what[1024], fix[512];
  cab_userns_diagnose(&o, what, sizeof what, fix, sizeof fix);
  assert_non_null(strstr(what, "per-user limit"));
  assert_non_null(strstr(fix, "user.max_user_namespaces=15000"));
  cab_error err = {0};
  assert_int_equal(cab_userns_explain(ENOSPC, &err), -1);
  assert_non_null(strstr(err.message, "; fix: "));
}

static int
probe_ok(void *arg)
{
  (void)arg;
  return 0;
}

static int
probe_exdev(void *arg)
{
  (void)arg;
  return EXDEV;
}

/* The child really runs the steps; a probe's errno comes back. */
static void
test_try_reports_the_probe(void **state)
{
  (void)state;
  struct cab_userns_outcome o;
  if (cab_userns_try(probe_ok, NULL, &o) < 0) {
    if (o.failed == CAB_USERNS_UNSHARE)
      skip(); /* no user namespaces here */
    fail_msg("step %d failed: %s", (int)o.failed, strerror(o.errnum));
  }
  assert_int_equal(o.failed, CAB_USERNS_DONE);
  assert_int_equal(cab_userns_try(probe_exdev, NULL, &o), -1);
  assert_int_equal(o.failed, CAB_USERNS_PROBE);
  assert_int_equal(o.errnum, EXDEV);
}

static void
test_probe_table(void **state)
{
  (void)state;
  assert_true(cab_host_probe_count >= 10);
  for (size_t i = 0; i < cab_host_probe_count; i++) {
    const struct cab_host_probe *p = &cab_host_probes[i];
    assert_non_null(p->run);
    assert_true(strlen(p->label) < 22); /* the text column */
    for (size_t j = 0; j < i; j++)
      assert_string_not_equal(p->name, cab_host_probes[j].name);
  }
  /* A cell cannot run without its user namespace: never a warning. */
  assert_string_equal(cab_host_probes[0].name, "userns");
  assert_int_equal(cab_host_probes[0].kind, CAB_PROBE_REQUIRED);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_map_write_names_apparmor_fix),
      cmocka_unit_test(test_unshare_causes),
      cmocka_unit_test(test_try_reports_the_probe),
      cmocka_unit_test(test_probe_table),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
