#include "sandbox/netlink.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <time.h>

static void
mnl_closep(struct mnl_socket **nl)
{
  if (*nl)
    mnl_socket_close(*nl);
}
#define cleanup_mnl __attribute__((cleanup(mnl_closep)))

int
cab_netlink_link_up(int ifindex, cab_error *err)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  cleanup_mnl struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
  if (nl == NULL)
    return cab_error_sys(err, "open rtnetlink socket");
  if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
    return cab_error_sys(err, "bind rtnetlink socket");

  struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = RTM_NEWLINK;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  nlh->nlmsg_seq = (unsigned)time(NULL);
  struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof *ifm);
  ifm->ifi_family = AF_UNSPEC;
  ifm->ifi_index = ifindex;
  ifm->ifi_change = IFF_UP;
  ifm->ifi_flags = IFF_UP;

  if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
    return cab_error_sys(err, "send RTM_NEWLINK");
  ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof buf);
  if (n < 0)
    return cab_error_sys(err, "receive rtnetlink ack");
  if (mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq, mnl_socket_get_portid(nl), NULL, NULL) < 0)
    return cab_error_sys(err, "bring interface %d up", ifindex);
  return 0;
}
