/* The OpenAI Responses API (codex): its requests, as the endpoint's wire
 * and translated to chat (translate_req_responses.c,
 * translate_stream_responses.c). */
#include <stdio.h>

#include "runner/proxy/wire_ops.h"

/* /v1/responses, maybe under a prefix ("/openai/v1/responses"); anything
 * below it (GET /v1/responses/ID) is no model call. */
static bool
responses_route(const char *path, const char *query, struct cab_wire_route *out)
{
  const char *p = cab_wire_find_component(path, "/v1/responses");
  if (p == NULL)
    return false;
  out->kind = p[13] == '\0' ? CAB_ROUTE_GENERATE : CAB_ROUTE_OTHER;
  return true;
}

static const char *const endpoint_posts[] = {"/v1/responses", "/v1/completions",
                                             "/v1/embeddings", NULL};

static cJSON *
responses_call(const struct cab_translate_ctx *ctx, const char *id, const char *name,
               const char *args)
{
  return tr_responses_call_item(ctx, id, name, args, "completed");
}

static cJSON *
responses_answer(const struct cab_translate_ctx *ctx, const struct tr_answer *a)
{
  cJSON *output = cJSON_CreateArray();
  if (a->text.len) {
    char id[512];
    snprintf(id, sizeof id, "msg_%s_0", a->id);
    cJSON_AddItemToArray(output, tr_responses_message_item(id, "completed", a->text.s));
  }
  tr_answer_add_calls(ctx, a, output, responses_call);
  bool incomplete = a->finish == TR_FINISH_LENGTH || a->finish == TR_FINISH_FILTER;
  return tr_responses_object(a->id, a->created, a->model, incomplete ? "incomplete" : "completed",
                             a->finish, output, &a->usage);
}

const struct cab_wire_ops cab_wire_responses = {
    .name = "responses",
    .route = responses_route,
    .key_header = "Authorization: Bearer ",
    .endpoint = true,
    .endpoint_posts = endpoint_posts,
    .served = "POST /v1/responses, /v1/completions, /v1/embeddings; GET /v1/models",
    .request = tr_request_responses,
    .answer = responses_answer,
    .stream = &tr_emit_responses,
    .count_key = "input_tokens",
    .error = tr_error_openai,
};
