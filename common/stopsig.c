#include "common/stopsig.h"

#include <errno.h>
#include <stddef.h>
#include <time.h>

bool
cab_stopsig_ignored(int sig)
{
  struct sigaction sa;
  return sigaction(sig, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN;
}

/* The stop signals we were not told to ignore: under nohup a closed
 * terminal's SIGHUP must not stop the run. */
static void
stop_set(sigset_t *set)
{
  static const int stops[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
  sigemptyset(set);
  for (size_t i = 0; i < sizeof stops / sizeof *stops; i++)
    if (!cab_stopsig_ignored(stops[i]))
      sigaddset(set, stops[i]);
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

bool
cab_stopsig_pending(void)
{
  sigset_t stops, pending;
  stop_set(&stops);
  if (sigpending(&pending) < 0)
    return false;
  static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
  for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
    if (sigismember(&stops, sigs[i]) == 1 && sigismember(&pending, sigs[i]) == 1)
      return true;
  return false;
}

void
cab_stopsig_restore(const sigset_t *old)
{
  sigprocmask(SIG_SETMASK, old, NULL);
}
