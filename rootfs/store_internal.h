/* Internals shared by the store's source files. */
#ifndef CAB_ROOTFS_STORE_INTERNAL_H
#define CAB_ROOTFS_STORE_INTERNAL_H

#include <cjson/cJSON.h>
#include <limits.h>

#include "rootfs/store_write.h"

struct cab_store {
  char home[PATH_MAX - 64];
  char oci[PATH_MAX];   /* home/oci */
  char blobs[PATH_MAX]; /* home/oci/blobs/sha256 */
  char tmp[PATH_MAX];   /* home/tmp */
  char locks[PATH_MAX]; /* home/locks */
  int use_fd;           /* the use lock, -1 when not held */
};

/* flock(PATH, OP) on a lock file under locks/, waiting at most WAIT_SECONDS
 * (-1: forever).  Returns the fd, or -1 with ERR set (EWOULDBLOCK on time-out). */
int cab_store_lock_file(const cab_store *s, const char *name, int op, int wait_seconds,
                        cab_error *err);

/* index.json, read (its "manifests" an array) and written atomically; the
 * caller holds locks/index.lock to change it. */
int cab_store_index_read(const cab_store *s, cJSON **out, cab_error *err);
/* index.lock taken exclusively (*LOCK, the caller closes it) and the index
 * read under it (*OUT, the caller frees it): the start of every change. */
int cab_store_index_lock_read(const cab_store *s, int *lock, cJSON **out, cab_error *err);
int cab_store_index_write(const cab_store *s, cJSON *root, cab_error *err);
/* E as an index.json entry (NULL when out of memory). */
cJSON *cab_store_index_entry(const cab_store_entry *e);

/* Create PATH with DATA unless it exists (link(2) of a temp file: atomic). */
int cab_create_file_once(const char *path, const void *data, size_t len, cab_error *err);

#endif
