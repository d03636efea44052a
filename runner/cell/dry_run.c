/* run-cell --dry-run: what the cell would run, composed by the same code
 * that runs it (the adapter rendered by cab_cell_agent_compose, the limits
 * as cab_cell_check_require found them), after every check a real run makes first.  Nothing
 * is created: no workdir, no sandbox, no cell directory, no model call.
 * The text goes through the key redaction of the cell's artifacts: the
 * real key, wherever it appears (a task's env, an endpoint URL), is
 * printed as the placeholder. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/json_null.h"
#include "common/strfmt.h"
#include "runner/cell/cell_internal.h"
#include "runner/proxy/wire.h"
#include "scorers/scorers.h"

/* The task's prompt as the agent would get it: its workdir's README.md
 * ("" when the workdir comes from the image). */
static char *
task_prompt(const struct cell *c)
{
  char path[PATH_MAX];
  char *text = NULL;
  cab_error ignored = {0};
  if (cab_snprintf_checked(path, sizeof path, "%s/workdir/README.md", c->task->dir) == 0)
    cab_read_file_at(AT_FDCWD, path, 1 << 20, &text, NULL, &ignored);
  return text;
}

static cJSON *
limits_json(const struct cell *c)
{
  const struct cab_cell_limits *lim = &c->limits; /* cab_cell_check_require's */
  cJSON *l = cJSON_CreateObject();
  cJSON_AddNumberToObject(l, "timeout_s", (double)c->timeout_s);
  if (c->max_turns > 0)
    cJSON_AddNumberToObject(l, "max_turns", (double)c->max_turns);
  else
    cJSON_AddNullToObject(l, "max_turns");
  cJSON_AddNumberToObject(l, "memory_bytes", (double)lim->memory_bytes);
  cJSON_AddNumberToObject(l, "pids_max", (double)lim->pids);
  if (lim->cpus > 0)
    cJSON_AddNumberToObject(l, "cpus", lim->cpus);
  else
    cJSON_AddNullToObject(l, "cpus");
  cJSON_AddNumberToObject(l, "workdir_budget_bytes", (double)c->task->budget_bytes);
  cJSON_AddNumberToObject(l, "workdir_budget_inodes", (double)c->task->budget_inodes);
  return l;
}

static cJSON *
describe(const struct cell *c, const char *image, bool host,
         const struct cab_adapter_rendered *r, const struct cab_envlist *env)
{
  const struct cab_cell_options *o = c->o;
  cJSON *j = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "schema", "cab.run_cell.dry_run/v1");
  cJSON_AddStringToObject(j, "cell_id", c->cell_id);
  cJSON_AddStringToObject(j, "cell_dir", c->cell_dir);
  cJSON_AddStringToObject(j, "tui", o->tui);
  cJSON_AddStringToObject(j, "model", o->model);
  cJSON_AddStringToObject(j, "task", c->task->task_id);
  cJSON *img = cJSON_AddObjectToObject(j, "image");
  if (host) {
    cJSON_AddStringToObject(img, "name", "host-rootfs");
    cJSON_AddNullToObject(img, "digest");
  } else {
    cJSON_AddStringToObject(img, "name", c->image->name[0] ? c->image->name : image);
    cJSON_AddStringToObject(img, "digest", c->image->index_digest[0] ? c->image->index_digest
                                                                     : c->image->digest);
  }
  bool net = strcmp(c->adapter->wire, "none") != 0;
  cJSON *m = cJSON_AddObjectToObject(j, "model_network");
  cJSON_AddBoolToObject(m, "enabled", net);
  cab_json_add_string_or_null(m, "endpoint", net && !o->replay ? o->endpoint : NULL);
  cJSON_AddStringToObject(m, "endpoint_wire", cab_wire_name((enum cab_wire)o->endpoint_wire));
  /* The variable's name only: its value never leaves the proxy. */
  cab_json_add_string_or_null(m, "key_env", net ? o->key_env : NULL);
  cab_json_add_string_or_null(m, "replay", o->replay);
  cab_json_add_string_or_null(m, "record", o->record);
  cJSON_AddStringToObject(j, "workdir", cab_cell_workdir(c));
  cJSON *argv = cJSON_AddArrayToObject(j, "argv");
  for (size_t i = 0; i < r->n_argv; i++)
    cJSON_AddItemToArray(argv, cJSON_CreateString(r->argv[i]));
  cJSON *e = cJSON_AddArrayToObject(j, "env");
  for (size_t i = 0; i < env->n; i++)
    cJSON_AddItemToArray(e, cJSON_CreateString(env->v[i]));
  cJSON *files = cJSON_AddArrayToObject(j, "files");
  for (size_t i = 0; i < r->n_files; i++) {
    cJSON *f = cJSON_CreateObject();
    char mode[8];
    snprintf(mode, sizeof mode, "%04o", (unsigned)r->files[i].mode & 07777);
    cJSON_AddStringToObject(f, "path", r->files[i].path);
    cJSON_AddStringToObject(f, "mode", mode);
    cJSON_AddStringToObject(f, "content", r->files[i].content);
    cJSON_AddItemToArray(files, f);
  }
  cJSON_AddItemToObject(j, "limits", limits_json(c));
  cJSON *v = cJSON_AddObjectToObject(j, "verify");
  cJSON_AddStringToObject(v, "command", c->task->scorer_command);
  cJSON_AddNumberToObject(v, "timeout_s", (double)cab_cell_verify_timeout(c));
  char req[160];
  cJSON_AddStringToObject(j, "require", cab_protection_format(o->require, req, sizeof req));
  return j;
}

char *
cab_cell_dry_run_json(struct cell *c, const char *image, bool host, cab_error *err)
{
  cleanup_free char *prompt = task_prompt(c);
  struct cab_adapter_rendered r;
  struct cab_envlist env = {0};
  bool adapter_wrong = false;
  char *out = NULL;
  if (cab_cell_agent_compose(c, prompt, &r, &env, &adapter_wrong, err) == 0) {
    cJSON *j = describe(c, image, host, &r, &env);
    cleanup_free char *text = j ? cab_json_print(j, true) : NULL;
    cJSON_Delete(j);
    out = text ? cab_cell_redact_text(c, text) : NULL;
    if (out == NULL)
      cab_error_set(err, ENOMEM, "run-cell --dry-run: render");
  }
  cab_adapter_rendered_free(&r);
  cab_envlist_free(&env);
  return out;
}
