#include "sandbox/seccomp_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/userdir.h"

#define MAGIC "CABBPF1"
#define MAX_PROFILE_BYTES (1 << 20)

static uint64_t
fnv1a(const char *data, size_t len)
{
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < len; i++) {
    h ^= (unsigned char)data[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

int
cab_seccomp_cache_dir(char *buf, size_t size, cab_error *err)
{
  return cab_user_cache_dir("seccomp", buf, size, err);
}

const char *
cab_seccomp_cache_describe(char *buf, size_t size)
{
  char dir[PATH_MAX];
  cab_error ignored = {0};
  if (cab_seccomp_cache_dir(dir, sizeof dir, &ignored) == 0)
    snprintf(buf, size, "%s", dir);
  else
    snprintf(buf, size, "none: XDG_CACHE_HOME, HOME and CAB_HOME are unset or cannot be written, "
                        "so every run compiles Docker's profile again (about 35 ms); set CAB_HOME "
                        "or XDG_CACHE_HOME to a directory of yours");
  return buf;
}

int
cab_seccomp_cache_key(const struct cab_seccomp_config *cfg, char **key, size_t *key_len)
{
  struct stat exe;
  if (stat("/proc/self/exe", &exe) < 0)
    return -1;
  const struct scmp_version *v = seccomp_version();
  char *head = NULL;
  int n = asprintf(&head, "cab-seccomp-v1 exe=%llu:%llu:%lld.%09ld libseccomp=%u.%u.%u kind=%d caps=%016llx\n",
                   (unsigned long long)exe.st_ino, (unsigned long long)exe.st_size,
                   (long long)exe.st_mtim.tv_sec, exe.st_mtim.tv_nsec, v ? v->major : 0,
                   v ? v->minor : 0, v ? v->micro : 0, (int)cfg->kind,
                   (unsigned long long)cfg->caps);
  if (n < 0)
    return -1;
  if (cfg->kind != CAB_SECCOMP_FILE) {
    *key = head;
    *key_len = (size_t)n;
    return 0;
  }
  cleanup_free char *profile = NULL;
  size_t plen = 0;
  cab_error ignored = {0};
  if (cab_read_file_at(AT_FDCWD, cfg->path, MAX_PROFILE_BYTES, &profile, &plen, &ignored) < 0) {
    free(head);
    return -1;
  }
  char *full = malloc((size_t)n + plen);
  if (full == NULL) {
    free(head);
    return -1;
  }
  memcpy(full, head, (size_t)n);
  memcpy(full + n, profile, plen);
  free(head);
  *key = full;
  *key_len = (size_t)n + plen;
  return 0;
}

static void
entry_path(const char *dir, const char *key, size_t key_len, char *buf, size_t size)
{
  snprintf(buf, size, "%s/%016llx.bpf", dir, (unsigned long long)fnv1a(key, key_len));
}

int
cab_seccomp_cache_get(const char *key, size_t key_len, struct sock_filter **insns,
                      size_t *n_insns)
{
  char dir[PATH_MAX], path[PATH_MAX + 32];
  cab_error ignored = {0};
  /* 0700, and an older cache tightened, before anything is read from it
   * (a few microseconds: one mkdir, open and fstat). */
  if (cab_seccomp_cache_dir(dir, sizeof dir, &ignored) < 0)
    return -1;
  entry_path(dir, key, key_len, path, sizeof path);
  cleanup_free char *data = NULL;
  size_t len = 0;
  size_t max = sizeof MAGIC + sizeof(uint32_t) * 2 + key_len + BPF_MAXINSNS * sizeof **insns;
  /* A compiled filter is loaded as it is: only from a file that nobody but
   * us could have written (a cache directory may be someone else's, e.g.
   * root's cab with a user's HOME). */
  if (cab_read_file(AT_FDCWD, path, max, CAB_READ_NOFOLLOW | CAB_READ_OWN, &data, &len, NULL,
                    &ignored) < 0)
    return -1;
  size_t off = sizeof MAGIC;
  uint32_t klen, count;
  if (len < off + 8 || memcmp(data, MAGIC, sizeof MAGIC) != 0)
    return -1;
  memcpy(&klen, data + off, 4);
  if (klen != key_len || len < off + 4 + klen + 4 || memcmp(data + off + 4, key, key_len) != 0)
    return -1;
  off += 4 + klen;
  memcpy(&count, data + off, 4);
  off += 4;
  if (count == 0 || count > BPF_MAXINSNS || len != off + count * sizeof **insns)
    return -1;
  struct sock_filter *out = malloc(count * sizeof *out);
  if (out == NULL)
    return -1;
  memcpy(out, data + off, count * sizeof *out);
  *insns = out;
  *n_insns = count;
  return 0;
}

void
cab_seccomp_cache_put(const char *key, size_t key_len, const struct sock_filter *insns,
                      size_t n_insns)
{
  char dir[PATH_MAX], path[PATH_MAX + 32];
  cab_error ignored = {0};
  if (cab_seccomp_cache_dir(dir, sizeof dir, &ignored) < 0)
    return;
  entry_path(dir, key, key_len, path, sizeof path);
  size_t len = sizeof MAGIC + 8 + key_len + n_insns * sizeof *insns;
  cleanup_free char *data = malloc(len);
  if (data == NULL)
    return;
  uint32_t klen = (uint32_t)key_len, count = (uint32_t)n_insns;
  size_t off = 0;
  memcpy(data, MAGIC, sizeof MAGIC);
  off += sizeof MAGIC;
  memcpy(data + off, &klen, 4);
  off += 4;
  memcpy(data + off, key, key_len);
  off += key_len;
  memcpy(data + off, &count, 4);
  off += 4;
  memcpy(data + off, insns, n_insns * sizeof *insns);
  cab_write_file_atomic(path, data, len, 0600, &ignored);
}
