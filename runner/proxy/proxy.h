/* The accounting proxy: the sandbox's one way to its model.
 *
 * It serves HTTP/1.1 (keep-alive) on a listening socket that lives in the
 * sandbox's gateway namespace and relays every call to the endpoint with
 * libcurl from the host's namespace, adding the real API key there.  Each
 * call is counted (usage from the JSON body or the final SSE event), timed
 * and, on request, appended to model_calls.jsonl and to a cassette; with a
 * cassette to replay it answers without any upstream.
 *
 * It is no general relay: only the model API calls of the endpoint's wire
 * go upstream (allow.h), nothing it sends back holds the key (redact.h),
 * and what the sandbox can make it hold is bounded (max_calls,
 * max_buffered_bytes below): it runs in cab, outside the cell's cgroup.
 *
 * Two steps, because of the key: cab_proxy_new() checks everything that can
 * fail early, before the sandbox exists, and never reads the key;
 * cab_proxy_start() runs once the sandbox's init has been cloned (the
 * gateway's on_ready), and only then copies the key into cab's memory, so
 * no process inside ever holds a copy of it. */
#ifndef CAB_RUNNER_PROXY_PROXY_H
#define CAB_RUNNER_PROXY_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "runner/proxy/wire.h"

/* What the sandbox holds instead of the key, and what the proxy puts in
 * the key's place wherever an upstream hands the key back. */
#define CAB_PROXY_PLACEHOLDER_KEY "cab-placeholder-key"

struct cab_proxy_config {
  const char *endpoint;        /* upstream base URL; may be NULL with replay */
  const char *key_env;         /* host variable holding the key, or NULL */
  const char *calls_path;      /* model_calls.jsonl to append to, or NULL */
  const char *record_path;     /* cassette to write, or NULL */
  const char *record_for[3];   /* tui, model, task_id: the cassette's identity
                                  line (model/cassette.h), or NULLs */
  const char *replay_path;     /* cassette to answer from, or NULL */
  bool replay_order;           /* answer a request that differs from the recording
                                  with the next entry of its method and path (real
                                  agents' requests carry session ids, dates...) */
  int retries;                 /* retries of connect failures, 429 and 5xx */
  int retry_base_ms;           /* first backoff, doubled each time (default 200) */
  int upstream_timeout_s;      /* no byte from upstream for this long (default 600) */
  int connect_timeout_ms;      /* default 10000 */
  int idle_timeout_s;          /* an idle or stalled client connection (default 60) */
  size_t max_request_bytes;    /* default 32 MiB */
  size_t max_response_bytes;   /* default 256 MiB */
  /* The proxy runs in cab, outside the cell's cgroup: what the sandbox can
   * make it hold is bounded here, not by the cell's --memory. */
  unsigned max_connections;    /* open client connections (default 256, each at
                                  most 128 KiB of headers); beyond them a
                                  connection is closed at once */
  unsigned max_calls;          /* calls in flight (default 16); beyond them a
                                  call is answered 503 in its wire's shape */
  size_t max_buffered_bytes;   /* request bodies held at once, all calls
                                  together (default 64 MiB); beyond: 503 */
  enum cab_wire endpoint_wire; /* what the endpoint speaks (default chat): clients of
                                  another wire are translated to chat (bridge.h) */
  int give_up_after;           /* this many calls in a row that could not reach the
                                  upstream (after their retries) and the proxy gives
                                  up: it writes 1 to GIVE_UP_FD (an eventfd the
                                  sandbox watches, sandbox.h stop_fd), so an agent
                                  that retries forever is stopped; 0: never */
  int give_up_fd;
};

struct cab_proxy_totals {
  int64_t model_calls;         /* calls answered (any outcome) */
  int64_t prompt_tokens, completion_tokens, total_tokens, cached_tokens;
  int64_t model_call_ms;       /* sum of the calls' latencies */
  int64_t ok, infra_errors, client_errors;
  int64_t calls_without_usage; /* ok POSTs whose response carried no usage */
  int64_t key_reflected;       /* calls whose answer held the real key (the client
                                  got the placeholder; record: key_redacted) */
  int64_t busy_refusals;       /* calls answered 503: too many in flight, or
                                  the buffered-bytes budget was used up */
  int64_t usage_clamped;       /* calls with a usage figure that was not a count
                                  (runner/model_api/usage.h: counted as the maximum) */
  int64_t replay_misses;       /* requests the cassette had no answer for */
  char first_replay_miss[512]; /* the first one's error, "" if none */
  int64_t record_errors;       /* calls --record could not write */
  char first_record_error[512];
  int64_t unreachable_streak;  /* the longest run of calls that could not reach
                                  the upstream */
  bool gave_up;                /* give_up_after was reached */
};

struct cab_proxy;

int cab_proxy_new(const struct cab_proxy_config *cfg, struct cab_proxy **out, cab_error *err);

/* The endpoint's host name, for DNS and /etc/hosts; NULL when the endpoint
 * is an IP address, "localhost" or absent (replay). */
const char *cab_proxy_endpoint_host(const struct cab_proxy *p);

/* Serve LISTEN_FD (a listening TCP socket; the proxy owns it from now on,
 * also on failure).  Reads the key from the environment now. */
int cab_proxy_start(struct cab_proxy *p, int listen_fd, cab_error *err);

/* Port of the listening socket (after start); for tests. */
unsigned cab_proxy_port(const struct cab_proxy *p);

/* Stop serving: open calls are cut, and every call's record is written by
 * the time it returns (so that the totals after it count them all).
 * Idempotent; cab_proxy_free() does it too. */
void cab_proxy_stop(struct cab_proxy *p);

/* A consistent snapshot of the totals so far. */
void cab_proxy_totals(struct cab_proxy *p, struct cab_proxy_totals *t);

/* Stop serving (open calls are cut), flush the records, wipe the key. */
void cab_proxy_free(struct cab_proxy *p);

#endif
