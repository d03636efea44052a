/* Token usage from model responses: JSON bodies and SSE streams, OpenAI
 * (Chat Completions, Completions, Responses), Anthropic Messages and Gemini
 * (generateContent) shapes. */
#include "runner/model_api/usage.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One SSE event's data may not grow past this; a larger event is dropped. */
#define SSE_EVENT_MAX (32u << 20)

int
cab_usage_count(double v, int64_t *out)
{
  if (v >= 0 && v <= (double)CAB_USAGE_TOKENS_MAX) {
    double up = ceil(v);
    *out = (int64_t)up;
    return up == v ? 0 : 1;
  }
  *out = CAB_USAGE_TOKENS_MAX; /* beyond, negative, NaN: the worst case */
  return 1;
}

/* OBJ[KEY] as a token count: false when absent or null; a figure that is
 * not a count is taken by cab_usage_count's rule and noted in U. */
static bool
get_count(const cJSON *obj, const char *key, struct cab_usage *u, int64_t *out)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (v == NULL || cJSON_IsNull(v))
    return false;
  if (cJSON_IsNumber(v) && cab_usage_count(v->valuedouble, out) == 0)
    return true;
  if (cJSON_IsNumber(v))
    cab_usage_count(v->valuedouble, out);
  else
    *out = CAB_USAGE_TOKENS_MAX;
  if (!u->clamped) {
    char *text = cJSON_PrintUnformatted(v);
    snprintf(u->note, sizeof u->note, "usage %s %.40s%s is not a token count in 0..%lld: counted as %lld",
             key, text ? text : "?", text && strlen(text) > 40 ? "..." : "",
             (long long)CAB_USAGE_TOKENS_MAX, (long long)*out);
    free(text);
  }
  u->clamped = true;
  return true;
}

static void
set_string(char *dst, size_t size, const cJSON *v)
{
  if (cJSON_IsString(v) && v->valuestring)
    snprintf(dst, size, "%s", v->valuestring);
}

/* What has been seen so far.  Anthropic's input figures are kept apart, so
 * that an event carrying only some of them keeps the others. */
struct acc {
  struct cab_usage u;
  bool split_input;      /* input_tokens seen: prompt = in + cache parts */
  int64_t in, cc, cr;
};

/* A "usage" object of any of the shapes.  Later calls override the fields
 * they carry (a stream's last figures win). */
static void
take_usage(const cJSON *usage, struct acc *a)
{
  struct cab_usage *u = &a->u;
  if (!cJSON_IsObject(usage))
    return;
  int64_t v;
  bool any = false;
  if (get_count(usage, "prompt_tokens", u, &v)) {
    u->prompt_tokens = v;
    a->split_input = false;
    any = true;
  }
  if (get_count(usage, "completion_tokens", u, &v)) {
    u->completion_tokens = v;
    any = true;
  }
  if (get_count(usage, "total_tokens", u, &v)) {
    u->total_tokens = v;
    any = true;
  }
  const cJSON *pd = cJSON_GetObjectItemCaseSensitive(usage, "prompt_tokens_details");
  if (get_count(pd, "cached_tokens", u, &v))
    u->cached_tokens = v;
  const cJSON *cd = cJSON_GetObjectItemCaseSensitive(usage, "completion_tokens_details");
  if (get_count(cd, "reasoning_tokens", u, &v))
    u->reasoning_tokens = v;

  /* Anthropic and the Responses API. */
  if (get_count(usage, "input_tokens", u, &v)) {
    a->in = v;
    a->split_input = true;
    any = true;
  }
  if (get_count(usage, "cache_creation_input_tokens", u, &v))
    a->cc = v;
  if (get_count(usage, "cache_read_input_tokens", u, &v)) {
    a->cr = v;
    u->cached_tokens = v;
  }
  if (a->split_input)
    u->prompt_tokens = a->in + a->cc + a->cr;
  const cJSON *id = cJSON_GetObjectItemCaseSensitive(usage, "input_tokens_details");
  if (get_count(id, "cached_tokens", u, &v))
    u->cached_tokens = v;
  const cJSON *od = cJSON_GetObjectItemCaseSensitive(usage, "output_tokens_details");
  if (get_count(od, "reasoning_tokens", u, &v))
    u->reasoning_tokens = v;
  if (get_count(usage, "output_tokens", u, &v)) {
    u->completion_tokens = v;
    any = true;
  }
  if (any)
    u->present = true;
}

/* finish_reason of choices[] (the first non-null one). */
static void
take_choices(const cJSON *root, struct cab_usage *u)
{
  const cJSON *choices = cJSON_GetObjectItemCaseSensitive(root, "choices");
  const cJSON *c;
  cJSON_ArrayForEach(c, choices)
  {
    const cJSON *fr = cJSON_GetObjectItemCaseSensitive(c, "finish_reason");
    if (cJSON_IsString(fr)) {
      set_string(u->finish_reason, sizeof u->finish_reason, fr);
      return;
    }
  }
}

static void take_gemini(const cJSON *root, struct acc *a);

/* One JSON object: a whole body, or one SSE event's data. */
static void
take_object(const cJSON *root, struct acc *a)
{
  struct cab_usage *u = &a->u;
  if (!cJSON_IsObject(root))
    return;
  set_string(u->model, sizeof u->model, cJSON_GetObjectItemCaseSensitive(root, "model"));
  take_choices(root, u);
  take_usage(cJSON_GetObjectItemCaseSensitive(root, "usage"), a);
  /* Anthropic: stop_reason in the body, or in message_delta's delta. */
  set_string(u->finish_reason, sizeof u->finish_reason,
             cJSON_GetObjectItemCaseSensitive(root, "stop_reason"));
  const cJSON *delta = cJSON_GetObjectItemCaseSensitive(root, "delta");
  if (cJSON_IsObject(delta))
    set_string(u->finish_reason, sizeof u->finish_reason,
               cJSON_GetObjectItemCaseSensitive(delta, "stop_reason"));
  /* Anthropic message_start: {"type":"message_start","message":{...}}. */
  const cJSON *message = cJSON_GetObjectItemCaseSensitive(root, "message");
  if (cJSON_IsObject(message)) {
    set_string(u->model, sizeof u->model, cJSON_GetObjectItemCaseSensitive(message, "model"));
    take_usage(cJSON_GetObjectItemCaseSensitive(message, "usage"), a);
  }
  /* Responses API: a body has "object":"response" and "status"; a stream's
   * response.completed event wraps the same in "response". */
  const cJSON *object = cJSON_GetObjectItemCaseSensitive(root, "object");
  if (cJSON_IsString(object) && strcmp(object->valuestring, "response") == 0)
    set_string(u->finish_reason, sizeof u->finish_reason,
               cJSON_GetObjectItemCaseSensitive(root, "status"));
  const cJSON *response = cJSON_GetObjectItemCaseSensitive(root, "response");
  if (cJSON_IsObject(response)) {
    set_string(u->model, sizeof u->model, cJSON_GetObjectItemCaseSensitive(response, "model"));
    set_string(u->finish_reason, sizeof u->finish_reason,
               cJSON_GetObjectItemCaseSensitive(response, "status"));
    take_usage(cJSON_GetObjectItemCaseSensitive(response, "usage"), a);
  }
  take_gemini(root, a);
}

/* Gemini: "usageMetadata" {promptTokenCount, candidatesTokenCount,
 * totalTokenCount, cachedContentTokenCount, thoughtsTokenCount} and
 * candidates[].finishReason; a stream repeats them, the last figures win.
 * Thoughts are output the model was billed for, so they count as
 * completion tokens (as OpenAI's reasoning tokens do). */
static void
take_gemini(const cJSON *root, struct acc *a)
{
  struct cab_usage *u = &a->u;
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "usageMetadata");
  int64_t v, thoughts = 0;
  if (cJSON_IsObject(m)) {
    bool any = false;
    if (get_count(m, "promptTokenCount", u, &v)) {
      u->prompt_tokens = v;
      any = true;
    }
    if (get_count(m, "thoughtsTokenCount", u, &v)) {
      thoughts = v;
      u->reasoning_tokens = v;
    }
    if (get_count(m, "candidatesTokenCount", u, &v)) {
      u->completion_tokens = v + thoughts;
      any = true;
    }
    if (get_count(m, "totalTokenCount", u, &v))
      u->total_tokens = v;
    if (get_count(m, "cachedContentTokenCount", u, &v))
      u->cached_tokens = v;
    if (any)
      u->present = true;
  }
  set_string(u->model, sizeof u->model, cJSON_GetObjectItemCaseSensitive(root, "modelVersion"));
  const cJSON *c;
  cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(root, "candidates"))
  {
    const cJSON *fr = cJSON_GetObjectItemCaseSensitive(c, "finishReason");
    if (cJSON_IsString(fr)) {
      set_string(u->finish_reason, sizeof u->finish_reason, fr);
      return;
    }
  }
}

static void
usage_init(struct cab_usage *u)
{
  memset(u, 0, sizeof *u);
}

/* The total is what costs are computed from: never less than its parts
 * (each part is at most CAB_USAGE_TOKENS_MAX, so the sum cannot overflow). */
static void
usage_done(struct cab_usage *u)
{
  if (!u->present)
    return;
  int64_t parts = u->prompt_tokens + u->completion_tokens;
  if (u->total_tokens != 0 && u->total_tokens < parts && !u->clamped) {
    snprintf(u->note, sizeof u->note,
             "usage total %lld is less than prompt + completion: counted as %lld",
             (long long)u->total_tokens, (long long)parts);
    u->clamped = true;
  }
  if (u->total_tokens < parts)
    u->total_tokens = parts;
}

void
cab_usage_from_json(const char *body, size_t len, struct cab_usage *u)
{
  usage_init(u);
  if (body == NULL)
    return;
  cJSON *root = cJSON_ParseWithLength(body, len);
  if (root == NULL)
    return;
  struct acc a = {0};
  take_object(root, &a);
  cJSON_Delete(root);
  *u = a.u;
  usage_done(u);
}

/* --- SSE ------------------------------------------------------------------ */

struct cab_sse_usage {
  struct acc a;
  char *line;           /* the current, unfinished line */
  size_t line_len, line_cap;
  bool line_overflow;
  bool skip_lf;         /* the last byte was a CR: a following LF ends nothing */
  char *data;           /* the current event's data lines, joined by \n */
  size_t data_len, data_cap;
  bool has_data, data_overflow;
};

struct cab_sse_usage *
cab_sse_usage_new(void)
{
  struct cab_sse_usage *s = calloc(1, sizeof *s);
  return s;
}

static bool
grow(char **buf, size_t *cap, size_t need)
{
  if (need <= *cap)
    return true;
  size_t n = *cap ? *cap : 256;
  while (n < need)
    n *= 2;
  char *p = realloc(*buf, n);
  if (p == NULL)
    return false;
  *buf = p;
  *cap = n;
  return true;
}

static void
dispatch(struct cab_sse_usage *s)
{
  if (s->has_data && !s->data_overflow) {
    const char *d = s->data;
    size_t n = s->data_len;
    if (!(n == 6 && memcmp(d, "[DONE]", 6) == 0)) {
      cJSON *root = cJSON_ParseWithLength(d, n);
      if (root) {
        take_object(root, &s->a);
        cJSON_Delete(root);
      }
    }
  }
  s->data_len = 0;
  s->has_data = false;
  s->data_overflow = false;
}

/* One complete line (without its terminator). */
static void
take_line(struct cab_sse_usage *s, const char *line, size_t len)
{
  if (len == 0) {
    dispatch(s);
    return;
  }
  if (len < 5 || memcmp(line, "data:", 5) != 0)
    return; /* event:, id:, retry:, comments: nothing to count */
  line += 5;
  len -= 5;
  if (len > 0 && line[0] == ' ') {
    line++;
    len--;
  }
  if (s->data_overflow)
    return;
  size_t need = s->data_len + (s->has_data ? 1 : 0) + len + 1;
  if (need > SSE_EVENT_MAX || !grow(&s->data, &s->data_cap, need)) {
    s->data_overflow = true;
    return;
  }
  if (s->has_data)
    s->data[s->data_len++] = '\n';
  memcpy(s->data + s->data_len, line, len);
  s->data_len += len;
  s->data[s->data_len] = '\0';
  s->has_data = true;
}

static void
end_line(struct cab_sse_usage *s)
{
  if (!s->line_overflow)
    take_line(s, s->line ? s->line : "", s->line_len);
  s->line_len = 0;
  s->line_overflow = false;
}

void
cab_sse_usage_feed(struct cab_sse_usage *s, const char *data, size_t len)
{
  if (s == NULL)
    return;
  size_t i = 0;
  while (i < len) {
    char c = data[i];
    if (s->skip_lf) {
      s->skip_lf = false;
      if (c == '\n') {
        i++;
        continue;
      }
    }
    if (c == '\n' || c == '\r') {
      end_line(s);
      s->skip_lf = (c == '\r');
      i++;
      continue;
    }
    /* Copy the run of bytes up to the next line end in one go. */
    size_t j = i;
    while (j < len && data[j] != '\n' && data[j] != '\r')
      j++;
    if (!s->line_overflow) {
      size_t need = s->line_len + (j - i) + 1;
      if (need > SSE_EVENT_MAX || !grow(&s->line, &s->line_cap, need)) {
        s->line_overflow = true;
      } else {
        memcpy(s->line + s->line_len, data + i, j - i);
        s->line_len += j - i;
        s->line[s->line_len] = '\0';
      }
    }
    i = j;
  }
}

void
cab_sse_usage_finish(struct cab_sse_usage *s, struct cab_usage *u)
{
  usage_init(u);
  if (s == NULL)
    return;
  /* A stream cut without its final blank line still counts what it sent. */
  if (s->line_len > 0)
    end_line(s);
  dispatch(s);
  *u = s->a.u;
  usage_done(u);
  free(s->line);
  free(s->data);
  free(s);
}

void
cab_usage_from_sse(const char *data, size_t len, struct cab_usage *u)
{
  struct cab_sse_usage *s = cab_sse_usage_new();
  cab_sse_usage_feed(s, data, len);
  cab_sse_usage_finish(s, u);
}
