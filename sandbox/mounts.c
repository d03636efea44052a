/* The filesystem view: see mounts.h.  The sequence follows bubblewrap's
 * setup_newroot and crun's do_pivot, with runc's masked paths. */
#include "sandbox/mounts.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/cleanup.h"

#define STAGING "/tmp"          /* covered by our own tmpfs, in our mount ns only */
#define NEWROOT STAGING "/newroot"
#define LAYER STAGING "/layer"      /* an in-memory overlay's upper and work */
#define GENERATED STAGING "/generated"

static const char *const dev_names[6] = {"null", "zero", "full", "random", "urandom", "tty"};
static const unsigned dev_major[6] = {1, 1, 1, 1, 1, 5};
static const unsigned dev_minor[6] = {3, 5, 7, 8, 9, 0};

/* runc's lists (libcontainer/specconv/example.go). */
static const char *const masked_paths[] = {
    "/proc/acpi",       "/proc/asound",      "/proc/kcore",       "/proc/keys",
    "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
    "/proc/scsi",       "/sys/firmware",     "/sys/devices/virtual/powercap",
};
static const char *const readonly_paths[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

static int
openat2_in_root(int rootfd, const char *path, int flags)
{
  struct open_how how = {
      .flags = (uint64_t)flags | O_CLOEXEC,
      .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
  };
  while (*path == '/')
    path++;
  if (*path == '\0')
    path = ".";
  return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
}

int
cab_open_in_root(int rootfd, const char *path, bool create, bool as_file, cab_error *err)
{
  int fd = openat2_in_root(rootfd, path, O_PATH);
  if (fd >= 0 || errno != ENOENT || !create) {
    if (fd < 0)
      return cab_error_sys(err, "open %s in the new root", path);
    return fd;
  }
  /* Create it one component at a time, each resolved inside the root. */
  char buf[PATH_MAX];
  if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
    return cab_error_set(err, ENAMETOOLONG, "path too long: %s", path);
  char *slash = strrchr(buf, '/');
  const char *leaf = buf;
  cleanup_close int parent = -1;
  if (slash && slash != buf) {
    *slash = '\0';
    leaf = slash + 1;
    parent = cab_open_in_root(rootfd, buf, true, false, err);
  } else {
    leaf = slash ? slash + 1 : buf;
    parent = openat2_in_root(rootfd, "/", O_PATH | O_DIRECTORY);
  }
  if (parent < 0)
    return -1;
  /* O_PATH fds cannot be used with mkdirat on all kernels: reopen. */
  cleanup_close int dir = openat(parent, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0)
    return cab_error_sys(err, "open parent of %s", path);
  if (as_file) {
    int f = openat(dir, leaf, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (f < 0 && errno != EEXIST)
      return cab_error_sys(err, "create mount point %s", path);
    if (f >= 0)
      close(f);
  } else if (mkdirat(dir, leaf, 0755) < 0 && errno != EEXIST) {
    return cab_error_sys(err, "create mount point %s", path);
  }
  fd = openat2_in_root(rootfd, path, O_PATH);
  if (fd < 0)
    return cab_error_sys(err, "open %s in the new root", path);
  return fd;
}

static void
fd_path(int fd, char *buf, size_t size)
{
  snprintf(buf, size, "/proc/self/fd/%d", fd);
}

/* Mount FSTYPE on the directory TARGET (inside ROOTFD). */
static int
mount_fs_at(int rootfd, const char *target, bool create, const char *fstype,
            unsigned long flags, const char *data, cab_error *err)
{
  cleanup_close int fd = cab_open_in_root(rootfd, target, create, false, err);
  if (fd < 0)
    return -1;
  char p[64];
  fd_path(fd, p, sizeof p);
  if (mount(fstype, p, fstype, flags, data) < 0)
    return cab_error_sys(err, "mount %s on %s", fstype, target);
  return 0;
}

/* Current mount flags that the kernel locks in a user namespace: a remount
 * that drops one of them fails with EPERM, so they are carried over. */
static unsigned long
locked_flags(const char *path)
{
  struct statvfs sv;
  if (statvfs(path, &sv) < 0)
    return 0;
  unsigned long f = 0;
  if (sv.f_flag & ST_NOSUID) f |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV) f |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
  if (sv.f_flag & ST_RDONLY) f |= MS_RDONLY;
  if (sv.f_flag & ST_NOATIME) f |= MS_NOATIME;
  if (sv.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
  if (sv.f_flag & ST_RELATIME) f |= MS_RELATIME;
  return f;
}

/* Make the mount at PATH (and, when RECURSIVE, everything below it)
 * read-only, nosuid and nodev.  mount_setattr where the kernel has it (5.12),
 * else the locked-flag-preserving remount of bubblewrap and crun. */
static int
make_readonly(const char *path, bool recursive, cab_error *err)
{
  struct mount_attr attr = {
      .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
  };
  if (syscall(SYS_mount_setattr, AT_FDCWD, path, recursive ? AT_RECURSIVE : 0, &attr,
              sizeof attr) == 0)
    return 0;
  if (errno != ENOSYS && errno != EINVAL)
    return cab_error_sys(err, "make %s read-only", path);
  unsigned long flags = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV;
  if (mount(NULL, path, NULL, flags | locked_flags(path), NULL) < 0)
    return cab_error_sys(err, "remount %s read-only", path);
  return 0;
}

/* Bind the host object SRCFD onto TARGET inside the new root. */
static int
bind_fd_at(int rootfd, int srcfd, const char *target, bool create, bool as_file,
           bool readonly, cab_error *err)
{
  cleanup_close int fd = cab_open_in_root(rootfd, target, create, as_file, err);
  if (fd < 0)
    return -1;
  char src[64], dst[64];
  fd_path(srcfd, src, sizeof src);
  fd_path(fd, dst, sizeof dst);
  if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) < 0)
    return cab_error_sys(err, "bind mount onto %s", target);
  if (!readonly)
    return 0;
  /* Re-open: the old fd still names the covered directory. */
  cleanup_close int mnt = cab_open_in_root(rootfd, target, false, false, err);
  if (mnt < 0)
    return -1;
  fd_path(mnt, dst, sizeof dst);
  return make_readonly(dst, true, err);
}

int
cab_host_fds_open(const struct cab_sandbox_config *cfg, struct cab_host_fds *fds,
                  cab_error *err)
{
  const char *root = cfg->host_rootfs ? "/" : cfg->rootfs;
  fds->rootfs = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fds->rootfs < 0)
    return cab_error_sys(err, "rootfs %s", root);
  fds->overlay = -1;
  fds->layer_tmpfs = -1;
  if (cfg->overlay_dir && !cfg->overlay_in_memory) {
    fds->overlay = open(cfg->overlay_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fds->overlay < 0)
      return cab_error_sys(err, "overlay directory %s", cfg->overlay_dir);
  }
  for (int i = 0; i < 6; i++) {
    char p[32];
    snprintf(p, sizeof p, "/dev/%s", dev_names[i]);
    fds->dev[i] = open(p, O_PATH | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    /* Verify the node is the real device (runc CVE-2025-31133): a symlink or
     * a look-alike must not be bound into the sandbox. */
    if (fds->dev[i] < 0 || fstat(fds->dev[i], &st) < 0 || !S_ISCHR(st.st_mode) ||
        major(st.st_rdev) != dev_major[i] || minor(st.st_rdev) != dev_minor[i])
      return cab_error_set(err, errno, "host %s is not the expected character device %u:%u", p,
                           dev_major[i], dev_minor[i]);
  }
  for (size_t i = 0; i < cfg->n_binds; i++) {
    fds->bind_src[i] = open(cfg->binds[i].src, O_PATH | O_CLOEXEC);
    if (fds->bind_src[i] < 0)
      return cab_error_sys(err, "--bind source %s", cfg->binds[i].src);
  }
  return 0;
}

void
cab_host_fds_close(struct cab_host_fds *fds, size_t n_binds)
{
  if (fds->rootfs >= 0)
    close(fds->rootfs);
  if (fds->overlay >= 0)
    close(fds->overlay);
  if (fds->layer_tmpfs >= 0)
    close(fds->layer_tmpfs);
  for (int i = 0; i < 6; i++)
    if (fds->dev[i] >= 0)
      close(fds->dev[i]);
  for (size_t i = 0; i < n_binds; i++)
    if (fds->bind_src && fds->bind_src[i] >= 0)
      close(fds->bind_src[i]);
}

static int
write_generated(const char *name, const char *content, cab_error *err)
{
  char path[128];
  snprintf(path, sizeof path, GENERATED "/%s", name);
  cleanup_close int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return cab_error_sys(err, "create %s", path);
  size_t len = strlen(content);
  if (write(fd, content, len) != (ssize_t)len)
    return cab_error_sys(err, "write %s", path);
  return 0;
}

static int
setup_proc(int rootfd, bool create, bool readonly, cab_error *err)
{
  /* A fresh procfs: we are pid 1 of a new pid namespace, so it shows only
   * the sandbox's processes.  Read-only on request: the kernel then refuses
   * to open any file in it for writing (EROFS), /proc/PID/mem included, so a
   * process cannot write into another of the same uid; reads, and the
   * /proc/self/fd links (they lead to the files' own mounts), still work. */
  unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC | (readonly ? MS_RDONLY : 0);
  if (mount_fs_at(rootfd, "/proc", create, "proc", flags, NULL, err) < 0)
    return -1;
  for (size_t i = 0; i < sizeof readonly_paths / sizeof *readonly_paths; i++) {
    cleanup_close int fd = openat2_in_root(rootfd, readonly_paths[i], O_PATH);
    if (fd < 0)
      continue;
    char p[64];
    fd_path(fd, p, sizeof p);
    if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0)
      return cab_error_sys(err, "bind %s", readonly_paths[i]);
    cleanup_close int mnt = openat2_in_root(rootfd, readonly_paths[i], O_PATH);
    fd_path(mnt, p, sizeof p);
    if (make_readonly(p, true, err) < 0)
      return -1;
  }
  return 0;
}

static int
mask_paths(int rootfd, int devnull, cab_error *err)
{
  for (size_t i = 0; i < sizeof masked_paths / sizeof *masked_paths; i++) {
    cleanup_close int fd = openat2_in_root(rootfd, masked_paths[i], O_PATH | O_NOFOLLOW);
    if (fd < 0)
      continue; /* absent: nothing to hide */
    struct stat st;
    if (fstat(fd, &st) < 0)
      return cab_error_sys(err, "stat %s", masked_paths[i]);
    char p[64];
    fd_path(fd, p, sizeof p);
    if (S_ISDIR(st.st_mode)) {
      if (mount("tmpfs", p, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                "size=0,nr_inodes=1") < 0 &&
          mount("tmpfs", p, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                "size=0,nr_inodes=2") < 0)
        return cab_error_sys(err, "mask %s", masked_paths[i]);
    } else {
      char src[64];
      fd_path(devnull, src, sizeof src);
      if (mount(src, p, NULL, MS_BIND, NULL) < 0)
        return cab_error_sys(err, "mask %s", masked_paths[i]);
    }
  }
  return 0;
}

/* The size of a writable tmpfs: DEFAULT_BYTES, or the memory budget when
 * that is smaller.  tmpfs pages are memory: a tmpfs larger than the budget
 * could only be filled by going over it.  Inodes too cost memory that no
 * byte count shows (about a KiB each), so they are capped in proportion. */
static void
tmpfs_options(const struct cab_limits *lim, int64_t default_bytes, const char *mode, char *buf,
              size_t size)
{
  int64_t bytes = default_bytes;
  if (lim->memory_bytes > 0 && lim->memory_bytes < bytes)
    bytes = lim->memory_bytes;
  int64_t inodes = bytes / 4096 > 4096 ? bytes / 4096 : 4096;
  snprintf(buf, size, "mode=%s,size=%lld,nr_inodes=%lld", mode, (long long)bytes,
           (long long)inodes);
}

static int
setup_dev(int rootfd, bool create, const int devfds[6], const struct cab_limits *lim,
          cab_error *err)
{
  /* tmpfs: mknod is impossible in a user namespace, so nodes are bound in. */
  if (mount_fs_at(rootfd, "/dev", create, "tmpfs", MS_NOSUID | MS_NOEXEC,
                  "mode=0755,size=65536", err) < 0)
    return -1;
  for (int i = 0; i < 6; i++) {
    char target[32];
    snprintf(target, sizeof target, "/dev/%s", dev_names[i]);
    if (bind_fd_at(rootfd, devfds[i], target, true, true, false, err) < 0)
      return -1;
  }
  /* A private devpts instance, so the sandbox sees only its own ptys. */
  if (mount_fs_at(rootfd, "/dev/pts", true, "devpts", MS_NOSUID | MS_NOEXEC,
                  "newinstance,ptmxmode=0666,mode=0620", err) < 0)
    return -1;
  char shmopts[96];
  tmpfs_options(lim, (int64_t)64 << 20, "1777", shmopts, sizeof shmopts);
  if (mount_fs_at(rootfd, "/dev/shm", true, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, shmopts,
                  err) < 0)
    return -1;
  cleanup_close int devfd = openat2_in_root(rootfd, "/dev", O_RDONLY | O_DIRECTORY);
  if (devfd < 0)
    return cab_error_sys(err, "open /dev in the new root");
  static const char *const links[][2] = {
      {"ptmx", "pts/ptmx"},          {"fd", "/proc/self/fd"},
      {"stdin", "/proc/self/fd/0"},  {"stdout", "/proc/self/fd/1"},
      {"stderr", "/proc/self/fd/2"}, {"core", "/proc/kcore"},
  };
  for (size_t i = 0; i < sizeof links / sizeof *links; i++)
    if (symlinkat(links[i][1], devfd, links[i][0]) < 0)
      return cab_error_sys(err, "symlink /dev/%s", links[i][0]);
  return 0;
}

static int
setup_etc(const struct cab_sandbox_config *cfg, int rootfd, bool create, cab_error *err)
{
  const char *hostname = cfg->hostname ? cfg->hostname : "cab";
  char hosts[8192], hn[300];
  int used = snprintf(hosts, sizeof hosts,
                      "127.0.0.1\tlocalhost %s\n::1\tlocalhost ip6-localhost ip6-loopback\n",
                      hostname);
  for (size_t i = 0; i < cfg->n_extra_hosts && used < (int)sizeof hosts; i++)
    used += snprintf(hosts + used, sizeof hosts - (size_t)used, "%s\n", cfg->extra_hosts[i]);
  if (used >= (int)sizeof hosts)
    return cab_error_set(err, E2BIG, "/etc/hosts: too many extra host entries");
  snprintf(hn, sizeof hn, "%s\n", hostname);
  /* With a gateway, its DNS responder answers; otherwise there is none. */
  const char *resolv = cfg->gateway.enabled && cfg->gateway.dns
                           ? "nameserver " CAB_GATEWAY_IP "\noptions timeout:1 attempts:1\n"
                           : "# cab: this sandbox has no DNS resolver\n";
  if (mkdir(GENERATED, 0755) < 0)
    return cab_error_sys(err, "mkdir " GENERATED);
  if (write_generated("hosts", hosts, err) < 0 || write_generated("hostname", hn, err) < 0 ||
      write_generated("resolv.conf", resolv, err) < 0)
    return -1;
  static const char *const names[] = {"hosts", "hostname", "resolv.conf"};
  for (size_t i = 0; i < 3; i++) {
    char src[128], target[64];
    snprintf(src, sizeof src, GENERATED "/%s", names[i]);
    snprintf(target, sizeof target, "/etc/%s", names[i]);
    cleanup_close int sfd = open(src, O_PATH | O_CLOEXEC);
    if (sfd < 0)
      return cab_error_sys(err, "open %s", src);
    /* The host's / (never written, so no mount point can be made) without
     * this file: the sandbox goes without it too, as the host does. */
    if (!create && cfg->host_rootfs) {
      cleanup_close int tfd = openat2_in_root(rootfd, target, O_PATH);
      if (tfd < 0 && errno == ENOENT)
        continue;
    }
    if (bind_fd_at(rootfd, sfd, target, create, true, true, err) < 0)
      return -1;
  }
  return 0;
}

/* A bind below an earlier one (a read-only file inside a bound workdir)
 * finds its mount point in that bind's tree, which its caller made: it must
 * not be created in the root, where nothing would cover it. */
static bool
below_earlier_bind(const struct cab_sandbox_config *cfg, size_t i)
{
  const char *dst = cfg->binds[i].dst;
  for (size_t j = 0; j < i; j++) {
    const char *up = cfg->binds[j].dst;
    size_t n = strlen(up);
    while (n > 0 && up[n - 1] == '/')
      n--;
    if (strncmp(dst, up, n) == 0 && dst[n] == '/')
      return true;
  }
  return false;
}

static int
setup_binds(const struct cab_sandbox_config *cfg, const struct cab_host_fds *fds, int rootfd,
            bool create, cab_error *err)
{
  for (size_t i = 0; i < cfg->n_binds; i++) {
    struct stat st;
    if (fstat(fds->bind_src[i], &st) < 0)
      return cab_error_sys(err, "--bind source %s", cfg->binds[i].src);
    /* Destinations below the writable tmpfs mounts can always be created. */
    bool can_create = create || strncmp(cfg->binds[i].dst, "/tmp/", 5) == 0;
    if (bind_fd_at(rootfd, fds->bind_src[i], cfg->binds[i].dst, can_create,
                   !S_ISDIR(st.st_mode), cfg->binds[i].readonly, err) < 0)
      return cab_error_prefix(err, "--bind %s:%s", cfg->binds[i].src, cfg->binds[i].dst);
  }
  return 0;
}

/* pivot_root(".", ".") as crun does: the old root ends up stacked on the new
 * one and is detached, so no path to the host's tree is left. */
static int
pivot_into(const char *newroot, cab_error *err)
{
  cleanup_close int oldfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  cleanup_close int newfd = open(newroot, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (oldfd < 0 || newfd < 0)
    return cab_error_sys(err, "open roots for pivot_root");
  if (fchdir(newfd) < 0)
    return cab_error_sys(err, "chdir to the new root");
  if (syscall(SYS_pivot_root, ".", ".") < 0)
    return cab_error_sys(err, "pivot_root");
  if (fchdir(oldfd) < 0)
    return cab_error_sys(err, "chdir to the old root");
  /* Keep the detach from propagating anywhere. */
  if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
    return cab_error_sys(err, "make the old root a slave");
  if (umount2(".", MNT_DETACH) < 0)
    return cab_error_sys(err, "detach the old root");
  while (umount2(".", MNT_DETACH) == 0)
    ;
  if (chdir("/") < 0)
    return cab_error_sys(err, "chdir /");
  return 0;
}

/* The host's / as the root: a tmpfs holding a read-only bind of each of the
 * host's top-level entries (bin, etc, usr, ...; symlinks copied as such).
 * Mount points the host lacks, such as /work, can then be created in the
 * tmpfs without ever writing to the host's /. */
static int
mount_host_scaffold(const struct cab_host_fds *fds, cab_error *err)
{
  if (mount("tmpfs", NEWROOT, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m") < 0)
    return cab_error_sys(err, "mount the root scaffold");
  cleanup_close int dirfd = openat(fds->rootfs, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_close int newfd = open(NEWROOT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0 || newfd < 0)
    return cab_error_sys(err, "open the host root");
  cleanup_dir DIR *d = fdopendir(cab_steal_fd(&dirfd));
  if (d == NULL)
    return cab_error_sys(err, "list the host root");
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    const char *name = e->d_name;
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
      continue;
    struct stat st;
    if (fstatat(fds->rootfs, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
      continue;
    if (S_ISLNK(st.st_mode)) {
      char target[PATH_MAX];
      ssize_t n = readlinkat(fds->rootfs, name, target, sizeof target - 1);
      if (n < 0)
        continue;
      target[n] = '\0';
      if (symlinkat(target, newfd, name) < 0)
        return cab_error_sys(err, "recreate /%s", name);
      continue;
    }
    bool is_dir = S_ISDIR(st.st_mode);
    if (is_dir ? mkdirat(newfd, name, st.st_mode & 07777) < 0
               : close(openat(newfd, name, O_CREAT | O_WRONLY | O_CLOEXEC, 0644)) < 0)
      return cab_error_sys(err, "create /%s in the root scaffold", name);
    /* proc, dev, sys and tmp get fresh mounts later. */
    if (strcmp(name, "proc") == 0 || strcmp(name, "dev") == 0 || strcmp(name, "sys") == 0 ||
        strcmp(name, "tmp") == 0)
      continue;
    cleanup_close int src = openat(fds->rootfs, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    cleanup_close int dst = openat(newfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    char sp[64], dp[64];
    fd_path(src, sp, sizeof sp);
    fd_path(dst, dp, sizeof dp);
    if (src < 0 || dst < 0 || mount(sp, dp, NULL, MS_BIND | MS_REC, NULL) < 0)
      return cab_error_sys(err, "bind the host's /%s", name);
    /* Read-only at once: the mount points made next can then only land in
     * cab's own tmpfs mounts, never in the host's tree. */
    cleanup_close int mnt = openat(newfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    fd_path(mnt, dp, sizeof dp);
    if (mnt < 0 || make_readonly(dp, true, err) < 0)
      return cab_error_prefix(err, "the host's /%s", name);
  }
  return 0;
}

/* Hide each of CFG's masks under an empty tmpfs.  It stays writable until
 * the root turns read-only, so the mount points of binds below a masked
 * tree can still be made in it.  A path we cannot reach is skipped: we
 * already hold the sandbox's own ids, so the command could not reach it
 * either. */
static int
mask_host_paths(const struct cab_sandbox_config *cfg, int rootfd, cab_error *err)
{
  for (size_t i = 0; i < cfg->n_masks; i++) {
    cleanup_close int fd = openat2_in_root(rootfd, cfg->masks[i], O_PATH | O_DIRECTORY);
    if (fd < 0) {
      if (errno == ENOENT || errno == EACCES || errno == ENOTDIR || errno == ELOOP)
        continue;
      return cab_error_sys(err, "mask %s", cfg->masks[i]);
    }
    char p[64];
    fd_path(fd, p, sizeof p);
    if (mount("tmpfs", p, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
              "mode=0755,size=64k,nr_inodes=256") < 0)
      return cab_error_sys(err, "mask %s", cfg->masks[i]);
  }
  return 0;
}

/* The overlay root: the rootfs is the lower layer, never written; upper/
 * and work/ live in the caller's per-run directory.  In a user namespace the
 * kernel (5.11+) needs "userxattr": overlay then keeps its metadata in
 * user.overlay.* xattrs.  "volatile" (5.10+) where the upper layer is thrown
 * away after the run: without it the last unmount syncs the whole upper
 * file system, which under another process's disk writes turned a 40 ms
 * run into hundreds of ms. */
static int
mount_overlay_root(const struct cab_sandbox_config *cfg, struct cab_host_fds *fds,
                   cab_error *err)
{
  int layer = fds->overlay;
  if (cfg->overlay_in_memory) {
    /* In memory: a tmpfs of our own under the staging tmpfs, gone with our
     * mount namespace (nothing on the host to create, sync or remove: on a
     * disk file system those were the most of an image run's cost).  Only
     * without a memory budget: the watchdog does not count this tmpfs. */
    if (cfg->limits.memory_bytes > 0)
      return cab_error_set(err, EINVAL, "an in-memory overlay layer cannot go with a memory "
                           "budget");
    if (mkdir(LAYER, 0700) < 0 ||
        mount("tmpfs", LAYER, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)
      return cab_error_sys(err, "mount the in-memory layer's tmpfs on " LAYER);
    fds->layer_tmpfs = open(LAYER, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fds->layer_tmpfs < 0)
      return cab_error_sys(err, "open " LAYER);
    layer = fds->layer_tmpfs;
  }
  if ((mkdirat(layer, "upper", 0755) < 0 && errno != EEXIST) ||
      (mkdirat(layer, "work", 0700) < 0 && errno != EEXIST))
    return cab_error_sys(err, "create the overlay's upper and work directories");
  cleanup_close int upper = openat(layer, "upper", O_PATH | O_DIRECTORY | O_CLOEXEC);
  cleanup_close int work = openat(layer, "work", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (upper < 0 || work < 0)
    return cab_error_sys(err, "open the overlay's upper and work directories");
  char opts[256];
  snprintf(opts, sizeof opts,
           "lowerdir=/proc/self/fd/%d,upperdir=/proc/self/fd/%d,workdir=/proc/self/fd/%d,"
           "userxattr%s",
           fds->rootfs, upper, work, cfg->overlay_volatile ? ",volatile" : "");
  if (mount("overlay", NEWROOT, "overlay", MS_NOSUID | MS_NODEV, opts) < 0)
    return cab_error_sys(err, "mount the overlay root (kernel 5.11+ needed in a user "
                              "namespace)");
  return 0;
}

int
cab_mounts_build_root(const struct cab_sandbox_config *cfg, struct cab_host_fds *fds,
                      cab_error *err)
{
  /* Nothing we mount may propagate back to the host's namespace. */
  if (mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0)
    return cab_error_sys(err, "make / a slave mount");

  /* A private staging tmpfs, visible only in our mount namespace.  Sources
   * were opened as fds beforehand, so covering the host's /tmp hides none. */
  if (mount("tmpfs", STAGING, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700,size=1m") < 0)
    return cab_error_sys(err, "mount the staging tmpfs on " STAGING);
  if (mkdir(NEWROOT, 0755) < 0)
    return cab_error_sys(err, "mkdir " NEWROOT);

  if (fds->overlay >= 0 || cfg->overlay_in_memory) {
    if (mount_overlay_root(cfg, fds, err) < 0)
      return -1;
  } else if (cfg->host_rootfs) {
    if (mount_host_scaffold(fds, err) < 0)
      return -1;
  } else {
    char src[64];
    fd_path(fds->rootfs, src, sizeof src);
    if (mount(src, NEWROOT, NULL, MS_BIND | MS_REC, NULL) < 0)
      return cab_error_sys(err, "bind the rootfs on " NEWROOT);
  }
  cleanup_close int rootfd = open(NEWROOT, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return cab_error_sys(err, "open " NEWROOT);
  /* On the host's /, what the agent must not see (the tasks' solutions,
   * cab's store and results, every home) goes under empty tmpfs mounts. */
  if (cfg->host_rootfs && mask_host_paths(cfg, rootfd, err) < 0)
    return -1;

  /* Mount points must exist before the root turns read-only.  In a
   * --rootfs tree cab may create missing ones; the host's / is never
   * written (its binds are read-only already: only the scaffold's tmpfs
   * and the masks' take new mount points). */
  bool create = true;
  static const char *const dirs[] = {"/proc", "/dev", "/sys", "/tmp", "/etc"};
  for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
    cleanup_close int fd = cab_open_in_root(rootfd, dirs[i], create, false, err);
    if (fd < 0)
      return cab_error_prefix(err, "the rootfs lacks %s and cab cannot create it", dirs[i]);
  }
  static const char *const files[] = {"/etc/hosts", "/etc/hostname", "/etc/resolv.conf"};
  for (size_t i = 0; i < 3; i++) {
    cleanup_close int fd = cab_open_in_root(rootfd, files[i], create, true, err);
    if (fd < 0 && !cfg->host_rootfs)
      return -1;
  }
  for (size_t i = 0; i < cfg->n_binds; i++) {
    if (strncmp(cfg->binds[i].dst, "/tmp/", 5) == 0 || below_earlier_bind(cfg, i))
      continue;
    struct stat st;
    if (fstat(fds->bind_src[i], &st) < 0)
      return cab_error_sys(err, "--bind source %s", cfg->binds[i].src);
    cleanup_close int fd =
        cab_open_in_root(rootfd, cfg->binds[i].dst, create, !S_ISDIR(st.st_mode), err);
    if (fd < 0 && cfg->host_rootfs)
      return cab_error_prefix(err, "--bind %s:%s: the destination is missing on the host, whose "
                              "/ cab never writes; bind below /tmp, a home or an existing "
                              "directory", cfg->binds[i].src, cfg->binds[i].dst);
    if (fd < 0)
      return cab_error_prefix(err, "--bind %s:%s: destination missing in the rootfs",
                              cfg->binds[i].src, cfg->binds[i].dst);
  }

  /* The root is read-only, nosuid and nodev, all the way down; an overlay
   * root stays writable, its writes landing in the per-run upper layer. */
  if (fds->overlay < 0 && !cfg->overlay_in_memory && !cfg->root_writable &&
      make_readonly(NEWROOT, true, err) < 0)
    return -1;

  if (setup_proc(rootfd, false, cfg->proc_readonly, err) < 0)
    return -1;
  if (setup_dev(rootfd, false, fds->dev, &cfg->limits, err) < 0)
    return -1;
  char tmpopts[96];
  tmpfs_options(&cfg->limits,
                cfg->limits.tmpfs_bytes > 0 ? cfg->limits.tmpfs_bytes : (int64_t)512 << 20,
                "1777", tmpopts, sizeof tmpopts);
  if (mount_fs_at(rootfd, "/tmp", false, "tmpfs", MS_NOSUID | MS_NODEV, tmpopts, err) < 0)
    return -1;
  /* sysfs needs a network namespace owned by our user namespace, which we
   * have; where the kernel still refuses, the sandbox simply has no /sys. */
  cab_error ignored = {0};
  mount_fs_at(rootfd, "/sys", false, "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
              NULL, &ignored);
  if (mask_paths(rootfd, fds->dev[0], err) < 0)
    return -1;
  if (setup_etc(cfg, rootfd, false, err) < 0)
    return -1;
  if (setup_binds(cfg, fds, rootfd, false, err) < 0)
    return -1;
  return pivot_into(NEWROOT, err);
}
