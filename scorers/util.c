/* Private helpers for the scorers: string lists, Python-compatible fnmatch,
 * UTF-8 cleaning, small JSON getters. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scorers/util.h"

void *
cab_xmalloc(size_t n)
{
  void *p = malloc(n ? n : 1);
  if (p == NULL)
    abort();
  return p;
}

void *
cab_xrealloc(void *p, size_t n)
{
  void *q = realloc(p, n ? n : 1);
  if (q == NULL)
    abort();
  return q;
}

char *
cab_xstrndup(const char *s, size_t n)
{
  char *p = cab_xmalloc(n + 1);
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

char *
cab_xstrdup(const char *s)
{
  return cab_xstrndup(s, strlen(s));
}

/* ---- string lists -------------------------------------------------------- */

void
cab_strlist_push_n(struct cab_strlist *l, const char *s, size_t n)
{
  if (l->n == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 8;
    l->v = cab_xrealloc(l->v, l->cap * sizeof *l->v);
  }
  l->v[l->n++] = cab_xstrndup(s, n);
}

void
cab_strlist_push(struct cab_strlist *l, const char *s)
{
  cab_strlist_push_n(l, s, strlen(s));
}

bool
cab_strlist_contains(const struct cab_strlist *l, const char *s)
{
  for (size_t i = 0; i < l->n; i++)
    if (strcmp(l->v[i], s) == 0)
      return true;
  return false;
}

static int
cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

void
cab_strlist_sort(struct cab_strlist *l)
{
  if (l->n > 1)
    qsort(l->v, l->n, sizeof *l->v, cmp_str);
}

void
cab_strlist_clear(struct cab_strlist *l)
{
  for (size_t i = 0; i < l->n; i++)
    free(l->v[i]);
  free(l->v);
  l->v = NULL;
  l->n = l->cap = 0;
}

cJSON *
cab_strlist_json(const struct cab_strlist *l)
{
  cJSON *a = cJSON_CreateArray();
  for (size_t i = 0; i < l->n; i++)
    cJSON_AddItemToArray(a, cab_json_string_bytes(l->v[i], strlen(l->v[i])));
  return a;
}

char *
cab_strlist_pyrepr(const struct cab_strlist *l)
{
  size_t cap = 3;
  for (size_t i = 0; i < l->n; i++)
    cap += 4 * strlen(l->v[i]) + 4;
  char *out = cab_xmalloc(cap), *p = out;
  *p++ = '[';
  for (size_t i = 0; i < l->n; i++) {
    if (i)
      p += sprintf(p, ", ");
    /* Python picks "..." when the string holds ' and no ". */
    char q = strchr(l->v[i], '\'') && !strchr(l->v[i], '"') ? '"' : '\'';
    *p++ = q;
    for (const char *s = l->v[i]; *s; s++) {
      unsigned char c = (unsigned char)*s;
      if (c == '\\' || c == (unsigned char)q) {
        *p++ = '\\';
        *p++ = (char)c;
      } else if (c == '\n') {
        p += sprintf(p, "\\n");
      } else if (c == '\t') {
        p += sprintf(p, "\\t");
      } else if (c == '\r') {
        p += sprintf(p, "\\r");
      } else if (c < 0x20 || c == 0x7f) {
        p += sprintf(p, "\\x%02x", c);
      } else {
        *p++ = (char)c;
      }
    }
    *p++ = q;
  }
  *p++ = ']';
  *p = '\0';
  return out;
}

/* ---- UTF-8 ------------------------------------------------------------------ */

/* Decode one code point at S (LEN > 0 bytes left).  Invalid bytes decode as
 * 0xDC00 + byte (Python's surrogateescape) and consume one byte. */
static uint32_t
utf8_next(const unsigned char *s, size_t len, size_t *used, bool *valid)
{
  unsigned char c = s[0];
  *valid = true;
  *used = 1;
  if (c < 0x80)
    return c;
  size_t n;
  uint32_t cp, min;
  if ((c & 0xe0) == 0xc0) {
    n = 2, cp = c & 0x1f, min = 0x80;
  } else if ((c & 0xf0) == 0xe0) {
    n = 3, cp = c & 0x0f, min = 0x800;
  } else if ((c & 0xf8) == 0xf0) {
    n = 4, cp = c & 0x07, min = 0x10000;
  } else {
    *valid = false;
    return 0xdc00 + c;
  }
  if (len < n) {
    *valid = false;
    return 0xdc00 + c;
  }
  for (size_t i = 1; i < n; i++) {
    if ((s[i] & 0xc0) != 0x80) {
      *valid = false;
      return 0xdc00 + c;
    }
    cp = (cp << 6) | (s[i] & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
    *valid = false;
    return 0xdc00 + c;
  }
  *used = n;
  return cp;
}

char *
cab_utf8_clean(const char *s, size_t len)
{
  char *out = cab_xmalloc(3 * len + 1), *p = out;
  const unsigned char *u = (const unsigned char *)s;
  size_t i = 0;
  while (i < len) {
    size_t used;
    bool valid;
    utf8_next(u + i, len - i, &used, &valid);
    if (!valid || u[i] == 0) {
      memcpy(p, "\xef\xbf\xbd", 3);
      p += 3;
    } else {
      memcpy(p, u + i, used);
      p += used;
    }
    i += used;
  }
  *p = '\0';
  return out;
}

char *
cab_utf8_tail(const char *s, size_t len, size_t max)
{
  if (s == NULL)
    return cab_xstrdup("");
  size_t start = len > max ? len - max : 0;
  /* Do not start inside a character: skip up to 3 continuation bytes. */
  for (int k = 0; k < 3 && start > 0 && start < len && ((unsigned char)s[start] & 0xc0) == 0x80;
       k++)
    start++;
  return cab_utf8_clean(s + start, len - start);
}

cJSON *
cab_json_string_bytes(const char *s, size_t len)
{
  char *clean = cab_utf8_clean(s ? s : "", s ? len : 0);
  cJSON *j = cJSON_CreateString(clean);
  free(clean);
  return j;
}

/* ---- fnmatch ---------------------------------------------------------------- */

/* Pattern tokens, compiled from the pattern's code points. */
enum tok_kind { TOK_LIT, TOK_ANY, TOK_STAR, TOK_SET };

struct tok {
  enum tok_kind kind;
  uint32_t cp;                 /* TOK_LIT */
  bool negate;                 /* TOK_SET */
  uint32_t (*ranges)[2];       /* TOK_SET: inclusive ranges */
  size_t n_ranges;
};

static size_t
decode_all(const char *s, uint32_t **out)
{
  size_t len = strlen(s), n = 0;
  uint32_t *v = cab_xmalloc((len + 1) * sizeof *v);
  const unsigned char *u = (const unsigned char *)s;
  for (size_t i = 0; i < len;) {
    size_t used;
    bool valid;
    v[n++] = utf8_next(u + i, len - i, &used, &valid);
    i += used;
  }
  *out = v;
  return n;
}

static bool
set_match(const struct tok *t, uint32_t c)
{
  bool in = false;
  for (size_t i = 0; i < t->n_ranges && !in; i++)
    in = c >= t->ranges[i][0] && c <= t->ranges[i][1];
  return in != t->negate;
}

static bool
tok_match(const struct tok *t, uint32_t c)
{
  switch (t->kind) {
  case TOK_LIT:
    return t->cp == c;
  case TOK_ANY:
    return true;
  case TOK_SET:
    return set_match(t, c);
  default:
    return false;
  }
}

static size_t
compile(const uint32_t *p, size_t n, struct tok *toks)
{
  size_t nt = 0;
  for (size_t i = 0; i < n;) {
    uint32_t c = p[i++];
    if (c == '*') {
      if (nt == 0 || toks[nt - 1].kind != TOK_STAR)
        toks[nt++] = (struct tok){.kind = TOK_STAR};
    } else if (c == '?') {
      toks[nt++] = (struct tok){.kind = TOK_ANY};
    } else if (c == '[') {
      /* As Python's fnmatch.translate: j skips a leading '!' and a ']'
       * right after it, then looks for the closing ']'. */
      size_t j = i;
      if (j < n && p[j] == '!')
        j++;
      if (j < n && p[j] == ']')
        j++;
      while (j < n && p[j] != ']')
        j++;
      if (j >= n) {
        toks[nt++] = (struct tok){.kind = TOK_LIT, .cp = '['};
        continue;
      }
      struct tok t = {.kind = TOK_SET};
      size_t k = i;
      if (p[k] == '!') {
        t.negate = true;
        k++;
      }
      t.ranges = cab_xmalloc((j - k + 1) * sizeof *t.ranges);
      while (k < j) {
        uint32_t lo = p[k], hi = lo;
        if (k + 2 < j && p[k + 1] == '-') {
          hi = p[k + 2];
          k += 3;
        } else {
          k++;
        }
        if (lo <= hi) {
          t.ranges[t.n_ranges][0] = lo;
          t.ranges[t.n_ranges][1] = hi;
          t.n_ranges++;
        }
      }
      toks[nt++] = t;
      i = j + 1;
    } else {
      toks[nt++] = (struct tok){.kind = TOK_LIT, .cp = c};
    }
  }
  return nt;
}

bool
cab_fnmatch_py(const char *pattern, const char *name)
{
  uint32_t *p, *s;
  size_t np = decode_all(pattern, &p), ns = decode_all(name, &s);
  struct tok *t = cab_xmalloc((np + 1) * sizeof *t);
  size_t nt = compile(p, np, t);

  /* Greedy match with backtracking to the last star. */
  size_t ti = 0, si = 0, star_t = SIZE_MAX, star_s = 0;
  bool ok = true;
  while (si < ns) {
    if (ti < nt && t[ti].kind == TOK_STAR) {
      star_t = ti++;
      star_s = si;
    } else if (ti < nt && tok_match(&t[ti], s[si])) {
      ti++, si++;
    } else if (star_t != SIZE_MAX) {
      /* Let the last star eat one more character. */
      ti = star_t + 1;
      si = ++star_s;
    } else {
      ok = false;
      break;
    }
  }
  while (ok && ti < nt && t[ti].kind == TOK_STAR)
    ti++;
  ok = ok && ti == nt;
  for (size_t i = 0; i < nt; i++)
    if (t[i].kind == TOK_SET)
      free(t[i].ranges);
  free(t);
  free(p);
  free(s);
  return ok;
}

bool
cab_glob_any(const struct cab_strlist *l, const char *name)
{
  for (size_t i = 0; i < l->n; i++)
    if (cab_fnmatch_py(l->v[i], name))
      return true;
  return false;
}

/* ---- misc ------------------------------------------------------------------- */

const char *
cab_memcasemem(const char *hay, size_t len, const char *needle)
{
  size_t nl = strlen(needle);
  if (nl == 0)
    return hay;
  if (len < nl)
    return NULL;
  unsigned char first = (unsigned char)tolower((unsigned char)needle[0]);
  for (size_t i = 0; i + nl <= len; i++) {
    if ((unsigned char)tolower((unsigned char)hay[i]) != first)
      continue;
    if (strncasecmp(hay + i, needle, nl) == 0)
      return hay + i;
  }
  return NULL;
}

const char *
cab_path_base(const char *path)
{
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

void
cab_path_ext(const char *path, char *ext, size_t size)
{
  const char *base = cab_path_base(path);
  const char *dot = strrchr(base, '.');
  ext[0] = '\0';
  if (dot == NULL || dot == base)
    return;
  size_t i = 0;
  for (const char *c = dot + 1; *c && i + 1 < size; c++)
    ext[i++] = (char)tolower((unsigned char)*c);
  ext[i] = '\0';
}

double
cab_jget_num(const cJSON *obj, const char *key, double dflt)
{
  const cJSON *j = obj ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
  return cJSON_IsNumber(j) ? j->valuedouble : dflt;
}

bool
cab_jget_bool(const cJSON *obj, const char *key, bool dflt)
{
  const cJSON *j = obj ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
  return cJSON_IsBool(j) ? cJSON_IsTrue(j) : dflt;
}

const char *
cab_jget_str(const cJSON *obj, const char *key)
{
  const cJSON *j = obj ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
  return cJSON_IsString(j) ? j->valuestring : NULL;
}
