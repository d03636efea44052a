/* cab sweep: load, shard, lock, resume, schedule, report
 * (runner/sweep/sweep.h). */
#include "runner/sweep/sweep.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strfmt.h"
#include "common/cleanup.h"
#include "common/fsutil.h"
#include "runner/record/layout.h"
#include "runner/sweep/internal.h"
#include "runner/sweep/shard.h"

/* What the environment must give the cells: keys and endpoints. */
static int
check_environment(const struct sweep *s, cab_error *err)
{
  const struct cab_sweep_plan *p = s->plan;
  if (s->replay_dir[0])
    return 0; /* offline: every model cell has its cassette (cab_sweep_replay_map) */
  bool needs_model = false;
  for (size_t t = 0; t < p->n_tuis; t++)
    needs_model |= p->tuis[t].needs_model;
  for (size_t m = 0; m < p->n_models; m++) {
    const struct cab_sweep_model *mo = &p->models[m];
    if (mo->key_env && getenv(mo->key_env) == NULL)
      return cab_error_set(err, 0, "%s: models[%zu].key_env: %s is not set in this environment",
                           p->origin, m, mo->key_env);
    const char *env = getenv("CAB_ENDPOINT");
    if (needs_model && !mo->endpoint && !mo->replay && !(env && *env))
      return cab_error_set(err, 0, "%s: models[%zu].endpoint: the plan's agents talk to a model: "
                                   "give an endpoint (or a replay cassette, or set $CAB_ENDPOINT)",
                           p->origin, m);
  }
  return 0;
}

static int
select_cells(struct sweep *s, cab_error *err)
{
  const struct cab_sweep_opts *o = s->o;
  cleanup_free unsigned *shard_of = NULL;
  if (o->shard_n) {
    shard_of = calloc(s->cells.n ? s->cells.n : 1, sizeof *shard_of);
    if (shard_of == NULL)
      return cab_error_sys(err, "sweep: memory");
    if (cab_sweep_shard(s->cells.v, s->cells.n, o->shard_n, shard_of, NULL, err) < 0)
      return -1;
  }
  s->sc = calloc(s->cells.n ? s->cells.n : 1, sizeof *s->sc);
  if (s->sc == NULL)
    return cab_error_sys(err, "sweep: memory");
  for (size_t i = 0; i < s->cells.n; i++) {
    if (shard_of && shard_of[i] != o->shard_k - 1)
      continue;
    struct sweep_cell *sc = &s->sc[s->n++];
    sc->c = &s->cells.v[i];
    sc->st = SC_PENDING;
    sc->attempt = 1;
    sc->composite = NAN;
  }
  return 0;
}

/* MAKE: create --out (else a missing one is named as given: a dry run, and
 * the preflight before anything is written). */
static int
set_paths(struct sweep *s, bool make, cab_error *err)
{
  const char *out = s->o->out_dir ? s->o->out_dir : "results";
  if (make && cab_mkdir_p(out, 0755, err) < 0)
    return -1;
  if (realpath(out, s->out_dir) == NULL) {
    if (make || errno != ENOENT)
      return cab_error_sys(err, "--out %s", out);
    if (cab_path_printf(s->out_dir, sizeof s->out_dir, err, "%s", out) < 0)
      return cab_error_prefix(err, "--out");
  }
  if (cab_record_sweep_dir(s->sweep_dir, sizeof s->sweep_dir, s->out_dir, s->plan->sweep_id,
                           err) < 0 ||
      cab_record_sweep_meta_dir(s->meta_dir, sizeof s->meta_dir, s->out_dir, s->plan->sweep_id,
                                err) < 0)
    return -1;
  char dir[PATH_MAX];
  if (cab_exe_dir(dir, sizeof dir) < 0)
    return cab_error_set(err, 0, "sweep: cannot tell where cab is (/proc/self/exe)");
  return cab_path_printf(s->cab_full, sizeof s->cab_full, err, "%s/cab-full", dir);
}

/* The plan as run, beside the journal, for whoever reads the results. */
static int
keep_plan(const struct sweep *s, cab_error *err)
{
  cleanup_free char *text = NULL;
  size_t len = 0;
  char path[PATH_MAX + 16];
  if (cab_read_file_at(AT_FDCWD, s->o->plan_path, CAB_SWEEP_PLAN_MAX, &text, &len, err) < 0)
    return -1;
  char logs[PATH_MAX + 16];
  snprintf(logs, sizeof logs, "%s/logs", s->meta_dir);
  snprintf(path, sizeof path, "%s/plan.json", s->meta_dir);
  if (cab_mkdir_p(logs, 0755, err) < 0)
    return -1;
  return cab_write_file_atomic(path, text, len, 0644, err);
}

static int
run(struct sweep *s, cab_error *err)
{
  const struct cab_sweep_opts *o = s->o;
  if (cab_sweep_plan_load(o->plan_path, &s->plan, err) < 0 ||
      cab_sweep_cells_build(s->plan, &s->cells, err) < 0 || select_cells(s, err) < 0 ||
      set_paths(s, false, err) < 0 || cab_sweep_replay_map(s, err) < 0)
    return -1;
  if (o->dry_run) {
    if (o->resume && cab_sweep_resume_state(s, false, err) < 0)
      return -1;
    return cab_sweep_dry_run(s, err);
  }
  if (check_environment(s, err) < 0 || cab_sweep_preflight(s, err) < 0 ||
      set_paths(s, true, err) < 0 || cab_sweep_choose_jobs(s, err) < 0 ||
      cab_sweep_journal_open(s->meta_dir, o->shard_k, o->shard_n, &s->journal, err) < 0 ||
      keep_plan(s, err) < 0 || cab_sweep_resume_state(s, true, err) < 0)
    return -1;
  size_t before = 0;
  for (size_t i = 0; i < s->n; i++)
    if (s->sc[i].st == SC_DONE) {
      before++;
      cab_sweep_count_done(s, s->sc[i].outcome);
    }
  char shard[64] = "";
  if (o->shard_n)
    snprintf(shard, sizeof shard, " (shard %u/%u of %zu)", o->shard_k, o->shard_n, s->cells.n);
  char done[64] = "";
  if (before)
    snprintf(done, sizeof done, ", %zu already done", before);
  fprintf(o->progress, "cab: sweep %s: %zu %s%s%s, up to %ld at once (%s)\n", s->plan->sweep_id,
          s->n, cab_plural(s->n, "cell", "cells"), shard, done, s->jobs, s->jobs_why);
  s->t0_ns = cab_now_ns();
  int r = cab_sweep_schedule(s, err);
  if (o->progress_tty || r == 0)
    cab_sweep_progress(s, true);
  if (r < 0)
    return -1;
  cab_sweep_summary(s);
  size_t none = 0, infra = 0;
  for (size_t i = 0; i < s->n; i++) {
    none += strcmp(s->sc[i].outcome, "runner_error") == 0;
    infra += strcmp(s->sc[i].outcome, "infra_error") == 0;
  }
  if (infra)
    fprintf(o->progress, "cab: warning: sweep %s: %zu %s ended in infra_error after %ld "
                         "retries each\n",
            s->plan->sweep_id, infra, cab_plural(infra, "cell", "cells"), s->plan->retries_infra);
  if (none)
    return cab_error_set(err, 0, "sweep %s: %zu of %zu cells have no cell.json (run-cell failed; "
                                 "its stderr is in %s/logs); run again with --resume",
                         s->plan->sweep_id, none, s->n, s->meta_dir);
  return 0;
}

int
cab_sweep_run(const struct cab_sweep_opts *o, cab_error *err)
{
  struct sweep s;
  memset(&s, 0, sizeof s);
  s.o = o;
  s.journal.fd = s.journal.lock_fd = s.journal.shard_lock_fd = -1;
  int r = run(&s, err);
  cab_sweep_journal_close(&s.journal);
  free(s.sc);
  cab_sweep_cells_free(&s.cells);
  cab_sweep_plan_free(s.plan);
  return r;
}
