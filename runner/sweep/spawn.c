/* Start one cell: `cab-full run-cell ...` as a child process. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/strfmt.h"
#include "common/cleanup.h"
#include "runner/sweep/internal.h"

#define MAX_ARGS 48

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

int
cab_sweep_spawn(struct sweep *s, struct sweep_cell *sc, cab_error *err)
{
  const struct cab_sweep_plan *p = s->plan;
  const struct cab_sweep_cell *c = sc->c;
  const struct cab_sweep_model *m = &p->models[c->model];
  char run[16], memory[32], cpus[32], retries[16];
  snprintf(run, sizeof run, "%d", c->run);
  snprintf(memory, sizeof memory, "%lld", (long long)p->memory_bytes);
  snprintf(cpus, sizeof cpus, "%g", p->cpus);
  snprintf(retries, sizeof retries, "%ld", m->model_retries);
  const char *argv[MAX_ARGS];
  size_t n = 0;
#define ARG(x) (argv[n++] = (x))
  ARG(s->cab_full);
  ARG("run-cell");
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
  if (m->endpoint)
    ARG("--endpoint"), ARG(m->endpoint);
  if (m->key_env)
    ARG("--key-env"), ARG(m->key_env);
  if (m->endpoint_wire)
    ARG("--endpoint-wire"), ARG(m->endpoint_wire);
  if (m->replay)
    ARG("--replay"), ARG(m->replay);
  if (m->model_retries >= 0)
    ARG("--model-retries"), ARG(retries);
  if (p->tasks_dir)
    ARG("--tasks-dir"), ARG(p->tasks_dir);
  if (p->scoring)
    ARG("--scoring"), ARG(p->scoring);
  ARG("--memory"), ARG(memory);
  if (p->cpus > 0)
    ARG("--cpus"), ARG(cpus);
  argv[n] = NULL;
#undef ARG

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
