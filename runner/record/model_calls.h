/* model_calls.jsonl: one JSON object a line, one line per call through the
 * cell's proxy.  The proxy writes it (runner/proxy/calllog.c, with the key
 * names below); run-cell turns it into trace spans, the tokens scorer sums
 * it, the report lists it: all three read it here, typed, and the tokens
 * are summed in one place (cab_model_calls_sum). */
#ifndef CAB_RUNNER_RECORD_MODEL_CALLS_H
#define CAB_RUNNER_RECORD_MODEL_CALLS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scorers/scores.h"

/* The keys of a line, in the order the proxy writes them. */
#define CAB_CALL_SEQ "seq"
#define CAB_CALL_TIMESTAMP "timestamp"            /* UTC, "2026-01-02T03:04:05.678Z" */
#define CAB_CALL_REQUEST_SHA256 "request_sha256"
#define CAB_CALL_METHOD "method"
#define CAB_CALL_PATH "path"
#define CAB_CALL_MODEL "model"
#define CAB_CALL_RESPONSE_MODEL "response_model"
#define CAB_CALL_STREAM "stream"
#define CAB_CALL_PROMPT_TOKENS "prompt_tokens"    /* null when no usage was reported */
#define CAB_CALL_COMPLETION_TOKENS "completion_tokens"
#define CAB_CALL_TOTAL_TOKENS "total_tokens"
#define CAB_CALL_CACHED_TOKENS "cached_tokens"
#define CAB_CALL_REASONING_TOKENS "reasoning_tokens"
#define CAB_CALL_USAGE_CLAMPED "usage_clamped"
#define CAB_CALL_USAGE_NOTE "usage_note"
#define CAB_CALL_FINISH_REASON "finish_reason"
#define CAB_CALL_STATUS "status"
#define CAB_CALL_TTFB_MS "ttfb_ms"
#define CAB_CALL_LATENCY_MS "latency_ms"
#define CAB_CALL_ATTEMPTS "attempts"
#define CAB_CALL_CLASS "class"
#define CAB_CALL_ERROR "error"
#define CAB_CALL_USAGE_INJECTED "usage_injected"
#define CAB_CALL_REPLAYED "replayed"
#define CAB_CALL_TRANSLATED_FROM "translated_from"
#define CAB_CALL_ANSWERED_BY "answered_by"
#define CAB_CALL_KEY_REDACTED "key_redacted"
#define CAB_CALL_REPLAY_NOTE "replay_note"
/* Not written by the proxy: an object some other writers put the three
 * token counts in; the tokens sum looks there when a count is not at the top. */
#define CAB_CALL_USAGE "usage"

/* One line, typed.  A number is there (has) only when the line holds a JSON
 * number under its key; a string is NULL unless the line holds a string.
 * The pointers live as long as the line (the callback's call). */
struct cab_model_call {
  const cJSON *json;                     /* the whole line, for what is not typed */
  struct cab_num seq, status, latency_ms;
  struct cab_num prompt_tokens, completion_tokens, total_tokens;
  const char *timestamp, *request_sha256, *path, *model, *finish_reason, *translated_from;
  const cJSON *error;                    /* any JSON value, or NULL when the key is absent */
};

enum {
  /* A line that is JSON but not an object is a call with nothing in it (the
   * trace spans have always made one), not an unreadable line. */
  CAB_MODEL_CALLS_ANY_JSON = 1 << 0,
};

typedef void (*cab_model_call_fn)(const struct cab_model_call *call, void *arg);

/* Call FN for each line of TEXT (LEN bytes; TEXT may be NULL) that is a JSON
 * object, in order.  Empty lines are skipped; other lines that do not parse
 * (or, without CAB_MODEL_CALLS_ANY_JSON, are not objects) are skipped and
 * counted.  Returns the number of lines skipped that way. */
size_t cab_model_calls_each(const char *text, size_t len, unsigned flags, cab_model_call_fn fn,
                            void *arg);

/* The calls' sum: what the tokens and latency scorers report. */
struct cab_token_totals {
  int64_t prompt_tokens, completion_tokens, total_tokens, model_calls;
  double model_call_ms;
};

/* Sum model_calls.jsonl: every object line is a call; a token count is the
 * top-level number, else the one under "usage", clamped as usage.h says
 * (cab_usage_count); a missing total is prompt + completion.  Unreadable
 * lines are skipped. */
void cab_model_calls_sum(const char *text, size_t len, struct cab_token_totals *t);

/* "2026-01-02T03:04:05.678Z" as nanoseconds since the epoch (UTC); 0 when
 * STAMP is NULL. */
int64_t cab_model_call_time_ns(const char *stamp);

#endif
