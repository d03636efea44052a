/* shields-like SVG badges (the "flat" style): label | composite, coloured
 * by value, and the Markdown and HTML snippets that embed them. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runner/report/internal.h"

const char *
report_badge_color(struct rnum v)
{
  if (!v.has || !isfinite(v.v))
    return "#9f9f9f"; /* lightgrey */
  if (v.v >= 0.9)
    return "#4c1"; /* brightgreen */
  if (v.v >= 0.75)
    return "#97ca00"; /* green */
  if (v.v >= 0.6)
    return "#a4a61d"; /* yellowgreen */
  if (v.v >= 0.45)
    return "#dfb317"; /* yellow */
  if (v.v >= 0.3)
    return "#fe7d37"; /* orange */
  return "#e05d44";   /* red */
}

double
report_text_width(const char *text)
{
  double w = 0;
  for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
    unsigned char ch = *p;
    if ((ch & 0xc0) == 0x80)
      continue; /* a UTF-8 continuation byte: counted with its lead byte */
    if (ch >= 0x80)
      w += 7.5;
    else if (strchr("ijlI.,:;!|'` ()[]", ch))
      w += 3.7;
    else if (strchr("mwMW@%", ch))
      w += 9.8;
    else if (ch >= 'A' && ch <= 'Z')
      w += 7.5;
    else if (ch >= '0' && ch <= '9')
      w += 7.0;
    else
      w += 6.2;
  }
  return w;
}

void
report_badge_value(char *buf, size_t size, struct rnum composite)
{
  if (!composite.has || !isfinite(composite.v))
    snprintf(buf, size, "n/a");
  else
    snprintf(buf, size, "%.0f%%", composite.v * 100);
}

void
report_badge_svg(FILE *f, const char *label, struct rnum composite)
{
  char value[32];
  report_badge_value(value, sizeof value, composite);
  double lw = floor(report_text_width(label) + 10.5), vw = floor(report_text_width(value) + 10.5);
  double w = lw + vw;
  fprintf(f,
          "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"20\" role=\"img\" "
          "aria-label=\"",
          w);
  rh_esc(f, label);
  fprintf(f, ": %s\">\n<title>", value);
  rh_esc(f, label);
  fprintf(f,
          ": %s</title>\n"
          "<linearGradient id=\"s\" x2=\"0\" y2=\"100%%\"><stop offset=\"0\" stop-color=\"#bbb\" "
          "stop-opacity=\".1\"/><stop offset=\"1\" stop-opacity=\".1\"/></linearGradient>\n"
          "<clipPath id=\"r\"><rect width=\"%.0f\" height=\"20\" rx=\"3\" fill=\"#fff\"/></clipPath>\n"
          "<g clip-path=\"url(#r)\"><rect width=\"%.0f\" height=\"20\" fill=\"#555\"/>"
          "<rect x=\"%.0f\" width=\"%.0f\" height=\"20\" fill=\"%s\"/>"
          "<rect width=\"%.0f\" height=\"20\" fill=\"url(#s)\"/></g>\n"
          "<g fill=\"#fff\" text-anchor=\"middle\" "
          "font-family=\"Verdana,Geneva,DejaVu Sans,sans-serif\" font-size=\"11\">\n",
          value, w, lw, lw, vw, report_badge_color(composite), w);
  fprintf(f, "<text x=\"%.1f\" y=\"15\" fill=\"#010101\" fill-opacity=\".3\">", lw / 2);
  rh_esc(f, label);
  fprintf(f, "</text><text x=\"%.1f\" y=\"14\">", lw / 2);
  rh_esc(f, label);
  fprintf(f,
          "</text>\n<text x=\"%.1f\" y=\"15\" fill=\"#010101\" fill-opacity=\".3\">%s</text>"
          "<text x=\"%.1f\" y=\"14\">%s</text>\n</g>\n</svg>\n",
          lw + vw / 2, value, lw + vw / 2, value);
}

int
report_write_badge(struct report *r, const char *path, const char *label, struct rnum composite,
                   cab_error *err)
{
  char dir[4300];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (slash == NULL)
    return cab_error_set(err, EINVAL, "report: badge path %s has no directory", path);
  *slash = '\0';
  FILE *f = report_create(r, dir, slash + 1, err);
  if (f == NULL)
    return -1;
  report_badge_svg(f, label, composite);
  return report_close(f, dir, slash + 1, err);
}

/* An absolute URL for PATH when the site's base URL is known, else PATH. */
static void
site_url(FILE *f, const struct report *r, const char *path)
{
  const char *base = r->o->base_url;
  if (base && *base) {
    size_t n = strlen(base);
    while (n > 0 && base[n - 1] == '/')
      n--;
    fwrite(base, 1, n, f);
    fputc('/', f);
  }
  rh_url(f, path);
}

/* Markdown link text: brackets and backslashes escaped. */
static void
md_text(FILE *f, const char *s)
{
  for (; *s; s++) {
    if (strchr("[]\\", *s))
      fputc('\\', f);
    fputc(*s, f);
  }
}

void
report_badge_embed(FILE *f, const struct report *r, const char *up, const char *badge,
                   const char *page, const char *alt)
{
  char target[4300];
  bool based = r->o->base_url && *r->o->base_url;
  /* as the published snippets: the page's address without a trailing slash */
  snprintf(target, sizeof target, "%s%s", page, based ? "" : "/index.html");
  char *md = NULL, *html = NULL;
  size_t mdlen = 0, htmllen = 0;
  FILE *m = open_memstream(&md, &mdlen);
  FILE *h = open_memstream(&html, &htmllen);
  if (m == NULL || h == NULL) {
    if (m)
      fclose(m);
    if (h)
      fclose(h);
    free(md);
    free(html);
    return;
  }
  fputs("[![", m);
  md_text(m, alt);
  fputs("](", m);
  site_url(m, r, badge);
  fputs(")](", m);
  site_url(m, r, target);
  fputs(")", m);
  fputs("<a href=\"", h);
  site_url(h, r, target);
  fputs("\"><img src=\"", h);
  site_url(h, r, badge);
  fputs("\" alt=\"", h);
  rh_esc(h, alt);
  fputs("\" /></a>", h);
  fclose(m);
  fclose(h);

  fputs("<section id=\"badge\">\n<h2>Embed this result</h2>\n<p><img class=\"badge\" src=\"", f);
  rh_url(f, up);
  rh_url(f, badge);
  fputs("\" alt=\"", f);
  rh_esc(f, alt);
  fputs("\"></p>\n<h3>README / Markdown</h3>\n<pre class=\"snippet\" id=\"embed-md\"><code>", f);
  rh_esc(f, md);
  fputs("</code></pre>\n<h3>HTML / iframe</h3>\n<pre class=\"snippet\" id=\"embed-html\"><code>", f);
  rh_esc(f, html);
  fputs("</code></pre>\n", f);
  if (!based)
    fputs("<p class=\"note\">Paths are relative to the site's root: run <code>cab report "
          "--base-url URL</code> for absolute links.</p>\n",
          f);
  fputs("</section>\n", f);
  free(md);
  free(html);
}
