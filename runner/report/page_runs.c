/* cell/<tui>/<model>/<family>/<task>/index.html when the cell was run more
 * than once (run-N below it): the published site serves one page per
 * TUI x model x task, so that address lists the runs, and its badge
 * (badge/<tui>/<model>/<family>/<task>.svg) carries their mean composite. */
#include <math.h>
#include <string.h>

#include "runner/report/internal.h"

/* Mean composite over the scored runs (infra_error ones left out, as the
 * leaderboard does); absent when none has one. */
static struct rnum
mean_composite(const struct report *r, const struct rkey *k, size_t *scored)
{
  double sum = 0;
  size_t n = 0;
  for (size_t i = 0; i < k->n; i++) {
    const struct rcell *c = &r->cells[k->cells[i]];
    if (c->infra || !c->composite.has || !isfinite(c->composite.v))
      continue;
    sum += c->composite.v;
    n++;
  }
  *scored = n;
  return (struct rnum){n > 0, n ? sum / (double)n : 0};
}

int
report_page_runs(struct report *r, size_t ki, cab_error *err)
{
  const struct rkey *k = &r->keys[ki];
  const struct rcell *c = &r->cells[k->first];
  size_t scored;
  struct rnum mean = mean_composite(r, k, &scored);
  char label[1024], value[32], alt[1200], title[2048], buf[32];
  snprintf(label, sizeof label, "%s × %s", c->tui, c->model);
  report_badge_value(value, sizeof value, mean);
  snprintf(alt, sizeof alt, "CodingAgentBench: %s %s", label, value);
  if (report_write_badge(r, k->badge, label, mean, err) < 0)
    return -1;
  FILE *f = report_create(r, k->page, "index.html", err);
  if (f == NULL)
    return -1;
  char up[1024];
  rh_up(up, sizeof up, k->page);
  snprintf(title, sizeof title, "%s · %s", label, c->task_id);
  rh_head(f, r, up, title);
  if (report_cell_title(f, c, up, err) < 0) {
    fclose(f);
    return -1;
  }
  fputs("</p>\n<section id=\"runs\">\n<h2>Runs</h2>\n", f);
  rh_fmt3(buf, sizeof buf, mean);
  fprintf(f, "<p>This cell was run %zu times; each run has its own page. Mean composite over the "
             "%zu scored runs: <b id=\"runs-mean\">%s</b>.</p>\n",
          k->n, scored, *buf ? buf : "—");
  report_cells_table(f, r, up, k->cells, k->n, true);
  fputs("</section>\n", f);
  report_badge_embed(f, r, up, k->badge, k->page, alt);
  rh_foot(f, up);
  return report_close(f, k->page, "index.html", err);
}
