/* sandbox/stdio.c without a sandbox: how fds 0-2 are sorted (directory and
 * O_PATH -> /dev/null, regular file -> relay, pipe -> passed), and that the
 * relay, through pipes or (append-only) sockets, moves bytes both ways, one
 * way only, and drains without blocking. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sandbox/stdio.h"

static char dir[] = "/tmp/cab-test-stdio.XXXXXX";

static int
setup(void **state)
{
  return mkdtemp(dir) ? 0 : -1;
}

static int
teardown(void **state)
{
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  return system(cmd) == 0 ? 0 : -1;
}

static int
file_with(const char *name, const char *content, int flags)
{
  char p[256];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  int fd = open(p, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
  close(fd);
  fd = open(p, flags | O_CLOEXEC);
  assert_true(fd >= 0);
  return fd;
}

static void
test_sorting(void **state)
{
  int d = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int opath = open(dir, O_PATH | O_CLOEXEC);
  int p[2];
  assert_int_equal(pipe2(p, O_CLOEXEC), 0);
  int f = file_with("out", "", O_WRONLY);
  struct cab_stdio s;

  int given[3] = {d, opath, p[1]};
  assert_int_equal(cab_stdio_prepare(given, false, &s, NULL), 0);
  assert_int_equal(s.child[0], CAB_STDIO_NULL);
  assert_int_equal(s.child[1], CAB_STDIO_NULL);
  assert_int_equal(s.child[2], p[1]); /* a pipe passes */
  assert_true(s.nulled);
  assert_false(s.relayed);
  cab_stdio_free(&s);

  /* stdout and stderr on one file share one socket, the order kept. */
  int given2[3] = {p[0], f, f};
  assert_int_equal(cab_stdio_prepare(given2, true, &s, NULL), 0);
  assert_int_equal(s.child[0], p[0]);
  assert_true(s.child[1] >= 0 && s.child[1] != f);
  assert_int_equal(s.child[2], s.child[1]);
  assert_int_equal(s.n_chan, 1);
  struct stat st;
  assert_int_equal(fstat(s.child[1], &st), 0);
  assert_true(S_ISSOCK(st.st_mode));
  cab_stdio_free(&s);
  close(d);
  close(opath);
  close(p[0]);
  close(p[1]);
  close(f);
}

/* Service the relay until POLL reports nothing more for a while. */
static void
pump(struct cab_stdio *s, int rounds)
{
  for (int i = 0; i < rounds; i++) {
    struct pollfd p[3];
    int n = cab_stdio_pollfds(s, p);
    if (n == 0 || poll(p, (nfds_t)n, 0) <= 0)
      return;
    cab_stdio_service(s, p, n);
  }
}

static void
relay(bool append_only)
{
  int in = file_with("in", "from the caller\n", O_RDONLY);
  int out = file_with("printed", "", O_WRONLY | O_APPEND);
  int p[2];
  assert_int_equal(pipe2(p, O_CLOEXEC), 0);
  int given[3] = {in, out, p[1]}; /* not -1: that would sort our own fd 2 */
  struct cab_stdio s;
  cab_error err = {0};
  assert_int_equal(cab_stdio_prepare(given, append_only, &s, &err), 0);
  assert_int_equal(s.n_chan, 2);
  assert_true(cab_stdio_output_append_only(&s) == append_only);
  int cin = s.child[0], cout = s.child[1];

  /* The command's side: it reads its stdin, cannot write into it, prints,
   * and cannot read back what it printed. */
  pump(&s, 10);
  char buf[64] = "";
  ssize_t n = read(cin, buf, sizeof buf - 1);
  assert_int_equal(n, 16);
  assert_string_equal(buf, "from the caller\n");
  assert_int_equal(read(cin, buf, sizeof buf), 0); /* EOF after the file */
  assert_int_equal(write(cin, "x", 1), -1);
  assert_int_equal(write(cout, "hello\n", 6), 6);
  assert_true(read(cout, buf, sizeof buf) <= 0);
  assert_int_equal(pwrite(cout, "X", 1, 0), -1);
  assert_int_equal(errno, ESPIPE);
  /* Re-opened through /proc: a pipe gives the pipe back (never the file),
   * a socket nothing. */
  char self[64];
  snprintf(self, sizeof self, "/proc/self/fd/%d", cout);
  int again = open(self, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (append_only) {
    assert_int_equal(again, -1);
    assert_int_equal(errno, ENXIO);
  } else {
    struct stat st;
    assert_true(again >= 0);
    assert_int_equal(fstat(again, &st), 0);
    assert_true(S_ISFIFO(st.st_mode));
    close(again);
  }
  pump(&s, 10);
  assert_int_equal(write(cout, "bye\n", 4), 4);

  /* The command is gone: its last output is drained without blocking, even
   * though another holder (here: a dup) keeps the socket open. */
  int holder = dup(cout);
  cab_stdio_close_child_ends(&s);
  cab_stdio_drain(&s);
  cab_stdio_free(&s);
  close(holder);

  char path[256];
  snprintf(path, sizeof path, "%s/printed", dir);
  FILE *fp = fopen(path, "r");
  assert_non_null(fp);
  n = (ssize_t)fread(buf, 1, sizeof buf - 1, fp);
  fclose(fp);
  buf[n] = '\0';
  assert_string_equal(buf, "hello\nbye\n");
  close(in);
  close(out);
  close(p[0]);
  close(p[1]);
}

static void
test_relay_pipes(void **state)
{
  relay(false);
}

static void
test_relay_append_only(void **state)
{
  relay(true);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_sorting),
    cmocka_unit_test(test_relay_pipes),
    cmocka_unit_test(test_relay_append_only),
  };
  return cmocka_run_group_tests_name("stdio", tests, setup, teardown);
}
