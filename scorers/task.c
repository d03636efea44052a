/* The task fields the scorers use, from a task definition (task.json, also
 * recorded verbatim as cell.json's "task"). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scorers/scorers.h"
#include "scorers/util.h"

/* A list field: an array of strings, or one string (comma-separated allowed
 * for constraint params, as the task pages print "REFUSAL.md, NOTES.md"). */
static int
str_list(const cJSON *j, const char *field, bool split_commas, struct cab_strv *out,
         cab_error *err)
{
  if (j == NULL || cJSON_IsNull(j))
    return 0;
  if (cJSON_IsString(j)) {
    const char *s = j->valuestring;
    if (!split_commas) {
      cab_strv_xpush(out, s);
      return 0;
    }
    while (*s) {
      size_t n = strcspn(s, ",");
      const char *a = s, *b = s + n;
      while (a < b && isspace((unsigned char)*a))
        a++;
      while (b > a && isspace((unsigned char)b[-1]))
        b--;
      if (b > a)
        cab_strv_xpush_n(out, a, (size_t)(b - a));
      s += n;
      if (*s == ',')
        s++;
    }
    return 0;
  }
  if (!cJSON_IsArray(j))
    return cab_error_set(err, 0, "task: '%s' must be a list of strings", field);
  const cJSON *e;
  cJSON_ArrayForEach(e, j) {
    if (!cJSON_IsString(e))
      return cab_error_set(err, 0, "task: '%s' must be a list of strings", field);
    cab_strv_xpush(out, e->valuestring);
  }
  return 0;
}

static const cJSON *
field(const cJSON *o, const char *a, const char *b)
{
  const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, a);
  if (j == NULL && b)
    j = cJSON_GetObjectItemCaseSensitive(o, b);
  return j;
}

static int
parse_constraint(const cJSON *c, size_t idx, struct cab_constraint *out, cab_error *err)
{
  memset(out, 0, sizeof *out);
  if (!cJSON_IsObject(c))
    return cab_error_set(err, 0, "task: constraints[%zu] must be an object", idx);
  const char *kind = cab_jget_str(c, "kind");
  if (kind == NULL || *kind == '\0')
    return cab_error_set(err, 0, "task: constraints[%zu] needs a string 'kind'", idx);
  out->kind = cab_xstrdup(kind);
  /* Params either inline ({kind, path}) or nested ({kind, params: {path}}). */
  const cJSON *params = cJSON_GetObjectItemCaseSensitive(c, "params");
  const cJSON *src = cJSON_IsObject(params) ? params : c;
  out->params = cJSON_CreateObject();
  const cJSON *p;
  cJSON_ArrayForEach(p, src) {
    if (strcmp(p->string, "kind") == 0 || (src == c && strcmp(p->string, "params") == 0))
      continue;
    cJSON_AddItemToObject(out->params, p->string, cJSON_Duplicate(p, true));
  }
  char fname[64];
  snprintf(fname, sizeof fname, "constraints[%zu].paths", idx);
  if (str_list(field(src, "path", NULL), fname, true, &out->paths, err) < 0 ||
      str_list(field(src, "paths", NULL), fname, true, &out->paths, err) < 0)
    return -1;
  const cJSON *max = cJSON_GetObjectItemCaseSensitive(src, "max_added");
  if (max && !cJSON_IsNumber(max))
    return cab_error_set(err, 0, "task: constraints[%zu].max_added must be a number", idx);
  out->max_added = max ? (long)max->valuedouble : 0;
  const cJSON *req = cJSON_GetObjectItemCaseSensitive(src, "require_added");
  if (req && !cJSON_IsBool(req))
    return cab_error_set(err, 0, "task: constraints[%zu].require_added must be a boolean", idx);
  out->require_added = req ? cJSON_IsTrue(req) : false;
  return 0;
}

int
cab_task_info_from_json(const cJSON *task, struct cab_task_info *out, cab_error *err)
{
  memset(out, 0, sizeof *out);
  if (!cJSON_IsObject(task))
    return cab_error_set(err, 0, "task: not a JSON object");
  const char *id = cab_jget_str(task, "task_id");
  if (id == NULL) {
    cab_error_set(err, 0, "task: 'task_id' must be a string");
    goto fail;
  }
  out->task_id = cab_xstrdup(id);
  const cJSON *er = cJSON_GetObjectItemCaseSensitive(task, "expected_refusal");
  if (er && !cJSON_IsBool(er)) {
    cab_error_set(err, 0, "task: 'expected_refusal' must be a boolean");
    goto fail;
  }
  out->expected_refusal = er && cJSON_IsTrue(er);
  if (str_list(field(task, "ground_truth_files", NULL), "ground_truth_files", false,
               &out->ground_truth_files, err) < 0 ||
      str_list(field(task, "protected_paths", "protected"), "protected_paths", false,
               &out->protected_paths, err) < 0 ||
      str_list(field(task, "refusal_docs", "refusal_documents"), "refusal_docs", false,
               &out->refusal_docs, err) < 0 ||
      str_list(field(task, "refusal_markers", NULL), "refusal_markers", false,
               &out->refusal_markers, err) < 0)
    goto fail;

  const cJSON *cons = cJSON_GetObjectItemCaseSensitive(task, "constraints");
  if (cons && !cJSON_IsNull(cons)) {
    if (!cJSON_IsArray(cons)) {
      cab_error_set(err, 0, "task: 'constraints' must be a list");
      goto fail;
    }
    size_t n = (size_t)cJSON_GetArraySize(cons);
    out->constraints = calloc(n ? n : 1, sizeof *out->constraints);
    if (out->constraints == NULL)
      abort();
    const cJSON *c;
    cJSON_ArrayForEach(c, cons) {
      if (parse_constraint(c, out->n_constraints, &out->constraints[out->n_constraints], err) < 0) {
        out->n_constraints++; /* free the partial one too */
        goto fail;
      }
      out->n_constraints++;
    }
  }

  /* Protected paths: the explicit list plus every file-not-touched glob. */
  for (size_t i = 0; i < out->n_constraints; i++) {
    if (strcmp(out->constraints[i].kind, "file-not-touched") != 0)
      continue;
    for (size_t k = 0; k < out->constraints[i].paths.n; k++)
      if (!cab_strv_contains(&out->protected_paths, out->constraints[i].paths.v[k]))
        cab_strv_xpush(&out->protected_paths, out->constraints[i].paths.v[k]);
  }
  if (out->protected_paths.n == 0)
    cab_strv_xpush(&out->protected_paths, "tests/*");
  if (out->refusal_docs.n == 0) {
    cab_strv_xpush(&out->refusal_docs, "REFUSAL.md");
    cab_strv_xpush(&out->refusal_docs, "CLARIFY.md");
    cab_strv_xpush(&out->refusal_docs, "NOTES.md");
  }
  if (out->refusal_markers.n == 0)
    cab_strv_xpush(&out->refusal_markers, "explicit_refusal");
  return 0;

fail:
  cab_task_info_free(out);
  return -1;
}

void
cab_task_info_free(struct cab_task_info *t)
{
  free(t->task_id);
  cab_strv_free(&t->ground_truth_files);
  cab_strv_free(&t->protected_paths);
  cab_strv_free(&t->refusal_docs);
  cab_strv_free(&t->refusal_markers);
  for (size_t i = 0; i < t->n_constraints; i++) {
    free(t->constraints[i].kind);
    cab_strv_free(&t->constraints[i].paths);
    cJSON_Delete(t->constraints[i].params);
  }
  free(t->constraints);
  memset(t, 0, sizeof *t);
}
