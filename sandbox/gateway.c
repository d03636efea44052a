#include "sandbox/gateway.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "sandbox/netlink.h"

#define MAX_FDS (2 + CAB_GATEWAY_MAX_PORTS)

struct helper_reply {
  int ok;
  char message[1024];
};

static int
join(pid_t pid, const char *ns, int type, cab_error *err)
{
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/%s", pid, ns);
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || setns(fd, type) < 0)
    return cab_error_sys(err, "join the sandbox's %s namespace", ns);
  return 0;
}

static int
listen_on(int type, uint16_t port, cab_error *err)
{
  int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return cab_error_sys(err, "socket");
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
  inet_pton(AF_INET, CAB_GATEWAY_IP, &sa.sin_addr);
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
      (type == SOCK_STREAM && listen(fd, 256) < 0)) {
    int saved = errno;
    close(fd);
    return cab_error_set(err, saved, "listen on %s:%u in the gateway namespace", CAB_GATEWAY_IP,
                         port);
  }
  return fd;
}

static int
configure(const char *ifname, const char *ip, cab_error *err)
{
  unsigned idx = if_nametoindex(ifname);
  struct in_addr addr;
  inet_pton(AF_INET, ip, &addr);
  if (idx == 0)
    return cab_error_sys(err, "find interface %s", ifname);
  if (cab_netlink_addr_add((int)idx, addr, 30, err) < 0 || cab_netlink_link_up((int)idx, err) < 0)
    return -1;
  return 0;
}

/* In the helper: build everything, return the fds (gateway netns first). */
static int
helper_build(pid_t init_pid, const struct cab_gateway_spec *spec, int fds[MAX_FDS], int *n,
             cab_error *err)
{
  cleanup_close int cellnet = -1;
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/net", init_pid);
  cellnet = open(path, O_RDONLY | O_CLOEXEC);
  if (cellnet < 0)
    return cab_error_sys(err, "open the sandbox's network namespace");
  /* Joining the sandbox's user namespace gives us its full capability set
   * there: the namespaces below are owned by it, not by the host. */
  if (join(init_pid, "user", CLONE_NEWUSER, err) < 0)
    return -1;
  if (unshare(CLONE_NEWNET) < 0)
    return cab_error_sys(err, "create the gateway network namespace");
  int gw = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (gw < 0)
    return cab_error_sys(err, "open the gateway network namespace");
  fds[(*n)++] = gw;

  if (setns(cellnet, CLONE_NEWNET) < 0)
    return cab_error_sys(err, "join the sandbox's network namespace");
  if (cab_netlink_veth_create("eth0", "gw0", gw, err) < 0 ||
      configure("eth0", CAB_SANDBOX_IP, err) < 0)
    return -1;

  if (setns(gw, CLONE_NEWNET) < 0)
    return cab_error_sys(err, "join the gateway network namespace");
  if (configure("gw0", CAB_GATEWAY_IP, err) < 0 || cab_netlink_link_up(1, err) < 0)
    return -1;
  for (size_t i = 0; i < spec->n_tcp_ports; i++) {
    int fd = listen_on(SOCK_STREAM, spec->tcp_ports[i], err);
    if (fd < 0)
      return -1;
    fds[(*n)++] = fd;
  }
  if (spec->dns) {
    int fd = listen_on(SOCK_DGRAM, 53, err);
    if (fd < 0)
      return -1;
    fds[(*n)++] = fd;
  }
  return 0;
}

static void
send_reply(int sock, const struct helper_reply *r, const int *fds, int n)
{
  struct iovec iov = {.iov_base = (void *)r, .iov_len = sizeof *r};
  char cbuf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
  memset(cbuf, 0, sizeof cbuf);
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
  if (n > 0) {
    mh.msg_control = cbuf;
    mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)n);
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)n);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)n);
  }
  if (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0) {
    /* the supervisor sees EOF and reports it */
  }
}

int
cab_gateway_setup(pid_t init_pid, const struct cab_gateway_spec *spec, struct cab_gateway *out,
                  cab_error *err)
{
  memset(out, 0, sizeof *out);
  out->netns_fd = out->dns_fd = -1;
  for (size_t i = 0; i < CAB_GATEWAY_MAX_PORTS; i++)
    out->tcp_fds[i] = -1;
  if (spec->n_tcp_ports > CAB_GATEWAY_MAX_PORTS)
    return cab_error_set(err, EINVAL, "at most %d gateway ports", CAB_GATEWAY_MAX_PORTS);

  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return cab_error_sys(err, "socketpair");
  pid_t pid = fork();
  if (pid < 0) {
    close(sv[0]);
    close(sv[1]);
    return cab_error_sys(err, "fork the network helper");
  }
  if (pid == 0) {
    close(sv[0]);
    int fds[MAX_FDS];
    int n = 0;
    cab_error herr = {0};
    struct helper_reply r = {.ok = helper_build(init_pid, spec, fds, &n, &herr) == 0};
    if (!r.ok)
      cab_error_line(&herr, r.message, sizeof r.message);
    send_reply(sv[1], &r, fds, r.ok ? n : 0);
    _exit(r.ok ? 0 : 1);
  }
  close(sv[1]);
  cleanup_close int sock = sv[0];

  struct helper_reply r = {0};
  struct iovec iov = {.iov_base = &r, .iov_len = sizeof r};
  char cbuf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                      .msg_controllen = sizeof cbuf};
  ssize_t got;
  do
    got = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
  while (got < 0 && errno == EINTR);
  waitpid(pid, NULL, 0);
  if (got != (ssize_t)sizeof r)
    return cab_error_set(err, 0, "the network helper died before reporting");
  if (!r.ok)
    return cab_error_set(err, 0, "sandbox network: %s", r.message);

  int fds[MAX_FDS] = {-1, -1, -1, -1, -1, -1};
  int n = 0;
  struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
  if (c && c->cmsg_type == SCM_RIGHTS) {
    n = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
    if (n > MAX_FDS)
      n = MAX_FDS;
    memcpy(fds, CMSG_DATA(c), sizeof(int) * (size_t)n);
  }
  int want = 1 + (int)spec->n_tcp_ports + (spec->dns ? 1 : 0);
  if (n != want) {
    for (int i = 0; i < n; i++)
      close(fds[i]);
    return cab_error_set(err, 0, "the network helper passed %d sockets, not %d", n, want);
  }
  int k = 0;
  out->netns_fd = fds[k++];
  for (size_t i = 0; i < spec->n_tcp_ports; i++) {
    out->tcp_fds[i] = fds[k++];
    out->tcp_ports[i] = spec->tcp_ports[i];
  }
  out->n_tcp = spec->n_tcp_ports;
  if (spec->dns)
    out->dns_fd = fds[k++];
  return 0;
}

void
cab_gateway_close(struct cab_gateway *gw)
{
  if (gw->netns_fd >= 0)
    close(gw->netns_fd);
  for (size_t i = 0; i < CAB_GATEWAY_MAX_PORTS; i++)
    if (gw->tcp_fds[i] >= 0)
      close(gw->tcp_fds[i]);
  if (gw->dns_fd >= 0)
    close(gw->dns_fd);
  gw->netns_fd = gw->dns_fd = -1;
  for (size_t i = 0; i < CAB_GATEWAY_MAX_PORTS; i++)
    gw->tcp_fds[i] = -1;
}
