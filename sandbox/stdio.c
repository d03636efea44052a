/* The command's stdio without a pty: see stdio.h. */
#include "sandbox/stdio.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

enum kind { PASS, TO_NULL, RELAY };

static enum kind
classify(int fd, struct stat *st)
{
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0)
    return PASS; /* closed: nothing to hand over */
  if ((fl & O_PATH) || fstat(fd, st) < 0 || S_ISDIR(st->st_mode))
    return TO_NULL;
  if (S_ISREG(st->st_mode) || S_ISBLK(st->st_mode))
    return RELAY;
  return PASS;
}

/* A pipe (or socket pair) for fd N; the sandbox's end goes to
 * child_end[N]. */
static int
open_chan(struct cab_stdio *s, int n, int file, bool socket, cab_error *err)
{
  int ours, theirs;
  if (socket) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
      return cab_error_sys(err, "socketpair for the command's fd %d", n);
    ours = sv[0];
    theirs = sv[1];
    /* One way only: the command cannot write into its stdin, nor read
     * back from its stdout. */
    shutdown(ours, n == 0 ? SHUT_RD : SHUT_WR);
  } else {
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
      return cab_error_sys(err, "pipe for the command's fd %d", n);
    ours = n == 0 ? p[1] : p[0];
    theirs = n == 0 ? p[0] : p[1];
  }
  struct cab_stdio_chan *c = &s->chan[s->n_chan++];
  c->ours = ours;
  c->file = file;
  c->input = n == 0;
  c->is_socket = socket;
  c->file_eof = false;
  c->len = c->off = 0;
  s->child_end[n] = theirs;
  s->child[n] = theirs;
  s->relayed = true;
  if (fcntl(ours, F_SETFL, O_NONBLOCK) < 0)
    return cab_error_sys(err, "relay for the command's fd %d", n);
  return 0;
}

void
cab_stdio_init(struct cab_stdio *s)
{
  s->n_chan = 0;
  s->relayed = s->nulled = false;
  for (int i = 0; i < 3; i++) {
    s->child[i] = CAB_STDIO_KEEP;
    s->child_end[i] = -1;
    s->chan[i].ours = -1;
  }
}

int
cab_stdio_prepare(const int given[3], bool append_only, struct cab_stdio *s, cab_error *err)
{
  cab_stdio_init(s);
  for (int i = 0; i < 3; i++)
    if (given[i] >= 0)
      s->child[i] = given[i];
  struct stat st[3];
  for (int i = 0; i < 3; i++) {
    int fd = given[i] >= 0 ? given[i] : i;
    switch (classify(fd, &st[i])) {
    case PASS:
      break;
    case TO_NULL:
      s->child[i] = CAB_STDIO_NULL;
      s->nulled = true;
      break;
    case RELAY:
      /* stdout and stderr on one file (2>&1) share a relay: their order
       * is kept. */
      if (i == 2 && s->child_end[1] >= 0 && st[1].st_dev == st[2].st_dev &&
          st[1].st_ino == st[2].st_ino) {
        s->child[2] = s->child_end[1];
        break;
      }
      if (open_chan(s, i, fd, append_only && i > 0, err) < 0)
        return -1;
      break;
    }
  }
  return 0;
}

bool
cab_stdio_output_append_only(const struct cab_stdio *s)
{
  int outputs = 0;
  for (int i = 0; i < s->n_chan; i++)
    if (!s->chan[i].input) {
      if (!s->chan[i].is_socket)
        return false;
      outputs++;
    }
  return outputs > 0;
}

void
cab_stdio_chown_child_ends(const struct cab_stdio *s, uid_t uid, gid_t gid)
{
  for (int i = 0; i < 3; i++)
    if (s->child_end[i] >= 0 && fchown(s->child_end[i], uid, gid) < 0) {
      /* Not fatal: /dev/stdout is then refused, as for any pipe of ours. */
    }
}

void
cab_stdio_close_supervisor_ends(const struct cab_stdio *s)
{
  for (int i = 0; i < s->n_chan; i++)
    if (s->chan[i].ours >= 0)
      close(s->chan[i].ours);
}

void
cab_stdio_close_child_ends(struct cab_stdio *s)
{
  for (int i = 0; i < 3; i++)
    if (s->child_end[i] >= 0) {
      close(s->child_end[i]);
      s->child_end[i] = -1;
    }
}

static void
close_chan(struct cab_stdio_chan *c)
{
  if (c->ours >= 0)
    close(c->ours);
  c->ours = -1;
}

int
cab_stdio_pollfds(struct cab_stdio *s, struct pollfd *p)
{
  int n = 0;
  for (int i = 0; i < s->n_chan; i++) {
    struct cab_stdio_chan *c = &s->chan[i];
    if (c->ours >= 0)
      p[n++] = (struct pollfd){.fd = c->ours, .events = c->input ? POLLOUT : POLLIN};
  }
  return n;
}

/* Write all of BUF to the caller's file; on failure the rest is dropped
 * (the command must not stall on a full disk). */
static void
write_all(int fd, const char *buf, size_t len)
{
  while (len > 0) {
    ssize_t w = write(fd, buf, len);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return;
    buf += w;
    len -= (size_t)w;
  }
}

/* Output: copy what our end holds to the file.  Returns false at EOF. */
static bool
pump_out(struct cab_stdio_chan *c)
{
  char buf[CAB_STDIO_BUF];
  for (;;) {
    ssize_t r = read(c->ours, buf, sizeof buf);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0 && errno == EAGAIN)
      return true;
    if (r <= 0)
      return false;
    write_all(c->file, buf, (size_t)r);
  }
}

/* Input: feed our end from the file.  Returns false when done. */
static bool
pump_in(struct cab_stdio_chan *c)
{
  for (;;) {
    if (c->off == c->len) {
      if (c->file_eof) {
        if (c->is_socket)
          shutdown(c->ours, SHUT_WR);
        return false; /* closing our end: the command reads EOF */
      }
      ssize_t r = read(c->file, c->buf, sizeof c->buf);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0) {
        c->file_eof = true;
        continue;
      }
      c->len = (size_t)r;
      c->off = 0;
    }
    /* A pipe whose reader is gone raises SIGPIPE: the supervisor keeps it
     * blocked and discards it (supervisor.c); write() says EPIPE. */
    ssize_t w = c->is_socket ? send(c->ours, c->buf + c->off, c->len - c->off,
                                    MSG_NOSIGNAL | MSG_DONTWAIT)
                             : write(c->ours, c->buf + c->off, c->len - c->off);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0 && errno == EAGAIN)
      return true;
    if (w < 0)
      return false; /* the command closed its stdin */
    c->off += (size_t)w;
  }
}

void
cab_stdio_service(struct cab_stdio *s, const struct pollfd *p, int n)
{
  for (int k = 0; k < n; k++) {
    if (p[k].revents == 0)
      continue;
    for (int i = 0; i < s->n_chan; i++) {
      struct cab_stdio_chan *c = &s->chan[i];
      if (c->ours != p[k].fd)
        continue;
      if (!(c->input ? pump_in(c) : pump_out(c)))
        close_chan(c);
      break;
    }
  }
}

void
cab_stdio_drain(struct cab_stdio *s)
{
  for (int i = 0; i < s->n_chan; i++) {
    struct cab_stdio_chan *c = &s->chan[i];
    if (c->ours < 0)
      continue;
    /* Every writer in the sandbox has exited, and what it wrote is queued
     * on our end: read it without blocking, in case an fd passed out of
     * the sandbox (over a bound unix socket) keeps the other end open. */
    if (!c->input)
      pump_out(c);
    close_chan(c);
  }
}

void
cab_stdio_free(struct cab_stdio *s)
{
  cab_stdio_close_child_ends(s);
  for (int i = 0; i < s->n_chan; i++)
    close_chan(&s->chan[i]);
}
