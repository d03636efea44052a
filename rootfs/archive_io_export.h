/* What cab export writes, shared by its two forms (internal): the layout
 * directory (archive_io_export.c) and the oci-archive tar
 * (archive_io_export_tar.c). */
#ifndef CAB_ROOTFS_ARCHIVE_IO_EXPORT_H
#define CAB_ROOTFS_ARCHIVE_IO_EXPORT_H

#include <cjson/cJSON.h>

#include "common/error.h"
#include "common/strv.h"
#include "rootfs/store.h"

/* The oci-layout file's whole text. */
#define CAB_OCI_LAYOUT_FILE "{\"imageLayoutVersion\":\"1.0.0\"}"

/* An empty OCI index (schemaVersion 2, no manifests), or NULL with ERR. */
cJSON *cab_export_new_index(cab_error *err);

/* IMG's entries added to INDEX (its manifest named by its ref, and a Docker
 * image's OCI twin), and every blob they need appended to BLOBS (digests:
 * layers, config, manifest, the index it came from, the twin). */
int cab_export_collect(const cab_store *s, const cab_image *img, cJSON *index,
                       struct cab_strv *blobs, cab_error *err);

#endif
