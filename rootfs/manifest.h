/* OCI and Docker schema2 image documents: index / manifest list, manifest,
 * image config.  Parsing validates every digest, refuses schema1, foreign
 * layers and documents that read as both a manifest and an index
 * (CVE-2021-41190). */
#ifndef CAB_ROOTFS_MANIFEST_H
#define CAB_ROOTFS_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/sha256.h"

#define CAB_MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define CAB_MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define CAB_MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define CAB_MT_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"
#define CAB_MT_OCI_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define CAB_MT_OCI_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
#define CAB_MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define CAB_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define CAB_MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define CAB_MT_DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define CAB_MT_DOCKER_LAYER "application/vnd.docker.image.rootfs.diff.tar"

/* Upper bounds for documents held in memory. */
#define CAB_MANIFEST_MAX (4 << 20)
#define CAB_CONFIG_MAX (16 << 20)

typedef struct cab_platform {
  char os[32];
  char architecture[65]; /* as long as utsname's machine, which cab_platform_host copies */
  char variant[32];
} cab_platform;

typedef struct cab_descriptor {
  char media_type[128];
  char digest[CAB_DIGEST_LEN + 1];
  int64_t size;
  bool has_platform;
  cab_platform platform;
} cab_descriptor;

typedef enum { CAB_DOC_MANIFEST = 1, CAB_DOC_INDEX = 2 } cab_doc_kind;

typedef struct cab_manifest {
  cab_doc_kind kind;
  char media_type[128]; /* the effective media type */
  cab_descriptor config; /* manifests */
  size_t n_layers;
  cab_descriptor *layers;
  size_t n_manifests; /* indexes */
  cab_descriptor *manifests;
} cab_manifest;

typedef struct cab_image_config {
  cab_platform platform;
  char **env, **entrypoint, **cmd; /* NULL-terminated, or NULL when absent */
  char *working_dir, *user;        /* NULL when absent */
  size_t n_diff_ids;
  char (*diff_ids)[CAB_DIGEST_LEN + 1];
} cab_image_config;

/* True for the media types of indexes/lists and of manifests. */
bool cab_mt_is_index(const char *media_type);
bool cab_mt_is_manifest(const char *media_type);

/* Parse DATA.  CONTENT_TYPE is the HTTP Content-Type or the descriptor's
 * mediaType it was reached by (NULL or "" when unknown); it must agree with
 * the document's own mediaType. */
int cab_manifest_parse(const char *data, size_t len, const char *content_type,
                       cab_manifest **out, cab_error *err);
void cab_manifest_free(cab_manifest *m);

/* "linux/amd64", "linux/arm64/v8"; NULL or "" means this host. */
int cab_platform_parse(const char *text, cab_platform *p, cab_error *err);
void cab_platform_host(cab_platform *p);
void cab_platform_string(const cab_platform *p, char *buf, size_t size);
bool cab_platform_match(const cab_platform *want, const cab_platform *have);

/* The index entry for WANT; an error lists the platforms on offer. */
int cab_index_select(const cab_manifest *index, const cab_platform *want,
                     const cab_descriptor **out, cab_error *err);

int cab_config_parse(const char *data, size_t len, cab_image_config **out, cab_error *err);
void cab_config_free(cab_image_config *c);

#endif
