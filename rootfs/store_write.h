/* Writing to the image store: staged blobs, refs in index.json, gc.
 * Used by pull, import and the image commands; cab exec needs store.h only. */
#ifndef CAB_ROOTFS_STORE_WRITE_H
#define CAB_ROOTFS_STORE_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "rootfs/manifest.h"
#include "rootfs/store.h"

/* --- blobs ---------------------------------------------------------------- */

/* True when the store holds DIGEST (validated) with SIZE bytes (-1: any). */
bool cab_store_has_blob(const cab_store *s, const char *digest, int64_t size);

/* Read a small blob and check its digest again (the store is on the user's
 * disk; a manifest or config is re-hashed every time it is read). */
int cab_store_read_blob(const cab_store *s, const char *digest, size_t max, char **out,
                        size_t *len, cab_error *err);

/* --- staging: blobs arrive in a private directory under tmp/ and enter the
 * store only when the whole image is verified (cab_stage_commit). -------- */

typedef struct cab_stage cab_stage;
int cab_stage_new(cab_store *s, cab_stage **out, cab_error *err);
void cab_stage_free(cab_stage *st); /* removes whatever was not committed */
int cab_stage_dirfd(const cab_stage *st);
/* True when the stage holds a finished blob DIGEST of SIZE bytes (-1: any). */
bool cab_stage_has(const cab_stage *st, const char *digest, int64_t size);

/* A streaming writer that hashes as it goes.  EXPECTED may be NULL (the blob
 * is named by what it hashes to); SIZE -1 when unknown. */
typedef struct cab_blob_writer cab_blob_writer;
int cab_blob_open(cab_stage *st, const char *expected, int64_t size, cab_blob_writer **out,
                  cab_error *err);
int cab_blob_write(cab_blob_writer *w, const void *data, size_t len, cab_error *err);
int64_t cab_blob_written(const cab_blob_writer *w);
/* Start again from byte 0 (a server ignored a Range request). */
int cab_blob_reset(cab_blob_writer *w, cab_error *err);
/* Check size and digest, fsync, and name the file <hex> in the stage.
 * DIGEST_OUT (may be NULL) gets the digest.  Frees W either way. */
int cab_blob_finish(cab_blob_writer *w, char *digest_out, cab_error *err);
void cab_blob_abort(cab_blob_writer *w);

/* Stage a buffer / copy an fd, checking EXPECTED (NULL: compute). */
int cab_stage_put(cab_stage *st, const void *data, size_t len, const char *expected,
                  char *digest_out, cab_error *err);
int cab_stage_put_fd(cab_stage *st, int fd, const char *expected, int64_t size,
                     char *digest_out, cab_error *err);

/* Move the staged blobs DIGESTS into the store (a blob the store already has
 * is dropped from the stage). */
int cab_stage_commit(cab_stage *st, const char *const *digests, size_t n, cab_error *err);

/* --- refs in index.json ------------------------------------------------------ */

typedef struct cab_store_entry {
  char name[300];                        /* org.opencontainers.image.ref.name */
  cab_descriptor manifest;               /* with platform when known */
  char index_digest[CAB_DIGEST_LEN + 1]; /* io.cab.image.index.digest, or "" */
  char twin_of[CAB_DIGEST_LEN + 1];      /* io.cab.image.oci-twin-of, or "" */
} cab_store_entry;

/* Add E, replacing any entry of the same name (under the index lock).
 * A Docker schema2 manifest also gets an "OCI twin" entry of the same name:
 * the same config and layers under an OCI manifest, because OCI-layout
 * readers (skopeo's oci: transport) skip Docker media types.  Twins are
 * hidden from cab_store_list and go away with their image. */
int cab_store_tag(cab_store *s, const cab_store_entry *e, cab_error *err);
/* Remove the entries matching REF (a name, name@digest or sha256:digest);
 * *REMOVED gets how many. */
int cab_store_untag(cab_store *s, const char *ref, size_t *removed, cab_error *err);
int cab_store_list(const cab_store *s, cab_store_entry **out, size_t *n, cab_error *err);
/* The same with the OCI twins (for gc and export). */
int cab_store_list_all(const cab_store *s, cab_store_entry **out, size_t *n, cab_error *err);

/* Find entries for REF: a stored name or a digest (manifest or index). */
int cab_store_lookup(const cab_store *s, const char *ref, cab_store_entry *out, cab_error *err);

/* --- gc ------------------------------------------------------------------------ */

typedef struct cab_gc_report {
  size_t blobs_removed, rootfs_removed, rootfs_busy;
  size_t unpacks_removed;     /* .tmp trees of interrupted unpacks */
  int64_t blob_bytes_freed;   /* the blobs' part of BYTES_FREED */
  int64_t bytes_freed;        /* blobs + rootfs caches + unpack leftovers */
} cab_gc_report;

/* Drop blobs, staging leftovers and rootfs caches no ref needs.  Takes the
 * use lock exclusively: waits up to WAIT_SECONDS for other cab processes. */
int cab_store_gc(cab_store *s, int wait_seconds, cab_gc_report *rep, cab_error *err);

/* Remove the trees interrupted unpacks left in the rootfs cache (those
 * whose unpack lock is free); cheap when there are none: one readdir. */
int cab_store_reap_unpacks(const cab_store *s, cab_error *err);

/* The annotation keys. */
#define CAB_ANNOT_REF_NAME "org.opencontainers.image.ref.name"
#define CAB_ANNOT_INDEX_DIGEST "io.cab.image.index.digest"
#define CAB_ANNOT_TWIN_OF "io.cab.image.oci-twin-of"

#endif
