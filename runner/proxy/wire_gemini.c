/* The Gemini API (gemini-cli): its requests, as the endpoint's wire and
 * translated to chat (translate_req_gemini.c, translate_stream_gemini.c).
 * Unlike the other wires, the model and whether the answer streams (and
 * how) are in the path and query, not in the body. */
#include <stdio.h>
#include <string.h>

#include "runner/proxy/wire_ops.h"

/* The API versions a model path may start with. */
static const char *const versions[] = {"/v1beta/models", "/v1/models", "/v1alpha/models"};

static int
hexval(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* URL-decode S[0..N) into OUT and validate it as a model name. */
static bool
decode_model(const char *s, size_t n, char *out, size_t size)
{
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= n)
        return false;
      int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
      if (hi < 0 || lo < 0)
        return false;
      c = (char)(hi * 16 + lo);
      i += 2;
    }
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              strchr("._~:/@+-", c) != NULL;
    if (!ok || c == '\0' || o + 1 >= size)
      return false;
    out[o++] = c;
  }
  out[o] = '\0';
  return o > 0 && out[0] != '/';
}

/* Does the query (a=b&c=d) hold alt=sse? */
static bool
query_has_sse(const char *query)
{
  if (query == NULL)
    return false;
  for (const char *p = query; *p;) {
    size_t n = strcspn(p, "&");
    if (n == 7 && strncmp(p, "alt=sse", 7) == 0)
      return true;
    p += n;
    if (*p == '&')
      p++;
  }
  return false;
}

/* .../{v1beta,v1,v1alpha}/models/M:METHOD, anywhere in the path. */
static bool
gemini_route(const char *path, const char *query, struct cab_wire_route *out)
{
  const char *rest = NULL;
  for (size_t i = 0; i < sizeof versions / sizeof *versions && rest == NULL; i++) {
    char prefix[32];
    snprintf(prefix, sizeof prefix, "%s/", versions[i]);
    const char *p = strstr(path, prefix);
    if (p)
      rest = p + strlen(prefix);
  }
  if (rest == NULL)
    return false;
  const char *colon = strrchr(rest, ':');
  if (colon == NULL)
    return false; /* GET .../models/M: model metadata, passed through */
  const char *method = colon + 1;
  if (strcmp(method, "generateContent") == 0)
    out->kind = CAB_ROUTE_GENERATE;
  else if (strcmp(method, "streamGenerateContent") == 0) {
    out->kind = CAB_ROUTE_GENERATE;
    out->stream = true;
    out->json_array = !query_has_sse(query);
  } else if (strcmp(method, "countTokens") == 0)
    out->kind = CAB_ROUTE_COUNT_TOKENS;
  else
    out->kind = CAB_ROUTE_OTHER;
  if (!decode_model(rest, (size_t)(colon - rest), out->model, sizeof out->model)) {
    out->model[0] = '\0';
    out->kind = CAB_ROUTE_OTHER;
    out->stream = out->json_array = false;
  }
  return true;
}

static enum cab_verb
gemini_endpoint_call(const char *path)
{
  static const char *const methods[] = {"generateContent", "streamGenerateContent",
                                        "countTokens"};
  for (size_t v = 0; v < sizeof versions / sizeof *versions; v++) {
    size_t n = strlen(versions[v]);
    if (strncmp(path, versions[v], n) != 0)
      continue;
    if (path[n] == '\0')
      return CAB_VERB_GET;
    if (path[n] != '/' || !cab_allow_model_id(path + n + 1))
      return CAB_VERB_NONE;
    const char *colon = strrchr(path + n + 1, ':');
    if (colon == NULL)
      return CAB_VERB_GET; /* a model's metadata */
    for (size_t m = 0; m < sizeof methods / sizeof *methods; m++)
      if (strcmp(colon + 1, methods[m]) == 0)
        return colon > path + n + 1 ? CAB_VERB_POST : CAB_VERB_NONE;
    return CAB_VERB_NONE;
  }
  return CAB_VERB_NONE;
}

static cJSON *
gemini_call(const struct cab_translate_ctx *ctx, const char *id, const char *name,
            const char *args)
{
  return tr_gemini_call_part(id, name, args);
}

static cJSON *
gemini_answer(const struct cab_translate_ctx *ctx, const struct tr_answer *a)
{
  cJSON *parts = cJSON_CreateArray();
  if (a->text.len)
    cJSON_AddItemToArray(parts, tr_gemini_text_part(a->text.s));
  tr_answer_add_calls(ctx, a, parts, gemini_call);
  return tr_gemini_response(parts, tr_gemini_finish(a->finish), &a->usage, a->model, a->id);
}

static const char *const marker_prefixes[] = {"/v1beta/", "/v1alpha/", NULL};

const struct cab_wire_ops cab_wire_gemini = {
    .name = "gemini",
    .route = gemini_route,
    .marker_prefixes = marker_prefixes,
    .key_header = "Authorization: Bearer ", /* what cab sends (Google's own API reads
                                               x-goog-api-key) */
    .endpoint_call = gemini_endpoint_call,
    .served = "POST /v1beta/models/M:generateContent, :streamGenerateContent, "
              ":countTokens; GET /v1beta/models",
    .model_in_path = true,
    .request = tr_request_gemini,
    .answer = gemini_answer,
    .stream = &tr_emit_gemini,
    .count_key = "totalTokens",
    .error = tr_error_gemini,
};
