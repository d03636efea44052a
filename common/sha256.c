#include "common/sha256.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
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

struct cab_sha256 {
  EVP_MD_CTX *ctx;
};

struct cab_sha256 *
cab_sha256_new(void)
{
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
    EVP_MD_CTX_free(ctx);
    return NULL;
  }
  /* The context pointer is the whole state. */
  return (struct cab_sha256 *)ctx;
}

void
cab_sha256_update(struct cab_sha256 *h, const void *data, size_t len)
{
  EVP_DigestUpdate((EVP_MD_CTX *)h, data, len);
}

void
cab_sha256_final(struct cab_sha256 *h, char *out)
{
  unsigned char md[32];
  unsigned int len = 0;
  EVP_DigestFinal_ex((EVP_MD_CTX *)h, md, &len);
  EVP_MD_CTX_free((EVP_MD_CTX *)h);
  memcpy(out, "sha256:", 7);
  for (unsigned i = 0; i < 32; i++)
    snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
}

void
cab_sha256_buffer(const void *data, size_t len, char *out)
{
  struct cab_sha256 *h = cab_sha256_new();
  cab_sha256_update(h, data, len);
  cab_sha256_final(h, out);
}
