/* Streaming SHA-256 with OpenSSL (layers, uploads, request hashes); the
 * text form is digest_text.c, a whole small buffer sha256_buffer.c. */
#include "common/sha256.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

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
