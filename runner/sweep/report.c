/* What a sweep shows: the progress line, the summary table, the dry-run
 * listing; with --json the summary and the listing as one JSON object each
 * (schemas cab.sweep.summary/v1 and cab.sweep.dry_run/v1) on the same
 * stream, the progress still on its own. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strfmt.h"
#include "common/cleanup.h"
#include "common/fsutil.h"
#include "runner/sweep/internal.h"
#include "scorers/scorers.h"

/* DOC (taken) on F, as every --json document is printed (cab_json_print). */
static int
print_json(FILE *f, cJSON *doc, cab_error *err)
{
  cleanup_free char *text = doc ? cab_json_print(doc, true) : NULL;
  cJSON_Delete(doc);
  if (text == NULL)
    return cab_error_set(err, ENOMEM, "sweep: print the JSON output");
  fprintf(f, "%s\n", text);
  fflush(f);
  return 0;
}

static bool
is_fail(const char *o)
{
  return strcmp(o, "fail") == 0 || strcmp(o, "timeout") == 0 || strcmp(o, "agent_error") == 0;
}

void
cab_sweep_count_done(struct sweep *s, const char *outcome)
{
  s->n_done++;
  if (strcmp(outcome, "pass") == 0)
    s->n_pass++;
  else if (is_fail(outcome))
    s->n_fail++;
  else
    s->n_error++;
}

static void
duration(double secs, char *buf, size_t size)
{
  long t = (long)(secs + 0.5);
  if (t >= 3600)
    snprintf(buf, size, "%ldh%02ldm", t / 3600, t / 60 % 60);
  else if (t >= 60)
    snprintf(buf, size, "%ldm%02lds", t / 60, t % 60);
  else
    snprintf(buf, size, "%lds", t);
}

void
cab_sweep_progress(struct sweep *s, bool final)
{
  FILE *f = s->o->progress;
  double elapsed = (double)(cab_now_ns() - s->t0_ns) / 1e9;
  double per_min = elapsed > 0 ? (double)s->finished_now / elapsed * 60 : 0;
  char rate[64] = "", eta[64] = "", wait[48] = "";
  if (s->finished_now > 0)
    snprintf(rate, sizeof rate, ", %.1f cells/min", per_min);
  size_t left = s->n - s->n_done;
  if (!final && s->finished_now > 0 && left > 0) {
    char d[32];
    duration((double)left / per_min * 60, d, sizeof d);
    snprintf(eta, sizeof eta, ", ETA %s", d);
  } else if (final) {
    char d[32];
    duration(elapsed, d, sizeof d);
    snprintf(eta, sizeof eta, " in %s", d);
  }
  if (s->n_waiting)
    snprintf(wait, sizeof wait, ", %zu waiting to retry", s->n_waiting);
  char text[512];
  snprintf(text, sizeof text,
           "cab: sweep %s: %zu/%zu done (%zu pass, %zu fail, %zu error), %zu running%s%s%s",
           s->plan->sweep_id, s->n_done, s->n, s->n_pass, s->n_fail, s->n_error, s->n_running,
           wait, rate, eta);
  if (!s->o->progress_tty) {
    fprintf(f, "%s\n", text);
    fflush(f);
    return;
  }
  s->line.out = f;
  cab_ttyline_draw(&s->line, true, "%s", text);
  if (final)
    cab_ttyline_end(&s->line);
}

struct row {
  size_t cells, pass, fail, timeout, agent_error, infra_error, none, scored;
  double composite_sum;
};

/* "shard": {k, n} of a sharded sweep, or null. */
static void
add_shard(cJSON *o, const struct sweep *s)
{
  if (s->o->shard_n) {
    cJSON *sh = cJSON_AddObjectToObject(o, "shard");
    cJSON_AddNumberToObject(sh, "k", s->o->shard_k);
    cJSON_AddNumberToObject(sh, "n", s->o->shard_n);
  } else {
    cJSON_AddNullToObject(o, "shard");
  }
}

/* The summary as one object: the sweep, its counts and the table's rows,
 * with the mean composite null where the row has no score. */
static cJSON *
summary_json(const struct sweep *s, const struct row *rows)
{
  const struct cab_sweep_plan *p = s->plan;
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "schema", "cab.sweep.summary/v1");
  cJSON_AddStringToObject(o, "sweep_id", p->sweep_id);
  cJSON_AddStringToObject(o, "sweep_dir", s->sweep_dir);
  add_shard(o, s);
  cJSON_AddNumberToObject(o, "cells", (double)s->n);
  cJSON_AddNumberToObject(o, "done", (double)s->n_done);
  cJSON_AddNumberToObject(o, "pass", (double)s->n_pass);
  cJSON_AddNumberToObject(o, "fail", (double)s->n_fail);
  cJSON_AddNumberToObject(o, "error", (double)s->n_error);
  cJSON_AddNumberToObject(o, "elapsed_s", (double)(cab_now_ns() - s->t0_ns) / 1e9);
  cJSON *arr = cJSON_AddArrayToObject(o, "rows");
  for (size_t t = 0; t < p->n_tuis; t++)
    for (size_t m = 0; m < p->n_models; m++) {
      const struct row *r = &rows[t * p->n_models + m];
      if (r->cells == 0)
        continue;
      cJSON *j = cJSON_CreateObject();
      cJSON_AddStringToObject(j, "tui", p->tuis[t].tui);
      cJSON_AddStringToObject(j, "model", p->models[m].model);
      cJSON_AddNumberToObject(j, "cells", (double)r->cells);
      cJSON_AddNumberToObject(j, "pass", (double)r->pass);
      cJSON_AddNumberToObject(j, "fail", (double)r->fail);
      cJSON_AddNumberToObject(j, "timeout", (double)r->timeout);
      cJSON_AddNumberToObject(j, "agent_error", (double)r->agent_error);
      cJSON_AddNumberToObject(j, "infra_error", (double)r->infra_error);
      cJSON_AddNumberToObject(j, "no_record", (double)r->none);
      if (r->scored)
        cJSON_AddNumberToObject(j, "composite", r->composite_sum / (double)r->scored);
      else
        cJSON_AddNullToObject(j, "composite");
      cJSON_AddItemToArray(arr, j);
    }
  return o;
}

void
cab_sweep_summary(struct sweep *s)
{
  const struct cab_sweep_plan *p = s->plan;
  size_t nm = p->n_models, nrows = p->n_tuis * nm;
  cleanup_free struct row *rows = calloc(nrows ? nrows : 1, sizeof *rows);
  if (rows == NULL)
    return;
  for (size_t i = 0; i < s->n; i++) {
    const struct sweep_cell *sc = &s->sc[i];
    struct row *r = &rows[sc->c->tui * nm + sc->c->model];
    r->cells++;
    const char *o = sc->st == SC_DONE ? sc->outcome : "";
    if (strcmp(o, "pass") == 0)
      r->pass++;
    else if (strcmp(o, "fail") == 0)
      r->fail++;
    else if (strcmp(o, "timeout") == 0)
      r->timeout++;
    else if (strcmp(o, "agent_error") == 0)
      r->agent_error++;
    else if (strcmp(o, "infra_error") == 0)
      r->infra_error++;
    else
      r->none++;
    if (!isnan(sc->composite)) {
      r->scored++;
      r->composite_sum += sc->composite;
    }
  }
  if (s->o->json) {
    cab_error err = {0};
    if (print_json(s->o->out, summary_json(s, rows), &err) < 0)
      fprintf(s->o->progress, "cab: %s\n", err.message);
    return;
  }
  int wt = 3, wm = 5;
  for (size_t t = 0; t < p->n_tuis; t++)
    if ((int)strlen(p->tuis[t].tui) > wt)
      wt = (int)strlen(p->tuis[t].tui);
  for (size_t m = 0; m < nm; m++)
    if ((int)strlen(p->models[m].model) > wm)
      wm = (int)strlen(p->models[m].model);
  FILE *f = s->o->out;
  bool any_none = false;
  fprintf(f, "%-*s  %-*s  %5s  %5s  %5s  %7s  %11s  %11s  %9s\n", wt, "tui", wm, "model", "cells",
          "pass", "fail", "timeout", "agent_error", "infra_error", "composite");
  for (size_t t = 0; t < p->n_tuis; t++)
    for (size_t m = 0; m < nm; m++) {
      const struct row *r = &rows[t * nm + m];
      if (r->cells == 0)
        continue;
      any_none |= r->none > 0;
      char comp[32] = "-";
      if (r->scored)
        snprintf(comp, sizeof comp, "%.3f", r->composite_sum / (double)r->scored);
      fprintf(f, "%-*s  %-*s  %5zu  %5zu  %5zu  %7zu  %11zu  %11zu  %9s\n", wt, p->tuis[t].tui, wm,
              p->models[m].model, r->cells, r->pass, r->fail, r->timeout, r->agent_error,
              r->infra_error, comp);
    }
  if (any_none)
    fprintf(f, "(cells without a record are counted in \"cells\" only)\n");
  fflush(f);
}

static const char *
status_word(const struct sweep_cell *sc)
{
  if (sc->st == SC_DONE)
    return "done";
  return sc->attempt > 1 ? "retry" : "run";
}

/* The dry-run listing as one object: every cell (key, image and, with
 * --resume, its status), the images each once with their cell counts. */
static int
dry_run_json(struct sweep *s, const char **seen, const size_t *count, size_t n_seen, size_t todo,
             cab_error *err)
{
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "schema", "cab.sweep.dry_run/v1");
  cJSON_AddStringToObject(o, "sweep_id", s->plan->sweep_id);
  add_shard(o, s);
  cJSON_AddNumberToObject(o, "count", (double)s->n);
  if (s->o->resume)
    cJSON_AddNumberToObject(o, "to_run", (double)todo);
  else
    cJSON_AddNullToObject(o, "to_run");
  cJSON *cells = cJSON_AddArrayToObject(o, "cells");
  for (size_t i = 0; i < s->n; i++) {
    const struct sweep_cell *sc = &s->sc[i];
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "key", sc->c->key);
    cJSON_AddStringToObject(c, "image", sc->c->shown_image);
    if (s->o->resume)
      cJSON_AddStringToObject(c, "status", status_word(sc));
    else
      cJSON_AddNullToObject(c, "status");
    cJSON_AddItemToArray(cells, c);
  }
  cJSON *images = cJSON_AddArrayToObject(o, "images");
  for (size_t k = 0; k < n_seen; k++) {
    cJSON *im = cJSON_CreateObject();
    cJSON_AddStringToObject(im, "image", seen[k]);
    cJSON_AddNumberToObject(im, "cells", (double)count[k]);
    cJSON_AddItemToArray(images, im);
  }
  return print_json(s->o->out, o, err);
}

int
cab_sweep_dry_run(struct sweep *s, cab_error *err)
{
  FILE *f = s->o->out;
  size_t width = 0, todo = 0;
  for (size_t i = 0; i < s->n; i++)
    if (strlen(s->sc[i].c->key) > width)
      width = strlen(s->sc[i].c->key);
  for (size_t i = 0; i < s->n; i++) {
    const struct sweep_cell *sc = &s->sc[i];
    todo += sc->st != SC_DONE;
    if (s->o->json)
      continue;
    if (s->o->resume)
      fprintf(f, "%-*s  %-5s  %s\n", (int)width, sc->c->key, status_word(sc), sc->c->shown_image);
    else
      fprintf(f, "%-*s  %s\n", (int)width, sc->c->key, sc->c->shown_image);
  }
  /* The images, each once, in first-use order. */
  cleanup_free const char **seen = calloc(s->n ? s->n : 1, sizeof *seen);
  cleanup_free size_t *count = calloc(s->n ? s->n : 1, sizeof *count);
  if (seen == NULL || count == NULL)
    return cab_error_sys(err, "sweep: memory");
  size_t n_seen = 0;
  for (size_t i = 0; i < s->n; i++) {
    const char *img = s->sc[i].c->shown_image;
    size_t k = 0;
    while (k < n_seen && strcmp(seen[k], img) != 0)
      k++;
    if (k == n_seen)
      seen[n_seen++] = img;
    count[k]++;
  }
  if (s->o->json)
    return dry_run_json(s, seen, count, n_seen, todo, err);
  fprintf(f, "images:\n");
  for (size_t k = 0; k < n_seen; k++)
    fprintf(f, "  %s  (%zu %s)\n", seen[k], count[k], cab_plural(count[k], "cell", "cells"));
  fprintf(f, "%zu %s", s->n, cab_plural(s->n, "cell", "cells"));
  if (s->o->shard_n)
    fprintf(f, " (shard %u/%u of %zu)", s->o->shard_k, s->o->shard_n, s->cells.n);
  if (s->o->resume)
    fprintf(f, ", %zu to run", todo);
  fprintf(f, "\n");
  return 0;
}
