/* Error bodies in the model APIs' own shapes, and the error type (Gemini:
 * status) each API gives an HTTP status, as the real APIs send them:
 *   OpenAI     {"error": {message, type, param, code}}: 401
 *              authentication_error, 429 "requests" (with code
 *              rate_limit_exceeded), other 4xx invalid_request_error (OpenAI
 *              answers 403 and 404 with it too), 5xx server_error;
 *   Anthropic  {"type": "error", "error": {type, message}}: 400
 *              invalid_request_error, 401 authentication_error, 403
 *              permission_error, 404 not_found_error, 413 request_too_large,
 *              429 rate_limit_error, 529 overloaded_error, other 4xx
 *              invalid_request_error, else api_error;
 *   Gemini     {"error": {code, message, status}}: google.rpc codes
 *              (INVALID_ARGUMENT, UNAUTHENTICATED, PERMISSION_DENIED, ...).
 * The model server (script_render.c, server.c) and the proxy's translation
 * (runner/proxy/translate_error.c) both answer with these. */
#ifndef CAB_RUNNER_MODEL_API_API_ERRORS_H
#define CAB_RUNNER_MODEL_API_API_ERRORS_H

#include <cjson/cJSON.h>

enum cab_api_error_shape {
  CAB_API_ERROR_OPENAI,    /* chat completions, completions, Responses */
  CAB_API_ERROR_ANTHROPIC, /* Messages */
  CAB_API_ERROR_GEMINI,    /* generateContent */
};

const char *cab_api_error_openai_type(int http_status);
const char *cab_api_error_anthropic_type(int http_status);
const char *cab_api_error_gemini_status(int http_status);

/* The error body for HTTP_STATUS.  OpenAI only: TYPE (NULL: the status's)
 * and CODE (NULL: null).  NULL when out of memory. */
cJSON *cab_api_error_body(enum cab_api_error_shape shape, int http_status, const char *message,
                          const char *type, const char *code);

#endif
