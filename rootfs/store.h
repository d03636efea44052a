/* The image store at $CAB_HOME (default ${XDG_DATA_HOME:-~/.local/share}/cab):
 *
 *   oci/                    a valid OCI image layout: oci-layout, index.json
 *                           (refs in org.opencontainers.image.ref.name),
 *                           blobs/sha256/<hex>
 *   rootfs/<manifest hex>/  unpacked rootfs caches (gc drops unreferenced ones)
 *   locks/, tmp/            flock files; staging for pulls and imports
 *
 * Every directory of the layout is 0700 (tightened when an older store is
 * opened): as root the rootfs trees keep their owners and setuid bits.
 * Blobs only ever enter the store complete and verified.  Everything that
 * reads, pulls or unpacks an image holds the store's shared "use" lock, and
 * cab gc takes it exclusively; a running cell holds its rootfs lock instead. */
#ifndef CAB_ROOTFS_STORE_H
#define CAB_ROOTFS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "rootfs/manifest.h"

typedef struct cab_store cab_store;

/* The store's directory when none is given: $CAB_HOME, else
 * $XDG_DATA_HOME/cab, else ~/.local/share/cab (BUF; -1 when unknowable). */
int cab_store_default_home(char *buf, size_t size, cab_error *err);

/* HOME NULL: $CAB_HOME or the default.  Creates the layout when missing. */
int cab_store_open(const char *home, cab_store **out, cab_error *err);
void cab_store_close(cab_store *s);
const char *cab_store_home(const cab_store *s);

/* Take / drop the shared use lock (also dropped by cab_store_close).  Hold
 * it while resolving, pulling, importing or unpacking. */
int cab_store_use(cab_store *s, cab_error *err);
void cab_store_unuse(cab_store *s);

/* A shared lock on $CAB_HOME/rootfs/<hex>.lock, for as long as a cell runs
 * on that rootfs: gc skips a rootfs whose lock is held.  Returns the fd. */
int cab_store_rootfs_lock(const cab_store *s, const char *manifest_digest, cab_error *err);

/* $CAB_HOME/oci/blobs/sha256/<hex>; validates DIGEST first. */
int cab_store_blob_path(const cab_store *s, const char *digest, char *buf, size_t size,
                        cab_error *err);
/* $CAB_HOME/rootfs/<manifest hex>. */
int cab_store_rootfs_path(const cab_store *s, const char *manifest_digest, char *buf,
                          size_t size, cab_error *err);

/* An image, resolved from the local store. */
typedef struct cab_layer {
  char digest[CAB_DIGEST_LEN + 1];  /* the blob, as stored */
  char diff_id[CAB_DIGEST_LEN + 1]; /* sha256 of the uncompressed tar */
  char media_type[128];
  int64_t size;
} cab_layer;

typedef struct cab_image {
  char name[300];                          /* the stored name that matched, or "" */
  char digest[CAB_DIGEST_LEN + 1];         /* the platform manifest */
  char index_digest[CAB_DIGEST_LEN + 1];   /* the index it came from, or "" */
  char config_digest[CAB_DIGEST_LEN + 1];
  char manifest_media_type[128];
  cab_image_config *config; /* Env, Entrypoint, Cmd, WorkingDir, User, platform */
  size_t n_layers;
  cab_layer *layers; /* bottom first */
} cab_image;

/* REF: a name ("busybox", "host:5000/x:tag"), a pinned "name@sha256:..." or
 * a bare "sha256:..." (manifest or index digest).  A digest matches whatever
 * name it was stored under.  ENOENT (err->errnum) when not in the store. */
int cab_image_resolve(cab_store *s, const char *ref, cab_image **out, cab_error *err);
void cab_image_free(cab_image *img);

#endif
