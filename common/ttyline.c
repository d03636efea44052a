/* One live status line on a terminal (see ttyline.h). */
#include "common/ttyline.h"

#include <stdarg.h>
#include <unistd.h>

#include "common/fsutil.h"

bool
cab_ttyline_draw(struct cab_ttyline *l, bool force, const char *fmt, ...)
{
  int64_t now = cab_now_ns();
  if (!force && l->last_draw_ns && now - l->last_draw_ns < l->min_interval_ns)
    return false;
  l->last_draw_ns = now;
  /* Carriage return, the text, erase what a longer line left, and the
   * cursor back to the line's start: a warning someone else prints while
   * the line is up then writes over it, not after it. */
  fputc('\r', l->out);
  va_list ap;
  va_start(ap, fmt);
  vfprintf(l->out, fmt, ap);
  va_end(ap);
  fputs("\033[K\r", l->out);
  fflush(l->out);
  l->drawn = true;
  return true;
}

void
cab_ttyline_end(struct cab_ttyline *l)
{
  if (!l->drawn)
    return;
  fputs("\n", l->out); /* the cursor is at the line's start: below it */
  fflush(l->out);
  l->drawn = false;
}

void
cab_ttyline_clear(struct cab_ttyline *l)
{
  if (!l->drawn)
    return;
  fputs("\r\033[K", l->out);
  fflush(l->out);
  l->drawn = false;
}

void
cab_warn(FILE *out, const char *fmt, ...)
{
  /* Stateless: a live line leaves the cursor at its start, so erasing the
   * cursor's line is a no-op when there is none (after a newline). */
  if (isatty(fileno(out)))
    fputs("\r\033[K", out);
  fputs("cab: warning: ", out);
  va_list ap;
  va_start(ap, fmt);
  vfprintf(out, fmt, ap);
  va_end(ap);
  fputc('\n', out);
  fflush(out);
}
