/* Staging: blobs are downloaded or copied into a private directory under
 * $CAB_HOME/tmp, hashed while they stream, and renamed into
 * oci/blobs/sha256 only when the whole image has been verified. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "rootfs/manifest_json.h"
#include "common/rm_tree.h"
#include "common/sha256.h"
#include "rootfs/store_internal.h"

struct cab_stage {
  cab_store *store;
  char path[PATH_MAX];
  int dirfd;
};

struct cab_blob_writer {
  cab_stage *stage;
  int fd;
  char name[40];
  struct cab_sha256 *hash;
  int64_t written, size;
  char expected[CAB_DIGEST_LEN + 1];
};

int
cab_stage_new(cab_store *s, cab_stage **out, cab_error *err)
{
  *out = NULL;
  if (cab_store_use(s, err) < 0) /* gc waits while anything is staged */
    return -1;
  cab_stage *st = calloc(1, sizeof *st);
  if (st == NULL)
    return cab_error_sys(err, "allocate a staging area");
  st->store = s;
  /* fits: home is PATH_MAX - 64 */
  snprintf(st->path, sizeof st->path, "%s/tmp/stage-%d-XXXXXX", s->home, (int)getpid());
  if (mkdtemp(st->path) == NULL) {
    free(st);
    return cab_error_sys(err, "create a staging directory in %s", s->tmp);
  }
  st->dirfd = open(st->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (st->dirfd < 0) {
    cab_error_sys(err, "open %s", st->path);
    rmdir(st->path);
    free(st);
    return -1;
  }
  *out = st;
  return 0;
}

void
cab_stage_free(cab_stage *st)
{
  if (st == NULL)
    return;
  close(st->dirfd);
  cab_rm_tree_at(AT_FDCWD, st->path, 0, NULL);
  free(st);
}

int
cab_stage_dirfd(const cab_stage *st)
{
  return st->dirfd;
}

bool
cab_stage_has(const cab_stage *st, const char *digest, int64_t size)
{
  struct stat sb;
  if (!cab_digest_valid(digest) || fstatat(st->dirfd, digest + 7, &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
      !S_ISREG(sb.st_mode))
    return false;
  return size < 0 || sb.st_size == size;
}

int
cab_blob_open(cab_stage *st, const char *expected, int64_t size, cab_blob_writer **out,
              cab_error *err)
{
  *out = NULL;
  if (expected && cab_digest_require(expected, "blob", err) < 0)
    return -1;
  cab_blob_writer *w = calloc(1, sizeof *w);
  if (w == NULL)
    return cab_error_sys(err, "allocate a blob writer");
  w->stage = st;
  w->size = size;
  snprintf(w->expected, sizeof w->expected, "%s", expected ? expected : "");
  for (int tries = 0;; tries++) {
    unsigned char rnd[8] = {0};
    if (getrandom(rnd, sizeof rnd, 0) < 0)
      memcpy(rnd, &w, sizeof w < sizeof rnd ? sizeof w : sizeof rnd);
    snprintf(w->name, sizeof w->name, "part-%02x%02x%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1],
             rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
    w->fd = openat(st->dirfd, w->name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (w->fd >= 0 || errno != EEXIST || tries > 10)
      break;
  }
  if (w->fd < 0) {
    int saved = errno;
    free(w);
    return cab_error_set(err, saved, "create a blob file in %s", st->path);
  }
  w->hash = cab_sha256_new();
  if (w->hash == NULL) {
    cab_blob_abort(w);
    return cab_error_set(err, ENOMEM, "start a sha256 hash");
  }
  *out = w;
  return 0;
}

static const char *
blob_label(const cab_blob_writer *w)
{
  return w->expected[0] ? w->expected : "(unnamed)";
}

int
cab_blob_write(cab_blob_writer *w, const void *data, size_t len, cab_error *err)
{
  if (w->size >= 0 && w->written + (int64_t)len > w->size)
    return cab_error_set(err, 0, "blob %s: more data than the %lld bytes its descriptor says",
                         blob_label(w), (long long)w->size);
  const char *p = data;
  size_t left = len;
  while (left > 0) {
    ssize_t n = write(w->fd, p, left);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return cab_error_sys(err, "blob %s: write to %s", blob_label(w), w->stage->path);
    }
    p += n;
    left -= (size_t)n;
  }
  cab_sha256_update(w->hash, data, len);
  w->written += (int64_t)len;
  return 0;
}

int64_t
cab_blob_written(const cab_blob_writer *w)
{
  return w->written;
}

int
cab_blob_reset(cab_blob_writer *w, cab_error *err)
{
  if (ftruncate(w->fd, 0) < 0 || lseek(w->fd, 0, SEEK_SET) < 0)
    return cab_error_sys(err, "blob %s: truncate", blob_label(w));
  char junk[CAB_DIGEST_LEN + 1];
  cab_sha256_final(w->hash, junk);
  w->hash = cab_sha256_new();
  if (w->hash == NULL)
    return cab_error_set(err, ENOMEM, "start a sha256 hash");
  w->written = 0;
  return 0;
}

void
cab_blob_abort(cab_blob_writer *w)
{
  if (w == NULL)
    return;
  if (w->fd >= 0) {
    close(w->fd);
    unlinkat(w->stage->dirfd, w->name, 0);
  }
  if (w->hash) {
    char junk[CAB_DIGEST_LEN + 1];
    cab_sha256_final(w->hash, junk);
  }
  free(w);
}

int
cab_blob_finish(cab_blob_writer *w, char *digest_out, cab_error *err)
{
  char got[CAB_DIGEST_LEN + 1];
  cab_sha256_final(w->hash, got);
  w->hash = NULL;
  int r = 0;
  if (w->size >= 0 && w->written != w->size)
    r = cab_error_set(err, 0, "blob %s: got %lld bytes, its descriptor says %lld",
                      blob_label(w), (long long)w->written, (long long)w->size);
  else if (w->expected[0] && strcmp(got, w->expected) != 0)
    r = cab_error_set(err, 0, "blob %s: digest mismatch, the content hashes to %s",
                      w->expected, got);
  else if (fsync(w->fd) < 0)
    r = cab_error_sys(err, "blob %s: fsync", got);
  else if (renameat(w->stage->dirfd, w->name, w->stage->dirfd, got + 7) < 0)
    r = cab_error_sys(err, "blob %s: rename into %s", got, w->stage->path);
  if (r < 0) {
    cab_blob_abort(w);
    return -1;
  }
  close(w->fd);
  free(w);
  if (digest_out)
    memcpy(digest_out, got, CAB_DIGEST_LEN + 1);
  return 0;
}

int
cab_stage_put(cab_stage *st, const void *data, size_t len, const char *expected,
              char *digest_out, cab_error *err)
{
  cab_blob_writer *w;
  if (cab_blob_open(st, expected, (int64_t)len, &w, err) < 0)
    return -1;
  if (cab_blob_write(w, data, len, err) < 0) {
    cab_blob_abort(w);
    return -1;
  }
  return cab_blob_finish(w, digest_out, err);
}

int
cab_stage_put_fd(cab_stage *st, int fd, const char *expected, int64_t size, char *digest_out,
                 cab_error *err)
{
  if (expected && size >= 0 && cab_stage_has(st, expected, size)) {
    if (digest_out)
      memcpy(digest_out, expected, CAB_DIGEST_LEN + 1);
    return 0;
  }
  cab_blob_writer *w;
  if (cab_blob_open(st, expected, size, &w, err) < 0)
    return -1;
  cleanup_free char *buf = malloc(1 << 17);
  if (buf == NULL) {
    cab_blob_abort(w);
    return cab_error_sys(err, "allocate a copy buffer");
  }
  for (;;) {
    ssize_t n = read(fd, buf, 1 << 17);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int saved = errno;
      cab_blob_abort(w);
      return cab_error_set(err, saved, "read blob %s", expected ? expected : "");
    }
    if (n == 0)
      break;
    if (cab_blob_write(w, buf, (size_t)n, err) < 0) {
      cab_blob_abort(w);
      return -1;
    }
  }
  return cab_blob_finish(w, digest_out, err);
}

int
cab_stage_commit(cab_stage *st, const char *const *digests, size_t n, cab_error *err)
{
  const cab_store *s = st->store;
  for (size_t i = 0; i < n; i++) {
    const char *d = digests[i];
    if (cab_digest_require(d, "blob", err) < 0)
      return -1;
    char dst[PATH_MAX];
    if (cab_store_blob_path(s, d, dst, sizeof dst, err) < 0)
      return -1;
    struct stat sb;
    if (fstatat(st->dirfd, d + 7, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
      if (cab_store_has_blob(s, d, -1))
        continue;
      return cab_error_set(err, ENOENT, "blob %s was neither staged nor in the store", d);
    }
    struct stat have;
    if (lstat(dst, &have) == 0 && S_ISREG(have.st_mode) && have.st_size == sb.st_size)
      continue; /* another cab stored it first */
    if (renameat(st->dirfd, d + 7, AT_FDCWD, dst) < 0)
      return cab_error_sys(err, "move blob %s into %s", d, s->blobs);
  }
  cleanup_close int dfd = open(s->blobs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0)
    fsync(dfd);
  return 0;
}
