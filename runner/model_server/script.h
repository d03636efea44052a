/* Model scripts: the replies `cab model-server --script FILE` gives, turn by
 * turn, and their rendering in the OpenAI and Anthropic wire shapes.
 *
 * A script is one JSON object (tests/model/README.md has examples):
 *
 *   {
 *     "model": "scripted/demo",          required: the model name served
 *     "stream_chunk_delay_ms": 0,        optional: pause between SSE events
 *     "after_last": "done",              optional: "done" (default) or "repeat"
 *     "usage": [ {...}, ... ],           optional: usage of turn i (see below)
 *     "turns": [                         required, at least one
 *       {"content": "text"},
 *       {"tool_calls": [{"name": "write_file",
 *                        "arguments": {"path": "a.txt", "content": "hi"}}]},
 *       {"status": 429, "retry_after": 1},
 *       ...
 *     ]
 *   }
 *
 * A turn holds "content" (a string), "tool_calls" (an array of {"name",
 * "arguments": an object or a JSON string, optional "id"}), or both; or an
 * HTTP error "status" (400..599; optional "error": its message, "retry_after":
 * seconds for a Retry-After header).  Optional: "usage", "finish_reason"
 * (default "tool_calls" when there are tool calls, else "stop"), "delay_ms"
 * (before the response starts), "stream_chunk_delay_ms" (this turn's pause
 * between events), "hang": true (never answer; the connection is held until
 * the client goes away or the server stops).
 *
 * Usage is {"prompt_tokens": N, "completion_tokens": M} with optional
 * "total_tokens" (default N + M) and "cached_tokens" (default 0), given per
 * turn or as the top-level "usage" array (not both for one turn).  A turn
 * without usage reports prompt 10, completion 5.  The figures are served
 * exactly: OpenAI usage.prompt_tokens/completion_tokens/total_tokens
 * (prompt_tokens_details.cached_tokens); Anthropic input_tokens = prompt -
 * cached, cache_read_input_tokens = cached, output_tokens = completion.
 *
 * Turn i answers the i-th request of the chat family (POST
 * /v1/chat/completions, /v1/completions, /v1/messages), whatever its
 * endpoint.  After the last turn: "done" answers every further request with
 * the content "done", finish_reason "stop" and usage prompt 10, completion 5;
 * "repeat" answers with the last turn again.  Unknown keys are errors, so a
 * typo is caught at load time.
 *
 * "without_tools": a turn (optional) that answers every request offering no
 * tools (an empty or absent "tools"), such as the title or summary calls
 * some agents make beside their main loop, without using up a turn: the
 * main loop's turns then stay in order whenever those side calls come. */
#ifndef CAB_RUNNER_MODEL_SCRIPT_H
#define CAB_RUNNER_MODEL_SCRIPT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "runner/model_api/cassette.h"

struct cab_script_tool_call {
  char *id;        /* NULL: generated, "call_cab<request>_<k>" */
  char *name;
  char *arguments; /* JSON text */
};

struct cab_script_turn {
  char *content;   /* NULL: none */
  struct cab_script_tool_call *tool_calls;
  size_t n_tool_calls;
  char *finish_reason;
  int64_t prompt_tokens, completion_tokens, total_tokens, cached_tokens;
  int status;      /* 200, or the scripted failure */
  char *error;     /* the failure's message, NULL: a default */
  int retry_after; /* seconds; 0: no header */
  int64_t delay_ms;
  int64_t chunk_delay_ms;
  bool hang;
};

struct cab_script {
  char *model;
  struct cab_script_turn *turns;
  size_t n_turns;
  bool repeat_last; /* after_last: "repeat" */
  struct cab_script_turn *without_tools; /* answers requests offering no tools
                                            (an agent's title or summary calls)
                                            without using up a turn; NULL: none */
  struct cab_script_turn done; /* the answer after the last turn */
};

/* Parse and validate.  NAME is used in messages ("script NAME: turns[2]...").
 * Errors are one line: `script F: turns[2].tool_calls[0]: missing "name"`. */
int cab_script_parse(const char *text, size_t len, const char *name, struct cab_script **out,
                     cab_error *err);
int cab_script_load(const char *path, struct cab_script **out, cab_error *err);
void cab_script_free(struct cab_script *s);

/* The turn that answers chat request number INDEX (0-based). */
const struct cab_script_turn *cab_script_turn_for(const struct cab_script *s, size_t index);

/* --- rendering (script_render.c, script_embed.c) -------------------------------- */

/* Every answer's "created": fixed, so that scripted answers are reproducible. */
#define CAB_MODEL_CREATED 1735689600

enum cab_model_api {
  CAB_API_CHAT,        /* POST /v1/chat/completions */
  CAB_API_COMPLETIONS, /* POST /v1/completions */
  CAB_API_MESSAGES,    /* POST /v1/messages (Anthropic) */
};

/* A whole HTTP answer: status, type and the body's pieces, each with the
 * time (ms since the request arrived) it is due.  The headers go out with
 * the first piece. */
struct cab_model_reply {
  int status;
  char content_type[64];
  struct cab_cassette_chunk *chunks;
  size_t n_chunks;
  int retry_after;  /* seconds; 0: no Retry-After header */
  bool hang;        /* never answer */
  bool stream;      /* SSE (chunked, no Content-Length) */
};

void cab_model_reply_free(struct cab_model_reply *r);

/* A reply with one JSON piece (takes J), due at once. */
int cab_model_reply_json(struct cab_model_reply *r, int status, cJSON *j);

/* An error reply in the API's shape: OpenAI {"error": {message, type, param,
 * code}} or Anthropic {"type": "error", "error": {type, message}}, the type
 * the status's (api_errors.h). */
int cab_model_reply_error(struct cab_model_reply *r, bool anthropic, int status,
                          const char *code, const char *message);

/* Render turn T for API, as the answer to request REQ (a parsed JSON body;
 * "stream" and "stream_options.include_usage" are honoured).  SEQ (1, 2...)
 * numbers the answer's ids ("chatcmpl-cab<SEQ>", "call_cab<SEQ>_<k>"). */
int cab_script_render(const struct cab_script *s, const struct cab_script_turn *t,
                      enum cab_model_api api, const cJSON *req, int64_t seq,
                      struct cab_model_reply *out, cab_error *err);

/* GET /v1/models (OpenAI list, or Anthropic's when ANTHROPIC is set). */
int cab_script_render_models(const struct cab_script *s, bool anthropic,
                             struct cab_model_reply *out);

/* POST /v1/embeddings: a deterministic unit vector per input (a function of
 * the text alone), "dimensions" long (default 16); usage counts one token
 * per whitespace-separated word (at least one per input). */
int cab_script_render_embeddings(const struct cab_script *s, const cJSON *req,
                                 struct cab_model_reply *out);

#endif
