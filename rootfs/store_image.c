/* Resolve a reference to an image in the store: manifest, config, layers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "rootfs/store_internal.h"

void
cab_image_free(cab_image *img)
{
  if (img == NULL)
    return;
  cab_config_free(img->config);
  free(img->layers);
  free(img);
}

/* The entry was found by its index digest: the index must list it. */
static int
check_index(const cab_store *s, const cab_store_entry *e, cab_error *err)
{
  cleanup_free char *buf = NULL;
  size_t len;
  if (cab_store_read_blob(s, e->index_digest, CAB_MANIFEST_MAX, &buf, &len, err) < 0)
    return -1;
  cab_manifest *idx;
  if (cab_manifest_parse(buf, len, NULL, &idx, err) < 0)
    return cab_error_prefix(err, "index %s", e->index_digest);
  int found = 0;
  for (size_t i = 0; idx->kind == CAB_DOC_INDEX && i < idx->n_manifests; i++)
    if (strcmp(idx->manifests[i].digest, e->manifest.digest) == 0)
      found = 1;
  cab_manifest_free(idx);
  if (!found)
    return cab_error_set(err, 0, "index %s does not list manifest %s", e->index_digest,
                         e->manifest.digest);
  return 0;
}

static int
load(const cab_store *s, const cab_store_entry *e, const char *ref, cab_image *img,
     cab_error *err)
{
  snprintf(img->name, sizeof img->name, "%s", e->name);
  snprintf(img->digest, sizeof img->digest, "%s", e->manifest.digest);
  snprintf(img->index_digest, sizeof img->index_digest, "%s", e->index_digest);
  if (e->index_digest[0] && strstr(ref, e->index_digest) && check_index(s, e, err) < 0)
    return -1;

  cleanup_free char *mbuf = NULL;
  size_t mlen;
  if (cab_store_read_blob(s, e->manifest.digest, CAB_MANIFEST_MAX, &mbuf, &mlen, err) < 0)
    return -1;
  cab_manifest *m;
  if (cab_manifest_parse(mbuf, mlen, e->manifest.media_type, &m, err) < 0)
    return cab_error_prefix(err, "manifest %s", e->manifest.digest);
  int r = 0;
  if (m->kind != CAB_DOC_MANIFEST)
    r = cab_error_set(err, 0, "%s is an index; cab stores one platform per name",
                      e->manifest.digest);
  if (r == 0) {
    snprintf(img->manifest_media_type, sizeof img->manifest_media_type, "%s", m->media_type);
    snprintf(img->config_digest, sizeof img->config_digest, "%s", m->config.digest);
    cleanup_free char *cbuf = NULL;
    size_t clen;
    r = cab_store_read_blob(s, m->config.digest, CAB_CONFIG_MAX, &cbuf, &clen, err);
    if (r == 0 && (int64_t)clen != m->config.size)
      r = cab_error_set(err, 0, "config %s: %zu bytes, the manifest says %lld",
                        m->config.digest, clen, (long long)m->config.size);
    if (r == 0)
      r = cab_config_parse(cbuf, clen, &img->config, err);
  }
  if (r == 0 && img->config->n_diff_ids != m->n_layers)
    r = cab_error_set(err, 0, "the manifest has %zu layers but the config %zu diff_ids",
                      m->n_layers, img->config->n_diff_ids);
  if (r == 0) {
    img->layers = calloc(m->n_layers ? m->n_layers : 1, sizeof *img->layers);
    if (img->layers == NULL)
      r = cab_error_sys(err, "allocate layers");
  }
  for (size_t i = 0; r == 0 && i < m->n_layers; i++) {
    cab_layer *l = &img->layers[i];
    snprintf(l->digest, sizeof l->digest, "%s", m->layers[i].digest);
    snprintf(l->diff_id, sizeof l->diff_id, "%s", img->config->diff_ids[i]);
    snprintf(l->media_type, sizeof l->media_type, "%s", m->layers[i].media_type);
    l->size = m->layers[i].size;
    img->n_layers++;
  }
  cab_manifest_free(m);
  return r;
}

int
cab_image_resolve(cab_store *s, const char *ref, cab_image **out, cab_error *err)
{
  *out = NULL;
  cab_store_entry e;
  if (cab_store_lookup(s, ref, &e, err) < 0)
    return -1;
  cab_image *img = calloc(1, sizeof *img);
  if (img == NULL)
    return cab_error_sys(err, "allocate an image");
  if (load(s, &e, ref, img, err) < 0) {
    cab_image_free(img);
    return cab_error_prefix(err, "image %.300s", ref);
  }
  *out = img;
  return 0;
}
