/* One live status line on a terminal (see ttyline.h). */
#include "common/ttyline.h"

#include <stdarg.h>

#include "common/fsutil.h"

bool
cab_ttyline_draw(struct cab_ttyline *l, bool force, const char *fmt, ...)
{
  int64_t now = cab_now_ns();
  if (!force && l->last_draw_ns && now - l->last_draw_ns < l->min_interval_ns)
    return false;
  l->last_draw_ns = now;
  /* Carriage return, the text, then erase what a longer line left. */
  fputc('\r', l->out);
  va_list ap;
  va_start(ap, fmt);
  vfprintf(l->out, fmt, ap);
  va_end(ap);
  fputs("\033[K", l->out);
  fflush(l->out);
  l->drawn = true;
  return true;
}

void
cab_ttyline_end(struct cab_ttyline *l)
{
  if (!l->drawn)
    return;
  fputc('\n', l->out);
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
