/* A running cell's phase line on stderr (see progress.h). */
#include "runner/cell/progress.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/fsutil.h"
#include "common/ttyline.h"

/* About four redraws a second: the elapsed time moves, a terminal is not
 * flooded. */
#define REDRAW_NS (250 * 1000000LL)

struct cab_cell_progress {
  enum cab_cell_progress_mode mode;
  FILE *out;
  char label[300];
  int64_t started_ns;

  pthread_mutex_t mu; /* everything below */
  pthread_cond_t wake;
  const char *phase;  /* NULL: nothing drawn yet */
  bool counted;       /* the agent started: turns and tokens mean something */
  int64_t turns, tokens;
  cab_cell_progress_counts_fn *source;
  void *source_ctx;
  bool stopping;
  bool have_thread;
  pthread_t thread;
  struct cab_ttyline line;
};

static void
elapsed(int64_t ns, char *buf, size_t size)
{
  double s = (double)ns / 1e9;
  if (s < 60)
    snprintf(buf, size, "%.1fs", s);
  else
    snprintf(buf, size, "%dm%02ds", (int)(s / 60), (int)s % 60);
}

/* "agent 1m05s, 3 turns, 1234 tokens" into BUF; the lock held. */
static void
describe(struct cab_cell_progress *p, char *buf, size_t size)
{
  if (p->source)
    p->source(p->source_ctx, &p->turns, &p->tokens);
  char t[32];
  elapsed(cab_now_ns() - p->started_ns, t, sizeof t);
  if (p->counted)
    snprintf(buf, size, "%s %s, %lld turn%s, %lld tokens", p->phase, t, (long long)p->turns,
             p->turns == 1 ? "" : "s", (long long)p->tokens);
  else
    snprintf(buf, size, "%s %s", p->phase, t);
}

static void
draw(struct cab_cell_progress *p, bool force)
{
  char what[200];
  describe(p, what, sizeof what);
  cab_ttyline_draw(&p->line, force, "cab: run-cell %.120s: %s", p->label, what);
}

static void *
redraw_loop(void *arg)
{
  struct cab_cell_progress *p = arg;
  pthread_mutex_lock(&p->mu);
  while (!p->stopping) {
    if (p->phase)
      draw(p, true);
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_nsec += REDRAW_NS;
    if (until.tv_nsec >= 1000000000L) {
      until.tv_sec++;
      until.tv_nsec -= 1000000000L;
    }
    /* A phase change wakes us early (drawn at the top of the loop at once);
     * a spurious wake-up only redraws sooner. */
    if (!p->stopping)
      pthread_cond_timedwait(&p->wake, &p->mu, &until);
  }
  cab_ttyline_clear(&p->line);
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

int
cab_cell_progress_new(enum cab_cell_progress_mode mode, FILE *out, const char *label,
                      struct cab_cell_progress **pp, cab_error *err)
{
  struct cab_cell_progress *p = calloc(1, sizeof *p);
  if (p == NULL)
    return cab_error_sys(err, "allocate the progress line");
  p->mode = mode;
  p->out = out;
  snprintf(p->label, sizeof p->label, "%s", label);
  p->started_ns = cab_now_ns();
  p->line = (struct cab_ttyline){.out = out};
  pthread_mutex_init(&p->mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&p->wake, &ca);
  pthread_condattr_destroy(&ca);
  if (mode == CAB_CELL_PROGRESS_LIVE) {
    /* Every signal stays with the threads that wait for them (the stop
     * signals, the sandbox supervisor's SIGCHLD): none is delivered here. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int e = pthread_create(&p->thread, NULL, redraw_loop, p);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (e != 0) {
      pthread_cond_destroy(&p->wake);
      pthread_mutex_destroy(&p->mu);
      free(p);
      return cab_error_set(err, e, "start the progress line");
    }
    p->have_thread = true;
  }
  *pp = p;
  return 0;
}

void
cab_cell_progress_phase(struct cab_cell_progress *p, const char *phase)
{
  if (p == NULL)
    return;
  pthread_mutex_lock(&p->mu);
  p->phase = phase;
  if (strcmp(phase, "agent") == 0)
    p->counted = true;
  if (p->mode == CAB_CELL_PROGRESS_LIVE) {
    pthread_cond_signal(&p->wake);
  } else {
    char what[200];
    describe(p, what, sizeof what);
    fprintf(p->out, "cab: run-cell %.120s: %s\n", p->label, what);
    fflush(p->out);
  }
  pthread_mutex_unlock(&p->mu);
}

void
cab_cell_progress_source(struct cab_cell_progress *p, cab_cell_progress_counts_fn *fn, void *ctx)
{
  if (p == NULL)
    return;
  pthread_mutex_lock(&p->mu);
  if (fn == NULL && p->source) /* keep the last counts it gave */
    p->source(p->source_ctx, &p->turns, &p->tokens);
  p->source = fn;
  p->source_ctx = ctx;
  pthread_mutex_unlock(&p->mu);
}

void
cab_cell_progress_counts(struct cab_cell_progress *p, int64_t turns, int64_t tokens)
{
  if (p == NULL)
    return;
  pthread_mutex_lock(&p->mu);
  p->turns = turns;
  p->tokens = tokens;
  pthread_mutex_unlock(&p->mu);
}

void
cab_cell_progress_free(struct cab_cell_progress *p)
{
  if (p == NULL)
    return;
  if (p->have_thread) {
    pthread_mutex_lock(&p->mu);
    p->stopping = true;
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL);
  }
  pthread_cond_destroy(&p->wake);
  pthread_mutex_destroy(&p->mu);
  free(p);
}
