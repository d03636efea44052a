/* cab export: one image of the store as an OCI image layout directory. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/strfmt.h"
#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/strv.h"
#include "rootfs/archive_io.h"
#include "rootfs/archive_io_export.h"
#include "rootfs/manifest_json.h"
#include "rootfs/store_write.h"

static int
copy_blob(const cab_store *s, const char *dir, const char *digest, cab_error *err)
{
  char src[PATH_MAX], dst[PATH_MAX], tmp[PATH_MAX];
  if (cab_store_blob_path(s, digest, src, sizeof src, err) < 0)
    return -1;
  if (cab_path_printf(dst, sizeof dst, err, "%s/blobs/sha256/%s", dir, digest + 7) < 0)
    return -1;
  struct stat a, b;
  if (stat(src, &a) < 0)
    return cab_error_sys(err, "blob %s is missing from the store", digest);
  if (stat(dst, &b) == 0 && S_ISREG(b.st_mode) && b.st_size == a.st_size)
    return 0;
  if (cab_path_printf(tmp, sizeof tmp, err, "%s.tmp.XXXXXX", dst) < 0)
    return -1;
  cleanup_close int in = open(src, O_RDONLY | O_CLOEXEC);
  cleanup_close int out = mkostemp(tmp, O_CLOEXEC);
  if (in < 0 || out < 0)
    return cab_error_sys(err, "copy blob %s", digest);
  off_t left = a.st_size;
  while (left > 0) {
    ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)left, 0);
    if (n <= 0) {
      /* Fall back to read/write (cross-filesystem on old kernels, ...). */
      char buf[1 << 16];
      n = read(in, buf, sizeof buf);
      if (n > 0 && write(out, buf, (size_t)n) != n)
        n = -1;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      int saved = n < 0 ? errno : EIO;
      unlink(tmp);
      return cab_error_set(err, saved, "copy blob %s to %s", digest, dir);
    }
    left -= n;
  }
  if (fchmod(out, 0644) < 0 || fsync(out) < 0 || rename(tmp, dst) < 0) {
    int saved = errno;
    unlink(tmp);
    return cab_error_set(err, saved, "write %s", dst);
  }
  return 0;
}

/* DIR's index.json, or a new empty index.  DIR must be absent, empty or a layout. */
static int
prepare_dir(const char *dir, cJSON **index, cab_error *err)
{
  char path[PATH_MAX];
  if (cab_path_printf(path, sizeof path, err, "%s/index.json", dir) < 0)
    return -1;
  cleanup_free char *buf = NULL;
  size_t len;
  cab_error e2 = {0};
  if (cab_read_file_at(AT_FDCWD, path, 4 << 20, &buf, &len, &e2) == 0) {
    *index = cab_json_parse_strict(buf, len, path, err);
    if (*index == NULL)
      return -1;
    if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(*index, "manifests")))
      return cab_error_set(err, 0, "%s has no manifests array", path);
    return 0;
  }
  cleanup_dir DIR *d = opendir(dir);
  if (d) {
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
      if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
        return cab_error_set(err, 0,
                             "%s is not empty and not an OCI layout; give a new directory", dir);
  }
  *index = cab_export_new_index(err);
  return *index ? 0 : -1;
}

/* Add D (named NAME, with annotations) to INDEX, replacing an entry of the
 * same name and kind. */
static int
add_entry(cJSON *index, const cab_descriptor *d, const char *name, const char *index_digest,
          const char *twin_of, cab_error *err)
{
  cJSON *item = cab_json_from_descriptor(d);
  cJSON *ann = item ? cJSON_AddObjectToObject(item, "annotations") : NULL;
  if (ann == NULL) {
    cJSON_Delete(item);
    return cab_error_set(err, ENOMEM, "allocate");
  }
  if (index_digest[0])
    cJSON_AddStringToObject(ann, CAB_ANNOT_INDEX_DIGEST, index_digest);
  if (twin_of[0])
    cJSON_AddStringToObject(ann, CAB_ANNOT_TWIN_OF, twin_of);
  if (name[0])
    cJSON_AddStringToObject(ann, CAB_ANNOT_REF_NAME, name);
  cJSON *arr = cJSON_GetObjectItemCaseSensitive(index, "manifests");
  for (int i = cJSON_GetArraySize(arr) - 1; i >= 0; i--) {
    const cJSON *it = cJSON_GetArrayItem(arr, i);
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(it, "annotations");
    const char *n = cab_json_str(a, CAB_ANNOT_REF_NAME);
    const char *dg = cab_json_str(it, "digest");
    bool it_twin = cab_json_str(a, CAB_ANNOT_TWIN_OF) != NULL;
    if (it_twin != (twin_of[0] != '\0'))
      continue;
    if ((name[0] && n && strcmp(n, name) == 0) || (!name[0] && !n && dg && strcmp(dg, d->digest) == 0))
      cJSON_DeleteItemFromArray(arr, i);
  }
  cJSON_AddItemToArray(arr, item);
  return 0;
}

int
cab_export_collect(const cab_store *s, const cab_image *img, cJSON *index, struct cab_strv *blobs,
                   cab_error *err)
{
  for (size_t i = 0; i < img->n_layers; i++)
    if (cab_strv_push(blobs, img->layers[i].digest) < 0)
      return cab_error_sys(err, "memory");
  if (cab_strv_push(blobs, img->config_digest) < 0 || cab_strv_push(blobs, img->digest) < 0)
    return cab_error_sys(err, "memory");
  if (img->index_digest[0] && cab_store_has_blob(s, img->index_digest, -1) &&
      cab_strv_push(blobs, img->index_digest) < 0)
    return cab_error_sys(err, "memory");

  struct stat st;
  char mpath[PATH_MAX];
  cab_store_blob_path(s, img->digest, mpath, sizeof mpath, NULL);
  if (stat(mpath, &st) < 0)
    return cab_error_sys(err, "stat %s", mpath);
  cab_descriptor d = {.size = st.st_size, .has_platform = img->config->platform.os[0] != '\0'};
  snprintf(d.media_type, sizeof d.media_type, "%s", img->manifest_media_type);
  snprintf(d.digest, sizeof d.digest, "%s", img->digest);
  d.platform = img->config->platform;
  if (add_entry(index, &d, img->name, img->index_digest, "", err) < 0)
    return -1;
  /* A Docker schema2 image travels with its OCI twin, for OCI-only readers. */
  cab_store_entry *v = NULL;
  size_t n = 0;
  if (strcmp(img->manifest_media_type, CAB_MT_DOCKER_MANIFEST) == 0 &&
      cab_store_list_all(s, &v, &n, err) < 0)
    return -1;
  int r = 0;
  for (size_t i = 0; r == 0 && i < n; i++)
    if (strcmp(v[i].twin_of, img->digest) == 0 && strcmp(v[i].name, img->name) == 0) {
      r = cab_strv_push(blobs, v[i].manifest.digest) < 0 ? cab_error_sys(err, "memory") : 0;
      if (r == 0)
        r = add_entry(index, &v[i].manifest, img->name, "", img->digest, err);
      break;
    }
  free(v);
  return r;
}

cJSON *
cab_export_new_index(cab_error *err)
{
  cJSON *index = cJSON_CreateObject();
  if (index == NULL || !cJSON_AddNumberToObject(index, "schemaVersion", 2) ||
      !cJSON_AddStringToObject(index, "mediaType", CAB_MT_OCI_INDEX) ||
      !cJSON_AddArrayToObject(index, "manifests")) {
    cJSON_Delete(index);
    cab_error_set(err, ENOMEM, "allocate");
    return NULL;
  }
  return index;
}

static int
write_layout(const cab_store *s, const cab_image *img, const char *dir, cJSON *index,
             cab_error *err)
{
  struct cab_strv blobs = {0};
  int r = cab_export_collect(s, img, index, &blobs, err);
  char path[PATH_MAX];
  if (r == 0 && (cab_path_printf(path, sizeof path, err, "%s/blobs/sha256", dir) < 0 ||
                 cab_mkdir_p(path, 0755, err) < 0))
    r = -1;
  for (size_t i = 0; r == 0 && i < blobs.n; i++)
    r = copy_blob(s, dir, blobs.v[i], err);
  cab_strv_free(&blobs);
  if (r < 0)
    return -1;

  if (cab_path_printf(path, sizeof path, err, "%s/oci-layout", dir) < 0 ||
      cab_write_file_atomic(path, CAB_OCI_LAYOUT_FILE, strlen(CAB_OCI_LAYOUT_FILE), 0644, err) < 0)
    return -1;
  cleanup_free char *text = cJSON_PrintUnformatted(index);
  if (text == NULL)
    return cab_error_set(err, ENOMEM, "serialise index.json");
  if (cab_path_printf(path, sizeof path, err, "%s/index.json", dir) < 0)
    return -1;
  return cab_write_file_atomic(path, text, strlen(text), 0644, err);
}

int
cab_export(cab_store *s, const char *ref, const char *dir, cab_error *err)
{
  cab_image *img = NULL;
  cJSON *index = NULL;
  int r = cab_store_use(s, err);
  if (r == 0)
    r = cab_image_resolve(s, ref, &img, err);
  if (r == 0)
    r = prepare_dir(dir, &index, err);
  if (r == 0)
    r = write_layout(s, img, dir, index, err);
  cJSON_Delete(index);
  cab_image_free(img);
  if (r < 0)
    return cab_error_prefix(err, "export %s to %s", ref, dir);
  return 0;
}
