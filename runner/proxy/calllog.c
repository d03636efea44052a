#include "runner/proxy/calllog.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runner/record/model_calls.h"

struct cab_calllog {
  pthread_mutex_t mu;
  int fd;                       /* -1: totals only */
  struct cab_proxy_totals totals;
};

enum cab_call_class
cab_call_classify(int status, enum cab_call_fault fault)
{
  if (fault == CAB_FAULT_UPSTREAM)
    return CAB_CALL_INFRA;
  if (fault == CAB_FAULT_CLIENT)
    return CAB_CALL_CLIENT;
  if (status == 429 || status >= 500 || status <= 0)
    return CAB_CALL_INFRA;
  if (status >= 400)
    return CAB_CALL_CLIENT;
  return CAB_CALL_OK;
}

const char *
cab_call_class_name(enum cab_call_class c)
{
  switch (c) {
  case CAB_CALL_OK: return "ok";
  case CAB_CALL_INFRA: return "infra";
  case CAB_CALL_CLIENT: return "client";
  }
  return "?";
}

int
cab_calllog_open(const char *path, struct cab_calllog **out, cab_error *err)
{
  struct cab_calllog *l = calloc(1, sizeof *l);
  if (l == NULL)
    return cab_error_set(err, ENOMEM, "model call log");
  l->fd = -1;
  if (path) {
    l->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0644);
    if (l->fd < 0) {
      int saved = errno;
      free(l);
      return cab_error_set(err, saved, "--model-calls %s: cannot open it for appending", path);
    }
  }
  pthread_mutex_init(&l->mu, NULL);
  *out = l;
  return 0;
}

static void
add_num(cJSON *j, const char *key, bool present, int64_t v)
{
  if (present)
    cJSON_AddNumberToObject(j, key, (double)v);
  else
    cJSON_AddNullToObject(j, key);
}

char *
cab_call_record_json(const struct cab_call_record *r)
{
  char ts[40];
  struct tm tm;
  gmtime_r(&r->started.tv_sec, &tm);
  size_t n = strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(ts + n, sizeof ts - n, ".%03ldZ", r->started.tv_nsec / 1000000);

  cJSON *j = cJSON_CreateObject();
  if (j == NULL)
    return NULL;
  const struct cab_usage *u = &r->usage;
  enum cab_call_class cls = cab_call_classify(r->status, r->fault);
  cJSON_AddNumberToObject(j, CAB_CALL_SEQ, (double)r->seq);
  cJSON_AddStringToObject(j, CAB_CALL_TIMESTAMP, ts);
  cJSON_AddStringToObject(j, CAB_CALL_REQUEST_SHA256, r->request_sha256);
  cJSON_AddStringToObject(j, CAB_CALL_METHOD, r->method ? r->method : "");
  cJSON_AddStringToObject(j, CAB_CALL_PATH, r->path ? r->path : "");
  cJSON_AddStringToObject(j, CAB_CALL_MODEL, r->model ? r->model : "");
  if (u->model[0])
    cJSON_AddStringToObject(j, CAB_CALL_RESPONSE_MODEL, u->model);
  cJSON_AddBoolToObject(j, CAB_CALL_STREAM, r->stream);
  add_num(j, CAB_CALL_PROMPT_TOKENS, u->present, u->prompt_tokens);
  add_num(j, CAB_CALL_COMPLETION_TOKENS, u->present, u->completion_tokens);
  add_num(j, CAB_CALL_TOTAL_TOKENS, u->present, u->total_tokens);
  if (u->present && u->cached_tokens)
    cJSON_AddNumberToObject(j, CAB_CALL_CACHED_TOKENS, (double)u->cached_tokens);
  if (u->present && u->reasoning_tokens)
    cJSON_AddNumberToObject(j, CAB_CALL_REASONING_TOKENS, (double)u->reasoning_tokens);
  if (u->clamped) {
    cJSON_AddTrueToObject(j, CAB_CALL_USAGE_CLAMPED);
    cJSON_AddStringToObject(j, CAB_CALL_USAGE_NOTE, u->note);
  }
  if (u->finish_reason[0])
    cJSON_AddStringToObject(j, CAB_CALL_FINISH_REASON, u->finish_reason);
  else
    cJSON_AddNullToObject(j, CAB_CALL_FINISH_REASON);
  add_num(j, CAB_CALL_STATUS, r->status > 0, r->status);
  add_num(j, CAB_CALL_TTFB_MS, r->ttfb_ms >= 0, r->ttfb_ms);
  cJSON_AddNumberToObject(j, CAB_CALL_LATENCY_MS, (double)r->latency_ms);
  cJSON_AddNumberToObject(j, CAB_CALL_ATTEMPTS, r->attempts);
  cJSON_AddStringToObject(j, CAB_CALL_CLASS, cab_call_class_name(cls));
  if (r->error)
    cJSON_AddStringToObject(j, CAB_CALL_ERROR, r->error);
  else
    cJSON_AddNullToObject(j, CAB_CALL_ERROR);
  if (r->usage_injected)
    cJSON_AddTrueToObject(j, CAB_CALL_USAGE_INJECTED);
  if (r->replayed)
    cJSON_AddTrueToObject(j, CAB_CALL_REPLAYED);
  if (r->translated_from)
    cJSON_AddStringToObject(j, CAB_CALL_TRANSLATED_FROM, r->translated_from);
  if (r->local)
    cJSON_AddStringToObject(j, CAB_CALL_ANSWERED_BY, "cab");
  if (r->key_redacted > 0)
    cJSON_AddNumberToObject(j, CAB_CALL_KEY_REDACTED, (double)r->key_redacted);
  if (r->replay_note && r->replay_note[0])
    cJSON_AddStringToObject(j, CAB_CALL_REPLAY_NOTE, r->replay_note);
  char *text = cJSON_PrintUnformatted(j);
  cJSON_Delete(j);
  if (text == NULL)
    return NULL;
  size_t len = strlen(text);
  char *line = realloc(text, len + 2);
  if (line == NULL) {
    free(text);
    return NULL;
  }
  line[len] = '\n';
  line[len + 1] = '\0';
  return line;
}

/* Sums stop at INT64_MAX rather than wrap negative (each count is at most
 * CAB_USAGE_TOKENS_MAX, so this takes billions of calls; cheap insurance). */
static void
add_sat(int64_t *sum, int64_t v)
{
  if (v < 0)
    return;
  *sum = *sum > INT64_MAX - v ? INT64_MAX : *sum + v;
}

void
cab_calllog_add(struct cab_calllog *l, const struct cab_call_record *r)
{
  char *line = l->fd >= 0 ? cab_call_record_json(r) : NULL;
  enum cab_call_class cls = cab_call_classify(r->status, r->fault);
  pthread_mutex_lock(&l->mu);
  struct cab_proxy_totals *t = &l->totals;
  if (r->local) /* not a model call: recorded, not counted */
    goto write;
  t->model_calls++;
  t->model_call_ms += r->latency_ms;
  if (r->usage.present) {
    add_sat(&t->prompt_tokens, r->usage.prompt_tokens);
    add_sat(&t->completion_tokens, r->usage.completion_tokens);
    add_sat(&t->total_tokens, r->usage.total_tokens);
    add_sat(&t->cached_tokens, r->usage.cached_tokens);
  }
  if (r->usage.clamped)
    t->usage_clamped++;
  if (r->key_redacted > 0)
    t->key_reflected++;
  if (cls == CAB_CALL_OK) {
    t->ok++;
    if (!r->usage.present && r->method && strcmp(r->method, "POST") == 0)
      t->calls_without_usage++;
  } else if (cls == CAB_CALL_INFRA) {
    t->infra_errors++;
  } else {
    t->client_errors++;
  }
write:
  if (line) {
    /* One write per line, O_APPEND: lines never interleave. */
    size_t len = strlen(line), off = 0;
    while (off < len) {
      ssize_t w = write(l->fd, line + off, len - off);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        break;
      off += (size_t)w;
    }
  }
  pthread_mutex_unlock(&l->mu);
  free(line);
}

void
cab_calllog_totals(struct cab_calllog *l, struct cab_proxy_totals *t)
{
  pthread_mutex_lock(&l->mu);
  *t = l->totals;
  pthread_mutex_unlock(&l->mu);
}

void
cab_calllog_close(struct cab_calllog *l)
{
  if (l == NULL)
    return;
  if (l->fd >= 0)
    close(l->fd);
  pthread_mutex_destroy(&l->mu);
  free(l);
}
