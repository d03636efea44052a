/* Tests for runner/record/protection.c: --require's vocabulary (a bad item
 * is one line naming it and the valid ones), the summary levels as the
 * table ranks them, what a missing item is said to be, and the block's
 * JSON round trip. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "runner/record/protection.h"

#define BIT CAB_PROT_BIT

static void
test_parse(void **state)
{
  cab_protection_set s = 0;
  cab_error err = {0};
  assert_int_equal(cab_protection_parse("namespaces,seccomp", "--require", &s, &err), 0);
  assert_int_equal(s, CAB_PROTECTION_REQUIRE_DEFAULT);
  assert_int_equal(cab_protection_parse("none", "--require", &s, &err), 0);
  assert_int_equal(s, 0);
  assert_int_equal(cab_protection_parse("overlay,cgroup,memory,pids,cpu,image", "--require", &s,
                                        &err),
                   0);
  assert_int_equal(s, BIT(CAB_PROT_OVERLAY) | BIT(CAB_PROT_CGROUP) | BIT(CAB_PROT_MEMORY) |
                          BIT(CAB_PROT_PIDS) | BIT(CAB_PROT_CPU) | BIT(CAB_PROT_IMAGE));
  char buf[200];
  assert_string_equal(cab_protection_format(s, buf, sizeof buf),
                      "cgroup,memory,pids,cpu,image,overlay");
  assert_string_equal(cab_protection_format(0, buf, sizeof buf), "none");
}

static void
test_parse_errors(void **state)
{
  cab_protection_set s = 0;
  cab_error err = {0};
  assert_int_equal(cab_protection_parse("seccomp,cgroups", "run-cell: --require", &s, &err), -1);
  assert_string_equal(err.message,
                      "run-cell: --require seccomp,cgroups: 'cgroups' is no protection item; "
                      "expected a comma-separated list of namespaces,seccomp,cgroup,memory,pids,"
                      "cpu,image,overlay, or none");
  assert_null(strchr(err.message, '\n'));
  memset(&err, 0, sizeof err);
  assert_int_equal(cab_protection_parse("seccomp,,memory", "--require", &s, &err), -1);
  assert_non_null(strstr(err.message, "an empty item is no protection item"));
  memset(&err, 0, sizeof err);
  /* "none" stands alone */
  assert_int_equal(cab_protection_parse("none,seccomp", "--require", &s, &err), -1);
  assert_non_null(strstr(err.message, "'none' is no protection item"));
  memset(&err, 0, sizeof err);
  assert_int_equal(cab_protection_parse("", "--require", &s, &err), -1);
}

/* A run on an image, in every namespace, under Docker's policy, with
 * memory and pids held by cgroup v1. */
static struct cab_protection
full(void)
{
  struct cab_protection p = {.ran = true, .namespaces = CAB_NS_ALL};
  snprintf(p.seccomp, sizeof p.seccomp, "default");
  snprintf(p.verifier_seccomp, sizeof p.verifier_seccomp, "verifier");
  snprintf(p.limits.memory, sizeof p.limits.memory, "cgroup-v1");
  snprintf(p.limits.pids, sizeof p.limits.pids, "cgroup-v1");
  snprintf(p.limits.cpu, sizeof p.limits.cpu, CAB_PROT_UNLIMITED);
  snprintf(p.limits.time, sizeof p.limits.time, "supervisor");
  snprintf(p.limits.disk, sizeof p.limits.disk, "watchdog");
  snprintf(p.root, sizeof p.root, "overlay");
  snprintf(p.network, sizeof p.network, "veth+proxy");
  return p;
}

static void
test_levels(void **state)
{
  struct cab_protection p = full();
  assert_string_equal(cab_protection_level(&p), "full");
  /* memory by the watchdog: no longer every limit by a cgroup */
  snprintf(p.limits.memory, sizeof p.limits.memory, "rlimit");
  assert_string_equal(cab_protection_level(&p), "no-cgroup");
  snprintf(p.root, sizeof p.root, "host");
  assert_string_equal(cab_protection_level(&p), "host-root-no-cgroup");
  p = full();
  snprintf(p.root, sizeof p.root, "host");
  assert_string_equal(cab_protection_level(&p), "host-root");
  snprintf(p.seccomp, sizeof p.seccomp, "unconfined");
  assert_string_equal(cab_protection_level(&p), "no-seccomp");
  p.namespaces &= ~CAB_NS_CGROUP;
  assert_string_equal(cab_protection_level(&p), "none");
  p = full();
  p.ran = false;
  assert_string_equal(cab_protection_level(&p), "none");
  /* no limit at all is not "every limit by a cgroup" */
  p = full();
  snprintf(p.limits.memory, sizeof p.limits.memory, CAB_PROT_UNLIMITED);
  snprintf(p.limits.pids, sizeof p.limits.pids, CAB_PROT_UNLIMITED);
  assert_string_equal(cab_protection_level(&p), "no-cgroup");
  /* a private copy is an image root, not an overlay */
  p = full();
  snprintf(p.root, sizeof p.root, "copy");
  assert_true(cab_protection_held(&p) & BIT(CAB_PROT_IMAGE));
  assert_false(cab_protection_held(&p) & BIT(CAB_PROT_OVERLAY));
}

static void
test_first_missing(void **state)
{
  struct cab_protection p = full();
  char buf[256];
  cab_protection_set all = (1u << CAB_PROT_N_ITEMS) - 1;
  assert_int_equal(cab_protection_first_missing(&p, all & ~BIT(CAB_PROT_CPU), true, buf,
                                                sizeof buf),
                   -1);
  assert_int_equal(cab_protection_first_missing(&p, all, true, buf, sizeof buf), CAB_PROT_CPU);
  assert_string_equal(buf, "cpu would not be limited at all");
  snprintf(p.limits.memory, sizeof p.limits.memory, "rlimit");
  assert_int_equal(cab_protection_first_missing(&p, BIT(CAB_PROT_CGROUP), true, buf, sizeof buf),
                   CAB_PROT_CGROUP);
  assert_string_equal(buf, "memory would be enforced by rlimit+watchdog");
  snprintf(p.limits.pids, sizeof p.limits.pids, "none");
  assert_int_equal(cab_protection_first_missing(&p, BIT(CAB_PROT_PIDS), false, buf, sizeof buf),
                   CAB_PROT_PIDS);
  assert_string_equal(buf, "pids was enforced by nothing");
  snprintf(p.root, sizeof p.root, "copy");
  assert_int_equal(cab_protection_first_missing(&p, BIT(CAB_PROT_OVERLAY), true, buf, sizeof buf),
                   CAB_PROT_OVERLAY);
  assert_non_null(strstr(buf, "a private copy"));
  snprintf(p.verifier_seccomp, sizeof p.verifier_seccomp, "unconfined");
  assert_int_equal(cab_protection_first_missing(&p, CAB_PROTECTION_REQUIRE_DEFAULT, false, buf,
                                                sizeof buf),
                   CAB_PROT_SECCOMP);
  assert_string_equal(buf, "the verifier's seccomp policy was unconfined");
}

static void
test_json_round_trip(void **state)
{
  struct cab_protection p = full(), back;
  snprintf(p.capabilities, sizeof p.capabilities, "cap_chown,cap_kill");
  p.required = CAB_PROTECTION_REQUIRE_DEFAULT | BIT(CAB_PROT_MEMORY);
  cJSON *j = cab_protection_to_json(&p);
  char *text = cJSON_PrintUnformatted(j);
  assert_string_equal(
      text, "{\"level\":\"full\",\"required\":[\"namespaces\",\"seccomp\",\"memory\"],"
            "\"namespaces\":[\"user\",\"mount\",\"pid\",\"net\",\"ipc\",\"uts\",\"cgroup\"],"
            "\"seccomp\":\"default\",\"verifier_seccomp\":\"verifier\","
            "\"capabilities\":[\"cap_chown\",\"cap_kill\"],"
            "\"limits\":{\"memory\":\"cgroup-v1\",\"pids\":\"cgroup-v1\",\"cpu\":\"unlimited\","
            "\"time\":\"supervisor\",\"disk\":\"watchdog\"},"
            "\"root\":\"overlay\",\"network\":\"veth+proxy\"}");
  assert_int_equal(cab_protection_from_json(j, &back), 0);
  assert_string_equal(back.level, "full");
  memset(back.level, 0, sizeof back.level);
  assert_memory_equal(&p, &back, sizeof p);
  cJSON_free(text);
  cJSON_Delete(j);
  /* an older record has no block */
  assert_int_equal(cab_protection_from_json(NULL, &back), -1);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse),
      cmocka_unit_test(test_parse_errors),
      cmocka_unit_test(test_levels),
      cmocka_unit_test(test_first_missing),
      cmocka_unit_test(test_json_round_trip),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
