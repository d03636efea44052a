/* The registry of wires (wire.h), their names and the request-path
 * classifier: each question goes to every wire's ops in turn. */
#include "runner/proxy/wire.h"

#include <stdio.h>
#include <string.h>

#include "runner/proxy/wire_ops.h"

#define CAB_WIRE_DECLARE(id, ops) extern const struct cab_wire_ops ops;
CAB_WIRE_REGISTRY(CAB_WIRE_DECLARE)
#undef CAB_WIRE_DECLARE

static const struct cab_wire_ops *const wires[CAB_WIRE_COUNT] = {
#define CAB_WIRE_ENTRY(id, ops) [id] = &ops,
    CAB_WIRE_REGISTRY(CAB_WIRE_ENTRY)
#undef CAB_WIRE_ENTRY
};

const struct cab_wire_ops *
cab_wire_ops(enum cab_wire wire)
{
  return wires[(unsigned)wire < CAB_WIRE_COUNT ? wire : CAB_WIRE_CHAT];
}

int
cab_wire_parse(const char *name, enum cab_wire *out, cab_error *err)
{
  char valid[256] = "";
  for (size_t i = 0; i < CAB_WIRE_COUNT; i++) {
    if (name && strcmp(name, wires[i]->name) == 0) {
      *out = (enum cab_wire)i;
      return 0;
    }
    size_t n = strlen(valid);
    snprintf(valid + n, sizeof valid - n, "%s%s", i ? ", " : "", wires[i]->name);
  }
  return cab_error_set(err, 0, "unknown wire '%s' (valid: %s)", name ? name : "", valid);
}

const char *
cab_wire_name(enum cab_wire wire)
{
  if ((unsigned)wire < CAB_WIRE_COUNT)
    return wires[wire]->name;
  return "unknown";
}

int
cab_wire_parse_endpoint(const char *name, enum cab_wire *out)
{
  for (size_t i = 0; i < CAB_WIRE_COUNT; i++)
    if (name && wires[i]->endpoint && strcmp(name, wires[i]->name) == 0) {
      *out = (enum cab_wire)i;
      return 0;
    }
  return -1;
}

const char *
cab_wire_list(char *buf, size_t size, bool endpoint_only, const char *extra)
{
  const char *names[CAB_WIRE_COUNT + 1];
  size_t n = 0;
  for (size_t i = 0; i < CAB_WIRE_COUNT; i++)
    if (!endpoint_only || wires[i]->endpoint)
      names[n++] = wires[i]->name;
  if (extra)
    names[n++] = extra;
  size_t used = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < n && used < size; i++) {
    /* A message's list: a cut one stays a readable message. */
    int w = snprintf(buf + used, size - used, "%s%s", i == 0 ? "" : i + 1 == n ? " or " : ", ",
                     names[i]);
    used += w > 0 ? (size_t)w : 0;
  }
  return buf;
}

bool
cab_wire_of_request(const char *path, const char *query, struct cab_wire_route *out)
{
  memset(out, 0, sizeof *out);
  if (path == NULL)
    return false;
  for (size_t i = 0; i < CAB_WIRE_COUNT; i++) {
    out->wire = (enum cab_wire)i;
    if (wires[i]->route(path, query, out))
      return true;
    memset(out, 0, sizeof *out);
  }
  return false;
}

static bool
has_prefix(const char *path, const char *const *prefixes)
{
  for (; prefixes && *prefixes; prefixes++)
    if (strncmp(path, *prefixes, strlen(*prefixes)) == 0)
      return true;
  return false;
}

void
cab_wire_of_client(const char *path, const char *query, cab_wire_has_header_fn *has_header,
                   void *cls, struct cab_wire_route *out)
{
  if (cab_wire_of_request(path, query, out))
    return;
  memset(out, 0, sizeof *out);
  out->wire = CAB_WIRE_CHAT;
  out->kind = CAB_ROUTE_OTHER;
  for (size_t i = 0; i < CAB_WIRE_COUNT; i++)
    if ((wires[i]->marker_header && has_header(cls, wires[i]->marker_header)) ||
        has_prefix(path, wires[i]->marker_prefixes)) {
      out->wire = (enum cab_wire)i;
      return;
    }
}

enum cab_wire
cab_wire_of_sender(const char *path, cab_wire_has_header_fn *has_header, void *cls)
{
  for (size_t i = 0; i < CAB_WIRE_COUNT; i++)
    if (wires[i]->marker_header && has_header(cls, wires[i]->marker_header))
      return (enum cab_wire)i;
  struct cab_wire_route route;
  return cab_wire_of_request(path, NULL, &route) ? route.wire : CAB_WIRE_CHAT;
}

bool
cab_wire_ends_with(const char *s, const char *suffix)
{
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

const char *
cab_wire_find_component(const char *path, const char *seg)
{
  size_t m = strlen(seg);
  for (const char *p = strstr(path, seg); p; p = strstr(p + 1, seg))
    if (p[m] == '\0' || p[m] == '/')
      return p;
  return NULL;
}
