/* Unit tests for image reference parsing (rootfs/ref.c): Docker's
 * normalisation (docker.io, library/, latest) and the rejection of bad
 * names, tags and digest strings before they reach a path or a URL. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "rootfs/ref.h"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void
expect_ref(const char *text, const char *domain, const char *path, const char *tag,
           const char *digest)
{
  cab_ref r;
  cab_error err = {0};
  int ret = cab_ref_parse(text, &r, &err);
  if (ret != 0)
    fail_msg("'%s' did not parse: %s", text, err.message);
  assert_string_equal(r.domain, domain);
  assert_string_equal(r.path, path);
  assert_string_equal(r.tag, tag);
  assert_string_equal(r.digest, digest);
}

static void
expect_bad(const char *text, const char *needle)
{
  cab_ref r;
  cab_error err = {0};
  if (cab_ref_parse(text, &r, &err) == 0)
    fail_msg("'%s' parsed (as %s/%s:%s@%s) but must be rejected", text, r.domain, r.path, r.tag,
             r.digest);
  if (needle && strstr(err.message, needle) == NULL)
    fail_msg("error for '%s' lacks '%s': %s", text, needle, err.message);
}

static void
test_defaults(void **state)
{
  expect_ref("busybox", "docker.io", "library/busybox", "latest", "");
  expect_ref("busybox:1.36", "docker.io", "library/busybox", "1.36", "");
  expect_ref("user/repo", "docker.io", "user/repo", "latest", "");
  expect_ref("docker.io/busybox", "docker.io", "library/busybox", "latest", "");
  expect_ref("index.docker.io/library/busybox:x", "docker.io", "library/busybox", "x", "");
  expect_ref("codingagentbench/opencode:v1.15.10", "docker.io", "codingagentbench/opencode",
             "v1.15.10", "");
}

static void
test_domains(void **state)
{
  expect_ref("127.0.0.1:5000/foo/bar:tag", "127.0.0.1:5000", "foo/bar", "tag", "");
  expect_ref("localhost/foo", "localhost", "foo", "latest", "");
  expect_ref("localhost:5000/foo", "localhost:5000", "foo", "latest", "");
  expect_ref("ghcr.io/a/b/c", "ghcr.io", "a/b/c", "latest", "");
  expect_ref("Registry.Example.com/a", "Registry.Example.com", "a", "latest", "");
  /* "localhost:5000" alone is a name with a tag, as in Docker */
  expect_ref("localhost:5000", "docker.io", "library/localhost", "5000", "");
  expect_ref("my-reg.example:443/team/x:v2", "my-reg.example:443", "team/x", "v2", "");
}

static void
test_digests(void **state)
{
  expect_ref("ghcr.io/a/b@sha256:" HEX64, "ghcr.io", "a/b", "", "sha256:" HEX64);
  expect_ref("busybox:1.36@sha256:" HEX64, "docker.io", "library/busybox", "1.36",
             "sha256:" HEX64);
  expect_ref("127.0.0.1:5000/x:t@sha256:" HEX64, "127.0.0.1:5000", "x", "t", "sha256:" HEX64);
}

static void
test_bad_digests(void **state)
{
  expect_bad("foo@sha256:abc", "invalid digest");
  expect_bad("foo@sha256:" HEX64 "0", "invalid digest");
  expect_bad("foo@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
             "invalid digest");
  expect_bad("foo@sha512:" HEX64 HEX64, "invalid digest");
  expect_bad("foo@sha256:../../../../etc/passwd", "invalid digest");
  expect_bad("foo@sha256:" HEX64 "/../x", "invalid digest");
  expect_bad("foo@", "invalid digest");
  expect_bad("foo@md5:d41d8cd98f00b204e9800998ecf8427e", "invalid digest");
  expect_bad("foo@sha256:" HEX64 "@sha256:" HEX64, "invalid digest");
}

static void
test_bad_names(void **state)
{
  expect_bad("", "empty");
  expect_bad("UPPER", "invalid repository name");
  expect_bad("foo/../bar", "invalid repository name");
  expect_bad("foo//bar", "invalid repository name");
  expect_bad("-foo", "invalid repository name");
  expect_bad("foo-", "invalid repository name");
  expect_bad("foo..bar", "invalid repository name");
  expect_bad("foo:", "invalid tag");
  expect_bad("foo:bad tag", "invalid tag");
  expect_bad("foo:.hidden", "invalid tag");
  expect_bad("foo:a/b", NULL);
  expect_bad("exa mple.com/foo", NULL);
  expect_bad("-bad.com/foo", "invalid registry host");
  expect_bad("bad.com:99999999/foo", "invalid registry host");
  expect_bad("bad.com:/foo", "invalid registry host");
  expect_bad("127.0.0.1:5000/", "missing repository name");
  char tagbuf[200];
  memset(tagbuf, 'a', sizeof tagbuf);
  memcpy(tagbuf, "foo:", 4);
  tagbuf[4 + 129] = '\0'; /* a 129-character tag */
  expect_bad(tagbuf, "invalid tag");
  char longname[400];
  memset(longname, 'a', sizeof longname);
  longname[300] = '\0';
  expect_bad(longname, "longer than");
}

static void
test_strings(void **state)
{
  cab_ref r;
  char buf[400];
  assert_int_equal(cab_ref_parse("busybox", &r, NULL), 0);
  cab_ref_string(&r, buf, sizeof buf);
  assert_string_equal(buf, "docker.io/library/busybox:latest");
  cab_ref_name(&r, buf, sizeof buf);
  assert_string_equal(buf, "docker.io/library/busybox");
  assert_string_equal(cab_ref_registry_host(&r), "registry-1.docker.io");
  assert_int_equal(cab_ref_parse("127.0.0.1:5000/x:t@sha256:" HEX64, &r, NULL), 0);
  cab_ref_string(&r, buf, sizeof buf);
  assert_string_equal(buf, "127.0.0.1:5000/x@sha256:" HEX64);
  assert_string_equal(cab_ref_registry_host(&r), "127.0.0.1:5000");
  cab_ref_familiar("docker.io/library/busybox", buf, sizeof buf);
  assert_string_equal(buf, "busybox");
  cab_ref_familiar("docker.io/user/x", buf, sizeof buf);
  assert_string_equal(buf, "user/x");
  cab_ref_familiar("docker.io/library/a/b", buf, sizeof buf);
  assert_string_equal(buf, "library/a/b");
  cab_ref_familiar("ghcr.io/a/b", buf, sizeof buf);
  assert_string_equal(buf, "ghcr.io/a/b");
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_defaults),   cmocka_unit_test(test_domains),
      cmocka_unit_test(test_digests),    cmocka_unit_test(test_bad_digests),
      cmocka_unit_test(test_bad_names),  cmocka_unit_test(test_strings),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
