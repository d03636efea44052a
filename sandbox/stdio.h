/* The command's stdin, stdout and stderr when it runs without a pty.
 *
 * An fd handed into the sandbox is also a path: /proc/self/fd/N re-opens
 * its file with whatever access the sandbox's ids have there (as root, the
 * sandbox's CAP_DAC_OVERRIDE covers the host files owned by the mapped
 * uid), and walks on from a directory (/proc/self/fd/0/.. is outside every
 * mount cab built).  So fds 0-2 are sorted before the command starts:
 *
 *   - a directory or an O_PATH fd becomes the sandbox's own /dev/null;
 *   - a regular file or a block device is relayed through a pipe that the
 *     supervisor pumps: the command reads what it is given and appends what
 *     it prints, and re-opening its stdio (/dev/stdout, /proc/self/fd/1)
 *     gives it the pipe again, never the file;
 *   - anything else (a pipe, a socket, a terminal, a character device) is
 *     passed as it is: re-opening one gives nothing its fd did not.
 *
 * With APPEND_ONLY (the verifier, whose output is the scorers' evidence)
 * stdout and stderr go through sockets instead: a pipe re-opened through
 * /proc for reading would let the command take the harness's output out of
 * it before cab does; a socket cannot be opened through /proc at all
 * (ENXIO, which /dev/stdout and /dev/stderr then give too).
 *
 * Runs in the supervisor; the child dup2()s what CHILD says and init closes
 * the supervisor's ends it inherited (cab_stdio_close_supervisor_ends). */
#ifndef CAB_SANDBOX_STDIO_H
#define CAB_SANDBOX_STDIO_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/error.h"

enum {
  CAB_STDIO_KEEP = -1, /* the command inherits fd N as it is */
  CAB_STDIO_NULL = -2, /* the command gets the sandbox's /dev/null */
  CAB_STDIO_BUF = 16384,
};

struct cab_stdio_chan {
  int ours;         /* the supervisor's end (a pipe's or a socket's); -1
                       once closed */
  int file;         /* the caller's fd it reads from (stdin) or writes to */
  bool input;       /* file -> ours, else ours -> file */
  bool is_socket;
  bool file_eof;    /* input: the file is exhausted */
  size_t len, off;  /* input: bytes read from the file not yet sent */
  char buf[CAB_STDIO_BUF];
};

struct cab_stdio {
  int child[3];     /* what the command gets as fd N: an fd to dup2, or
                       CAB_STDIO_KEEP / CAB_STDIO_NULL */
  int child_end[3]; /* the sockets' sandbox ends we hold until the clone */
  struct cab_stdio_chan chan[3];
  int n_chan;
  bool relayed;     /* some fd goes through the relay */
  bool nulled;      /* some fd was replaced by /dev/null */
};

/* Every fd kept as it is, nothing relayed (what a pty run uses). */
void cab_stdio_init(struct cab_stdio *s);

/* Sort GIVEN (fd N of the command: an fd of ours, or -1 for our own fd N). */
int cab_stdio_prepare(const int given[3], bool append_only, struct cab_stdio *s,
                      cab_error *err);

/* Whether stdout or stderr is relayed, and only through sockets. */
bool cab_stdio_output_append_only(const struct cab_stdio *s);

/* Give the relay's pipes to UID:GID, the host ids the command runs as when
 * they are not ours (root's host-rootfs sandbox). */
void cab_stdio_chown_child_ends(const struct cab_stdio *s, uid_t uid, gid_t gid);

/* After the clone: the sandbox holds its ends, we drop ours. */
void cab_stdio_close_child_ends(struct cab_stdio *s);

/* In the sandbox's init, which inherited them: our ends, so that closing a
 * pipe's write end here is the command's EOF. */
void cab_stdio_close_supervisor_ends(const struct cab_stdio *s);

/* Up to 3 pollfds for the open channels; returns how many. */
int cab_stdio_pollfds(struct cab_stdio *s, struct pollfd *p);

/* Move what is ready according to the N pollfds filled above. */
void cab_stdio_service(struct cab_stdio *s, const struct pollfd *p, int n);

/* Once the sandbox is gone (every process of it has exited): copy out what
 * the output sockets still hold, without blocking. */
void cab_stdio_drain(struct cab_stdio *s);

void cab_stdio_free(struct cab_stdio *s);

#endif
