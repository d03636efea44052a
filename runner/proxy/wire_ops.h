/* What one wire is, as data and functions: the ops every wire_<name>.c
 * defines (as crun's handlers/ files each define their handler struct), and
 * the registry (wire.h) that lists them.  Everything that differs between
 * wires is here; the proxy's other files ask the ops and never name a
 * wire. */
#ifndef CAB_RUNNER_PROXY_WIRE_OPS_H
#define CAB_RUNNER_PROXY_WIRE_OPS_H

#include <stdbool.h>

#include "runner/proxy/translate_internal.h"
#include "runner/proxy/wire.h"

/* How the allow-list (allow.h) serves a path of the endpoint's wire. */
enum cab_verb { CAB_VERB_NONE, CAB_VERB_GET, CAB_VERB_POST };

struct cab_wire_ops {
  const char *name; /* --endpoint-wire, model_calls.jsonl's translated_from */

  /* --- the client's requests ---------------------------------------------- */
  /* Is PATH (no query; QUERY after '?', maybe NULL) a request of this wire?
   * Fill *OUT's kind (and stream, json_array, model) when it is. */
  bool (*route)(const char *path, const char *query, struct cab_wire_route *out);
  /* A request header only this wire's clients send, and path prefixes only
   * they use: what names the wire of a request that route() does not know
   * (cab_wire_of_client).  NULL: none. */
  const char *marker_header;
  const char *const *marker_prefixes; /* NULL-terminated */
  /* The header line that carries the real key upstream, without the key
   * ("x-api-key: "), for a call of this wire that is passed through. */
  const char *key_header;

  /* A passed-through streamed call whose stream would not report its
   * usage: BODY[0..LEN) (parsed: ROOT) rewritten to ask for it, malloc'd
   * (*OUT_LEN), or NULL.  NULL: the wire's streams report it anyway. */
  char *(*ask_usage)(const char *path, const char *body, size_t len, cJSON *root,
                     size_t *out_len);

  /* --- as the endpoint's wire (allow.h) ------------------------------------ */
  /* The wire may be the model endpoint's (--endpoint-wire, a sweep model's
   * endpoint_wire): the bridge translates chat into it and back.  Gemini
   * may not (no bridge to it), so a new wire opts in. */
  bool endpoint;
  /* The paths served by POST (NULL-terminated; GET /v1/models and
   * /v1/models/ID besides), or, for a wire whose paths are no such list,
   * the function that says which method serves PATH; and what the
   * refusal's "served:" lists. */
  const char *const *endpoint_posts;
  enum cab_verb (*endpoint_call)(const char *path);
  const char *served;

  /* --- to and from chat (translate.h) --------------------------------------
   * The identity wire (chat) passes requests, answers, streams and JSON
   * errors as they are, and has none of the functions below. */
  bool identity;
  const char *call_path; /* identity: where a translated model call goes */
  bool model_in_path; /* the model is the route's (gemini), not the body's */
  /* The request's messages, tools and settings into ROOT (the chat request;
   * "model" and "messages" are made already). */
  int (*request)(const cJSON *in, cJSON *root, struct tr_msgs *m, struct cab_translate_ctx *ctx,
                 cab_error *err);
  /* A non-streamed completion as the wire's answer. */
  cJSON *(*answer)(const struct cab_translate_ctx *ctx, const struct tr_answer *a);
  /* The stream's steps (translate_stream.c). */
  const struct tr_emitter *stream;
  const char *count_key; /* the token-count answer's field: {"<count_key>":N} */
  /* An error {"error":...} in the wire's shape (TYPE, CODE may be NULL;
   * translate_error.c has the OpenAI, Anthropic and Gemini shapes). */
  cJSON *(*error)(int http_status, const char *message, const char *type, const char *code);
};

/* The ops of WIRE (one of the registry's). */
const struct cab_wire_ops *cab_wire_ops(enum cab_wire wire);

/* Helpers for the wires' route() and endpoint_call() (wire.c, allow.c). */

/* S ends with SUFFIX. */
bool cab_wire_ends_with(const char *s, const char *suffix);
/* Where component path SEG ("/v1/responses") starts in PATH, as a whole
 * component run (followed by '/' or the end); NULL if absent. */
const char *cab_wire_find_component(const char *path, const char *seg);
/* A model id in a path: [A-Za-z0-9._~:@+/-], not empty, not starting with '/'. */
bool cab_allow_model_id(const char *s);

#endif
