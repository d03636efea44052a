/* Tasks: load and validate task.json, list tasks, and the tree operations the
 * runner needs (copy the workdir, overlay solution/ or hidden/, restore
 * protected paths).  See runner/task/task.h. */
#include "runner/task/task.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/dir_iter.h"
#include "common/copy_tree.h"
#include "common/fsutil.h"
#include "common/glob.h"
#include "common/rm_tree.h"
#include "runner/task/limits.h"

static const char *const FAMILIES[] = {"polyglot", "mutations", "integrity", NULL};
static const char *const LANGUAGES[] = {"python", "rust", "go", "java", "javascript", "typescript",
                                        "c", "sh", NULL};
static const char *const MARKERS[] = {"explicit_refusal", "counter_example", "clarifying_question",
                                      NULL};
static const char *const KIND_NAMES[] = {"file-not-touched", "no-new-dependency",
                                         "no-comments-added", "file-pattern-required-in-diff"};

const char *
cab_task_constraint_kind_name(enum cab_task_constraint_kind kind)
{
  if ((unsigned)kind < sizeof KIND_NAMES / sizeof KIND_NAMES[0])
    return KIND_NAMES[kind];
  return "?";
}

/* ---- small helpers --------------------------------------------------------- */

static bool
in_list(const char *s, const char *const *list)
{
  for (size_t i = 0; list[i]; i++)
    if (strcmp(s, list[i]) == 0)
      return true;
  return false;
}

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
  free(t->version);
  free(t->task_added_date);
  free(t->source);
  free(t->summary);
  free(t->scorer_kind);
  free(t->scorer_command);
  free(t->image);
  cab_strv_free(&t->ground_truth_files);
  cab_strv_free(&t->protected_paths);
  cab_strv_free(&t->refusal_documents);
  cab_strv_free(&t->refusal_markers);
  for (size_t i = 0; i < t->n_constraints; i++) {
    free(t->constraints[i].path);
    cab_strv_free(&t->constraints[i].paths);
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
    if (!in_list(a->string, allowed))
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
    if (allowed && !in_list(e->valuestring, allowed))
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
  size_t k;
  for (k = 0; k < sizeof KIND_NAMES / sizeof KIND_NAMES[0]; k++)
    if (strcmp(kind, KIND_NAMES[k]) == 0)
      break;
  if (k == sizeof KIND_NAMES / sizeof KIND_NAMES[0])
    return verr(c, field, "unknown constraint kind '%s' (known: file-not-touched, "
                          "no-new-dependency, no-comments-added, file-pattern-required-in-diff)",
                kind);
  out->kind = (enum cab_task_constraint_kind)k;
  char kp[80];
  snprintf(kp, sizeof kp, "%s.", prefix);
  switch (out->kind) {
  case CAB_TC_FILE_NOT_TOUCHED: {
    static const char *const keys[] = {"kind", "path", NULL};
    if (check_keys(c, j, kp, keys) < 0)
      return -1;
    snprintf(field, sizeof field, "%s.path", prefix);
    if (get_str(c, j, "path", field, false, &out->path) < 0)
      return -1;
    const char *why = bad_relpath(out->path);
    if (why)
      return verr(c, field, "%s", why);
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
  }
  return 0;
}

static int
parse_scorer(struct vctx *c, const cJSON *j, struct cab_task *t)
{
  static const char *const keys[] = {"kind", "command", "timeout_s", NULL};
  if (j == NULL)
    return verr(c, "scorer", "missing");
  if (!cJSON_IsObject(j))
    return verr(c, "scorer", "must be an object");
  if (check_keys(c, j, "scorer.", keys) < 0 ||
      get_str(c, j, "kind", "scorer.kind", false, &t->scorer_kind) < 0)
    return -1;
  if (strcmp(t->scorer_kind, "exec") != 0)
    return verr(c, "scorer.kind", "must be \"exec\"");
  if (get_str(c, j, "command", "scorer.command", false, &t->scorer_command) < 0 ||
      get_int(c, j, "timeout_s", "scorer.timeout_s", 1, 86400, "a positive integer",
              &t->scorer_timeout_s) < 0)
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
      "workdir_budget", NULL,
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
  if (!in_list(t->family, FAMILIES))
    return verr(c, "family", "must be one of %s", join_list(FAMILIES));
  if (strncmp(t->task_id, t->family, (size_t)(slash - t->task_id)) != 0 ||
      strlen(t->family) != (size_t)(slash - t->task_id))
    return verr(c, "family", "is '%s' but task_id is in '%.*s'", t->family,
                (int)(slash - t->task_id), t->task_id);

  if (get_str(c, root, "language", "language", false, &t->language) < 0)
    return -1;
  if (!in_list(t->language, LANGUAGES))
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
  if (!cJSON_IsArray(cons))
    return verr(c, "constraints", "must be a list of objects");
  size_t n = (size_t)cJSON_GetArraySize(cons);
  if ((t->constraints = calloc(n ? n : 1, sizeof *t->constraints)) == NULL)
    return oom(c);
  const cJSON *e;
  cJSON_ArrayForEach(e, cons) {
    t->n_constraints++; /* counted first, so that a partial one is freed */
    if (parse_constraint(c, e, t->n_constraints - 1, &t->constraints[t->n_constraints - 1]) < 0)
      return -1;
  }

  if (get_str(c, root, "image", "image", true, &t->image) < 0)
    return -1;

  if (parse_budget(c, get(root, "workdir_budget"), t) < 0)
    return -1;

  const cJSON *pp = get(root, "protected_paths");
  if (pp) {
    if (get_strv(c, pp, "protected_paths", LIST_PATHS, NULL, &t->protected_paths) < 0)
      return -1;
  } else if (cab_strv_push(&t->protected_paths, "tests/**") < 0) {
    return oom(c);
  }
  const cJSON *rd = get(root, "refusal_documents");
  if (rd) {
    if (get_strv(c, rd, "refusal_documents", LIST_PATHS | LIST_NONEMPTY, NULL,
                 &t->refusal_documents) < 0)
      return -1;
  } else if (cab_strv_push(&t->refusal_documents, "REFUSAL.md") < 0 ||
             cab_strv_push(&t->refusal_documents, "CLARIFY.md") < 0 ||
             cab_strv_push(&t->refusal_documents, "NOTES.md") < 0) {
    return oom(c);
  }
  const cJSON *rm = get(root, "refusal_markers");
  if (rm) {
    if (get_strv(c, rm, "refusal_markers", LIST_NONEMPTY, MARKERS, &t->refusal_markers) < 0)
      return -1;
    if (!t->expected_refusal)
      return verr(c, "refusal_markers", "only applies when expected_refusal is true");
  } else if (cab_strv_push(&t->refusal_markers, "explicit_refusal") < 0) {
    return oom(c);
  }

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
  struct cab_task *t = calloc(1, sizeof *t);
  if (t == NULL) {
    cJSON_Delete(root);
    return oom(&c);
  }
  t->json = root;
  if (parse_fields(&c, root, expect_id, t) < 0) {
    cab_task_free(t);
    return -1;
  }
  *out = t;
  return 0;
}

/* ---- the tree -------------------------------------------------------------- */

static int
read_small(const char *path, char **out, size_t *len, cab_error *err)
{
  return cab_read_file_at(AT_FDCWD, path, CAB_TASK_JSON_MAX + 1, out, len, err);
}

static bool
has_heading(const char *text, const char *heading)
{
  size_t n = strlen(heading);
  for (const char *p = text; p; p = strchr(p, '\n')) {
    if (*p == '\n')
      p++;
    if (strncmp(p, heading, n) == 0 && (p[n] == '\n' || p[n] == '\r' || p[n] == '\0' ||
                                        p[n] == ' '))
      return true;
  }
  return false;
}

static bool
dir_nonempty(const char *path)
{
  cleanup_dir DIR *d = opendir(path);
  if (d == NULL)
    return false;
  struct dirent *de;
  while ((de = readdir(d)))
    if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
      return true;
  return false;
}

static bool
is_dir_nofollow(const char *path)
{
  struct stat st;
  return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int
cab_task_check_tree(const struct cab_task *t, cab_error *err)
{
  char path[PATH_MAX];
  if (t->dir == NULL)
    return cab_error_set(err, EINVAL, "%s: task has no directory", t->task_id);
  snprintf(path, sizeof path, "%s/workdir", t->dir);
  if (!is_dir_nofollow(path))
    return cab_error_set(err, ENOENT, "%s: missing directory (what the agent sees)", path);
  snprintf(path, sizeof path, "%s/workdir/README.md", t->dir);
  cleanup_free char *readme = NULL;
  cab_error e2 = {0};
  if (read_small(path, &readme, NULL, &e2) < 0)
    return cab_error_set(err, e2.errnum, "%s: missing (the prompt)", path);
  if (!has_heading(readme, "## Verify"))
    return cab_error_set(err, 0, "%s: no '## Verify' section", path);
  if (t->expected_refusal && !has_heading(readme, "## What the scorer rewards"))
    return cab_error_set(err, 0,
                         "%s: no '## What the scorer rewards' section (expected_refusal task)",
                         path);
  snprintf(path, sizeof path, "%s/workdir/AGENTS.md", t->dir);
  if (access(path, R_OK) != 0)
    return cab_error_set(err, errno, "%s: missing (the L15 constraints)", path);
  snprintf(path, sizeof path, "%s/solution", t->dir);
  if (!is_dir_nofollow(path) || !dir_nonempty(path))
    return cab_error_set(err, ENOENT, "%s: missing or empty (the reference solution)", path);
  snprintf(path, sizeof path, "%s/hidden", t->dir);
  struct stat st;
  if (lstat(path, &st) == 0 && !S_ISDIR(st.st_mode))
    return cab_error_set(err, ENOTDIR, "%s: not a directory", path);
  return 0;
}

/* The last two components of DIR ("a/b/polyglot/x/" -> "polyglot/x"). */
static int
id_of_dir(const char *dir, char *out, size_t size)
{
  char buf[PATH_MAX];
  if (snprintf(buf, sizeof buf, "%s", dir) >= (int)sizeof buf)
    return -1;
  size_t n = strlen(buf);
  while (n > 1 && buf[n - 1] == '/')
    buf[--n] = '\0';
  char *name = strrchr(buf, '/');
  if (name == NULL)
    return -1;
  *name++ = '\0';
  char *family = strrchr(buf, '/');
  family = family ? family + 1 : buf;
  if (snprintf(out, size, "%s/%s", family, name) >= (int)size)
    return -1;
  return 0;
}

int
cab_task_load(const char *task_dir, struct cab_task **out, cab_error *err)
{
  char path[PATH_MAX], id[PATH_MAX];
  *out = NULL;
  if (snprintf(path, sizeof path, "%s/task.json", task_dir) >= (int)sizeof path)
    return cab_error_set(err, ENAMETOOLONG, "%s: path too long", task_dir);
  cleanup_free char *text = NULL;
  size_t len = 0;
  cab_error e2 = {0};
  if (read_small(path, &text, &len, &e2) < 0)
    return cab_error_set(err, e2.errnum, "%s: cannot read the task definition", path);
  bool have_id = id_of_dir(task_dir, id, sizeof id) == 0;
  struct cab_task *t;
  if (cab_task_parse(text, len, path, have_id ? id : NULL, &t, err) < 0)
    return -1;
  if ((t->dir = strdup(task_dir)) == NULL) {
    cab_task_free(t);
    return cab_error_set(err, ENOMEM, "%s: out of memory", path);
  }
  if (cab_task_check_tree(t, err) < 0) {
    cab_task_free(t);
    return -1;
  }
  *out = t;
  return 0;
}

int
cab_task_find(const char *tasks_root, const char *id, struct cab_task **out, cab_error *err)
{
  char dir[PATH_MAX];
  *out = NULL;
  if (cab_task_check_id(id, err) < 0)
    return -1;
  if (snprintf(dir, sizeof dir, "%s/%s", tasks_root, id) >= (int)sizeof dir)
    return cab_error_set(err, ENAMETOOLONG, "task %s: path too long", id);
  if (!is_dir_nofollow(dir))
    return cab_error_set(err, ENOENT, "task %s: not found under %s (try 'cab tasks list')", id,
                         tasks_root);
  return cab_task_load(dir, out, err);
}

int
cab_task_list(const char *tasks_root, struct cab_strv *ids, cab_error *err)
{
  memset(ids, 0, sizeof *ids);
  cleanup_dir DIR *root = opendir(tasks_root);
  if (root == NULL)
    return cab_error_sys(err, "%s: cannot open the tasks directory", tasks_root);
  struct dirent *fam;
  while ((fam = readdir(root))) {
    if (fam->d_name[0] == '.')
      continue;
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s", tasks_root, fam->d_name) >= (int)sizeof path ||
        !is_dir_nofollow(path))
      continue;
    cleanup_dir DIR *d = opendir(path);
    if (d == NULL)
      continue;
    struct dirent *de;
    while ((de = readdir(d))) {
      if (de->d_name[0] == '.')
        continue;
      char tj[PATH_MAX], id[2 * NAME_MAX + 2];
      if (snprintf(tj, sizeof tj, "%s/%s/task.json", path, de->d_name) >= (int)sizeof tj)
        continue;
      struct stat st;
      if (lstat(tj, &st) != 0 || !S_ISREG(st.st_mode))
        continue;
      snprintf(id, sizeof id, "%s/%s", fam->d_name, de->d_name);
      if (cab_strv_push(ids, id) < 0) {
        cab_strv_free(ids);
        return cab_error_set(err, ENOMEM, "%s: out of memory", tasks_root);
      }
    }
  }
  cab_strv_sort(ids);
  return 0;
}

/* ---- tree copies (common/copy_tree.c) ----------------------------------------- */

/* Agent-controlled trees are copied too: a shallow nesting limit keeps the
 * fds a copy holds (three per level) well under RLIMIT_NOFILE. */
#define TASK_COPY_DEPTH 64
static const struct cab_copy_opts overlay = {.max_depth = TASK_COPY_DEPTH};
static const struct cab_copy_opts into_empty = {.flags = CAB_COPY_INTO_EMPTY,
                                                .max_depth = TASK_COPY_DEPTH};

static int
task_subdir(const struct cab_task *t, const char *sub, char *out, size_t size, cab_error *err)
{
  if (t->dir == NULL)
    return cab_error_set(err, EINVAL, "%s: task has no directory", t->task_id);
  if (snprintf(out, size, "%s/%s", t->dir, sub) >= (int)size)
    return cab_error_set(err, ENAMETOOLONG, "%s/%s: path too long", t->dir, sub);
  return 0;
}

int
cab_task_copy_workdir(const struct cab_task *t, const char *dest, cab_error *err)
{
  char src[PATH_MAX];
  if (task_subdir(t, "workdir", src, sizeof src, err) < 0)
    return -1;
  return cab_copy_tree(src, dest, &into_empty, err);
}

int
cab_task_apply_solution(const struct cab_task *t, const char *dest, cab_error *err)
{
  char src[PATH_MAX];
  if (task_subdir(t, "solution", src, sizeof src, err) < 0)
    return -1;
  return cab_copy_tree(src, dest, &overlay, err);
}

int
cab_task_hidden_path(const struct cab_task *t, int layer, char *out, size_t size, cab_error *err)
{
  if (layer == CAB_TASK_HIDDEN_OWN)
    return task_subdir(t, "hidden", out, size, err);
  /* The family's directory is the task's parent (tasks/<family>/<name>),
   * taken from the path as written, not through a symlinked task's "..". */
  if (task_subdir(t, "", out, size, err) < 0)
    return -1;
  size_t n = strlen(out);
  while (n > 1 && out[n - 1] == '/')
    out[--n] = '\0';
  char *name = strrchr(out, '/');
  if (name == NULL) /* a task in the current directory: its family is "." */
    return snprintf(out, size, "hidden") < 0 ? -1 : 0;
  if (snprintf(name, size - (size_t)(name - out), "/hidden") >= (int)(size - (size_t)(name - out)))
    return cab_error_set(err, ENAMETOOLONG, "%s/../hidden: path too long", t->dir);
  return 0;
}

int
cab_task_apply_hidden(const struct cab_task *t, const char *dest, cab_error *err)
{
  for (int layer = 0; layer < CAB_TASK_HIDDEN_LAYERS; layer++) {
    char src[PATH_MAX];
    if (cab_task_hidden_path(t, layer, src, sizeof src, err) < 0)
      return -1;
    if (is_dir_nofollow(src) && cab_copy_tree(src, dest, &overlay, err) < 0)
      return -1;
  }
  return 0;
}

static bool
protected_filter(const char *rel, void *arg)
{
  const struct cab_strv *protected_paths = arg;
  return cab_glob_any(protected_paths->v, protected_paths->n, rel);
}

/* Remove, below DFD, every file or symlink matching PROTECTED that the
 * pristine tree (PFD, or -1 when the directory is absent there) lacks. */
static int
prune_added(int dfd, int pfd, const char *rel, const struct cab_strv *prot, int depth,
            cab_error *err)
{
  if (depth > 64)
    return cab_error_set(err, ELOOP, "%s: directories nested too deeply", rel);
  cleanup_dir DIR *d = NULL;
  if (cab_dir_open_fd(dfd, rel, &d, err) < 0)
    return -1;
  struct dirent *de;
  char sub[PATH_MAX];
  int more;
  while ((more = cab_dir_next(d, rel, &de, sub, sizeof sub, err)) > 0) {
    struct stat st, pst;
    if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
      continue;
    bool in_pristine = pfd >= 0 && fstatat(pfd, de->d_name, &pst, AT_SYMLINK_NOFOLLOW) == 0;
    if (S_ISDIR(st.st_mode)) {
      cleanup_close int d2 =
          openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (d2 < 0)
        return cab_error_sys(err, "open %s", sub);
      cleanup_close int p2 = -1;
      if (in_pristine && S_ISDIR(pst.st_mode))
        p2 = openat(pfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (prune_added(d2, p2, sub, prot, depth + 1, err) < 0)
        return -1;
    } else if (cab_glob_any(prot->v, prot->n, sub) && (!in_pristine || S_ISDIR(pst.st_mode))) {
      if (cab_rm_tree_at(dfd, de->d_name, 0, err) < 0)
        return cab_error_prefix(err, "%s", sub);
    }
  }
  return more;
}

int
cab_task_restore_protected(const struct cab_task *t, const char *dest, cab_error *err)
{
  char src[PATH_MAX];
  if (t->protected_paths.n == 0)
    return 0;
  if (task_subdir(t, "workdir", src, sizeof src, err) < 0)
    return -1;
  cleanup_close int dfd = open(dest, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0)
    return cab_error_sys(err, "%s: cannot open", dest);
  cleanup_close int pfd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (pfd < 0)
    return cab_error_sys(err, "%s: cannot open", src);
  if (prune_added(dfd, pfd, "", &t->protected_paths, 0, err) < 0)
    return cab_error_prefix(err, "restore protected paths in %s", dest);
  struct cab_copy_opts o = {.max_depth = TASK_COPY_DEPTH, .filter = protected_filter,
                            .arg = (void *)&t->protected_paths};
  return cab_copy_tree(src, dest, &o, err);
}

int
cab_task_prepare_verify(const struct cab_task *t, const char *post_agent, const char *dest,
                        cab_error *err)
{
  if (cab_copy_tree(post_agent, dest, &into_empty, err) < 0 ||
      cab_task_restore_protected(t, dest, err) < 0 || cab_task_apply_hidden(t, dest, err) < 0)
    return -1;
  return 0;
}
