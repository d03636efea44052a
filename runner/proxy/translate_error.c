/* Upstream errors (and cab's own) in the client wire's error shape. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner/model_api/api_errors.h"
#include "runner/proxy/translate_internal.h"
#include "runner/proxy/wire_ops.h"

/* A message longer than this is cut: it is for a human to read. */
#define MESSAGE_MAX 4000

cJSON *
tr_error_object(enum cab_wire wire, int status, const char *message, const char *type,
                const char *code)
{
  return cab_wire_ops(wire)->error(status, message, type, code);
}

/* The shapes the model server answers in too (api_errors.h). */
cJSON *
tr_error_openai(int status, const char *message, const char *type, const char *code)
{
  return cab_api_error_body(CAB_API_ERROR_OPENAI, status, message, type, code);
}

cJSON *
tr_error_anthropic(int status, const char *message, const char *type, const char *code)
{
  return cab_api_error_body(CAB_API_ERROR_ANTHROPIC, status, message, type, code);
}

cJSON *
tr_error_gemini(int status, const char *message, const char *type, const char *code)
{
  return cab_api_error_body(CAB_API_ERROR_GEMINI, status, message, type, code);
}

/* The message, type and code an upstream error body carries: OpenAI's
 * {"error":{...}}, {"error":"text"}, {"message"}, {"detail"} (FastAPI
 * servers), a Gemini-style array of one, or plain text. */
struct upstream_error {
  char message[MESSAGE_MAX + 1];
  char type[64], code[64];
};

static void
from_json(const cJSON *j, struct upstream_error *u)
{
  if (cJSON_IsArray(j))
    j = cJSON_GetArrayItem(j, 0);
  const cJSON *e = tr_get(j, "error");
  const char *msg = cJSON_IsString(e) ? e->valuestring : tr_str(e, "message");
  if (msg == NULL)
    msg = tr_str(j, "message");
  if (msg == NULL)
    msg = tr_str(j, "detail");
  if (msg)
    snprintf(u->message, sizeof u->message, "%s", msg);
  const char *type = tr_str(e, "type");
  if (type)
    snprintf(u->type, sizeof u->type, "%s", type);
  const cJSON *code = tr_get(e, "code");
  if (cJSON_IsString(code))
    snprintf(u->code, sizeof u->code, "%s", code->valuestring);
}

static void
read_error(int status, const char *body, size_t len, struct upstream_error *u)
{
  memset(u, 0, sizeof *u);
  cJSON *j = body && len ? cJSON_ParseWithLength(body, len) : NULL;
  if (j)
    from_json(j, u);
  cJSON_Delete(j);
  if (u->message[0] == '\0' && !j && body) {
    while (len && (body[len - 1] == '\n' || body[len - 1] == '\r' || body[len - 1] == ' '))
      len--;
    if (len > MESSAGE_MAX)
      len = MESSAGE_MAX;
    memcpy(u->message, body, len);
    u->message[len] = '\0';
  }
  if (u->message[0] == '\0')
    snprintf(u->message, sizeof u->message, "upstream model endpoint answered HTTP %d", status);
}

int
cab_translate_error(const struct cab_wire_route *route, int http_status,
                    const char *upstream_body, size_t len, char **out, size_t *out_len)
{
  cab_error err = {0};
  *out = NULL;
  *out_len = 0;
  if (cab_wire_ops(route->wire)->identity && upstream_body && len) {
    /* A chat client reads the upstream's own error as it is. */
    cJSON *j = cJSON_ParseWithLength(upstream_body, len);
    bool is_json = j != NULL;
    cJSON_Delete(j);
    if (is_json) {
      *out = malloc(len + 1);
      if (*out == NULL)
        return -1;
      memcpy(*out, upstream_body, len);
      (*out)[len] = '\0';
      *out_len = len;
      return 0;
    }
  }
  struct upstream_error *u = malloc(sizeof *u);
  if (u == NULL)
    return -1;
  read_error(http_status, upstream_body, len, u);
  cJSON *r = tr_error_object(route->wire, http_status, u->message, u->type[0] ? u->type : NULL,
                             u->code[0] ? u->code : NULL);
  free(u);
  return tr_print(r, out, out_len, &err);
}
