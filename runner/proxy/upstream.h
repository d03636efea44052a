/* Calls to the model endpoint with libcurl: one transfer per call, driven by
 * the thread of the client connection that asked for it (curl multi, so the
 * response head and then each piece of the body can be handed on as soon as
 * it arrives).  Upstream connections are reused across calls (a pool of
 * curl multi handles, each with its connection cache); TLS sessions and DNS
 * answers are shared (a curl share handle).  Retries happen here, before
 * the client has seen any byte of the response. */
#ifndef CAB_RUNNER_PROXY_UPSTREAM_H
#define CAB_RUNNER_PROXY_UPSTREAM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/error.h"
#include "common/lazy_curl.h"
#include "runner/proxy/endpoint.h"
#include "runner/proxy/wire.h"

struct cab_upstream_config {
  const struct cab_endpoint *endpoint;
  int retries;               /* after the first attempt */
  int retry_base_ms;         /* backoff: base, 2*base, 4*base... (max 8 s) */
  int timeout_s;             /* no byte from upstream for this long */
  int connect_timeout_ms;
  size_t max_response_bytes;
  const atomic_bool *stopping; /* set: every transfer gives up at once */
};

struct cab_upstream;
int cab_upstream_new(const struct cab_upstream_config *cfg, struct cab_upstream **out,
                     cab_error *err);
/* Use KEY (copied) for every call from now on, in the key header of the
 * call's wire (wire_ops.h: "Authorization: Bearer KEY", "x-api-key: KEY"). */
int cab_upstream_set_key(struct cab_upstream *u, const char *key, cab_error *err);
void cab_upstream_free(struct cab_upstream *u);

struct cab_xfer_request {
  const char *method;
  const char *uri;                   /* "/v1/...[?query]" */
  const char *body;
  size_t body_len;
  const struct curl_slist *headers;  /* the client's headers to pass on */
  enum cab_wire key_wire;            /* the key goes in this wire's key header */
};

struct cab_header {
  char *name, *value;
};

struct cab_xfer_head {
  int status;
  long long content_length;          /* -1: not given */
  const struct cab_header *headers;  /* end-to-end headers, in order */
  size_t n_headers;
};

struct cab_xfer;

/* Send the request and wait for the response head, retrying connect
 * failures, 429 and 5xx as configured.  Always sets *OUT (free it with
 * cab_xfer_free).  Returns 0 with the head available, or -1 when no
 * response came at all (ERR says why; cab_xfer_timed_out tells a timeout). */
int cab_xfer_start(struct cab_upstream *u, const struct cab_xfer_request *rq,
                   struct cab_xfer **out, cab_error *err);
const struct cab_xfer_head *cab_xfer_head(const struct cab_xfer *x);
int cab_xfer_attempts(const struct cab_xfer *x);
bool cab_xfer_timed_out(const struct cab_xfer *x);

/* The next bytes of the body: >0 bytes copied into BUF, 0 at its end, -1
 * when the transfer broke off (ERR filled). */
ssize_t cab_xfer_read(struct cab_xfer *x, char *buf, size_t max, cab_error *err);

void cab_xfer_free(struct cab_xfer *x);

#endif
