/* The signals that ask a run to stop: a terminal's ^C (SIGINT), kill's
 * default (SIGTERM), a closed terminal (SIGHUP) and ^\ (SIGQUIT).  A run
 * that must not record a half-done result blocks them for its whole life
 * and looks for them between its steps: a blocked signal waits, pending,
 * instead of killing the process half-way through a write.  The sandbox's
 * supervisor takes the ones that arrive while a command runs through its
 * signalfd and reports them (cab_sandbox_result.interrupted). */
#ifndef CAB_COMMON_STOPSIG_H
#define CAB_COMMON_STOPSIG_H

#include <signal.h>
#include <stdbool.h>

/* SIG's disposition is SIG_IGN (nohup, a non-interactive shell's
 * background job): it asks nothing of us. */
bool cab_stopsig_ignored(int sig);

/* Block the stop signals; OLD receives the previous mask. */
int cab_stopsig_block(sigset_t *old);

/* Take one pending stop signal off the queue: its number, or 0 when none
 * is pending.  Never waits. */
int cab_stopsig_take(void);

/* A stop signal is pending (blocked, not yet taken): for long steps that
 * give up early, leaving the signal for the caller's cab_stopsig_take. */
bool cab_stopsig_pending(void);

/* Put the mask back; a stop signal still pending would then kill us, so
 * the caller takes them first (cab_stopsig_take) when it has decided. */
void cab_stopsig_restore(const sigset_t *old);

#endif
