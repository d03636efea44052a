/* The DNS responder's thread: one UDP socket in the gateway namespace. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "runner/proxy/dns.h"

struct cab_dns_server {
  int fd, stop_fd;
  struct cab_dns_zone zone;
  pthread_t thread;
};

static void *
serve(void *arg)
{
  struct cab_dns_server *s = arg;
  struct pollfd pf[2] = {{.fd = s->fd, .events = POLLIN}, {.fd = s->stop_fd, .events = POLLIN}};
  for (;;) {
    if (poll(pf, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    if (pf[1].revents)
      break;
    for (;;) {
      uint8_t q[1500], reply[CAB_DNS_MAX_REPLY];
      struct sockaddr_storage from;
      socklen_t flen = sizeof from;
      ssize_t n = recvfrom(s->fd, q, sizeof q, MSG_DONTWAIT, (struct sockaddr *)&from, &flen);
      if (n < 0)
        break;
      size_t r = cab_dns_answer(&s->zone, q, (size_t)n, reply);
      if (r > 0)
        sendto(s->fd, reply, r, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&from, flen);
    }
  }
  return NULL;
}

int
cab_dns_server_start(int fd, const struct cab_dns_zone *z, struct cab_dns_server **out,
                     cab_error *err)
{
  struct cab_dns_server *s = calloc(1, sizeof *s);
  if (s == NULL) {
    close(fd);
    return cab_error_set(err, ENOMEM, "DNS responder");
  }
  s->fd = fd;
  s->zone = *z;
  s->stop_fd = eventfd(0, EFD_CLOEXEC);
  if (s->stop_fd < 0) {
    int saved = errno;
    close(fd);
    free(s);
    return cab_error_set(err, saved, "DNS responder: eventfd");
  }
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old); /* signals stay with cab's main thread */
  int rc = pthread_create(&s->thread, NULL, serve, s);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rc != 0) {
    close(fd);
    close(s->stop_fd);
    free(s);
    return cab_error_set(err, rc, "DNS responder: start its thread");
  }
  *out = s;
  return 0;
}

void
cab_dns_server_stop(struct cab_dns_server *s)
{
  if (s == NULL)
    return;
  uint64_t one = 1;
  if (write(s->stop_fd, &one, sizeof one) < 0) {
    /* an eventfd write only fails on overflow */
  }
  pthread_join(s->thread, NULL);
  close(s->fd);
  close(s->stop_fd);
  free(s);
}
