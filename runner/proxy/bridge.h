/* The bridge: one call whose client speaks another wire (Responses,
 * Anthropic Messages, Gemini) than the endpoint (Chat Completions).  It
 * holds the call's translation state: the request goes upstream as a chat
 * request, and the upstream's answer is turned back into the client's
 * wire as it arrives (streams stay streams, chunk by chunk).
 *
 * The handler owns the bytes and the timing; the bridge only turns
 * upstream bytes into client bytes (translate.h does the shapes). */
#ifndef CAB_RUNNER_PROXY_BRIDGE_H
#define CAB_RUNNER_PROXY_BRIDGE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "runner/proxy/translate.h"
#include "runner/proxy/wire.h"

struct cab_bridge;

enum cab_bridge_decision {
  CAB_BRIDGE_PASS,      /* the endpoint speaks the client's wire: untouched */
  CAB_BRIDGE_TRANSLATE, /* *OUT made; send *CHAT_BODY to /v1/chat/completions */
  CAB_BRIDGE_REFUSE,    /* answer *STATUS with *ERROR_BODY (the wire's shape) */
};

/* Decide for a request PATH (no query) and QUERY with BODY[0..LEN), for an
 * endpoint speaking ENDPOINT_WIRE.  On TRANSLATE *OUT, *CHAT_BODY and
 * *CHAT_LEN are set; on REFUSE *STATUS, *ERROR_BODY, *ERROR_LEN and ERR (the
 * reason, one line).  Token counts (Anthropic count_tokens, Gemini
 * countTokens) are TRANSLATE with cab_bridge_local_answer() set: they are
 * answered by cab from an estimate, never sent upstream. */
enum cab_bridge_decision cab_bridge_open(enum cab_wire endpoint_wire, const char *path,
                                         const char *query, const char *body, size_t len,
                                         struct cab_bridge **out, char **chat_body,
                                         size_t *chat_len, int *status, char **error_body,
                                         size_t *error_len, cab_error *err);

const struct cab_translate_ctx *cab_bridge_ctx(const struct cab_bridge *b);
const struct cab_wire_route *cab_bridge_route(const struct cab_bridge *b);
const char *cab_bridge_wire_name(const struct cab_bridge *b);

/* For a token-count route: the answer's JSON (malloc'd), estimated at one
 * token per 4 bytes of the chat request; NULL for any other route. */
char *cab_bridge_local_answer(const struct cab_bridge *b, size_t chat_len, size_t *out_len);

/* The upstream's head: STATUS and Content-Type (may be NULL). */
void cab_bridge_begin(struct cab_bridge *b, int status, const char *content_type);

/* What the client's Content-Type is, once begun. */
const char *cab_bridge_content_type(const struct cab_bridge *b);

/* Upstream body bytes in; client bytes are queued.  MAX_BODY bounds a
 * buffered (non-streamed) body.  -1 with ERR on a broken translation. */
int cab_bridge_feed(struct cab_bridge *b, const char *data, size_t n, size_t max_body,
                    cab_error *err);

/* The upstream body ended: queue the closing client bytes. */
int cab_bridge_end(struct cab_bridge *b, cab_error *err);

/* Up to MAX queued client bytes into BUF; 0 when none are queued. */
size_t cab_bridge_take(struct cab_bridge *b, char *buf, size_t max);

/* cab_bridge_end() was called. */
bool cab_bridge_ended(const struct cab_bridge *b);

/* The upstream's usage held a figure that was not a token count (the
 * client got it clamped): *NOTE says which, when known. */
bool cab_bridge_usage_clamped(const struct cab_bridge *b, const char **note);

void cab_bridge_free(struct cab_bridge *b);

#endif
