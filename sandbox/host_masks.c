#include "sandbox/host_masks.h"

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/cleanup.h"

/* What the sandbox needs of the host to run anything at all. */
static const char *const needed[] = {
    "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/usr", "/etc",
    "/dev", "/proc", "/sys", "/run", "/tmp", "/var", "/var/tmp", "/opt",
    /* where /bin, /sbin and /lib* point on a merged-/usr system */
    "/usr/bin", "/usr/sbin", "/usr/lib", "/usr/lib32", "/usr/lib64", "/usr/libx32",
};

/* PATH is a needed tree or one of its ancestors (masking it would hide
 * the tree). */
static bool
covers_needed(const char *path)
{
  if (strcmp(path, "/") == 0)
    return true;
  size_t n = strlen(path);
  for (size_t i = 0; i < sizeof needed / sizeof *needed; i++)
    if (strncmp(needed[i], path, n) == 0 && (needed[i][n] == '\0' || needed[i][n] == '/'))
      return true;
  return false;
}

int
cab_host_masks_add(struct cab_host_masks *m, const char *path, cab_error *err)
{
  if (path == NULL || *path == '\0')
    return 0;
  char real[PATH_MAX];
  /* realpath fails on what cab cannot reach: an unprivileged caller's
   * sandbox cannot reach it either, but an absolute path is kept anyway. */
  if (realpath(path, real) == NULL) {
    if (path[0] != '/' || strlen(path) >= sizeof real)
      return 0;
    snprintf(real, sizeof real, "%s", path);
  }
  struct stat st;
  if (covers_needed(path) || covers_needed(real) || (stat(real, &st) == 0 && !S_ISDIR(st.st_mode)) ||
      (stat(real, &st) < 0 && errno == ENOENT))
    return 0;
  for (size_t i = 0; i < m->n; i++)
    if (strcmp(m->paths[i], real) == 0)
      return 0;
  if (m->n == m->cap) {
    size_t ncap = m->cap ? m->cap * 2 : 16;
    char **np = realloc(m->paths, ncap * sizeof *np);
    if (np == NULL)
      return cab_error_sys(err, "allocate the masked paths");
    m->paths = np;
    m->cap = ncap;
  }
  if ((m->paths[m->n] = strdup(real)) == NULL)
    return cab_error_sys(err, "allocate the masked paths");
  m->n++;
  return 0;
}

/* System accounts have homes such as /usr/sbin (daemon) or /bin (sync):
 * the distribution's own trees, which the sandbox needs and which hold
 * nobody's secrets.  Their homes are not masked. */
static bool
in_system_tree(const char *path)
{
  static const char *const sys[] = {"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64",
                                    "/libx32", "/etc", "/dev", "/proc", "/sys"};
  for (size_t i = 0; i < sizeof sys / sizeof *sys; i++) {
    size_t n = strlen(sys[i]);
    if (strncmp(path, sys[i], n) == 0 && (path[n] == '\0' || path[n] == '/'))
      return true;
  }
  return false;
}

int
cab_host_masks_add_homes(struct cab_host_masks *m, cab_error *err)
{
  /* The file, not NSS: a directory service may list thousands of users
   * and take seconds; the homes on this host are in /etc/passwd. */
  cleanup_fclose FILE *f = fopen("/etc/passwd", "re");
  struct passwd *pw;
  while (f && (pw = fgetpwent(f)) != NULL)
    if (pw->pw_dir && pw->pw_dir[0] == '/' && !in_system_tree(pw->pw_dir) &&
        cab_host_masks_add(m, pw->pw_dir, err) < 0)
      return -1;
  if (cab_host_masks_add(m, "/home", err) < 0 || cab_host_masks_add(m, "/root", err) < 0)
    return -1;
  return cab_host_masks_add(m, getenv("HOME"), err);
}

void
cab_host_masks_free(struct cab_host_masks *m)
{
  for (size_t i = 0; i < m->n; i++)
    free(m->paths[i]);
  free(m->paths);
  m->paths = NULL;
  m->n = m->cap = 0;
}
