/* The upstream's shared handle: DNS answers and TLS sessions shared by all
 * calls, a pool of curl multi handles (their connection caches), the key. */
#include "runner/proxy/upstream_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner/proxy/wire_ops.h"

static void
share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *ctx)
{
  struct cab_upstream *u = ctx;
  if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST)
    pthread_mutex_lock(&u->locks[data]);
}

static void
share_unlock(CURL *h, curl_lock_data data, void *ctx)
{
  struct cab_upstream *u = ctx;
  if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST)
    pthread_mutex_unlock(&u->locks[data]);
}

int
cab_upstream_new(const struct cab_upstream_config *cfg, struct cab_upstream **out,
                 cab_error *err)
{
  if (cab_curl_load(err) < 0)
    return -1;
  struct cab_upstream *u = calloc(1, sizeof *u);
  if (u == NULL)
    return cab_error_set(err, ENOMEM, "upstream");
  u->cfg = *cfg;
  for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
    pthread_mutex_init(&u->locks[i], NULL);
  u->share = curl_share_init();
  if (u->share == NULL) {
    cab_upstream_free(u);
    return cab_error_set(err, ENOMEM, "curl_share_init");
  }
  curl_share_setopt(u->share, CURLSHOPT_LOCKFUNC, share_lock);
  curl_share_setopt(u->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
  curl_share_setopt(u->share, CURLSHOPT_USERDATA, u);
  curl_share_setopt(u->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl_share_setopt(u->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  pthread_mutex_init(&u->pool_mu, NULL);
  *out = u;
  return 0;
}

static void
free_secret(char *s)
{
  if (s) {
    explicit_bzero(s, strlen(s));
    free(s);
  }
}

static void
free_auth(struct cab_upstream *u)
{
  for (size_t i = 0; i < CAB_WIRE_COUNT; i++) {
    free_secret(u->auth[i]);
    u->auth[i] = NULL;
  }
}

int
cab_upstream_set_key(struct cab_upstream *u, const char *key, cab_error *err)
{
  free_auth(u);
  if (key == NULL)
    return 0;
  if (strpbrk(key, "\r\n") != NULL)
    return cab_error_set(err, 0, "the API key holds a line break; check the --key-env variable");
  for (size_t i = 0; i < CAB_WIRE_COUNT; i++)
    if (asprintf(&u->auth[i], "%s%s", cab_wire_ops((enum cab_wire)i)->key_header, key) < 0) {
      u->auth[i] = NULL;
      free_auth(u);
      return cab_error_set(err, ENOMEM, "API key header");
    }
  return 0;
}

void
cab_upstream_free(struct cab_upstream *u)
{
  if (u == NULL)
    return;
  for (size_t i = 0; i < u->n_pool; i++)
    curl_multi_cleanup(u->pool[i]);
  pthread_mutex_destroy(&u->pool_mu);
  if (u->share)
    curl_share_cleanup(u->share);
  free_auth(u);
  for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
    pthread_mutex_destroy(&u->locks[i]);
  free(u);
}

CURLM *
cab_upstream_multi_take(struct cab_upstream *u)
{
  CURLM *m = NULL;
  pthread_mutex_lock(&u->pool_mu);
  if (u->n_pool > 0)
    m = u->pool[--u->n_pool];
  pthread_mutex_unlock(&u->pool_mu);
  if (m == NULL && (m = curl_multi_init()) != NULL)
    curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, 4L);
  return m;
}

void
cab_upstream_multi_give(struct cab_upstream *u, CURLM *m)
{
  pthread_mutex_lock(&u->pool_mu);
  if (u->n_pool < POOL_MAX) {
    u->pool[u->n_pool++] = m;
    m = NULL;
  }
  pthread_mutex_unlock(&u->pool_mu);
  if (m)
    curl_multi_cleanup(m);
}
