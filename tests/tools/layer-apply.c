/* layer-apply: a hidden test and bench tool around cab_layer_apply().
 *
 *   layer-apply [OPTIONS] ROOT --layout DIR[:TAG]
 *   layer-apply [OPTIONS] ROOT [--diff-id sha256:HEX] [--compression tar|gzip|zstd] LAYER...
 *
 * ROOT is created (mode 0755) when missing.  --layout applies the image's
 * layers in order, each checked against the config's diff_ids.  Plain
 * LAYER files are sniffed (gzip, zstd or tar) unless --compression says;
 * --diff-id applies to the next LAYER only.
 *
 * Options: --max-bytes SIZE, --max-entries N, --max-path N, --rootless,
 * --stats (print the summed stats as one JSON object on stdout).
 * Errors: "layer-apply: MESSAGE" on stderr, exit 1. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fsutil.h"
#include "common/sha256.h"
#include "rootfs/unpack.h"

static int
fail(const cab_error *err)
{
  char buf[4096];
  fprintf(stderr, "layer-apply: %s\n", cab_error_line(err, buf, sizeof buf));
  return 1;
}

static int
sniff(int fd, enum cab_layer_compression *c, cab_error *err)
{
  unsigned char m[4] = { 0 };
  ssize_t n = pread(fd, m, sizeof m, 0);
  if (n < 0)
    return cab_error_sys(err, "reading the layer");
  if (n >= 2 && m[0] == 0x1f && m[1] == 0x8b)
    *c = CAB_LAYER_GZIP;
  else if (n >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)
    *c = CAB_LAYER_ZSTD;
  else
    *c = CAB_LAYER_TAR;
  return 0;
}

static int
apply_file(int root, const char *path, int forced, const char *diff_id,
           const struct cab_unpack_limits *lim, struct cab_unpack_stats *st, cab_error *err)
{
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return cab_error_sys(err, "opening %s", path);
  enum cab_layer_compression c = CAB_LAYER_TAR;
  if (forced >= 0)
    c = (enum cab_layer_compression)forced;
  else if (sniff(fd, &c, err) < 0)
    return -1;
  if (cab_layer_apply(root, fd, c, diff_id, lim, st, err) < 0)
    return cab_error_prefix(err, "%s", path);
  return 0;
}

static cJSON *
read_json(int dirfd, const char *path, cab_error *err)
{
  cleanup_free char *data = NULL;
  size_t len;
  if (cab_read_file_at(dirfd, path, 16 << 20, &data, &len, err) < 0)
    return NULL;
  cJSON *j = cJSON_ParseWithLength(data, len);
  if (j == NULL)
    cab_error_set(err, EINVAL, "%s: not JSON", path);
  return j;
}

static const char *
jstr(const cJSON *o, const char *key)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int
blob_path(const char *digest, char *out, size_t size, cab_error *err)
{
  if (cab_digest_check(digest, "layout", err) < 0)
    return -1;
  snprintf(out, size, "blobs/sha256/%s", digest + 7);
  return 0;
}

static int
apply_layout(int root, const char *spec, const struct cab_unpack_limits *lim,
             struct cab_unpack_stats *st, cab_error *err)
{
  cleanup_free char *dir = strdup(spec);
  const char *tag = "latest";
  char *colon = strrchr(dir, ':');
  if (colon && !strchr(colon, '/')) {
    *colon = '\0';
    tag = colon + 1;
  }
  cleanup_close int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return cab_error_sys(err, "opening the layout %s", dir);
  cJSON *index = read_json(dfd, "index.json", err);
  if (index == NULL)
    return -1;
  const char *mdigest = NULL;
  const cJSON *m;
  cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(index, "manifests"))
  {
    const char *name = jstr(cJSON_GetObjectItemCaseSensitive(m, "annotations"),
                            "org.opencontainers.image.ref.name");
    if (name && strcmp(name, tag) == 0)
      mdigest = jstr(m, "digest");
  }
  char path[128];
  int r = -1;
  cJSON *manifest = NULL, *config = NULL;
  if (mdigest == NULL)
    cab_error_set(err, ENOENT, "%s: no manifest tagged '%s'", dir, tag);
  else if (blob_path(mdigest, path, sizeof path, err) == 0
           && (manifest = read_json(dfd, path, err)) != NULL
           && blob_path(jstr(cJSON_GetObjectItemCaseSensitive(manifest, "config"), "digest"),
                        path, sizeof path, err) == 0
           && (config = read_json(dfd, path, err)) != NULL) {
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(manifest, "layers");
    const cJSON *diff_ids = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(config, "rootfs"), "diff_ids");
    int n = cJSON_GetArraySize(layers);
    if (n != cJSON_GetArraySize(diff_ids)) {
      cab_error_set(err, EINVAL, "%s: %d layers but %d diff_ids", dir, n,
                    cJSON_GetArraySize(diff_ids));
    } else {
      r = 0;
      for (int i = 0; i < n && r == 0; i++) {
        const cJSON *l = cJSON_GetArrayItem(layers, i);
        const cJSON *d = cJSON_GetArrayItem(diff_ids, i);
        enum cab_layer_compression c;
        char full[4200];
        r = cab_layer_compression_from_media_type(jstr(l, "mediaType"), &c, err);
        if (r == 0)
          r = blob_path(jstr(l, "digest"), path, sizeof path, err);
        if (r == 0) {
          snprintf(full, sizeof full, "%s/%s", dir, path);
          r = apply_file(root, full, (int)c, cJSON_IsString(d) ? d->valuestring : NULL, lim, st,
                         err);
        }
      }
    }
  }
  cJSON_Delete(config);
  cJSON_Delete(manifest);
  cJSON_Delete(index);
  return r;
}

static void
print_stats(const struct cab_unpack_stats *s)
{
  printf("{\"entries\":%" PRId64 ",\"bytes\":%" PRId64 ",\"stream_bytes\":%" PRId64
         ",\"whiteouts\":%" PRId64 ",\"hardlinks\":%" PRId64 ",\"devices_placeholdered\":%" PRId64
         ",\"chown_failures\":%" PRId64 ",\"owners_recorded\":%" PRId64
         ",\"xattrs_dropped\":%" PRId64 ",\"setid_stripped\":%" PRId64
         ",\"names_neutralised\":%" PRId64 "}\n",
         s->entries, s->bytes, s->stream_bytes, s->whiteouts, s->hardlinks,
         s->devices_placeholdered, s->chown_failures, s->owners_recorded, s->xattrs_dropped,
         s->setid_stripped, s->names_neutralised);
}

int
main(int argc, char **argv)
{
  cab_error err = { 0 };
  struct cab_unpack_limits lim;
  struct cab_unpack_stats st = { 0 };
  cab_unpack_limits_default(&lim);
  bool stats = false;
  int i = 1;
  for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
    const char *a = argv[i];
    int64_t v;
    if (strcmp(a, "--rootless") == 0)
      lim.rootless = true;
    else if (strcmp(a, "--stats") == 0)
      stats = true;
    else if (i + 1 < argc && strcmp(a, "--max-bytes") == 0 && cab_parse_size(argv[i + 1], &v) == 0)
      lim.max_total_bytes = v, i++;
    else if (i + 1 < argc && strcmp(a, "--max-entries") == 0)
      lim.max_entries = atoll(argv[++i]);
    else if (i + 1 < argc && strcmp(a, "--max-path") == 0)
      lim.max_path_len = atoi(argv[++i]);
    else
      break;
  }
  if (i >= argc) {
    fprintf(stderr, "usage: layer-apply [--max-bytes N] [--max-entries N] [--max-path N] "
                    "[--rootless] [--stats] ROOT (--layout DIR[:TAG] | [--diff-id D] "
                    "[--compression C] LAYER...)\n");
    return 2;
  }
  const char *rootpath = argv[i++];
  if (mkdir(rootpath, 0755) < 0 && errno != EEXIST) {
    cab_error_sys(&err, "mkdir %s", rootpath);
    return fail(&err);
  }
  cleanup_close int root = open(rootpath, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) {
    cab_error_sys(&err, "opening %s", rootpath);
    return fail(&err);
  }
  const char *diff_id = NULL;
  int forced = -1;
  for (; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--layout") == 0 && i + 1 < argc) {
      if (apply_layout(root, argv[++i], &lim, &st, &err) < 0)
        return fail(&err);
    } else if (strcmp(a, "--diff-id") == 0 && i + 1 < argc) {
      diff_id = argv[++i];
    } else if (strcmp(a, "--compression") == 0 && i + 1 < argc) {
      const char *c = argv[++i];
      forced = strcmp(c, "gzip") == 0 ? CAB_LAYER_GZIP
               : strcmp(c, "zstd") == 0 ? CAB_LAYER_ZSTD
               : strcmp(c, "tar") == 0  ? CAB_LAYER_TAR
                                        : -1;
    } else {
      if (apply_file(root, a, forced, diff_id, &lim, &st, &err) < 0)
        return fail(&err);
      diff_id = NULL;
    }
  }
  if (stats)
    print_stats(&st);
  return 0;
}
