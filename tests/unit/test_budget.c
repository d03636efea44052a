/* Tests for the budget helpers in common/: the head-and-tail capture, the
 * tree measure that stops at its budget, and the hole-keeping copy; plus
 * what the watchdogs cost per sample (printed, never asserted on time). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/headtail.h"
#include "sandbox/diskwatch.h"
#include "sandbox/watchdog.h"

static void
add_in_chunks(struct cab_headtail *h, const char *s, size_t chunk)
{
  for (size_t i = 0, n = strlen(s); i < n; i += chunk)
    assert_int_equal(cab_headtail_add(h, s + i, n - i < chunk ? n - i : chunk), 0);
}

static void
test_headtail(void **state)
{
  (void)state;
  for (size_t chunk = 1; chunk <= 21; chunk++) {
    struct cab_headtail h;
    cab_headtail_init(&h, 8);
    add_in_chunks(&h, "0123456789abcdefghijk", chunk); /* 21 bytes: 5 cut */
    assert_int_equal(cab_headtail_cut(&h), 5);
    size_t len;
    char *out = cab_headtail_render(&h, "x", &len);
    assert_non_null(out);
    assert_int_equal(len, strlen(out));
    assert_memory_equal(out, "01234567\n[cab: x: 5 bytes (5 B) cut here;", 40);
    assert_string_equal(out + len - 8, "defghijk");
    free(out);
    cab_headtail_free(&h);

    /* Within 2*KEEP nothing is cut and nothing is marked. */
    cab_headtail_init(&h, 8);
    add_in_chunks(&h, "0123456789abcdef", chunk);
    out = cab_headtail_render(&h, "x", &len);
    assert_string_equal(out, "0123456789abcdef");
    free(out);
    cab_headtail_free(&h);
  }
}

static char root[64];

static void
mkroot(void)
{
  snprintf(root, sizeof root, "/tmp/cab-test-budget-XXXXXX");
  assert_non_null(mkdtemp(root));
}

static void
rmroot(void)
{
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", root);
  assert_int_equal(system(cmd), 0);
}

static void
test_tree_usage(void **state)
{
  (void)state;
  mkroot();
  char p[128];
  /* A 20 GiB sparse file costs its apparent size, not its (nil) blocks. */
  snprintf(p, sizeof p, "%s/big.sparse", root);
  int fd = open(p, O_WRONLY | O_CREAT, 0600);
  assert_true(fd >= 0);
  assert_int_equal(ftruncate(fd, (off_t)20 << 30), 0);
  close(fd);
  struct cab_tree_usage u;
  assert_int_equal(cab_tree_usage(root, (int64_t)1 << 30, 100000, &u), 1);
  assert_true(u.bytes >= (int64_t)20 << 30);
  char reason[256];
  struct cab_disk_budget b = {.paths = {root}, .labels = {"workdir"}, .n = 1,
                              .max_bytes = (int64_t)1 << 30, .max_inodes = 100000};
  assert_int_equal(cab_disk_budget_check(&b, reason, sizeof reason), 1);
  assert_string_equal(reason, "workdir over budget: 20.0 GiB > 1.0 GiB");
  unlink(p);

  /* 300 files against 100: over, and the walk stops at the 101st. */
  for (int i = 0; i < 300; i++) {
    snprintf(p, sizeof p, "%s/f%d", root, i);
    close(open(p, O_WRONLY | O_CREAT, 0600));
  }
  assert_int_equal(cab_tree_usage(root, 0, 100, &u), 1);
  assert_int_equal(u.inodes, 101);
  assert_int_equal(cab_tree_usage(root, 0, 300, &u), 0);
  assert_int_equal(u.inodes, 300);

  /* What one sample of a 300-file workdir costs (printed for the report). */
  int64_t t0 = cab_now_ns();
  for (int i = 0; i < 100; i++)
    cab_tree_usage(root, (int64_t)1 << 30, 100000, &u);
  printf("# cab_tree_usage, 300 files: %.1f us per sample\n",
         (double)(cab_now_ns() - t0) / 100 / 1000);
  int none[2] = {-1, -1};
  struct cab_mem_sample m;
  t0 = cab_now_ns();
  for (int i = 0; i < 100; i++)
    cab_tree_memory(getpid(), none, &m);
  printf("# cab_tree_memory, one process: %.1f us per sample (anon %lld)\n",
         (double)(cab_now_ns() - t0) / 100 / 1000, (long long)m.anon);
  assert_true(m.anon > 0);
  rmroot();
}

static void
test_copy_sparse(void **state)
{
  (void)state;
  mkroot();
  char src[128], dst[128];
  snprintf(src, sizeof src, "%s/src", root);
  snprintf(dst, sizeof dst, "%s/dst", root);
  int in = open(src, O_RDWR | O_CREAT, 0600);
  assert_true(in >= 0);
  assert_int_equal(ftruncate(in, (off_t)8 << 30), 0);
  assert_int_equal(pwrite(in, "middle", 6, (off_t)4 << 30), 6);
  assert_int_equal(pwrite(in, "end", 3, ((off_t)8 << 30) - 3), 3);
  int out = open(dst, O_RDWR | O_CREAT, 0600);
  assert_true(out >= 0);
  assert_int_equal(cab_copy_fd_sparse(in, out, (off_t)8 << 30), 0);
  struct stat st;
  assert_int_equal(fstat(out, &st), 0);
  assert_int_equal(st.st_size, (off_t)8 << 30);
  assert_true(st.st_blocks * 512 < (16 << 20)); /* the holes stayed holes */
  char buf[8] = {0};
  assert_int_equal(pread(out, buf, 6, (off_t)4 << 30), 6);
  assert_memory_equal(buf, "middle", 6);
  assert_int_equal(pread(out, buf, 3, ((off_t)8 << 30) - 3), 3);
  assert_memory_equal(buf, "end", 3);
  assert_int_equal(pread(out, buf, 4, 4096), 4);
  assert_memory_equal(buf, "\0\0\0\0", 4);
  close(in);
  close(out);
  rmroot();
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_headtail),
      cmocka_unit_test(test_tree_usage),
      cmocka_unit_test(test_copy_sparse),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
