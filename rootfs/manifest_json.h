/* cJSON helpers shared by the image modules (internal). */
#ifndef CAB_ROOTFS_MANIFEST_JSON_H
#define CAB_ROOTFS_MANIFEST_JSON_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "common/error.h"
#include "rootfs/manifest.h"

/* Parse LEN bytes of DATA as one JSON object; refuse duplicate keys (a
 * parser differential: cJSON keeps the first, Go the last) and trailing
 * garbage.  WHAT names the document in errors. */
cJSON *cab_json_parse_strict(const char *data, size_t len, const char *what, cab_error *err);

/* The string value of KEY, or NULL when absent or not a string. */
const char *cab_json_str(const cJSON *obj, const char *key);

/* A NULL-terminated copy of a string array (NULL if absent or null).
 * Returns -1 with ERR set if present but not an array of strings. */
int cab_json_strv(const cJSON *obj, const char *key, char ***out, cab_error *err);
void cab_argv_free(char **v);

/* Parse one descriptor object; WHERE names it in errors. */
int cab_json_descriptor(const cJSON *obj, const char *where, cab_descriptor *d, cab_error *err);

/* cab_digest_check, with errnum 0: the message says everything. */
int cab_digest_require(const char *text, const char *where, cab_error *err);

/* A descriptor as a new JSON object (mediaType, digest, size, platform). */
cJSON *cab_json_from_descriptor(const cab_descriptor *d);

#endif
