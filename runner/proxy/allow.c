/* The proxy's allow-list (allow.h). */
#include "runner/proxy/allow.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "runner/proxy/wire_ops.h"

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

bool
cab_allow_model_id(const char *s)
{
  if (s[0] == '\0' || s[0] == '/')
    return false;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
          strchr("._~:@+/-", *s)))
      return false;
  return true;
}

/* POST for PATH in POSTS (NULL-terminated), GET for /v1/models and
 * /v1/models/ID, else none. */
static enum cab_verb
post_or_models(const char *path, const char *const *posts)
{
  for (; *posts; posts++)
    if (strcmp(path, *posts) == 0)
      return CAB_VERB_POST;
  if (strcmp(path, "/v1/models") == 0 ||
      (strncmp(path, "/v1/models/", 11) == 0 && cab_allow_model_id(path + 11)))
    return CAB_VERB_GET;
  return CAB_VERB_NONE;
}

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
  const struct cab_wire_ops *ops = cab_wire_ops(wire);
  enum cab_verb v =
      ops->endpoint_call ? ops->endpoint_call(path) : post_or_models(path, ops->endpoint_posts);
  if (v == CAB_VERB_NONE) {
    snprintf(why, size, "cab proxy: %s is not a model API path of the %s endpoint (served: %s)",
             path, ops->name, ops->served);
    return 404;
  }
  if ((v == CAB_VERB_GET && !get) || (v == CAB_VERB_POST && !post)) {
    snprintf(why, size, "cab proxy: %s %s: the method is not served (%s)", method, path,
             ops->served);
    return 405;
  }
  return 0;
}
