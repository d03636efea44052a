/* A registry API v2 client (libcurl) and cab pull.
 *
 * Redirects are followed by hand: Authorization goes only to the registry's
 * own origin, never to blob storage.  Transient failures are retried with
 * backoff; a broken blob download resumes with Range.  Every byte is hashed
 * and checked against the digest that named it.  libcurl is opened by
 * cab_registry_new (common/lazy_curl.h: cab_curl_load, which runs
 * curl_global_init once); a caller that starts threads first loads it. */
#ifndef CAB_ROOTFS_REGISTRY_H
#define CAB_ROOTFS_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "rootfs/manifest.h"
#include "rootfs/ref.h"
#include "rootfs/store_write.h"

typedef struct cab_registry_opts {
  bool insecure; /* plain http (also for hosts in $CAB_INSECURE_REGISTRIES) */
  bool progress; /* draw a progress bar on stderr */
  int attempts;  /* per request; 0 = default (6, or $CAB_PULL_ATTEMPTS) */
  int parallel;  /* concurrent blob downloads; 0 = default 4 */
} cab_registry_opts;

typedef struct cab_registry cab_registry;

int cab_registry_new(const cab_ref *ref, const cab_registry_opts *o, cab_registry **out,
                     cab_error *err);
void cab_registry_free(cab_registry *r);

/* GET /v2/<name>/manifests/<REFERENCE> (a tag or a digest).  BODY is
 * malloc'd (at most CAB_MANIFEST_MAX); CTYPE gets the Content-Type and
 * DOCKER_DIGEST the Docker-Content-Digest header ("" when absent). */
int cab_registry_manifest(cab_registry *r, const char *reference, char **body, size_t *len,
                          char *ctype, size_t ctype_size, char *docker_digest, cab_error *err);

/* A small blob into memory, checked against DIGEST and SIZE. */
int cab_registry_blob_mem(cab_registry *r, const char *digest, int64_t size, size_t max,
                          char **body, cab_error *err);

/* Download BLOBS into ST, concurrently, each checked while it streams. */
int cab_registry_blobs(cab_registry *r, cab_stage *st, const cab_descriptor *blobs, size_t n,
                       cab_error *err);

/* --- cab pull ---------------------------------------------------------------- */

typedef struct cab_pull_opts {
  const char *platform; /* "linux/amd64"; NULL = this host */
  bool insecure;
  bool progress;
} cab_pull_opts;

/* Pull REF into S and tag it.  PINNED gets "domain/path@sha256:..." (the
 * digest REF named, or the digest of what its tag pointed to). */
int cab_pull(cab_store *s, const char *ref, const cab_pull_opts *o, char *pinned, size_t size,
             cab_error *err);

#endif
