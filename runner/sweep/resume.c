/* Where a sweep stands, from its journal and its cell directories. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "common/strfmt.h"
#include "common/cleanup.h"
#include "common/wallclock.h"
#include "runner/sweep/internal.h"

int
cab_sweep_journal_event(struct sweep *s, struct sweep_cell *sc, const char *event,
                        const char *outcome, int exit_status, cab_error *err)
{
  char now[40];
  cab_iso8601_us(cab_wall_ns(), now, sizeof now);
  cJSON *j = cJSON_CreateObject();
  if (j == NULL)
    return cab_error_sys(err, "sweep journal: memory");
  cJSON_AddStringToObject(j, "event", event);
  cJSON_AddStringToObject(j, "cell", sc->c->key);
  cJSON_AddStringToObject(j, "spec_sha256", sc->c->spec_sha256);
  cJSON_AddNumberToObject(j, "attempt", sc->attempt);
  if (outcome)
    cJSON_AddStringToObject(j, "outcome", outcome);
  if (strcmp(event, "done") == 0 && cab_sweep_cassette_note(s, sc, j) < 0) {
    cJSON_Delete(j);
    return cab_error_sys(err, "sweep journal: memory");
  }
  if (exit_status >= 0)
    cJSON_AddNumberToObject(j, "exit", exit_status);
  cJSON_AddStringToObject(j, "time", now);
  cJSON_AddStringToObject(j, "plan_sha256", s->plan->plan_sha256);
  if (s->o->shard_n) {
    char shard[32];
    snprintf(shard, sizeof shard, "%u/%u", s->o->shard_k, s->o->shard_n);
    cJSON_AddStringToObject(j, "shard", shard);
  }
  int r = cab_sweep_journal_append(&s->journal, j, err);
  cJSON_Delete(j);
  return r;
}

/* What the journal says of one cell, under its current spec. */
struct jrec {
  int start_attempt;
  char start_time[40];
  int done_attempt;
  char done_outcome[16];
  bool any; /* any line for this cell, whatever the spec */
};

struct scan {
  struct sweep *s;
  size_t *by_key; /* indexes into s->sc, sorted by key */
  struct jrec *rec;
};

static int
find_cell(const struct scan *sc, const char *key)
{
  size_t lo = 0, hi = sc->s->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = strcmp(sc->s->sc[sc->by_key[mid]].c->key, key);
    if (c == 0)
      return (int)sc->by_key[mid];
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return -1;
}

static const char *
jstr(const cJSON *o, const char *k)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int
on_line(const cJSON *line, void *arg)
{
  struct scan *sc = arg;
  const char *event = jstr(line, "event"), *key = jstr(line, "cell");
  const char *spec = jstr(line, "spec_sha256"), *time = jstr(line, "time");
  const cJSON *att = cJSON_GetObjectItemCaseSensitive(line, "attempt");
  if (!event || !key || !spec || !cJSON_IsNumber(att) || att->valuedouble < 1)
    return 0;
  int i = find_cell(sc, key);
  if (i < 0)
    return 0;
  struct jrec *r = &sc->rec[i];
  r->any = true;
  if (strcmp(spec, sc->s->sc[i].c->spec_sha256) != 0)
    return 0;
  int a = (int)att->valuedouble;
  if (strcmp(event, "start") == 0 && a >= r->start_attempt) {
    r->start_attempt = a;
    snprintf(r->start_time, sizeof r->start_time, "%s", time ? time : "");
  } else if (strcmp(event, "done") == 0 && a >= r->done_attempt && jstr(line, "outcome")) {
    r->done_attempt = a;
    snprintf(r->done_outcome, sizeof r->done_outcome, "%s", jstr(line, "outcome"));
  }
  return 0;
}

static int
by_key_cmp(const void *a, const void *b, void *arg)
{
  const struct sweep *s = arg;
  return strcmp(s->sc[*(const size_t *)a].c->key, s->sc[*(const size_t *)b].c->key);
}

/* One cell's state from its journal record and its directory. */
static int
settle(struct sweep *s, struct sweep_cell *sc, const struct jrec *r, bool write, cab_error *err)
{
  char dir[PATH_MAX];
  if (cab_sweep_cell_dir(s, sc->c, 0, dir, sizeof dir, err) < 0)
    return -1;
  struct sweep_record rec;
  cab_sweep_read_record(s, sc->c, dir, &rec);
  int d = r->done_attempt;
  char outcome[16];
  snprintf(outcome, sizeof outcome, "%s", r->done_outcome);
  sc->st = SC_PENDING;
  sc->composite = NAN;
  if (r->start_attempt > d) {
    /* Started and not journaled: the sweep died while it ran, or between
     * its end and the journal line.  A complete cell.json written after
     * the start is that run's. */
    if (rec.complete && rec.same_identity && strcmp(rec.started_at, r->start_time) >= 0) {
      sc->attempt = r->start_attempt;
      if (write && cab_sweep_journal_event(s, sc, "done", rec.outcome, -1, err) < 0)
        return -1;
      d = r->start_attempt;
      snprintf(outcome, sizeof outcome, "%s", rec.outcome);
    } else {
      sc->attempt = r->start_attempt;
      return 0;
    }
  }
  if (d == 0) {
    sc->attempt = 1;
    return 0;
  }
  long max_attempts = 1 + s->plan->retries_infra;
  if (strcmp(outcome, "runner_error") == 0) {
    sc->attempt = d + 1;
    return 0;
  }
  if (strcmp(outcome, "infra_error") == 0 && d < max_attempts) {
    /* The failed attempt is kept aside before the next one starts; the
     * sweep may have died in between. */
    sc->attempt = d;
    if (rec.complete && write && cab_sweep_keep_attempt(s, sc->c, d, err) < 0)
      return -1;
    sc->attempt = d + 1;
    return 0;
  }
  if (!rec.complete || !rec.same_identity) {
    sc->attempt = d + 1; /* journaled, but the cell is gone: run it again */
    return 0;
  }
  sc->st = SC_DONE;
  sc->resumed = true;
  sc->attempt = d;
  snprintf(sc->outcome, sizeof sc->outcome, "%s", rec.outcome);
  sc->composite = rec.composite;
  return 0;
}

int
cab_sweep_resume_state(struct sweep *s, bool write, cab_error *err)
{
  cleanup_free size_t *by_key = calloc(s->n ? s->n : 1, sizeof *by_key);
  cleanup_free struct jrec *rec = calloc(s->n ? s->n : 1, sizeof *rec);
  if (by_key == NULL || rec == NULL)
    return cab_error_sys(err, "sweep: memory");
  for (size_t i = 0; i < s->n; i++)
    by_key[i] = i;
  qsort_r(by_key, s->n, sizeof *by_key, by_key_cmp, s);
  struct scan scan = {s, by_key, rec};
  if (cab_sweep_journal_read(s->meta_dir, on_line, &scan, err) < 0)
    return -1;
  size_t seen = 0;
  for (size_t i = 0; i < s->n; i++)
    seen += rec[i].any;
  if (seen > 0 && !s->o->resume)
    return cab_error_set(err, 0, "%s already holds %zu %s of this sweep (its journal: "
                                 "%s/journal.jsonl); pass --resume to carry on, or choose another "
                                 "--out or sweep_id",
                         s->sweep_dir, seen, cab_plural(seen, "cell", "cells"), s->meta_dir);
  for (size_t i = 0; i < s->n; i++)
    if (settle(s, &s->sc[i], &rec[i], write, err) < 0)
      return -1;
  return 0;
}
