/* The API a client speaks ("wire"), and which request of it a path is.
 *
 * The model endpoint behind the proxy speaks OpenAI Chat Completions only;
 * agents may speak the OpenAI Responses API (codex), Anthropic Messages
 * (claude-code) or the Gemini API (gemini-cli).  translate.h turns their
 * requests into chat requests and the answers back; this header is the
 * registry of wires, and classifies request paths.  What each wire is
 * (paths, translators, error shape, key header) is its ops (wire_ops.h),
 * in wire_<name>.c. */
#ifndef CAB_RUNNER_PROXY_WIRE_H
#define CAB_RUNNER_PROXY_WIRE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

/* The registry of wires: one line per wire, in the order requests are
 * classified (cab_wire_of_request asks each wire in turn).  A wire is its
 * enum value and its ops (wire_ops.h), defined in wire_<name>.c; adding a
 * wire is that file, one line here, and its test. */
#define CAB_WIRE_REGISTRY(X)                                                                   \
  X(CAB_WIRE_CHAT, cab_wire_chat)           /* POST .../chat/completions */                  \
  X(CAB_WIRE_RESPONSES, cab_wire_responses) /* POST /v1/responses */                         \
  X(CAB_WIRE_ANTHROPIC, cab_wire_anthropic) /* POST /v1/messages, .../count_tokens */         \
  X(CAB_WIRE_GEMINI, cab_wire_gemini)       /* POST /v1beta/models/M:generateContent, ... */

enum cab_wire {
#define CAB_WIRE_ENUM(id, ops) id,
  CAB_WIRE_REGISTRY(CAB_WIRE_ENUM)
#undef CAB_WIRE_ENUM
  CAB_WIRE_COUNT
};

enum cab_route_kind {
  CAB_ROUTE_GENERATE,     /* a model call: translate it */
  CAB_ROUTE_COUNT_TOKENS, /* Anthropic count_tokens, Gemini :countTokens */
  CAB_ROUTE_OTHER,        /* the wire's namespace, but nothing cab translates
                             (e.g. GET /v1/responses/ID, :embedContent, a
                             Gemini model name that fails validation): answer
                             with an error in the wire's shape */
};

struct cab_wire_route {
  enum cab_wire wire;
  enum cab_route_kind kind;
  /* Only for a wire whose path says them (ops.model_in_path: gemini);
   * the other wires say them in the body (cab_translate_ctx). */
  bool stream;       /* gemini: :streamGenerateContent */
  bool json_array;   /* gemini stream without alt=sse: the answer is one JSON
                        array of GenerateContentResponse, not SSE */
  char model[256];   /* gemini: the model from the path, URL-decoded and
                        validated; "" for the other wires */
};

/* "chat", "responses", "anthropic", "gemini". */
int cab_wire_parse(const char *name, enum cab_wire *out, cab_error *err);
const char *cab_wire_name(enum cab_wire wire);

/* NAME as the model endpoint's wire: a wire whose ops say .endpoint.
 * Returns -1 without filling an error: each caller says it in its own words
 * with cab_wire_list (the option or the sweep file's key). */
int cab_wire_parse_endpoint(const char *name, enum cab_wire *out);

/* "chat, responses, anthropic, gemini" into BUF: the registry's names, only
 * those that may be the endpoint's when ENDPOINT_ONLY, with EXTRA (NULL for
 * none) as one more alternative; the last joined by " or ".  For messages
 * ("expected chat, responses or anthropic"). */
const char *cab_wire_list(char *buf, size_t size, bool endpoint_only, const char *extra);

/* Classify a request target: the first wire of the registry whose
 * ops.route claims it.  PATH has no query; QUERY is what followed '?'
 * (NULL or "" when none).  Recognised today:
 *   .../chat/completions                         chat, generate
 *   /v1/responses                                responses, generate
 *   /v1/responses/...                            responses, other
 *   /v1/messages                                 anthropic, generate
 *   /v1/messages/count_tokens                    anthropic, count
 *   /v1/messages/...                             anthropic, other
 *   .../{v1beta,v1,v1alpha}/models/M:generateContent        gemini, generate
 *   .../{v1beta,v1,v1alpha}/models/M:streamGenerateContent  gemini, generate, stream
 *   .../{v1beta,v1,v1alpha}/models/M:countTokens            gemini, count
 *   .../{v1beta,v1,v1alpha}/models/M:anything-else          gemini, other
 * The /v1/responses and /v1/messages forms may have a prefix too
 * ("/openai/v1/responses").  Gemini model names may hold '/', ':' (the
 * method is after the last ':') and percent-escapes; after decoding they
 * must be 1-255 bytes of [A-Za-z0-9._~:/@+-], not starting with '/'.
 * Returns false for anything else (the proxy passes it through). */
bool cab_wire_of_request(const char *path_without_query, const char *query,
                         struct cab_wire_route *out);

/* Does the request hold header NAME?  (CLS: the caller's request.) */
typedef bool cab_wire_has_header_fn(void *cls, const char *name);

/* The wire whose key header a passed-through call takes (wire_ops.h):
 * the first wire whose marker header HAS_HEADER finds (a client that sent
 * anthropic-version speaks Anthropic whatever the path), else the wire of
 * the path (cab_wire_of_request), else chat. */
enum cab_wire cab_wire_of_sender(const char *path_without_query, cab_wire_has_header_fn *has_header,
                                 void *cls);

/* The wire a client speaks, to answer a request cab refuses in that wire's
 * error shape: the wire of its path (cab_wire_of_request), else the first
 * wire whose marker header HAS_HEADER finds (anthropic-version) or whose
 * path prefix the path has (/v1beta/), else chat.  *OUT is that route
 * (kind OTHER when only the header or the prefix said it). */
void cab_wire_of_client(const char *path_without_query, const char *query,
                        cab_wire_has_header_fn *has_header, void *cls, struct cab_wire_route *out);

#endif
