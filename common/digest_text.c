/* The text form of a digest, "sha256:<64 lowercase hex>": validation only,
 * a file of its own so that the core cab (runner/cli/core.h) checks the
 * digests it reads without linking libcrypto. */
#include "common/sha256.h"

#include <errno.h>
#include <string.h>

bool
cab_digest_valid(const char *text)
{
  if (text == NULL || strncmp(text, "sha256:", 7) != 0 || strlen(text) != CAB_DIGEST_LEN)
    return false;
  for (const char *p = text + 7; *p; p++)
    if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
      return false;
  return true;
}

int
cab_digest_check(const char *text, const char *where, cab_error *err)
{
  if (cab_digest_valid(text))
    return 0;
  return cab_error_set(err, EINVAL,
                       "%s: invalid digest '%.80s'; expected sha256: and 64 lowercase hex digits",
                       where, text ? text : "(null)");
}
