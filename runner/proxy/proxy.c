/* The proxy's lifecycle: checks before the sandbox exists, serving once it
 * does, totals, and the stop. */
#include "runner/proxy/proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "runner/proxy/proxy_internal.h"

int
cab_proxy_new(const struct cab_proxy_config *cfg, struct cab_proxy **out, cab_error *err)
{
  *out = NULL;
  if (cfg->endpoint == NULL && cfg->replay_path == NULL)
    return cab_error_set(err, 0, "the model proxy needs --endpoint URL or --replay FILE");
  if (cfg->record_path && cfg->replay_path)
    return cab_error_set(err, 0, "--record and --replay exclude each other");
  struct cab_proxy *p = calloc(1, sizeof *p);
  if (p == NULL)
    return cab_error_set(err, ENOMEM, "model proxy");
  pthread_mutex_init(&p->notes_mu, NULL);
  p->cfg = *cfg;
  struct cab_proxy_config *c = &p->cfg;
  if (c->retries < 0)
    c->retries = 0;
  if (c->retry_base_ms <= 0)
    c->retry_base_ms = 200;
  if (c->upstream_timeout_s <= 0)
    c->upstream_timeout_s = 600;
  if (c->connect_timeout_ms <= 0)
    c->connect_timeout_ms = 10000;
  if (c->idle_timeout_s <= 0)
    c->idle_timeout_s = 60;
  if (c->max_request_bytes == 0)
    c->max_request_bytes = (size_t)32 << 20;
  if (c->max_response_bytes == 0)
    c->max_response_bytes = (size_t)256 << 20;
  if (c->max_connections == 0)
    c->max_connections = 256;
  if (c->max_calls == 0)
    c->max_calls = 16;
  if (c->max_buffered_bytes == 0)
    c->max_buffered_bytes = (size_t)64 << 20;
  /* Loaded here, while cab has one thread: the proxy serves with
   * libmicrohttpd, and a live endpoint's calls use libcurl (loaded by
   * cab_endpoint_parse and cab_upstream_new, which run curl_global_init). */
  if (cab_mhd_load(err) < 0) {
    free(p);
    return -1;
  }
  if (c->endpoint && cab_endpoint_parse(c->endpoint, &p->ep, err) < 0)
    goto fail;
  if (c->replay_path == NULL) {
    struct cab_upstream_config uc = {
        .endpoint = &p->ep,
        .retries = c->retries,
        .retry_base_ms = c->retry_base_ms,
        .timeout_s = c->upstream_timeout_s,
        .connect_timeout_ms = c->connect_timeout_ms,
        .max_response_bytes = c->max_response_bytes,
        .stopping = &p->stopping,
    };
    if (cab_upstream_new(&uc, &p->up, err) < 0)
      goto fail;
  }
  if (cab_calllog_open(c->calls_path, &p->log, err) < 0)
    goto fail;
  if (c->record_path && (cab_cassette_writer_open(c->record_path, &p->rec, err) < 0 ||
                         (c->record_for[0] &&
                          cab_cassette_write_identity(p->rec, c->record_for[0], c->record_for[1],
                                                      c->record_for[2], err) < 0))) {
    cab_error_prefix(err, "--record %s", c->record_path);
    goto fail;
  }
  if (c->replay_path && cab_cassette_load(c->replay_path, &p->replay, err) < 0) {
    cab_error_prefix(err, "--replay %s", c->replay_path);
    goto fail;
  }  if (p->replay && c->replay_order)
    cab_cassette_set_mode(p->replay, CAB_CASSETTE_MATCH_ORDER);

  *out = p;
  return 0;
fail:
  cab_proxy_free(p);
  return -1;
}

const char *
cab_proxy_endpoint_host(const struct cab_proxy *p)
{
  return p->ep.host;
}

int
cab_proxy_start(struct cab_proxy *p, int listen_fd, cab_error *err)
{
  if (p->cfg.key_env && p->up) {
    const char *key = getenv(p->cfg.key_env);
    if (key == NULL || key[0] == '\0') {
      close(listen_fd);
      return cab_error_set(err, 0, "--key-env %s: the variable is not set", p->cfg.key_env);
    }
    if (cab_upstream_set_key(p->up, key, err) < 0) {
      close(listen_fd);
      return -1;
    }
    p->key = strdup(key);
    if (p->key == NULL) {
      close(listen_fd);
      return cab_error_set(err, ENOMEM, "model proxy");
    }
  }
  struct sockaddr_in sa;
  socklen_t len = sizeof sa;
  if (getsockname(listen_fd, (struct sockaddr *)&sa, &len) == 0 && sa.sin_family == AF_INET)
    p->port = ntohs(sa.sin_port);

  /* Every thread MHD starts inherits this mask: signals stay with cab's
   * main thread, and a write to a closed connection gives EPIPE, never a
   * SIGPIPE that would kill cab. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  p->mhd = MHD_start_daemon(
      MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL_INTERNAL_THREAD, 0, NULL, NULL,
      cab_proxy_on_request, p,
      MHD_OPTION_LISTEN_SOCKET, (MHD_socket)listen_fd,
      MHD_OPTION_URI_LOG_CALLBACK, cab_proxy_on_uri, p,
      MHD_OPTION_NOTIFY_COMPLETED, cab_proxy_on_completed, p,
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(128 * 1024),
      MHD_OPTION_CONNECTION_LIMIT, (unsigned)p->cfg.max_connections,
      MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)p->cfg.idle_timeout_s,
      MHD_OPTION_SIGPIPE_HANDLED_BY_APP, 1,
      MHD_OPTION_END);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (p->mhd == NULL) {
    close(listen_fd);
    return cab_error_set(err, 0, "start the model proxy (libmicrohttpd) on %s:%u", "the gateway",
                         p->port);
  }
  return 0;
}

bool
cab_proxy_reserve(struct cab_proxy *p, size_t n)
{
  size_t cur = atomic_load(&p->buffered);
  do {
    if (n > p->cfg.max_buffered_bytes || cur > p->cfg.max_buffered_bytes - n)
      return false;
  } while (!atomic_compare_exchange_weak(&p->buffered, &cur, cur + n));
  return true;
}

void
cab_proxy_release(struct cab_proxy *p, size_t n)
{
  atomic_fetch_sub(&p->buffered, n);
}

void
cab_proxy_note(struct cab_proxy *p, int64_t *count, char *first, const char *message)
{
  pthread_mutex_lock(&p->notes_mu);
  if ((*count)++ == 0)
    snprintf(first, 512, "%s", message);
  pthread_mutex_unlock(&p->notes_mu);
}

unsigned
cab_proxy_port(const struct cab_proxy *p)
{
  return p->port;
}

void
cab_proxy_upstream_outcome(struct cab_proxy *p, bool reached)
{
  pthread_mutex_lock(&p->notes_mu);
  p->streak = reached ? 0 : p->streak + 1;
  if (p->streak > p->longest_streak)
    p->longest_streak = p->streak;
  bool give_up = !p->gave_up && p->cfg.give_up_after > 0 && p->streak >= p->cfg.give_up_after;
  if (give_up)
    p->gave_up = true;
  pthread_mutex_unlock(&p->notes_mu);
  if (give_up) {
    uint64_t one = 1;
    if (write(p->cfg.give_up_fd, &one, sizeof one) < 0) {
      /* nothing to do: the agent then runs to its timeout, as before */
    }
  }
}

void
cab_proxy_totals(struct cab_proxy *p, struct cab_proxy_totals *t)
{
  cab_calllog_totals(p->log, t);
  pthread_mutex_lock(&p->notes_mu);
  t->replay_misses = p->replay_misses;
  memcpy(t->first_replay_miss, p->first_miss, sizeof t->first_replay_miss);
  t->record_errors = p->record_errors;
  t->busy_refusals = p->busy_refusals;
  memcpy(t->first_record_error, p->first_record_error, sizeof t->first_record_error);
  t->unreachable_streak = p->longest_streak;
  t->gave_up = p->gave_up;
  pthread_mutex_unlock(&p->notes_mu);
}

void
cab_proxy_stop(struct cab_proxy *p)
{
  if (p == NULL)
    return;
  atomic_store(&p->stopping, true);
  if (p->mhd)
    MHD_stop_daemon(p->mhd); /* joins every connection thread: every call's
                                completion (its record) has run */
  p->mhd = NULL;
}

void
cab_proxy_free(struct cab_proxy *p)
{
  if (p == NULL)
    return;
  cab_proxy_stop(p);
  if (p->log)
    cab_calllog_close(p->log);
  if (p->rec)
    cab_cassette_writer_close(p->rec);
  if (p->replay)
    cab_cassette_free(p->replay);
  cab_upstream_free(p->up);
  if (p->key) {
    explicit_bzero(p->key, strlen(p->key));
    free(p->key);
  }
  cab_endpoint_clear(&p->ep);
  pthread_mutex_destroy(&p->notes_mu);
  free(p);
}
