/* Recursive removal relative to a directory fd, following no symlink and
 * coping with directories their owner cannot write or search (rootless:
 * a 0555 or 000 directory from an image). */
#include "rootfs/unpack_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"

void
cab_names_free(struct cab_names *l)
{
  for (size_t i = 0; i < l->n; i++)
    free(l->v[i]);
  free(l->v);
}

int
cab_names_list(int fd, struct cab_names *l, cab_error *err)
{
  int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return cab_error_sys(err, "opening a directory to list it");
  cleanup_dir DIR *d = fdopendir(dfd);
  if (d == NULL) {
    close(dfd);
    return cab_error_sys(err, "fdopendir");
  }
  struct dirent *de;
  errno = 0;
  while ((de = readdir(d)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    if (l->n == l->cap) {
      size_t cap = l->cap ? l->cap * 2 : 16;
      char **v = realloc(l->v, cap * sizeof *v);
      if (v == NULL)
        return cab_error_set(err, ENOMEM, "out of memory");
      l->v = v;
      l->cap = cap;
    }
    if ((l->v[l->n] = strdup(de->d_name)) == NULL)
      return cab_error_set(err, ENOMEM, "out of memory");
    l->n++;
  }
  if (errno != 0)
    return cab_error_sys(err, "readdir");
  return 0;
}

static int
remove_at(int dirfd, const char *name, int depth, cab_error *err)
{
  if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
    return 0;
  if (errno != EISDIR && errno != EPERM)
    return cab_error_sys(err, "removing '%s'", name);
  if (depth > 4096)
    return cab_error_set(err, ELOOP, "removing '%s': directories nested too deep", name);
  /* A directory.  O_PATH opens it whatever its mode, so that we can give it
   * u+rwx before reading and emptying it. */
  cleanup_close int fd = openat(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0)
    return cab_error_sys(err, "removing '%s'", name);
  if ((st.st_mode & S_IRWXU) != S_IRWXU && cab_fchmod_any(fd, S_IRWXU) < 0)
    return cab_error_sys(err, "removing '%s': chmod u+rwx", name);
  struct cab_names l = { 0 };
  int r = cab_names_list(fd, &l, err);
  for (size_t i = 0; r == 0 && i < l.n; i++)
    r = remove_at(fd, l.v[i], depth + 1, err);
  cab_names_free(&l);
  if (r < 0)
    return -1;
  if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
    return cab_error_sys(err, "removing the directory '%s'", name);
  return 0;
}

int
cab_unpack_remove(int dirfd, const char *name, cab_error *err)
{
  return remove_at(dirfd, name, 0, err);
}

int
cab_unpack_remove_tree(int dirfd, const char *name, cab_error *err)
{
  if (strchr(name, '/') != NULL || strcmp(name, ".") == 0 || strcmp(name, "..") == 0
      || *name == '\0')
    return cab_error_set(err, EINVAL, "cab_unpack_remove_tree: '%s' is not a plain name", name);
  return remove_at(dirfd, name, 0, err);
}
