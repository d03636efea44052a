/* tokens: the proxy's totals (model_calls.jsonl), never the TUI's own
 * printout (the published scorer shows 0 even when "tokens source: TUI
 * stdout" figures appear on the page).
 *
 * tokens_per_correct_task = total_tokens / pass; 0 when no tokens were
 * counted (as published); null when tokens were spent and nothing passed
 * (a division by zero the published pages never show: cab's choice). */
#include <stdlib.h>
#include <string.h>

#include "runner/model_api/usage.h"
#include "scorers/scorers.h"
#include "scorers/util.h"

static int64_t
tok(const cJSON *line, const char *key)
{
  const cJSON *j = cJSON_GetObjectItemCaseSensitive(line, key);
  if (!cJSON_IsNumber(j))
    j = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(line, "usage"), key);
  if (!cJSON_IsNumber(j))
    return 0;
  /* usage.h's rule: a figure out of range counts as the maximum, never
   * wraps (a cast of 9.2e18 did) nor lowers the cell's cost */
  int64_t n;
  cab_usage_count(j->valuedouble, &n);
  return n;
}

void
cab_token_totals_from_jsonl(const char *text, size_t len, struct cab_token_totals *t)
{
  memset(t, 0, sizeof *t);
  const char *p = text, *end = text ? text + len : NULL;
  while (p && p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
    cJSON *j = n ? cJSON_ParseWithLength(p, n) : NULL;
    if (cJSON_IsObject(j)) {
      int64_t pt = tok(j, "prompt_tokens"), ct = tok(j, "completion_tokens");
      int64_t tt = tok(j, "total_tokens");
      t->prompt_tokens += pt;
      t->completion_tokens += ct;
      t->total_tokens += tt ? tt : pt + ct;
      t->model_calls++;
      t->model_call_ms += cab_jget_num(j, "latency_ms", 0);
    }
    cJSON_Delete(j);
    p = nl ? nl + 1 : NULL;
  }
}

cJSON *
cab_score_tokens(const struct cab_cell_inputs *in, double pass)
{
  const struct cab_token_totals *t = &in->tokens;
  cJSON *j = cJSON_CreateObject();
  cJSON_AddNumberToObject(j, "prompt_tokens", (double)t->prompt_tokens);
  cJSON_AddNumberToObject(j, "completion_tokens", (double)t->completion_tokens);
  cJSON_AddNumberToObject(j, "total_tokens", (double)t->total_tokens);
  cJSON_AddNumberToObject(j, "model_calls", (double)t->model_calls);
  if (pass > 0)
    cJSON_AddNumberToObject(j, "tokens_per_correct_task", (double)t->total_tokens / pass);
  else if (t->total_tokens == 0)
    cJSON_AddNumberToObject(j, "tokens_per_correct_task", 0);
  else
    cJSON_AddNullToObject(j, "tokens_per_correct_task");
  cJSON_AddNumberToObject(j, "pass_used_for_division", pass);
  return j;
}
