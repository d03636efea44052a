/* The proxy's state, shared by proxy.c (lifecycle) and handler.c (calls). */
#ifndef CAB_RUNNER_PROXY_PROXY_INTERNAL_H
#define CAB_RUNNER_PROXY_PROXY_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "common/lazy_mhd.h"
#include "runner/model_api/cassette.h"
#include "runner/proxy/calllog.h"
#include "runner/proxy/endpoint.h"
#include "runner/proxy/proxy.h"
#include "runner/proxy/upstream.h"

struct cab_proxy {
  struct cab_proxy_config cfg;
  struct cab_endpoint ep;           /* ep.base NULL in pure replay */
  struct cab_upstream *up;          /* NULL in replay */
  char *key;                        /* the real key (wiped when freed), or NULL:
                                       redacted from all that goes back (redact.h) */
  struct cab_calllog *log;
  struct cab_cassette_writer *rec;  /* --record */
  struct cab_cassette *replay;      /* --replay */
  struct MHD_Daemon *mhd;
  unsigned port;
  atomic_bool stopping;
  atomic_long next_seq;             /* calls in the order they were answered */
  atomic_uint calls;                /* calls in flight (cfg.max_calls) */
  atomic_size_t buffered;           /* request body bytes held (cfg.max_buffered_bytes) */
  pthread_mutex_t notes_mu;          /* guards the counts below */
  int64_t replay_misses;
  char first_miss[512];
  int64_t busy_refusals;            /* 503s for max_calls / max_buffered_bytes */
  int64_t record_errors;            /* cassette entries that could not be written */
  char first_record_error[512];
  int64_t streak, longest_streak;   /* calls in a row the upstream did not answer */
  bool gave_up;
};

/* An upstream answered (REACHED) or could not be reached after the call's
 * retries: counts the streak, and gives up at cfg.give_up_after. */
void cab_proxy_upstream_outcome(struct cab_proxy *p, bool reached);

/* Count one of the proxy's problems (COUNT), keeping the first's MESSAGE
 * in FIRST (512 bytes). */
void cab_proxy_note(struct cab_proxy *p, int64_t *count, char *first, const char *message);

/* Take N bytes of the buffered-bytes budget: false when they do not fit. */
bool cab_proxy_reserve(struct cab_proxy *p, size_t n);
void cab_proxy_release(struct cab_proxy *p, size_t n);

/* MHD callbacks (handler.c). */
void *cab_proxy_on_uri(void *cls, const char *uri, struct MHD_Connection *c);
enum MHD_Result cab_proxy_on_request(void *cls, struct MHD_Connection *c, const char *url,
                                     const char *method, const char *version,
                                     const char *upload_data, size_t *upload_data_size,
                                     void **req_cls);
void cab_proxy_on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
                            enum MHD_RequestTerminationCode toe);

#endif
