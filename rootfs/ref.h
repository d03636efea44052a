/* Docker image references: name[:tag][@sha256:...], with docker.io and
 * library/ as defaults, as distribution/reference normalises them. */
#ifndef CAB_ROOTFS_REF_H
#define CAB_ROOTFS_REF_H

#include <stddef.h>

#include "common/error.h"
#include "common/sha256.h"

#define CAB_REF_NAME_MAX 255 /* "domain/path", as Docker limits it */

typedef struct cab_ref {
  char domain[CAB_REF_NAME_MAX + 1]; /* "docker.io", "127.0.0.1:5000" */
  char path[CAB_REF_NAME_MAX + 1];   /* "library/busybox" */
  char tag[129];                     /* "" with a digest and no tag */
  char digest[CAB_DIGEST_LEN + 1];   /* "" when none */
} cab_ref;

/* Parse and normalise TEXT.  Without a tag or digest the tag is "latest".
 * The digest, when present, is validated. */
int cab_ref_parse(const char *text, cab_ref *ref, cab_error *err);

/* "domain/path". */
void cab_ref_name(const cab_ref *ref, char *buf, size_t size);

/* The stored form: "domain/path@digest" when pinned, else "domain/path:tag". */
void cab_ref_string(const cab_ref *ref, char *buf, size_t size);

/* Short display form of a stored name: "busybox", "user/x", "host:5000/x". */
void cab_ref_familiar(const char *name, char *buf, size_t size);

/* The host to talk to: docker.io is served by registry-1.docker.io. */
const char *cab_ref_registry_host(const cab_ref *ref);

#endif
