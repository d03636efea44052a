/* A sweep's cassettes: each recording cell's own, beside the journal that
 * names it, and a recorded sweep replayed offline cell by cell from them
 * (runner/sweep/internal.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/strfmt.h"
#include "runner/sweep/internal.h"

#define CASSETTES_DIR "cassettes"

/* .sweep/cassettes/<key>.attempt-N.jsonl, relative to the sweep directory. */
static int
recorded_rel(const struct sweep *s, const struct sweep_cell *sc, char *buf, size_t size,
             cab_error *err)
{
  const char *meta = s->meta_dir + strlen(s->sweep_dir);
  while (*meta == '/')
    meta++;
  return cab_path_printf(buf, size, err, "%s/" CASSETTES_DIR "/%s.attempt-%d.jsonl", meta,
                         sc->c->key, sc->attempt);
}

int
cab_sweep_cassette_prepare(struct sweep *s, struct sweep_cell *sc, cab_error *err)
{
  if (!sc->c->record || s->replay_dir[0])
    return 0;
  char rel[PATH_MAX];
  if (recorded_rel(s, sc, rel, sizeof rel, err) < 0 ||
      cab_path_printf(sc->cassette, sizeof sc->cassette, err, "%s/%s", s->sweep_dir, rel) < 0)
    return cab_error_prefix(err, "sweep: cell %s: its cassette", sc->c->key);
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s", sc->cassette);
  *strrchr(dir, '/') = '\0';
  if (cab_mkdir_p(dir, 0755, err) < 0)
    return -1;
  /* A killed attempt of the same number left a partial one: the cassette
   * writer appends, and this attempt's calls must stand alone. */
  if (unlink(sc->cassette) < 0 && errno != ENOENT)
    return cab_error_sys(err, "sweep: remove the stale cassette %s", sc->cassette);
  return 0;
}

int
cab_sweep_cassette_note(const struct sweep *s, const struct sweep_cell *sc, cJSON *line)
{
  if (s->replay_dir[0]) {
    if (sc->cassette[0] && !cJSON_AddStringToObject(line, "replayed", sc->cassette))
      return -1;
    return 0;
  }
  if (!sc->c->record)
    return 0;
  char rel[PATH_MAX], path[PATH_MAX];
  cab_error ignored = {0};
  struct stat st;
  if (recorded_rel(s, sc, rel, sizeof rel, &ignored) < 0 ||
      cab_path_printf(path, sizeof path, &ignored, "%s/%s", s->sweep_dir, rel) < 0 ||
      stat(path, &st) < 0 || !S_ISREG(st.st_mode))
    return 0; /* the attempt never reached the model: no cassette to name */
  return cJSON_AddStringToObject(line, "cassette", rel) ? 0 : -1;
}

/* The recorded sweep's directory: DIR itself when it holds .sweep/, else
 * DIR/<sweep_id> (DIR given as the --out it was recorded to). */
static int
find_recorded(struct sweep *s, cab_error *err)
{
  const char *dir = s->o->replay_dir;
  char meta[PATH_MAX], sub[PATH_MAX];
  struct stat st;
  if (cab_path_printf(meta, sizeof meta, err, "%s/.sweep/journal.jsonl", dir) < 0)
    return cab_error_prefix(err, "sweep --replay");
  if (stat(meta, &st) == 0) {
    if (cab_path_printf(sub, sizeof sub, err, "%s", dir) < 0)
      return cab_error_prefix(err, "sweep --replay");
  } else {
    if (cab_path_printf(sub, sizeof sub, err, "%s/%s", dir, s->plan->sweep_id) < 0 ||
        cab_path_printf(meta, sizeof meta, err, "%s/.sweep/journal.jsonl", sub) < 0)
      return cab_error_prefix(err, "sweep --replay");
    if (stat(meta, &st) < 0)
      return cab_error_set(err, 0, "sweep --replay %s: no recorded sweep there (neither %s/.sweep/ "
                                   "nor %s/.sweep/ has a journal); give the --out a sweep with "
                                   "\"record\": true wrote, or its %s/ directory",
                           dir, dir, sub, s->plan->sweep_id);
  }
  if (realpath(sub, s->replay_dir) == NULL)
    return cab_error_sys(err, "sweep --replay %s", sub);
  if (strcmp(s->replay_dir, s->sweep_dir) == 0)
    return cab_error_set(err, 0, "sweep --replay %s: that is this sweep's own output; replay into "
                                 "another --out", dir);
  return 0;
}

struct named {
  struct sweep *s;
  size_t *by_key; /* the shard's cells, sorted by key */
  char **rel;     /* per shard cell: the cassette its last finished attempt names */
  int *attempt;   /* that attempt */
};

static int
by_key_cmp(const void *a, const void *b, void *arg)
{
  const struct sweep *s = arg;
  return strcmp(s->sc[*(const size_t *)a].c->key, s->sc[*(const size_t *)b].c->key);
}

/* The shard cell whose key is KEY, or -1. */
static long
find_cell(const struct named *n, const char *key)
{
  size_t lo = 0, hi = n->s->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = strcmp(n->s->sc[n->by_key[mid]].c->key, key);
    if (c == 0)
      return (long)n->by_key[mid];
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return -1;
}

static int
on_line(const cJSON *line, void *arg)
{
  struct named *n = arg;
  const cJSON *ev = cJSON_GetObjectItemCaseSensitive(line, "event");
  const cJSON *cell = cJSON_GetObjectItemCaseSensitive(line, "cell");
  const cJSON *att = cJSON_GetObjectItemCaseSensitive(line, "attempt");
  const cJSON *outcome = cJSON_GetObjectItemCaseSensitive(line, "outcome");
  if (!cJSON_IsString(ev) || strcmp(ev->valuestring, "done") != 0 || !cJSON_IsString(cell) ||
      !cJSON_IsNumber(att) || !cJSON_IsString(outcome) ||
      strcmp(outcome->valuestring, "runner_error") == 0)
    return 0;
  long i = find_cell(n, cell->valuestring);
  if (i < 0 || att->valueint < n->attempt[i])
    return 0;
  const cJSON *rel = cJSON_GetObjectItemCaseSensitive(line, "cassette");
  free(n->rel[i]);
  n->rel[i] = cJSON_IsString(rel) ? strdup(rel->valuestring) : NULL;
  n->attempt[i] = att->valueint;
  if (cJSON_IsString(rel) && n->rel[i] == NULL)
    return -1;
  return 0;
}

/* REL (from a journal) names a file below the recorded sweep: no "..", not absolute. */
static bool
inside(const char *rel)
{
  return rel[0] != '/' && strncmp(rel, "../", 3) != 0 && strstr(rel, "/../") == NULL &&
         strcmp(rel, "..") != 0;
}

static int
map_cells(struct sweep *s, struct named *n, cab_error *err)
{
  char meta[PATH_MAX];
  if (cab_path_printf(meta, sizeof meta, err, "%s/.sweep", s->replay_dir) < 0)
    return cab_error_prefix(err, "sweep --replay");
  if (cab_sweep_journal_read(meta, on_line, n, err) < 0)
    return err->message[0] ? -1 : cab_error_sys(err, "sweep --replay: memory");
  for (size_t i = 0; i < s->n; i++) {
    struct sweep_cell *sc = &s->sc[i];
    struct cab_sweep_cell *c = &s->cells.v[sc->c - s->cells.v];
    if (!s->plan->tuis[c->tui].needs_model)
      continue; /* talks to no model: runs as it did */
    if (n->attempt[i] == 0)
      return cab_error_set(err, 0, "sweep --replay %s: cell %s did not finish in the recorded "
                                   "sweep (its journal); record it first (cab sweep --resume)",
                           s->replay_dir, c->key);
    if (n->rel[i] == NULL)
      return cab_error_set(err, 0, "sweep --replay %s: cell %s has no recorded cassette (its "
                                   "journal names none); record it with \"record\": true in its "
                                   "model",
                           s->replay_dir, c->key);
    /* A journal from elsewhere must not make a cell read (and answer its
     * agent with) a file outside the recorded sweep. */
    if (!inside(n->rel[i]))
      return cab_error_set(err, 0, "sweep --replay %s: cell %s: the journal names the cassette "
                                   "'%s', outside the recorded sweep; refusing it",
                           s->replay_dir, c->key, n->rel[i]);
    if (cab_path_printf(sc->cassette, sizeof sc->cassette, err, "%s/%s", s->replay_dir,
                        n->rel[i]) < 0)
      return cab_error_prefix(err, "sweep --replay");
    if (access(sc->cassette, R_OK) < 0)
      return cab_error_set(err, 0, "sweep --replay %s: cell %s: its cassette %s is missing (%s); "
                                   "copy the recorded sweep whole, .sweep/ included",
                           s->replay_dir, c->key, sc->cassette, strerror(errno));
    if (cab_sweep_file_sha256(sc->cassette, c->replay_sha256, err) < 0)
      return cab_error_prefix(err, "sweep --replay: cell %s", c->key);
    if (cab_sweep_cell_respec(s->plan, c, err) < 0)
      return -1;
  }
  return 0;
}

int
cab_sweep_replay_map(struct sweep *s, cab_error *err)
{
  if (s->o->replay_dir == NULL)
    return 0;
  if (find_recorded(s, err) < 0)
    return -1;
  size_t k = s->n ? s->n : 1;
  struct named n = {s, calloc(k, sizeof *n.by_key), calloc(k, sizeof *n.rel),
                    calloc(k, sizeof *n.attempt)};
  int r = 0;
  if (n.by_key && n.rel && n.attempt) {
    for (size_t i = 0; i < s->n; i++)
      n.by_key[i] = i;
    qsort_r(n.by_key, s->n, sizeof *n.by_key, by_key_cmp, s);
    r = map_cells(s, &n, err);
  } else {
    r = cab_error_sys(err, "sweep: memory");
  }
  free(n.by_key);
  for (size_t i = 0; n.rel && i < s->n; i++)
    free(n.rel[i]);
  free(n.rel);
  free(n.attempt);
  return r;
}
