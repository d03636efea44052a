/* Anthropic Messages (claude-code): its requests, as the endpoint's wire
 * and translated to chat (translate_req_anthropic.c,
 * translate_stream_anthropic.c). */
#include <string.h>

#include "runner/proxy/wire_ops.h"

/* /v1/messages and /v1/messages/count_tokens, maybe under a prefix;
 * anything else below /v1/messages (batches) is no model call. */
static bool
anthropic_route(const char *path, const char *query, struct cab_wire_route *out)
{
  const char *p = cab_wire_find_component(path, "/v1/messages");
  if (p == NULL)
    return false;
  if (p[12] == '\0')
    out->kind = CAB_ROUTE_GENERATE;
  else if (strcmp(p + 12, "/count_tokens") == 0)
    out->kind = CAB_ROUTE_COUNT_TOKENS;
  else
    out->kind = CAB_ROUTE_OTHER;
  return true;
}

static const char *const endpoint_posts[] = {"/v1/messages", "/v1/messages/count_tokens",
                                             NULL};

static cJSON *
anthropic_call(const struct cab_translate_ctx *ctx, const char *id, const char *name,
               const char *args)
{
  return tr_anthropic_tool_use_block(id, name, tr_args_object(args));
}

static cJSON *
anthropic_answer(const struct cab_translate_ctx *ctx, const struct tr_answer *a)
{
  cJSON *content;
  cJSON *r = tr_anthropic_message(a->id, a->model, &content);
  if (a->text.len)
    cJSON_AddItemToArray(content, tr_anthropic_text_block(a->text.s));
  tr_answer_add_calls(ctx, a, content, anthropic_call);
  tr_anthropic_stop_fields(r, a->finish, a->stop_sequence);
  cJSON_AddItemToObject(r, "usage", tr_usage_anthropic(&a->usage));
  return r;
}

const struct cab_wire_ops cab_wire_anthropic = {
    .name = "anthropic",
    .route = anthropic_route,
    .marker_header = "anthropic-version", /* every Anthropic SDK sends it */
    .key_header = "x-api-key: ",
    .endpoint = true,
    .endpoint_posts = endpoint_posts,
    .served = "POST /v1/messages, /v1/messages/count_tokens; GET /v1/models",
    .request = tr_request_anthropic,
    .answer = anthropic_answer,
    .stream = &tr_emit_anthropic,
    .count_key = "input_tokens",
    .error = tr_error_anthropic,
};
