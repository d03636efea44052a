/* A reward task's reward directory (runner/task/task.h, scorer.kind
 * "reward"): made empty by cab just before the verifier, bound at
 * /logs/verifier, and read back after it as verify-reward.json.
 *
 * The directory is cab's, under the cell's scratch: nothing the agent
 * wrote (its /logs/verifier lives in the agent's own root layer) can be in
 * it.  What the verifier wrote there is untrusted: read without following
 * a symlink, only a regular file, and at most CAB_REWARD_MAX bytes. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/rm_tree.h"
#include "common/strfmt.h"
#include "runner/cell/cell_internal.h"

#define CAB_REWARD_MAX 65536
#define CAB_REWARD_MAX_NAMES 64

int
cab_cell_reward_dir_make(struct cell *c, cab_error *err)
{
  if (cab_path_printf(c->reward_dir, sizeof c->reward_dir, err, "%s/verifier-logs",
                      c->scratch) < 0)
    return -1;
  cab_error ignored = {0};
  cab_rm_tree_at(AT_FDCWD, c->reward_dir, 0, &ignored);
  if (mkdir(c->reward_dir, 0755) < 0)
    return cab_error_sys(err, "create %s", c->reward_dir);
  return 0;
}

/* {"source": NAME, "rewards": {...}} or {"source": NAME, "error": WHY}. */
static char *
reward_record(const char *source, cJSON *rewards, const char *error)
{
  cJSON *j = cJSON_CreateObject();
  if (j == NULL)
    return NULL;
  if (source)
    cJSON_AddStringToObject(j, "source", source);
  else
    cJSON_AddNullToObject(j, "source");
  if (rewards)
    cJSON_AddItemToObject(j, "rewards", rewards);
  if (error)
    cJSON_AddStringToObject(j, "error", error);
  char *s = cJSON_Print(j);
  cJSON_Delete(j);
  return s;
}

/* reward.txt: one number, blanks around it. */
static cJSON *
reward_txt(const char *text, char *why, size_t size)
{
  char *end;
  errno = 0;
  double v = strtod(text, &end);
  while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')
    end++;
  if (end == text || *end != '\0' || errno == ERANGE || !isfinite(v)) {
    snprintf(why, size, "reward.txt is not one number");
    return NULL;
  }
  cJSON *r = cJSON_CreateObject();
  if (r)
    cJSON_AddNumberToObject(r, "reward", v);
  return r;
}

/* reward.json: {name: number}, at least one. */
static cJSON *
reward_json(const char *text, size_t len, char *why, size_t size)
{
  cJSON *j = cJSON_ParseWithLength(text, len);
  int n = cJSON_IsObject(j) ? cJSON_GetArraySize(j) : 0;
  bool ok = n > 0 && n <= CAB_REWARD_MAX_NAMES;
  const cJSON *e;
  cJSON_ArrayForEach(e, j) {
    if (!cJSON_IsNumber(e) || !isfinite(e->valuedouble) || e->string == NULL)
      ok = false;
  }
  if (!ok) {
    cJSON_Delete(j);
    snprintf(why, size, "reward.json is not an object of 1 to %d {name: number}",
             CAB_REWARD_MAX_NAMES);
    return NULL;
  }
  return j;
}

int
cab_cell_reward_read(struct cell *c, cab_error *err)
{
  static const char *const names[] = {"reward.txt", "reward.json"};
  free(c->reward_json);
  c->reward_json = NULL;
  cleanup_close int dfd = open(c->reward_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0)
    return cab_error_sys(err, "open %s", c->reward_dir);
  const char *source = NULL;
  cJSON *rewards = NULL;
  char why[256] = "the verifier wrote no reward.txt or reward.json in " CAB_TASK_REWARD_LOGS_MOUNT;
  for (size_t i = 0; i < 2 && source == NULL; i++) {
    struct stat st;
    if (fstatat(dfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
      continue;
    source = names[i];
    cleanup_free char *text = NULL;
    size_t len = 0;
    cab_error rerr = {0};
    if (cab_read_file(dfd, names[i], CAB_REWARD_MAX,
                      CAB_READ_NOFOLLOW | CAB_READ_REGULAR | CAB_READ_WHOLE, &text, &len, NULL,
                      &rerr) < 0) {
      snprintf(why, sizeof why, "%s: not a regular file of at most %d bytes", names[i],
               CAB_REWARD_MAX);
      break;
    }
    rewards = i == 0 ? reward_txt(text, why, sizeof why) : reward_json(text, len, why, sizeof why);
  }
  c->reward_json = reward_record(source, rewards, rewards ? NULL : why);
  if (c->reward_json == NULL)
    return cab_error_set(err, ENOMEM, "verify-reward.json");
  return 0;
}
