#include "common/dir_iter.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
cab_dir_open_fd(int fd, const char *rel, DIR **out, cab_error *err)
{
  /* fdopendir takes the fd over: give it a duplicate, so the caller's fd
   * stays usable for *at() calls on the entries. */
  int dup_fd = dup(fd);
  if (dup_fd < 0)
    return cab_error_sys(err, "dup");
  *out = fdopendir(dup_fd);
  if (*out == NULL) {
    int e = errno;
    close(dup_fd);
    errno = e;
    return cab_error_sys(err, "opendir %s", *rel ? rel : ".");
  }
  return 0;
}

int
cab_dir_next(DIR *d, const char *rel, struct dirent **de, char *sub, size_t size, cab_error *err)
{
  while ((*de = readdir(d)) != NULL) {
    const char *name = (*de)->d_name;
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
      continue;
    if (snprintf(sub, size, "%s%s%s", rel, *rel ? "/" : "", name) >= (int)size)
      return cab_error_set(err, ENAMETOOLONG, "%s%s%s: path too long", rel, *rel ? "/" : "",
                           name);
    return 1;
  }
  return 0;
}
