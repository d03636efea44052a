/* One progress line on stderr while blobs download (only on a terminal),
 * drawn through the one live-line helper (common/ttyline.h). */
#include <stdio.h>
#include <string.h>

#include "rootfs/registry_internal.h"

void
cab_progress_draw(struct cab_progress *p, bool force)
{
  if (!p->on)
    return;
  if (p->line.out == NULL)
    p->line = (struct cab_ttyline){.out = stderr, .min_interval_ns = 100 * 1000000LL};
  char bar[31];
  int fill = p->total > 0 ? (int)(30 * (p->done > p->total ? p->total : p->done) / p->total) : 30;
  memset(bar, '=', (size_t)fill);
  memset(bar + fill, ' ', (size_t)(30 - fill));
  bar[30] = '\0';
  cab_ttyline_draw(&p->line, force, "%.60s [%s] %.1f/%.1f MB, %zu/%zu blobs", p->label, bar,
                   (double)p->done / 1e6, (double)p->total / 1e6, p->finished, p->blobs);
}

void
cab_progress_end(struct cab_progress *p)
{
  if (!p->on)
    return;
  cab_progress_draw(p, true);
  cab_ttyline_end(&p->line);
}
