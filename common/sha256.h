/* SHA-256 and its text form, "sha256:<64 lowercase hex>": the OCI digest
 * that names image blobs, and the hash runner/ keeps of plans, tasks, cell
 * lists and requests.  Every digest string read from outside is validated
 * before it reaches a path or a URL (CVE-2024-3727). */
#ifndef CAB_COMMON_SHA256_H
#define CAB_COMMON_SHA256_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

#define CAB_DIGEST_LEN 71 /* "sha256:" + 64 hex */

/* True when TEXT is exactly "sha256:" followed by 64 lowercase hex digits. */
bool cab_digest_valid(const char *text);

/* Like cab_digest_valid, with an error naming WHERE the digest came from. */
int cab_digest_check(const char *text, const char *where, cab_error *err);

/* Streaming SHA-256. */
struct cab_sha256;
struct cab_sha256 *cab_sha256_new(void);
void cab_sha256_update(struct cab_sha256 *h, const void *data, size_t len);
/* Writes "sha256:<hex>" into OUT (at least CAB_DIGEST_LEN + 1 bytes) and frees H. */
void cab_sha256_final(struct cab_sha256 *h, char *out);

/* Digest of a whole buffer. */
void cab_sha256_buffer(const void *data, size_t len, char *out);

#endif
