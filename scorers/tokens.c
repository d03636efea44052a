/* tokens: the proxy's totals (model_calls.jsonl), never the TUI's own
 * printout (the published scorer shows 0 even when "tokens source: TUI
 * stdout" figures appear on the page).
 *
 * The totals are summed by runner/record/model_calls.c (cab_model_calls_sum).
 *
 * tokens_per_correct_task = total_tokens / pass_used_for_division, and 0
 * when nothing passed (there is nothing to divide by), whether tokens were
 * spent or not: the published value (every published cell has pass 0 or 1
 * and 0 here; none has null).  A page shows it blank then, as published. */
#include "scorers/scorers.h"
#include "scorers/util.h"

cJSON *
cab_score_tokens(const struct cab_cell_inputs *in, double pass)
{
  const struct cab_token_totals *t = &in->tokens;
  cJSON *j = cJSON_CreateObject();
  cJSON_AddNumberToObject(j, "prompt_tokens", (double)t->prompt_tokens);
  cJSON_AddNumberToObject(j, "completion_tokens", (double)t->completion_tokens);
  cJSON_AddNumberToObject(j, "total_tokens", (double)t->total_tokens);
  cJSON_AddNumberToObject(j, "model_calls", (double)t->model_calls);
  cJSON_AddNumberToObject(j, "tokens_per_correct_task",
                          pass > 0 ? (double)t->total_tokens / pass : 0);
  cJSON_AddNumberToObject(j, "pass_used_for_division", pass);
  return j;
}
