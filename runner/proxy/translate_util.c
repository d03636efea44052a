/* Small helpers of the translation files: a growing string, printing,
 * copying typed parameters. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runner/proxy/translate_internal.h"

void
tr_buf_add(struct tr_buf *b, const char *s, size_t n)
{
  if (b->oom)
    return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1)
      cap *= 2;
    char *p = realloc(b->s, cap);
    if (p == NULL) {
      b->oom = true;
      return;
    }
    b->s = p;
    b->cap = cap;
  }
  if (n)
    memcpy(b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = '\0';
}

void
tr_buf_adds(struct tr_buf *b, const char *s)
{
  tr_buf_add(b, s, strlen(s));
}

void
tr_buf_free(struct tr_buf *b)
{
  free(b->s);
  memset(b, 0, sizeof *b);
}

int
tr_print(cJSON *root, char **out, size_t *out_len, cab_error *err)
{
  char *text = root ? cJSON_PrintUnformatted(root) : NULL;
  cJSON_Delete(root);
  if (text == NULL)
    return cab_error_set(err, ENOMEM, "building the translated JSON");
  *out = text;
  *out_len = strlen(text);
  return 0;
}

int
tr_copy(cJSON *dst, const char *dkey, const cJSON *src, const char *skey, int type,
        const char *what, cab_error *err)
{
  const cJSON *v = tr_get(src, skey);
  if (v == NULL || cJSON_IsNull(v))
    return 0;
  if (type && (v->type & type) == 0)
    return cab_error_set(err, 0, "\"%s\": expected %s", skey, what);
  cJSON *dup = cJSON_Duplicate(v, true);
  if (dup == NULL || !cJSON_AddItemToObject(dst, dkey, dup)) {
    cJSON_Delete(dup);
    return cab_error_set(err, ENOMEM, "copying \"%s\"", skey);
  }
  return 0;
}
