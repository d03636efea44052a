/* What the proxy needs to know about a client's request body, and the one
 * rewrite it makes (the client's wire's ops.ask_usage, wire_ops.h): a
 * streaming chat (or legacy) completion that does not ask for usage gets
 * stream_options.include_usage=true, so that the stream's last event
 * carries the token counts.  The extra event (choices: []) is passed
 * through to the client unchanged; OpenAI's own SDKs expect it whenever
 * include_usage is set, and the call's record says usage_injected. */
#ifndef CAB_RUNNER_PROXY_REQUEST_H
#define CAB_RUNNER_PROXY_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include "runner/proxy/wire.h"

struct cab_request_info {
  char model[256];   /* "" when absent; as long as the translator's */
  bool stream;       /* "stream": true */
  enum cab_wire wire; /* the client's (cab_wire_of_sender): the key goes upstream in
                         its key header (wire_ops.h) */
};

/* PATH is the request target without its query; HAS_HEADER(CLS, name)
 * asks the request's headers.  When the body is rewritten, *OUT gets a
 * malloc'd copy (and *OUT_LEN its length); otherwise *OUT stays NULL. */
void cab_request_inspect(const char *path, cab_wire_has_header_fn *has_header, void *cls,
                         const char *body, size_t len, struct cab_request_info *info, char **out,
                         size_t *out_len);

#endif
