/* The strict, small TOML reader (common/toml.h says what and why). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/toml.h"
#include "common/utf8.h"

/* Tables and arrays whose shape is fixed: inline tables and static arrays
 * (never extended), tables a header or dotted key defined (never defined
 * again), arrays made by [[x]] (the only ones [[x]] appends to). */
enum mark { MARK_SEALED, MARK_DEFINED, MARK_AOT };

struct marked {
  const cJSON *node;
  enum mark mark;
};

struct toml {
  const char *p, *end;
  int line;
  const char *origin;
  cab_error *err;
  cJSON *root, *cur;
  int depth;
  struct marked *marks;
  size_t n_marks, cap_marks;
};

static int
fail(struct toml *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
fail(struct toml *t, const char *fmt, ...)
{
  char what[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  return cab_error_set(t->err, 0, "%s:%d: %s", t->origin, t->line, what);
}

static int
mark(struct toml *t, const cJSON *node, enum mark m)
{
  if (t->n_marks == t->cap_marks) {
    size_t cap = t->cap_marks ? t->cap_marks * 2 : 32;
    struct marked *v = realloc(t->marks, cap * sizeof *v);
    if (v == NULL)
      return cab_error_set(t->err, ENOMEM, "%s: out of memory", t->origin);
    t->marks = v;
    t->cap_marks = cap;
  }
  t->marks[t->n_marks++] = (struct marked){node, m};
  return 0;
}

static bool
marked(const struct toml *t, const cJSON *node, enum mark m)
{
  for (size_t i = 0; i < t->n_marks; i++)
    if (t->marks[i].node == node && t->marks[i].mark == m)
      return true;
  return false;
}

static bool
at_end(const struct toml *t)
{
  return t->p >= t->end;
}

static char
peek(const struct toml *t, size_t ahead)
{
  return t->p + ahead < t->end ? t->p[ahead] : '\0';
}

static bool
starts(const struct toml *t, const char *s)
{
  size_t n = strlen(s);
  return (size_t)(t->end - t->p) >= n && memcmp(t->p, s, n) == 0;
}

static void
skip_ws(struct toml *t)
{
  while (!at_end(t) && (*t->p == ' ' || *t->p == '\t'))
    t->p++;
}

/* A comment runs to the end of the line; it may not hold control characters. */
static int
skip_comment(struct toml *t)
{
  if (at_end(t) || *t->p != '#')
    return 0;
  for (; !at_end(t) && *t->p != '\n'; t->p++) {
    unsigned char c = (unsigned char)*t->p;
    if ((c < 0x20 && c != '\t' && !(c == '\r' && peek(t, 1) == '\n')) || c == 0x7f)
      return fail(t, "control character 0x%02x in a comment; remove it", c);
  }
  return 0;
}

/* Past a newline ("\n" or "\r\n"), or at the end: true.  Else false. */
static bool
eat_newline(struct toml *t)
{
  if (starts(t, "\r\n")) {
    t->p += 2;
    t->line++;
    return true;
  }
  if (!at_end(t) && *t->p == '\n') {
    t->p++;
    t->line++;
    return true;
  }
  return at_end(t);
}

/* Whitespace, comments and newlines (inside arrays). */
static int
skip_blank(struct toml *t)
{
  for (;;) {
    skip_ws(t);
    if (skip_comment(t) < 0)
      return -1;
    if (at_end(t) || !(*t->p == '\n' || starts(t, "\r\n")))
      return 0;
    eat_newline(t);
  }
}

/* The rest of a line after a value or header: blanks, a comment, a newline. */
static int
end_of_line(struct toml *t)
{
  skip_ws(t);
  if (skip_comment(t) < 0)
    return -1;
  if (!eat_newline(t))
    return fail(t, "unexpected '%c' after the value; put one key = value or [table] per line",
                *t->p);
  return 0;
}

/* A growing string buffer. */
struct buf {
  char *s;
  size_t n, cap;
};

static int
buf_add(struct toml *t, struct buf *b, const char *s, size_t n)
{
  if (b->n + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->n + n + 1)
      cap *= 2;
    char *v = realloc(b->s, cap);
    if (v == NULL)
      return cab_error_set(t->err, ENOMEM, "%s: out of memory", t->origin);
    b->s = v;
    b->cap = cap;
  }
  memcpy(b->s + b->n, s, n);
  b->n += n;
  b->s[b->n] = '\0';
  return 0;
}

static int
add_codepoint(struct toml *t, struct buf *b, uint32_t cp)
{
  if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
    return fail(t, "\\u escape U+%X is not a Unicode scalar value", cp);
  char o[4];
  size_t n;
  if (cp < 0x80) {
    o[0] = (char)cp;
    n = 1;
  } else if (cp < 0x800) {
    o[0] = (char)(0xc0 | (cp >> 6));
    o[1] = (char)(0x80 | (cp & 0x3f));
    n = 2;
  } else if (cp < 0x10000) {
    o[0] = (char)(0xe0 | (cp >> 12));
    o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[2] = (char)(0x80 | (cp & 0x3f));
    n = 3;
  } else {
    o[0] = (char)(0xf0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    n = 4;
  }
  return buf_add(t, b, o, n);
}

static int
escape(struct toml *t, struct buf *b)
{
  char c = peek(t, 1);
  const char *simple = NULL;
  switch (c) {
  case 'b': simple = "\b"; break;
  case 't': simple = "\t"; break;
  case 'n': simple = "\n"; break;
  case 'f': simple = "\f"; break;
  case 'r': simple = "\r"; break;
  case '"': simple = "\""; break;
  case '\\': simple = "\\"; break;
  default: break;
  }
  if (simple) {
    t->p += 2;
    return buf_add(t, b, simple, 1);
  }
  if (c == 'u' || c == 'U') {
    int digits = c == 'u' ? 4 : 8;
    uint32_t cp = 0;
    for (int i = 0; i < digits; i++) {
      char h = peek(t, 2 + (size_t)i);
      if (!isxdigit((unsigned char)h))
        return fail(t, "\\%c needs %d hex digits", c, digits);
      cp = cp * 16 + (uint32_t)(isdigit((unsigned char)h) ? h - '0' : (tolower(h) - 'a' + 10));
    }
    t->p += 2 + digits;
    return add_codepoint(t, b, cp);
  }
  return fail(t, "unknown escape \\%c in a string; write \\\\ for a backslash, or use a "
              "'literal string'", c ? c : ' ');
}

/* A string of any of the four kinds, at its opening quote. */
static int
parse_string(struct toml *t, char **out)
{
  bool literal = *t->p == '\'';
  const char *q = literal ? "'''" : "\"\"\"";
  bool multi = starts(t, q);
  struct buf b = {0};
  t->p += multi ? 3 : 1;
  if (multi && starts(t, "\r\n")) /* a newline right after the opening quotes is trimmed */
    eat_newline(t);
  else if (multi && !at_end(t) && *t->p == '\n')
    eat_newline(t);
  int start_line = t->line;
  for (;;) {
    if (at_end(t)) {
      free(b.s);
      t->line = start_line;
      return fail(t, "unterminated string; close it with %s", multi ? q : (literal ? "'" : "\""));
    }
    char c = *t->p;
    if (multi && starts(t, q)) {
      /* Up to two quotes may end the content ("""a"""" is a" + "). */
      size_t run = 3;
      while (run < 5 && peek(t, run) == q[0])
        run++;
      if (buf_add(t, &b, t->p, run - 3) < 0)
        break;
      t->p += run;
      *out = b.s ? b.s : strdup("");
      return *out ? 0 : cab_error_set(t->err, ENOMEM, "%s: out of memory", t->origin);
    }
    if (!multi && c == q[0]) {
      t->p++;
      *out = b.s ? b.s : strdup("");
      return *out ? 0 : cab_error_set(t->err, ENOMEM, "%s: out of memory", t->origin);
    }
    if (c == '\n' || starts(t, "\r\n")) {
      if (!multi) {
        free(b.s);
        return fail(t, "newline in a one-line string; close it on its line, or use %s", q);
      }
      if (buf_add(t, &b, "\n", 1) < 0)
        break;
      eat_newline(t);
      continue;
    }
    if (!literal && c == '\\') {
      if (multi) {
        /* A line-ending backslash trims the newline and the blanks after it. */
        const char *s = t->p + 1;
        while (s < t->end && (*s == ' ' || *s == '\t'))
          s++;
        if (s < t->end && (*s == '\n' || (*s == '\r' && s + 1 < t->end && s[1] == '\n'))) {
          t->p = s;
          while (!at_end(t) && (*t->p == ' ' || *t->p == '\t' || *t->p == '\n' ||
                                starts(t, "\r\n"))) {
            if (!eat_newline(t) || at_end(t))
              t->p++;
          }
          continue;
        }
      }
      if (escape(t, &b) < 0)
        break;
      continue;
    }
    unsigned char u = (unsigned char)c;
    if ((u < 0x20 && u != '\t') || u == 0x7f) {
      free(b.s);
      return fail(t, "control character 0x%02x in a string; escape it (\\u%04x)", u, u);
    }
    if (buf_add(t, &b, t->p, 1) < 0)
      break;
    t->p++;
  }
  free(b.s);
  return -1;
}

static bool
bare_key_char(char c)
{
  return isalnum((unsigned char)c) || c == '_' || c == '-';
}

/* A key: bare or quoted parts joined by dots.  Fills PARTS (up to MAX). */
static int
parse_key(struct toml *t, char **parts, size_t max, size_t *n)
{
  *n = 0;
  for (;;) {
    skip_ws(t);
    if (*n == max)
      return fail(t, "a key of more than %zu dotted parts; shorten it", max);
    if (!at_end(t) && (*t->p == '"' || *t->p == '\'')) {
      if (starts(t, "\"\"\"") || starts(t, "'''"))
        return fail(t, "a multi-line string cannot be a key; use \"key\"");
      if (parse_string(t, &parts[*n]) < 0)
        return -1;
    } else {
      const char *s = t->p;
      while (!at_end(t) && bare_key_char(*t->p))
        t->p++;
      if (t->p == s)
        return fail(t, "expected a key (letters, digits, _ or -, or a quoted key)");
      parts[*n] = strndup(s, (size_t)(t->p - s));
      if (parts[*n] == NULL)
        return cab_error_set(t->err, ENOMEM, "%s: out of memory", t->origin);
    }
    (*n)++;
    skip_ws(t);
    if (at_end(t) || *t->p != '.')
      return 0;
    t->p++;
  }
}

static void
free_parts(char **parts, size_t n)
{
  for (size_t i = 0; i < n; i++)
    free(parts[i]);
}

static int parse_value(struct toml *t, cJSON **out);

/* Digits with single underscores between them; BASE 10, 16, 8 or 2. */
static int
digits(struct toml *t, const char *s, size_t n, int base, struct buf *clean)
{
  bool prev_digit = false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    bool ok = base == 16 ? isxdigit((unsigned char)c)
              : base == 8 ? (c >= '0' && c <= '7')
              : base == 2 ? (c == '0' || c == '1')
                          : isdigit((unsigned char)c);
    if (c == '_' && prev_digit && i + 1 < n) {
      prev_digit = false;
      continue;
    }
    if (!ok)
      return fail(t, "'%.*s' is not a number; quote it if it is text", (int)n, s);
    prev_digit = true;
    if (buf_add(t, clean, &c, 1) < 0)
      return -1;
  }
  if (!prev_digit)
    return fail(t, "'%.*s' is not a number; quote it if it is text", (int)n, s);
  return 0;
}

/* Integers and floats (the token is the run of [0-9A-Za-z_+.:-]); CLEAN
 * gets the token without underscores. */
static int
number_text(struct toml *t, const char *s, size_t n, struct buf *clean, int *base, bool *is_float)
{
  const char *d = s;
  if (*d == '+' || *d == '-') {
    if (*d == '-' && buf_add(t, clean, "-", 1) < 0)
      return -1;
    d++;
  }
  size_t dn = (size_t)(s + n - d);
  if (dn == 3 && (memcmp(d, "inf", 3) == 0 || memcmp(d, "nan", 3) == 0))
    return fail(t, "inf and nan are not supported (JSON has no such numbers)");
  if (dn > 2 && d[0] == '0' && (d[1] == 'x' || d[1] == 'o' || d[1] == 'b')) {
    if (d != s)
      return fail(t, "'%.*s': a sign is not allowed on a hex, octal or binary integer", (int)n,
                  s);
    *base = d[1] == 'x' ? 16 : d[1] == 'o' ? 8 : 2;
    return digits(t, d + 2, dn - 2, *base, clean);
  }
  const char *dot = memchr(d, '.', dn);
  const char *e = NULL;
  for (size_t i = 0; i < dn && e == NULL; i++)
    if (d[i] == 'e' || d[i] == 'E')
      e = d + i;
  if (dot && e && e < dot)
    return fail(t, "'%.*s' is not a number; quote it if it is text", (int)n, s);
  const char *int_end = dot ? dot : e ? e : d + dn;
  if (int_end - d > 1 && d[0] == '0')
    return fail(t, "'%.*s': leading zeros are not allowed", (int)n, s);
  if (digits(t, d, (size_t)(int_end - d), 10, clean) < 0)
    return -1;
  if (dot) {
    const char *frac_end = e ? e : d + dn;
    if (buf_add(t, clean, ".", 1) < 0 ||
        digits(t, dot + 1, (size_t)(frac_end - dot - 1), 10, clean) < 0)
      return -1;
  }
  if (e) {
    const char *x = e + 1;
    if (buf_add(t, clean, "e", 1) < 0)
      return -1;
    if (x < d + dn && (*x == '+' || *x == '-')) {
      if (buf_add(t, clean, x, 1) < 0)
        return -1;
      x++;
    }
    if (digits(t, x, (size_t)(d + dn - x), 10, clean) < 0)
      return -1;
  }
  *is_float = dot || e;
  return 0;
}

static int
parse_number(struct toml *t, cJSON **out)
{
  const char *s = t->p;
  while (!at_end(t) && (isalnum((unsigned char)*t->p) || strchr("_+-.:", *t->p)))
    t->p++;
  size_t n = (size_t)(t->p - s);
  /* A date or time: 1979-05-27, 07:32:00, 1979-05-27T07:32:00Z. */
  if (memchr(s, ':', n) || (n >= 5 && isdigit((unsigned char)s[0]) &&
                            isdigit((unsigned char)s[1]) && isdigit((unsigned char)s[2]) &&
                            isdigit((unsigned char)s[3]) && s[4] == '-'))
    return fail(t, "dates and times are not supported; quote '%.*s' as a string", (int)n, s);
  struct buf clean = {0};
  int base = 10;
  bool is_float = false;
  int rc = number_text(t, s, n, &clean, &base, &is_float);
  if (rc == 0) {
    errno = 0;
    char *endp;
    if (is_float) {
      double v = strtod(clean.s, &endp);
      if (errno == ERANGE || !isfinite(v) || *endp != '\0')
        rc = fail(t, "'%.*s' is out of range", (int)n, s);
      else
        *out = cJSON_CreateNumber(v);
    } else {
      long long v = strtoll(clean.s, &endp, base);
      const long long exact = 1LL << 53; /* cJSON keeps numbers as doubles */
      if (errno == ERANGE || *endp != '\0' || v > exact || v < -exact)
        rc = fail(t, "integer '%.*s' is beyond +-2^53, which cab cannot hold exactly; quote it",
                  (int)n, s);
      else
        *out = cJSON_CreateNumber((double)v);
    }
    if (rc == 0 && *out == NULL)
      rc = cab_error_set(t->err, ENOMEM, "%s: out of memory", t->origin);
  }
  free(clean.s);
  return rc;
}

static int
parse_array(struct toml *t, cJSON **out)
{
  t->p++; /* [ */
  cJSON *a = cJSON_CreateArray();
  if (a == NULL || mark(t, a, MARK_SEALED) < 0) {
    cJSON_Delete(a);
    return cab_error_set(t->err, ENOMEM, "%s: out of memory", t->origin);
  }
  for (;;) {
    if (skip_blank(t) < 0)
      goto fail;
    if (at_end(t)) {
      fail(t, "unterminated array; close it with ]");
      goto fail;
    }
    if (*t->p == ']') {
      t->p++;
      *out = a;
      return 0;
    }
    cJSON *v = NULL;
    if (parse_value(t, &v) < 0)
      goto fail;
    cJSON_AddItemToArray(a, v);
    if (skip_blank(t) < 0)
      goto fail;
    if (!at_end(t) && *t->p == ',') {
      t->p++;
      continue;
    }
    if (!at_end(t) && *t->p == ']')
      continue;
    if (at_end(t))
      fail(t, "unterminated array; close it with ]");
    else
      fail(t, "expected , or ] in an array");
    goto fail;
  }
fail:
  cJSON_Delete(a);
  return -1;
}

/* Walk or create the tables of PARTS[0..N-1] under FROM for a dotted key;
 * returns the last table, or NULL with the error set. */
static cJSON *
dotted_tables(struct toml *t, cJSON *from, char **parts, size_t n)
{
  cJSON *cur = from;
  for (size_t i = 0; i < n; i++) {
    cJSON *next = cJSON_GetObjectItemCaseSensitive(cur, parts[i]);
    if (next == NULL) {
      next = cJSON_CreateObject();
      if (next == NULL || !cJSON_AddItemToObject(cur, parts[i], next)) {
        cJSON_Delete(next);
        cab_error_set(t->err, ENOMEM, "%s: out of memory", t->origin);
        return NULL;
      }
      if (mark(t, next, MARK_DEFINED) < 0)
        return NULL;
    } else if (!cJSON_IsObject(next) || marked(t, next, MARK_SEALED)) {
      fail(t, "key '%s' is already a value; a key is defined once", parts[i]);
      return NULL;
    }
    cur = next;
  }
  return cur;
}

/* key = value into TABLE. */
static int
parse_keyval(struct toml *t, cJSON *table)
{
  char *parts[CAB_TOML_MAX_DEPTH];
  size_t n = 0;
  int rc = -1;
  if (parse_key(t, parts, CAB_TOML_MAX_DEPTH, &n) < 0)
    goto out;
  skip_ws(t);
  if (at_end(t) || *t->p != '=') {
    fail(t, "expected = after key '%s'", parts[n - 1]);
    goto out;
  }
  t->p++;
  skip_ws(t);
  cJSON *dst = dotted_tables(t, table, parts, n - 1);
  if (dst == NULL)
    goto out;
  if (cJSON_GetObjectItemCaseSensitive(dst, parts[n - 1])) {
    fail(t, "key '%s' is defined twice; keep one", parts[n - 1]);
    goto out;
  }
  cJSON *v = NULL;
  if (parse_value(t, &v) < 0)
    goto out;
  cJSON_AddItemToObject(dst, parts[n - 1], v);
  rc = 0;
out:
  free_parts(parts, n);
  return rc;
}

static int
parse_inline_table(struct toml *t, cJSON **out)
{
  t->p++; /* { */
  cJSON *o = cJSON_CreateObject();
  if (o == NULL)
    return cab_error_set(t->err, ENOMEM, "%s: out of memory", t->origin);
  skip_ws(t);
  if (!at_end(t) && *t->p == '}') {
    t->p++;
    goto done;
  }
  for (;;) {
    if (parse_keyval(t, o) < 0)
      goto fail;
    skip_ws(t);
    if (!at_end(t) && *t->p == ',') {
      t->p++;
      continue;
    }
    if (!at_end(t) && *t->p == '}') {
      t->p++;
      break;
    }
    fail(t, "expected , or } in an inline table (it must fit on one line)");
    goto fail;
  }
done:
  if (mark(t, o, MARK_SEALED) < 0)
    goto fail;
  *out = o;
  return 0;
fail:
  cJSON_Delete(o);
  return -1;
}

static int
parse_value(struct toml *t, cJSON **out)
{
  if (++t->depth > CAB_TOML_MAX_DEPTH) {
    t->depth--;
    return fail(t, "values nested deeper than %d; flatten them", CAB_TOML_MAX_DEPTH);
  }
  int rc;
  char c = at_end(t) ? '\0' : *t->p;
  if (c == '"' || c == '\'') {
    char *s = NULL;
    rc = parse_string(t, &s);
    if (rc == 0) {
      *out = cJSON_CreateString(s);
      free(s);
      if (*out == NULL)
        rc = cab_error_set(t->err, ENOMEM, "%s: out of memory", t->origin);
    }
  } else if (c == '[') {
    rc = parse_array(t, out);
  } else if (c == '{') {
    rc = parse_inline_table(t, out);
  } else if (starts(t, "true") && !bare_key_char(peek(t, 4))) {
    t->p += 4;
    *out = cJSON_CreateTrue();
    rc = 0;
  } else if (starts(t, "false") && !bare_key_char(peek(t, 5))) {
    t->p += 5;
    *out = cJSON_CreateFalse();
    rc = 0;
  } else if (isdigit((unsigned char)c) || c == '+' || c == '-' || starts(t, "inf") ||
             starts(t, "nan")) {
    rc = parse_number(t, out);
  } else if (c == '\0' || c == '\n' || c == '\r' || c == '#') {
    rc = fail(t, "a key needs a value after =");
  } else {
    rc = fail(t, "unexpected '%c': a value is a \"string\", number, true/false, [array] or "
              "{ inline table }", c);
  }
  t->depth--;
  return rc;
}

/* [a.b] or [[a.b]]: make T->cur the table it names. */
static int
parse_header(struct toml *t)
{
  bool aot = starts(t, "[[");
  t->p += aot ? 2 : 1;
  char *parts[CAB_TOML_MAX_DEPTH];
  size_t n = 0;
  int rc = -1;
  if (parse_key(t, parts, CAB_TOML_MAX_DEPTH, &n) < 0)
    goto out;
  if (!starts(t, aot ? "]]" : "]")) {
    fail(t, "expected %s to close the table header", aot ? "]]" : "]");
    goto out;
  }
  t->p += aot ? 2 : 1;
  cJSON *cur = t->root;
  for (size_t i = 0; i + 1 < n; i++) {
    cJSON *next = cJSON_GetObjectItemCaseSensitive(cur, parts[i]);
    if (next == NULL) {
      next = cJSON_CreateObject();
      if (next == NULL || !cJSON_AddItemToObject(cur, parts[i], next)) {
        cJSON_Delete(next);
        cab_error_set(t->err, ENOMEM, "%s: out of memory", t->origin);
        goto out;
      }
    } else if (cJSON_IsArray(next) && marked(t, next, MARK_AOT)) {
      next = cJSON_GetArrayItem(next, cJSON_GetArraySize(next) - 1);
    } else if (!cJSON_IsObject(next) || marked(t, next, MARK_SEALED)) {
      fail(t, "'%s' is already a value, not a table", parts[i]);
      goto out;
    }
    cur = next;
  }
  const char *leaf = parts[n - 1];
  cJSON *have = cJSON_GetObjectItemCaseSensitive(cur, leaf);
  cJSON *table = cJSON_CreateObject();
  if (table == NULL) {
    cab_error_set(t->err, ENOMEM, "%s: out of memory", t->origin);
    goto out;
  }
  if (aot) {
    if (have == NULL) {
      have = cJSON_CreateArray();
      if (have == NULL || !cJSON_AddItemToObject(cur, leaf, have) || mark(t, have, MARK_AOT) < 0) {
        cJSON_Delete(table);
        goto out;
      }
    } else if (!cJSON_IsArray(have) || !marked(t, have, MARK_AOT)) {
      cJSON_Delete(table);
      fail(t, "[[%s]] names a key that is not an array of tables", leaf);
      goto out;
    }
    cJSON_AddItemToArray(have, table);
  } else {
    cJSON_Delete(table);
    if (have == NULL) {
      table = cJSON_CreateObject();
      if (table == NULL || !cJSON_AddItemToObject(cur, leaf, table)) {
        cJSON_Delete(table);
        cab_error_set(t->err, ENOMEM, "%s: out of memory", t->origin);
        goto out;
      }
    } else if (cJSON_IsObject(have) && !marked(t, have, MARK_DEFINED) &&
               !marked(t, have, MARK_SEALED)) {
      table = have; /* made implicitly by an earlier [x.y] */
    } else {
      fail(t, "table [%s] is defined twice; merge the two", leaf);
      goto out;
    }
  }
  if (mark(t, table, MARK_DEFINED) < 0)
    goto out;
  t->cur = table;
  rc = end_of_line(t);
out:
  free_parts(parts, n);
  return rc;
}

static int
check_text(struct toml *t)
{
  const unsigned char *s = (const unsigned char *)t->p;
  size_t len = (size_t)(t->end - t->p);
  int line = 1;
  for (size_t i = 0; i < len;) {
    if (s[i] == '\0') {
      t->line = line;
      return fail(t, "a NUL byte; TOML is text");
    }
    if (s[i] == '\n')
      line++;
    if (s[i] < 0x80) {
      i++;
      continue;
    }
    size_t used = 0;
    bool valid = true;
    cab_utf8_next(s + i, len - i, &used, &valid);
    if (!valid) {
      t->line = line;
      return fail(t, "invalid UTF-8; TOML is UTF-8 text");
    }
    i += used ? used : 1;
  }
  return 0;
}

int
cab_toml_parse(const char *text, size_t len, const char *origin, cJSON **out, cab_error *err)
{
  struct toml t = {.p = text, .end = text + len, .line = 1, .origin = origin, .err = err};
  *out = NULL;
  if (len > CAB_TOML_MAX)
    return cab_error_set(err, EFBIG, "%s: larger than %d bytes", origin, CAB_TOML_MAX);
  if (check_text(&t) < 0)
    return -1;
  if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
    t.p += 3; /* a byte-order mark */
  t.root = t.cur = cJSON_CreateObject();
  if (t.root == NULL)
    return cab_error_set(err, ENOMEM, "%s: out of memory", origin);
  int rc = 0;
  while (rc == 0) {
    skip_ws(&t);
    if (skip_comment(&t) < 0) {
      rc = -1;
      break;
    }
    if (at_end(&t))
      break;
    if (eat_newline(&t))
      continue;
    if (*t.p == '[')
      rc = parse_header(&t);
    else if ((rc = parse_keyval(&t, t.cur)) == 0)
      rc = end_of_line(&t);
  }
  free(t.marks);
  if (rc < 0) {
    cJSON_Delete(t.root);
    return -1;
  }
  *out = t.root;
  return 0;
}
