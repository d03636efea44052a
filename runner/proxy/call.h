/* One model call as the proxy sees it: the client's request, what went
 * back, and what it counted on the way (shared by handler.c, which moves
 * the bytes, call.c and record.c). */
#ifndef CAB_RUNNER_PROXY_CALL_H
#define CAB_RUNNER_PROXY_CALL_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "common/lazy_mhd.h"
#include "runner/model_api/cassette.h"
#include "runner/model_api/usage.h"
#include "runner/proxy/calllog.h"
#include "runner/proxy/redact.h"
#include "runner/proxy/request.h"
#include "runner/proxy/upstream.h"

struct cab_proxy;
struct cab_bridge;

struct cab_call {
  struct cab_proxy *p;
  char *uri;                 /* the raw request target */
  char *path;                /* without the query */
  bool seen;                 /* the access handler has had the headers */
  bool answered;             /* a response was queued: record at completion */
  int64_t seq;
  char method[16];
  struct timespec started;
  int64_t t0;                /* the request was complete */

  char *body;
  size_t len, cap;
  bool too_large;
  bool in_flight;            /* counted in the proxy's calls in flight */
  size_t reserved;           /* bytes of the proxy's buffered-bytes budget held */
  size_t body_limit;         /* Content-Length + 1, or 0 when not declared */
  bool over_budget;          /* the budget ran out while the body came in */

  struct cab_request_info info;
  struct cab_bridge *bridge;  /* the client speaks another wire (bridge.h) */
  bool local;                 /* answered by cab itself (a token count) */
  char replay_note[400];      /* replayed in order: how the request differed */
  const char *wire;           /* the client's wire when not the endpoint's
                                 (translated or refused), else NULL */
  bool usage_injected;
  char sha[72];

  struct cab_redactor *red;                /* live with a key: what goes back is
                                              redacted (redact.h) into REDQ */
  struct cab_byteq redq;
  bool raw_eos;                            /* the unredacted response ended */
  size_t key_hits;                         /* keys replaced in the response head */
  struct cab_xfer *xfer;                   /* live */
  const struct cab_cassette_entry *entry;  /* replay */
  size_t chunk, chunk_off;

  int status, attempts;
  char *content_type;
  int64_t ttfb_ns;
  size_t sent;
  long long expect_len;      /* the announced length, or -1 */
  bool ended;                /* the whole response went out */
  enum cab_call_fault fault;
  char error[700];

  bool sse;
  struct cab_sse_usage *scan;
  char *json;
  size_t json_len, json_cap;
  bool json_skip;

  struct cab_cassette_chunk *chunks;
  size_t n_chunks, cap_chunks;
};

/* A call for the request target URI (MHD's URI log callback); NULL on ENOMEM. */
struct cab_call *cab_call_new(struct cab_proxy *p, const char *uri);
void cab_call_free(struct cab_call *k);

/* N bytes of the response went to the client: time, usage, recording. */
void cab_call_account(struct cab_call *k, const char *data, size_t n);

/* The response's content type; text/event-stream starts the SSE scanner. */
void cab_call_content_type(struct cab_call *k, const char *ct);

/* What went wrong, and whose fault it is; the first error stays. */
void cab_call_error(struct cab_call *k, enum cab_call_fault fault, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* MHD is done with the call (TOE says how): write its record, and its
 * cassette entry when recording (record.c). */
void cab_call_finish(struct cab_call *k, enum MHD_RequestTerminationCode toe);

#endif
