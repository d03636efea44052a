/* Private helpers for the scorers: string lists, Python-compatible fnmatch,
 * UTF-8 cleaning, small JSON getters. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/utf8.h"
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

cJSON *
cab_strv_json(const struct cab_strv *l)
{
  cJSON *a = cJSON_CreateArray();
  for (size_t i = 0; i < l->n; i++)
    cJSON_AddItemToArray(a, cab_json_string_bytes(l->v[i], strlen(l->v[i])));
  return a;
}

char *
cab_strv_pyrepr(const struct cab_strv *l)
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

char *
cab_utf8_clean(const char *s, size_t len)
{
  char *out = cab_xmalloc(3 * len + 1), *p = out;
  const unsigned char *u = (const unsigned char *)s;
  size_t i = 0;
  while (i < len) {
    size_t used;
    bool valid;
    cab_utf8_next(u + i, len - i, &used, &valid);
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
