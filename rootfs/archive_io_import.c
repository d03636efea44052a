/* cab import: OCI layouts and docker save archives, verified, staged,
 * committed, tagged. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/lazy_archive.h"
#include "rootfs/archive_io.h"
#include "rootfs/archive_io_src.h"
#include "rootfs/manifest_json.h"
#include "rootfs/ref.h"
#include "rootfs/store_write.h"

struct importer {
  cab_store *store;
  cab_stage *stage;
  struct cab_src src;
  const cab_import_opts *opts;
  cab_platform want;
  char base[64]; /* default repository: localhost/<base> */
  /* what to commit and tag */
  char (*commit)[CAB_DIGEST_LEN + 1];
  size_t n_commit;
  cab_store_entry *entries;
  size_t n_entries;
};

static int
add_commit(struct importer *im, const char *digest, cab_error *err)
{
  for (size_t i = 0; i < im->n_commit; i++)
    if (strcmp(im->commit[i], digest) == 0)
      return 0;
  void *nv = realloc(im->commit, (im->n_commit + 1) * sizeof *im->commit);
  if (nv == NULL)
    return cab_error_sys(err, "allocate");
  im->commit = nv;
  memcpy(im->commit[im->n_commit++], digest, CAB_DIGEST_LEN + 1);
  return 0;
}

static int
add_entry(struct importer *im, const cab_store_entry *e, cab_error *err)
{
  void *nv = realloc(im->entries, (im->n_entries + 1) * sizeof *im->entries);
  if (nv == NULL)
    return cab_error_sys(err, "allocate");
  im->entries = nv;
  im->entries[im->n_entries++] = *e;
  return 0;
}

/* Stage the blob at PATH in the archive, which must hash to EXPECT (NULL:
 * whatever it hashes to, into DIGEST_OUT) and have SIZE bytes (-1: any). */
static int
stage_file(struct importer *im, const char *path, const char *expect, int64_t size,
           char *digest_out, cab_error *err)
{
  cleanup_close int fd = -1;
  if (cab_src_open(&im->src, path, &fd, err) < 0)
    return -1;
  char got[CAB_DIGEST_LEN + 1];
  if (cab_stage_put_fd(im->stage, fd, expect, size, got, err) < 0)
    return cab_error_prefix(err, "%s", path);
  if (digest_out)
    memcpy(digest_out, got, sizeof got);
  return add_commit(im, got, err);
}

/* Read a verified small blob of the layout. */
static int
read_blob(struct importer *im, const cab_descriptor *d, size_t max, char **out, size_t *len,
          cab_error *err)
{
  char path[128];
  snprintf(path, sizeof path, "blobs/sha256/%s", d->digest + 7);
  if (d->size < 0 || (uint64_t)d->size > max)
    return cab_error_set(err, 0, "%s: %lld bytes is too large", d->digest, (long long)d->size);
  if (cab_src_read(&im->src, path, max, out, len, err) < 0)
    return -1;
  char got[CAB_DIGEST_LEN + 1];
  cab_sha256_buffer(*out, *len, got);
  if (strcmp(got, d->digest) != 0)
    return cab_error_set(err, 0, "blob %s: digest mismatch, the content hashes to %s", d->digest,
                         got);
  if ((int64_t)*len != d->size)
    return cab_error_set(err, 0, "blob %s: %zu bytes, its descriptor says %lld", d->digest, *len,
                         (long long)d->size);
  if (cab_stage_put(im->stage, *out, *len, d->digest, NULL, err) < 0)
    return -1;
  return add_commit(im, d->digest, err);
}

/* NAME from --name, an annotation, or localhost/<base>@<digest>. */
static int
choose_name(struct importer *im, const char *given, const char *manifest_digest, char *out,
            size_t size, cab_error *err)
{
  cab_ref r;
  const char *opt = im->opts->name;
  if (opt && *opt) {
    /* --name NAME without a tag keeps the archive's tag, if it has one. */
    if (cab_ref_parse(opt, &r, err) < 0)
      return cab_error_prefix(err, "--name");
    if (!strchr(strrchr(opt, '/') ? strrchr(opt, '/') : opt, ':') && given && *given &&
        !strpbrk(given, "/:@")) {
      char tagged[700];
      snprintf(tagged, sizeof tagged, "%s:%s", opt, given);
      if (cab_ref_parse(tagged, &r, NULL) < 0)
        cab_ref_parse(opt, &r, NULL);
    }
    cab_ref_string(&r, out, size);
    return 0;
  }
  if (given && *given) {
    char text[700];
    if (strpbrk(given, "/:@"))
      snprintf(text, sizeof text, "%s", given);
    else
      snprintf(text, sizeof text, "localhost/%s:%s", im->base, given); /* a bare tag */
    if (cab_ref_parse(text, &r, err) < 0)
      return cab_error_prefix(err, "the archive's image name '%.200s'", given);
    cab_ref_string(&r, out, size);
    return 0;
  }
  snprintf(out, size, "localhost/%s@%s", im->base, manifest_digest);
  return 0;
}

/* One platform manifest (DESC) of a layout, with its config and layers. */
static int
import_manifest(struct importer *im, const cab_descriptor *desc, cab_store_entry *e,
                cab_error *err)
{
  cleanup_free char *buf = NULL;
  size_t len;
  if (read_blob(im, desc, CAB_MANIFEST_MAX, &buf, &len, err) < 0)
    return -1;
  cab_manifest *m;
  if (cab_manifest_parse(buf, len, desc->media_type, &m, err) < 0)
    return cab_error_prefix(err, "manifest %s", desc->digest);
  int r = 0;
  cab_image_config *c = NULL;
  if (m->kind != CAB_DOC_MANIFEST)
    r = cab_error_set(err, 0, "manifest %s: an index where a manifest belongs", desc->digest);
  cleanup_free char *cbuf = NULL;
  size_t clen;
  if (r == 0)
    r = read_blob(im, &m->config, CAB_CONFIG_MAX, &cbuf, &clen, err);
  if (r == 0 && cab_config_parse(cbuf, clen, &c, err) < 0)
    r = cab_error_prefix(err, "config %s", m->config.digest);
  if (r == 0 && c->n_diff_ids != m->n_layers)
    r = cab_error_set(err, 0, "config %s: %zu diff_ids for %zu layers", m->config.digest,
                      c->n_diff_ids, m->n_layers);
  for (size_t i = 0; r == 0 && i < m->n_layers; i++) {
    char path[128];
    snprintf(path, sizeof path, "blobs/sha256/%s", m->layers[i].digest + 7);
    r = stage_file(im, path, m->layers[i].digest, m->layers[i].size, NULL, err);
  }
  if (r == 0) {
    e->manifest = *desc;
    snprintf(e->manifest.media_type, sizeof e->manifest.media_type, "%s", m->media_type);
    e->manifest.has_platform = c->platform.os[0] && c->platform.architecture[0];
    e->manifest.platform = c->platform;
  }
  cab_config_free(c);
  cab_manifest_free(m);
  return r;
}

static int
import_oci(struct importer *im, cab_error *err)
{
  cleanup_free char *buf = NULL;
  size_t len;
  if (cab_src_exists(&im->src, "oci-layout")) {
    cleanup_free char *lay = NULL;
    size_t llen;
    if (cab_src_read(&im->src, "oci-layout", 4096, &lay, &llen, err) < 0)
      return -1;
    cJSON *l = cab_json_parse_strict(lay, llen, "oci-layout", err);
    if (l == NULL)
      return -1;
    const char *v = cab_json_str(l, "imageLayoutVersion");
    bool ok = v && strncmp(v, "1.", 2) == 0;
    cJSON_Delete(l);
    if (!ok)
      return cab_error_set(err, 0, "oci-layout: unsupported imageLayoutVersion");
  }
  if (cab_src_read(&im->src, "index.json", CAB_MANIFEST_MAX, &buf, &len, err) < 0)
    return -1;
  cab_manifest *idx;
  if (cab_manifest_parse(buf, len, CAB_MT_OCI_INDEX, &idx, err) < 0)
    return cab_error_prefix(err, "index.json");
  cab_manifest_free(idx);
  cJSON *root = cab_json_parse_strict(buf, len, "index.json", err);
  if (root == NULL)
    return -1;
  const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "manifests");
  int n = cJSON_GetArraySize(arr);
  int r = 0;
  if (n == 0)
    r = cab_error_set(err, 0, "index.json lists no images");
  int images = 0;
  for (int i = 0; i < n; i++)
    if (!cab_json_str(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(arr, i), "annotations"),
                      CAB_ANNOT_TWIN_OF))
      images++;
  if (r == 0 && images > 1 && im->opts->name && *im->opts->name)
    r = cab_error_set(err, 0, "the archive holds %d images; --name needs exactly one", images);
  for (int i = 0; r == 0 && i < n; i++) {
    const cJSON *item = cJSON_GetArrayItem(arr, i);
    cab_descriptor d;
    char where[64];
    snprintf(where, sizeof where, "index.json manifests[%d]", i);
    if ((r = cab_json_descriptor(item, where, &d, err)) < 0)
      break;
    const cJSON *ann = cJSON_GetObjectItemCaseSensitive(item, "annotations");
    if (cab_json_str(ann, CAB_ANNOT_TWIN_OF)) /* cab export's OCI twin: re-derived on tag */
      continue;
    const char *given = cab_json_str(ann, "io.containerd.image.name");
    if (given == NULL)
      given = cab_json_str(ann, CAB_ANNOT_REF_NAME);
    const char *idx_ann = cab_json_str(ann, CAB_ANNOT_INDEX_DIGEST);
    cab_store_entry e = {0};
    if (cab_mt_is_index(d.media_type)) {
      cleanup_free char *ibuf = NULL;
      size_t ilen;
      cab_manifest *index = NULL;
      const cab_descriptor *pick;
      if ((r = read_blob(im, &d, CAB_MANIFEST_MAX, &ibuf, &ilen, err)) == 0 &&
          (r = cab_manifest_parse(ibuf, ilen, d.media_type, &index, err)) == 0 &&
          (r = cab_index_select(index, &im->want, &pick, err)) == 0) {
        cab_descriptor child = *pick;
        snprintf(e.index_digest, sizeof e.index_digest, "%s", d.digest);
        r = import_manifest(im, &child, &e, err);
      }
      cab_manifest_free(index);
      if (r < 0)
        cab_error_prefix(err, "index %s", d.digest);
    } else {
      r = import_manifest(im, &d, &e, err);
      /* An index digest recorded by cab export comes along when its blob
       * does and lists this manifest (cab_image_resolve checks it again). */
      if (r == 0 && idx_ann && cab_digest_valid(idx_ann)) {
        char path[128];
        snprintf(path, sizeof path, "blobs/sha256/%s", idx_ann + 7);
        if (cab_src_exists(&im->src, path)) {
          if (stage_file(im, path, idx_ann, -1, NULL, err) < 0)
            r = -1;
          else
            snprintf(e.index_digest, sizeof e.index_digest, "%s", idx_ann);
        }
      }
    }
    if (r == 0)
      r = choose_name(im, given, e.manifest.digest, e.name, sizeof e.name, err);
    if (r == 0)
      r = add_entry(im, &e, err);
  }
  cJSON_Delete(root);
  return r;
}

/* sha256 of the uncompressed stream of the staged blob DIGEST. */
static int
uncompressed_digest(struct importer *im, const char *digest, char *out, cab_error *err)
{
  int fd = openat(cab_stage_dirfd(im->stage), digest + 7, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return cab_error_sys(err, "open staged %s", digest);
  if (cab_archive_load(err) < 0) {
    close(fd);
    return -1;
  }
  struct archive *a = archive_read_new();
  archive_read_support_filter_all(a);
  archive_read_support_format_raw(a);
  struct archive_entry *e;
  int ret = 0;
  if (archive_read_open_fd(a, fd, 1 << 16) != ARCHIVE_OK ||
      archive_read_next_header(a, &e) != ARCHIVE_OK) {
    ret = cab_error_set(err, 0, "layer %s: %s", digest, archive_error_string(a));
  } else {
    struct cab_sha256 *h = cab_sha256_new();
    char buf[1 << 16];
    la_ssize_t n;
    while ((n = archive_read_data(a, buf, sizeof buf)) > 0)
      cab_sha256_update(h, buf, (size_t)n);
    cab_sha256_final(h, out);
    if (n < 0)
      ret = cab_error_set(err, 0, "layer %s: decompress: %s", digest, archive_error_string(a));
  }
  archive_read_free(a);
  close(fd);
  return ret;
}

static const char *
sniff_layer_type(struct importer *im, const char *digest)
{
  unsigned char magic[4] = {0};
  cleanup_close int fd = openat(cab_stage_dirfd(im->stage), digest + 7, O_RDONLY | O_CLOEXEC);
  if (fd >= 0 && read(fd, magic, sizeof magic) == (ssize_t)sizeof magic) {
    if (magic[0] == 0x1f && magic[1] == 0x8b)
      return CAB_MT_OCI_LAYER_GZIP;
    if (magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)
      return CAB_MT_OCI_LAYER_ZSTD;
  }
  return CAB_MT_OCI_LAYER;
}

/* The digest a docker-archive path names, if it names one:
 * "<hex>.json", "<hex>.tar", "blobs/sha256/<hex>". */
static bool
digest_in_name(const char *path, char *out)
{
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  char hex[65];
  if (strlen(base) < 64)
    return false;
  memcpy(hex, base, 64);
  hex[64] = '\0';
  const char *rest = base + 64;
  bool named = strcmp(rest, ".json") == 0 || strcmp(rest, ".tar") == 0 ||
               (*rest == '\0' && strstr(path, "blobs/sha256/") != NULL);
  snprintf(out, CAB_DIGEST_LEN + 1, "sha256:%s", hex);
  return named && cab_digest_valid(out);
}

static int
import_docker_image(struct importer *im, const cJSON *item, cab_error *err)
{
  const char *cfg_path = cab_json_str(item, "Config");
  const cJSON *layers = cJSON_GetObjectItemCaseSensitive(item, "Layers");
  if (cfg_path == NULL || !cJSON_IsArray(layers))
    return cab_error_set(err, 0, "manifest.json: an entry without Config or Layers");
  char named[CAB_DIGEST_LEN + 1], cdigest[CAB_DIGEST_LEN + 1];
  bool has_name = digest_in_name(cfg_path, named);
  if (stage_file(im, cfg_path, has_name ? named : NULL, -1, cdigest, err) < 0)
    return -1;
  cleanup_free char *cbuf = NULL;
  size_t clen;
  if (cab_src_read(&im->src, cfg_path, CAB_CONFIG_MAX, &cbuf, &clen, err) < 0)
    return -1;
  cab_image_config *c;
  if (cab_config_parse(cbuf, clen, &c, err) < 0)
    return cab_error_prefix(err, "%s", cfg_path);
  int n = cJSON_GetArraySize(layers), r = 0;
  if ((size_t)n != c->n_diff_ids)
    r = cab_error_set(err, 0, "%s: %zu diff_ids for %d layers", cfg_path, c->n_diff_ids, n);
  cJSON *man = cJSON_CreateObject(), *jl = NULL;
  if (man == NULL)
    r = cab_error_set(err, ENOMEM, "allocate");
  if (r == 0) {
    cJSON_AddNumberToObject(man, "schemaVersion", 2);
    cJSON_AddStringToObject(man, "mediaType", CAB_MT_OCI_MANIFEST);
    cab_descriptor cd = {.size = (int64_t)clen};
    snprintf(cd.media_type, sizeof cd.media_type, "%s", CAB_MT_OCI_CONFIG);
    snprintf(cd.digest, sizeof cd.digest, "%s", cdigest);
    cJSON_AddItemToObject(man, "config", cab_json_from_descriptor(&cd));
    jl = cJSON_AddArrayToObject(man, "layers");
  }
  for (int i = 0; r == 0 && i < n; i++) {
    const cJSON *lp = cJSON_GetArrayItem(layers, i);
    if (!cJSON_IsString(lp)) {
      r = cab_error_set(err, 0, "manifest.json: Layers[%d] is not a string", i);
      break;
    }
    char ld[CAB_DIGEST_LEN + 1];
    bool lnamed = digest_in_name(lp->valuestring, named) &&
                  strstr(lp->valuestring, "blobs/sha256/") != NULL;
    if ((r = stage_file(im, lp->valuestring, lnamed ? named : NULL, -1, ld, err)) < 0)
      break;
    const char *mt = sniff_layer_type(im, ld);
    char diff[CAB_DIGEST_LEN + 1];
    if (strcmp(mt, CAB_MT_OCI_LAYER) == 0)
      memcpy(diff, ld, sizeof diff);
    else if ((r = uncompressed_digest(im, ld, diff, err)) < 0)
      break;
    if (strcmp(diff, c->diff_ids[i]) != 0) {
      r = cab_error_set(err, 0, "layer %s (%s): its tar hashes to %s, but the config's diff_id "
                                "is %s",
                        ld, lp->valuestring, diff, c->diff_ids[i]);
      break;
    }
    struct stat sb;
    fstatat(cab_stage_dirfd(im->stage), ld + 7, &sb, 0);
    cab_descriptor d = {.size = sb.st_size};
    snprintf(d.media_type, sizeof d.media_type, "%s", mt);
    snprintf(d.digest, sizeof d.digest, "%s", ld);
    cJSON_AddItemToArray(jl, cab_json_from_descriptor(&d));
  }
  cab_store_entry e = {0};
  if (r == 0) {
    cleanup_free char *text = cJSON_PrintUnformatted(man);
    if (text == NULL)
      r = cab_error_set(err, ENOMEM, "serialise the manifest");
    else if ((r = cab_stage_put(im->stage, text, strlen(text), NULL, e.manifest.digest, err)) == 0)
      r = add_commit(im, e.manifest.digest, err);
    if (r == 0) {
      e.manifest.size = (int64_t)strlen(text);
      snprintf(e.manifest.media_type, sizeof e.manifest.media_type, "%s", CAB_MT_OCI_MANIFEST);
      e.manifest.has_platform = c->platform.os[0] && c->platform.architecture[0];
      e.manifest.platform = c->platform;
    }
  }
  cJSON_Delete(man);
  cab_config_free(c);
  if (r < 0)
    return -1;
  const cJSON *tags = cJSON_GetObjectItemCaseSensitive(item, "RepoTags");
  int nt = cJSON_IsArray(tags) ? cJSON_GetArraySize(tags) : 0;
  if ((im->opts->name && *im->opts->name) || nt == 0) {
    if (choose_name(im, NULL, e.manifest.digest, e.name, sizeof e.name, err) < 0)
      return -1;
    return add_entry(im, &e, err);
  }
  for (int i = 0; i < nt; i++) {
    const cJSON *t = cJSON_GetArrayItem(tags, i);
    if (!cJSON_IsString(t) || choose_name(im, t->valuestring, e.manifest.digest, e.name,
                                          sizeof e.name, err) < 0)
      return cab_error_set(err, 0, "manifest.json: bad RepoTags entry");
    if (add_entry(im, &e, err) < 0)
      return -1;
  }
  return 0;
}

static int
import_docker(struct importer *im, cab_error *err)
{
  cleanup_free char *buf = NULL;
  size_t len;
  if (cab_src_read(&im->src, "manifest.json", CAB_MANIFEST_MAX, &buf, &len, err) < 0)
    return -1;
  const char *end = NULL;
  cJSON *root = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
  if (!cJSON_IsArray(root) || cJSON_GetArraySize(root) == 0) {
    cJSON_Delete(root);
    return cab_error_set(err, 0, "manifest.json is not a non-empty JSON array");
  }
  int r = 0;
  if (cJSON_GetArraySize(root) > 1 && im->opts->name && *im->opts->name)
    r = cab_error_set(err, 0, "the archive holds %d images; --name needs exactly one",
                      cJSON_GetArraySize(root));
  const cJSON *item;
  cJSON_ArrayForEach(item, root)
  {
    if (r == 0)
      r = import_docker_image(im, item, err);
  }
  cJSON_Delete(root);
  return r;
}

static void
base_name(const char *path, char *out, size_t size)
{
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s", path);
  size_t len = strlen(tmp);
  while (len > 1 && tmp[len - 1] == '/')
    tmp[--len] = '\0';
  const char *b = strrchr(tmp, '/');
  b = b ? b + 1 : tmp;
  size_t n = 0;
  for (; *b && n + 1 < size; b++) {
    if (strcmp(b, ".tar") == 0 || strcmp(b, ".tar.gz") == 0 || strcmp(b, ".tgz") == 0 ||
        strcmp(b, ".oci") == 0)
      break;
    char c = (char)tolower((unsigned char)*b);
    bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (alnum || (n > 0 && out[n - 1] != '-'))
      out[n++] = alnum ? c : '-';
  }
  while (n > 0 && out[n - 1] == '-')
    n--;
  out[n] = '\0';
  if (out[0] == '\0')
    snprintf(out, size, "image");
}

int
cab_import(cab_store *s, const char *path, const cab_import_opts *o, cab_imported **out,
           size_t *n, cab_error *err)
{
  *out = NULL;
  *n = 0;
  struct importer im = {.store = s, .opts = o, .src = {.dirfd = -1}};
  base_name(path, im.base, sizeof im.base);
  struct stat sb;
  int r = cab_platform_parse(o->platform, &im.want, err);
  if (r == 0 && stat(path, &sb) < 0)
    r = cab_error_sys(err, "%s", path);
  if (r == 0)
    r = cab_stage_new(s, &im.stage, err);
  if (r == 0)
    r = S_ISDIR(sb.st_mode) ? cab_src_from_dir(&im.src, path, im.stage, err)
                            : cab_src_from_tar(&im.src, path, im.stage, err);
  if (r == 0) {
    if (cab_src_exists(&im.src, "index.json"))
      r = import_oci(&im, err);
    else if (cab_src_exists(&im.src, "manifest.json"))
      r = import_docker(&im, err);
    else
      r = cab_error_set(err, 0, "neither an OCI image layout (index.json) nor a docker save "
                                "archive (manifest.json)");
  }
  if (r == 0) {
    const char **list = calloc(im.n_commit + 1, sizeof *list);
    if (list == NULL)
      r = cab_error_sys(err, "allocate");
    for (size_t i = 0; list && i < im.n_commit; i++)
      list[i] = im.commit[i];
    if (r == 0)
      r = cab_stage_commit(im.stage, list, im.n_commit, err);
    free(list);
  }
  cab_imported *res = NULL;
  if (r == 0 && (res = calloc(im.n_entries + 1, sizeof *res)) == NULL)
    r = cab_error_sys(err, "allocate");
  for (size_t i = 0; r == 0 && i < im.n_entries; i++) {
    r = cab_store_tag(s, &im.entries[i], err);
    snprintf(res[i].name, sizeof res[i].name, "%s", im.entries[i].name);
    snprintf(res[i].digest, sizeof res[i].digest, "%s", im.entries[i].manifest.digest);
  }
  if (r == 0) {
    *out = res;
    *n = im.n_entries;
  } else {
    free(res);
  }
  cab_src_free(&im.src);
  cab_stage_free(im.stage);
  free(im.commit);
  free(im.entries);
  if (r < 0)
    return cab_error_prefix(err, "import %s", path);
  return 0;
}
