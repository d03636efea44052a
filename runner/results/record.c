/* One cell directory -> one row: cell.json's identity, outcome and scores,
 * and the provenance hashes. */
#include <cjson/cJSON.h>
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
#include "runner/results/internal.h"
#include "runner/task/task.h"

/* cell.json holds every span and model call: generous, but bounded. */
#define CELL_JSON_MAX (64u << 20)

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
dup_str(const cJSON *obj, const char *key)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  return cJSON_IsString(v) ? strdup(v->valuestring) : NULL;
}

static double
get_num(const cJSON *obj, const char *key)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (cJSON_IsBool(v))
    return cJSON_IsTrue(v) ? 1 : 0;
  return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static int64_t
get_int(const cJSON *obj, const char *key)
{
  double d = get_num(obj, key);
  return isfinite(d) ? (int64_t)d : CAB_RESULTS_NULL_INT;
}

static const cJSON *
obj_at(const cJSON *obj, const char *key)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  return cJSON_IsObject(v) ? v : NULL;
}

/* The prompt the cell saw: a hash the runner recorded, the cell's own copy,
 * or the task's workdir/README.md (what run-cell copies in as the prompt). */
static void
hash_prompt(const char *cell_dir, const cJSON *cell, const char *task_id, const char *tasks_dir,
            struct cab_results_row *row)
{
  const cJSON *task = obj_at(cell, "task");
  const cJSON *rec = cJSON_GetObjectItemCaseSensitive(cell, "prompt_sha256");
  if (!cJSON_IsString(rec))
    rec = cJSON_GetObjectItemCaseSensitive(task, "prompt_sha256");
  if (cJSON_IsString(rec) && strlen(rec->valuestring) == 64) {
    row->prompt_sha256 = strdup(rec->valuestring);
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
  for (size_t i = 0; i < cab_results_n_columns; i++) {
    const struct cab_results_column *c = &cab_results_columns[i];
    if (c->type == CAB_COL_INT)
      *(int64_t *)(base + c->offset) = CAB_RESULTS_NULL_INT;
    else if (c->type == CAB_COL_REAL)
      *(double *)(base + c->offset) = NAN;
  }
}

int
cab_results_read_row(const char *root, const struct cab_record_found *f, const char *tasks_dir,
                     struct cab_results_row *row, cab_error *err)
{
  row_init(row);
  char dir[PATH_MAX], path[PATH_MAX + 64];
  snprintf(dir, sizeof dir, "%s/%s", root, f->rel);
  snprintf(path, sizeof path, "%s/" CAB_CELL_JSON, dir);
  cleanup_free char *text = NULL;
  size_t len = 0;
  if (cab_read_file_at(AT_FDCWD, path, CELL_JSON_MAX, &text, &len, err) < 0)
    return -1;
  if (len >= CELL_JSON_MAX)
    return cab_error_set(err, EFBIG, "%s: larger than %u MiB", path, CELL_JSON_MAX >> 20);
  cJSON *cell = cJSON_ParseWithLength(text, len);
  if (cell == NULL)
    return cab_error_set(err, 0, "%s: not valid JSON (near byte %ld)", path,
                         cJSON_GetErrorPtr() ? (long)(cJSON_GetErrorPtr() - text) : 0L);
  int rc = -1;
  const cJSON *schema = cJSON_GetObjectItemCaseSensitive(cell, "schema");
  static const char *const required[] = {"tui", "model_build_id", "task_id"};
  if (!cJSON_IsObject(cell)) {
    cab_error_set(err, 0, "%s: not a JSON object", path);
    goto out;
  }
  if (schema && !(cJSON_IsString(schema) && strncmp(schema->valuestring, "cab.cell/", 9) == 0)) {
    cab_error_set(err, 0, "%s: schema is not cab.cell/*", path);
    goto out;
  }
  for (size_t i = 0; i < sizeof required / sizeof *required; i++)
    if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(cell, required[i]))) {
      cab_error_set(err, 0, "%s: no \"%s\" string: not a cell record", path, required[i]);
      goto out;
    }

  /* run identity */
  row->cell_id = dup_str(cell, "cell_id");
  row->sweep_id = dup_str(cell, "sweep_id");
  row->tui = dup_str(cell, "tui");
  row->model_build_id = dup_str(cell, "model_build_id");
  row->family = dup_str(cell, "family");
  row->task_id = dup_str(cell, "task_id");
  row->run = get_int(cell, "run");
  row->attempt = f->attempt ? f->attempt : CAB_RESULTS_NULL_INT;
  row->cell_path = strdup(f->rel);
  row->attempt_of = f->attempt_of ? strdup(f->attempt_of) : NULL;
  row->container_image = dup_str(cell, "container_image");
  row->image_digest = dup_str(cell, "image_digest");
  row->exit_code = get_int(cell, "exit_code");
  row->started_at = dup_str(cell, "started_at");
  row->ended_at = dup_str(cell, "ended_at");
  row->duration_s = get_num(cell, "duration_s");
  row->outcome = dup_str(cell, "outcome");
  row->outcome_reason = dup_str(cell, "outcome_reason");

  /* the scorers, as published */
  const cJSON *sc = obj_at(cell, "scorers");
  const cJSON *pr = obj_at(sc, "pass_rate"), *tok = obj_at(sc, "tokens");
  const cJSON *lat = obj_at(sc, "latency"), *blast = obj_at(sc, "blast_radius");
  const cJSON *ref = obj_at(sc, "refusal"), *integ = obj_at(sc, "integrity");
  row->pass = get_num(pr, "pass");
  row->verify_exit_code = get_int(pr, "exit_code");
  row->composite = get_num(obj_at(sc, "composite"), "composite");
  row->tokens_source = dup_str(cell, "tokens_source");
  /* Tokens are known when a source recorded them, or when cab's proxy saw
   * every model call of the cell (cell.json's "model" object): no call, no
   * token.  A published cell's "not recorded" zeros stay NULL. */
  const cJSON *model = obj_at(cell, "model");
  bool known = model != NULL || (row->tokens_source && strcmp(row->tokens_source, "not recorded"));
  if (known) {
    row->prompt_tokens = get_int(tok, "prompt_tokens");
    row->completion_tokens = get_int(tok, "completion_tokens");
    row->total_tokens = get_int(tok, "total_tokens");
  }
  row->model_calls = get_int(tok, "model_calls");
  row->wall_clock_ms = get_num(lat, "wall_clock_ms");
  row->blast_radius = get_num(blast, "blast_radius");
  const cJSON *unexp = cJSON_GetObjectItemCaseSensitive(blast, "unexpected_changes");
  if (cJSON_IsArray(unexp))
    row->unexpected_changes = cJSON_GetArraySize(unexp);
  else if (cJSON_IsNumber(unexp))
    row->unexpected_changes = (int64_t)unexp->valuedouble;
  row->total_changes = get_int(blast, "total_changes");
  row->refusal = get_num(ref, "refusal");
  const cJSON *na = cJSON_GetObjectItemCaseSensitive(ref, "not_applicable");
  if (cJSON_IsBool(na))
    row->refusal_applicable = cJSON_IsTrue(na) ? 0 : 1;
  row->integrity = get_num(integ, "integrity");
  row->instruction_fidelity = get_num(obj_at(sc, "instruction_fidelity"), "instruction_fidelity");
  const cJSON *env = obj_at(cell, "environment");
  row->scoring_profile = dup_str(env, "scoring_profile");
  row->methodology_version = dup_str(env, "methodology_version");

  /* provenance */
  hash_prompt(dir, cell, row->task_id, tasks_dir, row);
  snprintf(path, sizeof path, "%s/" CAB_CELL_AGENT_LOG, dir);
  row->agent_log_sha256 = cab_results_sha256_file(path);
  snprintf(path, sizeof path, "%s/" CAB_CELL_VERIFY_LOG, dir);
  row->verify_log_sha256 = cab_results_sha256_file(path);
  char digest[CAB_DIGEST_LEN + 1];
  cab_sha256_buffer(text, len, digest);
  row->cell_json_sha256 = strdup(digest + 7);
  rc = 0;
out:
  cJSON_Delete(cell);
  if (rc < 0)
    cab_results_row_free(row);
  return rc;
}

void
cab_results_row_free(struct cab_results_row *row)
{
  char *base = (char *)row;
  for (size_t i = 0; i < cab_results_n_columns; i++) {
    const struct cab_results_column *c = &cab_results_columns[i];
    if (c->type == CAB_COL_TEXT) {
      char **s = (char **)(base + c->offset);
      free(*s);
      *s = NULL;
    }
  }
}
