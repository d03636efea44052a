/* cab exec --result: what one sandbox run did, as JSON. */
#include "runner/cell/run_result.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsutil.h"

static void
add_model_totals(cJSON *j, const struct cab_proxy_totals *t)
{
  cJSON *m = cJSON_AddObjectToObject(j, "model");
  cJSON_AddNumberToObject(m, "model_calls", (double)t->model_calls);
  cJSON_AddNumberToObject(m, "prompt_tokens", (double)t->prompt_tokens);
  cJSON_AddNumberToObject(m, "completion_tokens", (double)t->completion_tokens);
  cJSON_AddNumberToObject(m, "total_tokens", (double)t->total_tokens);
  cJSON_AddNumberToObject(m, "cached_tokens", (double)t->cached_tokens);
  cJSON_AddNumberToObject(m, "model_call_ms", (double)t->model_call_ms);
  cJSON_AddNumberToObject(m, "ok", (double)t->ok);
  cJSON_AddNumberToObject(m, "infra_errors", (double)t->infra_errors);
  cJSON_AddNumberToObject(m, "client_errors", (double)t->client_errors);
  cJSON_AddNumberToObject(m, "calls_without_usage", (double)t->calls_without_usage);
  cJSON_AddNumberToObject(m, "usage_clamped", (double)t->usage_clamped);
  cJSON_AddNumberToObject(m, "busy_refusals", (double)t->busy_refusals);
  cJSON_AddNumberToObject(m, "key_reflected", (double)t->key_reflected);
  cJSON_AddNumberToObject(m, "replay_misses", (double)t->replay_misses);
}

int
cab_run_result_write(const char *path, const struct cab_sandbox_config *cfg,
                     const struct cab_sandbox_result *r, const struct cab_proxy_totals *model,
                     const struct cab_protection *prot, cab_error *err)
{
  cJSON *j = cJSON_CreateObject();
  if (cfg->host_rootfs) {
    cJSON_AddStringToObject(j, "rootfs", "host");
    cJSON *masked = cJSON_AddArrayToObject(j, "masked_paths");
    for (size_t i = 0; i < cfg->n_masks; i++)
      cJSON_AddItemToArray(masked, cJSON_CreateString(cfg->masks[i]));
    uid_t uid;
    gid_t gid;
    cab_sandbox_host_ids(cfg, &uid, &gid, NULL);
    cJSON_AddNumberToObject(j, "sandbox_host_uid", uid);
    cJSON_AddNumberToObject(j, "sandbox_host_gid", gid);
  }
  cJSON_AddNumberToObject(j, "exit_code", r->exit_code);
  cJSON_AddNumberToObject(j, "signal", r->signal);
  cJSON_AddBoolToObject(j, "timed_out", r->timed_out);
  cJSON_AddBoolToObject(j, "oom_killed", r->oom_killed);
  cJSON_AddNumberToObject(j, "wall_ms", (double)r->wall_ms);
  cJSON_AddNumberToObject(j, "user_ms", (double)r->user_ms);
  cJSON_AddNumberToObject(j, "sys_ms", (double)r->sys_ms);
  if (r->peak_memory_bytes >= 0)
    cJSON_AddNumberToObject(j, "peak_memory_bytes", (double)r->peak_memory_bytes);
  else
    cJSON_AddNullToObject(j, "peak_memory_bytes");
  cJSON *lim = cJSON_AddObjectToObject(j, "limits");
  cJSON_AddStringToObject(lim, "memory", cab_limit_mech_name(r->memory));
  cJSON_AddStringToObject(lim, "pids", cab_limit_mech_name(r->pids));
  cJSON_AddStringToObject(lim, "cpu", cab_limit_mech_name(r->cpu));
  /* What actually held each limit, in words: "watchdog (anon+shmem+memfd+
   * tmpfs, poll 10 ms) and RLIMIT_DATA" against "cgroup v1 (...)". */
  cJSON *how = cJSON_AddObjectToObject(j, "enforced");
  cJSON_AddStringToObject(how, "memory", r->memory_how[0] ? r->memory_how : "none");
  cJSON_AddStringToObject(j, "cgroup_mode", r->cgroup_mode);
  if (r->degraded[0])
    cJSON_AddStringToObject(j, "degraded", r->degraded);
  if (r->seccomp) {
    /* What stood between the command and the host, as it ran. */
    cJSON *d = cJSON_AddObjectToObject(j, "defences");
    cJSON_AddStringToObject(d, "seccomp", r->seccomp);
    cJSON_AddStringToObject(d, "proc", r->proc_readonly ? "read-only" : "read-write");
    cJSON_AddBoolToObject(d, "stdio_relayed", r->stdio_relayed);
    cJSON_AddBoolToObject(d, "output_append_only", r->output_append_only);
    cJSON_AddBoolToObject(d, "stdio_nulled", r->stdio_nulled);
  }
  if (model)
    add_model_totals(j, model);
  /* The same block as a cell's environment.protection. */
  if (prot)
    cJSON_AddItemToObject(j, "protection", cab_protection_to_json(prot));
  char *text = cJSON_Print(j);
  cJSON_Delete(j);
  if (text == NULL)
    return cab_error_set(err, ENOMEM, "render --result");
  size_t len = strlen(text);
  text[len] = '\n';
  int rc = cab_write_file_atomic(path, text, len + 1, 0644, err);
  free(text);
  return rc < 0 ? cab_error_prefix(err, "--result %s", path) : 0;
}

