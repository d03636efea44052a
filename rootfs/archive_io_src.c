/* Files of an archive being imported: a directory, or a tar read once with
 * libarchive (reader only, nothing is extracted to a path the archive
 * chose: each regular file is staged under the digest it hashes to). */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/lazy_archive.h"
#include "rootfs/archive_io_src.h"

#define MAX_MEMBERS 200000

int
cab_path_normalise(char *path)
{
  char out[4096];
  size_t used = 0;
  char *save = NULL;
  if (strlen(path) >= sizeof out)
    return -1;
  for (char *t = strtok_r(path, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
    if (strcmp(t, ".") == 0)
      continue;
    if (strcmp(t, "..") == 0)
      return -1;
    used += (size_t)snprintf(out + used, sizeof out - used, "%s%s", used ? "/" : "", t);
  }
  if (used == 0)
    return -1;
  memcpy(path, out, used + 1);
  return 0;
}

void
cab_src_free(struct cab_src *src)
{
  if (src->dirfd >= 0)
    close(src->dirfd);
  src->dirfd = -1;
  for (size_t i = 0; i < src->n_members; i++) {
    free(src->members[i].path);
    free(src->members[i].link);
  }
  free(src->members);
  src->members = NULL;
  src->n_members = 0;
}

int
cab_src_from_dir(struct cab_src *src, const char *path, cab_stage *st, cab_error *err)
{
  memset(src, 0, sizeof *src);
  src->stage = st;
  src->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (src->dirfd < 0)
    return cab_error_sys(err, "open %s", path);
  return 0;
}

static int
add_member(struct cab_src *src, struct cab_tar_member *m, cab_error *err)
{
  /* A later entry of the same path replaces the earlier one, as tar does. */
  for (size_t i = 0; i < src->n_members; i++)
    if (strcmp(src->members[i].path, m->path) == 0) {
      free(src->members[i].path);
      free(src->members[i].link);
      src->members[i] = *m;
      return 0;
    }
  if (src->n_members >= MAX_MEMBERS)
    return cab_error_set(err, 0, "more than %d files in the archive", MAX_MEMBERS);
  if ((src->n_members & (src->n_members - 1)) == 0) {
    size_t cap = src->n_members ? src->n_members * 2 : 16;
    void *nv = realloc(src->members, cap * sizeof *src->members);
    if (nv == NULL)
      return cab_error_sys(err, "allocate");
    src->members = nv;
  }
  src->members[src->n_members++] = *m;
  return 0;
}

static int
stage_member(struct archive *a, cab_stage *st, struct cab_tar_member *m, cab_error *err)
{
  cab_blob_writer *w;
  if (cab_blob_open(st, NULL, -1, &w, err) < 0)
    return -1;
  static const size_t bufsize = 1 << 17;
  cleanup_free char *buf = malloc(bufsize);
  if (buf == NULL) {
    cab_blob_abort(w);
    return cab_error_sys(err, "allocate");
  }
  for (;;) {
    la_ssize_t n = archive_read_data(a, buf, bufsize);
    if (n < 0) {
      cab_blob_abort(w);
      return cab_error_set(err, 0, "read %s from the archive: %s", m->path, archive_error_string(a));
    }
    if (n == 0)
      break;
    if (cab_blob_write(w, buf, (size_t)n, err) < 0) {
      cab_blob_abort(w);
      return -1;
    }
  }
  m->size = cab_blob_written(w);
  return cab_blob_finish(w, m->digest, err);
}

int
cab_src_from_tar(struct cab_src *src, const char *path, cab_stage *st, cab_error *err)
{
  memset(src, 0, sizeof *src);
  src->dirfd = -1;
  src->stage = st;
  if (cab_archive_load(err) < 0)
    return -1;
  struct archive *a = archive_read_new();
  if (a == NULL)
    return cab_error_set(err, ENOMEM, "archive_read_new failed");
  archive_read_support_format_tar(a);
  archive_read_support_format_gnutar(a);
  archive_read_support_filter_all(a);
  int ret = 0;
  if (archive_read_open_filename(a, path, 1 << 16) != ARCHIVE_OK) {
    ret = cab_error_set(err, 0, "%s: %s", path, archive_error_string(a));
    archive_read_free(a);
    return ret;
  }
  struct archive_entry *e;
  int r;
  while (ret == 0 && (r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
    const char *name = archive_entry_pathname(e);
    if (name == NULL)
      continue;
    struct cab_tar_member m = {0};
    m.path = strdup(name);
    if (m.path == NULL) {
      ret = cab_error_sys(err, "allocate");
      break;
    }
    if (cab_path_normalise(m.path) < 0) { /* "..", "/", "": not something cab reads */
      free(m.path);
      continue;
    }
    const char *hard = archive_entry_hardlink(e);
    const char *sym = archive_entry_symlink(e);
    mode_t type = archive_entry_filetype(e);
    if (hard || (type == AE_IFLNK && sym)) {
      m.hardlink = hard != NULL;
      m.link = strdup(hard ? hard : sym);
      if (m.link == NULL)
        ret = cab_error_sys(err, "allocate");
    } else if (type == AE_IFREG) {
      ret = stage_member(a, st, &m, err);
    } else {
      free(m.path);
      continue;
    }
    if (ret == 0)
      ret = add_member(src, &m, err);
    if (ret < 0) {
      free(m.path);
      free(m.link);
    }
  }
  if (ret == 0 && r != ARCHIVE_EOF)
    ret = cab_error_set(err, 0, "%s: %s", path, archive_error_string(a));
  archive_read_free(a);
  if (ret < 0)
    cab_src_free(src);
  return ret;
}

static const struct cab_tar_member *
find(const struct cab_src *src, const char *path)
{
  char p[4096];
  snprintf(p, sizeof p, "%s", path);
  for (int hops = 0; hops < 16; hops++) {
    if (cab_path_normalise(p) < 0)
      return NULL;
    const struct cab_tar_member *m = NULL;
    for (size_t i = 0; i < src->n_members; i++)
      if (strcmp(src->members[i].path, p) == 0)
        m = &src->members[i];
    if (m == NULL || m->link == NULL)
      return m;
    char next[4096];
    if (m->hardlink || m->link[0] == '/') {
      snprintf(next, sizeof next, "%s", m->link);
    } else {
      const char *slash = strrchr(m->path, '/');
      int dlen = slash ? (int)(slash - m->path) : 0;
      snprintf(next, sizeof next, "%.*s%s%s", dlen, m->path, dlen ? "/" : "", m->link);
    }
    snprintf(p, sizeof p, "%s", next);
  }
  return NULL;
}

bool
cab_src_exists(const struct cab_src *src, const char *path)
{
  if (src->dirfd < 0)
    return find(src, path) != NULL;
  int fd;
  if (cab_src_open(src, path, &fd, NULL) < 0)
    return false;
  close(fd);
  return true;
}

int
cab_src_open(const struct cab_src *src, const char *path, int *fd, cab_error *err)
{
  *fd = -1;
  if (src->dirfd < 0) {
    const struct cab_tar_member *m = find(src, path);
    if (m == NULL)
      return cab_error_set(err, 0, "%s is not in the archive (or a link out of it)", path);
    *fd = openat(cab_stage_dirfd(src->stage), m->digest + 7, O_RDONLY | O_CLOEXEC);
    return *fd < 0 ? cab_error_sys(err, "open staged %s", path) : 0;
  }
  char p[4096];
  snprintf(p, sizeof p, "%s", path);
  if (cab_path_normalise(p) < 0)
    return cab_error_set(err, 0, "'%s' leaves the directory", path);
  struct open_how how = {.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY,
                         .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};
  int r = (int)syscall(SYS_openat2, src->dirfd, p, &how, sizeof how);
  if (r < 0 && errno == ENOSYS)
    r = openat(src->dirfd, p, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
  if (r < 0 && (errno == EXDEV || errno == ELOOP))
    return cab_error_set(err, 0, "%s is a symlink that leaves the directory; refused", path);
  if (r < 0)
    return cab_error_sys(err, "open %s", path);
  struct stat sb;
  if (fstat(r, &sb) < 0 || !S_ISREG(sb.st_mode)) {
    close(r);
    return cab_error_set(err, 0, "%s is not a regular file", path);
  }
  *fd = r;
  return 0;
}

int
cab_src_read(const struct cab_src *src, const char *path, size_t max, char **out, size_t *len,
             cab_error *err)
{
  cleanup_close int fd = -1;
  if (cab_src_open(src, path, &fd, err) < 0)
    return -1;
  cleanup_free char *buf = NULL;
  size_t n = 0;
  size_t cap = 0;
  for (;;) {
    if (n == cap) {
      if (cap > max)
        return cab_error_set(err, 0, "%s is larger than %zu bytes", path, max);
      cap = cap ? cap * 2 : 65536;
      char *nb = realloc(buf, cap + 1);
      if (nb == NULL)
        return cab_error_sys(err, "allocate");
      buf = nb;
    }
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return cab_error_sys(err, "read %s", path);
    if (r == 0)
      break;
    n += (size_t)r;
  }
  if (n > max)
    return cab_error_set(err, 0, "%s is larger than %zu bytes", path, max);
  buf[n] = '\0';
  *out = cab_steal_ptr(&buf);
  *len = n;
  return 0;
}
