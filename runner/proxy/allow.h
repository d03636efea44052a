/* Which requests the proxy sends upstream with the real key.
 *
 * The proxy is no general relay: with any method and path allowed, an agent
 * reached any URL of the endpoint's host with cab's key (and curl, like
 * most servers, normalises dot-segments: with --endpoint
 * http://host/tenant-a/v1, "GET /../../admin" became "/admin").  So only the
 * model API calls of the endpoint's wire go on, under the endpoint's prefix,
 * and only targets that every parser reads the same way. */
#ifndef CAB_RUNNER_PROXY_ALLOW_H
#define CAB_RUNNER_PROXY_ALLOW_H

#include <stddef.h>

#include "runner/proxy/wire.h"

/* A request target's path (no query) that means the same to every parser:
 * no "." or ".." segment, no empty segment, no backslash, no encoded '.',
 * '/', '\' or NUL (%2e %2f %5c %00, any case).  0, or 400 with WHY. */
int cab_allow_target(const char *path, char *why, size_t size);

/* METHOD PATH for an endpoint speaking ENDPOINT_WIRE: 0 when it goes on
 * (upstream, or through the translation to chat), 404 for a path that is
 * no model call of that wire, 405 for a wrong method; WHY says which, and
 * what is served.  Forwarded as they are: what the wire's
 * ops.endpoint_call serves (wire_<name>.c; e.g. chat: POST
 * /v1/chat/completions, /v1/completions, /v1/embeddings, GET /v1/models,
 * /v1/models/ID).  Translated to chat (a chat endpoint): POST of another wire's model call
 * (wire.h); the bridge answers anything else of that wire itself. */
int cab_allow_call(enum cab_wire endpoint_wire, const char *method, const char *path,
                   char *why, size_t size);

#endif
