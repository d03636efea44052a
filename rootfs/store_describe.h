/* What the image commands show of the store: `cab images` (one summary per
 * stored name) and `cab inspect` (one image as JSON).  The JSON shapes live
 * here, beside the store they describe; the CLI only prints. */
#ifndef CAB_ROOTFS_STORE_DESCRIBE_H
#define CAB_ROOTFS_STORE_DESCRIBE_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/error.h"
#include "rootfs/store_write.h"

struct cab_image_summary {
  char repo[300];     /* the stored name without its tag or digest */
  char tag[200];      /* "" for a name stored by digest */
  char platform[100]; /* "linux/amd64", or "" when the entry has none */
  int64_t size;       /* bytes of the config and layers, -1 if unreadable */
};

/* E's summary (the verified manifest gives the size). */
void cab_store_entry_summary(const cab_store *s, const cab_store_entry *e,
                             struct cab_image_summary *out);

/* E and its summary as `cab images --json` shows one image.  NULL on
 * memory exhaustion. */
cJSON *cab_store_entry_json(const cab_store_entry *e, const struct cab_image_summary *sum);

/* The image REF resolves to, as `cab inspect` shows it: digests, platform,
 * the config's "config" and "created", layers, size and every name it is
 * stored under.  Returns 0, or -1 with ERR (cab_image_resolve's). */
int cab_store_inspect_json(cab_store *s, const char *ref, cJSON **out, cab_error *err);

#endif
