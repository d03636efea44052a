/* An adapter's "mounts" (host paths bound into the agent's sandbox) and
 * "sandbox" (its seccomp policy, /proc and capabilities): what used to be
 * code per built-in agent is data, so the composer has no agent names. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runner/adapters/adapter_internal.h"

/* A relative path that stays below its base. */
static bool
contained(const char *p)
{
  if (p[0] == '\0' || p[0] == '/')
    return false;
  for (const char *s = p; s; s = strchr(s, '/')) {
    s += *s == '/';
    if (strncmp(s, "..", 2) == 0 && (s[2] == '/' || s[2] == '\0'))
      return false;
  }
  return true;
}

static int
parse_mount(const cJSON *m, struct cab_adapter_mount *out, const char *path, size_t i,
            cab_error *err)
{
  const cJSON *from = cJSON_GetObjectItemCaseSensitive(m, "from");
  const cJSON *src = cJSON_GetObjectItemCaseSensitive(m, "path");
  const cJSON *dst = cJSON_GetObjectItemCaseSensitive(m, "target");
  const cJSON *ro = cJSON_GetObjectItemCaseSensitive(m, "readonly");
  const cJSON *missing = cJSON_GetObjectItemCaseSensitive(m, "missing");
  if (!cJSON_IsString(from) ||
      (strcmp(from->valuestring, "cab") != 0 && strcmp(from->valuestring, "task") != 0))
    return cab_error_set(err, 0, "adapter %s: mounts[%zu].from: expected \"cab\" (the directory "
                                 "of cab's executable) or \"task\" (the task's directory)", path, i);
  if (!cJSON_IsString(src) || !contained(src->valuestring))
    return cab_error_set(err, 0, "adapter %s: mounts[%zu].path: expected a relative path "
                                 "without \"..\"", path, i);
  if (!cJSON_IsString(dst) || dst->valuestring[0] != '/')
    return cab_error_set(err, 0, "adapter %s: mounts[%zu].target: expected an absolute path",
                         path, i);
  if (ro && !cJSON_IsBool(ro))
    return cab_error_set(err, 0, "adapter %s: mounts[%zu].readonly: expected true or false",
                         path, i);
  if (missing && !cJSON_IsString(missing))
    return cab_error_set(err, 0, "adapter %s: mounts[%zu].missing: expected a message", path, i);
  out->from = strcmp(from->valuestring, "cab") == 0 ? CAB_MOUNT_FROM_CAB : CAB_MOUNT_FROM_TASK;
  out->readonly = ro == NULL || cJSON_IsTrue(ro);
  out->path = strdup(src->valuestring);
  out->target = strdup(dst->valuestring);
  out->missing = missing ? strdup(missing->valuestring) : NULL;
  if (out->path == NULL || out->target == NULL || (missing && out->missing == NULL))
    return cab_error_sys(err, "allocate");
  return 0;
}

int
cab_adapter_parse_mounts(const cJSON *o, struct cab_adapter *a, const char *path, cab_error *err)
{
  const cJSON *mounts = cJSON_GetObjectItemCaseSensitive(o, "mounts");
  if (mounts == NULL || cJSON_IsNull(mounts))
    return 0;
  if (!cJSON_IsArray(mounts))
    return cab_error_set(err, 0, "adapter %s: mounts: must be an array", path);
  size_t count = (size_t)cJSON_GetArraySize(mounts);
  a->mounts = calloc(count + 1, sizeof *a->mounts);
  if (a->mounts == NULL)
    return cab_error_sys(err, "allocate");
  const cJSON *m;
  cJSON_ArrayForEach(m, mounts) {
    if (parse_mount(m, &a->mounts[a->n_mounts], path, a->n_mounts, err) < 0) {
      a->n_mounts++; /* freed with the adapter */
      return -1;
    }
    a->n_mounts++;
  }
  return 0;
}

int
cab_adapter_parse_sandbox(const cJSON *o, struct cab_adapter *a, const char *path, cab_error *err)
{
  const cJSON *sb = cJSON_GetObjectItemCaseSensitive(o, "sandbox");
  struct cab_adapter_sandbox *s = &a->sandbox;
  if (sb == NULL || cJSON_IsNull(sb))
    return 0;
  if (!cJSON_IsObject(sb))
    return cab_error_set(err, 0, "adapter %s: sandbox: must be an object", path);
  const cJSON *seccomp = cJSON_GetObjectItemCaseSensitive(sb, "seccomp");
  const cJSON *proc = cJSON_GetObjectItemCaseSensitive(sb, "read_only_proc");
  if (seccomp) {
    /* The named policies only: a profile file would be a host path. */
    static const char *const names[] = {"default", "verifier", "unconfined"};
    bool known = false;
    for (size_t i = 0; cJSON_IsString(seccomp) && i < 3; i++)
      known = known || strcmp(seccomp->valuestring, names[i]) == 0;
    if (!known)
      return cab_error_set(err, 0, "adapter %s: sandbox.seccomp: expected default, verifier or "
                                   "unconfined", path);
    if ((s->seccomp = strdup(seccomp->valuestring)) == NULL)
      return cab_error_sys(err, "allocate");
  }
  if (proc && !cJSON_IsBool(proc))
    return cab_error_set(err, 0, "adapter %s: sandbox.read_only_proc: expected true or false",
                         path);
  s->read_only_proc = cJSON_IsTrue(proc);
  /* The capability names are checked where they are applied (the cell's
   * composer, before the agent starts): adapters/ knows no sandbox. */
  if (cab_adapter_string_array(sb, "cap_add", &s->cap_add, &s->n_cap_add, path, err) < 0 ||
      cab_adapter_string_array(sb, "cap_drop", &s->cap_drop, &s->n_cap_drop, path, err) < 0)
    return cab_error_prefix(err, "sandbox");
  return 0;
}

void
cab_adapter_mounts_sandbox_free(struct cab_adapter *a)
{
  for (size_t i = 0; i < a->n_mounts; i++) {
    free(a->mounts[i].path);
    free(a->mounts[i].target);
    free(a->mounts[i].missing);
  }
  free(a->mounts);
  free(a->sandbox.seccomp);
  cab_adapter_free_list(a->sandbox.cap_add, a->sandbox.n_cap_add);
  cab_adapter_free_list(a->sandbox.cap_drop, a->sandbox.n_cap_drop);
}
