#include "sandbox/netlink.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <string.h>
#include <time.h>

static void
mnl_closep(struct mnl_socket **nl)
{
  if (*nl)
    mnl_socket_close(*nl);
}
#define cleanup_mnl __attribute__((cleanup(mnl_closep)))

/* Send one request and wait for its acknowledgement. */
static int
request(struct nlmsghdr *nlh, const char *what, cab_error *err)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  cleanup_mnl struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
  if (nl == NULL)
    return cab_error_sys(err, "open rtnetlink socket");
  if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
    return cab_error_sys(err, "bind rtnetlink socket");
  nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
  nlh->nlmsg_seq = (unsigned)time(NULL);
  if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
    return cab_error_sys(err, "%s: send", what);
  ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof buf);
  if (n < 0)
    return cab_error_sys(err, "%s: receive the acknowledgement", what);
  if (mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq, mnl_socket_get_portid(nl), NULL, NULL) < 0)
    return cab_error_sys(err, "%s", what);
  return 0;
}

int
cab_netlink_link_up(int ifindex, cab_error *err)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = RTM_NEWLINK;
  struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof *ifm);
  ifm->ifi_family = AF_UNSPEC;
  ifm->ifi_index = ifindex;
  ifm->ifi_change = IFF_UP;
  ifm->ifi_flags = IFF_UP;
  char what[64];
  snprintf(what, sizeof what, "bring interface %d up", ifindex);
  return request(nlh, what, err);
}

int
cab_netlink_veth_create(const char *name, const char *peer_name, int peer_netns_fd,
                        cab_error *err)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = RTM_NEWLINK;
  nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
  struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof *ifm);
  ifm->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
  struct nlattr *linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
  struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
  struct nlattr *peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
  /* The peer's own ifinfomsg header precedes its attributes. */
  struct ifinfomsg *pifm = mnl_nlmsg_put_extra_header(nlh, sizeof *pifm);
  memset(pifm, 0, sizeof *pifm);
  pifm->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(nlh, IFLA_IFNAME, peer_name);
  mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)peer_netns_fd);
  mnl_attr_nest_end(nlh, peer);
  mnl_attr_nest_end(nlh, data);
  mnl_attr_nest_end(nlh, linkinfo);
  char what[96];
  snprintf(what, sizeof what, "create veth pair %s/%s", name, peer_name);
  return request(nlh, what, err);
}

int
cab_netlink_addr_add(int ifindex, struct in_addr addr, int prefixlen, cab_error *err)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = RTM_NEWADDR;
  nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
  struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof *ifa);
  ifa->ifa_family = AF_INET;
  ifa->ifa_prefixlen = (unsigned char)prefixlen;
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = (unsigned)ifindex;
  mnl_attr_put(nlh, IFA_LOCAL, sizeof addr, &addr);
  mnl_attr_put(nlh, IFA_ADDRESS, sizeof addr, &addr);
  char what[64];
  snprintf(what, sizeof what, "add an address to interface %d", ifindex);
  return request(nlh, what, err);
}
