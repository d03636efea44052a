/* Pure translation between the client's wire (wire.h) and OpenAI Chat
 * Completions, the only API the model endpoint speaks.  No I/O, no global
 * state: the proxy calls
 *
 *   cab_translate_request()   client request  -> chat request, and a ctx
 *   cab_translate_response()  chat completion -> client response (non-stream)
 *   cab_sse_translator_*()    chat SSE        -> client stream
 *   cab_translate_error()     upstream error  -> client error shape
 *
 * The ctx carries what the answer's translation needs to know about the
 * request: the wire, the client's model, whether it streams, and which tool
 * names were Responses "custom" (free-form) tools.
 *
 * What each wire keeps and drops (both directions):
 *  - every wire: text, system prompts, function tools, tool_choice, tool
 *    calls and their results, max tokens, temperature, top_p, stop
 *    sequences (Anthropic, Gemini; Responses has none), stream, the
 *    client's model.  Images, files and audio become a text note
 *    "[image omitted]" etc.  Reasoning/thinking input is dropped, and
 *    reasoning deltas of the answer are not shown (their tokens still count
 *    in usage).  The chat request uses string contents only.
 *  - Responses: `instructions` and leading system/developer messages become
 *    one system message; later ones stay system messages.  `custom` tools
 *    (codex's apply_patch) become functions taking {"input": string} and come
 *    back as custom_tool_call items; built-in tools (local_shell, web_search,
 *    file_search, ...) and their call items are dropped.  text.format maps to
 *    response_format.  previous_response_id is refused (the proxy is
 *    stateless); reasoning, include, store, metadata are dropped.
 *  - Anthropic: `system` (string or text blocks), tool_use/tool_result
 *    (is_error results are prefixed "(tool error) "), tool_choice
 *    auto/any/tool/none, disable_parallel_tool_use.  thinking, top_k,
 *    metadata, cache_control and server tools are dropped.
 *  - Gemini: systemInstruction, functionCall/functionResponse,
 *    functionDeclarations (parameters or parametersJsonSchema, type names
 *    lower-cased), toolConfig, generationConfig (maxOutputTokens,
 *    temperature, topP, stopSequences, seed, penalties, responseMimeType
 *    json, responseSchema/responseJsonSchema).  Calls without an id get
 *    "call_<n>" (n counts them from 1 through the request, so the ids are
 *    the same on every turn); a functionResponse takes the id it carries or,
 *    failing that, the earliest unanswered call of its name (one that
 *    matches no call becomes user text).  Answers carry the chat call id
 *    as functionCall.id.  thought parts, code execution, topK,
 *    candidateCount, thinkingConfig, safetySettings are dropped.
 *  - chat: the identity (the body is copied as it is).
 *
 * History repair, so that any client history is a legal chat request:
 * consecutive same-role messages are merged (text joined by a blank line,
 * tool calls gathered into one assistant message); a tool call left without
 * a result gets a "(no result recorded)" tool message; a result whose call
 * is not in the assistant message right before it becomes user text.
 *
 * Tool arguments that are not a JSON object (Anthropic tool_use.input and
 * Gemini functionCall.args need one): "" becomes {}, anything else
 * {"_cab_unparsed_arguments": "<raw text>"}, so that the agent's own input
 * validation rejects the call visibly instead of running it with nothing.
 * In an Anthropic stream, argument fragments are passed on as they come.
 *
 * finish_reason -> Responses status / Anthropic stop_reason / Gemini
 * finishReason: stop -> completed / end_turn (stop_sequence when the server
 * names the matched string, as vLLM's choice.stop_reason does) / STOP;
 * tool_calls -> completed / tool_use / STOP; length -> incomplete
 * (max_output_tokens) / max_tokens / MAX_TOKENS; content_filter ->
 * incomplete (content_filter) / refusal / SAFETY.  An answer with tool
 * calls counts as tool_calls whatever the server said; none at all (a cut
 * stream) counts as stop.
 *
 * Usage: the client sees the upstream's figures exactly.  Responses:
 * input/output/total_tokens = prompt/completion/total_tokens, with
 * cached_tokens and reasoning_tokens.  Anthropic: input_tokens = prompt -
 * cached, cache_read_input_tokens = cached, output_tokens = completion (so
 * that input + cache_read = prompt, as runner/model_api/usage.h counts it);
 * the wire has no field for reasoning tokens (they stay inside
 * output_tokens) nor for the total (prompt + completion).
 * Gemini: promptTokenCount = prompt, candidatesTokenCount = completion -
 * reasoning, thoughtsTokenCount = reasoning, totalTokenCount = total,
 * cachedContentTokenCount = cached. */
#ifndef CAB_RUNNER_PROXY_TRANSLATE_H
#define CAB_RUNNER_PROXY_TRANSLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "runner/proxy/wire.h"

/* Made by cab_translate_request(); read-only for callers. */
struct cab_translate_ctx {
  enum cab_wire wire;
  enum cab_route_kind kind;
  bool stream;        /* the client wants a stream (the chat request has
                         "stream":true and stream_options.include_usage) */
  bool json_array;    /* a stream answered as one JSON array (gemini) */
  char model[256];    /* the client's model (gemini: from the path) */
  char **custom_tools; /* Responses custom tool names */
  size_t n_custom_tools;
};

void cab_translate_ctx_free(struct cab_translate_ctx *ctx);

/* Client-wire request BODY[0..LEN) (ROUTE from cab_wire_of_request, kind
 * GENERATE or COUNT_TOKENS) -> a malloc'd chat request *CHAT_BODY (NUL
 * terminated, *CHAT_LEN bytes) and a malloc'd *CTX.  A COUNT_TOKENS route
 * gives a non-streamed chat request with "max_tokens":1, whose completion
 * cab_translate_response() turns into the wire's count answer (the proxy
 * may instead estimate and use cab_translate_count_response()).  Bad input
 * (not JSON, wrong types, previous_response_id, nothing to send) fills ERR
 * with one line and returns -1 (answer 400 via cab_translate_error()). */
int cab_translate_request(const struct cab_wire_route *route, const char *body, size_t len,
                          char **chat_body, size_t *chat_len, struct cab_translate_ctx **ctx,
                          cab_error *err);

/* A non-streamed chat completion CHAT_JSON[0..LEN) -> the client wire's
 * response object (for a COUNT_TOKENS ctx: the count answer from
 * usage.prompt_tokens).  A body that is not a chat completion fills ERR
 * and returns -1 (answer 502). */
int cab_translate_response(const struct cab_translate_ctx *ctx, const char *chat_json, size_t len,
                           char **out, size_t *out_len, cab_error *err);

/* The wire's token-count answer for INPUT_TOKENS: Anthropic
 * {"input_tokens":N}, Gemini {"totalTokens":N}, others {"input_tokens":N}. */
int cab_translate_count_response(const struct cab_translate_ctx *ctx, int64_t input_tokens,
                                 char **out, size_t *out_len, cab_error *err);

/* Wrap an upstream error (HTTP_STATUS, body JSON or plain text, maybe
 * empty) in the wire's error shape: Anthropic {"type":"error","error":
 * {"type","message"}}, Gemini {"error":{"code","message","status"}},
 * Responses and chat {"error":{"message","type","param","code"}} (a chat
 * client gets a JSON upstream body unchanged).  Also for cab's own errors:
 * pass the message as the body.  Returns -1 only when out of memory. */
int cab_translate_error(const struct cab_wire_route *route, int http_status,
                        const char *upstream_body, size_t len, char **out, size_t *out_len);

/* Content-Type of the translated answer: text/event-stream for a stream
 * (application/json for a gemini JSON-array stream), else application/json. */
const char *cab_translate_content_type(const struct cab_translate_ctx *ctx);

/* Streaming: chat completion chunks (SSE) in, the client wire's stream out.
 *
 * Feed the upstream bytes as they arrive, split anywhere (LF, CRLF or CR
 * line ends, comments, multi-line data); each call returns in *OUT a
 * malloc'd, NUL-terminated buffer (possibly empty, *OUT_LEN 0) of client
 * bytes to send now.  The output depends only on the events, never on how
 * the input was split.  finish() closes the client stream properly (final
 * events with the usage seen) whether or not upstream sent finish_reason or
 * [DONE]; after the wire's final event further input is ignored.  Upstream
 * data that is not JSON is skipped; a chunk {"error":...} becomes the
 * wire's error (response.failed, Anthropic's error event, a Gemini
 * {"error":...} chunk) and ends the stream.  feed() and finish() fail
 * (-1, ERR) only when out of memory or on an SSE event over 64 MiB; new()
 * returns NULL only when out of memory.  A chat ctx passes bytes through.
 *
 * Responses: response.created/in_progress, then per item output_item.added,
 * (content_part.added, output_text.delta..., output_text.done,
 * content_part.done | function_call_arguments.delta... and .done |
 * custom_tool_call_input.delta and .done), output_item.done, and
 * response.completed (response.incomplete for length/content_filter) with
 * the full response and usage.  Custom tool input is sent in one delta when
 * the call is complete (it must be decoded from the {"input":...} JSON).
 * Anthropic: message_start (input_tokens 0), content_block_start/delta/stop
 * (text_delta, input_json_delta), message_delta (stop_reason, full usage),
 * message_stop.  Gemini: one chunk per text delta (the last one held back to
 * go with the final chunk), then the final chunk with the function calls,
 * finishReason and usageMetadata; as SSE "data:" events, or for
 * json_array as "[" chunk ",\r\n" chunk ... "]".
 *
 * Several tool calls: the first streams as it comes; another call's
 * fragments are held until the streaming call's arguments form complete
 * JSON (then it is closed and the next starts) or the stream finishes
 * (then the held calls follow whole, in order).  Text that arrives while a
 * call is open and incomplete is held the same way and follows the calls as
 * its own block.
 *
 * CTX must outlive T. */
struct cab_sse_translator;
struct cab_sse_translator *cab_sse_translator_new(const struct cab_translate_ctx *ctx);
int cab_sse_translator_feed(struct cab_sse_translator *t, const char *data, size_t n, char **out,
                            size_t *out_len, cab_error *err);
int cab_sse_translator_finish(struct cab_sse_translator *t, char **out, size_t *out_len,
                              cab_error *err);
void cab_sse_translator_free(struct cab_sse_translator *t);
/* The chat stream's usage held a figure that was not a token count: the
 * client got it clamped (runner/model_api/usage.h). */
bool cab_sse_translator_usage_clamped(const struct cab_sse_translator *t);

#endif
