/* cab-agent's HTTP/1.1 client: one POST per connection, plain HTTP only.
 *
 * Names are resolved without NSS, which a static glibc cannot load
 * reliably: a numeric IPv4/IPv6 address is used as is, anything else is
 * looked up in /etc/hosts (the sandbox's maps model.cab.internal; the
 * environment variable CAB_AGENT_HOSTS_FILE names another file, for tests),
 * and "localhost" falls back to 127.0.0.1 and ::1.  There is no DNS: the
 * agent only ever talks to the cell's gateway.
 *
 * Responses may carry Content-Length, chunked transfer-encoding, or neither
 * (the body then runs to the end of the connection).  The whole exchange,
 * connect included, is bounded by one deadline. */
#ifndef CAB_AGENT_HTTP_H
#define CAB_AGENT_HTTP_H

#include <stddef.h>

struct http_url {
  char host[256];    /* without brackets for IPv6 literals */
  char hostport[300]; /* as written in the URL, for the Host header */
  int port;
  char path[1024];   /* the base path without a trailing '/', e.g. "/v1" */
};

/* http://HOST[:PORT][/PATH].  0, or -1 with a message in ERR. */
int http_parse_url(const char *url, struct http_url *u, char *err, size_t errlen);

#define HTTP_MAX_ADDRS 8
struct http_addrs {
  struct {
    int family;
    unsigned char addr[16];
  } a[HTTP_MAX_ADDRS];
  int n;
};

/* Resolve HOST as described above.  0, or -1 with a message in ERR. */
int http_resolve(const char *host, struct http_addrs *out, char *err, size_t errlen);

struct http_response {
  int status;
  char *body;          /* malloc'd, NUL-terminated */
  size_t len;
  int retry_after;     /* seconds from a Retry-After header, or -1 */
};

/* POST BODY (application/json) to U->path + SUFFIX, with an optional
 * "Authorization: Bearer KEY".  Returns 0 with any HTTP status filled in,
 * or -1 on a transport failure (resolve, connect, timeout, malformed
 * response) with a one-line message in ERR. */
int http_post_json(const struct http_url *u, const char *suffix, const char *key,
                   const char *body, size_t body_len, int timeout_s, struct http_response *r,
                   char *err, size_t errlen);

void http_response_free(struct http_response *r);

/* Decode a chunked body IN[0..N) into OUT.  Returns 0 when complete, 1 when
 * more input is needed, -1 when malformed.  (Exposed for the tests.) */
int http_dechunk(const char *in, size_t n, char **out, size_t *out_len);

#endif
