/* Tests for common/sha256: the portable whole-buffer SHA-256 (used by the
 * core cab to verify manifests and configs) gives FIPS 180-4's answers and
 * OpenSSL's streaming digest at every padding boundary. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/sha256.h"

static void
test_known_answers(void **state)
{
  char got[CAB_DIGEST_LEN + 1];
  cab_sha256_buffer("", 0, got);
  assert_string_equal(got, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  cab_sha256_buffer("abc", 3, got);
  assert_string_equal(got, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  cab_sha256_buffer(two, strlen(two), got);
  assert_string_equal(got, "sha256:248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  assert_true(cab_digest_valid(got));
}

/* Every length around the 55/56/64-byte padding edges, and a large one,
 * against OpenSSL fed in uneven pieces. */
static void
test_matches_openssl(void **state)
{
  size_t big = 1 << 20;
  unsigned char *buf = malloc(big);
  assert_non_null(buf);
  uint32_t x = 12345;
  for (size_t i = 0; i < big; i++) {
    x = x * 1103515245 + 12345;
    buf[i] = (unsigned char)(x >> 16);
  }
  size_t lens[200];
  size_t n = 0;
  for (size_t l = 0; l <= 200; l++)
    if (n < 190)
      lens[n++] = l;
  lens[n++] = 1000;
  lens[n++] = 4096 + 55;
  lens[n++] = big;
  for (size_t i = 0; i < n; i++) {
    char mine[CAB_DIGEST_LEN + 1], theirs[CAB_DIGEST_LEN + 1];
    cab_sha256_buffer(buf, lens[i], mine);
    struct cab_sha256 *h = cab_sha256_new();
    assert_non_null(h);
    size_t done = 0, step = 1;
    while (done < lens[i]) {
      size_t take = lens[i] - done < step ? lens[i] - done : step;
      cab_sha256_update(h, buf + done, take);
      done += take;
      step = step * 3 + 1;
    }
    cab_sha256_final(h, theirs);
    assert_string_equal(mine, theirs);
  }
  free(buf);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_known_answers),
      cmocka_unit_test(test_matches_openssl),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
