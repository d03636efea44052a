/* JSON output as the published cell pages show it: JavaScript's
 * JSON.stringify number and string formatting, so `cab score` output is
 * byte-comparable with the published values (0.5811826367427722, not
 * cJSON's 0.58118263674277224). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scorers/scorers.h"
#include "scorers/util.h"

struct buf {
  char *p;
  size_t len, cap;
};

static void
put(struct buf *b, const char *s, size_t n)
{
  if (b->len + n + 1 > b->cap) {
    while (b->len + n + 1 > b->cap)
      b->cap = b->cap ? b->cap * 2 : 256;
    b->p = cab_xrealloc(b->p, b->cap);
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

static void
puts_(struct buf *b, const char *s)
{
  put(b, s, strlen(s));
}

/* ECMAScript Number::toString(10): the shortest digits that round-trip,
 * then plain notation for 1e-7 < |x| < 1e21, exponent notation otherwise. */
static void
put_number(struct buf *b, double x)
{
  char out[64];
  if (isnan(x) || isinf(x)) {
    puts_(b, "null");
    return;
  }
  if (x == 0) {
    puts_(b, "0");
    return;
  }
  char tmp[40];
  int prec;
  for (prec = 1; prec <= 17; prec++) {
    snprintf(tmp, sizeof tmp, "%.*e", prec - 1, x);
    if (strtod(tmp, NULL) == x)
      break;
  }
  /* tmp: [-]d[.ddd]e[+-]XX */
  char digits[24];
  size_t k = 0;
  const char *c = tmp;
  bool neg = *c == '-';
  if (neg)
    c++;
  for (; *c && *c != 'e'; c++)
    if (*c != '.')
      digits[k++] = *c;
  digits[k] = '\0';
  int e10 = atoi(c + 1);
  while (k > 1 && digits[k - 1] == '0') /* %.*e may pad with zeros */
    digits[--k] = '\0';
  int n = e10 + 1; /* x = 0.digits × 10^n */
  char *o = out;
  if (neg)
    *o++ = '-';
  if ((int)k <= n && n <= 21) {
    memcpy(o, digits, k);
    o += k;
    for (int i = 0; i < n - (int)k; i++)
      *o++ = '0';
  } else if (0 < n && n <= 21) {
    memcpy(o, digits, (size_t)n);
    o += n;
    *o++ = '.';
    memcpy(o, digits + n, k - (size_t)n);
    o += k - (size_t)n;
  } else if (-6 < n && n <= 0) {
    *o++ = '0';
    *o++ = '.';
    for (int i = 0; i < -n; i++)
      *o++ = '0';
    memcpy(o, digits, k);
    o += k;
  } else {
    *o++ = digits[0];
    if (k > 1) {
      *o++ = '.';
      memcpy(o, digits + 1, k - 1);
      o += k - 1;
    }
    o += sprintf(o, "e%c%d", n - 1 < 0 ? '-' : '+', abs(n - 1));
  }
  *o = '\0';
  puts_(b, out);
}

static void
put_string(struct buf *b, const char *s)
{
  put(b, "\"", 1);
  const char *run = s;
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    const char *esc = NULL;
    char u[8];
    switch (c) {
    case '"': esc = "\\\""; break;
    case '\\': esc = "\\\\"; break;
    case '\b': esc = "\\b"; break;
    case '\f': esc = "\\f"; break;
    case '\n': esc = "\\n"; break;
    case '\r': esc = "\\r"; break;
    case '\t': esc = "\\t"; break;
    default:
      if (c < 0x20) {
        snprintf(u, sizeof u, "\\u%04x", c);
        esc = u;
      }
    }
    if (esc) {
      put(b, run, (size_t)(s - run));
      puts_(b, esc);
      run = s + 1;
    }
  }
  put(b, run, (size_t)(s - run));
  put(b, "\"", 1);
}

static void
indent(struct buf *b, int depth)
{
  put(b, "\n", 1);
  for (int i = 0; i < depth; i++)
    put(b, "  ", 2);
}

static void
put_value(struct buf *b, const cJSON *j, bool pretty, int depth)
{
  if (cJSON_IsNull(j) || j == NULL || cJSON_IsInvalid(j)) {
    puts_(b, "null");
  } else if (cJSON_IsFalse(j)) {
    puts_(b, "false");
  } else if (cJSON_IsTrue(j)) {
    puts_(b, "true");
  } else if (cJSON_IsNumber(j)) {
    put_number(b, j->valuedouble);
  } else if (cJSON_IsString(j)) {
    put_string(b, j->valuestring ? j->valuestring : "");
  } else if (cJSON_IsRaw(j)) {
    puts_(b, j->valuestring ? j->valuestring : "null");
  } else if (cJSON_IsArray(j) || cJSON_IsObject(j)) {
    bool obj = cJSON_IsObject(j);
    put(b, obj ? "{" : "[", 1);
    bool first = true;
    for (const cJSON *c = j->child; c; c = c->next) {
      if (!first)
        put(b, ",", 1);
      first = false;
      if (pretty)
        indent(b, depth + 1);
      if (obj) {
        put_string(b, c->string ? c->string : "");
        puts_(b, pretty ? ": " : ":");
      }
      put_value(b, c, pretty, depth + 1);
    }
    if (pretty && !first)
      indent(b, depth);
    put(b, obj ? "}" : "]", 1);
  } else {
    puts_(b, "null");
  }
}

char *
cab_json_print(const cJSON *item, bool pretty)
{
  struct buf b = {0};
  put_value(&b, item, pretty, 0);
  return b.p;
}
