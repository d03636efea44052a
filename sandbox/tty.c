#include "sandbox/tty.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

struct cab_tty_relay {
  int master;
  struct cab_tty_options opts;
  bool stdin_open;
  bool master_open;
  bool raw;
  struct termios saved;
};

static bool
write_all(int fd, const char *buf, ssize_t len)
{
  while (len > 0) {
    ssize_t n = write(fd, buf, (size_t)len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        poll(&p, 1, 100);
        continue;
      }
      return false;
    }
    buf += n;
    len -= n;
  }
  return true;
}

struct cab_tty_relay *
cab_tty_relay_new(int master, const struct cab_tty_options *opts)
{
  struct cab_tty_relay *r = calloc(1, sizeof *r);
  if (r == NULL)
    return NULL;
  r->master = master;
  if (opts)
    r->opts = *opts;
  r->master_open = true;
  r->stdin_open = !r->opts.no_input;
  fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
  if (r->stdin_open && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &r->saved) == 0) {
    struct termios raw = r->saved;
    cfmakeraw(&raw);
    if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0)
      r->raw = true;
  }
  cab_tty_relay_resize(r);
  return r;
}

int
cab_tty_relay_pollfds(struct cab_tty_relay *r, struct pollfd *p)
{
  int n = 0;
  if (r->master_open)
    p[n++] = (struct pollfd){.fd = r->master, .events = POLLIN};
  if (r->stdin_open && r->master_open)
    p[n++] = (struct pollfd){.fd = STDIN_FILENO, .events = POLLIN};
  return n;
}

static void
copy_out(struct cab_tty_relay *r)
{
  char buf[16384];
  for (;;) {
    ssize_t n = read(r->master, buf, sizeof buf);
    if (n > 0) {
      if (r->opts.on_output)
        r->opts.on_output(r->opts.ctx, buf, (size_t)n);
      if (!r->opts.quiet)
        write_all(STDOUT_FILENO, buf, n);
      continue;
    }
    if (n < 0 && (errno == EINTR))
      continue;
    if (n == 0 || errno != EAGAIN)
      r->master_open = false; /* EIO: every slave end is closed */
    return;
  }
}

void
cab_tty_relay_service(struct cab_tty_relay *r, struct pollfd *p, int n)
{
  for (int i = 0; i < n; i++) {
    if (p[i].fd == r->master && (p[i].revents & (POLLIN | POLLHUP | POLLERR)))
      copy_out(r);
    if (p[i].fd == STDIN_FILENO && (p[i].revents & (POLLIN | POLLHUP | POLLERR))) {
      char buf[4096];
      ssize_t got = read(STDIN_FILENO, buf, sizeof buf);
      if (got > 0)
        write_all(r->master, buf, got);
      else if (got == 0 || (errno != EINTR && errno != EAGAIN))
        r->stdin_open = false;
    }
  }
}

void
cab_tty_relay_resize(struct cab_tty_relay *r)
{
  struct winsize ws = {.ws_row = r->opts.rows ? r->opts.rows : 24,
                       .ws_col = r->opts.cols ? r->opts.cols : 80};
  if (r->opts.no_input || ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0) {
    ws.ws_row = r->opts.rows ? r->opts.rows : 24;
    ws.ws_col = r->opts.cols ? r->opts.cols : 80;
  }
  ioctl(r->master, TIOCSWINSZ, &ws);
}

void
cab_tty_relay_drain(struct cab_tty_relay *r)
{
  if (r->master_open)
    copy_out(r);
}

void
cab_tty_relay_free(struct cab_tty_relay *r)
{
  if (r == NULL)
    return;
  if (r->raw)
    tcsetattr(STDIN_FILENO, TCSANOW, &r->saved);
  free(r);
}
