/* rtnetlink over libmnl, in the calling thread's network namespace:
 * links up, veth pairs, IPv4 addresses.  No shelling out to ip(8). */
#ifndef CAB_SANDBOX_NETLINK_H
#define CAB_SANDBOX_NETLINK_H

#include <netinet/in.h>

#include "common/error.h"

/* Set IFF_UP on the interface with index IFINDEX (1 is lo). */
int cab_netlink_link_up(int ifindex, cab_error *err);

/* Create a veth pair NAME <-> PEER_NAME here, with the peer end placed in
 * the network namespace PEER_NETNS_FD. */
int cab_netlink_veth_create(const char *name, const char *peer_name, int peer_netns_fd,
                            cab_error *err);

/* Add ADDR/PREFIXLEN to the interface IFINDEX. */
int cab_netlink_addr_add(int ifindex, struct in_addr addr, int prefixlen, cab_error *err);

#endif
