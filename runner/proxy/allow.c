/* The proxy's allow-list (allow.h). */
#include "runner/proxy/allow.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int
cab_allow_target(const char *path, char *why, size_t size)
{
  static const char *const encoded[] = {"%2e", "%2f", "%5c", "%00"};
  const char *bad = NULL;
  if (strchr(path, '\\'))
    bad = "a backslash";
  for (size_t i = 0; bad == NULL && i < sizeof encoded / sizeof *encoded; i++)
    if (strcasestr(path, encoded[i]))
      bad = "an encoded '.', '/', '\\' or NUL";
  /* Segments: what is between two '/' (the path starts with one). */
  for (const char *s = path; bad == NULL && *s == '/'; ) {
    const char *seg = s + 1;
    size_t n = strcspn(seg, "/");
    if (n == 0 && seg[0] == '/')
      bad = "an empty segment (//)";
    else if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
      bad = "a dot-segment (. or ..)";
    s = seg + n;
  }
  if (bad == NULL)
    return 0;
  snprintf(why, size,
           "cab proxy: the request path holds %s; the proxy forwards model API paths such as "
           "/v1/chat/completions only as they are written",
           bad);
  return 400;
}

/* A model id in a path: [A-Za-z0-9._~:@+/-], not empty, not starting with '/'. */
static bool
model_id(const char *s)
{
  if (s[0] == '\0' || s[0] == '/')
    return false;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
          strchr("._~:@+/-", *s)))
      return false;
  return true;
}

/* GET /v1/models or /v1/models/ID. */
static bool
models_path(const char *path)
{
  return strcmp(path, "/v1/models") == 0 ||
         (strncmp(path, "/v1/models/", 11) == 0 && model_id(path + 11));
}

enum verb { NOT_SERVED, GET, POST };

static enum verb
openai_path(enum cab_wire wire, const char *path)
{
  if (strcmp(path, wire == CAB_WIRE_CHAT ? "/v1/chat/completions" : "/v1/responses") == 0 ||
      strcmp(path, "/v1/completions") == 0 || strcmp(path, "/v1/embeddings") == 0)
    return POST;
  return models_path(path) ? GET : NOT_SERVED;
}

static enum verb
anthropic_path(const char *path)
{
  if (strcmp(path, "/v1/messages") == 0 || strcmp(path, "/v1/messages/count_tokens") == 0)
    return POST;
  return models_path(path) ? GET : NOT_SERVED;
}

static enum verb
gemini_path(const char *path)
{
  static const char *const versions[] = {"/v1beta/models", "/v1/models", "/v1alpha/models"};
  static const char *const methods[] = {"generateContent", "streamGenerateContent",
                                        "countTokens"};
  for (size_t v = 0; v < sizeof versions / sizeof *versions; v++) {
    size_t n = strlen(versions[v]);
    if (strncmp(path, versions[v], n) != 0)
      continue;
    if (path[n] == '\0')
      return GET;
    if (path[n] != '/' || !model_id(path + n + 1))
      return NOT_SERVED;
    const char *colon = strrchr(path + n + 1, ':');
    if (colon == NULL)
      return GET; /* a model's metadata */
    for (size_t m = 0; m < sizeof methods / sizeof *methods; m++)
      if (strcmp(colon + 1, methods[m]) == 0)
        return colon > path + n + 1 ? POST : NOT_SERVED;
    return NOT_SERVED;
  }
  return NOT_SERVED;
}

static const char *const served[] = {
    [CAB_WIRE_CHAT] = "POST /v1/chat/completions, /v1/completions, /v1/embeddings; GET /v1/models",
    [CAB_WIRE_RESPONSES] = "POST /v1/responses, /v1/completions, /v1/embeddings; GET /v1/models",
    [CAB_WIRE_ANTHROPIC] = "POST /v1/messages, /v1/messages/count_tokens; GET /v1/models",
    [CAB_WIRE_GEMINI] = "POST /v1beta/models/M:generateContent, :streamGenerateContent, "
                        ":countTokens; GET /v1beta/models",
};

int
cab_allow_call(enum cab_wire wire, const char *method, const char *path, char *why, size_t size)
{
  bool get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
  struct cab_wire_route route;
  if (cab_wire_of_request(path, NULL, &route) && route.wire != wire) {
    /* Another wire's path: the bridge translates its model calls to chat
     * (never forwarding the path) and refuses the rest in its own shape. */
    if (post || route.kind == CAB_ROUTE_OTHER)
      return 0;
    snprintf(why, size, "cab proxy: %s %s: a %s model call is a POST", method, path,
             cab_wire_name(route.wire));
    return 405;
  }
  enum verb v = NOT_SERVED;
  switch (wire) {
  case CAB_WIRE_CHAT:
  case CAB_WIRE_RESPONSES: v = openai_path(wire, path); break;
  case CAB_WIRE_ANTHROPIC: v = anthropic_path(path); break;
  case CAB_WIRE_GEMINI: v = gemini_path(path); break;
  }
  const char *list = (unsigned)wire < sizeof served / sizeof *served ? served[wire] : "";
  if (v == NOT_SERVED) {
    snprintf(why, size, "cab proxy: %s is not a model API path of the %s endpoint (served: %s)",
             path, cab_wire_name(wire), list);
    return 404;
  }
  if ((v == GET && !get) || (v == POST && !post)) {
    snprintf(why, size, "cab proxy: %s %s: the method is not served (%s)", method, path, list);
    return 405;
  }
  return 0;
}
