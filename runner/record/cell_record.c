/* cell.json <-> struct cab_cell_record: the one reader and the one writer. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "runner/record/artifacts.h"
#include "runner/record/cell_record.h"
#include "scorers/scorers.h"

/* ---- reading ------------------------------------------------------------- */

static const char *
str_at(const cJSON *obj, const char *key)
{
  const cJSON *v = cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const cJSON *
obj_at(const cJSON *obj, const char *key)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  return cJSON_IsObject(v) ? v : NULL;
}

static void
read_model(const cJSON *m, struct cab_cell_model *out)
{
  memset(out, 0, sizeof *out);
  if (m == NULL)
    return;
  out->present = true;
  out->network = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "network"));
  out->model_calls = cab_num_at(m, "model_calls");
  out->prompt_tokens = cab_num_at(m, "prompt_tokens");
  out->completion_tokens = cab_num_at(m, "completion_tokens");
  out->total_tokens = cab_num_at(m, "total_tokens");
  out->model_call_ms = cab_num_at(m, "model_call_ms");
  out->ok = cab_num_at(m, "ok");
  out->infra_errors = cab_num_at(m, "infra_errors");
  out->client_errors = cab_num_at(m, "client_errors");
  out->json = m;
}

int
cab_cell_record_parse(const char *text, size_t len, const char *name, struct cab_cell_record *r,
                      cab_error *err)
{
  memset(r, 0, sizeof *r);
  cJSON *j = cJSON_ParseWithLength(text, len);
  if (j == NULL) {
    cab_error_set(err, 0, "%s: not valid JSON (near byte %ld)", name,
                  cJSON_GetErrorPtr() ? (long)(cJSON_GetErrorPtr() - text) : 0L);
    return CAB_CELL_RECORD_NOT_JSON;
  }
  if (!cJSON_IsObject(j)) {
    cJSON_Delete(j);
    cab_error_set(err, 0, "%s: not a JSON object", name);
    return CAB_CELL_RECORD_NOT_OBJECT;
  }
  r->doc = j;
  r->schema = str_at(j, "schema");
  r->cell_id = str_at(j, "cell_id");
  r->sweep_id = str_at(j, "sweep_id");
  r->tui = str_at(j, "tui");
  r->container_image = str_at(j, "container_image");
  r->image_digest = str_at(j, "image_digest");
  r->model_build_id = str_at(j, "model_build_id");
  r->exit_code = cab_num_at(j, "exit_code");
  r->task_id = str_at(j, "task_id");
  r->family = str_at(j, "family");
  r->run = cab_num_at(j, "run");
  r->started_at = str_at(j, "started_at");
  r->ended_at = str_at(j, "ended_at");
  r->duration_s = cab_num_at(j, "duration_s");
  r->tokens_source = str_at(j, "tokens_source");
  r->outcome = str_at(j, "outcome");
  r->outcome_reason = str_at(j, "outcome_reason");
  const cJSON *scorers = obj_at(j, "scorers");
  r->has_scores = scorers != NULL;
  cab_scores_from_json(scorers ? cJSON_Duplicate(scorers, true) : NULL, &r->scores);
  const cJSON *timing = obj_at(j, "timing");
  r->timing.wall_clock_ms = cab_num_at(timing, "wall_clock_ms");
  r->timing.container_active_ms = cab_num_at(timing, "container_active_ms");
  r->timing.started_at = str_at(timing, "started_at");
  r->timing.ended_at = str_at(timing, "ended_at");
  const cJSON *verify = obj_at(j, "verify");
  r->verify.exit_code = cab_num_at(verify, "exit_code");
  r->verify.wall_ms = cab_num_at(verify, "wall_ms");
  r->verify.timed_out = verify && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(verify, "timed_out"));
  read_model(obj_at(j, "model"), &r->model);
  r->task = obj_at(j, "task");
  r->task_language = str_at(r->task, "language");
  r->prompt_sha256 = str_at(j, "prompt_sha256");
  r->task_prompt_sha256 = str_at(r->task, "prompt_sha256");
  const cJSON *env = obj_at(j, "environment");
  r->environment.cab_version = str_at(env, "cab_version");
  r->environment.scoring_profile = str_at(env, "scoring_profile");
  r->environment.methodology_version = str_at(env, "methodology_version");
  const cJSON *limits = obj_at(env, "limits");
  r->environment.limits.has_values =
      limits && cJSON_GetObjectItemCaseSensitive(limits, "memory_bytes") != NULL;
  r->environment.limits.memory_bytes = cab_num_at(limits, "memory_bytes");
  r->environment.limits.cpus = cab_num_at(limits, "cpus");
  r->environment.limits.pids_max = cab_num_at(limits, "pids_max");
  r->environment.limits.timeout_s = cab_num_at(limits, "timeout_s");
  r->environment.limits.max_turns = cab_num_at(limits, "max_turns");
  r->environment.json = env;
  const cJSON *spans = cJSON_GetObjectItemCaseSensitive(j, "spans");
  r->spans = cJSON_IsArray(spans) ? spans : NULL;
  r->key_redacted = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "key_redacted"));
  const cJSON *in = cJSON_GetObjectItemCaseSensitive(j, "key_redacted_in");
  r->key_redacted_in = cJSON_IsArray(in) ? in : NULL;
  return 0;
}

int
cab_cell_record_read(int dirfd, const char *dir, struct cab_cell_record *r, cab_error *err)
{
  memset(r, 0, sizeof *r);
  char path[PATH_MAX];
  if (dir == NULL)
    snprintf(path, sizeof path, CAB_CELL_JSON);
  else if (snprintf(path, sizeof path, "%s/" CAB_CELL_JSON, dir) >= (int)sizeof path)
    return cab_error_set(err, ENAMETOOLONG, "%s/" CAB_CELL_JSON ": path too long", dir);
  cleanup_free char *text = NULL;
  size_t len = 0;
  if (cab_read_file(dirfd, path, CAB_CELL_JSON_MAX,
                    CAB_READ_NOFOLLOW | CAB_READ_REGULAR | CAB_READ_WHOLE, &text, &len, NULL,
                    err) < 0)
    return err->errnum == EFBIG ? CAB_CELL_RECORD_NOT_JSON : CAB_CELL_RECORD_UNREADABLE;
  return cab_cell_record_parse(text, len, path, r, err);
}

void
cab_cell_record_free(struct cab_cell_record *r)
{
  cab_scores_free(&r->scores);
  cJSON_Delete(r->doc);
  memset(r, 0, sizeof *r);
}

/* ---- writing --------------------------------------------------------------- */

static void
add_str(cJSON *o, const char *key, const char *s)
{
  if (s)
    cJSON_AddStringToObject(o, key, s);
  else
    cJSON_AddNullToObject(o, key);
}

static void
add_num(cJSON *o, const char *key, struct cab_num n)
{
  if (n.has)
    cJSON_AddNumberToObject(o, key, n.v);
  else
    cJSON_AddNullToObject(o, key);
}

/* Every member of FROM but the SKIP keys, in FROM's order. */
static void
add_rest(cJSON *to, const cJSON *from, const char *const *skip)
{
  const cJSON *it;
  cJSON_ArrayForEach(it, from)
  {
    bool typed = false;
    for (const char *const *k = skip; *k && !typed; k++)
      typed = it->string && strcmp(it->string, *k) == 0;
    if (!typed && it->string)
      cJSON_AddItemToObject(to, it->string, cJSON_Duplicate(it, true));
  }
}

static cJSON *
model_json(const struct cab_cell_model *m)
{
  static const char *const typed[] = {"network", "model_calls", "prompt_tokens",
                                      "completion_tokens", "total_tokens", "model_call_ms",
                                      "ok", "infra_errors", "client_errors", NULL};
  cJSON *o = cJSON_CreateObject();
  cJSON_AddBoolToObject(o, "network", m->network);
  add_num(o, "model_calls", m->model_calls);
  add_num(o, "prompt_tokens", m->prompt_tokens);
  add_num(o, "completion_tokens", m->completion_tokens);
  add_num(o, "total_tokens", m->total_tokens);
  add_num(o, "model_call_ms", m->model_call_ms);
  add_num(o, "ok", m->ok);
  add_num(o, "infra_errors", m->infra_errors);
  add_num(o, "client_errors", m->client_errors);
  add_rest(o, m->json, typed);
  return o;
}

/* "limits": the mechanisms as given, then the typed values. */
static cJSON *
limits_json(const cJSON *from, const struct cab_cell_record *r)
{
  static const char *const typed[] = {"memory_bytes", "cpus", "pids_max", "timeout_s",
                                      "max_turns", NULL};
  cJSON *o = cJSON_CreateObject();
  add_rest(o, from, typed);
  add_num(o, "memory_bytes", r->environment.limits.memory_bytes);
  add_num(o, "cpus", r->environment.limits.cpus);
  add_num(o, "pids_max", r->environment.limits.pids_max);
  add_num(o, "timeout_s", r->environment.limits.timeout_s);
  add_num(o, "max_turns", r->environment.limits.max_turns);
  return o;
}

static cJSON *
environment_json(const struct cab_cell_record *r)
{
  static const char *const typed[] = {"cab_version", "scoring_profile", "methodology_version",
                                      NULL};
  cJSON *o = cJSON_CreateObject();
  add_str(o, "cab_version", r->environment.cab_version);
  add_str(o, "scoring_profile", r->environment.scoring_profile);
  add_str(o, "methodology_version", r->environment.methodology_version);
  add_rest(o, r->environment.json, typed);
  if (r->environment.limits.has_values) {
    const cJSON *from = cJSON_GetObjectItemCaseSensitive(o, "limits");
    cJSON *limits = limits_json(cJSON_IsObject(from) ? from : NULL, r);
    if (from)
      cJSON_ReplaceItemInObjectCaseSensitive(o, "limits", limits);
    else
      cJSON_AddItemToObject(o, "limits", limits);
  }
  return o;
}

/* The published order (cab.cell/v1). */
static cJSON *
record_json(const struct cab_cell_record *r)
{
  cJSON *j = cJSON_CreateObject();
  add_str(j, "schema", r->schema ? r->schema : CAB_CELL_SCHEMA);
  add_str(j, "cell_id", r->cell_id);
  add_str(j, "sweep_id", r->sweep_id);
  add_str(j, "tui", r->tui);
  add_str(j, "container_image", r->container_image);
  add_str(j, "image_digest", r->image_digest);
  add_str(j, "model_build_id", r->model_build_id);
  add_num(j, "exit_code", r->exit_code);
  add_str(j, "task_id", r->task_id);
  add_str(j, "family", r->family);
  add_num(j, "run", r->run);
  add_str(j, "started_at", r->started_at);
  add_str(j, "ended_at", r->ended_at);
  add_num(j, "duration_s", r->duration_s);
  add_str(j, "tokens_source", r->tokens_source);
  add_str(j, "outcome", r->outcome);
  add_str(j, "outcome_reason", r->outcome_reason);
  if (r->has_scores)
    cJSON_AddItemToObject(j, "scorers", cJSON_Duplicate(r->scores.json, true));
  cJSON *timing = cJSON_AddObjectToObject(j, "timing");
  add_num(timing, "wall_clock_ms", r->timing.wall_clock_ms);
  add_num(timing, "container_active_ms", r->timing.container_active_ms);
  cJSON *verify = cJSON_AddObjectToObject(j, "verify");
  add_num(verify, "exit_code", r->verify.exit_code);
  cJSON_AddBoolToObject(verify, "timed_out", r->verify.timed_out);
  add_num(verify, "wall_ms", r->verify.wall_ms);
  cJSON_AddItemToObject(j, "model", model_json(&r->model));
  cJSON_AddItemToObject(j, "task", r->task ? cJSON_Duplicate(r->task, true) : cJSON_CreateNull());
  if (r->prompt_sha256)
    cJSON_AddStringToObject(j, "prompt_sha256", r->prompt_sha256);
  cJSON_AddItemToObject(j, "environment", environment_json(r));
  if (r->spans)
    cJSON_AddItemToObject(j, "spans", cJSON_Duplicate(r->spans, true));
  if (r->key_redacted) {
    cJSON_AddTrueToObject(j, "key_redacted");
    cJSON_AddItemToObject(j, "key_redacted_in", r->key_redacted_in
                                                    ? cJSON_Duplicate(r->key_redacted_in, true)
                                                    : cJSON_CreateArray());
  }
  return j;
}

char *
cab_cell_record_render(const struct cab_cell_record *r, size_t *len)
{
  cJSON *j = record_json(r);
  cleanup_free char *text = cab_json_print(j, true);
  cJSON_Delete(j);
  if (text == NULL)
    return NULL;
  size_t n = strlen(text);
  char *withnl = malloc(n + 2);
  if (withnl == NULL)
    return NULL;
  memcpy(withnl, text, n);
  withnl[n] = '\n';
  withnl[n + 1] = '\0';
  *len = n + 1;
  return withnl;
}

int
cab_cell_record_write(const char *dir, const struct cab_cell_record *r, cab_error *err)
{
  char path[PATH_MAX];
  if (snprintf(path, sizeof path, "%s/" CAB_CELL_JSON, dir) >= (int)sizeof path)
    return cab_error_set(err, ENAMETOOLONG, "%s/" CAB_CELL_JSON ": path too long", dir);
  size_t len = 0;
  cleanup_free char *text = cab_cell_record_render(r, &len);
  if (text == NULL)
    return cab_error_set(err, ENOMEM, "render %s", path);
  return cab_write_file_atomic(path, text, len, 0644, err);
}
