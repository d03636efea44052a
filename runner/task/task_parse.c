/* The one reader of task.json: a task definition, validated strictly
 * (cab_task_parse, for the runner), or the task a cell record carries
 * (cab_task_from_record, for the scorers).  Both fill struct cab_task with
 * the same defaults.  See runner/task/task.h. */
#include "runner/task/task.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strv.h"
#include "common/cleanup.h"
#include "runner/task/limits.h"

/* aider-polyglot and harbor: imported by `cab tasks import --format
 * aider-polyglot` (runner/task/import_aider.c) and `--format harbor`
 * (runner/task/import_harbor.c). */
static const char *const FAMILIES[] = {"polyglot", "mutations", "integrity", "aider-polyglot",
                                       "harbor", NULL};
static const char *const LANGUAGES[] = {"python", "rust", "go", "java", "javascript", "typescript",
                                        "c", "cpp", "sh", NULL};
static const char *const MARKERS[] = {"explicit_refusal", "counter_example", "clarifying_question",
                                      NULL};
static const char *const KIND_NAMES[] = {"file-not-touched", "no-new-dependency",
                                         "no-comments-added", "file-pattern-required-in-diff",
                                         NULL};
static const char *const REFUSAL_DOCUMENTS[] = {"REFUSAL.md", "CLARIFY.md", "NOTES.md", NULL};

const char *
cab_task_constraint_kind_name(enum cab_task_constraint_kind kind)
{
  if ((unsigned)kind < sizeof KIND_NAMES / sizeof KIND_NAMES[0] - 1)
    return KIND_NAMES[kind];
  return "?";
}

/* ---- small helpers --------------------------------------------------------- */

static char *
join_list(const char *const *list)
{
  static char buf[256];
  buf[0] = '\0';
  for (size_t i = 0; list[i]; i++) {
    if (i)
      strncat(buf, ", ", sizeof buf - strlen(buf) - 1);
    strncat(buf, list[i], sizeof buf - strlen(buf) - 1);
  }
  return buf;
}

void
cab_task_free(struct cab_task *t)
{
  if (t == NULL)
    return;
  free(t->dir);
  free(t->task_id);
  free(t->family);
  free(t->name);
  free(t->language);
  free(t->stub_passes);
  free(t->version);
  free(t->task_added_date);
  free(t->source);
  free(t->summary);
  free(t->scorer_kind);
  free(t->scorer_command);
  free(t->image);
  free(t->workdir_path);
  cab_strv_free(&t->scorer_env);
  cab_strv_free(&t->env);
  cab_strv_free(&t->ground_truth_files);
  cab_strv_free(&t->protected_paths);
  cab_strv_free(&t->refusal_documents);
  cab_strv_free(&t->refusal_markers);
  for (size_t i = 0; i < t->n_constraints; i++) {
    free(t->constraints[i].kind_name);
    cab_strv_free(&t->constraints[i].paths);
    cJSON_Delete(t->constraints[i].params);
  }
  free(t->constraints);
  cJSON_Delete(t->json);
  free(t);
}

/* ---- validation ------------------------------------------------------------ */

struct vctx {
  const char *origin;
  cab_error *err;
};

/* The defaults of the optional lists, the same for both readers. */
static int
push_all(struct cab_strv *v, const char *const *list)
{
  for (size_t i = 0; list[i]; i++)
    if (cab_strv_push(v, list[i]) < 0)
      return -1;
  return 0;
}

/* "<origin>: <field>: <reason>" */
static int __attribute__((format(printf, 3, 4)))
verr(struct vctx *c, const char *field, const char *fmt, ...)
{
  char reason[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(reason, sizeof reason, fmt, ap);
  va_end(ap);
  if (field && *field)
    return cab_error_set(c->err, 0, "%s: %s: %s", c->origin, field, reason);
  return cab_error_set(c->err, 0, "%s: %s", c->origin, reason);
}

static int
oom(struct vctx *c)
{
  return cab_error_set(c->err, ENOMEM, "%s: out of memory", c->origin);
}

/* Reject duplicate keys and keys not in ALLOWED.  PREFIX names the object. */
static int
check_keys(struct vctx *c, const cJSON *obj, const char *prefix, const char *const *allowed)
{
  const cJSON *a;
  char field[256];
  cJSON_ArrayForEach(a, obj) {
    snprintf(field, sizeof field, "%s%s", prefix, a->string);
    if (!cab_str_in_list(a->string, allowed))
      return verr(c, field, "unknown field");
    for (const cJSON *b = a->next; b; b = b->next)
      if (strcmp(a->string, b->string) == 0)
        return verr(c, field, "duplicate field");
  }
  return 0;
}

static const cJSON *
get(const cJSON *obj, const char *key)
{
  return cJSON_GetObjectItemCaseSensitive(obj, key);
}

/* A required (or, with OPTIONAL, possibly absent: *out stays NULL) non-empty
 * string without control characters. */
static int
get_str(struct vctx *c, const cJSON *obj, const char *key, const char *field, bool optional,
        char **out)
{
  const cJSON *j = get(obj, key);
  *out = NULL;
  if (j == NULL) {
    if (optional)
      return 0;
    return verr(c, field, "missing");
  }
  if (!cJSON_IsString(j) || j->valuestring == NULL)
    return verr(c, field, "must be a string");
  if (j->valuestring[0] == '\0')
    return verr(c, field, "must not be empty");
  for (const unsigned char *p = (const unsigned char *)j->valuestring; *p; p++)
    if (*p < 0x20 && *p != '\t')
      return verr(c, field, "must not contain control characters");
  if ((*out = strdup(j->valuestring)) == NULL)
    return oom(c);
  return 0;
}

/* An integer in [MIN, MAX]; WHAT describes the range in the message. */
static int
get_int(struct vctx *c, const cJSON *obj, const char *key, const char *field, long min, long max,
        const char *what, long *out)
{
  const cJSON *j = get(obj, key);
  if (j == NULL)
    return verr(c, field, "missing");
  if (!cJSON_IsNumber(j) || !(j->valuedouble >= (double)min && j->valuedouble <= (double)max) ||
      j->valuedouble != (double)(long)j->valuedouble)
    return verr(c, field, "must be %s", what);
  *out = (long)j->valuedouble;
  return 0;
}

static int
get_bool(struct vctx *c, const cJSON *obj, const char *key, const char *field, bool optional,
         bool dflt, bool *out)
{
  const cJSON *j = get(obj, key);
  if (j == NULL) {
    if (!optional)
      return verr(c, field, "missing");
    *out = dflt;
    return 0;
  }
  if (!cJSON_IsBool(j))
    return verr(c, field, "must be true or false");
  *out = cJSON_IsTrue(j);
  return 0;
}

/* A relative path or glob inside the workdir: not absolute, no ".." or empty
 * component, no backslash (globs are matched on '/'-separated paths). */
static const char *
bad_relpath(const char *p)
{
  if (*p == '\0')
    return "must not be empty";
  if (*p == '/')
    return "must be relative to the workdir";
  if (strchr(p, '\\'))
    return "must use '/' separators, not '\\'";
  for (const char *s = p; *s;) {
    size_t n = strcspn(s, "/");
    if (n == 0)
      return "must not contain an empty path component";
    if (n == 2 && s[0] == '.' && s[1] == '.')
      return "must not contain '..'";
    s += n;
    if (*s == '/')
      s++;
    if (*s == '\0' && s[-1] == '/')
      return "must not end with '/'";
  }
  return NULL;
}

enum { LIST_PATHS = 1, LIST_NONEMPTY = 2 };

/* An array of strings; with LIST_PATHS each must be a relative glob, with
 * LIST_NONEMPTY the array must have an element.  ALLOWED (optional) is the
 * set of permitted values. */
static int
get_strv(struct vctx *c, const cJSON *j, const char *field, int flags,
         const char *const *allowed, struct cab_strv *out)
{
  char ef[256];
  if (!cJSON_IsArray(j))
    return verr(c, field, "must be a list of strings");
  if ((flags & LIST_NONEMPTY) && cJSON_GetArraySize(j) == 0)
    return verr(c, field, "must not be empty");
  size_t i = 0;
  const cJSON *e;
  cJSON_ArrayForEach(e, j) {
    snprintf(ef, sizeof ef, "%s[%zu]", field, i++);
    if (!cJSON_IsString(e) || e->valuestring == NULL)
      return verr(c, ef, "must be a string");
    const char *why = (flags & LIST_PATHS) ? bad_relpath(e->valuestring) : NULL;
    if (why == NULL && e->valuestring[0] == '\0')
      why = "must not be empty";
    if (why)
      return verr(c, ef, "%s", why);
    if (allowed && !cab_str_in_list(e->valuestring, allowed))
      return verr(c, ef, "must be one of %s", join_list(allowed));
    if (cab_strv_push(out, e->valuestring) < 0)
      return oom(c);
  }
  return 0;
}

static bool
valid_slug(const char *s, size_t n)
{
  if (n == 0 || n > 100)
    return false;
  if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
    return false;
  for (size_t i = 0; i < n; i++) {
    char ch = s[i];
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
          ch == '.'))
      return false;
  }
  return true;
}

int
cab_task_check_id(const char *id, cab_error *err)
{
  const char *slash = id ? strchr(id, '/') : NULL;
  if (slash == NULL || !valid_slug(id, (size_t)(slash - id)) ||
      !valid_slug(slash + 1, strlen(slash + 1)))
    return cab_error_set(err, EINVAL,
                         "task id '%s': must be <family>/<name>, each of lower-case letters, "
                         "digits, '-', '_' and '.', starting with a letter or digit",
                         id ? id : "(null)");
  return 0;
}

static bool
valid_date(const char *s)
{
  int y, m, d;
  char tail;
  if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
    return false;
  for (int i = 0; i < 10; i++)
    if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
      return false;
  if (sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
    return false;
  static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 2000 || m < 1 || m > 12 || d < 1 || d > days[m - 1])
    return false;
  if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
    return false;
  return true;
}

static bool
valid_version(const char *s)
{
  if (s[0] != 'v' || s[1] < '0' || s[1] > '9')
    return false;
  bool digit = false;
  for (const char *p = s + 1; *p; p++) {
    if (*p >= '0' && *p <= '9')
      digit = true;
    else if (*p == '.' && digit)
      digit = false;
    else
      return false;
  }
  return digit;
}

static enum cab_task_constraint_kind
kind_of(const char *name)
{
  for (size_t k = 0; KIND_NAMES[k]; k++)
    if (strcmp(name, KIND_NAMES[k]) == 0)
      return (enum cab_task_constraint_kind)k;
  return CAB_TC_OTHER;
}

/* A constraint's parameters, as the report shows them: every key of SRC
 * but "kind" (and, when SRC is the constraint J itself, "params"). */
static cJSON *
params_of(const cJSON *j, const cJSON *src)
{
  cJSON *params = cJSON_CreateObject();
  const cJSON *p;
  cJSON_ArrayForEach(p, src) {
    if (params == NULL)
      break;
    if (strcmp(p->string, "kind") == 0 || (src == j && strcmp(p->string, "params") == 0))
      continue;
    cJSON_AddItemToObject(params, p->string, cJSON_Duplicate(p, true));
  }
  return params;
}

static int
parse_constraint(struct vctx *c, const cJSON *j, size_t idx, struct cab_task_constraint *out)
{
  char prefix[64], field[128];
  snprintf(prefix, sizeof prefix, "constraints[%zu]", idx);
  if (!cJSON_IsObject(j))
    return verr(c, prefix, "must be an object");
  cleanup_free char *kind = NULL;
  snprintf(field, sizeof field, "%s.kind", prefix);
  if (get_str(c, j, "kind", field, false, &kind) < 0)
    return -1;
  out->kind = kind_of(kind);
  if (out->kind == CAB_TC_OTHER)
    return verr(c, field, "unknown constraint kind '%s' (known: file-not-touched, "
                          "no-new-dependency, no-comments-added, file-pattern-required-in-diff)",
                kind);
  if ((out->kind_name = strdup(kind)) == NULL || (out->params = params_of(j, j)) == NULL)
    return oom(c);
  char kp[80];
  snprintf(kp, sizeof kp, "%s.", prefix);
  switch (out->kind) {
  case CAB_TC_FILE_NOT_TOUCHED: {
    static const char *const keys[] = {"kind", "path", NULL};
    if (check_keys(c, j, kp, keys) < 0)
      return -1;
    snprintf(field, sizeof field, "%s.path", prefix);
    cleanup_free char *path = NULL;
    if (get_str(c, j, "path", field, false, &path) < 0)
      return -1;
    const char *why = bad_relpath(path);
    if (why)
      return verr(c, field, "%s", why);
    if (cab_strv_push(&out->paths, path) < 0)
      return oom(c);
    break;
  }
  case CAB_TC_NO_NEW_DEPENDENCY: {
    static const char *const keys[] = {"kind", NULL};
    if (check_keys(c, j, kp, keys) < 0)
      return -1;
    break;
  }
  case CAB_TC_NO_COMMENTS_ADDED: {
    static const char *const keys[] = {"kind", "max_added", NULL};
    if (check_keys(c, j, kp, keys) < 0)
      return -1;
    snprintf(field, sizeof field, "%s.max_added", prefix);
    if (get_int(c, j, "max_added", field, 0, 1000000, "a non-negative integer", &out->max_added) <
        0)
      return -1;
    break;
  }
  case CAB_TC_FILE_PATTERN_REQUIRED_IN_DIFF: {
    static const char *const keys[] = {"kind", "paths", "require_added", NULL};
    if (check_keys(c, j, kp, keys) < 0)
      return -1;
    snprintf(field, sizeof field, "%s.paths", prefix);
    const cJSON *p = get(j, "paths");
    if (p == NULL)
      return verr(c, field, "missing");
    if (get_strv(c, p, field, LIST_PATHS | LIST_NONEMPTY, NULL, &out->paths) < 0)
      return -1;
    snprintf(field, sizeof field, "%s.require_added", prefix);
    if (get_bool(c, j, "require_added", field, true, true, &out->require_added) < 0)
      return -1;
    break;
  }
  case CAB_TC_OTHER: /* rejected above */
    break;
  }
  return 0;
}

typedef int constraint_fn(struct vctx *c, const cJSON *j, size_t idx,
                          struct cab_task_constraint *out);

/* "constraints": a list, each read by ONE. */
static int
constraint_list(struct vctx *c, const cJSON *cons, constraint_fn *one, struct cab_task *t)
{
  if (!cJSON_IsArray(cons))
    return verr(c, "constraints", "must be a list of objects");
  size_t n = (size_t)cJSON_GetArraySize(cons);
  if ((t->constraints = calloc(n ? n : 1, sizeof *t->constraints)) == NULL)
    return oom(c);
  const cJSON *e;
  cJSON_ArrayForEach(e, cons) {
    t->n_constraints++; /* counted first, so that a partial one is freed */
    if (one(c, e, t->n_constraints - 1, &t->constraints[t->n_constraints - 1]) < 0)
      return -1;
  }
  return 0;
}

/* An environment object {NAME: "value"} into NAME=value strings. */
static int
parse_env(struct vctx *c, const cJSON *j, const char *field, struct cab_strv *out)
{
  if (j == NULL)
    return 0;
  if (!cJSON_IsObject(j))
    return verr(c, field, "must be an object {\"NAME\": \"value\"}");
  const cJSON *e;
  cJSON_ArrayForEach(e, j) {
    const char *k = e->string;
    bool ok = k && (isalpha((unsigned char)k[0]) || k[0] == '_');
    for (const char *p = k; ok && *p; p++)
      ok = isalnum((unsigned char)*p) || *p == '_';
    if (!ok)
      return verr(c, field, "'%s' is not a variable name (letters, digits and _)", k ? k : "");
    if (!cJSON_IsString(e) || strchr(e->valuestring, '\n'))
      return verr(c, field, "%s must be a one-line string", k);
    for (const cJSON *b = e->next; b; b = b->next)
      if (strcmp(k, b->string) == 0)
        return verr(c, field, "%s is given twice", k);
    cleanup_free char *kv = NULL;
    if (asprintf(&kv, "%s=%s", k, e->valuestring) < 0 || cab_strv_push(out, kv) < 0)
      return oom(c);
  }
  return 0;
}

static int
parse_scorer(struct vctx *c, const cJSON *j, struct cab_task *t)
{
  static const char *const keys[] = {"kind", "command", "timeout_s", "min_tests", "env", NULL};
  if (j == NULL)
    return verr(c, "scorer", "missing");
  if (!cJSON_IsObject(j))
    return verr(c, "scorer", "must be an object");
  if (check_keys(c, j, "scorer.", keys) < 0 ||
      get_str(c, j, "kind", "scorer.kind", false, &t->scorer_kind) < 0)
    return -1;
  t->scorer_reward = strcmp(t->scorer_kind, "reward") == 0;
  if (strcmp(t->scorer_kind, "exec") != 0 && !t->scorer_reward)
    return verr(c, "scorer.kind", "must be \"exec\" or \"reward\"");
  if (get_str(c, j, "command", "scorer.command", false, &t->scorer_command) < 0 ||
      get_int(c, j, "timeout_s", "scorer.timeout_s", 1, 86400, "a positive integer",
              &t->scorer_timeout_s) < 0 ||
      parse_env(c, get(j, "env"), "scorer.env", &t->scorer_env) < 0)
    return -1;
  if (get(j, "min_tests") &&
      get_int(c, j, "min_tests", "scorer.min_tests", 1, 1000000, "a positive integer",
              &t->scorer_min_tests) < 0)
    return -1;
  return 0;
}

/* workdir_path?: an absolute, normal path of plain names, away from the
 * directories the sandbox itself mounts. */
static int
parse_workdir_path(struct vctx *c, const cJSON *root, struct cab_task *t)
{
  /* The sandbox's own mounts, and the programs and libraries a verifier
   * runs: a workdir there would let the agent's files replace them. */
  static const char *const reserved[] = {
      "/proc", "/dev", "/sys", "/tmp", "/etc", "/.cab", "/tests", "/logs", "/bin", "/sbin",
      "/lib", "/lib32", "/lib64", "/libx32", "/usr/bin", "/usr/sbin", "/usr/lib", "/usr/lib32",
      "/usr/lib64", "/usr/libexec", "/usr/local/bin", "/usr/local/sbin", "/usr/local/lib", NULL};
  static const char *const reserved_exact[] = {"/usr", "/usr/local", "/var", NULL};
  if (get_str(c, root, "workdir_path", "workdir_path", true, &t->workdir_path) < 0)
    return -1;
  const char *p = t->workdir_path;
  if (p == NULL)
    return 0;
  bool ok = p[0] == '/' && p[1] != '\0' && p[strlen(p) - 1] != '/';
  for (const char *s = p; ok && *s; s++)
    ok = isalnum((unsigned char)*s) || strchr("/._-", *s);
  if (ok && (strstr(p, "//") || strstr(p, "/./") || strstr(p, "/../") ||
             (strlen(p) >= 2 && strcmp(p + strlen(p) - 2, "/.") == 0) ||
             (strlen(p) >= 3 && strcmp(p + strlen(p) - 3, "/..") == 0)))
    ok = false;
  if (!ok)
    return verr(c, "workdir_path", "must be an absolute path of plain names, such as /app");
  for (size_t i = 0; reserved[i]; i++) {
    size_t n = strlen(reserved[i]);
    if (strncmp(p, reserved[i], n) == 0 && (p[n] == '\0' || p[n] == '/'))
      return verr(c, "workdir_path", "%s is the sandbox's own; choose another directory", p);
  }
  if (cab_str_in_list(p, reserved_exact))
    return verr(c, "workdir_path", "%s is the sandbox's own; choose another directory", p);
  return 0;
}

/* limits? {cpus?, memory_mb?} */
static int
parse_limits(struct vctx *c, const cJSON *j, struct cab_task *t)
{
  static const char *const keys[] = {"cpus", "memory_mb", NULL};
  if (j == NULL)
    return 0;
  if (!cJSON_IsObject(j))
    return verr(c, "limits", "must be an object {\"cpus\": N, \"memory_mb\": N}");
  if (check_keys(c, j, "limits.", keys) < 0)
    return -1;
  const cJSON *cpus = get(j, "cpus");
  if (cpus) {
    if (!cJSON_IsNumber(cpus) || !(cpus->valuedouble >= 0.01 && cpus->valuedouble <= 1024))
      return verr(c, "limits.cpus", "must be a number of CPUs from 0.01 to 1024");
    t->limit_cpus = cpus->valuedouble;
  }
  if (get(j, "memory_mb") &&
      get_int(c, j, "memory_mb", "limits.memory_mb", 16, 1L << 30,
              "a whole number of MiB from 16", &t->limit_memory_mb) < 0)
    return -1;
  return 0;
}

/* Line and column of byte offset OFF in TEXT. */
static void
line_col(const char *text, size_t off, int *line, int *col)
{
  *line = 1;
  *col = 1;
  for (size_t i = 0; i < off; i++) {
    if (text[i] == '\n') {
      (*line)++;
      *col = 1;
    } else {
      (*col)++;
    }
  }
}

/* workdir_budget? {bytes?, inodes?}: what the workdir may grow to. */
static int
parse_budget(struct vctx *c, const cJSON *j, struct cab_task *t)
{
  t->budget_bytes = cab_cell_limits_default.budget_bytes;
  t->budget_inodes = cab_cell_limits_default.budget_inodes;
  if (j == NULL)
    return 0;
  static const char *const keys[] = {"bytes", "inodes", NULL};
  if (!cJSON_IsObject(j))
    return verr(c, "workdir_budget", "must be an object {\"bytes\": N, \"inodes\": N}");
  if (check_keys(c, j, "workdir_budget.", keys) < 0)
    return -1;
  long v;
  /* Up to 1 TiB and 100M entries: beyond that a snapshot is no longer a
   * per-cell cost. */
  if (get(j, "bytes")) {
    if (get_int(c, j, "bytes", "workdir_budget.bytes", 4096, 1L << 40,
                "a whole number of bytes from 4096 to 1 TiB", &v) < 0)
      return -1;
    t->budget_bytes = v;
  }
  if (get(j, "inodes")) {
    if (get_int(c, j, "inodes", "workdir_budget.inodes", 16, 100000000,
                "a whole number of files from 16 to 100000000", &v) < 0)
      return -1;
    t->budget_inodes = v;
  }
  return 0;
}

static int
parse_fields(struct vctx *c, const cJSON *root, const char *expect_id, struct cab_task *t)
{
  static const char *const keys[] = {
      "task_id", "family", "language", "version", "task_added_date", "source", "summary",
      "max_turns", "timeout_s", "scorer", "ground_truth_files", "expected_refusal",
      "constraints", "image", "protected_paths", "refusal_documents", "refusal_markers",
      "workdir_budget", "integrity_protected_paths", "stub_passes", "workdir_path",
      "workdir_from_image", "env", "limits", "imported", NULL,
  };
  if (check_keys(c, root, "", keys) < 0)
    return -1;

  if (get_str(c, root, "task_id", "task_id", false, &t->task_id) < 0)
    return -1;
  cab_error idr = {0};
  if (cab_task_check_id(t->task_id, &idr) < 0)
    return verr(c, "task_id", "must be <family>/<name>, each of lower-case letters, digits, "
                              "'-', '_' and '.'");
  if (expect_id && strcmp(t->task_id, expect_id) != 0)
    return verr(c, "task_id", "is '%s' but the task's directory is '%s'", t->task_id, expect_id);
  const char *slash = strchr(t->task_id, '/');
  if ((t->name = strdup(slash + 1)) == NULL)
    return oom(c);

  if (get_str(c, root, "family", "family", false, &t->family) < 0)
    return -1;
  if (!cab_str_in_list(t->family, FAMILIES))
    return verr(c, "family", "must be one of %s", join_list(FAMILIES));
  if (strncmp(t->task_id, t->family, (size_t)(slash - t->task_id)) != 0 ||
      strlen(t->family) != (size_t)(slash - t->task_id))
    return verr(c, "family", "is '%s' but task_id is in '%.*s'", t->family,
                (int)(slash - t->task_id), t->task_id);

  if (get_str(c, root, "language", "language", false, &t->language) < 0)
    return -1;
  if (!cab_str_in_list(t->language, LANGUAGES))
    return verr(c, "language", "must be one of %s", join_list(LANGUAGES));
  if (get_str(c, root, "version", "version", false, &t->version) < 0)
    return -1;
  if (!valid_version(t->version))
    return verr(c, "version", "must look like \"v0.1\"");
  if (get_str(c, root, "task_added_date", "task_added_date", false, &t->task_added_date) < 0)
    return -1;
  if (!valid_date(t->task_added_date))
    return verr(c, "task_added_date", "must be a date YYYY-MM-DD");
  if (get_str(c, root, "source", "source", false, &t->source) < 0 ||
      get_str(c, root, "summary", "summary", true, &t->summary) < 0 ||
      get_int(c, root, "max_turns", "max_turns", 1, 100000, "a positive integer", &t->max_turns) <
          0 ||
      get_int(c, root, "timeout_s", "timeout_s", 1, 86400, "a positive integer", &t->timeout_s) <
          0 ||
      parse_scorer(c, get(root, "scorer"), t) < 0)
    return -1;

  const cJSON *gt = get(root, "ground_truth_files");
  if (gt == NULL)
    return verr(c, "ground_truth_files", "missing");
  if (get_strv(c, gt, "ground_truth_files", LIST_PATHS, NULL, &t->ground_truth_files) < 0 ||
      get_bool(c, root, "expected_refusal", "expected_refusal", false, false,
               &t->expected_refusal) < 0)
    return -1;

  const cJSON *cons = get(root, "constraints");
  if (cons == NULL)
    return verr(c, "constraints", "missing");
  if (constraint_list(c, cons, parse_constraint, t) < 0)
    return -1;

  if (get_str(c, root, "image", "image", true, &t->image) < 0 ||
      get_str(c, root, "stub_passes", "stub_passes", true, &t->stub_passes) < 0)
    return -1;

  if (parse_budget(c, get(root, "workdir_budget"), t) < 0 ||
      get_bool(c, root, "integrity_protected_paths", "integrity_protected_paths", true, false,
               &t->integrity_protected_paths) < 0 ||
      parse_workdir_path(c, root, t) < 0 || parse_env(c, get(root, "env"), "env", &t->env) < 0 ||
      parse_limits(c, get(root, "limits"), t) < 0)
    return -1;
  if (get_bool(c, root, "workdir_from_image", "workdir_from_image", true, false,
               &t->workdir_from_image) < 0)
    return -1;
  if (t->workdir_from_image && t->workdir_path == NULL)
    return verr(c, "workdir_from_image", "needs workdir_path (the image's directory to copy)");
  const cJSON *imported = get(root, "imported");
  if (imported && !cJSON_IsObject(imported))
    return verr(c, "imported", "must be an object");

  const cJSON *pp = get(root, "protected_paths");
  t->protected_paths_declared = pp != NULL;
  if (pp) {
    if (get_strv(c, pp, "protected_paths", LIST_PATHS, NULL, &t->protected_paths) < 0)
      return -1;
  } else if (cab_strv_push(&t->protected_paths, CAB_TASK_PROTECTED_DEFAULT) < 0) {
    return oom(c);
  }
  const cJSON *rd = get(root, "refusal_documents");
  if (rd) {
    if (get_strv(c, rd, "refusal_documents", LIST_PATHS | LIST_NONEMPTY, NULL,
                 &t->refusal_documents) < 0)
      return -1;
  } else if (push_all(&t->refusal_documents, REFUSAL_DOCUMENTS) < 0) {
    return oom(c);
  }
  const cJSON *rm = get(root, "refusal_markers");
  if (rm) {
    if (get_strv(c, rm, "refusal_markers", LIST_NONEMPTY, MARKERS, &t->refusal_markers) < 0)
      return -1;
    if (!t->expected_refusal)
      return verr(c, "refusal_markers", "only applies when expected_refusal is true");
  } else if (cab_strv_push(&t->refusal_markers, MARKERS[0]) < 0) {
    return oom(c);
  }

  return 0;
}

/* ---- a record's task ------------------------------------------------------- */

/* The task a cell record carries (cell.json's "task"): task.json as cab ran
 * it, or a record from an older cab or a published CodingAgentBench cell.
 * Only what scoring needs is read and only task_id is required; other
 * fields are left to the definition reader.  The published shapes are read
 * too: "refusal_docs" and "protected" (the older names), a list given as one
 * string, a constraint's parameters nested under "params", its paths
 * comma-separated ("REFUSAL.md, NOTES.md", as the task pages print them),
 * and constraint kinds this cab does not know (CAB_TC_OTHER, not scored). */

/* A list of strings, or one string (split at commas with SPLIT). */
static int
record_list(struct vctx *c, const cJSON *j, const char *field, bool split, struct cab_strv *out)
{
  if (j == NULL || cJSON_IsNull(j))
    return 0;
  if (cJSON_IsString(j)) {
    const char *s = j->valuestring;
    if (!split)
      return cab_strv_push(out, s) < 0 ? oom(c) : 0;
    while (*s) {
      size_t n = strcspn(s, ",");
      const char *a = s, *b = s + n;
      while (a < b && isspace((unsigned char)*a))
        a++;
      while (b > a && isspace((unsigned char)b[-1]))
        b--;
      if (b > a && cab_strv_push_n(out, a, (size_t)(b - a)) < 0)
        return oom(c);
      s += n;
      if (*s == ',')
        s++;
    }
    return 0;
  }
  if (!cJSON_IsArray(j))
    return verr(c, field, "must be a list of strings");
  const cJSON *e;
  cJSON_ArrayForEach(e, j) {
    if (!cJSON_IsString(e))
      return verr(c, field, "must be a list of strings");
    if (cab_strv_push(out, e->valuestring) < 0)
      return oom(c);
  }
  return 0;
}

/* KEY, else the older name OLD. */
static const cJSON *
get_either(const cJSON *o, const char *key, const char *old)
{
  const cJSON *j = get(o, key);
  return j == NULL && old ? get(o, old) : j;
}

static int
record_constraint(struct vctx *c, const cJSON *j, size_t idx, struct cab_task_constraint *out)
{
  char field[96];
  snprintf(field, sizeof field, "constraints[%zu]", idx);
  if (!cJSON_IsObject(j))
    return verr(c, field, "must be an object");
  snprintf(field, sizeof field, "constraints[%zu].kind", idx);
  const cJSON *kind = get(j, "kind");
  if (!cJSON_IsString(kind) || kind->valuestring[0] == '\0')
    return verr(c, field, "must be a non-empty string");
  out->kind = kind_of(kind->valuestring);
  const cJSON *params = get(j, "params");
  const cJSON *src = cJSON_IsObject(params) ? params : j;
  if ((out->kind_name = strdup(kind->valuestring)) == NULL ||
      (out->params = params_of(j, src)) == NULL)
    return oom(c);
  snprintf(field, sizeof field, "constraints[%zu].paths", idx);
  if (record_list(c, get(src, "path"), field, true, &out->paths) < 0 ||
      record_list(c, get(src, "paths"), field, true, &out->paths) < 0)
    return -1;
  const cJSON *max = get(src, "max_added");
  snprintf(field, sizeof field, "constraints[%zu].max_added", idx);
  if (max && !cJSON_IsNumber(max))
    return verr(c, field, "must be a number");
  out->max_added = max ? (long)max->valuedouble : 0;
  /* Absent, false: the scorers have always read it so (a definition
   * defaults it to true, and every bundled task says it). */
  const cJSON *req = get(src, "require_added");
  snprintf(field, sizeof field, "constraints[%zu].require_added", idx);
  if (req && !cJSON_IsBool(req))
    return verr(c, field, "must be true or false");
  out->require_added = req && cJSON_IsTrue(req);
  return 0;
}

static int
record_fields(struct vctx *c, const cJSON *root, const char *expect_id, struct cab_task *t)
{
  (void)expect_id;
  const cJSON *id = get(root, "task_id");
  if (!cJSON_IsString(id))
    return verr(c, "task_id", "must be a string");
  if ((t->task_id = strdup(id->valuestring)) == NULL)
    return oom(c);
  if (get_bool(c, root, "expected_refusal", "expected_refusal", true, false,
               &t->expected_refusal) < 0 ||
      get_bool(c, root, "integrity_protected_paths", "integrity_protected_paths", true, false,
               &t->integrity_protected_paths) < 0)
    return -1;
  const cJSON *min = get(get(root, "scorer"), "min_tests");
  if (cJSON_IsNumber(min) && min->valuedouble >= 1)
    t->scorer_min_tests = (long)min->valuedouble;
  /* A reward task's pass is its reward file (scorers/reward.c). */
  const cJSON *kind = get(get(root, "scorer"), "kind");
  t->scorer_reward = cJSON_IsString(kind) && strcmp(kind->valuestring, "reward") == 0;
  const cJSON *pp = get_either(root, "protected_paths", "protected");
  t->protected_paths_declared = pp != NULL && !cJSON_IsNull(pp);
  if (record_list(c, get(root, "ground_truth_files"), "ground_truth_files", false,
                  &t->ground_truth_files) < 0 ||
      record_list(c, pp, "protected_paths", false, &t->protected_paths) < 0 ||
      record_list(c, get_either(root, "refusal_docs", "refusal_documents"), "refusal_documents",
                  false, &t->refusal_documents) < 0 ||
      record_list(c, get(root, "refusal_markers"), "refusal_markers", false,
                  &t->refusal_markers) < 0)
    return -1;
  /* The defaults: as a definition's, except that an empty list is no
   * declaration either (the scorers have always read it so). */
  if ((!t->protected_paths_declared &&
       cab_strv_push(&t->protected_paths, CAB_TASK_PROTECTED_DEFAULT) < 0) ||
      (t->refusal_documents.n == 0 && push_all(&t->refusal_documents, REFUSAL_DOCUMENTS) < 0) ||
      (t->refusal_markers.n == 0 && cab_strv_push(&t->refusal_markers, MARKERS[0]) < 0))
    return oom(c);

  const cJSON *cons = get(root, "constraints");
  if (cons == NULL || cJSON_IsNull(cons))
    return 0;
  return constraint_list(c, cons, record_constraint, t);
}

/* ---- both ------------------------------------------------------------------ */

typedef int fields_fn(struct vctx *c, const cJSON *root, const char *expect_id,
                      struct cab_task *t);

/* Fill a new task from ROOT (owned: kept as t->json). */
static int
from_root(struct vctx *c, cJSON *root, const char *expect_id, fields_fn *fields,
          struct cab_task **out)
{
  struct cab_task *t = calloc(1, sizeof *t);
  if (t == NULL) {
    cJSON_Delete(root);
    return oom(c);
  }
  t->json = root;
  if (fields(c, root, expect_id, t) < 0) {
    cab_task_free(t);
    return -1;
  }
  *out = t;
  return 0;
}

int
cab_task_parse(const char *text, size_t len, const char *origin, const char *expect_id,
               struct cab_task **out, cab_error *err)
{
  struct vctx c = {origin ? origin : "task.json", err};
  *out = NULL;
  if (len > CAB_TASK_JSON_MAX)
    return verr(&c, NULL, "larger than %d bytes", CAB_TASK_JSON_MAX);
  if (memchr(text, '\0', len))
    return verr(&c, NULL, "contains a NUL byte");
  const char *end = NULL;
  cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
  if (root == NULL) {
    const char *at = cJSON_GetErrorPtr();
    size_t off = (at && at >= text && at <= text + len) ? (size_t)(at - text) : len;
    int line, col;
    line_col(text, off, &line, &col);
    return verr(&c, NULL, "not valid JSON (line %d, column %d)", line, col);
  }
  for (const char *p = end; p && p < text + len; p++) {
    if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
      cJSON_Delete(root);
      int line, col;
      line_col(text, (size_t)(p - text), &line, &col);
      return verr(&c, NULL, "trailing data after the JSON object (line %d, column %d)", line, col);
    }
  }
  if (!cJSON_IsObject(root)) {
    cJSON_Delete(root);
    return verr(&c, NULL, "must be a JSON object");
  }
  return from_root(&c, root, expect_id, parse_fields, out);
}

int
cab_task_from_record(const cJSON *task, const char *origin, struct cab_task **out,
                     cab_error *err)
{
  struct vctx c = {origin ? origin : "task", err};
  *out = NULL;
  if (!cJSON_IsObject(task))
    return verr(&c, NULL, "not a JSON object");
  cJSON *root = cJSON_Duplicate(task, true);
  if (root == NULL)
    return oom(&c);
  return from_root(&c, root, NULL, record_fields, out);
}

