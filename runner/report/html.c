/* Writing HTML safely: every string that comes from a cell goes through one
 * of these escapers, and every page starts with the same head (with a
 * Content Security Policy that allows only the site's own script and style,
 * so that even a missed escape could not run anything). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "runner/report/internal.h"

void
rh_escn(FILE *f, const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)s[i];
    switch (ch) {
    case '&': fputs("&amp;", f); break;
    case '<': fputs("&lt;", f); break;
    case '>': fputs("&gt;", f); break;
    case '"': fputs("&quot;", f); break;
    case '\'': fputs("&#39;", f); break;
    case '\t':
    case '\n': fputc(ch, f); break;
    default:
      if (ch >= 0x20 && ch != 0x7f)
        fputc(ch, f);
    }
  }
}

void
rh_esc(FILE *f, const char *s)
{
  if (s)
    rh_escn(f, s, strlen(s));
}

/* Length of the escape sequence at S (S[0] is ESC), at most N. */
static size_t
ansi_len(const char *s, size_t n)
{
  if (n < 2)
    return n;
  size_t i = 2;
  if (s[1] == '[') { /* CSI: parameters, then one final byte 0x40-0x7e */
    while (i < n && !((unsigned char)s[i] >= 0x40 && (unsigned char)s[i] <= 0x7e))
      i++;
    return i < n ? i + 1 : n;
  }
  if (s[1] == ']' || s[1] == 'P' || s[1] == '_' || s[1] == '^') { /* OSC, DCS...: to BEL or ST */
    while (i < n && s[i] != '\a' && !(s[i] == 0x1b && i + 1 < n && s[i + 1] == '\\'))
      i++;
    if (i >= n)
      return n;
    return s[i] == '\a' ? i + 1 : i + 2;
  }
  if (s[1] == '(' || s[1] == ')' || s[1] == '#') /* charset designations: one more byte */
    return 3 < n ? 3 : n;
  return 2;
}

void
rh_term(FILE *f, const char *s, size_t n)
{
  size_t start = 0;
  for (size_t i = 0; i < n;) {
    if (s[i] == 0x1b || s[i] == '\r') {
      rh_escn(f, s + start, i - start);
      i += s[i] == '\r' ? 1 : ansi_len(s + i, n - i);
      start = i;
    } else {
      i++;
    }
  }
  rh_escn(f, s + start, n - start);
}

void
rh_url(FILE *f, const char *path)
{
  static const char hex[] = "0123456789ABCDEF";
  for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
    if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
        strchr("-._~/", *p))
      fputc(*p, f);
    else
      fprintf(f, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
  }
}

void
rh_json_script(FILE *f, const cJSON *j)
{
  char *text = cJSON_PrintUnformatted(j);
  if (text == NULL) {
    fputs("null", f);
    return;
  }
  /* JSON's structure is ASCII without '<', '>' or '&': every such byte is
   * inside a string, where a \u escape means the same character. */
  for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
    if (*p == '<')
      fputs("\\u003c", f);
    else if (*p == '>')
      fputs("\\u003e", f);
    else if (*p == '&')
      fputs("\\u0026", f);
    else if (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9)) {
      fputs(p[2] == 0xa8 ? "\\u2028" : "\\u2029", f);
      p += 2;
    } else
      fputc(*p, f);
  }
  cJSON_free(text);
}

void
rh_json_text(FILE *f, const cJSON *j)
{
  char *text = cJSON_PrintUnformatted(j);
  if (text == NULL)
    return;
  rh_esc(f, text);
  cJSON_free(text);
}

void
rh_shell_arg(FILE *f, const char *s)
{
  bool plain = *s != '\0';
  for (const char *p = s; *p && plain; p++)
    plain = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./_-",
                   *p) != NULL;
  if (plain) {
    rh_esc(f, s);
    return;
  }
  fputs("&#39;", f);
  for (const char *p = s; *p; p++) {
    if (*p == '\'')
      fputs("&#39;\\&#39;&#39;", f);
    else
      rh_escn(f, p, 1);
  }
  fputs("&#39;", f);
}

void
rh_up(char *buf, size_t size, const char *dir)
{
  size_t used = 0;
  buf[0] = '\0';
  if (dir == NULL || *dir == '\0')
    return;
  for (const char *p = dir; p; p = strchr(p + 1, '/'))
    if (used + 4 <= size) {
      memcpy(buf + used, "../", 4);
      used += 3;
    }
}

void
rh_head(FILE *f, const struct report *r, const char *up, const char *title)
{
  const char *site = r->o->title ? r->o->title : "cab report";
  fputs("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "script-src 'self'; style-src 'self'; img-src 'self' data:; base-uri 'none'; "
        "form-action 'none'\">\n<meta name=\"referrer\" content=\"no-referrer\">\n<title>",
        f);
  rh_esc(f, title);
  fputs(" · ", f);
  rh_esc(f, site);
  fputs("</title>\n<link rel=\"stylesheet\" href=\"", f);
  rh_url(f, up);
  fputs("assets/report.css\">\n<script src=\"", f);
  rh_url(f, up);
  fputs("assets/report.js\" defer></script>\n</head>\n<body>\n"
        "<a class=\"skip\" href=\"#main\">Skip to main content</a>\n<header class=\"site\">",
        f);
  rh_link(f, up, "index.html", site);
  static const char *const nav[][2] = {
      {"leaderboard", "Leaderboard"}, {"charts", "Charts"}, {"tasks", "Tasks"}};
  fputs(" <nav>", f);
  for (size_t i = 0; i < 3; i++) {
    fprintf(f, "%s<a href=\"", i ? " · " : "");
    rh_url(f, up);
    fprintf(f, "index.html#%s\">%s</a>", nav[i][0], nav[i][1]);
  }
  fputs("</nav></header>\n<main id=\"main\">\n", f);
}

void
rh_foot(FILE *f, const char *up)
{
  fputs("</main>\n<footer class=\"site\">Written by <code>cab report</code> (" CAB_REPORT_SCHEMA
        ") from cell.json files: per-axis numbers are canonical; composite is derivative."
        "</footer>\n</body>\n</html>\n",
        f);
}

void
rh_link(FILE *f, const char *up, const char *path, const char *text)
{
  fputs("<a href=\"", f);
  rh_url(f, up);
  rh_url(f, path);
  fputs("\">", f);
  rh_esc(f, text);
  fputs("</a>", f);
}

void
rh_fmt3(char *buf, size_t size, struct rnum x)
{
  if (!x.has || !isfinite(x.v))
    snprintf(buf, size, "%s", "");
  else
    snprintf(buf, size, "%.3f", x.v);
}

void
rh_fmt_wall(char *buf, size_t size, struct rnum ms)
{
  if (!ms.has || !isfinite(ms.v))
    snprintf(buf, size, "%s", "");
  else
    snprintf(buf, size, "%.1fs", ms.v / 1000.0);
}

void
rh_fmt_int(char *buf, size_t size, double v)
{
  char digits[64];
  if (!isfinite(v)) {
    snprintf(buf, size, "%s", "");
    return;
  }
  snprintf(digits, sizeof digits, "%.0f", fabs(v));
  size_t n = strlen(digits), used = 0;
  if (v <= -0.5 && used + 1 < size)
    buf[used++] = '-';
  for (size_t i = 0; i < n && used + 1 < size; i++) {
    if (i > 0 && (n - i) % 3 == 0 && used + 2 < size)
      buf[used++] = ',';
    buf[used++] = digits[i];
  }
  buf[used] = '\0';
}

void
rh_fmt_ms(char *buf, size_t size, double ms)
{
  if (!isfinite(ms))
    snprintf(buf, size, "%s", "");
  else if (ms < 1000)
    snprintf(buf, size, "%.0f ms", ms);
  else
    snprintf(buf, size, "%.2f s", ms / 1000.0);
}
