#include "runner/cell/trace.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/sha256.h"

/* An attribute's value has the JSON type the published trace gives it:
 * string, integer, number, boolean or a list of strings. */
enum attr_type { ATTR_STRING, ATTR_INT, ATTR_DOUBLE, ATTR_BOOL, ATTR_STRINGS };

struct attr {
  char *key;
  enum attr_type type;
  char *value;     /* ATTR_STRING */
  int64_t int_value;
  double double_value;
  bool bool_value;
  char **values;   /* ATTR_STRINGS */
  size_t n_values;
};

struct span {
  char kind[32];
  char *name;
  int parent;
  int64_t start_ns, end_ns;
  struct attr *attrs;
  size_t n_attrs;
  int status; /* 0 unset, 1 ok, 2 error */
  char *status_message;
};

struct cab_trace {
  char trace_id[33];
  char seed[256];
  struct span *spans;
  size_t n, cap;
};

struct cab_trace *
cab_trace_new(const char *seed)
{
  struct cab_trace *t = calloc(1, sizeof *t);
  if (t == NULL)
    return NULL;
  snprintf(t->seed, sizeof t->seed, "%s", seed ? seed : "");
  char material[320], digest[CAB_DIGEST_LEN + 1];
  snprintf(material, sizeof material, "%s@%lld", t->seed, (long long)cab_wall_ns());
  cab_sha256_buffer(material, strlen(material), digest);
  memcpy(t->trace_id, digest + 7, 32);
  t->trace_id[32] = '\0';
  return t;
}

void
cab_trace_free(struct cab_trace *t)
{
  if (t == NULL)
    return;
  for (size_t i = 0; i < t->n; i++) {
    free(t->spans[i].name);
    free(t->spans[i].status_message);
    for (size_t j = 0; j < t->spans[i].n_attrs; j++) {
      struct attr *a = &t->spans[i].attrs[j];
      free(a->key);
      free(a->value);
      for (size_t k = 0; k < a->n_values; k++)
        free(a->values[k]);
      free(a->values);
    }
    free(t->spans[i].attrs);
  }
  free(t->spans);
  free(t);
}

int
cab_trace_begin(struct cab_trace *t, const char *kind, const char *name, int parent,
                int64_t start_ns)
{
  if (t->n == t->cap) {
    size_t ncap = t->cap ? t->cap * 2 : 16;
    struct span *n = realloc(t->spans, ncap * sizeof *n);
    if (n == NULL)
      return -1;
    t->spans = n;
    t->cap = ncap;
  }
  struct span *s = &t->spans[t->n];
  memset(s, 0, sizeof *s);
  snprintf(s->kind, sizeof s->kind, "%s", kind);
  s->name = strdup(name ? name : kind);
  s->parent = parent;
  s->start_ns = start_ns ? start_ns : cab_wall_ns();
  return (int)t->n++;
}

void
cab_trace_end(struct cab_trace *t, int span, int64_t end_ns)
{
  if (span < 0 || (size_t)span >= t->n)
    return;
  t->spans[span].end_ns = end_ns ? end_ns : cab_wall_ns();
}

static struct attr *
new_attr(struct cab_trace *t, int span, const char *key)
{
  if (span < 0 || (size_t)span >= t->n)
    return NULL;
  struct span *s = &t->spans[span];
  struct attr *a = realloc(s->attrs, (s->n_attrs + 1) * sizeof *a);
  if (a == NULL)
    return NULL;
  s->attrs = a;
  a = &s->attrs[s->n_attrs++];
  memset(a, 0, sizeof *a);
  a->key = strdup(key);
  return a;
}

void
cab_trace_attr(struct cab_trace *t, int span, const char *key, const char *value)
{
  struct attr *a = new_attr(t, span, key);
  if (a)
    a->value = strdup(value ? value : "");
}

void
cab_trace_attr_int(struct cab_trace *t, int span, const char *key, int64_t value)
{
  struct attr *a = new_attr(t, span, key);
  if (a) {
    a->type = ATTR_INT;
    a->int_value = value;
  }
}

void
cab_trace_attr_double(struct cab_trace *t, int span, const char *key, double value)
{
  struct attr *a = new_attr(t, span, key);
  if (a) {
    a->type = ATTR_DOUBLE;
    a->double_value = value;
  }
}

void
cab_trace_attr_bool(struct cab_trace *t, int span, const char *key, bool value)
{
  struct attr *a = new_attr(t, span, key);
  if (a) {
    a->type = ATTR_BOOL;
    a->bool_value = value;
  }
}

void
cab_trace_attr_strings(struct cab_trace *t, int span, const char *key, const char *const *values,
                       size_t n)
{
  struct attr *a = new_attr(t, span, key);
  if (a == NULL)
    return;
  a->type = ATTR_STRINGS;
  a->values = n ? calloc(n, sizeof *a->values) : NULL;
  if (n && a->values == NULL)
    return; /* out of memory: an empty list */
  for (size_t i = 0; i < n; i++)
    if ((a->values[a->n_values] = strdup(values[i] ? values[i] : "")) != NULL)
      a->n_values++;
}

void
cab_trace_status(struct cab_trace *t, int span, int ok, const char *message)
{
  if (span < 0 || (size_t)span >= t->n)
    return;
  t->spans[span].status = ok ? 1 : 2;
  free(t->spans[span].status_message);
  t->spans[span].status_message = message ? strdup(message) : NULL;
}

/* 16 hex digits derived from the trace id and the span index. */
static void
span_id(const struct cab_trace *t, int index, char out[17])
{
  char material[80], digest[CAB_DIGEST_LEN + 1];
  snprintf(material, sizeof material, "%s/%d", t->trace_id, index);
  cab_sha256_buffer(material, strlen(material), digest);
  memcpy(out, digest + 7, 16);
  out[16] = '\0';
}

/* cab's array: the attribute as the published trace types it. */
static cJSON *
attr_json(const struct attr *a)
{
  switch (a->type) {
  case ATTR_INT: return cJSON_CreateNumber((double)a->int_value);
  case ATTR_DOUBLE: return cJSON_CreateNumber(a->double_value);
  case ATTR_BOOL: return cJSON_CreateBool(a->bool_value);
  case ATTR_STRINGS: {
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < a->n_values; i++)
      cJSON_AddItemToArray(arr, cJSON_CreateString(a->values[i]));
    return arr;
  }
  default: return cJSON_CreateString(a->value ? a->value : "");
  }
}

static int64_t
end_of(const struct span *s)
{
  return s->end_ns ? s->end_ns : s->start_ns;
}

cJSON *
cab_trace_to_json(const struct cab_trace *t)
{
  cJSON *arr = cJSON_CreateArray();
  for (size_t i = 0; i < t->n; i++) {
    const struct span *s = &t->spans[i];
    cJSON *o = cJSON_CreateObject();
    char id[17], pid[17], start[40], end[40];
    span_id(t, (int)i, id);
    cJSON_AddStringToObject(o, "span_id", id);
    if (s->parent >= 0) {
      span_id(t, s->parent, pid);
      cJSON_AddStringToObject(o, "parent_id", pid);
    } else {
      cJSON_AddNullToObject(o, "parent_id");
    }
    cJSON_AddStringToObject(o, "kind", s->kind);
    cJSON_AddStringToObject(o, "name", s->name);
    cab_iso8601_us(s->start_ns, start, sizeof start);
    cab_iso8601_us(end_of(s), end, sizeof end);
    cJSON_AddStringToObject(o, "start", start);
    cJSON_AddStringToObject(o, "end", end);
    cJSON_AddNumberToObject(o, "duration_ms", (double)(end_of(s) - s->start_ns) / 1e6);
    if (s->status)
      cJSON_AddStringToObject(o, "status", s->status == 1 ? "ok" : "error");
    if (s->status_message)
      cJSON_AddStringToObject(o, "status_message", s->status_message);
    cJSON *attrs = cJSON_AddObjectToObject(o, "attributes");
    for (size_t j = 0; j < s->n_attrs; j++)
      cJSON_AddItemToObject(attrs, s->attrs[j].key, attr_json(&s->attrs[j]));
    cJSON_AddItemToArray(arr, o);
  }
  return arr;
}

static cJSON *
otlp_kv(const char *key, const char *value)
{
  cJSON *kv = cJSON_CreateObject();
  cJSON_AddStringToObject(kv, "key", key);
  cJSON *v = cJSON_AddObjectToObject(kv, "value");
  cJSON_AddStringToObject(v, "stringValue", value);
  return kv;
}

/* OTLP/JSON's AnyValue: 64-bit integers as decimal strings, a list as an
 * arrayValue of stringValues. */
static cJSON *
otlp_attr(const struct attr *a)
{
  if (a->type == ATTR_STRING)
    return otlp_kv(a->key, a->value);
  cJSON *kv = cJSON_CreateObject();
  cJSON_AddStringToObject(kv, "key", a->key);
  cJSON *v = cJSON_AddObjectToObject(kv, "value");
  char num[32];
  switch (a->type) {
  case ATTR_INT:
    snprintf(num, sizeof num, "%lld", (long long)a->int_value);
    cJSON_AddStringToObject(v, "intValue", num);
    break;
  case ATTR_DOUBLE: cJSON_AddNumberToObject(v, "doubleValue", a->double_value); break;
  case ATTR_BOOL: cJSON_AddBoolToObject(v, "boolValue", a->bool_value); break;
  default: {
    cJSON *values = cJSON_AddArrayToObject(cJSON_AddObjectToObject(v, "arrayValue"), "values");
    for (size_t i = 0; i < a->n_values; i++) {
      cJSON *e = cJSON_CreateObject();
      cJSON_AddStringToObject(e, "stringValue", a->values[i]);
      cJSON_AddItemToArray(values, e);
    }
  }
  }
  return kv;
}

cJSON *
cab_trace_to_otlp(const struct cab_trace *t, const char *service_name)
{
  cJSON *root = cJSON_CreateObject();
  cJSON *rs = cJSON_AddArrayToObject(root, "resourceSpans");
  cJSON *r = cJSON_CreateObject();
  cJSON_AddItemToArray(rs, r);
  cJSON *resource = cJSON_AddObjectToObject(r, "resource");
  cJSON *rattrs = cJSON_AddArrayToObject(resource, "attributes");
  cJSON_AddItemToArray(rattrs, otlp_kv("service.name", service_name));
  cJSON_AddItemToArray(rattrs, otlp_kv("cab.cell_id", t->seed));
  cJSON *scopes = cJSON_AddArrayToObject(r, "scopeSpans");
  cJSON *scope = cJSON_CreateObject();
  cJSON_AddItemToArray(scopes, scope);
  cJSON *sc = cJSON_AddObjectToObject(scope, "scope");
  cJSON_AddStringToObject(sc, "name", "cab");
  cJSON *spans = cJSON_AddArrayToObject(scope, "spans");
  for (size_t i = 0; i < t->n; i++) {
    const struct span *s = &t->spans[i];
    cJSON *o = cJSON_CreateObject();
    char id[17], pid[17], num[32];
    span_id(t, (int)i, id);
    cJSON_AddStringToObject(o, "traceId", t->trace_id);
    cJSON_AddStringToObject(o, "spanId", id);
    if (s->parent >= 0) {
      span_id(t, s->parent, pid);
      cJSON_AddStringToObject(o, "parentSpanId", pid);
    }
    cJSON_AddStringToObject(o, "name", s->name);
    cJSON_AddNumberToObject(o, "kind", 1); /* SPAN_KIND_INTERNAL */
    /* OTLP/JSON carries 64-bit integers as decimal strings. */
    snprintf(num, sizeof num, "%lld", (long long)s->start_ns);
    cJSON_AddStringToObject(o, "startTimeUnixNano", num);
    snprintf(num, sizeof num, "%lld", (long long)end_of(s));
    cJSON_AddStringToObject(o, "endTimeUnixNano", num);
    cJSON *attrs = cJSON_AddArrayToObject(o, "attributes");
    cJSON_AddItemToArray(attrs, otlp_kv("cab.span.kind", s->kind));
    for (size_t j = 0; j < s->n_attrs; j++)
      cJSON_AddItemToArray(attrs, otlp_attr(&s->attrs[j]));
    if (s->status) {
      cJSON *st = cJSON_AddObjectToObject(o, "status");
      cJSON_AddNumberToObject(st, "code", s->status == 1 ? 1 : 2);
      if (s->status_message)
        cJSON_AddStringToObject(st, "message", s->status_message);
    }
    cJSON_AddItemToArray(spans, o);
  }
  return root;
}
