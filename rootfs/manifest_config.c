/* The image config: what cab exec honours, and the layers' diff_ids. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rootfs/manifest.h"
#include "rootfs/manifest_json.h"

#define MAX_LAYERS 4096

void
cab_config_free(cab_image_config *c)
{
  if (c == NULL)
    return;
  cab_argv_free(c->env);
  cab_argv_free(c->entrypoint);
  cab_argv_free(c->cmd);
  free(c->working_dir);
  free(c->user);
  free(c->diff_ids);
  free(c);
}

static int
dup_str(const cJSON *obj, const char *key, char **out, cab_error *err)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (v == NULL || cJSON_IsNull(v))
    return 0;
  if (!cJSON_IsString(v))
    return cab_error_set(err, 0, "image config: '%s' is not a string", key);
  if (v->valuestring[0] == '\0')
    return 0;
  *out = strdup(v->valuestring);
  return *out ? 0 : cab_error_sys(err, "allocate %s", key);
}

static int
parse_config(const cJSON *root, cab_image_config *c, cab_error *err)
{
  const char *os = cab_json_str(root, "os");
  const char *arch = cab_json_str(root, "architecture");
  const char *variant = cab_json_str(root, "variant");
  snprintf(c->platform.os, sizeof c->platform.os, "%s", os ? os : "");
  snprintf(c->platform.architecture, sizeof c->platform.architecture, "%s", arch ? arch : "");
  snprintf(c->platform.variant, sizeof c->platform.variant, "%s", variant ? variant : "");

  const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(root, "config");
  if (cfg != NULL && !cJSON_IsNull(cfg)) {
    if (!cJSON_IsObject(cfg))
      return cab_error_set(err, 0, "image config: 'config' is not an object");
    if (cab_json_strv(cfg, "Env", &c->env, err) < 0 ||
        cab_json_strv(cfg, "Entrypoint", &c->entrypoint, err) < 0 ||
        cab_json_strv(cfg, "Cmd", &c->cmd, err) < 0 ||
        dup_str(cfg, "WorkingDir", &c->working_dir, err) < 0 ||
        dup_str(cfg, "User", &c->user, err) < 0)
      return cab_error_prefix(err, "image config");
  }

  const cJSON *rootfs = cJSON_GetObjectItemCaseSensitive(root, "rootfs");
  const char *type = cab_json_str(rootfs, "type");
  const cJSON *ids = cJSON_GetObjectItemCaseSensitive(rootfs, "diff_ids");
  if (type == NULL || strcmp(type, "layers") != 0 || !cJSON_IsArray(ids))
    return cab_error_set(err, 0,
                         "image config: rootfs must be {\"type\": \"layers\", \"diff_ids\": [...]}");
  int n = cJSON_GetArraySize(ids);
  if (n > MAX_LAYERS)
    return cab_error_set(err, 0, "image config: %d diff_ids; the limit is %d", n, MAX_LAYERS);
  c->diff_ids = calloc(n ? (size_t)n : 1, sizeof *c->diff_ids);
  if (c->diff_ids == NULL)
    return cab_error_sys(err, "allocate diff_ids");
  const cJSON *item;
  size_t i = 0;
  cJSON_ArrayForEach(item, ids)
  {
    const char *d = cJSON_IsString(item) ? item->valuestring : NULL;
    if (cab_digest_require(d, "image config diff_ids", err) < 0)
      return -1;
    memcpy(c->diff_ids[i++], d, CAB_DIGEST_LEN + 1);
  }
  c->n_diff_ids = i;
  return 0;
}

int
cab_config_parse(const char *data, size_t len, cab_image_config **out, cab_error *err)
{
  *out = NULL;
  if (len > CAB_CONFIG_MAX)
    return cab_error_set(err, 0, "image config is %zu bytes; the limit is %d", len,
                         CAB_CONFIG_MAX);
  cJSON *root = cab_json_parse_strict(data, len, "image config", err);
  if (root == NULL)
    return -1;
  cab_image_config *c = calloc(1, sizeof *c);
  if (c == NULL) {
    cJSON_Delete(root);
    return cab_error_sys(err, "allocate image config");
  }
  int r = parse_config(root, c, err);
  cJSON_Delete(root);
  if (r < 0) {
    cab_config_free(c);
    return -1;
  }
  *out = c;
  return 0;
}
