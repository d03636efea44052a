/* The upstream's shared state, for upstream.c (the handle, the key, the
 * pool) and xfer.c (one transfer). */
#ifndef CAB_RUNNER_PROXY_UPSTREAM_INTERNAL_H
#define CAB_RUNNER_PROXY_UPSTREAM_INTERNAL_H

#include <pthread.h>

#include "runner/proxy/upstream.h"

#define POOL_MAX 64

struct cab_upstream {
  struct cab_upstream_config cfg;
  CURLSH *share;                   /* DNS answers and TLS sessions */
  /* Idle multi handles, each with its connection cache: a call takes one
   * and gives it back, so upstream connections are reused across calls.
   * (curl cannot share one connection cache between threads.) */
  pthread_mutex_t pool_mu;
  CURLM *pool[POOL_MAX];
  size_t n_pool;
  pthread_mutex_t locks[CURL_LOCK_DATA_LAST];
  char *auth[CAB_WIRE_COUNT]; /* each wire's key header with the key */
};

/* A multi handle (with its connection cache) for one call, and back. */
CURLM *cab_upstream_multi_take(struct cab_upstream *u);
void cab_upstream_multi_give(struct cab_upstream *u, CURLM *m);

#endif
