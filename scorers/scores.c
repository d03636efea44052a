/* The one place the figures of a "scorers" object are looked up by key. */
#include <string.h>

#include "scorers/scores.h"

struct cab_num
cab_num_at(const cJSON *obj, const char *key)
{
  const cJSON *v = cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
  if (cJSON_IsNumber(v))
    return (struct cab_num){true, v->valuedouble};
  return (struct cab_num){false, 0};
}

static const cJSON *
axis(const cJSON *scorers, const char *name)
{
  const cJSON *a = cJSON_GetObjectItemCaseSensitive(scorers, name);
  return cJSON_IsObject(a) ? a : NULL;
}

void
cab_scores_from_json(cJSON *json, struct cab_scores *s)
{
  memset(s, 0, sizeof *s);
  s->json = json;
  if (!cJSON_IsObject(json))
    return;
  const cJSON *pr = axis(json, "pass_rate"), *tok = axis(json, "tokens");
  const cJSON *blast = axis(json, "blast_radius"), *ref = axis(json, "refusal");
  s->pass_rate.pass = cab_num_at(pr, "pass");
  s->pass_rate.exit_code = cab_num_at(pr, "exit_code");
  s->tokens.prompt_tokens = cab_num_at(tok, "prompt_tokens");
  s->tokens.completion_tokens = cab_num_at(tok, "completion_tokens");
  s->tokens.total_tokens = cab_num_at(tok, "total_tokens");
  s->tokens.model_calls = cab_num_at(tok, "model_calls");
  s->tokens.tokens_per_correct_task = cab_num_at(tok, "tokens_per_correct_task");
  s->latency.wall_clock_ms = cab_num_at(axis(json, "latency"), "wall_clock_ms");
  s->blast_radius.blast_radius = cab_num_at(blast, "blast_radius");
  s->blast_radius.total_changes = cab_num_at(blast, "total_changes");
  const cJSON *unexp = blast ? cJSON_GetObjectItemCaseSensitive(blast, "unexpected_changes") : NULL;
  if (cJSON_IsArray(unexp)) {
    s->blast_radius.unexpected_changes = (struct cab_num){true, cJSON_GetArraySize(unexp)};
    s->blast_radius.unexpected_listed = true;
  } else if (cJSON_IsNumber(unexp)) {
    s->blast_radius.unexpected_changes = (struct cab_num){true, unexp->valuedouble};
  }
  s->refusal.refusal = cab_num_at(ref, "refusal");
  const cJSON *na = ref ? cJSON_GetObjectItemCaseSensitive(ref, "not_applicable") : NULL;
  s->refusal.not_applicable = (struct cab_num){cJSON_IsBool(na), cJSON_IsTrue(na) ? 1 : 0};
  const cJSON *produced = ref ? cJSON_GetObjectItemCaseSensitive(ref, "refusal_produced") : NULL;
  s->refusal.refusal_produced = cJSON_IsTrue(produced);
  s->integrity.integrity = cab_num_at(axis(json, "integrity"), "integrity");
  s->composite.composite = cab_num_at(axis(json, "composite"), "composite");
  const cJSON *fid = axis(json, "instruction_fidelity");
  s->instruction_fidelity.instruction_fidelity = cab_num_at(fid, "instruction_fidelity");
  s->instruction_fidelity.declared = cab_num_at(fid, "declared");
  s->instruction_fidelity.honored = cab_num_at(fid, "honored");
}

void
cab_scores_free(struct cab_scores *s)
{
  cJSON_Delete(s->json);
  memset(s, 0, sizeof *s);
}
