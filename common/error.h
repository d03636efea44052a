/* Structured errors, in the manner of crun's libcrun_error_t.
 *
 * A failing function fills a caller-owned `cab_error` and returns a negative
 * value.  Callers may add context with cab_error_prefix() as the error travels
 * up; exactly one place (the CLI) prints it, as one line. */
#ifndef CAB_COMMON_ERROR_H
#define CAB_COMMON_ERROR_H

#include <stdarg.h>

/* podman's exit codes */
enum {
  CAB_EXIT_RUNNER = 125,    /* cab itself failed */
  CAB_EXIT_CANNOT_RUN = 126, /* the command exists but cannot be executed */
  CAB_EXIT_NOT_FOUND = 127, /* the command was not found */
};

typedef struct cab_error {
  int errnum;        /* errno value, 0 when not an OS error */
  int exit_code;     /* what the CLI should exit with (default 125) */
  char message[2048];
} cab_error;

/* Fill ERR with a formatted message and ERRNUM (may be 0).  Returns -1. */
int cab_error_set(cab_error *err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like cab_error_set, with errno as ERRNUM. */
#define cab_error_sys(err, ...) cab_error_set((err), errno, __VA_ARGS__)

/* Prepend "CONTEXT: " to the message already in ERR.  Returns -1. */
int cab_error_prefix(cab_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Render as one line: "message: strerror(errnum)". */
const char *cab_error_line(const cab_error *err, char *buf, unsigned long size);

#endif
