/* A cell's trace: named spans with start and end times, a parent, and a
 * few attributes, typed as the published trace types them (strings,
 * integers, numbers, booleans, lists of strings).  Rendered two ways:
 * cab's own "spans" array in cell.json, and OpenTelemetry's OTLP/JSON
 * (trace.otlp.json), importable into Jaeger or Tempo.
 *
 * Both are published: an attribute names no host path (a path is the one
 * the agent sees inside its sandbox, or relative to the workdir). */
#ifndef CAB_RUNNER_TRACE_H
#define CAB_RUNNER_TRACE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/wallclock.h" /* span times: cab_wall_ns */

struct cab_trace;

/* SEED (e.g. the cell id) makes trace and span ids deterministic per run
 * together with the start time. */
struct cab_trace *cab_trace_new(const char *seed);
void cab_trace_free(struct cab_trace *t);

/* Open a span of KIND ("image", "task_setup", "model_call", ...) named NAME
 * under PARENT (-1: the root).  Returns its index.  Times are wall-clock
 * nanoseconds since the epoch; 0 means now. */
int cab_trace_begin(struct cab_trace *t, const char *kind, const char *name, int parent,
                    int64_t start_ns);
void cab_trace_end(struct cab_trace *t, int span, int64_t end_ns);
void cab_trace_attr(struct cab_trace *t, int span, const char *key, const char *value);
void cab_trace_attr_int(struct cab_trace *t, int span, const char *key, int64_t value);
void cab_trace_attr_double(struct cab_trace *t, int span, const char *key, double value);
void cab_trace_attr_bool(struct cab_trace *t, int span, const char *key, bool value);
/* A list of N strings (copied); N 0: the empty list []. */
void cab_trace_attr_strings(struct cab_trace *t, int span, const char *key,
                            const char *const *values, size_t n);
void cab_trace_status(struct cab_trace *t, int span, int ok, const char *message);

/* cab's array: [{"span_id","parent_id","kind","name","start","end","duration_ms","attributes"}] */
cJSON *cab_trace_to_json(const struct cab_trace *t);

/* OTLP/JSON: {"resourceSpans":[{"resource":{...},"scopeSpans":[{"scope":{...},"spans":[...]}]}]} */
cJSON *cab_trace_to_otlp(const struct cab_trace *t, const char *service_name);

#endif
