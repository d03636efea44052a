#include "rootfs/manifest_json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int
check_dups(const cJSON *node, int depth, cab_error *err)
{
  if (depth > 64)
    return cab_error_set(err, 0, "nested too deeply");
  const cJSON *a;
  cJSON_ArrayForEach(a, node)
  {
    if (cJSON_IsObject(node)) {
      for (const cJSON *b = a->next; b; b = b->next)
        if (a->string && b->string && strcmp(a->string, b->string) == 0)
          return cab_error_set(err, 0, "duplicate key '%.80s'", a->string);
    }
    if ((cJSON_IsObject(a) || cJSON_IsArray(a)) && check_dups(a, depth + 1, err) < 0)
      return -1;
  }
  return 0;
}

cJSON *
cab_json_parse_strict(const char *data, size_t len, const char *what, cab_error *err)
{
  const char *end = NULL;
  cJSON *root = cJSON_ParseWithLengthOpts(data, len, &end, 0);
  if (root == NULL) {
    size_t off = end && end >= data ? (size_t)(end - data) : 0;
    cab_error_set(err, 0, "%s is not valid JSON (near byte %zu)", what, off);
    return NULL;
  }
  for (size_t off = (size_t)(end - data); off < len; off++) {
    char c = data[off];
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t' && c != '\0') {
      cJSON_Delete(root);
      cab_error_set(err, 0, "%s has trailing data after the JSON value", what);
      return NULL;
    }
  }
  if (!cJSON_IsObject(root)) {
    cJSON_Delete(root);
    cab_error_set(err, 0, "%s is not a JSON object", what);
    return NULL;
  }
  if (check_dups(root, 0, err) < 0) {
    cJSON_Delete(root);
    cab_error_prefix(err, "%s", what);
    return NULL;
  }
  return root;
}

const char *
cab_json_str(const cJSON *obj, const char *key)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

void
cab_argv_free(char **v)
{
  if (v == NULL)
    return;
  for (char **p = v; *p; p++)
    free(*p);
  free(v);
}

int
cab_json_strv(const cJSON *obj, const char *key, char ***out, cab_error *err)
{
  *out = NULL;
  const cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (arr == NULL || cJSON_IsNull(arr))
    return 0;
  if (!cJSON_IsArray(arr))
    return cab_error_set(err, 0, "'%s' is not an array of strings", key);
  int n = cJSON_GetArraySize(arr);
  char **v = calloc((size_t)n + 1, sizeof *v);
  if (v == NULL)
    return cab_error_sys(err, "allocate %s", key);
  int i = 0;
  const cJSON *item;
  cJSON_ArrayForEach(item, arr)
  {
    if (!cJSON_IsString(item) || (v[i] = strdup(item->valuestring)) == NULL) {
      cab_argv_free(v);
      return cab_error_set(err, 0, "'%s' is not an array of strings", key);
    }
    i++;
  }
  *out = v;
  return 0;
}

cJSON *
cab_json_from_descriptor(const cab_descriptor *d)
{
  cJSON *o = cJSON_CreateObject();
  if (o == NULL)
    return NULL;
  cJSON_AddStringToObject(o, "mediaType", d->media_type);
  cJSON_AddStringToObject(o, "digest", d->digest);
  cJSON_AddNumberToObject(o, "size", (double)d->size);
  if (d->has_platform) {
    cJSON *p = cJSON_AddObjectToObject(o, "platform");
    if (p) {
      cJSON_AddStringToObject(p, "architecture", d->platform.architecture);
      cJSON_AddStringToObject(p, "os", d->platform.os);
      if (d->platform.variant[0])
        cJSON_AddStringToObject(p, "variant", d->platform.variant);
    }
  }
  return o;
}

int
cab_digest_require(const char *text, const char *where, cab_error *err)
{
  if (cab_digest_check(text, where, err) == 0)
    return 0;
  if (err)
    err->errnum = 0;
  return -1;
}
