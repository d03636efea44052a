/* The cells below a results root and the fingerprint of that list. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/sha256.h"
#include "runner/results/internal.h"

int
cab_results_find(const char *root, struct cab_record_found_list *l, char fingerprint[65],
                 cab_error *err)
{
  if (cab_record_walk(root, 0, l, err) < 0)
    return -1;
  struct cab_sha256 *h = cab_sha256_new();
  if (h == NULL) {
    cab_record_found_free(l);
    return cab_error_set(err, ENOMEM, "sha256 of the cell list");
  }
  for (size_t i = 0; i < l->n; i++) {
    char line[64];
    int n = snprintf(line, sizeof line, "\n%lld %lld\n", (long long)l->v[i].size,
                     (long long)l->v[i].mtime_ns);
    cab_sha256_update(h, l->v[i].rel, strlen(l->v[i].rel));
    cab_sha256_update(h, line, (size_t)n);
  }
  char digest[CAB_DIGEST_LEN + 1];
  cab_sha256_final(h, digest);
  memcpy(fingerprint, digest + 7, 65);
  return 0;
}
