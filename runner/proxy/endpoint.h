/* The upstream endpoint, parsed once: every call goes to BASE + the path the
 * client asked for, so the destination is pinned by cab, never by the
 * sandbox. */
#ifndef CAB_RUNNER_PROXY_ENDPOINT_H
#define CAB_RUNNER_PROXY_ENDPOINT_H

#include "common/error.h"

struct cab_endpoint {
  char *base;  /* "scheme://host[:port][/prefix]", no trailing "/" or "/v1" */
  char *host;  /* the host name for DNS and /etc/hosts; NULL for an IP
                  address or localhost */
};

/* URL: http(s)://host[:port][/prefix][/v1][/]; no credentials, query or
 * fragment.  "https://api.openai.com/v1" and "https://api.openai.com" mean
 * the same: clients already put /v1 in their paths. */
int cab_endpoint_parse(const char *url, struct cab_endpoint *ep, cab_error *err);

/* BASE + URI (which starts with a single "/"); malloc'd, NULL on ENOMEM. */
char *cab_endpoint_url(const struct cab_endpoint *ep, const char *uri);

void cab_endpoint_clear(struct cab_endpoint *ep);

#endif
