/* tm/<tui>/<model>/index.html: one TUI x model, its aggregates, every cell
 * and its badge. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runner/report/internal.h"

static void
kv(FILE *f, const char *key, const char *value)
{
  fprintf(f, "<div><dt>%s</dt><dd>", key);
  rh_esc(f, value);
  fputs("</dd></div>", f);
}

static void
numtd(FILE *f, struct rnum v, const char *text)
{
  fputs("<td class=\"num\" data-v=\"", f);
  if (v.has && isfinite(v.v))
    fprintf(f, "%.17g", v.v);
  fputs("\">", f);
  rh_esc(f, text);
  fputs("</td>", f);
}

static void
strtd(FILE *f, const char *up, const char *link, const char *text)
{
  fputs("<td data-v=\"", f);
  rh_esc(f, text);
  fputs("\">", f);
  if (link)
    rh_link(f, up, link, text);
  else
    rh_esc(f, text);
  fputs("</td>", f);
}

/* The cells of a TUI x model or a task, as a sortable table. */
static void
cells_table(FILE *f, const struct report *r, const char *up, const size_t *cells, size_t n,
            bool show_group)
{
  fputs("<table class=\"sortable\" id=\"cells\">\n<thead><tr>", f);
  const char *const cols[] = {show_group ? "TUI" : "Task", show_group ? "Model" : "Family",
                              "Sweep", "Run", "Outcome", "Pass", "Tokens", "Wall", "Composite"};
  for (size_t i = 0; i < sizeof cols / sizeof *cols; i++)
    fprintf(f, "<th scope=\"col\" data-type=\"%s\"><button type=\"button\">%s</button></th>",
            i >= 3 && i != 4 ? "num" : "str", cols[i]);
  fputs("</tr></thead>\n<tbody>\n", f);
  for (size_t k = 0; k < n; k++) {
    const struct rcell *c = &r->cells[cells[k]];
    char target[4300], buf[64];
    snprintf(target, sizeof target, "%s/index.html", c->page);
    fputs("<tr>", f);
    if (show_group) {
      strtd(f, up, target, c->tui);
      strtd(f, up, NULL, c->model);
    } else {
      strtd(f, up, target, c->task_id);
      strtd(f, up, NULL, c->family);
    }
    strtd(f, up, NULL, c->sweep);
    snprintf(buf, sizeof buf, "%ld", c->run);
    numtd(f, (struct rnum){c->run > 0, (double)c->run}, c->run ? buf : "");
    fprintf(f, "<td class=\"outcome %s\" data-v=\"", c->infra ? "infra" : "");
    rh_esc(f, c->outcome);
    fputs("\">", f);
    rh_esc(f, c->outcome);
    fputs("</td>", f);
    rh_fmt3(buf, sizeof buf, c->pass);
    numtd(f, c->pass, buf);
    rh_fmt_int(buf, sizeof buf, c->total_tokens);
    numtd(f, (struct rnum){true, c->total_tokens}, buf);
    rh_fmt_wall(buf, sizeof buf, c->wall_ms);
    numtd(f, c->wall_ms, buf);
    rh_fmt3(buf, sizeof buf, c->composite);
    numtd(f, c->composite, buf);
    fputs("</tr>\n", f);
  }
  fputs("</tbody>\n</table>\n", f);
}

int
report_page_group(struct report *r, size_t gi, cab_error *err)
{
  const struct rgroup *g = &r->groups[gi];
  FILE *f = report_create(r, g->page, "index.html", err);
  if (f == NULL)
    return -1;
  char up[1024], title[1024], buf[256], lo[32], hi[32];
  rh_up(up, sizeof up, g->page);
  snprintf(title, sizeof title, "%s × %s", g->tui, g->model);
  rh_head(f, r, up, title);
  struct rstats s;
  report_stats(r, g, NULL, NULL, &s);
  fputs("<h1><span class=\"tui\">", f);
  rh_esc(f, g->tui);
  fputs("</span> × <span class=\"model\">", f);
  rh_esc(f, g->model);
  fputs("</span></h1>\n<section id=\"summary\">\n<h2>Aggregates</h2>\n<dl class=\"strip\">", f);
  rh_fmt3(buf, sizeof buf, s.mean);
  kv(f, "Composite", buf);
  rh_fmt3(lo, sizeof lo, s.ci_lo);
  rh_fmt3(hi, sizeof hi, s.ci_hi);
  if (s.ci_lo.has)
    snprintf(buf, sizeof buf, "[%s, %s]", lo, hi);
  else
    buf[0] = '\0';
  kv(f, "95% CI", buf);
  rh_fmt3(buf, sizeof buf, s.pass1);
  kv(f, "pass@1", buf);
  rh_fmt3(buf, sizeof buf, s.ships);
  kv(f, "Ships", buf);
  rh_fmt3(buf, sizeof buf, s.stays);
  kv(f, "Stays", buf);
  rh_fmt_int(buf, sizeof buf, s.tokens.has ? s.tokens.v : NAN);
  kv(f, "Tokens/cell", buf);
  rh_fmt_wall(buf, sizeof buf, (struct rnum){s.wall_s.has, s.wall_s.v * 1000});
  kv(f, "Wall/cell", buf);
  snprintf(buf, sizeof buf, "%zu", s.cells);
  kv(f, "Cells", buf);
  snprintf(buf, sizeof buf, "%zu", s.infra);
  kv(f, "Infra errors", buf);
  fputs("</dl>\n</section>\n<section id=\"group-cells\">\n<h2>Cells</h2>\n", f);
  cells_table(f, r, up, g->cells, g->n, false);
  fputs("</section>\n", f);
  char alt[1024], value[32];
  report_badge_value(value, sizeof value, s.mean);
  snprintf(alt, sizeof alt, "CodingAgentBench: %s × %s %s", g->tui, g->model, value);
  report_badge_embed(f, r, up, g->badge, g->page, alt);
  rh_foot(f, up);
  return report_close(f, g->page, "index.html", err);
}

void
report_cells_table(FILE *f, const struct report *r, const char *up, const size_t *cells, size_t n,
                   bool show_group)
{
  cells_table(f, r, up, cells, n, show_group);
}
