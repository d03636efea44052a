/* index.html: the leaderboard (one row per TUI x model, for every family x
 * language filter: the rows of the other filters are hidden, report.js
 * shows them), the charts and the tasks. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runner/report/internal.h"

static const struct rstats *sort_stats;

static int
by_mean_desc(const void *a, const void *b)
{
  const struct rstats *x = &sort_stats[*(const size_t *)a], *y = &sort_stats[*(const size_t *)b];
  double vx = x->mean.has ? x->mean.v : -1, vy = y->mean.has ? y->mean.v : -1;
  if (vx != vy)
    return vx > vy ? -1 : 1;
  return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

/* <td class="num" data-v="V">TEXT</td>, both blank for an absent number. */
static void
num_cell(FILE *f, struct rnum v, const char *text)
{
  fputs("<td class=\"num\" data-v=\"", f);
  if (v.has && isfinite(v.v))
    fprintf(f, "%.17g", v.v);
  fputs("\">", f);
  rh_esc(f, text);
  fputs("</td>", f);
}

/* Costs: "4,184 tok · 3.8 s · 0.7 files", each part only when known. */
static void
fmt_costs(char *buf, size_t size, const struct rstats *s)
{
  char tok[64];
  size_t used = 0;
  buf[0] = '\0';
  if (s->tokens.has) {
    rh_fmt_int(tok, sizeof tok, s->tokens.v);
    used += (size_t)snprintf(buf + used, size - used, "%s tok", tok);
  }
  if (s->wall_s.has && used < size)
    used += (size_t)snprintf(buf + used, size - used, "%s%.1f s", used ? " · " : "", s->wall_s.v);
  if (s->unexpected.has && used < size)
    snprintf(buf + used, size - used, "%s%.1f files", used ? " · " : "", s->unexpected.v);
}

/* The sweeps a row pools (its cells under the filter), in the site's order. */
static void
sweeps_cell(FILE *f, const struct report *r, const struct rgroup *g, const char *family,
            const char *language)
{
  char *text = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&text, &len);
  if (m == NULL)
    return;
  size_t shown = 0;
  for (size_t i = 0; i < r->nsweeps; i++) {
    bool in = false;
    for (size_t k = 0; k < g->n && !in; k++) {
      const struct rcell *c = &r->cells[g->cells[k]];
      in = strcmp(c->sweep, r->sweeps[i]) == 0 && (family == NULL || strcmp(c->family, family) == 0) &&
           (language == NULL || strcmp(c->language, language) == 0);
    }
    if (in)
      fprintf(m, "%s%s", shown++ ? ", " : "", *r->sweeps[i] ? r->sweeps[i] : "(none)");
  }
  fclose(m);
  fputs("<td class=\"sweeps\" data-v=\"", f);
  rh_esc(f, text);
  fputs("\">", f);
  rh_esc(f, text);
  fputs("</td>", f);
  free(text);
}

static void
board_row(FILE *f, const struct report *r, const struct rgroup *g, const struct rstats *s,
          const char *family, const char *language, bool front_tokens, bool front_wall)
{
  char buf[256], lo[32], hi[32];
  fputs("<tr class=\"lb\" data-family=\"", f);
  rh_esc(f, family ? family : "");
  fputs("\" data-language=\"", f);
  rh_esc(f, language ? language : "");
  fputs(family || language ? "\" hidden>" : "\">", f);
  fputs("<td class=\"key\" data-v=\"", f);
  rh_esc(f, g->tui);
  fputs("\">", f);
  char target[4300];
  snprintf(target, sizeof target, "%s/index.html", g->page);
  rh_link(f, "", target, *g->tui ? g->tui : "(none)");
  fputs("</td><td class=\"model\" data-v=\"", f);
  rh_esc(f, g->model);
  fputs("\">", f);
  rh_esc(f, g->model);
  fputs("</td>", f);
  if (r->nsweeps > 1)
    sweeps_cell(f, r, g, family, language);
  rh_fmt3(buf, sizeof buf, s->mean);
  num_cell(f, s->mean, buf);
  rh_fmt3(lo, sizeof lo, s->ci_lo);
  rh_fmt3(hi, sizeof hi, s->ci_hi);
  if (s->ci_lo.has)
    snprintf(buf, sizeof buf, "[%s, %s]", lo, hi);
  else
    buf[0] = '\0';
  num_cell(f, s->ci_lo.has ? (struct rnum){true, s->ci_hi.v - s->ci_lo.v} : s->ci_lo, buf);
  rh_fmt3(buf, sizeof buf, s->pass1);
  num_cell(f, s->pass1, buf);
  rh_fmt3(buf, sizeof buf, s->ships);
  num_cell(f, s->ships, buf);
  rh_fmt3(buf, sizeof buf, s->stays);
  num_cell(f, s->stays, buf);
  fmt_costs(buf, sizeof buf, s);
  fputs("<td class=\"num costs\" data-v=\"", f);
  if (s->tokens.has && isfinite(s->tokens.v))
    fprintf(f, "%.17g", s->tokens.v);
  fputs("\">", f);
  rh_esc(f, buf);
  fputs("</td>", f);
  snprintf(buf, sizeof buf, "%zu", s->cells);
  num_cell(f, (struct rnum){true, (double)s->cells}, buf);
  snprintf(buf, sizeof buf, "%zu", s->infra);
  num_cell(f, (struct rnum){true, (double)s->infra}, buf);
  snprintf(buf, sizeof buf, "%s%s%s", front_tokens ? "T" : "", front_tokens && front_wall ? " " : "",
           front_wall ? "W" : "");
  fprintf(f, "<td class=\"pareto\" data-v=\"%s\">%s</td>", buf, buf);
  fputs("</tr>\n", f);
}

static int
board_rows(FILE *f, const struct report *r, const char *family, const char *language)
{
  struct rstats *stats = calloc(r->ngroups + 1, sizeof *stats);
  size_t *order = calloc(r->ngroups + 1, sizeof *order);
  bool *pt = calloc(r->ngroups + 1, sizeof *pt), *pw = calloc(r->ngroups + 1, sizeof *pw);
  int rc = -1;
  if (stats && order && pt && pw) {
    for (size_t g = 0; g < r->ngroups; g++) {
      report_stats(r, &r->groups[g], family, language, &stats[g]);
      order[g] = g;
    }
    report_pareto(stats, r->ngroups, true, pt);
    report_pareto(stats, r->ngroups, false, pw);
    sort_stats = stats;
    qsort(order, r->ngroups, sizeof *order, by_mean_desc);
    for (size_t k = 0; k < r->ngroups; k++)
      if (stats[order[k]].cells > 0)
        board_row(f, r, &r->groups[order[k]], &stats[order[k]], family, language, pt[order[k]],
                  pw[order[k]]);
    rc = 0;
  }
  free(stats);
  free(order);
  free(pt);
  free(pw);
  return rc;
}

static void
filter_select(FILE *f, const char *id, const char *label, char **values, size_t n)
{
  fprintf(f, "<label>%s <select id=\"%s\"><option value=\"\">all</option>", label, id);
  for (size_t i = 0; i < n; i++) {
    fputs("<option value=\"", f);
    rh_esc(f, values[i]);
    fputs("\">", f);
    rh_esc(f, values[i]);
    fputs("</option>", f);
  }
  fputs("</select></label>\n", f);
}

static int
leaderboard(FILE *f, const struct report *r)
{
  fputs("<section id=\"leaderboard\">\n<h2>Leaderboard</h2>\n"
        "<form class=\"filters\" id=\"filters\">\n",
        f);
  filter_select(f, "filter-family", "Family", r->families, r->nfamilies);
  filter_select(f, "filter-language", "Language", r->languages, r->nlanguages);
  fputs("</form>\n", f);
  if (r->nsweeps > 1) {
    fprintf(f, "<p class=\"banner\" id=\"sweeps-note\">This site pools %zu sweeps (", r->nsweeps);
    for (size_t i = 0; i < r->nsweeps; i++) {
      fputs(i ? ", " : "", f);
      fputs("<code>", f);
      rh_esc(f, *r->sweeps[i] ? r->sweeps[i] : "(none)");
      fputs("</code>", f);
    }
    fputs("): a row's numbers are over its TUI × model's cells in all of them, and the Sweeps "
          "column names the sweeps each row pools. Cell pages are apart, under "
          "<code>cell/&lt;sweep&gt;/</code>. For one sweep alone: <code>cab report --sweep "
          "S</code>.</p>\n",
          f);
  }
  fputs("<div class=\"table-wrap\"><table class=\"sortable board\" id=\"board\">\n<thead><tr>", f);
  static const char *const cols[][2] = {
      {"TUI", "str"},   {"Model", "str"},  {"Sweeps", "str"}, {"Composite", "num"},
      {"95% CI", "num"}, {"pass@1", "num"}, {"Ships", "num"}, {"Stays", "num"},
      {"Costs", "num"}, {"Cells", "num"}, {"Infra errors", "num"}, {"Pareto", "str"}};
  for (size_t i = 0; i < sizeof cols / sizeof *cols; i++) {
    if (i == 2 && r->nsweeps <= 1)
      continue; /* one sweep: nothing pooled */
    fprintf(f, "<th scope=\"col\" data-type=\"%s\"%s%s><button type=\"button\">%s</button></th>",
            cols[i][1], i == 3 ? " aria-sort=\"descending\"" : "",
            i == 0 ? " class=\"key\"" : "", cols[i][0]);
  }
  fputs("</tr></thead>\n<tbody>\n", f);
  if (board_rows(f, r, NULL, NULL) < 0)
    return -1;
  for (size_t a = 0; a <= r->nfamilies; a++)
    for (size_t b = 0; b <= r->nlanguages; b++)
      if ((a > 0 || b > 0) &&
          board_rows(f, r, a ? r->families[a - 1] : NULL, b ? r->languages[b - 1] : NULL) < 0)
        return -1;
  fputs("</tbody>\n</table></div>\n<p class=\"empty\" id=\"board-empty\" hidden>No cells match these "
        "filters.</p>\n"
        "<details class=\"note\"><summary>How these numbers are computed</summary>\n<ul>\n"
        "<li>The statistics of <code>cab leaderboard</code> (runner/results), per TUI × model and "
        "for the cells the filters select.</li>\n"
        "<li><b>Composite</b> and <b>pass@1</b>: means over the scored cells (every cell whose "
        "outcome is not <code>infra_error</code>; each rerun counts once).</li>\n"
        "<li><b>95% CI</b>: a Student t interval over per-task means (each task's reruns averaged "
        "first; mean ± t<sub>0.975, n−1</sub> · s / √n over n tasks); blank with fewer than 2 "
        "tasks; not clipped to [0, 1].</li>\n"
        "<li><b>Ships</b>: the fraction of scored cells that pass with the diff on plan "
        "(blast_radius 0: no unexpected change).</li>\n"
        "<li><b>Stays</b>: among tasks with 2 or more scored reruns, the fraction whose reruns all "
        "got the same verdict; blank when no task was rerun.</li>\n"
        "<li><b>Costs</b>: mean total tokens (cells that recorded them), wall-clock seconds and "
        "off-plan changed files per scored cell.</li>\n"
        "<li><b>Infra errors</b> are counted apart and left out of every other column.</li>\n"
        "<li><b>Pareto</b>: T = on the frontier of composite (higher) against tokens (lower), "
        "W = against wall time (lower).</li>\n</ul></details>\n</section>\n",
        f);
  return 0;
}

static void
charts(FILE *f, const struct report *r, const struct rstats *stats)
{
  fputs("<section id=\"charts\">\n<h2>Composite distribution per TUI × model</h2>\n"
        "<figure class=\"chart\">",
        f);
  report_chart_distribution(f, r, stats, "");
  fputs("</figure>\n<h2>Pareto: composite against tokens</h2>\n<figure class=\"chart\">", f);
  report_chart_pareto(f, r, stats, REPORT_AXIS_TOKENS, "");
  fputs("</figure>\n<h2>Pareto: composite against wall time</h2>\n<figure class=\"chart\">", f);
  report_chart_pareto(f, r, stats, REPORT_AXIS_WALL, "");
  fputs("</figure>\n<p class=\"note\">Each point is a TUI × model (means over its scored cells); "
        "filled points are on the Pareto frontier: no other does better on both axes. The same "
        "charts as files: <a href=\"charts/composite.svg\">composite.svg</a>, "
        "<a href=\"charts/pareto-tokens.svg\">pareto-tokens.svg</a>, "
        "<a href=\"charts/pareto-wall.svg\">pareto-wall.svg</a>.</p>\n</section>\n",
        f);
}

static void
tasks(FILE *f, const struct report *r)
{
  fputs("<section id=\"tasks\">\n<h2>Tasks</h2>\n<table class=\"sortable\" id=\"task-table\">\n"
        "<thead><tr><th data-type=\"str\"><button type=\"button\">Task</button></th>"
        "<th data-type=\"str\"><button type=\"button\">Family</button></th>"
        "<th data-type=\"str\"><button type=\"button\">Language</button></th>"
        "<th data-type=\"num\"><button type=\"button\">Cells</button></th>"
        "<th data-type=\"num\"><button type=\"button\">Pass rate</button></th>"
        "<th data-type=\"num\"><button type=\"button\">Mean composite</button></th></tr></thead>\n"
        "<tbody>\n",
        f);
  for (size_t t = 0; t < r->ntasks; t++) {
    const struct rtask *k = &r->tasks[t];
    double pass = 0, comp = 0;
    size_t scored = 0, ncomp = 0;
    for (size_t i = 0; i < k->n; i++) {
      const struct rcell *c = &r->cells[k->cells[i]];
      if (c->infra)
        continue;
      scored++;
      pass += c->pass.has && c->pass.v >= 1;
      if (c->composite.has) {
        comp += c->composite.v;
        ncomp++;
      }
    }
    char target[4300], a[32], b[32];
    snprintf(target, sizeof target, "%s/index.html", k->page);
    fputs("<tr><td data-v=\"", f);
    rh_esc(f, k->task_id);
    fputs("\">", f);
    rh_link(f, "", target, *k->task_id ? k->task_id : "(unknown)");
    fputs("</td><td data-v=\"", f);
    rh_esc(f, k->family);
    fputs("\">", f);
    rh_esc(f, k->family);
    fputs("</td><td data-v=\"", f);
    rh_esc(f, k->language);
    fputs("\">", f);
    rh_esc(f, k->language);
    fprintf(f, "</td><td class=\"num\" data-v=\"%zu\">%zu</td>", k->n, k->n);
    struct rnum p = {scored > 0, scored ? pass / (double)scored : 0};
    struct rnum m = {ncomp > 0, ncomp ? comp / (double)ncomp : 0};
    rh_fmt3(a, sizeof a, p);
    rh_fmt3(b, sizeof b, m);
    num_cell(f, p, a);
    num_cell(f, m, b);
    fputs("</tr>\n", f);
  }
  fputs("</tbody>\n</table>\n</section>\n", f);
}

int
report_page_index(struct report *r, cab_error *err)
{
  FILE *f = report_create(r, "", "index.html", err);
  if (f == NULL)
    return -1;
  struct rstats *stats = calloc(r->ngroups + 1, sizeof *stats);
  if (stats == NULL) {
    fclose(f);
    return cab_error_sys(err, "out of memory");
  }
  for (size_t g = 0; g < r->ngroups; g++)
    report_stats(r, &r->groups[g], NULL, NULL, &stats[g]);
  rh_head(f, r, "", "Leaderboard");
  fputs("<h1>", f);
  rh_esc(f, r->o->title ? r->o->title : "cab report");
  fprintf(f, "</h1>\n<p class=\"lede\">%zu cells · %zu TUI × model · %zu tasks", r->ncells,
          r->ngroups, r->ntasks);
  if (r->o->sweep) {
    fputs(" · sweep <code>", f);
    rh_esc(f, r->o->sweep);
    fputs("</code>", f);
  }
  if (r->skipped)
    fprintf(f, " · %zu cell.json files skipped (not cab cells)", r->skipped);
  fputs("</p>\n", f);
  int rc = leaderboard(f, r);
  charts(f, r, stats);
  tasks(f, r);
  rh_foot(f, "");
  free(stats);
  if (rc < 0) {
    fclose(f);
    return cab_error_set(err, 0, "report: out of memory writing index.html");
  }
  return report_close(f, "", "index.html", err);
}
