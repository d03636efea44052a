#include "rootfs/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/strfmt.h"
#include "common/cleanup.h"
#include "rootfs/manifest_json.h"
#include "common/fsutil.h"
#include "common/sha256.h"
#include "rootfs/store_internal.h"

static const char oci_layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
static const char empty_index[] = "{\"schemaVersion\":2,\"mediaType\":\"" CAB_MT_OCI_INDEX
                                  "\",\"manifests\":[]}";

int
cab_create_file_once(const char *path, const void *data, size_t len, cab_error *err)
{
  if (access(path, F_OK) == 0)
    return 0;
  char tmp[PATH_MAX];
  snprintf(tmp, sizeof tmp, "%s.new.%d", path, (int)getpid());
  unlink(tmp);
  if (cab_write_file_atomic(tmp, data, len, 0644, err) < 0)
    return -1;
  int r = link(tmp, path);
  int saved = errno;
  unlink(tmp);
  if (r < 0 && saved != EEXIST)
    return cab_error_set(err, saved, "create %s", path);
  return 0;
}

int
cab_store_open(const char *home, cab_store **out, cab_error *err)
{
  *out = NULL;
  cab_store *s = calloc(1, sizeof *s);
  if (s == NULL)
    return cab_error_sys(err, "allocate the store");
  s->use_fd = -1;
  if ((home && *home) ? cab_path_printf(s->home, sizeof s->home, err, "%s", home) < 0
                       : cab_store_default_home(s->home, sizeof s->home, err) < 0) {
    free(s);
    return -1;
  }
  /* HOME is 64 bytes short of PATH_MAX: every path below fits. */
  snprintf(s->oci, sizeof s->oci, "%s/oci", s->home);
  snprintf(s->blobs, sizeof s->blobs, "%s/oci/blobs/sha256", s->home);
  snprintf(s->tmp, sizeof s->tmp, "%s/tmp", s->home);
  snprintf(s->locks, sizeof s->locks, "%s/locks", s->home);
  char rootfs[PATH_MAX], layout[PATH_MAX], index[PATH_MAX];
  snprintf(rootfs, sizeof rootfs, "%s/rootfs", s->home);
  snprintf(layout, sizeof layout, "%s/oci/oci-layout", s->home);
  snprintf(index, sizeof index, "%s/oci/index.json", s->home);
  /* Every directory of the store is 0700, and an older, looser store is
   * tightened here: as root, the unpacked trees keep their owners and
   * setuid bits, and a local user must not reach them (nor the blobs). */
  char blobs_parent[PATH_MAX];
  snprintf(blobs_parent, sizeof blobs_parent, "%s/oci/blobs", s->home);
  if (cab_mkdir_private(s->home, err) < 0 || cab_mkdir_private(s->oci, err) < 0 ||
      cab_mkdir_private(blobs_parent, err) < 0 || cab_mkdir_private(s->blobs, err) < 0 ||
      cab_mkdir_private(s->tmp, err) < 0 || cab_mkdir_private(s->locks, err) < 0 ||
      cab_mkdir_private(rootfs, err) < 0 ||
      cab_create_file_once(layout, oci_layout, strlen(oci_layout), err) < 0 ||
      cab_create_file_once(index, empty_index, strlen(empty_index), err) < 0) {
    free(s);
    return cab_error_prefix(err, "image store %s", home && *home ? home : "($CAB_HOME)");
  }
  *out = s;
  return 0;
}

void
cab_store_close(cab_store *s)
{
  if (s == NULL)
    return;
  cab_store_unuse(s);
  free(s);
}

const char *
cab_store_home(const cab_store *s)
{
  return s->home;
}

int
cab_store_lock_file(const cab_store *s, const char *name, int op, int wait_seconds,
                    cab_error *err)
{
  char path[PATH_MAX];
  if (cab_path_printf(path, sizeof path, err, "%s/%s", s->locks, name) < 0)
    return -1;
  cleanup_close int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0)
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return cab_error_sys(err, "open lock file %s", path);
  int64_t deadline = cab_now_ns() + (int64_t)wait_seconds * 1000000000LL;
  for (;;) {
    if (flock(fd, op | (wait_seconds < 0 ? 0 : LOCK_NB)) == 0)
      return cab_steal_fd(&fd);
    if (errno == EINTR)
      continue;
    if (errno != EWOULDBLOCK)
      return cab_error_sys(err, "lock %s", path);
    if (cab_now_ns() >= deadline)
      return cab_error_set(err, EWOULDBLOCK, "%s is held by another cab process", path);
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
}

int
cab_store_use(cab_store *s, cab_error *err)
{
  if (s->use_fd >= 0)
    return 0;
  int fd = cab_store_lock_file(s, "use.lock", LOCK_SH, -1, err);
  if (fd < 0)
    return -1;
  s->use_fd = fd;
  return 0;
}

void
cab_store_unuse(cab_store *s)
{
  if (s->use_fd >= 0)
    close(s->use_fd);
  s->use_fd = -1;
}

int
cab_store_blob_path(const cab_store *s, const char *digest, char *buf, size_t size,
                    cab_error *err)
{
  if (cab_digest_require(digest, "blob", err) < 0)
    return -1;
  if ((size_t)snprintf(buf, size, "%s/%s", s->blobs, digest + 7) >= size)
    return cab_error_set(err, ENAMETOOLONG, "blob path too long under %s", s->blobs);
  return 0;
}

int
cab_store_rootfs_path(const cab_store *s, const char *manifest_digest, char *buf, size_t size,
                      cab_error *err)
{
  if (cab_digest_require(manifest_digest, "manifest", err) < 0)
    return -1;
  if ((size_t)snprintf(buf, size, "%s/rootfs/%s", s->home, manifest_digest + 7) >= size)
    return cab_error_set(err, ENAMETOOLONG, "rootfs path too long under %s", s->home);
  return 0;
}

int
cab_store_rootfs_lock(const cab_store *s, const char *manifest_digest, cab_error *err)
{
  char path[PATH_MAX];
  if (cab_store_rootfs_path(s, manifest_digest, path, sizeof path - 8, err) < 0)
    return -1;
  strcat(path, ".lock");
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0)
    return cab_error_sys(err, "open %s", path);
  while (flock(fd, LOCK_SH) < 0) {
    if (errno != EINTR) {
      int saved = errno;
      close(fd);
      return cab_error_set(err, saved, "lock %s", path);
    }
  }
  return fd;
}

bool
cab_store_has_blob(const cab_store *s, const char *digest, int64_t size)
{
  char path[PATH_MAX];
  struct stat st;
  if (cab_store_blob_path(s, digest, path, sizeof path, NULL) < 0 ||
      lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
    return false;
  return size < 0 || st.st_size == size;
}

int
cab_store_read_blob(const cab_store *s, const char *digest, size_t max, char **out, size_t *len,
                    cab_error *err)
{
  char path[PATH_MAX];
  if (cab_store_blob_path(s, digest, path, sizeof path, err) < 0)
    return -1;
  cleanup_free char *buf = NULL;
  size_t n = 0;
  if (cab_read_file_at(AT_FDCWD, path, max + 1, &buf, &n, err) < 0) {
    if (err && err->errnum == ENOENT)
      return cab_error_set(err, ENOENT, "blob %s is missing from the store (%s)", digest,
                           s->blobs);
    return -1;
  }
  if (n > max)
    return cab_error_set(err, 0, "blob %s is larger than %zu bytes", digest, max);
  char got[CAB_DIGEST_LEN + 1];
  cab_sha256_buffer(buf, n, got);
  if (strcmp(got, digest) != 0)
    return cab_error_set(err, 0,
                         "blob %s in the store is corrupt (it hashes to %s); remove it and "
                         "pull again",
                         digest, got);
  *out = cab_steal_ptr(&buf);
  *len = n;
  return 0;
}
