/* A reward task's pass (runner/task/task.h, scorer.kind "reward"): the
 * rewards the verifier wrote to its /logs/verifier, as the cell kept them in
 * verify-reward.json ({"source", "rewards": {name: number}} or {"source",
 * "error"}).  Pass when there is at least one reward, every one is at least
 * 1, and the verifier did not time out; the verifier's exit code is not
 * looked at (Harbor's own rule: the reward is the verdict).  The rewards
 * are kept in the pass_rate object; partial_score is their mean (clamped to
 * [0, 1]). */
#include <string.h>

#include <stdlib.h>

#include "scorers/scorers.h"
#include "scorers/util.h"

cJSON *
cab_score_reward(const struct cab_cell_inputs *in)
{
  const struct cab_verify_result *v = &in->verify;
  cJSON *doc = v->reward ? cJSON_ParseWithLength(v->reward, v->reward_len) : NULL;
  const cJSON *rewards = cJSON_GetObjectItemCaseSensitive(doc, "rewards");
  const cJSON *error = cJSON_GetObjectItemCaseSensitive(doc, "error");
  bool pass = cJSON_IsObject(rewards) && cJSON_GetArraySize(rewards) > 0 && !v->timed_out;
  double sum = 0;
  int n = 0;
  const cJSON *e;
  cJSON_ArrayForEach(e, rewards) {
    if (!cJSON_IsNumber(e)) {
      pass = false;
      continue;
    }
    if (e->valuedouble < 1)
      pass = false;
    double r = e->valuedouble < 0 ? 0 : e->valuedouble > 1 ? 1 : e->valuedouble;
    sum += r;
    n++;
  }
  cJSON *j = cJSON_CreateObject();
  cJSON_AddNumberToObject(j, "pass", pass ? 1 : 0);
  cJSON_AddNumberToObject(j, "exit_code", v->exit_code);
  cJSON_AddBoolToObject(j, "timed_out", v->timed_out);
  char *t = cab_utf8_tail(v->out, v->out_len, CAB_TAIL_MAX);
  cJSON_AddStringToObject(j, "stdout_tail", t);
  free(t);
  t = cab_utf8_tail(v->err, v->err_len, CAB_TAIL_MAX);
  cJSON_AddStringToObject(j, "stderr_tail", t);
  free(t);
  if (cJSON_IsObject(rewards))
    cJSON_AddItemToObject(j, "rewards", cJSON_Duplicate(rewards, true));
  else
    cJSON_AddNullToObject(j, "rewards");
  cJSON_AddStringToObject(j, "reward_error",
                          cJSON_IsString(error) ? error->valuestring
                          : doc == NULL         ? "no verify-reward.json"
                                                : "");
  if (n > 0)
    cJSON_AddNumberToObject(j, "partial_score", sum / n);
  else
    cJSON_AddNullToObject(j, "partial_score");
  cJSON_Delete(doc);
  return j;
}
