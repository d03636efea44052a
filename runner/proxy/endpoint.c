#include "runner/proxy/endpoint.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/cleanup.h"
#include "common/lazy_curl.h"

static void
curl_freep(char **p)
{
  curl_free(*p);
}
#define cleanup_curl __attribute__((cleanup(curl_freep)))

static void
urlp_free(CURLU **u)
{
  if (*u)
    curl_url_cleanup(*u);
}

static bool
is_ip_literal(const char *host)
{
  char buf[64];
  struct in6_addr a6;
  size_t n = strlen(host);
  if (n >= 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof buf) {
    memcpy(buf, host + 1, n - 2);
    buf[n - 2] = '\0';
    return inet_pton(AF_INET6, buf, &a6) == 1;
  }
  return inet_pton(AF_INET, host, &a6) == 1 || inet_pton(AF_INET6, host, &a6) == 1;
}

int
cab_endpoint_parse(const char *url, struct cab_endpoint *ep, cab_error *err)
{
  memset(ep, 0, sizeof *ep);
  if (cab_curl_load(err) < 0)
    return -1;
  __attribute__((cleanup(urlp_free))) CURLU *u = curl_url();
  if (u == NULL)
    return cab_error_set(err, ENOMEM, "--endpoint");
  if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
    return cab_error_set(err, 0, "--endpoint %s: not a URL; expected http(s)://HOST[:PORT][/PATH]",
                         url);
  cleanup_curl char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *user = NULL,
                    *query = NULL, *frag = NULL;
  curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
  curl_url_get(u, CURLUPART_HOST, &host, 0);
  curl_url_get(u, CURLUPART_PORT, &port, 0);
  curl_url_get(u, CURLUPART_PATH, &path, 0);
  curl_url_get(u, CURLUPART_USER, &user, 0);
  curl_url_get(u, CURLUPART_QUERY, &query, 0);
  curl_url_get(u, CURLUPART_FRAGMENT, &frag, 0);
  if (scheme == NULL || (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0))
    return cab_error_set(err, 0, "--endpoint %s: the scheme must be http or https", url);
  if (host == NULL || host[0] == '\0')
    return cab_error_set(err, 0, "--endpoint %s: no host name", url);
  if (user)
    return cab_error_set(err, 0,
                         "--endpoint %s: credentials do not belong in the URL; pass the key's "
                         "variable name with --key-env",
                         url);
  if (query || frag)
    return cab_error_set(err, 0, "--endpoint %s: drop the query or fragment", url);

  for (char *c = host; *c; c++) /* host names ignore case; compare them lower-cased */
    if (*c >= 'A' && *c <= 'Z')
      *c = (char)(*c + 32);
  /* The prefix: the path without trailing slashes and one trailing /v1. */
  size_t plen = path ? strlen(path) : 0;
  while (plen > 0 && path[plen - 1] == '/')
    plen--;
  if (plen >= 3 && strncmp(path + plen - 3, "/v1", 3) == 0)
    plen -= 3;
  while (plen > 0 && path[plen - 1] == '/')
    plen--;
  if (asprintf(&ep->base, "%s://%s%s%s%.*s", scheme, host, port ? ":" : "", port ? port : "",
               (int)plen, path ? path : "") < 0) {
    ep->base = NULL;
    return cab_error_set(err, ENOMEM, "--endpoint");
  }
  for (char *c = ep->base; *c && *c != ':'; c++)
    *c = (char)(*c | 0x20); /* lower-case scheme */
  if (!is_ip_literal(host) && strcasecmp(host, "localhost") != 0) {
    ep->host = strdup(host);
    if (ep->host == NULL) {
      cab_endpoint_clear(ep);
      return cab_error_set(err, ENOMEM, "--endpoint");
    }
  }
  return 0;
}

char *
cab_endpoint_url(const struct cab_endpoint *ep, const char *uri)
{
  char *out;
  if (asprintf(&out, "%s%s", ep->base, uri) < 0)
    return NULL;
  return out;
}

void
cab_endpoint_clear(struct cab_endpoint *ep)
{
  free(ep->base);
  free(ep->host);
  ep->base = ep->host = NULL;
}
