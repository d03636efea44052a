/* One live status line on a terminal: redrawn in place ("\r...ESC[K\r":
 * the cursor left at its start, so that a warning printed meanwhile
 * replaces it rather than running on after it),
 * at most every MIN_INTERVAL_NS, and cleared or ended when the work is
 * done.  The one owner of that drawing: `cab pull`'s blob bar and
 * `cab run-cell`'s phase line draw through it. */
#ifndef CAB_COMMON_TTYLINE_H
#define CAB_COMMON_TTYLINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct cab_ttyline {
  FILE *out;               /* a terminal (the caller checked isatty) */
  int64_t min_interval_ns; /* 0: every draw is drawn */
  int64_t last_draw_ns;    /* 0: never drawn */
  bool drawn;              /* something is on the line now */
};

/* Draw TEXT (FMT) over the line, unless the last draw is younger than the
 * interval and FORCE is false.  Returns true when it drew. */
bool cab_ttyline_draw(struct cab_ttyline *l, bool force, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Leave the line as drawn and move below it. */
void cab_ttyline_end(struct cab_ttyline *l);

/* Erase the line: the terminal is as it was before the first draw. */
void cab_ttyline_clear(struct cab_ttyline *l);

/* "cab: warning: FMT\n" on OUT; on a terminal it first erases the line the
 * cursor is on, so a warning printed while someone's live line is up
 * replaces that line whole instead of leaving the end of a longer one
 * behind (the next draw puts the live line back below it). */
void cab_warn(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
