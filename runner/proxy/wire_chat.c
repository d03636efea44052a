/* OpenAI Chat Completions: the endpoint's own language, so the identity
 * of the translation (requests, answers, streams and JSON errors pass as
 * they are). */
#include <stddef.h>

#include "runner/proxy/wire_ops.h"

static bool
chat_route(const char *path, const char *query, struct cab_wire_route *out)
{
  if (!cab_wire_ends_with(path, "/chat/completions"))
    return false;
  out->kind = CAB_ROUTE_GENERATE;
  return true;
}

static const char *const endpoint_posts[] = {"/v1/chat/completions", "/v1/completions",
                                             "/v1/embeddings", NULL};

const struct cab_wire_ops cab_wire_chat = {
    .name = "chat",
    .route = chat_route,
    .key_header = "Authorization: Bearer ",
    .endpoint_posts = endpoint_posts,
    .served = "POST /v1/chat/completions, /v1/completions, /v1/embeddings; GET /v1/models",
    .identity = true,
    .count_key = "input_tokens",
    .error_shape = CAB_API_ERROR_OPENAI,
};
