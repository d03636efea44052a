/* The image commands' view of the store (store_describe.h). */
#include "rootfs/store_describe.h"

#include <stdio.h>
#include <string.h>

#include "common/cleanup.h"

/* Split a stored name into repository and tag ("" for a digest name). */
static void
split_name(const char *name, char *repo, size_t rsize, char *tag, size_t tsize)
{
  size_t len = strcspn(name, "@");
  const char *slash = memrchr(name, '/', len);
  const char *colon = memrchr(name, ':', len);
  if (colon && (!slash || colon > slash)) {
    snprintf(tag, tsize, "%.*s", (int)(len - (size_t)(colon - name) - 1), colon + 1);
    len = (size_t)(colon - name);
  } else {
    tag[0] = '\0';
  }
  snprintf(repo, rsize, "%.*s", (int)len, name);
}

/* Bytes of the config and layers (from the verified manifest), -1 if unreadable. */
static int64_t
image_size(const cab_store *s, const cab_store_entry *e)
{
  cleanup_free char *buf = NULL;
  size_t len;
  cab_manifest *m;
  if (cab_store_read_blob(s, e->manifest.digest, CAB_MANIFEST_MAX, &buf, &len, NULL) < 0 ||
      cab_manifest_parse(buf, len, e->manifest.media_type, &m, NULL) < 0)
    return -1;
  int64_t total = m->config.size;
  for (size_t i = 0; i < m->n_layers; i++)
    total += m->layers[i].size;
  cab_manifest_free(m);
  return total;
}

/* KEY: VALUE, or null when VALUE is "" (no tag, no index). */
static void
add_string_or_null(cJSON *o, const char *key, const char *value)
{
  if (value[0])
    cJSON_AddStringToObject(o, key, value);
  else
    cJSON_AddNullToObject(o, key);
}

void
cab_store_entry_summary(const cab_store *s, const cab_store_entry *e,
                        struct cab_image_summary *out)
{
  split_name(e->name, out->repo, sizeof out->repo, out->tag, sizeof out->tag);
  out->platform[0] = '\0';
  if (e->manifest.has_platform)
    cab_platform_string(&e->manifest.platform, out->platform, sizeof out->platform);
  out->size = image_size(s, e);
}

cJSON *
cab_store_entry_json(const cab_store_entry *e, const struct cab_image_summary *sum)
{
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "name", e->name);
  cJSON_AddStringToObject(o, "repository", sum->repo);
  add_string_or_null(o, "tag", sum->tag);
  cJSON_AddStringToObject(o, "digest", e->manifest.digest);
  add_string_or_null(o, "index_digest", e->index_digest);
  cJSON_AddStringToObject(o, "media_type", e->manifest.media_type);
  cJSON_AddStringToObject(o, "platform", sum->platform);
  cJSON_AddNumberToObject(o, "size", (double)sum->size);
  return o;
}

static cJSON *
platform_json(const cab_platform *p)
{
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "os", p->os);
  cJSON_AddStringToObject(o, "architecture", p->architecture);
  if (p->variant[0])
    cJSON_AddStringToObject(o, "variant", p->variant);
  return o;
}

int
cab_store_inspect_json(cab_store *s, const char *ref, cJSON **out, cab_error *err)
{
  cab_image *img = NULL;
  if (cab_image_resolve(s, ref, &img, err) < 0)
    return -1;
  /* The config and the other names are extras: an unreadable one leaves
   * its field empty rather than failing the whole view. */
  cab_error ignored = {0};
  cleanup_free char *cbuf = NULL;
  size_t clen = 0;
  cJSON *cfg = NULL;
  if (cab_store_read_blob(s, img->config_digest, CAB_CONFIG_MAX, &cbuf, &clen, &ignored) == 0)
    cfg = cJSON_ParseWithLength(cbuf, clen);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "name", img->name);
  cJSON_AddStringToObject(o, "digest", img->digest);
  add_string_or_null(o, "index_digest", img->index_digest);
  cJSON_AddStringToObject(o, "media_type", img->manifest_media_type);
  cJSON_AddStringToObject(o, "config_digest", img->config_digest);
  cJSON_AddItemToObject(o, "platform", platform_json(&img->config->platform));
  cJSON *inner = cJSON_DetachItemFromObjectCaseSensitive(cfg, "config");
  cJSON_AddItemToObject(o, "config", inner ? inner : cJSON_CreateObject());
  cJSON *created = cJSON_DetachItemFromObjectCaseSensitive(cfg, "created");
  if (created)
    cJSON_AddItemToObject(o, "created", created);
  cJSON *layers = cJSON_AddArrayToObject(o, "layers");
  int64_t total = 0;
  for (size_t i = 0; i < img->n_layers; i++) {
    cJSON *l = cJSON_CreateObject();
    cJSON_AddStringToObject(l, "digest", img->layers[i].digest);
    cJSON_AddStringToObject(l, "media_type", img->layers[i].media_type);
    cJSON_AddNumberToObject(l, "size", (double)img->layers[i].size);
    cJSON_AddStringToObject(l, "diff_id", img->layers[i].diff_id);
    cJSON_AddItemToArray(layers, l);
    total += img->layers[i].size;
  }
  cJSON_AddNumberToObject(o, "size", (double)total);
  cJSON *names = cJSON_AddArrayToObject(o, "names");
  cleanup_free cab_store_entry *v = NULL;
  size_t n = 0;
  if (cab_store_list(s, &v, &n, &ignored) == 0)
    for (size_t i = 0; i < n; i++)
      if (strcmp(v[i].manifest.digest, img->digest) == 0)
        cJSON_AddItemToArray(names, cJSON_CreateString(v[i].name));
  cJSON_Delete(cfg);
  cab_image_free(img);
  *out = o;
  return 0;
}
