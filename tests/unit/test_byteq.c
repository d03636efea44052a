/* The proxy's byte queue (runner/proxy/byteq.h): bytes come out in order
 * whatever the sizes put and taken, the pending bytes are NUL-terminated,
 * the taken front is reclaimed instead of growing, and an empty queue
 * takes nothing (its buffer may not exist yet). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "runner/proxy/byteq.h"

static void
test_empty(void **state)
{
  struct cab_byteq q = {0};
  char buf[4];
  assert_int_equal(cab_byteq_take(&q, buf, sizeof buf), 0);
  assert_null(q.data);
  /* an empty put still leaves a (NUL-terminated) buffer: "" is a body */
  assert_int_equal(cab_byteq_sink(&q, "", 0), 0);
  assert_non_null(q.data);
  assert_string_equal(q.data, "");
  cab_byteq_clear(&q);
  assert_null(q.data);
}

static void
test_order_and_nul(void **state)
{
  struct cab_byteq q = {0};
  char want[20000], got[20000];
  for (size_t i = 0; i < sizeof want; i++)
    want[i] = (char)('a' + i % 26);
  size_t put = 0, took = 0, step = 1;
  while (took < sizeof want) {
    size_t n = put + step <= sizeof want ? step : sizeof want - put;
    assert_int_equal(cab_byteq_put(&q, want + put, n), 0);
    put += n;
    assert_int_equal(q.data[q.len], '\0');
    took += cab_byteq_take(&q, got + took, step / 2 + 1);
    step = step * 3 % 997 + 1;
    if (put == sizeof want)
      took += cab_byteq_take(&q, got + took, sizeof got - took);
  }
  assert_memory_equal(got, want, sizeof want);
  assert_int_equal(cab_byteq_take(&q, got, sizeof got), 0);
  cab_byteq_clear(&q);
}

static void
test_front_reclaimed(void **state)
{
  struct cab_byteq q = {0};
  char block[1000], out[1000];
  memset(block, 'x', sizeof block);
  /* a stream passed through a piece at a time: the buffer stays the size
   * of one piece, not of all that went by */
  assert_int_equal(cab_byteq_put(&q, block, sizeof block), 0);
  assert_int_equal(cab_byteq_take(&q, out, 600), 600);
  for (int i = 0; i < 1000; i++) { /* 400 bytes always pending */
    assert_int_equal(cab_byteq_put(&q, block, sizeof block), 0);
    assert_int_equal(cab_byteq_take(&q, out, sizeof out), sizeof out);
  }
  assert_true(q.cap <= 4 * sizeof block + 4096);
  cab_byteq_reset(&q);
  assert_int_equal(cab_byteq_take(&q, out, sizeof out), 0);
  cab_byteq_clear(&q);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_empty),
      cmocka_unit_test(test_order_and_nul),
      cmocka_unit_test(test_front_reclaimed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
