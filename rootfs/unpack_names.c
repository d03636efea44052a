/* The names in a directory, read in full before the caller changes it. */
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
