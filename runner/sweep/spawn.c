/* Start one cell: `cab-full run-cell ...` as a child process. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/strfmt.h"
#include "common/cleanup.h"
#include "runner/sweep/internal.h"

#define MAX_ARGS 48

struct cell_argv {
  const char *v[MAX_ARGS];
  char run[16], memory[32], cpus[32], retries[16], require[160];
};

/* The log's name: the key with '/' and '%' escaped.  A key too long for
 * it is an error: a cut one could be another cell's log. */
static int
log_path(const struct sweep *s, const struct sweep_cell *sc, char *buf, size_t size,
         cab_error *err)
{
  char name[1024];
  size_t k = 0;
  const char *p = sc->c->key;
  for (; *p && k + 4 < sizeof name; p++) {
    if (*p == '/' || *p == '%')
      k += (size_t)snprintf(name + k, sizeof name - k, "%%%02X", (unsigned char)*p);
    else
      name[k++] = *p;
  }
  name[k] = '\0';
  if (*p)
    return cab_error_set(err, ENAMETOOLONG, "sweep: cell %.200s...: key too long for a log name",
                         sc->c->key);
  return cab_path_printf(buf, size, err, "%s/logs/%s.attempt-%d.log", s->meta_dir, name,
                         sc->attempt);
}

/* The cell's `cab-full run-cell` command line, into A (its numbers kept
 * there too); PREFLIGHT: only its checks (run-cell --preflight). */
static void
cell_argv(const struct sweep *s, const struct sweep_cell *sc, bool preflight,
          struct cell_argv *a)
{
  const struct cab_sweep_cell *c = sc->c;
  bool replay = s->replay_dir[0] != '\0';
  const struct cab_sweep_plan *p = s->plan;
  const struct cab_sweep_model *m = &p->models[c->model];
  snprintf(a->run, sizeof a->run, "%d", c->run);
  snprintf(a->memory, sizeof a->memory, "%lld", (long long)p->memory_bytes);
  snprintf(a->cpus, sizeof a->cpus, "%g", p->cpus);
  snprintf(a->retries, sizeof a->retries, "%ld", m->model_retries);
  cab_protection_format(s->o->require_given ? s->o->require : p->require, a->require,
                        sizeof a->require);
  const char **argv = a->v;
  char *run = a->run, *memory = a->memory, *cpus = a->cpus, *retries = a->retries;
  size_t n = 0;
#define ARG(x) (argv[n++] = (x))
  ARG(s->cab_full);
  ARG("run-cell");
  /* The sweep draws its own progress; a cell's phase lines would only
   * fill its log. */
  ARG("--quiet");
  ARG("--tui"), ARG(p->tuis[c->tui].tui);
  ARG("--model"), ARG(m->model);
  ARG("--task"), ARG(p->tasks[c->task].id);
  ARG("--run"), ARG(run);
  ARG("--sweep-id"), ARG(p->sweep_id);
  ARG("--out"), ARG(s->out_dir);
  if (c->host_rootfs)
    ARG("--host-rootfs");
  else if (c->image)
    ARG("--image"), ARG(c->image);
  /* Replaying a recorded sweep: the cassette only, never the endpoint. */
  if (m->endpoint && !replay)
    ARG("--endpoint"), ARG(m->endpoint);
  if (m->key_env && !replay)
    ARG("--key-env"), ARG(m->key_env);
  if (m->endpoint_wire)
    ARG("--endpoint-wire"), ARG(m->endpoint_wire);
  if (replay && sc->cassette[0])
    ARG("--replay"), ARG(sc->cassette);
  else if (m->replay && !replay)
    ARG("--replay"), ARG(m->replay);
  else if (c->record && sc->cassette[0] && !preflight)
    ARG("--record"), ARG(sc->cassette);
  if (m->model_retries >= 0)
    ARG("--model-retries"), ARG(retries);
  if (p->tasks_dir)
    ARG("--tasks-dir"), ARG(p->tasks_dir);
  if (p->scoring)
    ARG("--scoring"), ARG(p->scoring);
  ARG("--memory"), ARG(memory);
  if (p->cpus > 0)
    ARG("--cpus"), ARG(cpus);
  ARG("--require"), ARG(a->require);
  if (s->o->cgroup_parent)
    ARG("--cgroup-parent"), ARG(s->o->cgroup_parent);
  if (preflight)
    ARG("--preflight");
  argv[n] = NULL;
#undef ARG
}

int
cab_sweep_spawn(struct sweep *s, struct sweep_cell *sc, cab_error *err)
{
  struct cell_argv a;
  cell_argv(s, sc, false, &a);
  const char *const *argv = a.v;

  if (log_path(s, sc, sc->log_path, sizeof sc->log_path, err) < 0)
    return -1;
  cleanup_close int log = open(sc->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log < 0)
    return cab_error_sys(err, "create %s", sc->log_path);
  pid_t parent = getpid();
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0)
    return cab_error_sys(err, "start a cell (fork)");
  if (pid == 0) {
    /* A killed sweep takes its cells with it: a run-cell killed mid-way
     * leaves no cell.json, and a resumed sweep runs that cell again. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
      _exit(125);
    /* Its own process group: a terminal's ^C reaches the sweep, which
     * stops its cells itself. */
    setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(log, 2) < 0)
      _exit(125);
    execv(argv[0], (char *const *)argv);
    dprintf(2, "cab sweep: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  setpgid(pid, pid); /* as the child does: whichever runs first */
  sc->pid = pid;
  return 0;
}

/* One `run-cell --preflight` for the cell C, waited for: 0, or -1 with ERR
 * holding the last line it printed (its refusal). */
static int
preflight_one(const struct sweep *s, const struct sweep_cell *sc, cab_error *err)
{
  struct cell_argv a;
  cell_argv(s, sc, true, &a);
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) < 0)
    return cab_error_sys(err, "sweep: pipe");
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    close(pipefd[0]);
    close(pipefd[1]);
    return cab_error_sys(err, "sweep: start a preflight (fork)");
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(pipefd[1], 2) < 0)
      _exit(125);
    execv(a.v[0], (char *const *)a.v);
    dprintf(2, "cab sweep: cannot run %s: %s\n", a.v[0], strerror(errno));
    _exit(127);
  }
  close(pipefd[1]);
  char out[4096];
  size_t len = 0;
  for (;;) {
    ssize_t r = read(pipefd[0], out + len, sizeof out - 1 - len);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    len += (size_t)r;
    if (len == sizeof out - 1) /* keep the tail: the refusal is the last line */
      memmove(out, out + len / 2, len - len / 2), len -= len / 2;
  }
  close(pipefd[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
    return 0;
  out[len] = '\0';
  while (len > 0 && out[len - 1] == '\n')
    out[--len] = '\0';
  const char *line = strrchr(out, '\n') ? strrchr(out, '\n') + 1 : out;
  if (strncmp(line, "cab: ", 5) == 0)
    line += 5;
  cab_error_set(err, 0, "sweep: %s", line[0] ? line : "run-cell --preflight failed");
  err->exit_code = CAB_EXIT_RUNNER;
  return -1;
}

static bool
same_str(const char *a, const char *b)
{
  return a == b || (a && b && strcmp(a, b) == 0);
}

int
cab_sweep_preflight(struct sweep *s, cab_error *err)
{
  for (size_t i = 0; i < s->n; i++) {
    const struct cab_sweep_cell *c = s->sc[i].c;
    bool seen = false;
    for (size_t j = 0; j < i && !seen; j++) {
      const struct cab_sweep_cell *d = s->sc[j].c;
      seen = d->tui == c->tui && d->host_rootfs == c->host_rootfs && same_str(d->image, c->image);
    }
    if (!seen && preflight_one(s, &s->sc[i], err) < 0)
      return -1;
  }
  return 0;
}
