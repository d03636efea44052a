#include "runner/cell/modelnet.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ttyline.h"
#include "runner/proxy/redact.h"

const char *const cab_modelnet_env[] = {
    "CAB_MODEL_BASE_URL=" CAB_MODEL_BASE_URL,
    "OPENAI_BASE_URL=" CAB_MODEL_BASE_URL,
    "OPENAI_API_BASE=" CAB_MODEL_BASE_URL,
    "ANTHROPIC_BASE_URL=http://" CAB_GATEWAY_IP ":80",
    "OPENAI_API_KEY=" CAB_PLACEHOLDER_KEY,
    "ANTHROPIC_API_KEY=" CAB_PLACEHOLDER_KEY,
    "CAB_KEY=" CAB_PLACEHOLDER_KEY,
};
const unsigned cab_modelnet_env_count = sizeof cab_modelnet_env / sizeof *cab_modelnet_env;

/* The gateway's sockets exist and the sandbox's init is waiting: start the
 * proxy and the DNS responder on them.  A failure is reported after the run
 * (the command then finds nothing listening). */
static void
on_gateway_ready(void *ctx, struct cab_gateway *gw)
{
  struct cab_modelnet *m = ctx;
  int tcp = gw->n_tcp > 0 ? gw->tcp_fds[0] : -1;
  int dns = gw->dns_fd;
  gw->tcp_fds[0] = gw->dns_fd = -1;
  cab_gateway_close(gw);
  if (tcp < 0 || cab_proxy_start(m->proxy, tcp, &m->start_err) < 0) {
    if (tcp < 0)
      cab_error_set(&m->start_err, 0, "the gateway gave no proxy socket");
    m->start_failed = true;
  }
  if (dns >= 0 && cab_dns_server_start(dns, &m->zone, &m->dns, &m->start_err) < 0)
    m->start_failed = true;
}

int
cab_modelnet_prepare(struct cab_modelnet *m, struct cab_sandbox_config *c, cab_error *err)
{
  if (cab_proxy_new(&m->pc, &m->proxy, err) < 0)
    return -1;
  const char *host = cab_proxy_endpoint_host(m->proxy);
  inet_pton(AF_INET, CAB_GATEWAY_IP, &m->zone.addr);
  cab_dns_zone_add(&m->zone, CAB_MODEL_HOST);
  if (host && cab_dns_zone_add(&m->zone, host) < 0)
    return cab_error_set(err, 0, "--endpoint host %s: not a valid DNS name", host);
  snprintf(m->hosts_line, sizeof m->hosts_line, "%s %s%s%s", CAB_GATEWAY_IP, CAB_MODEL_HOST,
           host ? " " : "", host ? host : "");
  m->extra_hosts[0] = m->hosts_line;
  c->extra_hosts = m->extra_hosts;
  c->n_extra_hosts = 1;
  c->gateway.enabled = true;
  c->gateway.tcp_ports[0] = CAB_MODEL_PORT;
  c->gateway.n_tcp_ports = 1;
  c->gateway.dns = true;
  c->gateway.on_ready = on_gateway_ready;
  c->gateway.ctx = m;
  return 0;
}

/* A refused name may carry the key (an agent that had it, looking it up
 * as NAME.attacker.example): such a name is not recorded.  Labels split a
 * long key with dots, so the dots are ignored; DNS names are lower case,
 * the match ignores case. */
static void
redact_refusals(struct cab_modelnet *m)
{
  const char *key = m->pc.key_env ? getenv(m->pc.key_env) : NULL;
  if (key == NULL || key[0] == '\0')
    return;
  for (size_t i = 0; i < m->n_refused; i++) {
    char flat[256];
    size_t n = 0;
    for (const char *s = m->refused[i].name; *s && n < sizeof flat - 1; s++)
      if (*s != '.')
        flat[n++] = *s;
    flat[n] = '\0';
    bool failed;
    char *clean = cab_redact_string(flat, key, CAB_PLACEHOLDER_KEY, &failed);
    if (clean || failed)
      snprintf(m->refused[i].name, sizeof m->refused[i].name,
               "(a name holding the API key, not recorded)");
    free(clean);
  }
}

void
cab_modelnet_finish(struct cab_modelnet *m, struct cab_proxy_totals *t, bool warn)
{
  m->n_refused = cab_dns_server_refusals(m->dns, m->refused, CAB_DNS_MAX_REFUSALS,
                                         &m->more_refused);
  redact_refusals(m);
  cab_dns_server_stop(m->dns);
  m->dns = NULL;
  memset(t, 0, sizeof *t);
  if (m->proxy) {
    /* A call answered just before the agent exited may still be in MHD's
     * completion path: stop first, so that its record is counted. */
    cab_proxy_stop(m->proxy);
    cab_proxy_totals(m->proxy, t);
    cab_proxy_free(m->proxy);
    m->proxy = NULL;
  }
  if (!warn)
    return;
  if (t->replay_misses > 0)
    cab_warn(stderr, "%lld model call(s) did not match the cassette %s; first: %s",
             (long long)t->replay_misses, m->pc.replay_path, t->first_replay_miss);
  if (t->record_errors > 0)
    cab_warn(stderr, "--record %s: %lld call(s) could not be written; first: %s",
             m->pc.record_path, (long long)t->record_errors, t->first_record_error);
}
