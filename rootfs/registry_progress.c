/* One progress line on stderr while blobs download (only on a terminal). */
#include <stdio.h>
#include <string.h>

#include "common/fsutil.h"
#include "rootfs/registry_internal.h"

void
cab_progress_draw(struct cab_progress *p, bool force)
{
  if (!p->on)
    return;
  int64_t now = cab_now_ns();
  if (!force && now - p->last_draw_ns < 100 * 1000000LL)
    return;
  p->last_draw_ns = now;
  char bar[31];
  int fill = p->total > 0 ? (int)(30 * (p->done > p->total ? p->total : p->done) / p->total) : 30;
  memset(bar, '=', (size_t)fill);
  memset(bar + fill, ' ', (size_t)(30 - fill));
  bar[30] = '\0';
  fprintf(stderr, "\r%.60s [%s] %.1f/%.1f MB, %zu/%zu blobs\033[K", p->label, bar,
          (double)p->done / 1e6, (double)p->total / 1e6, p->finished, p->blobs);
  fflush(stderr);
}

void
cab_progress_end(struct cab_progress *p)
{
  if (!p->on)
    return;
  cab_progress_draw(p, true);
  fputc('\n', stderr);
}
