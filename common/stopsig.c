#include "common/stopsig.h"

#include <errno.h>
#include <time.h>

static void
stop_set(sigset_t *set)
{
  sigemptyset(set);
  sigaddset(set, SIGINT);
  sigaddset(set, SIGTERM);
  sigaddset(set, SIGHUP);
  sigaddset(set, SIGQUIT);
}

int
cab_stopsig_block(sigset_t *old)
{
  sigset_t set;
  stop_set(&set);
  return sigprocmask(SIG_BLOCK, &set, old);
}

int
cab_stopsig_take(void)
{
  sigset_t set;
  stop_set(&set);
  const struct timespec zero = {0, 0};
  int sig;
  while ((sig = sigtimedwait(&set, NULL, &zero)) < 0 && errno == EINTR)
    ;
  return sig > 0 ? sig : 0;
}

void
cab_stopsig_restore(const sigset_t *old)
{
  sigprocmask(SIG_SETMASK, old, NULL);
}
