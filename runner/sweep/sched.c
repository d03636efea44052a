/* The sweep's scheduler: start cells within the limits (-j, the plan's
 * per-model and per-endpoint limits, host memory, the ramp-up), reap them,
 * journal them, retry infra errors with exponential backoff. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/ttyline.h"
#include "runner/sweep/internal.h"

/* Per-model FIFO of cells to run, and the counters the limits look at. */
struct sched {
  struct sweep *s;
  size_t **queue; /* per model: indexes into s->sc */
  size_t *qlen, *qhead;
  long *model_running, *model_limit;
  int *group;        /* per model: its endpoint group, or -1 */
  long *group_running, *group_limit;
  size_t n_groups;
  long running;
  int64_t mem_used;
  size_t rr; /* the model to look at first */
  int64_t next_report_ns;
  size_t *run_idx, n_run;   /* the running cells */
  size_t *wait_idx, n_wait; /* the cells waiting to be retried */
};

static void
sched_free(struct sched *q)
{
  if (q->queue)
    for (size_t m = 0; m < q->s->plan->n_models; m++)
      free(q->queue[m]);
  free(q->queue);
  free(q->qlen);
  free(q->qhead);
  free(q->model_running);
  free(q->model_limit);
  free(q->group);
  free(q->group_running);
  free(q->group_limit);
  free(q->run_idx);
  free(q->wait_idx);
}

/* Pending cells run run-1 of everything first, then run-2...: partial
 * sweeps give a complete first pass early. */
static int
by_run(const void *a, const void *b, void *arg)
{
  const struct sweep *s = arg;
  size_t x = *(const size_t *)a, y = *(const size_t *)b;
  int rx = s->sc[x].c->run, ry = s->sc[y].c->run;
  if (rx != ry)
    return rx < ry ? -1 : 1;
  return x < y ? -1 : x > y;
}

static int
sched_init(struct sched *q, struct sweep *s, cab_error *err)
{
  const struct cab_sweep_plan *p = s->plan;
  size_t nm = p->n_models;
  memset(q, 0, sizeof *q);
  q->s = s;
  q->queue = calloc(nm, sizeof *q->queue);
  q->qlen = calloc(nm, sizeof *q->qlen);
  q->qhead = calloc(nm, sizeof *q->qhead);
  q->model_running = calloc(nm, sizeof *q->model_running);
  q->model_limit = calloc(nm, sizeof *q->model_limit);
  q->group = calloc(nm, sizeof *q->group);
  q->group_running = calloc(nm, sizeof *q->group_running);
  q->group_limit = calloc(nm, sizeof *q->group_limit);
  q->run_idx = calloc((size_t)s->jobs + 1, sizeof *q->run_idx);
  q->wait_idx = calloc(s->n + 1, sizeof *q->wait_idx);
  if (!q->queue || !q->qlen || !q->qhead || !q->model_running || !q->model_limit || !q->group ||
      !q->group_running || !q->group_limit || !q->run_idx || !q->wait_idx)
    return cab_error_sys(err, "sweep: memory");
  for (size_t m = 0; m < nm; m++) {
    q->model_limit[m] = p->models[m].max_concurrency;
    q->group[m] = -1;
    const char *ep = p->models[m].endpoint;
    if (ep == NULL || cab_sweep_plan_endpoint_limit(p, ep) == 0)
      continue;
    for (size_t k = 0; k < m && q->group[m] < 0; k++)
      if (p->models[k].endpoint && strcmp(p->models[k].endpoint, ep) == 0)
        q->group[m] = q->group[k];
    if (q->group[m] < 0) {
      q->group[m] = (int)q->n_groups;
      q->group_limit[q->n_groups++] = cab_sweep_plan_endpoint_limit(p, ep);
    }
  }
  for (size_t i = 0; i < s->n; i++)
    if (s->sc[i].st == SC_PENDING)
      q->qlen[s->sc[i].c->model]++;
  for (size_t m = 0; m < nm; m++) {
    q->queue[m] = calloc(q->qlen[m] ? q->qlen[m] : 1, sizeof **q->queue);
    if (q->queue[m] == NULL)
      return cab_error_sys(err, "sweep: memory");
    q->qlen[m] = 0;
  }
  for (size_t i = 0; i < s->n; i++)
    if (s->sc[i].st == SC_PENDING) {
      size_t m = s->sc[i].c->model;
      q->queue[m][q->qlen[m]++] = i;
    }
  for (size_t m = 0; m < nm; m++)
    qsort_r(q->queue[m], q->qlen[m], sizeof **q->queue, by_run, s);
  return 0;
}

static bool
fits(const struct sched *q, const struct sweep_cell *sc)
{
  size_t m = sc->c->model;
  int g = q->group[m];
  if (q->model_limit[m] > 0 && q->model_running[m] >= q->model_limit[m])
    return false;
  if (g >= 0 && q->group_running[g] >= q->group_limit[g])
    return false;
  if (q->s->mem_budget > 0 && q->mem_used + q->s->plan->memory_bytes > q->s->mem_budget)
    return false;
  return true;
}

static int
start(struct sched *q, size_t i, cab_error *err)
{
  struct sweep *s = q->s;
  struct sweep_cell *sc = &s->sc[i];
  cab_sweep_clean_stale(s, sc->c, sc->attempt == 1);
  if (cab_sweep_cassette_prepare(s, sc, err) < 0 ||
      cab_sweep_journal_event(s, sc, "start", NULL, -1, err) < 0 ||
      cab_sweep_spawn(s, sc, err) < 0)
    return -1;
  sc->st = SC_RUNNING;
  size_t m = sc->c->model;
  q->model_running[m]++;
  if (q->group[m] >= 0)
    q->group_running[q->group[m]]++;
  q->running++;
  q->mem_used += s->plan->memory_bytes;
  q->run_idx[q->n_run++] = i;
  s->n_running++;
  return 0;
}

/* How many may run now: the ramp-up grows it by one every ramp_up_s. */
static long
allowed(const struct sched *q, int64_t now)
{
  const struct sweep *s = q->s;
  if (s->plan->ramp_up_s <= 0)
    return s->jobs;
  double steps = (double)(now - s->t0_ns) / 1e9 / s->plan->ramp_up_s;
  long a = 1 + (long)steps;
  return a < s->jobs ? a : s->jobs;
}

/* Start what may start.  Retries that are due go first, then the models'
 * queues in turn, one cell each per round. */
static int
start_some(struct sched *q, int64_t now, cab_error *err)
{
  struct sweep *s = q->s;
  size_t nm = s->plan->n_models;
  long limit = allowed(q, now);
  for (size_t k = 0; k < q->n_wait && q->running < limit;) {
    size_t i = q->wait_idx[k];
    struct sweep_cell *sc = &s->sc[i];
    if (sc->not_before_ns > now || !fits(q, sc)) {
      k++;
      continue;
    }
    q->wait_idx[k] = q->wait_idx[--q->n_wait];
    s->n_waiting--;
    if (start(q, i, err) < 0)
      return -1;
  }
  bool progress = true;
  while (progress && q->running < limit) {
    progress = false;
    for (size_t k = 0; k < nm && q->running < limit; k++) {
      size_t m = (q->rr + k) % nm;
      if (q->qhead[m] == q->qlen[m])
        continue;
      size_t i = q->queue[m][q->qhead[m]];
      if (!fits(q, &s->sc[i]))
        continue;
      if (start(q, i, err) < 0)
        return -1;
      q->qhead[m]++;
      progress = true;
    }
    q->rr = (q->rr + 1) % (nm ? nm : 1);
  }
  return 0;
}

static int64_t
backoff_ns(const struct sweep *s, int failed_attempt)
{
  double d = s->plan->backoff_s * pow(2, failed_attempt - 1);
  if (d > 600)
    d = 600;
  return (int64_t)(d * 1e9);
}

/* The last non-empty line of a run-cell's stderr, for the warning. */
static void
last_line(const char *path, char *buf, size_t size)
{
  buf[0] = '\0';
  cleanup_free char *text = NULL;
  size_t len = 0;
  cab_error ignored = {0};
  if (cab_read_file_at(AT_FDCWD, path, 1 << 20, &text, &len, &ignored) < 0)
    return;
  while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
    text[--len] = '\0';
  char *nl = strrchr(text, '\n');
  snprintf(buf, size, "%s", nl ? nl + 1 : text);
}

static void
wait_retry(struct sched *q, size_t i, int64_t when)
{
  struct sweep_cell *sc = &q->s->sc[i];
  sc->st = SC_WAITING;
  sc->not_before_ns = when;
  sc->attempt++;
  q->wait_idx[q->n_wait++] = i;
  q->s->n_waiting++;
}

static int
finish(struct sched *q, size_t i, int status, cab_error *err)
{
  struct sweep *s = q->s;
  struct sweep_cell *sc = &s->sc[i];
  size_t m = sc->c->model;
  s->n_running--;
  q->model_running[m]--;
  if (q->group[m] >= 0)
    q->group_running[q->group[m]]--;
  q->running--;
  q->mem_used -= s->plan->memory_bytes;
  sc->pid = 0;

  char dir[PATH_MAX];
  if (cab_sweep_cell_dir(s, sc->c, 0, dir, sizeof dir, err) < 0)
    return -1;
  struct sweep_record rec;
  cab_sweep_read_record(s, sc->c, dir, &rec);
  bool ok = rec.complete && rec.same_identity;
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  const char *outcome = ok ? rec.outcome : "runner_error";
  if (cab_sweep_journal_event(s, sc, "done", outcome, ok ? -1 : code, err) < 0)
    return -1;
  struct stat st;
  if (stat(sc->log_path, &st) == 0 && st.st_size == 0)
    unlink(sc->log_path);
  int64_t now = cab_now_ns();
  long max_attempts = 1 + s->plan->retries_infra;
  if (!ok) {
    char line[300];
    last_line(sc->log_path, line, sizeof line);
    sc->runner_errors++;
    bool again = sc->runner_errors < max_attempts;
    cab_warn(s->o->progress, "cell %s: run-cell %s %d and wrote no cell.json%s%s (%s)%s",
             sc->c->key,
             WIFEXITED(status) ? "exited" : "was killed by signal",
             WIFEXITED(status) ? code : WTERMSIG(status), line[0] ? ": " : "", line, sc->log_path,
             again ? "; trying again" : "");
    if (again) {
      wait_retry(q, i, now + backoff_ns(s, sc->runner_errors));
      return 0;
    }
  } else if (strcmp(outcome, "infra_error") == 0 && sc->attempt < max_attempts) {
    if (cab_sweep_keep_attempt(s, sc->c, sc->attempt, err) < 0)
      return -1;
    wait_retry(q, i, now + backoff_ns(s, sc->attempt));
    return 0;
  }
  cab_sweep_count_done(s, outcome);
  sc->st = SC_DONE;
  snprintf(sc->outcome, sizeof sc->outcome, "%s", outcome);
  sc->composite = ok ? rec.composite : NAN;
  s->finished_now++;
  return 0;
}


static int
reap(struct sched *q, cab_error *err)
{
  for (;;) {
    int status;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid <= 0)
      return 0;
    for (size_t k = 0; k < q->n_run; k++) {
      size_t i = q->run_idx[k];
      if (q->s->sc[i].pid != pid)
        continue;
      q->run_idx[k] = q->run_idx[--q->n_run];
      if (finish(q, i, status, err) < 0)
        return -1;
      break;
    }
  }
}

/* Stop every running cell (SIGKILL: a killed run-cell leaves no cell.json,
 * so the resumed sweep runs it again). */
static void
kill_all(struct sched *q)
{
  struct sweep *s = q->s;
  for (size_t k = 0; k < q->n_run; k++) {
    pid_t pid = s->sc[q->run_idx[k]].pid;
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
  }
  for (size_t k = 0; k < q->n_run; k++) {
    struct sweep_cell *sc = &s->sc[q->run_idx[k]];
    while (waitpid(sc->pid, NULL, 0) < 0 && errno == EINTR)
      ;
    sc->st = SC_PENDING;
    sc->pid = 0;
    s->n_running--;
  }
  q->n_run = 0;
}

/* Milliseconds until something may change without a child exiting. */
static int
poll_timeout(const struct sched *q, int64_t now)
{
  const struct sweep *s = q->s;
  int64_t next = q->next_report_ns;
  bool queued = false;
  for (size_t m = 0; m < s->plan->n_models; m++)
    queued |= q->qhead[m] < q->qlen[m];
  for (size_t k = 0; k < q->n_wait; k++)
    if (s->sc[q->wait_idx[k]].not_before_ns < next)
      next = s->sc[q->wait_idx[k]].not_before_ns;
  long a = allowed(q, now);
  if (queued && a < s->jobs && q->running >= a && s->plan->ramp_up_s > 0) {
    int64_t step = (int64_t)(s->plan->ramp_up_s * 1e9);
    int64_t t = s->t0_ns + (int64_t)a * step;
    if (t < next)
      next = t;
  }
  int64_t ms = (next - now) / 1000000 + 1;
  return ms < 1 ? 1 : ms > 60000 ? 60000 : (int)ms;
}

int
cab_sweep_schedule(struct sweep *s, cab_error *err)
{
  struct sched q;
  sigset_t mask, old;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGHUP);
  if (sigprocmask(SIG_BLOCK, &mask, &old) < 0)
    return cab_error_sys(err, "sweep: block signals");
  cleanup_close int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  int rc = -1, signo = 0;
  if (sfd < 0) {
    cab_error_sys(err, "sweep: signalfd");
    goto out;
  }
  if (sched_init(&q, s, err) < 0)
    goto out_q;
  int64_t every = (int64_t)((s->o->progress_tty ? 1.0
                             : s->o->progress_every_s > 0 ? s->o->progress_every_s
                                                          : 10.0) *
                            1e9);
  q.next_report_ns = cab_now_ns() + every;
  if (s->o->progress_tty)
    cab_sweep_progress(s, false);
  bool redraw = false;
  for (;;) {
    int64_t now = cab_now_ns();
    if (start_some(&q, now, err) < 0)
      break;
    if (q.running == 0 && s->n_done == s->n) {
      rc = 0;
      break;
    }
    /* Drawn after the starts, so that "running" counts them. */
    if (redraw || now >= q.next_report_ns) {
      if (s->o->progress_tty || now >= q.next_report_ns)
        cab_sweep_progress(s, false);
      if (now >= q.next_report_ns)
        q.next_report_ns = now + every;
      redraw = false;
    }
    struct pollfd pfd = {.fd = sfd, .events = POLLIN};
    int n = poll(&pfd, 1, poll_timeout(&q, now));
    if (n < 0 && errno != EINTR) {
      cab_error_sys(err, "sweep: poll");
      break;
    }
    struct signalfd_siginfo si;
    while (read(sfd, &si, sizeof si) == sizeof si) {
      if (si.ssi_signo == SIGCHLD)
        redraw = true;
      else
        signo = (int)si.ssi_signo;
    }
    if (signo)
      break;
    if (redraw && reap(&q, err) < 0)
      break;
  }
  kill_all(&q);
  if (signo) {
    size_t done = s->n_done;
    const char *name = sigabbrev_np(signo);
    cab_error_set(err, 0, "sweep %s interrupted by SIG%s: %zu of %zu cells done; carry on with "
                          "'cab sweep %s --resume%s%s'",
                  s->plan->sweep_id, name ? name : "?", done, s->n, s->o->plan_path,
                  s->o->out_dir ? " --out " : "", s->o->out_dir ? s->o->out_dir : "");
    err->exit_code = 128 + signo;
    rc = -1;
  }
out_q:
  sched_free(&q);
out:
  sigprocmask(SIG_SETMASK, &old, NULL);
  return rc;
}
