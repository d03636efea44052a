#include "runner/record/model_calls.h"

#include <string.h>
#include <time.h>

#include "common/lines.h"
#include "runner/model_api/usage.h"
#include "scorers/util.h"

static void
call_from_json(const cJSON *j, struct cab_model_call *c)
{
  *c = (struct cab_model_call){.json = j};
  if (!cJSON_IsObject(j))
    return;
  c->seq = cab_num_at(j, CAB_CALL_SEQ);
  c->status = cab_num_at(j, CAB_CALL_STATUS);
  c->latency_ms = cab_num_at(j, CAB_CALL_LATENCY_MS);
  c->prompt_tokens = cab_num_at(j, CAB_CALL_PROMPT_TOKENS);
  c->completion_tokens = cab_num_at(j, CAB_CALL_COMPLETION_TOKENS);
  c->total_tokens = cab_num_at(j, CAB_CALL_TOTAL_TOKENS);
  c->timestamp = cab_jget_str(j, CAB_CALL_TIMESTAMP);
  c->request_sha256 = cab_jget_str(j, CAB_CALL_REQUEST_SHA256);
  c->path = cab_jget_str(j, CAB_CALL_PATH);
  c->model = cab_jget_str(j, CAB_CALL_MODEL);
  c->finish_reason = cab_jget_str(j, CAB_CALL_FINISH_REASON);
  c->translated_from = cab_jget_str(j, CAB_CALL_TRANSLATED_FROM);
  c->error = cJSON_GetObjectItemCaseSensitive(j, CAB_CALL_ERROR);
}

size_t
cab_model_calls_each(const char *text, size_t len, unsigned flags, cab_model_call_fn fn, void *arg)
{
  size_t bad = 0;
  const char *line;
  size_t n;
  for (size_t i = 0; cab_next_line(text, len, &i, &line, &n);) {
    if (n == 0)
      continue;
    cJSON *j = cJSON_ParseWithLength(line, n);
    if (j == NULL || (!cJSON_IsObject(j) && !(flags & CAB_MODEL_CALLS_ANY_JSON))) {
      bad++;
      cJSON_Delete(j);
      continue;
    }
    struct cab_model_call call;
    call_from_json(j, &call);
    fn(&call, arg);
    cJSON_Delete(j);
  }
  return bad;
}

/* A count at the top of the line, else under "usage"; usage.h's rule: a
 * figure out of range counts as the maximum, never wraps (a cast of 9.2e18
 * did) nor lowers the cell's cost. */
static int64_t
token_count(const struct cab_model_call *c, struct cab_num top, const char *key)
{
  struct cab_num v = top.has ? top
                             : cab_num_at(cJSON_GetObjectItemCaseSensitive(c->json, CAB_CALL_USAGE), key);
  if (!v.has)
    return 0;
  int64_t n;
  cab_usage_count(v.v, &n);
  return n;
}

static void
add_call(const struct cab_model_call *c, void *arg)
{
  struct cab_token_totals *t = arg;
  int64_t pt = token_count(c, c->prompt_tokens, CAB_CALL_PROMPT_TOKENS);
  int64_t ct = token_count(c, c->completion_tokens, CAB_CALL_COMPLETION_TOKENS);
  int64_t tt = token_count(c, c->total_tokens, CAB_CALL_TOTAL_TOKENS);
  t->prompt_tokens += pt;
  t->completion_tokens += ct;
  t->total_tokens += tt ? tt : pt + ct;
  t->model_calls++;
  t->model_call_ms += c->latency_ms.has ? c->latency_ms.v : 0;
}

void
cab_model_calls_sum(const char *text, size_t len, struct cab_token_totals *t)
{
  memset(t, 0, sizeof *t);
  cab_model_calls_each(text, len, 0, add_call, t);
}

int64_t
cab_model_call_time_ns(const char *stamp)
{
  if (stamp == NULL)
    return 0;
  struct tm tm = {0};
  const char *rest = strptime(stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  int64_t frac_ns = 0;
  if (rest && *rest == '.') {
    /* ".368" is 368 ms: scale by the number of digits given. */
    int64_t scale = 100000000;
    for (const char *d = rest + 1; *d >= '0' && *d <= '9' && scale > 0; d++, scale /= 10)
      frac_ns += (*d - '0') * scale;
  }
  return (int64_t)timegm(&tm) * 1000000000 + frac_ns;
}
