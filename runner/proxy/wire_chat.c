/* OpenAI Chat Completions: the endpoint's own language, so the identity
 * of the translation (requests, answers, streams and JSON errors pass as
 * they are). */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

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

/* BODY with "stream_options":{"include_usage":true} added, or NULL. */
static char *
inject_usage(const char *body, size_t len, cJSON *root, size_t *out_len)
{
  cJSON *so = cJSON_GetObjectItemCaseSensitive(root, "stream_options");
  if (so == NULL) {
    /* Insert right after the opening brace: every other byte of the
     * client's body stays as it was (cJSON would reformat numbers). */
    static const char add[] = "\"stream_options\":{\"include_usage\":true},";
    size_t at = 0;
    while (at < len && (body[at] == ' ' || body[at] == '\t' || body[at] == '\r' ||
                        body[at] == '\n'))
      at++;
    if (at >= len || body[at] != '{')
      return NULL;
    at++;
    char *out = malloc(len + sizeof add);
    if (out == NULL)
      return NULL;
    memcpy(out, body, at);
    memcpy(out + at, add, sizeof add - 1);
    memcpy(out + at + sizeof add - 1, body + at, len - at);
    *out_len = len + sizeof add - 1;
    out[*out_len] = '\0';
    return out;
  }
  if (!cJSON_IsObject(so))
    return NULL;
  cJSON *inc = cJSON_GetObjectItemCaseSensitive(so, "include_usage");
  if (cJSON_IsTrue(inc))
    return NULL;
  if (inc)
    cJSON_DeleteItemFromObjectCaseSensitive(so, "include_usage");
  cJSON_AddTrueToObject(so, "include_usage");
  char *out = cJSON_PrintUnformatted(root);
  if (out)
    *out_len = strlen(out);
  return out;
}

/* A chat or legacy completion streams its usage only when asked (OpenAI's
 * SDKs expect the extra choices:[] event whenever include_usage is set). */
static char *
chat_ask_usage(const char *path, const char *body, size_t len, cJSON *root, size_t *out_len)
{
  if (!cab_wire_ends_with(path, "/chat/completions") && strcmp(path, "/v1/completions") != 0)
    return NULL;
  return inject_usage(body, len, root, out_len);
}

const struct cab_wire_ops cab_wire_chat = {
    .name = "chat",
    .route = chat_route,
    .key_header = "Authorization: Bearer ",
    .endpoint = true,
    .endpoint_posts = endpoint_posts,
    .served = "POST /v1/chat/completions, /v1/completions, /v1/embeddings; GET /v1/models",
    .ask_usage = chat_ask_usage,
    .identity = true,
    .call_path = "/v1/chat/completions",
    .count_key = "input_tokens",
    .error = tr_error_openai,
};
