/* cab export -o FILE.tar: one image of the store as an oci-archive, the tar
 * of an OCI image layout (what `cab import FILE.tar` and skopeo's
 * oci-archive: read).  Blobs are streamed from the store into the tar, which
 * is an unnamed file until it is complete (common/atomic_file.h): an export
 * killed half-way leaves no FILE.tar, and an older FILE.tar stays whole.
 * The tar is reproducible: fixed order, times, owners and modes. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/atomic_file.h"
#include "common/cleanup.h"
#include "common/lazy_archive.h"
#include "common/strfmt.h"
#include "rootfs/archive_io.h"
#include "rootfs/archive_io_export.h"
#include "rootfs/store_write.h"

static int
tar_fail(struct archive *a, const char *file, cab_error *err)
{
  int e = archive_errno(a);
  return cab_error_set(err, e > 0 ? e : EIO, "write %s: %s", file,
                       archive_error_string(a) ? archive_error_string(a) : "tar error");
}

/* One header: NAME, regular (SIZE bytes) or a directory (SIZE < 0). */
static int
put_header(struct archive *a, const char *file, const char *name, int64_t size, cab_error *err)
{
  struct archive_entry *e = archive_entry_new();
  if (e == NULL)
    return cab_error_set(err, ENOMEM, "allocate");
  archive_entry_set_pathname(e, name);
  archive_entry_set_filetype(e, size < 0 ? AE_IFDIR : AE_IFREG);
  archive_entry_set_perm(e, size < 0 ? 0755 : 0644);
  archive_entry_set_size(e, size < 0 ? 0 : size);
  archive_entry_set_uid(e, 0);
  archive_entry_set_gid(e, 0);
  archive_entry_set_mtime(e, 0, 0);
  int r = archive_write_header(a, e);
  archive_entry_free(e);
  return r == ARCHIVE_OK ? 0 : tar_fail(a, file, err);
}

static int
put_text(struct archive *a, const char *file, const char *name, const char *text, cab_error *err)
{
  size_t len = strlen(text);
  if (put_header(a, file, name, (int64_t)len, err) < 0)
    return -1;
  if (archive_write_data(a, text, len) != (la_ssize_t)len)
    return tar_fail(a, file, err);
  return 0;
}

static int
put_blob(struct archive *a, const cab_store *s, const char *file, const char *digest,
         cab_error *err)
{
  char src[PATH_MAX], name[128];
  if (cab_store_blob_path(s, digest, src, sizeof src, err) < 0 ||
      cab_path_printf(name, sizeof name, err, "blobs/sha256/%s", digest + 7) < 0)
    return -1;
  cleanup_close int fd = open(src, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0)
    return cab_error_sys(err, "blob %s is missing from the store", digest);
  if (put_header(a, file, name, st.st_size, err) < 0)
    return -1;
  static const size_t chunk = 1 << 20;
  cleanup_free char *buf = malloc(chunk);
  if (buf == NULL)
    return cab_error_set(err, ENOMEM, "allocate");
  off_t left = st.st_size;
  while (left > 0) {
    ssize_t n = read(fd, buf, (size_t)left < chunk ? (size_t)left : chunk);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return cab_error_sys(err, "read blob %s", digest);
    if (n == 0)
      return cab_error_set(err, EIO, "blob %s shrank while it was exported", digest);
    if (archive_write_data(a, buf, (size_t)n) != n)
      return tar_fail(a, file, err);
    left -= n;
  }
  return 0;
}

static int
write_tar(const cab_store *s, const cab_image *img, struct cab_atomic_file *out, cab_error *err)
{
  struct cab_strv blobs = {0};
  cJSON *index = cab_export_new_index(err);
  int r = index ? cab_export_collect(s, img, index, &blobs, err) : -1;
  cleanup_free char *text = r == 0 ? cJSON_PrintUnformatted(index) : NULL;
  cJSON_Delete(index);
  if (r == 0 && text == NULL)
    r = cab_error_set(err, ENOMEM, "serialise index.json");
  if (r == 0 && cab_archive_load(err) < 0)
    r = -1;
  struct archive *a = r == 0 ? archive_write_new() : NULL;
  if (r == 0 && a == NULL)
    r = cab_error_set(err, ENOMEM, "archive_write_new failed");
  if (r == 0 && (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
                 archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
                 archive_write_open_fd(a, out->fd) != ARCHIVE_OK))
    r = tar_fail(a, out->path, err);
  if (r == 0 && (put_text(a, out->path, "oci-layout", CAB_OCI_LAYOUT_FILE, err) < 0 ||
                 put_text(a, out->path, "index.json", text, err) < 0 ||
                 put_header(a, out->path, "blobs", -1, err) < 0 ||
                 put_header(a, out->path, "blobs/sha256", -1, err) < 0))
    r = -1;
  for (size_t i = 0; r == 0 && i < blobs.n; i++) {
    bool seen = false;
    for (size_t k = 0; k < i && !seen; k++)
      seen = strcmp(blobs.v[k], blobs.v[i]) == 0;
    if (!seen)
      r = put_blob(a, s, out->path, blobs.v[i], err);
  }
  if (r == 0 && archive_write_close(a) != ARCHIVE_OK)
    r = tar_fail(a, out->path, err);
  if (a)
    archive_write_free(a);
  cab_strv_free(&blobs);
  return r;
}

int
cab_export_archive(cab_store *s, const char *ref, const char *file, cab_error *err)
{
  cab_image *img = NULL;
  struct cab_atomic_file out = {.fd = -1};
  int r = cab_store_use(s, err);
  if (r == 0)
    r = cab_image_resolve(s, ref, &img, err);
  if (r == 0)
    r = cab_atomic_open(file, 0644, &out, err);
  if (r == 0)
    r = write_tar(s, img, &out, err);
  if (r == 0)
    r = cab_atomic_commit(&out, err);
  cab_atomic_abort(&out);
  cab_image_free(img);
  if (r < 0)
    return cab_error_prefix(err, "export %s to %s", ref, file);
  return 0;
}
