/* Sweep plans: parse and check the JSON (runner/sweep/plan.h). */
#include "runner/sweep/plan.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/sha256.h"
#include "runner/proxy/wire.h"
#include "runner/task/limits.h"

/* Where we are in the plan, for "ORIGIN: PATH: message". */
struct ctx {
  const char *origin;
  const char *base_dir;
  cab_error *err;
};

static int __attribute__((format(printf, 3, 4)))
bad(const struct ctx *c, const char *path, const char *fmt, ...)
{
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return cab_error_set(c->err, 0, "%s: %s: %s", c->origin, path, msg);
}

/* Every key of OBJ must be one of ALLOWED (NULL-terminated). */
static int
check_keys(const struct ctx *c, const cJSON *obj, const char *path, const char *const *allowed)
{
  for (const cJSON *k = obj->child; k; k = k->next) {
    bool ok = false;
    for (const char *const *a = allowed; *a && !ok; a++)
      ok = strcmp(k->string, *a) == 0;
    if (!ok) {
      char where[512];
      snprintf(where, sizeof where, "%s%s%s", path, path[0] ? "." : "", k->string);
      char list[512] = "";
      for (const char *const *a = allowed; *a; a++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", a == allowed ? "" : ", ",
                 *a);
      return bad(c, where, "unknown key (known: %s)", list);
    }
  }
  return 0;
}

static int
dup_string(const struct ctx *c, const cJSON *v, const char *path, bool required, char **out)
{
  if (v == NULL) {
    if (required)
      return bad(c, path, "required (a string)");
    return 0;
  }
  if (!cJSON_IsString(v) || v->valuestring[0] == '\0')
    return bad(c, path, "expected a non-empty string");
  *out = strdup(v->valuestring);
  if (*out == NULL)
    return cab_error_sys(c->err, "%s: memory", c->origin);
  return 0;
}

/* A whole number in [MIN, MAX]; ABSENT leaves *OUT alone. */
static int
get_long(const struct ctx *c, const cJSON *v, const char *path, long min, long max,
         const char *what, long *out)
{
  if (v == NULL)
    return 0;
  if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < min ||
      v->valuedouble > max)
    return bad(c, path, "expected %s", what);
  *out = (long)v->valuedouble;
  return 0;
}

static int
get_double(const struct ctx *c, const cJSON *v, const char *path, double min, double max,
           const char *what, double *out)
{
  if (v == NULL)
    return 0;
  if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < min ||
      v->valuedouble > max)
    return bad(c, path, "expected %s", what);
  *out = v->valuedouble;
  return 0;
}

static bool
is_name(const char *s)
{
  return s[0] != '\0' && s[0] != '.' &&
         strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
             strlen(s);
}

/* As run-cell's: model ids nest as directories. */
static const char *
model_id_problem(const char *m)
{
  if (m[0] == '/' || strstr(m, "//") || strstr(m, "..") || m[strlen(m) - 1] == '/')
    return "must be a relative id like vendor/name, without '..' or empty components";
  for (const char *p = m; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
          strchr("._-/:+@", *p)))
      return "only letters, digits and . _ - / : + @ are allowed";
  return NULL;
}

/* PATH made absolute against the plan's directory. */
static int
plan_path(const struct ctx *c, const char *path, char **out)
{
  if (path[0] == '/' || c->base_dir == NULL)
    *out = strdup(path);
  else if (asprintf(out, "%s/%s", c->base_dir, path) < 0)
    *out = NULL;
  if (*out == NULL)
    return cab_error_sys(c->err, "%s: memory", c->origin);
  return 0;
}

static int
parse_tuis(const struct ctx *c, const cJSON *arr, struct cab_sweep_plan *p)
{
  static const char *const keys[] = {"tui", "image", NULL};
  if (arr == NULL)
    return bad(c, "tuis", "required (a list of {\"tui\": NAME, \"image\"?: REF})");
  if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) == 0)
    return bad(c, "tuis", "expected a non-empty list of {\"tui\": NAME, \"image\"?: REF}");
  size_t n = (size_t)cJSON_GetArraySize(arr);
  p->tuis = calloc(n, sizeof *p->tuis);
  if (p->tuis == NULL)
    return cab_error_sys(c->err, "%s: memory", c->origin);
  const cJSON *it;
  cJSON_ArrayForEach(it, arr)
  {
    size_t i = p->n_tuis++;
    struct cab_sweep_tui *t = &p->tuis[i];
    char path[64];
    snprintf(path, sizeof path, "tuis[%zu]", i);
    if (!cJSON_IsObject(it))
      return bad(c, path, "expected an object {\"tui\": NAME, \"image\"?: REF}");
    if (check_keys(c, it, path, keys) < 0)
      return -1;
    char sub[96];
    snprintf(sub, sizeof sub, "%s.tui", path);
    if (dup_string(c, cJSON_GetObjectItemCaseSensitive(it, "tui"), sub, true, &t->tui) < 0)
      return -1;
    if (!is_name(t->tui))
      return bad(c, sub, "'%s' is not an adapter name", t->tui);
    for (size_t k = 0; k < i; k++)
      if (strcmp(p->tuis[k].tui, t->tui) == 0)
        return bad(c, sub, "'%s' is already tuis[%zu] (cells of both would share directories)",
                   t->tui, k);
    snprintf(sub, sizeof sub, "%s.image", path);
    if (dup_string(c, cJSON_GetObjectItemCaseSensitive(it, "image"), sub, false, &t->image) < 0)
      return -1;
  }
  return 0;
}

static int
parse_models(const struct ctx *c, const cJSON *arr, struct cab_sweep_plan *p)
{
  static const char *const keys[] = {"model",  "endpoint",      "key_env",         "endpoint_wire",
                                     "replay", "record", "model_retries", "max_concurrency", NULL};
  if (arr == NULL)
    return bad(c, "models", "required (a list of {\"model\": ID, ...})");
  if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) == 0)
    return bad(c, "models", "expected a non-empty list of {\"model\": ID, ...}");
  size_t n = (size_t)cJSON_GetArraySize(arr);
  p->models = calloc(n, sizeof *p->models);
  if (p->models == NULL)
    return cab_error_sys(c->err, "%s: memory", c->origin);
  const cJSON *it;
  cJSON_ArrayForEach(it, arr)
  {
    size_t i = p->n_models++;
    struct cab_sweep_model *m = &p->models[i];
    m->model_retries = -1;
    char path[64], sub[96];
    snprintf(path, sizeof path, "models[%zu]", i);
    if (!cJSON_IsObject(it))
      return bad(c, path, "expected an object {\"model\": ID, ...}");
    if (check_keys(c, it, path, keys) < 0)
      return -1;
    snprintf(sub, sizeof sub, "%s.model", path);
    if (dup_string(c, cJSON_GetObjectItemCaseSensitive(it, "model"), sub, true, &m->model) < 0)
      return -1;
    const char *why = model_id_problem(m->model);
    if (why)
      return bad(c, sub, "'%s': %s", m->model, why);
    for (size_t k = 0; k < i; k++)
      if (strcmp(p->models[k].model, m->model) == 0)
        return bad(c, sub, "'%s' is already models[%zu] (cells of both would share directories)",
                   m->model, k);
    snprintf(sub, sizeof sub, "%s.endpoint", path);
    if (dup_string(c, cJSON_GetObjectItemCaseSensitive(it, "endpoint"), sub, false,
                   &m->endpoint) < 0)
      return -1;
    if (m->endpoint && strncmp(m->endpoint, "http://", 7) != 0 &&
        strncmp(m->endpoint, "https://", 8) != 0)
      return bad(c, sub, "'%s': expected an http:// or https:// URL", m->endpoint);
    snprintf(sub, sizeof sub, "%s.key_env", path);
    if (dup_string(c, cJSON_GetObjectItemCaseSensitive(it, "key_env"), sub, false, &m->key_env) <
        0)
      return -1;
    if (m->key_env && strspn(m->key_env, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                          "0123456789_") != strlen(m->key_env))
      return bad(c, sub, "'%s': expected an environment variable name", m->key_env);
    snprintf(sub, sizeof sub, "%s.endpoint_wire", path);
    if (dup_string(c, cJSON_GetObjectItemCaseSensitive(it, "endpoint_wire"), sub, false,
                   &m->endpoint_wire) < 0)
      return -1;
    enum cab_wire endpoint_wire;
    char wires[128];
    if (m->endpoint_wire && cab_wire_parse_endpoint(m->endpoint_wire, &endpoint_wire) < 0)
      return bad(c, sub, "'%s': expected %s", m->endpoint_wire,
                 cab_wire_list(wires, sizeof wires, true, NULL));
    snprintf(sub, sizeof sub, "%s.replay", path);
    cleanup_free char *replay = NULL;
    if (dup_string(c, cJSON_GetObjectItemCaseSensitive(it, "replay"), sub, false, &replay) < 0)
      return -1;
    if (replay && plan_path(c, replay, &m->replay) < 0)
      return -1;
    snprintf(sub, sizeof sub, "%s.record", path);
    const cJSON *rec = cJSON_GetObjectItemCaseSensitive(it, "record");
    if (rec && !cJSON_IsBool(rec))
      return bad(c, sub, "expected true or false");
    m->record = cJSON_IsTrue(rec);
    if (m->record && m->replay)
      return bad(c, sub, "a model records its cells' cassettes or replays one, not both "
                          "(drop \"replay\" or \"record\")");
    snprintf(sub, sizeof sub, "%s.model_retries", path);
    if (get_long(c, cJSON_GetObjectItemCaseSensitive(it, "model_retries"), sub, 0, 100,
                 "a whole number from 0 to 100", &m->model_retries) < 0)
      return -1;
    snprintf(sub, sizeof sub, "%s.max_concurrency", path);
    if (get_long(c, cJSON_GetObjectItemCaseSensitive(it, "max_concurrency"), sub, 1, 100000,
                 "a positive integer", &m->max_concurrency) < 0)
      return -1;
  }
  return 0;
}

static int
parse_tasks(const struct ctx *c, const cJSON *arr, struct cab_sweep_plan *p)
{
  if (arr == NULL)
    return bad(c, "tasks", "required (a list of task ids or globs, e.g. \"polyglot/*\")");
  if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) == 0)
    return bad(c, "tasks", "expected a non-empty list of task ids or globs, e.g. \"polyglot/*\"");
  size_t n = (size_t)cJSON_GetArraySize(arr);
  p->task_patterns = calloc(n, sizeof *p->task_patterns);
  if (p->task_patterns == NULL)
    return cab_error_sys(c->err, "%s: memory", c->origin);
  const cJSON *it;
  cJSON_ArrayForEach(it, arr)
  {
    size_t i = p->n_task_patterns;
    char path[64];
    snprintf(path, sizeof path, "tasks[%zu]", i);
    if (!cJSON_IsString(it) || it->valuestring[0] == '\0')
      return bad(c, path, "expected a task id or glob (a non-empty string)");
    p->task_patterns[i] = strdup(it->valuestring);
    if (p->task_patterns[i] == NULL)
      return cab_error_sys(c->err, "%s: memory", c->origin);
    p->n_task_patterns++;
  }
  return 0;
}

static int
parse_endpoint_limits(const struct ctx *c, const cJSON *v, struct cab_sweep_plan *p)
{
  const char *path = "endpoint_max_concurrency";
  if (v == NULL)
    return 0;
  if (cJSON_IsNumber(v))
    return get_long(c, v, path, 1, 100000, "a positive integer or {\"URL\": N}",
                    &p->endpoint_max_each);
  if (!cJSON_IsObject(v))
    return bad(c, path, "expected a positive integer or {\"URL\": N}");
  size_t n = (size_t)cJSON_GetArraySize(v);
  p->endpoint_limits = calloc(n ? n : 1, sizeof *p->endpoint_limits);
  if (p->endpoint_limits == NULL)
    return cab_error_sys(c->err, "%s: memory", c->origin);
  const cJSON *it;
  cJSON_ArrayForEach(it, v)
  {
    char sub[600];
    snprintf(sub, sizeof sub, "%s.%s", path, it->string);
    struct cab_sweep_endpoint_limit *l = &p->endpoint_limits[p->n_endpoint_limits];
    if (get_long(c, it, sub, 1, 100000, "a positive integer", &l->max) < 0)
      return -1;
    l->endpoint = strdup(it->string);
    if (l->endpoint == NULL)
      return cab_error_sys(c->err, "%s: memory", c->origin);
    p->n_endpoint_limits++;
  }
  return 0;
}

static int
parse_retries(const struct ctx *c, const cJSON *v, struct cab_sweep_plan *p)
{
  static const char *const keys[] = {"infra", "backoff_s", NULL};
  if (v == NULL)
    return 0;
  if (!cJSON_IsObject(v))
    return bad(c, "retries", "expected an object {\"infra\": N, \"backoff_s\"?: S}");
  if (check_keys(c, v, "retries", keys) < 0 ||
      get_long(c, cJSON_GetObjectItemCaseSensitive(v, "infra"), "retries.infra", 0, 100,
               "a whole number from 0 to 100", &p->retries_infra) < 0 ||
      get_double(c, cJSON_GetObjectItemCaseSensitive(v, "backoff_s"), "retries.backoff_s", 0,
                 3600, "a number of seconds from 0 to 3600", &p->backoff_s) < 0)
    return -1;
  return 0;
}

static int
parse_memory(const struct ctx *c, const cJSON *v, struct cab_sweep_plan *p)
{
  if (v == NULL)
    return 0;
  int64_t bytes = -1;
  if (cJSON_IsString(v) && cab_parse_size(v->valuestring, &bytes) < 0)
    bytes = -1;
  else if (cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble) && v->valuedouble > 0 &&
           v->valuedouble < 9e18)
    bytes = (int64_t)v->valuedouble;
  if (bytes < (16 << 20))
    return bad(c, "memory", "expected a size of at least 16M, such as \"4G\"");
  p->memory_bytes = bytes;
  return 0;
}

/* "require": run-cell's --require list, as a string or an array of items. */
static int
parse_require(const struct ctx *c, const cJSON *v, struct cab_sweep_plan *p)
{
  if (v == NULL)
    return 0;
  char list[512] = "";
  size_t used = 0;
  if (cJSON_IsString(v)) {
    used = (size_t)snprintf(list, sizeof list, "%s", v->valuestring);
  } else if (cJSON_IsArray(v)) {
    const cJSON *item;
    cJSON_ArrayForEach(item, v) {
      if (!cJSON_IsString(item) || used >= sizeof list)
        return bad(c, "require", "expected a list such as \"namespaces,seccomp,cgroup\"");
      used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", used ? "," : "",
                               item->valuestring);
    }
  } else {
    return bad(c, "require", "expected a list such as \"namespaces,seccomp,cgroup\"");
  }
  if (used >= sizeof list)
    return bad(c, "require", "too long");
  char where[600];
  snprintf(where, sizeof where, "%s: require", c->origin);
  return cab_protection_parse(list, where, &p->require, c->err);
}

static int
parse_fields(const struct ctx *c, const cJSON *root, struct cab_sweep_plan *p)
{
  static const char *const keys[] = {
      "sweep_id",  "scoring", "reruns",  "tuis",      "models",         "tasks",
      "host_rootfs", "image", "max_concurrency", "endpoint_max_concurrency", "retries",
      "memory",    "cpus",    "tasks_dir", "ramp_up_s", "require", NULL};
  if (!cJSON_IsObject(root))
    return cab_error_set(c->err, 0, "%s: expected a JSON object (a sweep plan)", c->origin);
  if (check_keys(c, root, "", keys) < 0)
    return -1;
#define ITEM(k) cJSON_GetObjectItemCaseSensitive(root, k)
  if (dup_string(c, ITEM("sweep_id"), "sweep_id", true, &p->sweep_id) < 0)
    return -1;
  if (!is_name(p->sweep_id) || strlen(p->sweep_id) > 200)
    return bad(c, "sweep_id", "'%s': expected a name of letters, digits, '.', '_' and '-'",
               p->sweep_id);
  if (dup_string(c, ITEM("scoring"), "scoring", false, &p->scoring) < 0)
    return -1;
  if (get_long(c, ITEM("reruns"), "reruns", 1, 1000, "a positive integer (at most 1000)",
               &p->reruns) < 0)
    return -1;
  if (parse_tuis(c, ITEM("tuis"), p) < 0 || parse_models(c, ITEM("models"), p) < 0 ||
      parse_tasks(c, ITEM("tasks"), p) < 0)
    return -1;
  const cJSON *hr = ITEM("host_rootfs");
  if (hr && !cJSON_IsBool(hr))
    return bad(c, "host_rootfs", "expected true or false");
  p->host_rootfs = cJSON_IsTrue(hr);
  if (dup_string(c, ITEM("image"), "image", false, &p->image) < 0)
    return -1;
  if (get_long(c, ITEM("max_concurrency"), "max_concurrency", 1, 100000, "a positive integer",
               &p->max_concurrency) < 0 ||
      parse_endpoint_limits(c, ITEM("endpoint_max_concurrency"), p) < 0 ||
      parse_retries(c, ITEM("retries"), p) < 0 || parse_memory(c, ITEM("memory"), p) < 0 ||
      get_double(c, ITEM("cpus"), "cpus", 0.01, 4096, "a positive number of CPUs", &p->cpus) < 0 ||
      get_double(c, ITEM("ramp_up_s"), "ramp_up_s", 0, 600, "a number of seconds from 0 to 600",
                 &p->ramp_up_s) < 0 ||
      parse_require(c, ITEM("require"), p) < 0)
    return -1;
  cleanup_free char *tasks_dir = NULL;
  if (dup_string(c, ITEM("tasks_dir"), "tasks_dir", false, &tasks_dir) < 0)
    return -1;
  if (tasks_dir && plan_path(c, tasks_dir, &p->tasks_dir) < 0)
    return -1;
#undef ITEM
  return 0;
}

int
cab_sweep_plan_parse(const char *text, size_t len, const char *origin, const char *base_dir,
                     struct cab_sweep_plan **out, cab_error *err)
{
  struct ctx c = {.origin = origin, .base_dir = base_dir, .err = err};
  const char *end = NULL;
  cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, false);
  if (root == NULL) {
    size_t off = end && end >= text ? (size_t)(end - text) : 0, line = 1, col = 1;
    for (size_t i = 0; i < off && i < len; i++) {
      if (text[i] == '\n') {
        line++;
        col = 1;
      } else {
        col++;
      }
    }
    return cab_error_set(err, 0, "%s: not valid JSON (line %zu, column %zu)", origin, line, col);
  }
  struct cab_sweep_plan *p = calloc(1, sizeof *p);
  if (p == NULL) {
    cJSON_Delete(root);
    return cab_error_sys(err, "%s: memory", origin);
  }
  p->reruns = 1;
  p->backoff_s = 2;
  p->ramp_up_s = 0.5;
  p->memory_bytes = cab_cell_limits_default.memory_bytes;
  p->require = CAB_PROTECTION_REQUIRE_DEFAULT;
  p->origin = strdup(origin);
  cab_sha256_buffer(text, len, p->plan_sha256);
  int r = p->origin ? parse_fields(&c, root, p) : cab_error_sys(err, "%s: memory", origin);
  cJSON_Delete(root);
  if (r < 0) {
    cab_sweep_plan_free(p);
    return -1;
  }
  *out = p;
  return 0;
}

long
cab_sweep_plan_endpoint_limit(const struct cab_sweep_plan *p, const char *endpoint)
{
  if (endpoint == NULL)
    return 0;
  for (size_t i = 0; i < p->n_endpoint_limits; i++)
    if (strcmp(p->endpoint_limits[i].endpoint, endpoint) == 0)
      return p->endpoint_limits[i].max;
  return p->endpoint_max_each;
}

void
cab_sweep_plan_free(struct cab_sweep_plan *p)
{
  if (p == NULL)
    return;
  free(p->origin);
  free(p->sweep_id);
  free(p->scoring);
  for (size_t i = 0; i < p->n_tuis; i++) {
    free(p->tuis[i].tui);
    free(p->tuis[i].image);
    free(p->tuis[i].adapter_image);
  }
  free(p->tuis);
  for (size_t i = 0; i < p->n_models; i++) {
    struct cab_sweep_model *m = &p->models[i];
    free(m->model);
    free(m->endpoint);
    free(m->key_env);
    free(m->endpoint_wire);
    free(m->replay);
  }
  free(p->models);
  for (size_t i = 0; i < p->n_task_patterns; i++)
    free(p->task_patterns[i]);
  free(p->task_patterns);
  free(p->image);
  for (size_t i = 0; i < p->n_endpoint_limits; i++)
    free(p->endpoint_limits[i].endpoint);
  free(p->endpoint_limits);
  free(p->tasks_dir);
  for (size_t i = 0; i < p->n_tasks; i++) {
    free(p->tasks[i].id);
    free(p->tasks[i].image);
  }
  free(p->tasks);
  free(p);
}
