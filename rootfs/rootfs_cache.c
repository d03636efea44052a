#include "rootfs/rootfs_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/strfmt.h"
#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/rm_tree.h"
#include "rootfs/store_write.h"

int
cab_rootfs_unpack_into(cab_store *s, const cab_image *img, int dir_fd, bool strip_setid,
                       struct cab_unpack_stats *stats, cab_error *err)
{
  struct cab_unpack_limits lim;
  cab_unpack_limits_default(&lim);
  lim.strip_setid = strip_setid;
  for (size_t i = 0; i < img->n_layers; i++) {
    const cab_layer *l = &img->layers[i];
    char blob[PATH_MAX];
    enum cab_layer_compression c;
    if (cab_store_blob_path(s, l->digest, blob, sizeof blob, err) < 0 ||
        cab_layer_compression_from_media_type(l->media_type, &c, err) < 0)
      return cab_error_prefix(err, "image %s: layer %zu", img->digest, i);
    cleanup_close int fd = open(blob, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      return cab_error_sys(err, "image %s: layer %zu: open blob %s (run 'cab pull' again)",
                           img->digest, i, l->digest);
    if (cab_layer_apply(dir_fd, fd, c, l->diff_id[0] ? l->diff_id : NULL, &lim, stats, err) < 0)
      return cab_error_prefix(err, "image %s: layer %zu (%s)", img->digest, i, l->digest);
  }
  return 0;
}

/* A tree appears at its final name only by rename, once complete. */
static bool
is_complete(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int
cab_rootfs_ensure(cab_store *s, const cab_image *img, char *path, size_t size, bool *cached,
                  struct cab_unpack_stats *stats, cab_error *err)
{
  *cached = false;
  if (cab_store_rootfs_path(s, img->digest, path, size, err) < 0)
    return -1;
  /* Every run that may unpack clears what killed unpacks left (up to a
   * whole image each), not only the next unpack of the same image. */
  cab_error ignored_reap = {0};
  cab_store_reap_unpacks(s, &ignored_reap);
  if (is_complete(path)) {
    *cached = true;
    return 0;
  }
  char lockpath[PATH_MAX + 16];
  if (cab_path_printf(lockpath, sizeof lockpath, err, "%s.unpack.lock", path) < 0)
    return -1;
  cleanup_close int lock = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock < 0 || flock(lock, LOCK_EX) < 0)
    return cab_error_sys(err, "lock %s", lockpath);
  if (is_complete(path)) { /* another cab unpacked it while we waited */
    *cached = true;
    return 0;
  }
  /* Leftovers of an interrupted unpack. */
  char *slash = strrchr(path, '/');
  if (slash == NULL)
    return cab_error_set(err, EINVAL, "bad rootfs path %s", path);
  *slash = '\0';
  cleanup_close int parent = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  *slash = '/';
  if (parent < 0)
    return cab_error_sys(err, "open the rootfs cache");
  const char *name = slash + 1;
  char tmpname[NAME_MAX + 1];
  if (cab_path_printf(tmpname, sizeof tmpname, err, ".tmp-%s-%d", name, getpid()) < 0)
    return -1;
  cab_error ignored = {0};
  cab_rm_tree_at(parent, tmpname, CAB_RM_PLAIN_NAME, &ignored);
  if (mkdirat(parent, tmpname, 0755) < 0)
    return cab_error_sys(err, "create %s/../%s", path, tmpname);
  cleanup_close int dir = openat(parent, tmpname, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0)
    return cab_error_sys(err, "open %s", tmpname);
  /* The cache keeps the image's setuid bits (its directories are 0700, and
   * the sandbox mounts the tree nosuid). */
  if (cab_rootfs_unpack_into(s, img, dir, false, stats, err) < 0) {
    cab_rm_tree_at(parent, tmpname, CAB_RM_PLAIN_NAME, &ignored);
    return -1;
  }
  if (renameat(parent, tmpname, parent, name) < 0) {
    int saved = errno;
    cab_rm_tree_at(parent, tmpname, CAB_RM_PLAIN_NAME, &ignored);
    return cab_error_set(err, saved, "move the unpacked rootfs into %s", path);
  }
  return 0;
}
