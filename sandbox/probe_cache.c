#include "sandbox/probe_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/userdir.h"

#define CACHE_MAX 4096 /* a few keys: more is not ours */
#define CACHE_LINES 16

/* The first line of a small /proc file, without its newline ("-" when
 * absent: a missing sysctl is part of the key too). */
static void
read_line(const char *path, char *buf, size_t size)
{
  cleanup_fclose FILE *f = fopen(path, "re");
  if (f == NULL || fgets(buf, (int)size, f) == NULL)
    snprintf(buf, size, "-");
  buf[strcspn(buf, "\n")] = '\0';
}

static unsigned long long
ns_inode(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0 ? (unsigned long long)st.st_ino : 0;
}

int
cab_probe_cache_key(const char *probe, const char *fs_dir, char *key, size_t size)
{
  char boot[64], clone[32], max_ns[32], apparmor[32];
  struct utsname u;
  read_line("/proc/sys/kernel/random/boot_id", boot, sizeof boot);
  if (strcmp(boot, "-") == 0 || uname(&u) < 0)
    return -1;
  /* The restrictions preflight.c explains: a change of any is a new key. */
  read_line("/proc/sys/kernel/unprivileged_userns_clone", clone, sizeof clone);
  read_line("/proc/sys/user/max_user_namespaces", max_ns, sizeof max_ns);
  read_line("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", apparmor, sizeof apparmor);
  char fs[32] = "";
  if (fs_dir) {
    struct statfs sf;
    if (statfs(fs_dir, &sf) < 0)
      return -1;
    snprintf(fs, sizeof fs, " fs=%llx", (unsigned long long)sf.f_type);
  }
  int n = snprintf(key, size,
                   "%s boot=%s kernel=%s uid=%u gid=%u userns=%llu mntns=%llu "
                   "sysctl=%s,%s,%s%s",
                   probe, boot, u.release, (unsigned)geteuid(), (unsigned)getegid(),
                   ns_inode("/proc/self/ns/user"), ns_inode("/proc/self/ns/mnt"), clone, max_ns,
                   apparmor, fs);
  return n > 0 && (size_t)n < size ? 0 : -1;
}

int
cab_probe_cache_path(char *buf, size_t size)
{
  const char *run = getenv("XDG_RUNTIME_DIR");
  char dir[PATH_MAX];
  cab_error ignored = {0};
  if (run && run[0] == '/') {
    if (snprintf(dir, sizeof dir, "%s/cab", run) >= (int)sizeof dir)
      return -1;
  } else if (cab_user_cache_dir(NULL, dir, sizeof dir, &ignored) < 0) {
    return -1;
  }
  int n = snprintf(buf, size, "%s/host-probes", dir);
  return n > 0 && (size_t)n < size ? 0 : -1;
}

/* The cache's text, only when the file is ours alone: a regular file (not
 * followed through a symlink) owned by our uid, writable by no one else.
 * NULL otherwise, or when absent. */
static char *
read_trusted(const char *path)
{
  char *text = NULL;
  cab_error ignored = {0};
  if (cab_read_file(AT_FDCWD, path, CACHE_MAX, CAB_READ_NOFOLLOW | CAB_READ_OWN, &text, NULL, NULL,
                    &ignored) < 0)
    return NULL;
  return text;
}

static bool
has_line(const char *text, const char *key)
{
  size_t klen = strlen(key);
  for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
    if (strncmp(p, key, klen) == 0 && (p[klen] == '\n' || p[klen] == '\0'))
      return true;
  return false;
}

bool
cab_probe_cache_hit_in(const char *path, const char *key)
{
  cleanup_free char *text = read_trusted(path);
  return text != NULL && has_line(text, key);
}

bool
cab_probe_cache_hit(const char *key)
{
  char path[PATH_MAX];
  return cab_probe_cache_path(path, sizeof path) == 0 && cab_probe_cache_hit_in(path, key);
}

/* " boot=<id> " of KEY: the lines of other boots are dropped on a put. */
static bool
same_boot(const char *line, size_t len, const char *key)
{
  const char *b = strstr(key, " boot=");
  if (b == NULL)
    return false;
  size_t blen = strcspn(b + 1, " ") + 1;
  for (size_t i = 0; i + blen <= len; i++)
    if (memcmp(line + i, b, blen) == 0)
      return true;
  return false;
}

void
cab_probe_cache_put_in(const char *path, const char *key)
{
  cleanup_free char *old = read_trusted(path);
  if (old && has_line(old, key))
    return;
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  cab_error ignored = {0};
  if (slash == NULL || slash == dir)
    return;
  *slash = '\0';
  if (cab_mkdir_private(dir, &ignored) < 0)
    return;
  char text[CACHE_MAX + CAB_PROBE_KEY_MAX + 2];
  size_t used = 0;
  int lines = 0;
  /* This boot's other keys first (at most CACHE_LINES - 1), then KEY. */
  for (const char *p = old; p && *p && lines < CACHE_LINES - 1;) {
    size_t len = strcspn(p, "\n");
    if (len > 0 && len < CAB_PROBE_KEY_MAX && same_boot(p, len, key) &&
        used + len + 1 < CACHE_MAX) {
      memcpy(text + used, p, len);
      text[used + len] = '\n';
      used += len + 1;
      lines++;
    }
    p += len;
    if (*p == '\n')
      p++;
  }
  used += (size_t)snprintf(text + used, sizeof text - used, "%s\n", key);
  cab_write_file_atomic(path, text, used, 0600, &ignored);
}

void
cab_probe_cache_put(const char *key)
{
  char path[PATH_MAX];
  if (cab_probe_cache_path(path, sizeof path) == 0)
    cab_probe_cache_put_in(path, key);
}
