/* The DNS responder's thread: one UDP socket in the gateway namespace. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "runner/proxy/dns.h"

struct cab_dns_server {
  int fd, stop_fd;
  struct cab_dns_zone zone;
  pthread_t thread;
  pthread_mutex_t mu; /* guards the refusals */
  struct cab_dns_refusal refused[CAB_DNS_MAX_REFUSALS];
  size_t n_refused;
  unsigned more_refused;
};

static int64_t
wall_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
note_refusal(struct cab_dns_server *s, const char *name)
{
  pthread_mutex_lock(&s->mu);
  size_t i;
  for (i = 0; i < s->n_refused; i++)
    if (strcmp(s->refused[i].name, name) == 0)
      break;
  if (i < s->n_refused) {
    s->refused[i].count++;
  } else if (s->n_refused < CAB_DNS_MAX_REFUSALS) {
    struct cab_dns_refusal *r = &s->refused[s->n_refused++];
    snprintf(r->name, sizeof r->name, "%s", name);
    r->first_ns = wall_ns();
    r->count = 1;
  } else {
    s->more_refused++;
  }
  pthread_mutex_unlock(&s->mu);
}

size_t
cab_dns_server_refusals(struct cab_dns_server *s, struct cab_dns_refusal *out, size_t max,
                        unsigned *more)
{
  if (s == NULL) {
    if (more)
      *more = 0;
    return 0;
  }
  pthread_mutex_lock(&s->mu);
  size_t n = s->n_refused < max ? s->n_refused : max;
  memcpy(out, s->refused, n * sizeof *out);
  if (more)
    *more = s->more_refused + (unsigned)(s->n_refused - n);
  pthread_mutex_unlock(&s->mu);
  return n;
}

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
      char name[256];
      if (cab_dns_refused_name(reply, r, name))
        note_refusal(s, name);
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
  pthread_mutex_init(&s->mu, NULL);
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
  pthread_mutex_destroy(&s->mu);
  free(s);
}
