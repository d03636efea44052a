/* One cell directory -> one row: cell.json's identity, outcome and scores,
 * and the provenance hashes. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/sha256.h"
#include "runner/record/artifacts.h"
#include "runner/record/cell_record.h"
#include "runner/record/protection.h"
#include "runner/results/internal.h"
#include "runner/task/task.h"
#include "scorers/scorers.h"

char *
cab_results_sha256_file(const char *path)
{
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return NULL;
  struct cab_sha256 *h = cab_sha256_new();
  if (h == NULL) {
    errno = ENOMEM;
    return NULL;
  }
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int saved = errno;
      char ignored[CAB_DIGEST_LEN + 1];
      cab_sha256_final(h, ignored);
      errno = saved;
      return NULL;
    }
    if (n == 0)
      break;
    cab_sha256_update(h, buf, (size_t)n);
  }
  char digest[CAB_DIGEST_LEN + 1];
  cab_sha256_final(h, digest);
  return strdup(digest + 7);
}

static char *
dup_str(const char *s)
{
  return s ? strdup(s) : NULL;
}

static double
real_of(struct cab_num n)
{
  return n.has ? n.v : NAN;
}

static int64_t
int_of(struct cab_num n)
{
  return n.has && isfinite(n.v) ? (int64_t)n.v : CAB_RESULTS_NULL_INT;
}

/* The prompt the cell saw: a hash the runner recorded, the cell's own copy,
 * or the task's workdir/README.md (what run-cell copies in as the prompt). */
static void
hash_prompt(const char *cell_dir, const struct cab_cell_record *cell, const char *task_id,
            const char *tasks_dir, struct cab_results_row *row)
{
  const char *rec = cell->prompt_sha256 ? cell->prompt_sha256 : cell->task_prompt_sha256;
  if (rec && strlen(rec) == 64) {
    row->prompt_sha256 = strdup(rec);
    row->prompt_source = strdup(CAB_CELL_JSON);
    return;
  }
  char path[PATH_MAX + 64];
  snprintf(path, sizeof path, "%s/prompt.md", cell_dir);
  if ((row->prompt_sha256 = cab_results_sha256_file(path)) != NULL) {
    row->prompt_source = strdup("prompt.md");
    return;
  }
  if (task_id == NULL || cab_task_check_id(task_id, &(cab_error){0}) < 0)
    return;
  char root[PATH_MAX];
  if (tasks_dir)
    snprintf(root, sizeof root, "%s", tasks_dir);
  else if (cab_task_default_root(root, sizeof root, &(cab_error){0}) < 0)
    return; /* the prompt stays unknown, as for a task not found */
  snprintf(path, sizeof path, "%s/%s/workdir/README.md", root, task_id);
  if ((row->prompt_sha256 = cab_results_sha256_file(path)) != NULL)
    row->prompt_source = strdup("tasks-dir");
}

static void
row_init(struct cab_results_row *row)
{
  memset(row, 0, sizeof *row);
  const char *base = (const char *)row;
  for (size_t i = 0, n = cab_results_n_columns(); i < n; i++) {
    const struct cab_results_column col = cab_results_column(i), *c = &col;
    if (c->type == CAB_COL_INT)
      *(int64_t *)(base + c->offset) = CAB_RESULTS_NULL_INT;
    else if (c->type == CAB_COL_REAL)
      *(double *)(base + c->offset) = NAN;
  }
}

/* The record of DIR with the scores computed again from its artifacts
 * under PROFILE; *ARTS owns it. */
static int
rescore(const char *dir, const struct cab_profile *profile, struct cab_cell_record *cell,
        struct cab_cell_artifacts *arts, cab_error *err)
{
  if (cab_cell_artifacts_load(dir, arts, err) < 0)
    return -1;
  struct cab_scores mine;
  cab_score_all(&arts->inputs, profile, &mine);
  cab_scores_free(&arts->record.scores);
  arts->record.scores = mine;
  arts->record.has_scores = true;
  arts->record.environment.scoring_profile = profile->name;
  arts->record.environment.methodology_version = profile->methodology_version;
  *cell = arts->record;
  return 0;
}

int
cab_results_read_row(const char *root, const struct cab_record_found *f, const char *tasks_dir,
                     const struct cab_profile *profile, struct cab_results_row *row,
                     cab_error *err)
{
  row_init(row);
  char dir[PATH_MAX], path[PATH_MAX + 64];
  snprintf(dir, sizeof dir, "%s/%s", root, f->rel);
  snprintf(path, sizeof path, "%s/" CAB_CELL_JSON, dir);
  /* Only cab's records: a tree of other programs' cell.json files (a
   * shared /tmp) is no results tree. */
  struct cab_cell_record cell;
  if (cab_cell_record_read(AT_FDCWD, dir, &cell, err) < 0)
    return -1;
  bool cab_schema = cell.schema && strncmp(cell.schema, "cab.cell/", 9) == 0;
  if (cab_schema) {
    const char *required[] = {cell.tui, cell.model_build_id, cell.task_id};
    static const char *const required_key[] = {"tui", "model_build_id", "task_id"};
    for (size_t i = 0; i < sizeof required / sizeof *required; i++)
      if (required[i] == NULL) {
        cab_error_set(err, 0, "%s: no \"%s\" string: not a cell record", path, required_key[i]);
        cab_cell_record_free(&cell);
        return -1;
      }
  }
  if (!cab_schema) {
    cab_cell_record_free(&cell);
    return cab_error_set(err, 0, "%s: \"schema\" is not cab.cell/*: not a cab cell record", path);
  }
  struct cab_cell_artifacts arts;
  bool have_arts = false;
  if (profile) {
    cab_cell_record_free(&cell);
    if (rescore(dir, profile, &cell, &arts, err) < 0)
      return -1;
    have_arts = true;
  }
  int rc = -1;

  /* run identity */
  row->cell_id = dup_str(cell.cell_id);
  row->sweep_id = dup_str(cell.sweep_id);
  row->tui = dup_str(cell.tui);
  row->model_build_id = dup_str(cell.model_build_id);
  row->family = dup_str(cell.family);
  row->task_id = dup_str(cell.task_id);
  row->run = int_of(cell.run);
  row->attempt = f->attempt ? f->attempt : CAB_RESULTS_NULL_INT;
  row->cell_path = strdup(f->rel);
  row->attempt_of = f->attempt_of ? strdup(f->attempt_of) : NULL;
  row->container_image = dup_str(cell.container_image);
  row->image_digest = dup_str(cell.image_digest);
  row->exit_code = int_of(cell.exit_code);
  row->started_at = dup_str(cell.started_at);
  row->ended_at = dup_str(cell.ended_at);
  row->duration_s = real_of(cell.duration_s);
  row->outcome = dup_str(cell.outcome);
  row->outcome_reason = dup_str(cell.outcome_reason);

  /* the scorers, as published */
  const struct cab_scores *sc = &cell.scores;
  row->pass = real_of(sc->pass_rate.pass);
  row->verify_exit_code = int_of(sc->pass_rate.exit_code);
  row->composite = real_of(sc->composite.composite);
  row->tokens_source = dup_str(cell.tokens_source);
  /* Tokens are known when a source recorded them, or when cab's proxy saw
   * every model call of the cell (cell.json's "model" object): no call, no
   * token.  A published cell's "not recorded" zeros stay NULL. */
  bool known = cell.model.present ||
               (row->tokens_source && strcmp(row->tokens_source, "not recorded"));
  if (known) {
    row->prompt_tokens = int_of(sc->tokens.prompt_tokens);
    row->completion_tokens = int_of(sc->tokens.completion_tokens);
    row->total_tokens = int_of(sc->tokens.total_tokens);
  }
  row->model_calls = int_of(sc->tokens.model_calls);
  row->wall_clock_ms = real_of(sc->latency.wall_clock_ms);
  row->blast_radius = real_of(sc->blast_radius.blast_radius);
  if (sc->blast_radius.unexpected_changes.has)
    row->unexpected_changes = (int64_t)sc->blast_radius.unexpected_changes.v;
  row->total_changes = int_of(sc->blast_radius.total_changes);
  row->refusal = real_of(sc->refusal.refusal);
  if (sc->refusal.not_applicable.has)
    row->refusal_applicable = sc->refusal.not_applicable.v ? 0 : 1;
  row->integrity = real_of(sc->integrity.integrity);
  row->instruction_fidelity = real_of(sc->instruction_fidelity.instruction_fidelity);
  for (size_t a = 0; a < cab_n_axes; a++)
    if (!cab_axes[a].published_columns)
      row->axis_headline[a] = real_of(cab_axis_headline(&cab_axes[a], sc->json));
  row->scoring_profile = dup_str(cell.environment.scoring_profile);
  row->methodology_version = dup_str(cell.environment.methodology_version);
  struct cab_protection prot;
  if (cab_protection_from_json(
          cJSON_GetObjectItemCaseSensitive(cell.environment.json, "protection"), &prot) == 0 &&
      prot.level[0])
    row->protection_level = dup_str(prot.level);

  /* provenance */
  hash_prompt(dir, &cell, row->task_id, tasks_dir, row);
  snprintf(path, sizeof path, "%s/" CAB_CELL_AGENT_LOG, dir);
  row->agent_log_sha256 = cab_results_sha256_file(path);
  snprintf(path, sizeof path, "%s/" CAB_CELL_VERIFY_LOG, dir);
  row->verify_log_sha256 = cab_results_sha256_file(path);
  snprintf(path, sizeof path, "%s/" CAB_CELL_JSON, dir);
  row->cell_json_sha256 = cab_results_sha256_file(path);
  rc = 0;
  if (have_arts)
    cab_cell_artifacts_free(&arts);
  else
    cab_cell_record_free(&cell);
  if (rc < 0)
    cab_results_row_free(row);
  return rc;
}

void
cab_results_row_free(struct cab_results_row *row)
{
  char *base = (char *)row;
  for (size_t i = 0, n = cab_results_n_columns(); i < n; i++) {
    const struct cab_results_column col = cab_results_column(i), *c = &col;
    if (c->type == CAB_COL_TEXT) {
      char **s = (char **)(base + c->offset);
      free(*s);
      *s = NULL;
    }
  }
}
