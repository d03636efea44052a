/* The sandbox's one way out: a veth pair from the sandbox's network
 * namespace to a "gateway" namespace, both owned by the sandbox's user
 * namespace, so no privilege is needed.  The sandbox gets eth0 with a /30
 * route to the gateway and no default route: every other destination fails
 * at once.  Listening sockets are created inside the gateway namespace and
 * handed to the caller, which serves them from the host's namespace. */
#ifndef CAB_SANDBOX_GATEWAY_H
#define CAB_SANDBOX_GATEWAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

#define CAB_GATEWAY_IP "169.254.77.1"
#define CAB_SANDBOX_IP "169.254.77.2"
#define CAB_GATEWAY_MAX_PORTS 4

struct cab_gateway {
  int netns_fd;                          /* the gateway namespace */
  int tcp_fds[CAB_GATEWAY_MAX_PORTS];    /* listening, bound to gateway:port */
  uint16_t tcp_ports[CAB_GATEWAY_MAX_PORTS];
  size_t n_tcp;
  int dns_fd;                            /* UDP bound to gateway:53, or -1 */
};

struct cab_gateway_spec {
  bool enabled;
  uint16_t tcp_ports[CAB_GATEWAY_MAX_PORTS];
  size_t n_tcp_ports;
  bool dns;
  /* Called once the sockets exist, before the command starts.  It takes
   * ownership of every fd in GW. */
  void (*on_ready)(void *ctx, struct cab_gateway *gw);
  void *ctx;
};

/* Build the veth route for the sandbox whose init is INIT_PID (waiting for
 * its go-ahead), from the supervisor.  Forks a short-lived helper that
 * joins the sandbox's user namespace. */
int cab_gateway_setup(pid_t init_pid, const struct cab_gateway_spec *spec,
                      struct cab_gateway *out, cab_error *err);

void cab_gateway_close(struct cab_gateway *gw);

#endif
