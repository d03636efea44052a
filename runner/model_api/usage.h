/* Token usage as model endpoints report it, for exact accounting.
 * OpenAI: "usage": {prompt_tokens, completion_tokens, total_tokens} in a JSON
 * body or in the final SSE chunk (with stream_options.include_usage).
 * Anthropic Messages: "usage": {input_tokens, output_tokens} in the body, or
 * spread over message_start / message_delta SSE events.
 * Gemini: "usageMetadata" {promptTokenCount, candidatesTokenCount (plus
 * thoughtsTokenCount), totalTokenCount} in the body or each SSE chunk.
 * Also the OpenAI Responses API: "usage": {input_tokens, output_tokens,
 * total_tokens} in the body or in the response.completed event.
 *
 * Anthropic's input_tokens leaves out cached input, so prompt_tokens is
 * input_tokens + cache_creation_input_tokens + cache_read_input_tokens (as
 * OpenAI's prompt_tokens includes its cached tokens); cached_tokens is
 * cache_read_input_tokens.  A body without usage (an error, a stream without
 * include_usage) leaves present false and the counts 0.
 *
 * The figures are not trusted: a count is an integer in 0..CAB_USAGE_TOKENS_MAX.
 * One beyond it (9223372036854775807 once wrapped to a negative total and
 * scored the best cost) counts as the maximum, a fraction is rounded up,
 * and one that is negative or not a number counts as the maximum too: a
 * bad figure can only make a cell look more expensive, never cheaper.
 * Each such figure sets clamped, and the first is described in note. */
#ifndef CAB_RUNNER_MODEL_API_USAGE_H
#define CAB_RUNNER_MODEL_API_USAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* No model call comes near 2^32 tokens (contexts hold a few million), and
 * sums of such counts stay exact in a double and far from int64 overflow. */
#define CAB_USAGE_TOKENS_MAX INT64_C(4294967295)

/* A token count V as a JSON number gives: *OUT in 0..CAB_USAGE_TOKENS_MAX.
 * Returns 0 when V was such an integer, else 1 (the rule above). */
int cab_usage_count(double v, int64_t *out);

struct cab_usage {
  bool present;              /* the response carried usage figures */
  int64_t prompt_tokens;
  int64_t completion_tokens;
  int64_t total_tokens;      /* prompt + completion when not reported */
  char finish_reason[32];    /* "stop", "tool_calls", "length", "end_turn", ... */
  char model[128];           /* the model the endpoint says answered */
  /* Added by the implementation (zero when not reported): */
  int64_t cached_tokens;     /* OpenAI prompt_tokens_details.cached_tokens,
                                Anthropic cache_read_input_tokens */
  int64_t reasoning_tokens;  /* OpenAI completion_tokens_details.reasoning_tokens */
  bool clamped;              /* a figure was out of range or not a count */
  char note[160];            /* the first such figure, and what it counted as */
};

/* Parse a complete, non-streamed JSON response body. */
void cab_usage_from_json(const char *body, size_t len, struct cab_usage *u);

/* Incremental SSE scanner: feed the response bytes as they pass, in any
 * chunking; it tracks "data:" events of both API shapes. */
struct cab_sse_usage;
struct cab_sse_usage *cab_sse_usage_new(void);
void cab_sse_usage_feed(struct cab_sse_usage *s, const char *data, size_t len);
void cab_sse_usage_finish(struct cab_sse_usage *s, struct cab_usage *u); /* frees S */

/* A whole SSE stream at once (new + feed + finish). */
void cab_usage_from_sse(const char *data, size_t len, struct cab_usage *u);

#endif
