#include "runner/adapters/adapter.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/strfmt.h"
#include "common/cleanup.h"
#include "common/datadir.h"
#include "common/fsutil.h"
#include "runner/adapters/adapter_internal.h"
#include "runner/proxy/wire.h"

#define MAX_ADAPTER_BYTES (256 * 1024)

static bool
valid_name(const char *tui)
{
  if (tui == NULL || *tui == '\0' || strlen(tui) > 64)
    return false;
  for (const char *p = tui; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
      return false;
  return true;
}

static char *
opt_string(const cJSON *o, const char *key)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsString(v) ? strdup(v->valuestring) : NULL;
}

int
cab_adapter_string_array(const cJSON *o, const char *key, char ***out, size_t *n, const char *path,
             cab_error *err)
{
  *out = NULL;
  *n = 0;
  const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, key);
  if (arr == NULL || cJSON_IsNull(arr))
    return 0;
  if (!cJSON_IsArray(arr))
    return cab_error_set(err, 0, "adapter %s: %s: must be an array of strings", path, key);
  size_t count = (size_t)cJSON_GetArraySize(arr);
  char **list = calloc(count + 1, sizeof *list);
  if (list == NULL)
    return cab_error_sys(err, "allocate");
  size_t i = 0;
  const cJSON *it;
  cJSON_ArrayForEach(it, arr) {
    if (!cJSON_IsString(it)) {
      for (size_t j = 0; j < i; j++)
        free(list[j]);
      free(list);
      return cab_error_set(err, 0, "adapter %s: %s[%zu]: must be a string", path, key, i);
    }
    list[i++] = strdup(it->valuestring);
  }
  *out = list;
  *n = count;
  return 0;
}

static int
parse_env(const cJSON *o, struct cab_adapter *a, const char *path, cab_error *err)
{
  const cJSON *env = cJSON_GetObjectItemCaseSensitive(o, "env");
  if (env == NULL)
    return 0;
  if (!cJSON_IsObject(env))
    return cab_error_set(err, 0, "adapter %s: env: must be an object of strings", path);
  size_t count = (size_t)cJSON_GetArraySize(env);
  a->env = calloc(count + 1, sizeof *a->env);
  if (a->env == NULL)
    return cab_error_sys(err, "allocate");
  const cJSON *it;
  cJSON_ArrayForEach(it, env) {
    if (!cJSON_IsString(it))
      return cab_error_set(err, 0, "adapter %s: env.%s: must be a string", path, it->string);
    if (asprintf(&a->env[a->n_env], "%s=%s", it->string, it->valuestring) < 0)
      return cab_error_sys(err, "allocate");
    a->n_env++;
  }
  return 0;
}

static int
parse_files(const cJSON *o, struct cab_adapter *a, const char *path, cab_error *err)
{
  const cJSON *files = cJSON_GetObjectItemCaseSensitive(o, "files");
  if (files == NULL)
    return 0;
  if (!cJSON_IsArray(files))
    return cab_error_set(err, 0, "adapter %s: files: must be an array", path);
  size_t count = (size_t)cJSON_GetArraySize(files);
  a->files = calloc(count + 1, sizeof *a->files);
  if (a->files == NULL)
    return cab_error_sys(err, "allocate");
  const cJSON *f;
  size_t i = 0;
  cJSON_ArrayForEach(f, files) {
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(f, "path");
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(f, "content");
    const cJSON *json = cJSON_GetObjectItemCaseSensitive(f, "json");
    const cJSON *mode = cJSON_GetObjectItemCaseSensitive(f, "mode");
    if (!cJSON_IsString(p) || p->valuestring[0] == '\0')
      return cab_error_set(err, 0, "adapter %s: files[%zu].path: missing", path, i);
    struct cab_adapter_file *af = &a->files[a->n_files++];
    af->path = strdup(p->valuestring);
    af->mode = cJSON_IsString(mode) ? (unsigned)strtoul(mode->valuestring, NULL, 8) : 0644;
    if (cJSON_IsString(text))
      af->content = strdup(text->valuestring);
    else if (json) {
      /* Kept as JSON: placeholders are filled in its strings (keys too) at
       * render time, so that values are JSON-escaped (adapter_render.c). */
      af->content = cJSON_PrintUnformatted(json);
      af->json = true;
    }
    else
      return cab_error_set(err, 0, "adapter %s: files[%zu]: give \"content\" or \"json\"", path,
                           i);
    i++;
  }
  return 0;
}

int
cab_adapter_load_file(const char *path, struct cab_adapter **out, cab_error *err)
{
  cleanup_free char *text = NULL;
  if (cab_read_file_at(AT_FDCWD, path, MAX_ADAPTER_BYTES, &text, NULL, err) < 0)
    return -1;
  cJSON *o = cJSON_Parse(text);
  if (o == NULL)
    return cab_error_set(err, 0, "adapter %s: not valid JSON near '%.40s'", path,
                         cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() : "");
  struct cab_adapter *a = calloc(1, sizeof *a);
  int rc = -1;
  const cJSON *schema = cJSON_GetObjectItemCaseSensitive(o, "schema");
  if (a == NULL) {
    cab_error_sys(err, "allocate");
    goto done;
  }
  a->source_path = strdup(path);
  if (!cJSON_IsString(schema) || strcmp(schema->valuestring, "cab.adapter/v1") != 0) {
    cab_error_set(err, 0, "adapter %s: schema: expected \"cab.adapter/v1\"", path);
    goto done;
  }
  a->tui = opt_string(o, "tui");
  if (!valid_name(a->tui)) {
    cab_error_set(err, 0, "adapter %s: tui: missing or not a name of [a-z0-9_-]", path);
    goto done;
  }
  a->description = opt_string(o, "description");
  a->image = opt_string(o, "image");
  a->wire = opt_string(o, "wire");
  a->workdir = opt_string(o, "workdir");
  a->home = opt_string(o, "home");
  a->user = opt_string(o, "user");
  a->builtin = opt_string(o, "builtin");
  a->tokens_prompt_regex = opt_string(o, "tokens_prompt_regex");
  a->tokens_completion_regex = opt_string(o, "tokens_completion_regex");
  if (a->wire == NULL)
    a->wire = strdup("chat");
  if (a->workdir == NULL)
    a->workdir = strdup("/work");
  if (a->home == NULL)
    a->home = strdup("/home/agent");
  enum cab_wire wire;
  if (strcmp(a->wire, "none") != 0 && cab_wire_parse(a->wire, &wire, NULL) < 0) {
    char wires[128];
    cab_error_set(err, 0, "adapter %s: wire: \"%s\" is not %s", path, a->wire,
                  cab_wire_list(wires, sizeof wires, false, "none"));
    goto done;
  }
  if (a->workdir[0] != '/' || a->home[0] != '/') {
    cab_error_set(err, 0, "adapter %s: workdir and home must be absolute paths", path);
    goto done;
  }
  if (parse_env(o, a, path, err) < 0 || parse_files(o, a, path, err) < 0 ||
      cab_adapter_parse_mounts(o, a, path, err) < 0 ||
      cab_adapter_parse_sandbox(o, a, path, err) < 0 ||
      cab_adapter_string_array(o, "argv", &a->argv, &a->n_argv, path, err) < 0 ||
      cab_adapter_string_array(o, "max_turns_args", &a->max_turns_args, &a->n_max_turns_args, path, err) <
          0 ||
      cab_adapter_string_array(o, "state_paths", &a->state_paths, &a->n_state_paths, path, err) < 0)
    goto done;
  if (a->n_argv == 0) {
    cab_error_set(err, 0, "adapter %s: argv: the command to run is missing", path);
    goto done;
  }
  for (size_t i = 0; i < a->n_files; i++) {
    size_t wl = strlen(a->workdir);
    if (strncmp(a->files[i].path, a->workdir, wl) == 0 &&
        (a->files[i].path[wl] == '/' || a->files[i].path[wl] == '\0')) {
      cab_error_set(err, 0,
                    "adapter %s: files[%zu].path %s is inside the workdir; config files go "
                    "outside it (in {home}) so they are not counted as changes",
                    path, i, a->files[i].path);
      goto done;
    }
  }
  *out = cab_steal_ptr(&a);
  rc = 0;
done:
  cJSON_Delete(o);
  cab_adapter_free(a);
  return rc;
}

int
cab_adapter_load(const char *tui, struct cab_adapter **out, cab_error *err)
{
  if (!valid_name(tui))
    return cab_error_set(err, 0, "--tui %s: not an adapter name; run 'cab adapters list'",
                         tui ? tui : "(none)");
  char file[80], path[CAB_DATADIR_PATH + 80];
  if (cab_snprintf_checked(file, sizeof file, "%s.json", tui) == 0 &&
      cab_datadir_find(CAB_DATA_ADAPTERS, file, path, sizeof path) == 0)
    return cab_adapter_load_file(path, out, err);
  /* A cab copied without its data knows no agent at all: say that, and
   * how to give it its adapters, not "unknown agent". */
  char dir[CAB_DATADIR_PATH];
  if (!cab_datadir_present(CAB_DATA_ADAPTERS) ||
      cab_datadir_dir(CAB_DATA_ADAPTERS, dir, sizeof dir) < 0) {
    snprintf(path, sizeof path, "--tui %s", tui);
    return cab_datadir_missing(CAB_DATA_ADAPTERS, err, path);
  }
  return cab_error_set(err, 0, "--tui %s: unknown agent; run 'cab adapters list' for the known "
                               "ones, or add %s/%s.json",
                       tui, dir, tui);
}

void
cab_adapter_free_list(char **l, size_t n)
{
  for (size_t i = 0; i < n; i++)
    free(l[i]);
  free(l);
}

void
cab_adapter_free(struct cab_adapter *a)
{
  if (a == NULL)
    return;
  free(a->tui);
  free(a->description);
  free(a->image);
  free(a->wire);
  free(a->workdir);
  free(a->home);
  free(a->user);
  free(a->builtin);
  free(a->tokens_prompt_regex);
  free(a->tokens_completion_regex);
  free(a->source_path);
  cab_adapter_free_list(a->env, a->n_env);
  cab_adapter_free_list(a->argv, a->n_argv);
  cab_adapter_free_list(a->max_turns_args, a->n_max_turns_args);
  cab_adapter_free_list(a->state_paths, a->n_state_paths);
  for (size_t i = 0; i < a->n_files; i++) {
    free(a->files[i].path);
    free(a->files[i].content);
  }
  free(a->files);
  cab_adapter_mounts_sandbox_free(a);
  free(a);
}

static int
cmp_names(const void *x, const void *y)
{
  return strcmp(*(char *const *)x, *(char *const *)y);
}

int
cab_adapter_list(char ***names, size_t *n, cab_error *err)
{
  if (!cab_datadir_present(CAB_DATA_ADAPTERS))
    return cab_datadir_missing(CAB_DATA_ADAPTERS, err, "adapters");
  char dirs[CAB_DATADIR_MAX][CAB_DATADIR_PATH];
  size_t nd = cab_datadir_candidates(CAB_DATA_ADAPTERS, dirs);
  char **list = NULL;
  size_t count = 0;
  for (size_t i = 0; i < nd; i++) {
    cleanup_dir DIR *d = opendir(dirs[i]);
    if (d == NULL)
      continue;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
      size_t len = strlen(e->d_name);
      if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
        continue;
      char *name = strndup(e->d_name, len - 5);
      bool dup = false;
      for (size_t j = 0; j < count; j++)
        dup = dup || strcmp(list[j], name) == 0;
      if (dup || !valid_name(name)) {
        free(name);
        continue;
      }
      char **nl = realloc(list, (count + 1) * sizeof *nl);
      if (nl == NULL) {
        free(name);
        cab_adapter_free_list(list, count);
        return cab_error_sys(err, "allocate");
      }
      list = nl;
      list[count++] = name;
    }
  }
  if (count)
    qsort(list, count, sizeof *list, cmp_names);
  *names = list;
  *n = count;
  return 0;
}

void
cab_adapter_names_free(char **names, size_t n)
{
  cab_adapter_free_list(names, n);
}

int
cab_template_expand(const char *tmpl, const struct cab_template_vars *v, const char *where,
                    char **out, cab_error *err)
{
  size_t cap = strlen(tmpl) + 64, used = 0;
  char *buf = malloc(cap);
  if (buf == NULL)
    return cab_error_sys(err, "allocate");
  for (const char *p = tmpl; *p;) {
    const char *piece = NULL;
    size_t plen = 0;
    char num[32];
    if (p[0] == '{' && p[1] == '{') {
      piece = "{";
      plen = 1;
      p += 2;
    } else if (p[0] == '}' && p[1] == '}') {
      piece = "}";
      plen = 1;
      p += 2;
    } else if (p[0] == '{') {
      const char *end = strchr(p, '}');
      if (end == NULL) {
        free(buf);
        return cab_error_set(err, 0, "%s: unclosed '{' in \"%.60s\"", where, tmpl);
      }
      size_t nlen = (size_t)(end - p - 1);
      const char *name = p + 1;
#define VAR(n, val)                                                                           \
  else if (nlen == strlen(n) && strncmp(name, n, nlen) == 0) piece = (val) ? (val) : ""
      if (0)
        ;
      VAR("endpoint", v->endpoint);
      VAR("endpoint_root", v->endpoint_root);
      VAR("model", v->model);
      VAR("key", v->key);
      VAR("prompt", v->prompt);
      VAR("prompt_file", v->prompt_file);
      VAR("workdir", v->workdir);
      VAR("home", v->home);
      VAR("task_id", v->task_id);
      else if (nlen == 9 && strncmp(name, "max_turns", 9) == 0) {
        snprintf(num, sizeof num, "%d", v->max_turns);
        piece = num;
      }
#undef VAR
      else {
        free(buf);
        return cab_error_set(err, 0, "%s: unknown placeholder {%.*s}; known: endpoint, "
                                     "endpoint_root, model, key, max_turns, prompt, prompt_file, workdir, home, task_id",
                             where, (int)nlen, name);
      }
      plen = strlen(piece);
      p = end + 1;
    } else {
      piece = p;
      plen = 1;
      p++;
    }
    if (used + plen + 1 > cap) {
      cap = (used + plen + 1) * 2;
      char *nb = realloc(buf, cap);
      if (nb == NULL) {
        free(buf);
        return cab_error_sys(err, "allocate");
      }
      buf = nb;
    }
    memcpy(buf + used, piece, plen);
    used += plen;
  }
  buf[used] = '\0';
  *out = buf;
  return 0;
}
