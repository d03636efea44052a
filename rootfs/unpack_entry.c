/* One layer entry: create it under its (in-root) parent directory and set
 * its metadata, never following the leaf.  An existing leaf is removed
 * first (a directory is kept for a directory entry), so nothing is ever
 * written through a symlink or into another hardlink's inode. */
#include "rootfs/unpack_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/lazy_archive.h"
#include "common/rm_tree.h"

struct meta {
  uid_t uid;
  gid_t gid;
  mode_t mode; /* permission bits, 07777 */
  struct timespec times[2];
};

/* Where an entry goes: the in-root parent directory and the leaf name. */
struct place {
  int pfd;            /* O_PATH directory */
  const char *parent; /* its path ("" is the root) */
  const char *leaf;
  const char *path;   /* parent/leaf */
};

static void
entry_meta(struct archive_entry *e, struct meta *m)
{
  m->uid = (uid_t)archive_entry_uid(e);
  m->gid = (gid_t)archive_entry_gid(e);
  m->mode = archive_entry_perm(e) & 07777;
  m->times[1].tv_sec = archive_entry_mtime(e);
  m->times[1].tv_nsec = archive_entry_mtime_nsec(e);
  if (!archive_entry_mtime_is_set(e))
    m->times[1].tv_nsec = UTIME_OMIT;
  if (archive_entry_atime_is_set(e)) {
    m->times[0].tv_sec = archive_entry_atime(e);
    m->times[0].tv_nsec = archive_entry_atime_nsec(e);
  } else {
    m->times[0] = m->times[1];
  }
}

/* A name or link target as bytes: the locale form, else the UTF-8 one. */
static const char *
entry_symlink(struct archive_entry *e)
{
  const char *t = archive_entry_symlink(e);
  return t ? t : archive_entry_symlink_utf8(e);
}

static const char *
entry_hardlink(struct archive_entry *e)
{
  const char *t = archive_entry_hardlink(e);
  return t ? t : archive_entry_hardlink_utf8(e);
}

/* Only user.* survives, and not user.overlay.* (it would change how an
 * overlay stacks the tree) nor user.cab.* (ours: a layer cannot forge the
 * recorded owner).  trusted.*, security.* (capabilities, SELinux labels)
 * and system.* (ACLs) are dropped. */
static bool
xattr_allowed(const char *name)
{
  return strncmp(name, "user.", 5) == 0 && strncmp(name, "user.overlay.", 13) != 0
         && strncmp(name, "user.cab.", 9) != 0;
}

static int
apply_xattrs(struct cab_unpack_ctx *ctx, int fd, struct archive_entry *e, const char *path,
             cab_error *err)
{
  if (archive_entry_xattr_reset(e) == 0)
    return 0;
  const char *name;
  const void *value;
  size_t size;
  while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
    if (fd < 0 || name == NULL || !xattr_allowed(name)) {
      ctx->st->xattrs_dropped++;
      continue;
    }
    if (fsetxattr(fd, name, value, size, 0) == 0)
      continue;
    if (errno != ENOTSUP && errno != EPERM && errno != E2BIG && errno != ERANGE
        && errno != ENOSPC && errno != EACCES)
      return cab_error_sys(err, "setting the xattr %s on '/%s'", name, path);
    ctx->st->xattrs_dropped++;
  }
  return 0;
}

/* Owners.  Privileged: chown, tolerating EPERM/EINVAL (ids not mapped in a
 * user namespace).  Rootless: 0:0 is the invoking user and needs nothing;
 * any other owner cannot be applied.  An owner not applied is counted and,
 * for files and directories, recorded as "uid:gid" in user.cab.owner.
 * Without a real owner, setuid/setgid bits of non-directories go. */
static int
apply_owner(struct cab_unpack_ctx *ctx, int fd, const struct place *pl, const struct meta *m,
            bool is_dir, mode_t *mode, cab_error *err)
{
  bool applied = true;
  if (ctx->privileged) {
    int r = fd >= 0 ? fchown(fd, m->uid, m->gid)
                    : fchownat(pl->pfd, pl->leaf, m->uid, m->gid, AT_SYMLINK_NOFOLLOW);
    if (r < 0 && errno != EPERM && errno != EINVAL)
      return cab_error_sys(err, "chown '/%s' to %u:%u", pl->path, (unsigned)m->uid,
                           (unsigned)m->gid);
    applied = r == 0;
  } else {
    applied = m->uid == 0 && m->gid == 0;
  }
  if (!applied) {
    ctx->st->chown_failures++;
    if (fd >= 0 && ctx->owner_xattr_ok) {
      char val[32];
      int n = snprintf(val, sizeof val, "%u:%u", (unsigned)m->uid, (unsigned)m->gid);
      if (fsetxattr(fd, CAB_UNPACK_OWNER_XATTR, val, (size_t)n, 0) == 0)
        ctx->st->owners_recorded++;
      else if (errno == ENOTSUP || errno == EPERM)
        ctx->owner_xattr_ok = false; /* this filesystem has no user xattrs */
    }
  }
  if (!is_dir && (*mode & (S_ISUID | S_ISGID)) &&
      (!ctx->privileged || !applied || ctx->lim->strip_setid)) {
    *mode &= ~(mode_t)(S_ISUID | S_ISGID);
    ctx->st->setid_stripped++;
  }
  return 0;
}

/* Creating PL failed with errno E.  EACCES: make the parent writable.
 * EEXIST: remove what is there, unless it is a directory and KEEP_DIR.
 * Returns 1 to retry, 0 when an existing directory is kept, -1. */
static int
resolve_conflict(struct cab_unpack_ctx *ctx, const struct place *pl, int e, bool keep_dir,
                 cab_error *err)
{
  if (e == EACCES) {
    int r = cab_unpack_make_writable(ctx, pl->pfd, pl->parent, err);
    if (r == 0)
      return cab_error_set(err, EACCES, "creating '/%s'", pl->path);
    return r;
  }
  if (e != EEXIST)
    return cab_error_set(err, e, "creating '/%s'", pl->path);
  struct stat st;
  if (fstatat(pl->pfd, pl->leaf, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 1 : cab_error_sys(err, "stat '/%s'", pl->path);
  if (keep_dir && S_ISDIR(st.st_mode))
    return 0;
  /* The cached parent may have been reached through what goes now (a
   * directory, or a symlink to one). */
  cab_unpack_cache_drop(ctx);
  for (int attempt = 0;; attempt++) {
    if (cab_rm_tree_at(pl->pfd, pl->leaf, 0, err) == 0)
      return 1;
    if (err->errnum != EACCES || attempt > 0)
      return cab_error_prefix(err, "replacing '/%s'", pl->path);
    int r = cab_unpack_make_writable(ctx, pl->pfd, pl->parent, err);
    if (r <= 0)
      return r < 0 ? -1 : cab_error_set(err, EACCES, "replacing '/%s'", pl->path);
  }
}

#define MAX_TRIES 4

/* openat(O_CREAT|O_EXCL|O_NOFOLLOW) of a new regular file. */
static int
create_file(struct cab_unpack_ctx *ctx, const struct place *pl, mode_t mode, cab_error *err)
{
  for (int tries = 0; tries < MAX_TRIES; tries++) {
    int fd = openat(pl->pfd, pl->leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd >= 0)
      return fd;
    if (resolve_conflict(ctx, pl, errno, false, err) < 0)
      return -1;
  }
  return cab_error_set(err, EEXIST, "creating '/%s': it keeps reappearing", pl->path);
}

static int
write_all(int fd, const char *buf, size_t len)
{
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -1;
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

static int
write_data(struct archive *a, int fd, int64_t size, const char *path, cab_error *err)
{
  int64_t pos = 0;
  for (;;) {
    const void *buf;
    size_t len;
    la_int64_t off;
    int r = archive_read_data_block(a, &buf, &len, &off);
    if (r == ARCHIVE_EOF)
      break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
      return cab_error_set(err, archive_errno(a) > 0 ? archive_errno(a) : EIO,
                           "reading the data of '/%s': %s", path, archive_error_string(a));
    if (off != pos && lseek(fd, off, SEEK_SET) < 0)
      return cab_error_sys(err, "seeking in '/%s'", path);
    if (write_all(fd, buf, len) < 0)
      return cab_error_sys(err, "writing '/%s'", path);
    pos = off + (int64_t)len;
  }
  /* A sparse file may end in a hole. */
  if (pos < size && ftruncate(fd, size) < 0)
    return cab_error_sys(err, "extending '/%s' to %lld bytes", path, (long long)size);
  return 0;
}

static int
make_file(struct cab_unpack_ctx *ctx, struct archive *a, struct archive_entry *e,
          const struct place *pl, const struct meta *m, cab_error *err)
{
  int64_t size = archive_entry_size(e);
  if (size < 0)
    size = 0;
  if (size > ctx->lim->max_total_bytes - ctx->st->bytes)
    return cab_error_set(err, EFBIG,
                         "'/%s' (%lld bytes, apparent size) takes the layer's files past the "
                         "limit of %lld bytes; rejected (raise the unpack byte limit if the "
                         "image is genuine)",
                         pl->path, (long long)size, (long long)ctx->lim->max_total_bytes);
  cleanup_close int fd = create_file(ctx, pl, 0600, err);
  if (fd < 0)
    return -1;
  if (write_data(a, fd, size, pl->path, err) < 0)
    return -1;
  ctx->st->bytes += size;
  mode_t mode = m->mode;
  if (apply_owner(ctx, fd, pl, m, false, &mode, err) < 0
      || apply_xattrs(ctx, fd, e, pl->path, err) < 0)
    return -1;
  if (fchmod(fd, mode) < 0)
    return cab_error_sys(err, "chmod '/%s'", pl->path);
  if (futimens(fd, m->times) < 0)
    return cab_error_sys(err, "setting the times of '/%s'", pl->path);
  return 0;
}

/* Char and block devices: an empty regular file, mode 000, never a node
 * (cab needs none, and mknod fails rootless anyway). */
static int
make_placeholder(struct cab_unpack_ctx *ctx, const struct place *pl, const struct meta *m,
                 cab_error *err)
{
  cleanup_close int fd = create_file(ctx, pl, 0, err);
  if (fd < 0)
    return -1;
  mode_t mode = 0;
  if (apply_owner(ctx, fd, pl, m, false, &mode, err) < 0)
    return -1;
  if (fchmod(fd, 0) < 0 || futimens(fd, m->times) < 0)
    return cab_error_sys(err, "setting up the device placeholder '/%s'", pl->path);
  ctx->st->devices_placeholdered++;
  return 0;
}

static int
make_fifo(struct cab_unpack_ctx *ctx, struct archive_entry *e, const struct place *pl,
          const struct meta *m, cab_error *err)
{
  int tries = 0;
  while (mknodat(pl->pfd, pl->leaf, S_IFIFO | 0600, 0) < 0) {
    if (++tries >= MAX_TRIES || resolve_conflict(ctx, pl, errno, false, err) < 0)
      return tries >= MAX_TRIES ? cab_error_sys(err, "mkfifo '/%s'", pl->path) : -1;
  }
  mode_t mode = m->mode;
  if (apply_owner(ctx, -1, pl, m, false, &mode, err) < 0
      || apply_xattrs(ctx, -1, e, pl->path, err) < 0)
    return -1;
  if (cab_fchmodat_nofollow(pl->pfd, pl->leaf, mode) < 0)
    return cab_error_sys(err, "chmod '/%s'", pl->path);
  if (utimensat(pl->pfd, pl->leaf, m->times, AT_SYMLINK_NOFOLLOW) < 0)
    return cab_error_sys(err, "setting the times of '/%s'", pl->path);
  return 0;
}

static int
make_symlink(struct cab_unpack_ctx *ctx, struct archive_entry *e, const struct place *pl,
             const struct meta *m, cab_error *err)
{
  const char *target = entry_symlink(e);
  if (target == NULL || *target == '\0')
    return cab_error_set(err, EINVAL, "symlink '/%s' has no target; rejected", pl->path);
  if (strlen(target) > (size_t)ctx->lim->max_path_len)
    return cab_error_set(err, ENAMETOOLONG,
                         "symlink '/%s': its target is longer than the limit of %d bytes; "
                         "rejected",
                         pl->path, ctx->lim->max_path_len);
  int tries = 0;
  while (symlinkat(target, pl->pfd, pl->leaf) < 0) {
    if (++tries >= MAX_TRIES || resolve_conflict(ctx, pl, errno, false, err) < 0)
      return tries >= MAX_TRIES ? cab_error_sys(err, "symlink '/%s'", pl->path) : -1;
  }
  mode_t mode = 0777;
  if (apply_owner(ctx, -1, pl, m, false, &mode, err) < 0
      || apply_xattrs(ctx, -1, e, pl->path, err) < 0)
    return -1;
  if (utimensat(pl->pfd, pl->leaf, m->times, AT_SYMLINK_NOFOLLOW) < 0 && errno != EOPNOTSUPP)
    return cab_error_sys(err, "setting the times of the symlink '/%s'", pl->path);
  return 0;
}

/* The target is resolved inside the root like any name, and linked by
 * (parent fd, leaf) without following it: the new name can only ever be
 * another name of an inode already inside the root. */
static int
make_hardlink(struct cab_unpack_ctx *ctx, const char *raw_target, const struct place *pl,
              cab_error *err)
{
  size_t len = strlen(raw_target);
  if (len > (size_t)ctx->lim->max_path_len)
    return cab_error_set(err, ENAMETOOLONG,
                         "hardlink '/%s': its target is longer than the limit of %d bytes; "
                         "rejected",
                         pl->path, ctx->lim->max_path_len);
  cleanup_free char *target = malloc(len + 2);
  if (target == NULL)
    return cab_error_set(err, ENOMEM, "out of memory");
  bool absolute;
  if (cab_unpack_clean(raw_target, "hardlink target", target, &absolute, err) < 0)
    return -1;
  if (*target == '\0')
    return cab_error_set(err, EPERM, "hardlink '/%s' to the root directory; rejected", pl->path);
  if (strcmp(target, pl->path) == 0)
    return 0; /* a link to itself: nothing to do */
  char *tleaf;
  cab_unpack_split(target, &tleaf);
  int tfd = -1;
  if (cab_unpack_open_dir(ctx, target, false, &tfd, err) < 0)
    return -1;
  cleanup_close int tdir = tfd;
  if (tdir < 0)
    return cab_error_set(err, ENOENT,
                         "hardlink '/%s': the target's directory '/%s' does not exist in the "
                         "image; rejected",
                         pl->path, target);
  int tries = 0;
  while (linkat(tdir, tleaf, pl->pfd, pl->leaf, 0) < 0) {
    int e = errno;
    if (e == ENOENT)
      return cab_error_set(err, ENOENT,
                           "hardlink '/%s': its target '/%s%s%s' does not exist in the image; "
                           "rejected",
                           pl->path, target, *target ? "/" : "", tleaf);
    if (e == EPERM)
      return cab_error_set(err, EPERM,
                           "hardlink '/%s': cannot link to '/%s%s%s' (a directory?); rejected",
                           pl->path, target, *target ? "/" : "", tleaf);
    if (++tries >= MAX_TRIES || resolve_conflict(ctx, pl, e, false, err) < 0)
      return tries >= MAX_TRIES ? cab_error_sys(err, "hardlink '/%s'", pl->path) : -1;
  }
  ctx->st->hardlinks++;
  return 0;
}

/* mkdir, or keep the directory already there; then owner and xattrs now,
 * mode and times at the end of the layer (fixups). */
static int
make_dir(struct cab_unpack_ctx *ctx, struct archive_entry *e, const struct place *pl,
         const struct meta *m, cab_error *err)
{
  int tries = 0;
  bool existed = false;
  while (mkdirat(pl->pfd, pl->leaf, 0700) < 0) {
    int r = ++tries >= MAX_TRIES ? -1 : resolve_conflict(ctx, pl, errno, true, err);
    if (r < 0)
      return tries >= MAX_TRIES ? cab_error_sys(err, "mkdir '/%s'", pl->path) : -1;
    if (r == 0) {
      existed = true; /* an existing directory: merge */
      break;
    }
  }
  cleanup_close int fd = openat(pl->pfd, pl->leaf, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0)
    return cab_error_sys(err, "opening the directory '/%s'", pl->path);
  /* Owner-writable for the rest of the layer (an existing 0555 one too). */
  if ((st.st_mode & S_IRWXU) != S_IRWXU && cab_fchmod_any(fd, (st.st_mode & 07777) | S_IRWXU) < 0)
    return cab_error_sys(err, "chmod u+rwx '/%s'", pl->path);
  cleanup_close int rfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (rfd < 0)
    return cab_error_sys(err, "opening the directory '/%s'", pl->path);
  /* A lower layer's owner record is replaced by this entry's owner. */
  if (existed && ctx->owner_xattr_ok)
    (void)fremovexattr(rfd, CAB_UNPACK_OWNER_XATTR);
  mode_t mode = m->mode;
  if (apply_owner(ctx, rfd, pl, m, true, &mode, err) < 0
      || apply_xattrs(ctx, rfd, e, pl->path, err) < 0)
    return -1;
  return cab_unpack_fixup_add(ctx, pl->path, &st, mode, CAB_FIXUP_ENTRY, m->times, err);
}

static const char *
type_name(mode_t type)
{
  switch (type) {
  case AE_IFREG: return "regular file";
  case AE_IFDIR: return "directory";
  case AE_IFLNK: return "symlink";
  case AE_IFCHR: return "character device";
  case AE_IFBLK: return "block device";
  case AE_IFIFO: return "FIFO";
  case AE_IFSOCK: return "socket";
  default: return "entry of unknown type";
  }
}

/* "." or "/": only a directory, whose metadata applies to the root
 * (CVE-2021-29136: a symlink here moved every later entry onto the host). */
static int
root_entry(struct cab_unpack_ctx *ctx, struct archive_entry *e, const struct meta *m,
           cab_error *err)
{
  mode_t type = archive_entry_filetype(e);
  if (entry_hardlink(e) != NULL || type != AE_IFDIR)
    return cab_error_set(err, EPERM,
                         "a %s entry for the root directory would change its type; rejected",
                         entry_hardlink(e) ? "hardlink" : type_name(type));
  cleanup_close int fd = cab_openat2_in_root(ctx->root_fd, "", O_PATH | O_DIRECTORY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0)
    return cab_error_sys(err, "opening the image root");
  if ((st.st_mode & S_IRWXU) != S_IRWXU && cab_fchmod_any(fd, (st.st_mode & 07777) | S_IRWXU) < 0)
    return cab_error_sys(err, "chmod u+rwx on the image root");
  cleanup_close int rfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (rfd < 0)
    return cab_error_sys(err, "opening the image root");
  struct place pl = { fd, "", ".", "" };
  if (ctx->owner_xattr_ok)
    (void)fremovexattr(rfd, CAB_UNPACK_OWNER_XATTR);
  mode_t mode = m->mode;
  if (apply_owner(ctx, rfd, &pl, m, true, &mode, err) < 0 || apply_xattrs(ctx, rfd, e, "", err) < 0)
    return -1;
  return cab_unpack_fixup_add(ctx, "", &st, mode, CAB_FIXUP_ENTRY, m->times, err);
}

int
cab_unpack_entry(struct cab_unpack_ctx *ctx, struct archive *a, struct archive_entry *e,
                 const char *path, cab_error *err)
{
  struct meta m;
  entry_meta(e, &m);
  if (*path == '\0')
    return root_entry(ctx, e, &m, err);

  size_t len = strlen(path);
  cleanup_free char *parent = malloc(len + 2);
  if (parent == NULL || cab_pathset_add(&ctx->upper, path) < 0)
    return cab_error_set(err, ENOMEM, "out of memory");
  memcpy(parent, path, len + 1);
  char *leaf;
  cab_unpack_split(parent, &leaf);

  int dirfd = -1;
  if (cab_unpack_open_dir(ctx, parent, true, &dirfd, err) < 0)
    return -1;
  cleanup_close int pfd = dirfd;
  struct place pl = { pfd, parent, leaf, path };

  const char *hardlink = entry_hardlink(e);
  if (hardlink != NULL)
    return make_hardlink(ctx, hardlink, &pl, err);
  mode_t type = archive_entry_filetype(e);
  switch (type) {
  case AE_IFREG:
    return make_file(ctx, a, e, &pl, &m, err);
  case AE_IFDIR:
    return make_dir(ctx, e, &pl, &m, err);
  case AE_IFLNK:
    return make_symlink(ctx, e, &pl, &m, err);
  case AE_IFCHR:
  case AE_IFBLK:
    return make_placeholder(ctx, &pl, &m, err);
  case AE_IFIFO:
    return make_fifo(ctx, e, &pl, &m, err);
  default:
    return cab_error_set(err, EINVAL, "'/%s' is a %s (mode 0%o), which a layer cannot hold; "
                         "rejected", path, type_name(type), (unsigned)type);
  }
}
