/* Offline image transfer: cab import and cab export.
 *
 * Import reads an OCI image layout (a directory or a tar of one) or a
 * `docker save` tar (the legacy manifest.json + <id>/layer.tar form, and
 * Docker 25's OCI-layout form).  Every blob is hashed against the digest
 * that names it - a legacy layer against its config diff_id - in a staging
 * area, and enters the store only when the whole archive checks out. */
#ifndef CAB_ROOTFS_ARCHIVE_IO_H
#define CAB_ROOTFS_ARCHIVE_IO_H

#include <stddef.h>

#include "common/error.h"
#include "rootfs/store.h"

typedef struct cab_import_opts {
  const char *name;     /* NAME[:TAG] for the image (one-image archives only) */
  const char *platform; /* for an index in a layout; NULL = this host */
} cab_import_opts;

typedef struct cab_imported {
  char name[300];                  /* the stored name */
  char digest[CAB_DIGEST_LEN + 1]; /* its manifest */
} cab_imported;

int cab_import(cab_store *s, const char *path, const cab_import_opts *o, cab_imported **out,
               size_t *n, cab_error *err);

/* Write REF as an OCI image layout in DIR (created, or merged into an
 * existing layout; the ref name goes into org.opencontainers.image.ref.name). */
int cab_export(cab_store *s, const char *ref, const char *dir, cab_error *err);

/* Write REF as an oci-archive: the tar of such a layout, at FILE, which
 * appears only once complete (an export killed half-way leaves no FILE, and
 * an existing FILE stays as it was until it is replaced whole). */
int cab_export_archive(cab_store *s, const char *ref, const char *file, cab_error *err);

#endif
