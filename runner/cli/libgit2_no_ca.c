/* cab-full only: libgit2 without its TLS trust store.
 *
 * Debian's libgit2 (1.5, built with mbedTLS) parses the whole system CA
 * bundle, /etc/ssl/certs/ca-certificates.crt, inside git_libgit2_init(),
 * unconditionally: a path compiled in, no option to skip it, and no option
 * can be set before init.  That is ~5 ms of CPU in every cell (the snapshot
 * store opens libgit2 once per cell), and cab never uses libgit2's network
 * transports: snapshots and diffs are local (runner/cell/snapshot.c), and
 * registries and the model proxy go through libcurl with OpenSSL.
 *
 * This definition, in the executable, takes the place of mbedTLS's for every
 * library cab-full loads (the executable comes first in the dynamic linker's
 * lookup; only libgit2 links mbedTLS here, `ldd build/cab-full`).  It loads
 * nothing and says the file could not be read: libgit2 then keeps no CA
 * chain, which fails closed, as libgit2 checks every peer certificate against
 * the chain (verify_server_cert): an HTTPS remote would be refused, never
 * trusted.  With a libgit2 built on OpenSSL or without TLS the symbol is not
 * looked up at all and this does nothing.  tests/integration/cell_oracle.sh
 * checks that a cell reads no CA bundle. */

struct mbedtls_x509_crt;

int mbedtls_x509_crt_parse_file(struct mbedtls_x509_crt *chain, const char *path);

/* MBEDTLS_ERR_X509_FILE_IO_ERROR (mbedtls/x509.h, 2.x and 3.x alike). */
#define NO_CA_FILE (-0x2900)

int
mbedtls_x509_crt_parse_file(struct mbedtls_x509_crt *chain, const char *path)
{
  (void)chain;
  (void)path;
  return NO_CA_FILE;
}
