/* Model scripts: loading and validation (the format is in script.h). */
#include "runner/model_server/script.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/fsutil.h"

#define SCRIPT_MAX (64u << 20)
#define DEFAULT_PROMPT_TOKENS 10
#define DEFAULT_COMPLETION_TOKENS 5

/* Keys that are never errors: notes for the reader. */
static bool
is_comment_key(const char *k)
{
  return k[0] == '_' || strcmp(k, "description") == 0 || strcmp(k, "comment") == 0;
}

static int
check_keys(const cJSON *obj, const char *const *allowed, const char *where, cab_error *err)
{
  const cJSON *it;
  cJSON_ArrayForEach(it, obj)
  {
    if (is_comment_key(it->string))
      continue;
    bool ok = false;
    for (size_t i = 0; allowed[i] && !ok; i++)
      ok = strcmp(allowed[i], it->string) == 0;
    if (!ok)
      return cab_error_set(err, 0, "%s: unknown key \"%s\" (a typo?)", where, it->string);
  }
  return 0;
}

/* An optional integer in [MIN, MAX]; *OUT untouched when absent. */
static int
get_int(const cJSON *obj, const char *key, int64_t min, int64_t max, int64_t *out,
        bool required, const char *where, cab_error *err)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (v == NULL) {
    if (required)
      return cab_error_set(err, 0, "%s: missing \"%s\"", where, key);
    return 0;
  }
  if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < (double)min ||
      v->valuedouble > (double)max)
    return cab_error_set(err, 0, "%s.%s: expected an integer from %lld to %lld", where, key,
                         (long long)min, (long long)max);
  *out = (int64_t)v->valuedouble;
  return 0;
}

static int
get_str(const cJSON *obj, const char *key, char **out, bool required, const char *where,
        cab_error *err)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (v == NULL) {
    if (required)
      return cab_error_set(err, 0, "%s: missing \"%s\"", where, key);
    return 0;
  }
  if (!cJSON_IsString(v))
    return cab_error_set(err, 0, "%s.%s: expected a string", where, key);
  *out = strdup(v->valuestring);
  if (*out == NULL)
    return cab_error_set(err, ENOMEM, "%s.%s", where, key);
  return 0;
}

static int
parse_usage(const cJSON *u, struct cab_script_turn *t, const char *where, cab_error *err)
{
  static const char *const keys[] = {"prompt_tokens", "completion_tokens", "total_tokens",
                                     "cached_tokens", NULL};
  const int64_t big = INT64_C(1) << 50;
  if (!cJSON_IsObject(u))
    return cab_error_set(err, 0, "%s: expected an object {\"prompt_tokens\": N, "
                                 "\"completion_tokens\": M}", where);
  if (check_keys(u, keys, where, err) < 0 ||
      get_int(u, "prompt_tokens", 0, big, &t->prompt_tokens, true, where, err) < 0 ||
      get_int(u, "completion_tokens", 0, big, &t->completion_tokens, true, where, err) < 0)
    return -1;
  t->total_tokens = t->prompt_tokens + t->completion_tokens;
  t->cached_tokens = 0;
  if (get_int(u, "total_tokens", 0, big, &t->total_tokens, false, where, err) < 0 ||
      get_int(u, "cached_tokens", 0, t->prompt_tokens, &t->cached_tokens, false, where, err) < 0)
    return -1;
  return 0;
}

static int
parse_tool_call(const cJSON *j, struct cab_script_tool_call *c, const char *where,
                cab_error *err)
{
  static const char *const keys[] = {"name", "arguments", "id", NULL};
  if (!cJSON_IsObject(j))
    return cab_error_set(err, 0, "%s: expected an object {\"name\", \"arguments\"}", where);
  if (check_keys(j, keys, where, err) < 0 || get_str(j, "name", &c->name, true, where, err) < 0 ||
      get_str(j, "id", &c->id, false, where, err) < 0)
    return -1;
  if (c->name[0] == '\0')
    return cab_error_set(err, 0, "%s.name: empty", where);
  const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, "arguments");
  if (a == NULL)
    c->arguments = strdup("{}");
  else if (cJSON_IsObject(a))
    c->arguments = cJSON_PrintUnformatted(a);
  else if (cJSON_IsString(a))
    c->arguments = strdup(a->valuestring);
  else
    return cab_error_set(err, 0, "%s.arguments: expected an object or a string of JSON", where);
  if (c->arguments == NULL)
    return cab_error_set(err, ENOMEM, "%s.arguments", where);
  return 0;
}

static void
turn_defaults(struct cab_script_turn *t, int64_t chunk_delay)
{
  t->status = 200;
  t->prompt_tokens = DEFAULT_PROMPT_TOKENS;
  t->completion_tokens = DEFAULT_COMPLETION_TOKENS;
  t->total_tokens = DEFAULT_PROMPT_TOKENS + DEFAULT_COMPLETION_TOKENS;
  t->chunk_delay_ms = chunk_delay;
}

static int
parse_turn(const cJSON *j, struct cab_script_turn *t, const cJSON *usage_i, const char *where,
           cab_error *err)
{
  static const char *const keys[] = {"content", "tool_calls", "usage", "finish_reason",
                                     "status",  "error",      "retry_after", "delay_ms",
                                     "stream_chunk_delay_ms", "hang", NULL};
  if (!cJSON_IsObject(j))
    return cab_error_set(err, 0, "%s: expected an object", where);
  if (check_keys(j, keys, where, err) < 0 || get_str(j, "content", &t->content, false, where, err) < 0 ||
      get_str(j, "finish_reason", &t->finish_reason, false, where, err) < 0 ||
      get_str(j, "error", &t->error, false, where, err) < 0)
    return -1;
  int64_t v = t->status;
  if (get_int(j, "status", 200, 599, &v, false, where, err) < 0)
    return -1;
  if (v != 200 && v < 400)
    return cab_error_set(err, 0, "%s.status: expected 200 or an error status (400 to 599)", where);
  t->status = (int)v;
  v = 0;
  if (get_int(j, "retry_after", 0, 3600, &v, false, where, err) < 0)
    return -1;
  t->retry_after = (int)v;
  if (get_int(j, "delay_ms", 0, 3600 * 1000, &t->delay_ms, false, where, err) < 0 ||
      get_int(j, "stream_chunk_delay_ms", 0, 60 * 1000, &t->chunk_delay_ms, false, where, err) < 0)
    return -1;
  const cJSON *hang = cJSON_GetObjectItemCaseSensitive(j, "hang");
  if (hang && !cJSON_IsBool(hang))
    return cab_error_set(err, 0, "%s.hang: expected true or false", where);
  t->hang = cJSON_IsTrue(hang);

  const cJSON *tc = cJSON_GetObjectItemCaseSensitive(j, "tool_calls");
  if (tc) {
    if (!cJSON_IsArray(tc) || cJSON_GetArraySize(tc) == 0)
      return cab_error_set(err, 0, "%s.tool_calls: expected a non-empty array", where);
    size_t n = (size_t)cJSON_GetArraySize(tc);
    t->tool_calls = calloc(n, sizeof *t->tool_calls);
    if (t->tool_calls == NULL)
      return cab_error_set(err, ENOMEM, "%s.tool_calls", where);
    const cJSON *c;
    cJSON_ArrayForEach(c, tc)
    {
      char w[600];
      snprintf(w, sizeof w, "%s.tool_calls[%zu]", where, t->n_tool_calls);
      if (parse_tool_call(c, &t->tool_calls[t->n_tool_calls++], w, err) < 0)
        return -1;
    }
  }
  const cJSON *u = cJSON_GetObjectItemCaseSensitive(j, "usage");
  if (u && usage_i)
    return cab_error_set(err, 0, "%s: usage given both here and in the top-level \"usage\" "
                                 "array; keep one", where);
  char w[600];
  snprintf(w, sizeof w, "%s.usage", where);
  if (u && parse_usage(u, t, w, err) < 0)
    return -1;
  if (t->status == 200 && !t->hang && t->content == NULL && t->n_tool_calls == 0)
    return cab_error_set(err, 0, "%s: needs \"content\", \"tool_calls\", an error \"status\" "
                                 "or \"hang\"", where);
  if (t->finish_reason == NULL)
    t->finish_reason = strdup(t->n_tool_calls ? "tool_calls" : "stop");
  if (t->finish_reason == NULL)
    return cab_error_set(err, ENOMEM, "%s", where);
  return 0;
}

static void
turn_clear(struct cab_script_turn *t)
{
  free(t->content);
  for (size_t i = 0; i < t->n_tool_calls; i++) {
    free(t->tool_calls[i].id);
    free(t->tool_calls[i].name);
    free(t->tool_calls[i].arguments);
  }
  free(t->tool_calls);
  free(t->finish_reason);
  free(t->error);
}

void
cab_script_free(struct cab_script *s)
{
  if (s == NULL)
    return;
  for (size_t i = 0; i < s->n_turns; i++)
    turn_clear(&s->turns[i]);
  turn_clear(&s->done);
  if (s->without_tools)
    turn_clear(s->without_tools);
  free(s->without_tools);
  free(s->turns);
  free(s->model);
  free(s);
}

/* "line L, column C" of byte OFF in TEXT. */
static void
position(const char *text, size_t off, char *out, size_t size)
{
  size_t line = 1, col = 1;
  for (size_t i = 0; i < off; i++) {
    if (text[i] == '\n') {
      line++;
      col = 1;
    } else {
      col++;
    }
  }
  snprintf(out, size, "line %zu, column %zu", line, col);
}

static int
parse_root(const cJSON *root, const char *name, struct cab_script *s, cab_error *err)
{
  static const char *const keys[] = {"model", "turns", "usage", "stream_chunk_delay_ms",
                                     "after_last", "without_tools", NULL};
  char where[512];
  snprintf(where, sizeof where, "script %s", name);
  if (!cJSON_IsObject(root))
    return cab_error_set(err, 0, "%s: expected a JSON object {\"model\", \"turns\"}", where);
  if (check_keys(root, keys, where, err) < 0 || get_str(root, "model", &s->model, true, where, err) < 0)
    return -1;
  if (s->model[0] == '\0')
    return cab_error_set(err, 0, "%s.model: empty", where);
  int64_t chunk_delay = 0;
  if (get_int(root, "stream_chunk_delay_ms", 0, 60 * 1000, &chunk_delay, false, where, err) < 0)
    return -1;
  cleanup_free char *after = NULL;
  if (get_str(root, "after_last", &after, false, where, err) < 0)
    return -1;
  if (after && strcmp(after, "done") != 0 && strcmp(after, "repeat") != 0)
    return cab_error_set(err, 0, "%s.after_last: expected \"done\" or \"repeat\", not \"%s\"",
                         where, after);
  s->repeat_last = after && strcmp(after, "repeat") == 0;

  const cJSON *turns = cJSON_GetObjectItemCaseSensitive(root, "turns");
  if (turns == NULL)
    return cab_error_set(err, 0, "%s: missing \"turns\"", where);
  if (!cJSON_IsArray(turns) || cJSON_GetArraySize(turns) == 0)
    return cab_error_set(err, 0, "%s.turns: expected a non-empty array", where);
  size_t n = (size_t)cJSON_GetArraySize(turns);
  const cJSON *usage = cJSON_GetObjectItemCaseSensitive(root, "usage");
  if (usage && !cJSON_IsArray(usage))
    return cab_error_set(err, 0, "%s.usage: expected an array, one object per turn (or give "
                                 "\"usage\" in each turn)", where);
  if (usage && (size_t)cJSON_GetArraySize(usage) > n)
    return cab_error_set(err, 0, "%s.usage: %d entries for %zu turns", where,
                         cJSON_GetArraySize(usage), n);
  s->turns = calloc(n, sizeof *s->turns);
  if (s->turns == NULL)
    return cab_error_set(err, ENOMEM, "%s", where);
  const cJSON *t;
  cJSON_ArrayForEach(t, turns)
  {
    size_t i = s->n_turns++;
    char w[600];
    snprintf(w, sizeof w, "%s: turns[%zu]", where, i);
    turn_defaults(&s->turns[i], chunk_delay);
    const cJSON *ui = usage ? cJSON_GetArrayItem(usage, (int)i) : NULL;
    if (parse_turn(t, &s->turns[i], ui, w, err) < 0)
      return -1;
    if (ui) {
      snprintf(w, sizeof w, "%s: usage[%zu]", where, i);
      if (parse_usage(ui, &s->turns[i], w, err) < 0)
        return -1;
    }
  }
  const cJSON *side = cJSON_GetObjectItemCaseSensitive(root, "without_tools");
  if (side) {
    s->without_tools = calloc(1, sizeof *s->without_tools);
    if (s->without_tools == NULL)
      return cab_error_set(err, ENOMEM, "%s", where);
    char w[600];
    snprintf(w, sizeof w, "%s: without_tools", where);
    turn_defaults(s->without_tools, chunk_delay);
    if (parse_turn(side, s->without_tools, NULL, w, err) < 0)
      return -1;
  }
  turn_defaults(&s->done, chunk_delay);
  s->done.content = strdup("done");
  s->done.finish_reason = strdup("stop");
  if (s->done.content == NULL || s->done.finish_reason == NULL)
    return cab_error_set(err, ENOMEM, "%s", where);
  return 0;
}

int
cab_script_parse(const char *text, size_t len, const char *name, struct cab_script **out,
                 cab_error *err)
{
  const char *end = NULL;
  cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, false);
  if (root == NULL) {
    char pos[64] = "the end";
    if (end && end >= text && end < text + len)
      position(text, (size_t)(end - text), pos, sizeof pos);
    return cab_error_set(err, 0, "script %s: not valid JSON (at %s)", name, pos);
  }
  struct cab_script *s = calloc(1, sizeof *s);
  if (s == NULL) {
    cJSON_Delete(root);
    return cab_error_set(err, ENOMEM, "script %s", name);
  }
  int r = parse_root(root, name, s, err);
  cJSON_Delete(root);
  if (r < 0) {
    cab_script_free(s);
    return -1;
  }
  *out = s;
  return 0;
}

int
cab_script_load(const char *path, struct cab_script **out, cab_error *err)
{
  cleanup_free char *text = NULL;
  size_t len;
  if (cab_read_file_at(AT_FDCWD, path, SCRIPT_MAX, &text, &len, err) < 0)
    return cab_error_set(err, err->errnum,
                         "read script %s (a JSON file; see tests/model/README.md)", path);
  return cab_script_parse(text, len, path, out, err);
}

const struct cab_script_turn *
cab_script_turn_for(const struct cab_script *s, size_t index)
{
  if (index < s->n_turns)
    return &s->turns[index];
  return s->repeat_last ? &s->turns[s->n_turns - 1] : &s->done;
}
