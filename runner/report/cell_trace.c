/* The cell's trace: a waterfall of cell.json's spans on a time axis (SVG,
 * one row per span; report.js steps through them one at a time), and the
 * "Trace spans (N)" table. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runner/report/internal.h"

#define LABEL_X 4.0
#define BAR_X0 330.0
#define BAR_X1 930.0
#define ROW_H 22.0
#define AXIS_H 26.0

bool
report_parse_iso(const char *s, double *out)
{
  struct tm tm = {0};
  int consumed = 0;
  if (s == NULL || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                          &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6)
    return false;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  double frac = 0;
  const char *p = s + consumed;
  if (*p == '.') {
    double scale = 0.1;
    for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
      frac += (*p - '0') * scale;
  }
  if (*p != 'Z' || p[1] != '\0')
    return false;
  time_t t = timegm(&tm);
  if (t == (time_t)-1)
    return false;
  *out = (double)t + frac;
  return true;
}

struct span {
  const cJSON *j;
  double start, end; /* ms from the first span's start */
  int depth;
};

/* The spans with times, and the trace's start and length. */
static struct span *
load_spans(const struct rcell *c, size_t *n, double *total_ms)
{
  const cJSON *spans = c->rec.spans;
  int count = cJSON_IsArray(spans) ? cJSON_GetArraySize(spans) : 0;
  *n = 0;
  *total_ms = 0;
  struct span *v = calloc((size_t)count + 1, sizeof *v);
  if (v == NULL)
    return NULL;
  double t0 = INFINITY, t1 = -INFINITY;
  const cJSON *s;
  cJSON_ArrayForEach(s, spans)
  {
    double a, b;
    if (!report_parse_iso(report_jstr(s, "start"), &a))
      continue;
    if (!report_parse_iso(report_jstr(s, "end"), &b) || b < a)
      b = a;
    v[*n] = (struct span){.j = s, .start = a, .end = b};
    t0 = fmin(t0, a);
    t1 = fmax(t1, b);
    (*n)++;
  }
  for (size_t i = 0; i < *n; i++) {
    v[i].start = (v[i].start - t0) * 1000;
    v[i].end = (v[i].end - t0) * 1000;
    /* depth: how many parents up the chain (bounded) */
    const char *parent = report_jstr(v[i].j, "parent_id");
    for (int d = 0; parent && d < 8; d++) {
      size_t k;
      for (k = 0; k < *n; k++) {
        const char *id = report_jstr(v[k].j, "span_id");
        if (id && strcmp(id, parent) == 0)
          break;
      }
      if (k == *n)
        break;
      v[i].depth++;
      parent = report_jstr(v[k].j, "parent_id");
    }
  }
  if (*n > 0)
    *total_ms = (t1 - t0) * 1000;
  return v;
}

/* A CSS class from a span kind: [a-z0-9_] only. */
static void
kind_class(FILE *f, const char *kind)
{
  fputs("k-", f);
  for (const char *p = kind ? kind : ""; *p; p++)
    fputc((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' ? *p : '_', f);
}

/* TEXT cut to MAX code points (an ellipsis when cut), escaped. */
static void
esc_cut(FILE *f, const char *text, size_t max)
{
  size_t cps = 0, i = 0;
  for (; text[i]; i++)
    if (((unsigned char)text[i] & 0xc0) != 0x80 && cps++ == max)
      break;
  rh_escn(f, text, i);
  if (text[i])
    fputs("…", f);
}

static void
attrs_dl(FILE *f, const cJSON *attrs)
{
  fputs("<dl class=\"kv\">", f);
  const cJSON *a;
  cJSON_ArrayForEach(a, attrs)
  {
    fputs("<div><dt>", f);
    rh_esc(f, a->string);
    fputs("</dt><dd>", f);
    if (cJSON_IsString(a))
      rh_esc(f, a->valuestring);
    else
      rh_json_text(f, a);
    fputs("</dd></div>", f);
  }
  fputs("</dl>", f);
}

void
report_cell_trace(FILE *f, const struct rcell *c)
{
  size_t n;
  double total;
  struct span *v = load_spans(c, &n, &total);
  fputs("<section id=\"trace\">\n<h2>Trace replay</h2>\n", f);
  if (v == NULL || n == 0) {
    fputs("<p class=\"empty\">This cell recorded no spans.</p>\n</section>\n", f);
    free(v);
    return;
  }
  char tot[32];
  rh_fmt_ms(tot, sizeof tot, total);
  double scale = total > 0 ? (BAR_X1 - BAR_X0) / total : 0;
  double h = AXIS_H + ROW_H * (double)n + 6;
  fprintf(f,
          "<div class=\"wf\" id=\"waterfall\" data-total=\"%.3f\">\n"
          "<div class=\"controls\"><button type=\"button\" id=\"wf-prev\" title=\"previous span (←)\">"
          "◀ span</button><button type=\"button\" id=\"wf-play\" title=\"play/pause (space)\">▶ play"
          "</button><button type=\"button\" id=\"wf-next\" title=\"next span (→)\">span ▶</button>"
          "<output id=\"wf-time\">t = 0 ms / %s</output></div>\n"
          "<p class=\"hint\">space play/pause · ←/→ step span · ,/. step 100 ms</p>\n"
          "<svg class=\"wf-svg\" id=\"wf-svg\" viewBox=\"0 0 1000 %.0f\" width=\"1000\" height=\"%.0f\" "
          "role=\"img\" aria-label=\"trace waterfall\">\n",
          total, tot, h, h);
  double step = report_nice_step(total > 0 ? total : 1);
  for (double t = 0; t <= total + step / 1000; t += step) {
    char lab[32];
    rh_fmt_ms(lab, sizeof lab, t);
    fprintf(f,
            "<line class=\"grid\" x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\"/>"
            "<text class=\"tick\" x=\"%.1f\" y=\"14\" text-anchor=\"middle\">%s</text>\n",
            BAR_X0 + t * scale, AXIS_H - 6, BAR_X0 + t * scale, h, BAR_X0 + t * scale, lab);
  }
  for (size_t i = 0; i < n; i++) {
    const char *kind = report_jstr(v[i].j, "kind"), *name = report_jstr(v[i].j, "name");
    double y = AXIS_H + ROW_H * (double)i;
    char dur[32];
    rh_fmt_ms(dur, sizeof dur, v[i].end - v[i].start);
    fprintf(f, "<g class=\"wf-row %s\" id=\"wf-row-%zu\" data-i=\"%zu\" data-start=\"%.3f\" "
               "data-end=\"%.3f\">",
            i == 0 ? "current" : "", i, i, v[i].start, v[i].end);
    fprintf(f, "<rect class=\"wf-hit\" x=\"0\" y=\"%.0f\" width=\"1000\" height=\"%.0f\"/>", y, ROW_H);
    fprintf(f, "<text class=\"wf-label\" x=\"%.0f\" y=\"%.0f\">", LABEL_X + 12.0 * v[i].depth, y + 15);
    fputs("<tspan class=\"wf-kind\">", f);
    rh_esc(f, kind);
    fputs("</tspan> ", f);
    size_t room = 40 - (size_t)(2 * v[i].depth) - (kind ? strlen(kind) : 0);
    esc_cut(f, name ? name : "", kind && strlen(kind) + 2 * (size_t)v[i].depth < 30 ? room : 10);
    fputs("</text>", f);
    fprintf(f, "<rect class=\"wf-bar ");
    kind_class(f, kind);
    fprintf(f, "\" x=\"%.2f\" y=\"%.0f\" width=\"%.2f\" height=\"%.0f\" rx=\"2\"/>",
            BAR_X0 + v[i].start * scale, y + 4, fmax(1.5, (v[i].end - v[i].start) * scale), ROW_H - 8);
    fprintf(f, "<text class=\"wf-dur\" x=\"%.0f\" y=\"%.0f\">%s</text><title>", 995.0, y + 15, dur);
    rh_esc(f, kind);
    fputs(" ", f);
    rh_esc(f, name);
    fprintf(f, ": %s</title></g>\n", dur);
  }
  fprintf(f,
          "<line class=\"wf-cursor\" id=\"wf-cursor\" x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\"/>\n"
          "</svg>\n<div class=\"wf-details\">\n",
          BAR_X0, AXIS_H - 6, BAR_X0, h);
  for (size_t i = 0; i < n; i++) {
    char start[32], dur[32];
    rh_fmt_ms(start, sizeof start, v[i].start);
    rh_fmt_ms(dur, sizeof dur, v[i].end - v[i].start);
    fprintf(f, "<div class=\"span-detail\" id=\"span-detail-%zu\"%s><p>span <code>", i,
            i == 0 ? "" : " hidden");
    rh_esc(f, report_jstr(v[i].j, "span_id"));
    fputs("</code> <b>", f);
    rh_esc(f, report_jstr(v[i].j, "kind"));
    fputs("</b> ", f);
    rh_esc(f, report_jstr(v[i].j, "name"));
    fprintf(f, " · starts at %s · lasts %s</p>", start, dur);
    attrs_dl(f, cJSON_GetObjectItemCaseSensitive(v[i].j, "attributes"));
    fputs("</div>\n", f);
  }
  fputs("</div>\n</div>\n</section>\n", f);
  free(v);
}

void
report_cell_spans(FILE *f, const struct rcell *c)
{
  const cJSON *spans = c->rec.spans;
  int n = cJSON_IsArray(spans) ? cJSON_GetArraySize(spans) : 0;
  fprintf(f, "<section id=\"spans\">\n<h2>Trace spans (%d)</h2>\n", n);
  if (n == 0) {
    fputs("<p class=\"empty\">No spans.</p>\n</section>\n", f);
    return;
  }
  fputs("<table class=\"spans\">\n<thead><tr><th scope=\"col\">Span</th><th scope=\"col\">Kind</th>"
        "<th scope=\"col\">Name</th><th scope=\"col\">Duration</th><th scope=\"col\">Attrs / Error"
        "</th></tr></thead>\n<tbody>\n",
        f);
  const cJSON *s;
  cJSON_ArrayForEach(s, spans)
  {
    char dur[32];
    struct rnum d = report_jnum(s, "duration_ms");
    if (d.has)
      snprintf(dur, sizeof dur, "%.0f ms", d.v);
    else
      dur[0] = '\0';
    fputs("<tr><td class=\"id\"><code>", f);
    rh_esc(f, report_jstr(s, "span_id"));
    fputs("</code>", f);
    const char *parent = report_jstr(s, "parent_id");
    if (parent) {
      fputs(" ↳ <code>", f);
      rh_esc(f, parent);
      fputs("</code>", f);
    }
    fputs("</td><td>", f);
    rh_esc(f, report_jstr(s, "kind"));
    fputs("</td><td>", f);
    rh_esc(f, report_jstr(s, "name"));
    fprintf(f, "</td><td class=\"num\">%s</td><td class=\"json\"><code>", dur);
    const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(s, "attributes");
    if (attrs)
      rh_json_text(f, attrs);
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(s, "status");
    if (status) {
      fputs(" ", f);
      rh_json_text(f, status);
    }
    fputs("</code></td></tr>\n", f);
  }
  fputs("</tbody>\n</table>\n</section>\n", f);
}
