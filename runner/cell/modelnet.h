/* The model network of one sandbox: cab's accounting proxy and DNS
 * responder on the sandbox's gateway, started when the gateway's sockets
 * exist (sandbox/gateway.h), and the environment under which agents and
 * SDKs find them.  Shared by `cab exec --net model` and cells. */
#ifndef CAB_RUNNER_MODELNET_H
#define CAB_RUNNER_MODELNET_H

#include <stdbool.h>

#include "common/error.h"
#include "runner/proxy/dns.h"
#include "runner/proxy/proxy.h"
#include "sandbox/sandbox.h"

#define CAB_MODEL_PORT 80
#define CAB_MODEL_HOST "model.cab.internal"
#define CAB_MODEL_ROOT_URL "http://" CAB_GATEWAY_IP ":80"
#define CAB_MODEL_BASE_URL CAB_MODEL_ROOT_URL "/v1"
#define CAB_PLACEHOLDER_KEY CAB_PROXY_PLACEHOLDER_KEY

struct cab_modelnet {
  struct cab_proxy_config pc;  /* filled by the caller before prepare */
  struct cab_proxy *proxy;
  struct cab_dns_server *dns;
  struct cab_dns_zone zone;
  char hosts_line[600];
  const char *extra_hosts[1];
  struct cab_dns_refusal refused[CAB_DNS_MAX_REFUSALS]; /* by finish: names the */
  size_t n_refused;                                      /* sandbox was refused */
  unsigned more_refused;
  bool start_failed;
  cab_error start_err;
};

/* The default set of SDK variables, the one table of them: "K=V" entries
 * every sandbox on the model network gets (base URLs and the placeholder
 * key, under the names the OpenAI and Anthropic SDKs read), after the
 * adapter's env.  A name only one agent reads belongs in its adapter's
 * "env" with {endpoint} and {key} (GOOGLE_GEMINI_BASE_URL, OPENAI_HOST,
 * LLM_BASE_URL, COPILOT_PROVIDER_BASE_URL), not here. */
extern const char *const cab_modelnet_env[];
extern const unsigned cab_modelnet_env_count;

/* Check the proxy configuration (before any sandbox exists) and wire CFG's
 * gateway, /etc/hosts and callback to M.  M must outlive the run. */
int cab_modelnet_prepare(struct cab_modelnet *m, struct cab_sandbox_config *cfg, cab_error *err);

/* Stop serving; T receives the totals.  Prints warnings for replay misses
 * and record failures to stderr when WARN. */
void cab_modelnet_finish(struct cab_modelnet *m, struct cab_proxy_totals *t, bool warn);

#endif
