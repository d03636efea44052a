/* The workdir change list (runner/cell/snapshot produces it) and changes.json. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner/record/changes.h"
#include "scorers/scorers.h"
#include "scorers/util.h" /* the x-allocators and UTF-8-clean JSON strings */

const char *
cab_change_status_name(enum cab_change_status s)
{
  switch (s) {
  case CAB_CHANGE_ADDED:
    return "added";
  case CAB_CHANGE_REMOVED:
    return "removed";
  default:
    return "modified";
  }
}

void
cab_change_list_add(struct cab_change_list *l, const char *path, enum cab_change_status status,
                    unsigned kinds, uint32_t old_mode, uint32_t new_mode, bool binary)
{
  if (l->n == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 16;
    l->items = cab_xrealloc(l->items, l->cap * sizeof *l->items);
  }
  l->items[l->n++] = (struct cab_change){
      .path = cab_xstrdup(path),
      .status = status,
      .kinds = kinds,
      .old_mode = old_mode,
      .new_mode = new_mode,
      .binary = binary,
  };
}

void
cab_change_list_free(struct cab_change_list *l)
{
  for (size_t i = 0; i < l->n; i++)
    free(l->items[i].path);
  free(l->items);
  cab_strv_free(&l->git_dirs);
  memset(l, 0, sizeof *l);
}

static cJSON *
mode_json(uint32_t mode)
{
  if (mode == 0)
    return cJSON_CreateNull();
  char buf[16];
  snprintf(buf, sizeof buf, "%06o", (unsigned)mode);
  return cJSON_CreateString(buf);
}

cJSON *
cab_changes_to_json(const struct cab_change_list *l)
{
  cJSON *j = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "schema", "cab.changes/v1");
  cJSON_AddBoolToObject(j, "extra_git_dir", l->extra_git_dir);
  cJSON_AddItemToObject(j, "git_dirs", cab_strv_json(&l->git_dirs));
  cJSON *arr = cJSON_AddArrayToObject(j, "changes");
  for (size_t i = 0; i < l->n; i++) {
    const struct cab_change *c = &l->items[i];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "path", cab_json_string_bytes(c->path, strlen(c->path)));
    cJSON_AddStringToObject(o, "status", cab_change_status_name(c->status));
    cJSON *k = cJSON_AddArrayToObject(o, "kinds");
    if (c->kinds & CAB_KIND_CONTENT)
      cJSON_AddItemToArray(k, cJSON_CreateString("content"));
    if (c->kinds & CAB_KIND_MODE)
      cJSON_AddItemToArray(k, cJSON_CreateString("mode"));
    if (c->kinds & CAB_KIND_TYPE)
      cJSON_AddItemToArray(k, cJSON_CreateString("type"));
    cJSON_AddItemToObject(o, "old_mode", mode_json(c->old_mode));
    cJSON_AddItemToObject(o, "new_mode", mode_json(c->new_mode));
    cJSON_AddBoolToObject(o, "binary", c->binary);
    cJSON_AddItemToArray(arr, o);
  }
  return j;
}

static int
parse_mode(const cJSON *j, uint32_t *mode)
{
  if (j == NULL || cJSON_IsNull(j)) {
    *mode = 0;
    return 0;
  }
  if (cJSON_IsNumber(j)) {
    *mode = (uint32_t)j->valuedouble;
    return 0;
  }
  if (!cJSON_IsString(j))
    return -1;
  char *end;
  unsigned long v = strtoul(j->valuestring, &end, 8);
  if (*end != '\0')
    return -1;
  *mode = (uint32_t)v;
  return 0;
}

int
cab_changes_from_json(const cJSON *j, struct cab_change_list *out, cab_error *err)
{
  memset(out, 0, sizeof *out);
  if (!cJSON_IsObject(j))
    return cab_error_set(err, 0, "changes: not a JSON object");
  out->extra_git_dir = cab_jget_bool(j, "extra_git_dir", false);
  const cJSON *dirs = cJSON_GetObjectItemCaseSensitive(j, "git_dirs"), *d;
  cJSON_ArrayForEach(d, dirs)
    if (cJSON_IsString(d))
      cab_strv_xpush(&out->git_dirs, d->valuestring);
  const cJSON *arr = cJSON_GetObjectItemCaseSensitive(j, "changes"), *c;
  if (arr && !cJSON_IsArray(arr))
    return cab_error_set(err, 0, "changes: 'changes' is not an array");
  size_t idx = 0;
  cJSON_ArrayForEach(c, arr) {
    const char *path = cab_jget_str(c, "path"), *st = cab_jget_str(c, "status");
    if (path == NULL || st == NULL) {
      cab_change_list_free(out);
      return cab_error_set(err, 0, "changes[%zu]: needs string 'path' and 'status'", idx);
    }
    enum cab_change_status status;
    if (strcmp(st, "added") == 0)
      status = CAB_CHANGE_ADDED;
    else if (strcmp(st, "removed") == 0)
      status = CAB_CHANGE_REMOVED;
    else if (strcmp(st, "modified") == 0)
      status = CAB_CHANGE_MODIFIED;
    else {
      cab_change_list_free(out);
      return cab_error_set(err, 0, "changes[%zu]: unknown status '%s'", idx, st);
    }
    unsigned kinds = 0;
    const cJSON *k;
    cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(c, "kinds")) {
      if (!cJSON_IsString(k))
        continue;
      if (strcmp(k->valuestring, "content") == 0)
        kinds |= CAB_KIND_CONTENT;
      else if (strcmp(k->valuestring, "mode") == 0)
        kinds |= CAB_KIND_MODE;
      else if (strcmp(k->valuestring, "type") == 0)
        kinds |= CAB_KIND_TYPE;
    }
    uint32_t om, nm;
    if (parse_mode(cJSON_GetObjectItemCaseSensitive(c, "old_mode"), &om) < 0 ||
        parse_mode(cJSON_GetObjectItemCaseSensitive(c, "new_mode"), &nm) < 0) {
      cab_change_list_free(out);
      return cab_error_set(err, 0, "changes[%zu]: bad mode", idx);
    }
    cab_change_list_add(out, path, status, kinds, om, nm, cab_jget_bool(c, "binary", false));
    idx++;
  }
  return 0;
}
