/* Wire names and the request-path classifier (wire.h). */
#include "runner/proxy/wire.h"

#include <stdio.h>
#include <string.h>

static const char *const wire_names[] = {
    [CAB_WIRE_CHAT] = "chat",
    [CAB_WIRE_RESPONSES] = "responses",
    [CAB_WIRE_ANTHROPIC] = "anthropic",
    [CAB_WIRE_GEMINI] = "gemini",
};

int
cab_wire_parse(const char *name, enum cab_wire *out, cab_error *err)
{
  for (size_t i = 0; i < sizeof wire_names / sizeof wire_names[0]; i++)
    if (name && strcmp(name, wire_names[i]) == 0) {
      *out = (enum cab_wire)i;
      return 0;
    }
  return cab_error_set(err, 0, "unknown wire '%s' (valid: chat, responses, anthropic, gemini)",
                       name ? name : "");
}

const char *
cab_wire_name(enum cab_wire wire)
{
  if ((unsigned)wire < sizeof wire_names / sizeof wire_names[0])
    return wire_names[wire];
  return "unknown";
}

static bool
ends_with(const char *s, const char *suffix)
{
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Where component path SEG ("/v1/responses") starts in PATH, as a whole
 * component run (followed by '/' or the end); NULL if absent. */
static const char *
find_component(const char *path, const char *seg)
{
  size_t m = strlen(seg);
  for (const char *p = strstr(path, seg); p; p = strstr(p + 1, seg))
    if (p[m] == '\0' || p[m] == '/')
      return p;
  return NULL;
}

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

static bool
gemini_route(const char *path, const char *query, struct cab_wire_route *out)
{
  static const char *const prefixes[] = {"/v1beta/models/", "/v1/models/", "/v1alpha/models/"};
  const char *rest = NULL;
  for (size_t i = 0; i < 3 && rest == NULL; i++) {
    const char *p = strstr(path, prefixes[i]);
    if (p)
      rest = p + strlen(prefixes[i]);
  }
  if (rest == NULL)
    return false;
  const char *colon = strrchr(rest, ':');
  if (colon == NULL)
    return false; /* GET .../models/M: model metadata, passed through */
  const char *method = colon + 1;
  out->wire = CAB_WIRE_GEMINI;
  if (strcmp(method, "generateContent") == 0)
    out->kind = CAB_ROUTE_GENERATE;
  else if (strcmp(method, "streamGenerateContent") == 0) {
    out->kind = CAB_ROUTE_GENERATE;
    out->stream = true;
    out->gemini_array = !query_has_sse(query);
  } else if (strcmp(method, "countTokens") == 0)
    out->kind = CAB_ROUTE_COUNT_TOKENS;
  else
    out->kind = CAB_ROUTE_OTHER;
  if (!decode_model(rest, (size_t)(colon - rest), out->model, sizeof out->model)) {
    out->model[0] = '\0';
    out->kind = CAB_ROUTE_OTHER;
    out->stream = out->gemini_array = false;
  }
  return true;
}

bool
cab_wire_of_request(const char *path, const char *query, struct cab_wire_route *out)
{
  memset(out, 0, sizeof *out);
  if (path == NULL)
    return false;
  if (ends_with(path, "/chat/completions")) {
    out->wire = CAB_WIRE_CHAT;
    out->kind = CAB_ROUTE_GENERATE;
    return true;
  }
  const char *p = find_component(path, "/v1/responses");
  if (p) {
    out->wire = CAB_WIRE_RESPONSES;
    out->kind = p[13] == '\0' ? CAB_ROUTE_GENERATE : CAB_ROUTE_OTHER;
    return true;
  }
  p = find_component(path, "/v1/messages");
  if (p) {
    out->wire = CAB_WIRE_ANTHROPIC;
    if (p[12] == '\0')
      out->kind = CAB_ROUTE_GENERATE;
    else if (strcmp(p + 12, "/count_tokens") == 0)
      out->kind = CAB_ROUTE_COUNT_TOKENS;
    else
      out->kind = CAB_ROUTE_OTHER;
    return true;
  }
  if (gemini_route(path, query, out))
    return true;
  memset(out, 0, sizeof *out);
  return false;
}
