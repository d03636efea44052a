/* __attribute__((cleanup)) helpers, as crun's cleanup_free/cleanup_close:
 * resources are released when the variable leaves scope, so error paths
 * need no goto ladders. */
#ifndef CAB_COMMON_CLEANUP_H
#define CAB_COMMON_CLEANUP_H

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void
cab_freep(void *p)
{
  free(*(void **)p);
}

static inline void
cab_closep(int *fd)
{
  if (*fd >= 0) {
    int saved = errno;
    close(*fd);
    errno = saved;
  }
}

static inline void
cab_fclosep(FILE **f)
{
  if (*f)
    fclose(*f);
}

static inline void
cab_closedirp(DIR **d)
{
  if (*d)
    closedir(*d);
}

#define cleanup_free __attribute__((cleanup(cab_freep)))
#define cleanup_close __attribute__((cleanup(cab_closep)))
#define cleanup_fclose __attribute__((cleanup(cab_fclosep)))
#define cleanup_dir __attribute__((cleanup(cab_closedirp)))

/* Hand ownership out of a cleanup variable. */
static inline int
cab_steal_fd(int *fd)
{
  int r = *fd;
  *fd = -1;
  return r;
}

static inline void *
cab_steal_ptr(void *pp)
{
  void **p = pp;
  void *r = *p;
  *p = NULL;
  return r;
}

#endif
