/* An adapter's templates filled for one run (adapter.h): the argv, the
 * environment and the config files, exactly as a cell uses them, and as
 * `cab adapters render` prints them. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "runner/adapters/adapter.h"

static int
push(char ***list, size_t *n, char *s)
{
  char **l = realloc(*list, (*n + 2) * sizeof *l);
  if (l == NULL) {
    free(s);
    return -1;
  }
  l[(*n)++] = s;
  l[*n] = NULL;
  *list = l;
  return 0;
}

/* Fill the placeholders in every string of J (keys too), in place. */
static int
expand_json(cJSON *j, const struct cab_template_vars *v, const char *where, cab_error *err)
{
  if (j->string && strchr(j->string, '{')) {
    char *k = NULL;
    if (cab_template_expand(j->string, v, where, &k, err) < 0)
      return -1;
    if (!(j->type & cJSON_StringIsConst))
      cJSON_free(j->string);
    j->string = k;
    j->type &= ~cJSON_StringIsConst;
  }
  if (cJSON_IsString(j) && strchr(j->valuestring, '{')) {
    char *s = NULL;
    if (cab_template_expand(j->valuestring, v, where, &s, err) < 0)
      return -1;
    char *set = cJSON_SetValuestring(j, s);
    free(s);
    if (set == NULL)
      return cab_error_set(err, ENOMEM, "%s", where);
  }
  for (cJSON *c = j->child; c; c = c->next)
    if (expand_json(c, v, where, err) < 0)
      return -1;
  return 0;
}

static int
render_content(const struct cab_adapter_file *f, const struct cab_template_vars *v,
               const char *where, char **out, cab_error *err)
{
  if (!f->json)
    return cab_template_expand(f->content, v, where, out, err);
  cJSON *j = cJSON_Parse(f->content);
  if (j == NULL)
    return cab_error_set(err, 0, "%s: the json value does not parse", where);
  int r = expand_json(j, v, where, err);
  char *text = r < 0 ? NULL : cJSON_Print(j);
  cJSON_Delete(j);
  if (r < 0)
    return -1;
  if (text == NULL)
    return cab_error_set(err, ENOMEM, "%s", where);
  /* A config file ends with a newline, as editors write them. */
  size_t n = strlen(text);
  char *t = realloc(text, n + 2);
  if (t == NULL) {
    free(text);
    return cab_error_set(err, ENOMEM, "%s", where);
  }
  t[n] = '\n';
  t[n + 1] = '\0';
  *out = t;
  return 0;
}

int
cab_adapter_render(const struct cab_adapter *a, const struct cab_template_vars *v,
                   struct cab_adapter_rendered *out, cab_error *err)
{
  memset(out, 0, sizeof *out);
  const char *where = a->source_path ? a->source_path : a->tui;
  for (size_t i = 0; i < a->n_argv; i++) {
    char *s = NULL;
    if (cab_template_expand(a->argv[i], v, where, &s, err) < 0 || push(&out->argv, &out->n_argv, s) < 0)
      goto fail;
  }
  if (v->max_turns > 0)
    for (size_t i = 0; i < a->n_max_turns_args; i++) {
      char *s = NULL;
      if (cab_template_expand(a->max_turns_args[i], v, where, &s, err) < 0 ||
          push(&out->argv, &out->n_argv, s) < 0)
        goto fail;
    }
  for (size_t i = 0; i < a->n_env; i++) {
    char *s = NULL;
    if (cab_template_expand(a->env[i], v, where, &s, err) < 0 || push(&out->env, &out->n_env, s) < 0)
      goto fail;
  }
  if (a->n_files) {
    out->files = calloc(a->n_files, sizeof *out->files);
    if (out->files == NULL) {
      cab_error_sys(err, "allocate");
      goto fail;
    }
  }
  size_t hl = strlen(a->home);
  for (size_t i = 0; i < a->n_files; i++) {
    struct cab_adapter_file *f = &out->files[out->n_files++];
    f->mode = a->files[i].mode;
    if (cab_template_expand(a->files[i].path, v, where, &f->path, err) < 0 ||
        render_content(&a->files[i], v, where, &f->content, err) < 0)
      goto fail;
    /* Config lives in the agent's home, never in the workdir (where it
     * would count as the agent's change). */
    if (strncmp(f->path, a->home, hl) != 0 || f->path[hl] != '/' || strstr(f->path, "/../") ||
        strstr(f->path, "/./")) {
      cab_error_set(err, 0, "adapter %s: files[%zu].path %s: config files must live under the "
                            "agent's home %s", where, i, f->path, a->home);
      goto fail;
    }
  }
  return 0;
fail:
  cab_adapter_rendered_free(out);
  return -1;
}

void
cab_adapter_rendered_free(struct cab_adapter_rendered *r)
{
  for (size_t i = 0; i < r->n_argv; i++)
    free(r->argv[i]);
  free(r->argv);
  for (size_t i = 0; i < r->n_env; i++)
    free(r->env[i]);
  free(r->env);
  for (size_t i = 0; i < r->n_files; i++) {
    free(r->files[i].path);
    free(r->files[i].content);
  }
  free(r->files);
  memset(r, 0, sizeof *r);
}

cJSON *
cab_adapter_rendered_json(const struct cab_adapter *a, const struct cab_adapter_rendered *r)
{
  cJSON *j = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "tui", a->tui);
  cJSON_AddStringToObject(j, "wire", a->wire);
  cJSON_AddStringToObject(j, "workdir", a->workdir);
  cJSON_AddStringToObject(j, "home", a->home);
  cJSON_AddItemToObject(j, "argv",
                        cJSON_CreateStringArray((const char *const *)r->argv, (int)r->n_argv));
  cJSON *env = cJSON_AddObjectToObject(j, "env");
  for (size_t i = 0; i < r->n_env; i++) {
    const char *eq = strchr(r->env[i], '=');
    if (eq == NULL)
      continue;
    cleanup_free char *key = strndup(r->env[i], (size_t)(eq - r->env[i]));
    if (key)
      cJSON_AddStringToObject(env, key, eq + 1);
  }
  cJSON *files = cJSON_AddArrayToObject(j, "files");
  for (size_t i = 0; i < r->n_files; i++) {
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "path", r->files[i].path);
    char mode[8];
    snprintf(mode, sizeof mode, "%04o", r->files[i].mode);
    cJSON_AddStringToObject(f, "mode", mode);
    cJSON_AddStringToObject(f, "content", r->files[i].content);
    cJSON_AddItemToArray(files, f);
  }
  return j;
}
