/* Error bodies and types in the model APIs' shapes (api_errors.h). */
#include "runner/model_api/api_errors.h"

#include <stddef.h>

struct status_name {
  int status;
  const char *name;
};

/* NAMES[status], else CLIENT for another 4xx, else OTHER. */
static const char *
lookup(const struct status_name *names, size_t n, int status, const char *client,
       const char *other)
{
  for (size_t i = 0; i < n; i++)
    if (names[i].status == status)
      return names[i].name;
  return status >= 400 && status < 500 ? client : other;
}

#define LOOKUP(names, status, client, other)                                                   \
  lookup(names, sizeof names / sizeof names[0], status, client, other)

const char *
cab_api_error_openai_type(int status)
{
  static const struct status_name names[] = {
      {401, "authentication_error"},
      {429, "requests"},
  };
  return LOOKUP(names, status, "invalid_request_error", "server_error");
}

const char *
cab_api_error_anthropic_type(int status)
{
  static const struct status_name names[] = {
      {401, "authentication_error"}, {403, "permission_error"}, {404, "not_found_error"},
      {413, "request_too_large"},    {429, "rate_limit_error"}, {529, "overloaded_error"},
  };
  return LOOKUP(names, status, "invalid_request_error", "api_error");
}

const char *
cab_api_error_gemini_status(int status)
{
  static const struct status_name names[] = {
      {400, "INVALID_ARGUMENT"}, {401, "UNAUTHENTICATED"},   {403, "PERMISSION_DENIED"},
      {404, "NOT_FOUND"},        {409, "ABORTED"},           {429, "RESOURCE_EXHAUSTED"},
      {499, "CANCELLED"},        {501, "UNIMPLEMENTED"},     {503, "UNAVAILABLE"},
      {504, "DEADLINE_EXCEEDED"},
  };
  return LOOKUP(names, status, "FAILED_PRECONDITION", "INTERNAL");
}

cJSON *
cab_api_error_body(enum cab_api_error_shape shape, int status, const char *message,
                   const char *type, const char *code)
{
  cJSON *r = cJSON_CreateObject();
  if (r == NULL)
    return NULL;
  if (shape == CAB_API_ERROR_ANTHROPIC)
    cJSON_AddStringToObject(r, "type", "error");
  cJSON *e = cJSON_AddObjectToObject(r, "error");
  switch (shape) {
  case CAB_API_ERROR_ANTHROPIC:
    cJSON_AddStringToObject(e, "type", cab_api_error_anthropic_type(status));
    cJSON_AddStringToObject(e, "message", message);
    break;
  case CAB_API_ERROR_GEMINI:
    cJSON_AddNumberToObject(e, "code", status);
    cJSON_AddStringToObject(e, "message", message);
    cJSON_AddStringToObject(e, "status", cab_api_error_gemini_status(status));
    break;
  default:
    cJSON_AddStringToObject(e, "message", message);
    cJSON_AddStringToObject(e, "type", type ? type : cab_api_error_openai_type(status));
    cJSON_AddNullToObject(e, "param");
    if (code)
      cJSON_AddStringToObject(e, "code", code);
    else
      cJSON_AddNullToObject(e, "code");
  }
  return r;
}
