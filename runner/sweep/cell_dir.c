/* A cell's directory as the sweep sees it: its cell.json, earlier
 * attempts, and what killed run-cells leave beside it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/rm_tree.h"
#include "runner/record/cell_record.h"
#include "runner/record/layout.h"
#include "runner/sweep/internal.h"

int
cab_sweep_cell_dir(const struct sweep *s, const struct cab_sweep_cell *c, int attempt, char *buf,
                   size_t size, cab_error *err)
{
  const struct cab_sweep_plan *p = s->plan;
  char dir[PATH_MAX];
  if (cab_record_cell_dir(attempt > 0 ? dir : buf, attempt > 0 ? sizeof dir : size, s->out_dir,
                          p->sweep_id, p->tuis[c->tui].tui, p->models[c->model].model,
                          p->tasks[c->task].id, c->run, err) < 0)
    return -1;
  return attempt > 0 ? cab_record_attempt_path(buf, size, dir, attempt, err) : 0;
}

static bool
str_is(const char *s, const char *want)
{
  return s && strcmp(s, want) == 0;
}

void
cab_sweep_read_record(const struct sweep *s, const struct cab_sweep_cell *c, const char *dir,
                      struct sweep_record *r)
{
  memset(r, 0, sizeof *r);
  r->composite = NAN;
  struct cab_cell_record rec;
  cab_error ignored = {0};
  if (cab_cell_record_read(AT_FDCWD, dir, &rec, &ignored) < 0)
    return;
  if (rec.outcome && rec.has_scores) {
    r->complete = true;
    snprintf(r->outcome, sizeof r->outcome, "%s", rec.outcome);
    if (rec.scores.composite.composite.has)
      r->composite = rec.scores.composite.composite.v;
    if (rec.started_at)
      snprintf(r->started_at, sizeof r->started_at, "%s", rec.started_at);
    const struct cab_sweep_plan *p = s->plan;
    r->same_identity = str_is(rec.sweep_id, p->sweep_id) &&
                       str_is(rec.tui, p->tuis[c->tui].tui) &&
                       str_is(rec.model_build_id, p->models[c->model].model) &&
                       str_is(rec.task_id, p->tasks[c->task].id) && rec.run.has &&
                       rec.run.v == c->run;
  }
  cab_cell_record_free(&rec);
}

/* Split SWEEP_DIR/KEY into an open parent directory and the leaf. */
static int
open_parent(const struct sweep *s, const struct cab_sweep_cell *c, const char **leaf)
{
  char dir[PATH_MAX];
  cab_error ignored = {0};
  if (cab_sweep_cell_dir(s, c, 0, dir, sizeof dir, &ignored) < 0) {
    errno = ENAMETOOLONG;
    return -1;
  }
  char *slash = strrchr(dir, '/');
  *slash = '\0';
  *leaf = strrchr(c->key, '/') + 1;
  return open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

int
cab_sweep_keep_attempt(const struct sweep *s, const struct cab_sweep_cell *c, int attempt,
                       cab_error *err)
{
  const char *leaf;
  cleanup_close int dfd = open_parent(s, c, &leaf);
  if (dfd < 0)
    return cab_error_sys(err, "keep attempt %d of %s", attempt, c->key);
  char name[256];
  if (cab_record_attempt_path(name, sizeof name, leaf, attempt, err) < 0)
    return -1;
  if (faccessat(dfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0 &&
      cab_rm_tree_at(dfd, name, CAB_RM_PLAIN_NAME, err) < 0)
    return cab_error_prefix(err, "replace %s/%s.attempt-%d", s->sweep_dir, c->key, attempt);
  if (renameat(dfd, leaf, dfd, name) < 0)
    return cab_error_sys(err, "move %s/%s to %s", s->sweep_dir, c->key, name);
  return 0;
}

static bool
has_prefix(const char *s, const char *prefix)
{
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

void
cab_sweep_clean_stale(const struct sweep *s, const struct cab_sweep_cell *c, bool attempts)
{
  const char *leaf;
  int fd = open_parent(s, c, &leaf);
  if (fd < 0)
    return;
  cleanup_dir DIR *d = fdopendir(fd);
  if (d == NULL) {
    close(fd);
    return;
  }
  char staging[256], old[256], attempt[256];
  snprintf(staging, sizeof staging, CAB_RECORD_STAGING_PREFIX "%s-", leaf);
  snprintf(old, sizeof old, "%s" CAB_RECORD_OLD_INFIX, leaf);
  snprintf(attempt, sizeof attempt, "%s" CAB_RECORD_ATTEMPT_INFIX, leaf);
  /* Collect first: removing while reading a directory may skip entries. */
  char **names = NULL;
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (!has_prefix(e->d_name, staging) && !has_prefix(e->d_name, old) &&
        !(attempts && has_prefix(e->d_name, attempt)))
      continue;
    char **nv = realloc(names, (n + 1) * sizeof *names);
    if (nv == NULL)
      break;
    names = nv;
    if ((names[n] = strdup(e->d_name)) != NULL)
      n++;
  }
  for (size_t i = 0; i < n; i++) {
    cab_error ignored = {0};
    cab_rm_tree_at(dirfd(d), names[i], CAB_RM_PLAIN_NAME, &ignored);
    free(names[i]);
  }
  free(names);
}
