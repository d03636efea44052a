/* rtnetlink over libmnl: bring interfaces up inside the sandbox's netns. */
#ifndef CAB_SANDBOX_NETLINK_H
#define CAB_SANDBOX_NETLINK_H

#include "common/error.h"

/* Set IFF_UP on the interface with index IFINDEX (1 is lo) in the current
 * network namespace. */
int cab_netlink_link_up(int ifindex, cab_error *err);

#endif
