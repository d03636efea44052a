/* Shared by the adapter loader's files (adapter.c, adapter_mounts.c).  Not a
 * public header. */
#ifndef CAB_RUNNER_ADAPTER_INTERNAL_H
#define CAB_RUNNER_ADAPTER_INTERNAL_H

#include <cjson/cJSON.h>

#include "runner/adapters/adapter.h"

/* O[KEY]: an array of strings (absent or null: none), NULL-terminated. */
int cab_adapter_string_array(const cJSON *o, const char *key, char ***out, size_t *n,
                             const char *path, cab_error *err);

/* Free L's N strings and L. */
void cab_adapter_free_list(char **l, size_t n);

/* "mounts" and "sandbox" (adapter_mounts.c); PATH names the file in errors. */
int cab_adapter_parse_mounts(const cJSON *o, struct cab_adapter *a, const char *path,
                             cab_error *err);
int cab_adapter_parse_sandbox(const cJSON *o, struct cab_adapter *a, const char *path,
                              cab_error *err);
void cab_adapter_mounts_sandbox_free(struct cab_adapter *a);

#endif
