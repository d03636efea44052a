/* Small helpers of the translation files: a growing string, printing,
 * reading and copying typed parameters, the chat request's tools. */
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

void
tr_buf_join(struct tr_buf *b, const char *sep, const char *piece)
{
  if (piece == NULL || piece[0] == '\0')
    return;
  if (b->len)
    tr_buf_adds(b, sep);
  tr_buf_adds(b, piece);
}

int
tr_opt(const cJSON *in, const char *key, int type, const char *what, const cJSON **out,
       cab_error *err)
{
  const cJSON *v = tr_get(in, key);
  *out = NULL;
  if (v == NULL || cJSON_IsNull(v))
    return 0;
  if (type && (v->type & type) == 0)
    return cab_error_set(err, 0, "\"%s\": expected %s", key, what);
  *out = v;
  return 1;
}

int
tr_copy(cJSON *dst, const char *dkey, const cJSON *src, const char *skey, int type,
        const char *what, cab_error *err)
{
  const cJSON *v;
  int r = tr_opt(src, skey, type, what, &v, err);
  if (r <= 0)
    return r;
  cJSON *dup = cJSON_Duplicate(v, true);
  if (dup == NULL || !cJSON_AddItemToObject(dst, dkey, dup)) {
    cJSON_Delete(dup);
    return cab_error_set(err, ENOMEM, "copying \"%s\"", skey);
  }
  return 0;
}

int
tr_tools(const cJSON *in, cJSON *root, tr_tool_fn *add, tr_tool_choice_fn *choice,
         struct cab_translate_ctx *ctx, cab_error *err)
{
  const cJSON *list;
  int r = tr_opt(in, "tools", cJSON_Array, "an array", &list, err);
  if (r <= 0)
    return r;
  cJSON *out = cJSON_AddArrayToObject(root, "tools");
  const cJSON *t;
  int i = 0;
  cJSON_ArrayForEach(t, list)
  {
    if (add(t, i++, out, ctx, err) < 0)
      return -1;
  }
  if (cJSON_GetArraySize(out) > 0)
    return choice(in, root, err);
  cJSON_DeleteItemFromObjectCaseSensitive(root, "tools");
  return 0;
}

int
tr_tools_add(cJSON *out, cJSON *tool, int i, cab_error *err)
{
  if (tool == NULL || !cJSON_AddItemToArray(out, tool)) {
    cJSON_Delete(tool);
    return cab_error_set(err, ENOMEM, "tools[%d]", i);
  }
  return 0;
}

void
tr_tool_choice_function(cJSON *root, const char *name)
{
  cJSON *c = cJSON_AddObjectToObject(root, "tool_choice");
  cJSON_AddStringToObject(c, "type", "function");
  cJSON_AddStringToObject(cJSON_AddObjectToObject(c, "function"), "name", name);
}
