/* Tagging an image: its entry in index.json and, for a Docker schema2
 * manifest, its OCI twin, both written at once.  (A file apart from the
 * index's reading side, store_index.c, which the core cab links: writing a
 * twin stages a blob, with OpenSSL's hashing.)
 *
 * OCI twins of Docker schema2 manifests: the same config and layer blobs
 * under an OCI manifest, so that OCI-layout readers that skip Docker media
 * types (skopeo's oci: transport) can read every image in the store.  The
 * Docker manifest stays the image's identity; the twin is derived from it,
 * deterministically, so concurrent writers produce the same blob. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>

#include "common/cleanup.h"
#include "common/sha256.h"
#include "rootfs/manifest_json.h"
#include "rootfs/store_internal.h"

static const char *
oci_layer_type(const char *mt)
{
  if (strcmp(mt, CAB_MT_DOCKER_LAYER_GZIP) == 0)
    return CAB_MT_OCI_LAYER_GZIP;
  if (strcmp(mt, CAB_MT_DOCKER_LAYER) == 0)
    return CAB_MT_OCI_LAYER;
  return mt;
}

/* The OCI twin of E when E is a Docker schema2 manifest (its blob is
 * written to the store); TWIN->name is "" otherwise. */
static int
oci_twin(cab_store *s, const cab_store_entry *e, cab_store_entry *twin, cab_error *err)
{
  memset(twin, 0, sizeof *twin);
  if (strcmp(e->manifest.media_type, CAB_MT_DOCKER_MANIFEST) != 0)
    return 0;
  cleanup_free char *buf = NULL;
  size_t len;
  cab_manifest *m;
  if (cab_store_read_blob(s, e->manifest.digest, CAB_MANIFEST_MAX, &buf, &len, err) < 0)
    return -1;
  if (cab_manifest_parse(buf, len, e->manifest.media_type, &m, err) < 0)
    return cab_error_prefix(err, "manifest %s", e->manifest.digest);
  cJSON *o = cJSON_CreateObject();
  cJSON *layers = o ? cJSON_CreateArray() : NULL;
  int r = layers ? 0 : cab_error_set(err, ENOMEM, "allocate");
  if (r == 0) {
    cJSON_AddNumberToObject(o, "schemaVersion", 2);
    cJSON_AddStringToObject(o, "mediaType", CAB_MT_OCI_MANIFEST);
    cab_descriptor c = m->config;
    snprintf(c.media_type, sizeof c.media_type, "%s", CAB_MT_OCI_CONFIG);
    cJSON_AddItemToObject(o, "config", cab_json_from_descriptor(&c));
    for (size_t i = 0; i < m->n_layers; i++) {
      cab_descriptor l = m->layers[i];
      snprintf(l.media_type, sizeof l.media_type, "%s", oci_layer_type(m->layers[i].media_type));
      cJSON_AddItemToArray(layers, cab_json_from_descriptor(&l));
    }
    cJSON_AddItemToObject(o, "layers", layers);
  } else {
    cJSON_Delete(layers);
  }
  cab_manifest_free(m);
  cleanup_free char *text = r == 0 ? cJSON_PrintUnformatted(o) : NULL;
  cJSON_Delete(o);
  if (r == 0 && text == NULL)
    r = cab_error_set(err, ENOMEM, "serialise the OCI twin");
  if (r < 0)
    return -1;
  cab_stage *st;
  if (cab_stage_new(s, &st, err) < 0)
    return -1;
  r = cab_stage_put(st, text, strlen(text), NULL, twin->manifest.digest, err);
  const char *list[] = {twin->manifest.digest};
  if (r == 0)
    r = cab_stage_commit(st, list, 1, err);
  cab_stage_free(st);
  if (r < 0)
    return cab_error_prefix(err, "OCI twin of %s", e->manifest.digest);
  snprintf(twin->name, sizeof twin->name, "%s", e->name);
  snprintf(twin->manifest.media_type, sizeof twin->manifest.media_type, "%s", CAB_MT_OCI_MANIFEST);
  twin->manifest.size = (int64_t)strlen(text);
  twin->manifest.has_platform = e->manifest.has_platform;
  twin->manifest.platform = e->manifest.platform;
  snprintf(twin->twin_of, sizeof twin->twin_of, "%s", e->manifest.digest);
  return 0;
}

int
cab_store_tag(cab_store *s, const cab_store_entry *e, cab_error *err)
{
  if (cab_digest_require(e->manifest.digest, "manifest", err) < 0)
    return -1;
  cab_store_entry twin;
  if (oci_twin(s, e, &twin, err) < 0)
    return -1;
  cleanup_close int lock = -1;
  cJSON *root;
  if (cab_store_index_lock_read(s, &lock, &root, err) < 0)
    return -1;
  cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "manifests");
  for (int i = cJSON_GetArraySize(arr) - 1; i >= 0; i--) {
    const cJSON *ann = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(arr, i), "annotations");
    const char *name = cab_json_str(ann, CAB_ANNOT_REF_NAME);
    if (name && strcmp(name, e->name) == 0)
      cJSON_DeleteItemFromArray(arr, i);
  }
  cJSON *item = cab_store_index_entry(e);
  int r = item ? 0 : cab_error_set(err, ENOMEM, "build an index.json entry");
  if (r == 0)
    cJSON_AddItemToArray(arr, item);
  if (r == 0 && twin.name[0]) {
    cJSON *t = cab_store_index_entry(&twin);
    if (t == NULL)
      r = cab_error_set(err, ENOMEM, "build an index.json entry");
    else
      cJSON_AddItemToArray(arr, t);
  }
  if (r == 0)
    r = cab_store_index_write(s, root, err);
  cJSON_Delete(root);
  return r;
}
