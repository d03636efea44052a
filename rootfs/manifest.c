#include "rootfs/manifest.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/cleanup.h"
#include "rootfs/manifest_json.h"

#define MAX_DESCRIPTORS 4096

bool
cab_mt_is_index(const char *mt)
{
  return mt && (strcmp(mt, CAB_MT_OCI_INDEX) == 0 || strcmp(mt, CAB_MT_DOCKER_LIST) == 0);
}

bool
cab_mt_is_manifest(const char *mt)
{
  return mt && (strcmp(mt, CAB_MT_OCI_MANIFEST) == 0 || strcmp(mt, CAB_MT_DOCKER_MANIFEST) == 0);
}

static bool
is_schema1(const char *mt)
{
  return mt && strncmp(mt, "application/vnd.docker.distribution.manifest.v1", 47) == 0;
}

static bool
is_layer_type(const char *mt)
{
  static const char *const ok[] = {CAB_MT_OCI_LAYER, CAB_MT_OCI_LAYER_GZIP, CAB_MT_OCI_LAYER_ZSTD,
                                   CAB_MT_DOCKER_LAYER_GZIP, CAB_MT_DOCKER_LAYER};
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
    if (strcmp(mt, ok[i]) == 0)
      return true;
  return false;
}

static bool
is_foreign_type(const char *mt)
{
  return strstr(mt, "foreign") != NULL || strstr(mt, "nondistributable") != NULL;
}

/* A Content-Type header may carry parameters ("; charset=utf-8"). */
static void
clean_content_type(const char *in, char *out, size_t size)
{
  snprintf(out, size, "%s", in ? in : "");
  char *semi = strchr(out, ';');
  if (semi)
    *semi = '\0';
  size_t n = strlen(out);
  while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\t'))
    out[--n] = '\0';
}

static int
parse_platform(const cJSON *obj, cab_platform *p, cab_error *err)
{
  memset(p, 0, sizeof *p);
  const char *os = cab_json_str(obj, "os");
  const char *arch = cab_json_str(obj, "architecture");
  const char *variant = cab_json_str(obj, "variant");
  if (!os || !arch || strlen(os) >= sizeof p->os || strlen(arch) >= sizeof p->architecture ||
      (variant && strlen(variant) >= sizeof p->variant))
    return cab_error_set(err, 0, "platform needs short 'os' and 'architecture' strings");
  snprintf(p->os, sizeof p->os, "%s", os);
  snprintf(p->architecture, sizeof p->architecture, "%s", arch);
  snprintf(p->variant, sizeof p->variant, "%s", variant ? variant : "");
  return 0;
}

int
cab_json_descriptor(const cJSON *obj, const char *where, cab_descriptor *d, cab_error *err)
{
  memset(d, 0, sizeof *d);
  if (!cJSON_IsObject(obj))
    return cab_error_set(err, 0, "%s: descriptor is not a JSON object", where);
  const char *mt = cab_json_str(obj, "mediaType");
  const char *digest = cab_json_str(obj, "digest");
  const cJSON *size = cJSON_GetObjectItemCaseSensitive(obj, "size");
  if (mt == NULL || *mt == '\0' || strlen(mt) >= sizeof d->media_type)
    return cab_error_set(err, 0, "%s: descriptor without a valid mediaType", where);
  if (cab_digest_require(digest, where, err) < 0)
    return -1;
  if (!cJSON_IsNumber(size) || size->valuedouble < 0 || size->valuedouble > 9007199254740991.0 ||
      floor(size->valuedouble) != size->valuedouble)
    return cab_error_set(err, 0, "%s: descriptor %s has no valid size", where, digest);
  const cJSON *urls = cJSON_GetObjectItemCaseSensitive(obj, "urls");
  if (urls != NULL && !(cJSON_IsArray(urls) && cJSON_GetArraySize(urls) == 0))
    return cab_error_set(err, 0,
                         "%s: descriptor %s lists foreign 'urls'; cab does not fetch "
                         "non-distributable layers from arbitrary URLs",
                         where, digest);
  snprintf(d->media_type, sizeof d->media_type, "%s", mt);
  snprintf(d->digest, sizeof d->digest, "%s", digest);
  d->size = (int64_t)size->valuedouble;
  const cJSON *plat = cJSON_GetObjectItemCaseSensitive(obj, "platform");
  if (plat != NULL) {
    if (parse_platform(plat, &d->platform, err) < 0)
      return cab_error_prefix(err, "%s: descriptor %s", where, digest);
    d->has_platform = true;
  }
  return 0;
}

static int
parse_descriptor_array(const cJSON *arr, const char *what, cab_descriptor **out, size_t *n,
                       cab_error *err)
{
  if (!cJSON_IsArray(arr))
    return cab_error_set(err, 0, "'%s' is not an array", what);
  int count = cJSON_GetArraySize(arr);
  if (count > MAX_DESCRIPTORS)
    return cab_error_set(err, 0, "'%s' has %d entries; the limit is %d", what, count,
                         MAX_DESCRIPTORS);
  cab_descriptor *d = calloc(count ? (size_t)count : 1, sizeof *d);
  if (d == NULL)
    return cab_error_sys(err, "allocate %s", what);
  int i = 0;
  const cJSON *item;
  cJSON_ArrayForEach(item, arr)
  {
    char where[64];
    snprintf(where, sizeof where, "%s[%d]", what, i);
    if (cab_json_descriptor(item, where, &d[i], err) < 0) {
      free(d);
      return -1;
    }
    i++;
  }
  *out = d;
  *n = (size_t)count;
  return 0;
}

void
cab_manifest_free(cab_manifest *m)
{
  if (m == NULL)
    return;
  free(m->layers);
  free(m->manifests);
  free(m);
}

/* Decide what the document is, from its mediaType, the transport's
 * Content-Type and its fields, refusing any disagreement. */
static int
classify(const cJSON *root, const char *ctype, char *mt_out, size_t mt_size, cab_error *err)
{
  const cJSON *sv = cJSON_GetObjectItemCaseSensitive(root, "schemaVersion");
  const char *mt = cab_json_str(root, "mediaType");
  bool has_manifests = cJSON_GetObjectItemCaseSensitive(root, "manifests") != NULL;
  bool has_layers = cJSON_GetObjectItemCaseSensitive(root, "layers") != NULL;
  bool has_config = cJSON_GetObjectItemCaseSensitive(root, "config") != NULL;
  bool has_fslayers = cJSON_GetObjectItemCaseSensitive(root, "fsLayers") != NULL;

  if (is_schema1(mt) || is_schema1(ctype) || has_fslayers ||
      (cJSON_IsNumber(sv) && sv->valuedouble == 1))
    return cab_error_set(err, 0,
                         "Docker schema1 manifests are not supported (deprecated and unsigned); "
                         "push the image again with a current tool");
  if (!cJSON_IsNumber(sv) || sv->valuedouble != 2)
    return cab_error_set(err, 0, "schemaVersion is not 2");
  if (has_manifests && (has_layers || has_config))
    return cab_error_set(err, 0,
                         "ambiguous document: it has 'manifests' and also 'layers' or 'config', "
                         "so it reads as both an index and a manifest (CVE-2021-41190)");
  if (mt != NULL && cJSON_GetObjectItemCaseSensitive(root, "mediaType") &&
      !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(root, "mediaType")))
    return cab_error_set(err, 0, "mediaType is not a string");

  bool ct_known = cab_mt_is_index(ctype) || cab_mt_is_manifest(ctype);
  if (mt && *mt && ct_known && strcmp(mt, ctype) != 0)
    return cab_error_set(err, 0,
                         "the document's mediaType '%.100s' does not match its Content-Type "
                         "'%.100s' (CVE-2021-41190)",
                         mt, ctype);
  const char *eff = (mt && *mt) ? mt : ct_known ? ctype : NULL;
  if (eff == NULL)
    eff = has_manifests ? CAB_MT_OCI_INDEX : CAB_MT_OCI_MANIFEST;
  if (!cab_mt_is_index(eff) && !cab_mt_is_manifest(eff))
    return cab_error_set(err, 0, "unsupported manifest media type '%.120s'", eff);
  const char *said = (mt && *mt) ? "its mediaType" : "its Content-Type";
  if (cab_mt_is_index(eff) && !has_manifests)
    return cab_error_set(err, 0,
                         "%s says %s, but the document has no 'manifests' (CVE-2021-41190)", said,
                         eff);
  if (cab_mt_is_manifest(eff) && (!has_layers || !has_config))
    return cab_error_set(err, 0,
                         "%s says %s, but the document lacks 'config' or 'layers' "
                         "(CVE-2021-41190)",
                         said, eff);
  /* Docker's types require their mediaType field. */
  if ((strcmp(eff, CAB_MT_DOCKER_LIST) == 0 || strcmp(eff, CAB_MT_DOCKER_MANIFEST) == 0) &&
      (mt == NULL || *mt == '\0'))
    return cab_error_set(err, 0, "Docker %s document without a mediaType field",
                         cab_mt_is_index(eff) ? "manifest list" : "manifest");
  snprintf(mt_out, mt_size, "%s", eff);
  return 0;
}

int
cab_manifest_parse(const char *data, size_t len, const char *content_type, cab_manifest **out,
                   cab_error *err)
{
  *out = NULL;
  if (len > CAB_MANIFEST_MAX)
    return cab_error_set(err, 0, "manifest is %zu bytes; the limit is %d", len,
                         CAB_MANIFEST_MAX);
  cJSON *root = cab_json_parse_strict(data, len, "manifest", err);
  if (root == NULL)
    return -1;
  char ctype[128];
  clean_content_type(content_type, ctype, sizeof ctype);

  cab_manifest *m = calloc(1, sizeof *m);
  if (m == NULL) {
    cJSON_Delete(root);
    return cab_error_sys(err, "allocate manifest");
  }
  int r = classify(root, ctype, m->media_type, sizeof m->media_type, err);
  if (r == 0 && cab_mt_is_index(m->media_type)) {
    m->kind = CAB_DOC_INDEX;
    r = parse_descriptor_array(cJSON_GetObjectItemCaseSensitive(root, "manifests"), "manifests",
                               &m->manifests, &m->n_manifests, err);
  } else if (r == 0) {
    m->kind = CAB_DOC_MANIFEST;
    r = cab_json_descriptor(cJSON_GetObjectItemCaseSensitive(root, "config"), "config",
                            &m->config, err);
    if (r == 0 && strcmp(m->config.media_type, CAB_MT_OCI_CONFIG) != 0 &&
        strcmp(m->config.media_type, CAB_MT_DOCKER_CONFIG) != 0)
      r = cab_error_set(err, 0,
                        "config media type '%.100s' is not an image config (an artifact?)",
                        m->config.media_type);
    if (r == 0)
      r = parse_descriptor_array(cJSON_GetObjectItemCaseSensitive(root, "layers"), "layers",
                                 &m->layers, &m->n_layers, err);
    for (size_t i = 0; r == 0 && i < m->n_layers; i++) {
      const char *lt = m->layers[i].media_type;
      if (is_foreign_type(lt))
        r = cab_error_set(err, 0, "layer %s is a foreign/non-distributable layer (%.100s); "
                                      "refused",
                          m->layers[i].digest, lt);
      else if (!is_layer_type(lt))
        r = cab_error_set(err, 0, "layer %s has unsupported media type '%.100s'",
                          m->layers[i].digest, lt);
    }
  }
  cJSON_Delete(root);
  if (r < 0) {
    cab_manifest_free(m);
    return -1;
  }
  *out = m;
  return 0;
}
