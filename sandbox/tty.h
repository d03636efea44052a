/* Relay between cab's stdio and the sandbox's pty master. */
#ifndef CAB_SANDBOX_TTY_H
#define CAB_SANDBOX_TTY_H

#include <poll.h>
#include <stddef.h>

struct cab_tty_relay;

/* Takes a copy of nothing: MASTER stays owned by the caller.  Puts our stdin
 * in raw mode when it is a terminal (restored by cab_tty_relay_free). */
struct cab_tty_options {
  void (*on_output)(void *ctx, const char *data, size_t len);
  void *ctx;
  int quiet;          /* do not copy output to stdout */
  int no_input;       /* do not forward stdin */
  unsigned short rows, cols;
};

struct cab_tty_relay *cab_tty_relay_new(int master, const struct cab_tty_options *opts);

/* Fill up to 2 pollfds; returns how many. */
int cab_tty_relay_pollfds(struct cab_tty_relay *r, struct pollfd *p);

/* Move whatever is ready according to the N pollfds filled above. */
void cab_tty_relay_service(struct cab_tty_relay *r, struct pollfd *p, int n);

/* Copy our terminal's window size to the pty. */
void cab_tty_relay_resize(struct cab_tty_relay *r);

/* Copy out what the pty still holds, without blocking. */
void cab_tty_relay_drain(struct cab_tty_relay *r);

void cab_tty_relay_free(struct cab_tty_relay *r);

#endif
