/* Charts as plain SVG written by cab (no JavaScript library): the composite
 * distribution per TUI x model, and the Pareto plots of mean composite
 * against mean tokens and against mean wall time.  Geometry is in SVG
 * attributes (never inline styles), so the pages' CSP holds. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runner/report/internal.h"
#include "common/strfmt.h"

double
report_nice_step(double max)
{
  if (!(max > 0) || !isfinite(max))
    return 1;
  double raw = max / 5, mag = pow(10, floor(log10(raw))), norm = raw / mag;
  return (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
}

/* "tui × model", cut to MAX code points with an ellipsis. */
static void
group_label(char *buf, size_t size, const struct rgroup *g, size_t max)
{
  char full[1024];
  /* A chart label: cut here and below on purpose. */
  cab_snprintf_cut(full, sizeof full, "%s × %s", g->tui, g->model);
  size_t cps = 0, i = 0;
  for (; full[i]; i++) {
    if (((unsigned char)full[i] & 0xc0) != 0x80 && cps++ == max)
      break;
  }
  if (full[i] == '\0')
    cab_snprintf_cut(buf, size, "%s", full);
  else
    cab_snprintf_cut(buf, size, "%.*s…", (int)i, full);
}

/* The width of TEXT at the charts' 12px, erring wide: report_text_width
 * estimates 11px Verdana, and DejaVu Sans's W and M are wider still (a
 * label of 34 of them measured 434 px in Chromium against 408 estimated
 * at 12/11). */
static double
label_width(const char *text)
{
  return report_text_width(text) * 1.2 + 4;
}

/* The widest a distribution label may be: longer ones lose code points. */
#define LABEL_MAX_PX 440.0

/* group_label cut to LABEL_MAX_PX as well as to 40 code points. */
static void
dist_label(char *buf, size_t size, const struct rgroup *g)
{
  for (size_t cps = 40;; cps--) {
    group_label(buf, size, g, cps);
    if (cps <= 8 || label_width(buf) <= LABEL_MAX_PX)
      return;
  }
}

static void
link_open(FILE *f, const char *up, const char *path, const char *file)
{
  fputs("<a href=\"", f);
  rh_url(f, up);
  rh_url(f, path);
  fputc('/', f);
  rh_url(f, file);
  fputs("\">", f);
}

void
report_chart_distribution(FILE *f, const struct report *r, const struct rstats *stats,
                          const char *up)
{
  /* The labels' column is as wide as the widest label (cut to 40 code
   * points), so that none is clipped at the SVG's left edge. */
  const double right = 880, top = 34, row = 26;
  double widest = 0;
  for (size_t g = 0; g < r->ngroups; g++) {
    char label[600];
    dist_label(label, sizeof label, &r->groups[g]);
    widest = fmax(widest, label_width(label));
  }
  const double left = fmax(120, widest + 22);
  double h = top + row * (double)r->ngroups + 34;
  fprintf(f,
          "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" id=\"chart-distribution\" "
          "font-family=\"system-ui, DejaVu Sans, sans-serif\" font-size=\"12\" "
          "viewBox=\"0 0 900 %.0f\" width=\"900\" height=\"%.0f\" role=\"img\" "
          "aria-label=\"Composite distribution per TUI × model\">\n"
          "<title>Composite distribution per TUI × model</title>\n",
          h, h);
  for (int k = 0; k <= 5; k++) {
    double x = left + (right - left) * k / 5.0;
    fprintf(f,
            "<line class=\"grid\" stroke=\"#e6e9ed\" x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\"/>"
            "<text class=\"tick\" fill=\"#5b6470\" font-size=\"11\" x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%.1f</text>\n",
            x, top - 6, x, h - 28, x, top - 12, k / 5.0);
  }
  fprintf(f, "<text class=\"axis\" fill=\"#5b6470\" x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">composite "
             "(each dot a cell; bar: mean; line: 95%% CI)</text>\n",
          (left + right) / 2, h - 8);
  for (size_t g = 0; g < r->ngroups; g++) {
    const struct rgroup *gr = &r->groups[g];
    double cy = top + row * (double)g + row / 2;
    char label[600];
    dist_label(label, sizeof label, gr);
    fprintf(f, "<g class=\"dist-row\">");
    link_open(f, up, gr->page, "index.html");
    fprintf(f, "<text class=\"label\" fill=\"#1b1f24\" x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">", left - 10, cy + 4);
    rh_esc(f, label);
    fputs("</text></a>\n", f);
    const struct rstats *s = &stats[g];
    if (s->ci_lo.has)
      fprintf(f, "<line class=\"ci\" stroke=\"#7d8894\" stroke-width=\"2\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
              left + (right - left) * fmax(0, s->ci_lo.v), cy,
              left + (right - left) * fmin(1, s->ci_hi.v), cy);
    for (size_t k = 0; k < gr->n; k++) {
      const struct rcell *c = &r->cells[gr->cells[k]];
      if (c->infra || !c->composite.has)
        continue;
      double jitter = (double)((int)(k * 7 % 9) - 4) * 1.6;
      link_open(f, up, c->page, "index.html");
      bool passed = c->pass.has && c->pass.v >= 1;
      fprintf(f, "<circle class=\"dot %s\" fill=\"%s\" stroke=\"#fff\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\"><title>",
              passed ? "pass" : "fail", passed ? "#1a7f37" : "#c62828",
              left + (right - left) * fmin(1, fmax(0, c->composite.v)), cy + jitter);
      rh_esc(f, c->task_id);
      if (c->run)
        fprintf(f, " run %ld", c->run);
      fprintf(f, ": %.3f</title></circle></a>", c->composite.v);
    }
    if (s->mean.has)
      fprintf(f, "\n<line class=\"mean\" stroke=\"#101820\" stroke-width=\"3\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"><title>mean %.3f</title></line>",
              left + (right - left) * s->mean.v, cy - 9, left + (right - left) * s->mean.v, cy + 9,
              s->mean.v);
    fputs("</g>\n", f);
  }
  fputs("</svg>\n", f);
}

/* A tick's label: tokens grouped by thousands, unless the step is a
 * fraction (a sweep without tokens), which rounding would show as 0 0 0 1. */
static void
tick_label(char *buf, size_t size, double v, double step, enum report_axis axis)
{
  if (axis == REPORT_AXIS_TOKENS && step >= 1)
    rh_fmt_int(buf, size, v);
  else
    snprintf(buf, size, "%g", round(v / step) * step);
}

void
report_chart_pareto(FILE *f, const struct report *r, const struct rstats *stats,
                    enum report_axis axis, const char *up)
{
  /* PAD keeps the points off the axes' tick labels: a point at x = 0 or
   * y = 0 sits PAD px inside the plot, not on "0.0" */
  const double left = 70, right = 880, top = 20, bottom = 370, h = 420, pad = 16;
  const char *id = axis == REPORT_AXIS_TOKENS ? "chart-pareto-tokens" : "chart-pareto-wall";
  const char *xname = axis == REPORT_AXIS_TOKENS ? "mean tokens per cell" : "mean wall time per cell (s)";
  size_t n = 0;
  double *x = calloc(r->ngroups + 1, sizeof *x), *y = calloc(r->ngroups + 1, sizeof *y);
  size_t *gi = calloc(r->ngroups + 1, sizeof *gi);
  bool *front = calloc(r->ngroups + 1, sizeof *front), *all = calloc(r->ngroups + 1, sizeof *all);
  if (x == NULL || y == NULL || gi == NULL || front == NULL || all == NULL)
    goto out;
  report_pareto(stats, r->ngroups, axis == REPORT_AXIS_TOKENS, all);
  for (size_t g = 0; g < r->ngroups; g++) {
    struct rnum xv = axis == REPORT_AXIS_TOKENS ? stats[g].tokens : stats[g].wall_s;
    if (!xv.has || !stats[g].mean.has)
      continue;
    x[n] = xv.v;
    y[n] = stats[g].mean.v;
    front[n] = all[g];
    gi[n++] = g;
  }
  double xmax = 0;
  for (size_t i = 0; i < n; i++)
    xmax = fmax(xmax, x[i]);
  double step = report_nice_step(xmax > 0 ? xmax : 1);
  double xtop = step * ceil((xmax > 0 ? xmax : 1) * 1.05 / step);
#define PX(v) (left + pad + (right - left - 2 * pad) * (v) / xtop)
#define PY(v) (bottom - pad - (bottom - top - 2 * pad) * (v))
  fprintf(f,
          "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" id=\"%s\" viewBox=\"0 0 900 %.0f\" "
          "font-family=\"system-ui, DejaVu Sans, sans-serif\" font-size=\"12\" "
          "width=\"900\" height=\"%.0f\" role=\"img\" aria-label=\"Pareto: composite against %s\">\n"
          "<title>Pareto: mean composite against %s (filled: on the frontier)</title>\n",
          id, h, h, xname, xname);
  for (double v = 0; v <= xtop + step / 2; v += step) {
    char label[64];
    tick_label(label, sizeof label, v, step, axis);
    fprintf(f,
            "<line class=\"grid\" stroke=\"#e6e9ed\" x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\"/>"
            "<text class=\"tick\" fill=\"#5b6470\" font-size=\"11\" x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%s</text>\n",
            PX(v), top, PX(v), bottom, PX(v), bottom + 16, label);
  }
  for (int k = 0; k <= 5; k++)
    fprintf(f,
            "<line class=\"grid\" stroke=\"#e6e9ed\" x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\"/>"
            "<text class=\"tick\" fill=\"#5b6470\" font-size=\"11\" x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%.1f</text>\n",
            left, PY(k / 5.0), right, PY(k / 5.0), left - 6, PY(k / 5.0) + 4, k / 5.0);
  /* the axes, at the padded plot's edges */
  fprintf(f,
          "<line class=\"axis-line\" stroke=\"#8d99a6\" x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\"/>"
          "<line class=\"axis-line\" stroke=\"#8d99a6\" x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\"/>\n",
          left, top, left, bottom, left, bottom, right, bottom);
  fprintf(f,
          "<text class=\"axis\" fill=\"#5b6470\" x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">%s</text>\n"
          "<text class=\"axis\" fill=\"#5b6470\" x=\"16\" y=\"%.0f\" text-anchor=\"middle\" "
          "transform=\"rotate(-90 16 %.0f)\">mean composite</text>\n",
          (left + right) / 2, bottom + 40, xname, (top + bottom) / 2, (top + bottom) / 2);
  /* the frontier as a staircase, in order of x */
  size_t nf = 0;
  size_t *order = calloc(n + 1, sizeof *order);
  if (order) {
    for (size_t i = 0; i < n; i++)
      if (front[i])
        order[nf++] = i;
    for (size_t a = 1; a < nf; a++)
      for (size_t b = a; b > 0 && x[order[b]] < x[order[b - 1]]; b--) {
        size_t t = order[b];
        order[b] = order[b - 1];
        order[b - 1] = t;
      }
    if (nf > 1) {
      fputs("<polyline class=\"frontier\" fill=\"none\" stroke=\"#0b63c5\" stroke-dasharray=\"4 3\" points=\"", f);
      for (size_t k = 0; k < nf; k++) {
        size_t i = order[k];
        if (k > 0)
          fprintf(f, " %.1f,%.1f", PX(x[i]), PY(y[order[k - 1]]));
        fprintf(f, " %.1f,%.1f", PX(x[i]), PY(y[i]));
      }
      fputs("\"/>\n", f);
    }
    free(order);
  }
  for (size_t i = 0; i < n; i++) {
    const struct rgroup *g = &r->groups[gi[i]];
    char label[600], xv[64];
    group_label(label, sizeof label, g, 32);
    if (axis == REPORT_AXIS_TOKENS)
      rh_fmt_int(xv, sizeof xv, round(x[i]));
    else
      snprintf(xv, sizeof xv, "%g", round(x[i] * 100) / 100);
    link_open(f, up, g->page, "index.html");
    fprintf(f, "<circle class=\"point%s\" fill=\"%s\" stroke=\"#0b63c5\" stroke-width=\"2\" "
               "cx=\"%.1f\" cy=\"%.1f\" r=\"5\"><title>",
            front[i] ? " front" : "", front[i] ? "#0b63c5" : "#fff", PX(x[i]), PY(y[i]));
    rh_esc(f, label);
    fprintf(f, ": composite %.3f, %s %s</title></circle>", y[i], xv,
            axis == REPORT_AXIS_TOKENS ? "tokens" : "s");
    if (front[i]) {
      /* a label that would run off the right edge is put left of its point */
      bool flip = PX(x[i]) + 8 + label_width(label) > 900;
      fprintf(f, "<text class=\"point-label\" fill=\"#1b1f24\" font-size=\"11\" x=\"%.1f\" y=\"%.1f\"%s>",
              flip ? PX(x[i]) - 8 : PX(x[i]) + 8, PY(y[i]) - 6, flip ? " text-anchor=\"end\"" : "");
      rh_esc(f, label);
      fputs("</text>", f);
    }
    fputs("</a>\n", f);
  }
  if (n == 0)
    fprintf(f, "<text class=\"axis\" fill=\"#5b6470\" x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">no scored cells</text>\n",
            (left + right) / 2, (top + bottom) / 2);
  fputs("</svg>\n", f);
#undef PX
#undef PY
out:
  free(x);
  free(y);
  free(gi);
  free(front);
  free(all);
}
