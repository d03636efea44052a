/* cab gc: drop what no ref in index.json needs - blobs, staging leftovers
 * and rootfs caches - while holding the store's use lock exclusively. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/rm_tree.h"
#include "rootfs/store_internal.h"

struct digest_set {
  char (*v)[65];
  size_t n, cap;
};

static int
set_add(struct digest_set *set, const char *digest, cab_error *err)
{
  if (!cab_digest_valid(digest))
    return 0;
  if (set->n == set->cap) {
    size_t cap = set->cap ? set->cap * 2 : 64;
    void *nv = realloc(set->v, cap * sizeof *set->v);
    if (nv == NULL)
      return cab_error_sys(err, "allocate the gc set");
    set->v = nv;
    set->cap = cap;
  }
  memcpy(set->v[set->n++], digest + 7, 65);
  return 0;
}

static bool
set_has(const struct digest_set *set, const char *hex)
{
  for (size_t i = 0; i < set->n; i++)
    if (strcmp(set->v[i], hex) == 0)
      return true;
  return false;
}

static bool
is_hex64(const char *name)
{
  if (strlen(name) != 64)
    return false;
  for (const char *p = name; *p; p++)
    if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
      return false;
  return true;
}

/* Every blob and manifest the refs need. */
static int
collect(const cab_store *s, struct digest_set *blobs, struct digest_set *manifests,
        cab_error *err)
{
  cleanup_free cab_store_entry *v = NULL;
  size_t n;
  if (cab_store_list_all(s, &v, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++) {
    if (set_add(blobs, v[i].manifest.digest, err) < 0 || set_add(blobs, v[i].index_digest, err) < 0 ||
        (!v[i].twin_of[0] && set_add(manifests, v[i].manifest.digest, err) < 0))
      return -1;
    cleanup_free char *buf = NULL;
    size_t len;
    cab_manifest *m;
    if (cab_store_read_blob(s, v[i].manifest.digest, CAB_MANIFEST_MAX, &buf, &len, err) < 0 ||
        cab_manifest_parse(buf, len, v[i].manifest.media_type, &m, err) < 0)
      return cab_error_prefix(err, "gc: image '%s' (remove it with cab rmi)", v[i].name);
    int r = set_add(blobs, m->config.digest, err);
    for (size_t j = 0; r == 0 && j < m->n_layers; j++)
      r = set_add(blobs, m->layers[j].digest, err);
    for (size_t j = 0; r == 0 && j < m->n_manifests; j++)
      r = set_add(blobs, m->manifests[j].digest, err);
    cab_manifest_free(m);
    if (r < 0)
      return -1;
  }
  return 0;
}

static int
sweep_blobs(const cab_store *s, const struct digest_set *keep, cab_gc_report *rep, cab_error *err)
{
  cleanup_dir DIR *d = opendir(s->blobs);
  if (d == NULL)
    return cab_error_sys(err, "open %s", s->blobs);
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (!is_hex64(de->d_name) || set_has(keep, de->d_name))
      continue;
    struct stat st;
    if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || S_ISDIR(st.st_mode))
      continue;
    if (unlinkat(dirfd(d), de->d_name, 0) < 0)
      return cab_error_sys(err, "remove blob %s/%s", s->blobs, de->d_name);
    rep->blobs_removed++;
    rep->bytes_freed += st.st_size;
    rep->blob_bytes_freed += st.st_size;
  }
  return 0;
}

/* Try an exclusive lock on DIRFD/NAME without waiting: 1 got it (FD set),
 * 0 busy. */
static int
try_lock(int dirfd, const char *name, int *fd)
{
  *fd = openat(dirfd, name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (*fd < 0)
    return 1; /* cannot even create it: nobody holds it */
  if (flock(*fd, LOCK_EX | LOCK_NB) == 0)
    return 1;
  close(*fd);
  *fd = -1;
  return 0;
}

/* An unpack's temporary tree .tmp-H-PID is stale unless an unpack of H
 * runs, i.e. unless H.unpack.lock is held (pids do not matter: the lock is
 * released when its holder dies).  Removed with the lock held, so that no
 * unpack of H starts meanwhile.  1: removed, 0: kept, -1: error. */
static int
reap_unpack_tmp(const char *dir, int dfd, const char *name, const char *hex, cab_gc_report *rep,
                cab_error *err)
{
  char ulock[100];
  snprintf(ulock, sizeof ulock, "%s.unpack.lock", hex);
  cleanup_close int ufd = -1;
  if (!try_lock(dfd, ulock, &ufd))
    return 0;
  int64_t bytes = rep ? cab_tree_bytes(dir, name) : 0;
  if (cab_rm_tree_at(dfd, name, 0, err) < 0)
    return -1;
  if (rep) {
    rep->unpacks_removed++;
    rep->bytes_freed += bytes;
  }
  return 1;
}

static bool
unpack_tmp_name(const char *n, char hex[65])
{
  if (strncmp(n, ".tmp-", 5) != 0 || strlen(n) <= 5 + 64)
    return false;
  snprintf(hex, 65, "%.64s", n + 5);
  return is_hex64(hex);
}

int
cab_store_reap_unpacks(const cab_store *s, cab_error *err)
{
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/rootfs", s->home);
  cleanup_dir DIR *d = opendir(path);
  if (d == NULL)
    return errno == ENOENT ? 0 : cab_error_sys(err, "open %s", path);
  struct dirent *de;
  char hex[65];
  while ((de = readdir(d)) != NULL)
    if (unpack_tmp_name(de->d_name, hex) &&
        reap_unpack_tmp(path, dirfd(d), de->d_name, hex, NULL, err) < 0)
      return cab_error_prefix(err, "remove %s/%s, left by an interrupted unpack", path,
                              de->d_name);
  return 0;
}

/* The rootfs directory holds, per manifest hex H: H/ (the tree), H.lock
 * (held shared by running cells), H.unpack.lock (held by an unpack) and
 * .tmp-H-PID/ (an unpack in progress); and .cab-rm-* (our own leftovers). */
static int
sweep_rootfs(const cab_store *s, const struct digest_set *keep, cab_gc_report *rep,
             cab_error *err)
{
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/rootfs", s->home);
  cleanup_dir DIR *d = opendir(path);
  if (d == NULL)
    return errno == ENOENT ? 0 : cab_error_sys(err, "open %s", path);
  int dfd = dirfd(d);
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    const char *n = de->d_name;
    char hex[65] = "";
    if (strncmp(n, ".tmp-", 5) == 0 && strlen(n) > 5 + 64)
      snprintf(hex, sizeof hex, "%.64s", n + 5);
    else if (strlen(n) >= 64)
      snprintf(hex, sizeof hex, "%.64s", n);
    if (strncmp(n, ".cab-rm-", 8) == 0) {
      if (cab_rm_tree_at(dfd, n, 0, err) < 0)
        return -1;
      continue;
    }
    if (!is_hex64(hex))
      continue;
    const char *rest = n + (n[0] == '.' ? 5 + 64 : 64);
    char lock[100], ulock[100];
    snprintf(lock, sizeof lock, "%s.lock", hex);
    snprintf(ulock, sizeof ulock, "%s.unpack.lock", hex);
    cleanup_close int lfd = -1;
    cleanup_close int ufd = -1;
    if (n[0] == '.') {
      if (unpack_tmp_name(n, hex) && reap_unpack_tmp(path, dfd, n, hex, rep, err) < 0)
        return cab_error_prefix(err, "gc: remove %s/%s", path, n);
      continue;
    }
    if (set_has(keep, hex))
      continue;
    if (strcmp(rest, ".lock") == 0 || strcmp(rest, ".unpack.lock") == 0) {
      struct stat st;
      if (fstatat(dfd, hex, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT &&
          try_lock(dfd, n, &lfd))
        unlinkat(dfd, n, 0); /* its tree is gone */
      continue;
    }
    if (*rest != '\0')
      continue;
    if (!try_lock(dfd, lock, &lfd) || !try_lock(dfd, ulock, &ufd)) {
      rep->rootfs_busy++;
      continue;
    }
    int64_t bytes = cab_tree_bytes(path, hex);
    if (cab_rm_tree_at(dfd, hex, 0, err) < 0)
      return cab_error_prefix(err, "gc: remove rootfs cache %s/%s", path, hex);
    rep->bytes_freed += bytes;
    unlinkat(dfd, lock, 0);
    unlinkat(dfd, ulock, 0);
    rep->rootfs_removed++;
  }
  return 0;
}

static int
sweep_tmp(const cab_store *s, cab_error *err)
{
  cleanup_close int fd = open(s->tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT ? 0 : cab_error_sys(err, "open %s", s->tmp);
  cleanup_dir DIR *d = fdopendir(dup(fd));
  if (d == NULL)
    return cab_error_sys(err, "open %s", s->tmp);
  struct dirent *de;
  while ((de = readdir(d)) != NULL)
    if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
        cab_rm_tree_at(fd, de->d_name, 0, err) < 0)
      return -1;
  return 0;
}

int
cab_store_gc(cab_store *s, int wait_seconds, cab_gc_report *rep, cab_error *err)
{
  memset(rep, 0, sizeof *rep);
  cab_store_unuse(s);
  cleanup_close int lock = cab_store_lock_file(s, "use.lock", LOCK_EX, wait_seconds, err);
  if (lock < 0) {
    if (err && err->errnum == EWOULDBLOCK)
      return cab_error_set(err, 0, "gc: other cab processes are using the store %s (a pull, "
                                   "import or unpack); try again when they are done",
                           s->home);
    return -1;
  }
  struct digest_set blobs = {0}, manifests = {0};
  int r = collect(s, &blobs, &manifests, err);
  if (r == 0)
    r = sweep_blobs(s, &blobs, rep, err);
  if (r == 0)
    r = sweep_rootfs(s, &manifests, rep, err);
  if (r == 0)
    r = sweep_tmp(s, err);
  free(blobs.v);
  free(manifests.v);
  return r;
}
