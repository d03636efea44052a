/* What the proxy needs to know about a client's request body, and the one
 * rewrite it makes: a streaming chat (or legacy) completion that does not
 * ask for usage gets stream_options.include_usage=true, so that the stream's last
 * event carries the token counts.  The extra event (choices: []) is passed
 * through to the client unchanged; OpenAI's own SDKs expect it whenever
 * include_usage is set, and the call's record says usage_injected. */
#ifndef CAB_RUNNER_PROXY_REQUEST_H
#define CAB_RUNNER_PROXY_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

struct cab_request_info {
  char model[128];   /* "" when absent */
  bool stream;       /* "stream": true */
  bool anthropic;    /* Anthropic's API: the key goes in x-api-key */
};

/* PATH is the request target without its query.  ANTHROPIC_HEADER: the
 * client sent anthropic-version.  When the body is rewritten, *OUT gets a
 * malloc'd copy (and *OUT_LEN its length); otherwise *OUT stays NULL. */
void cab_request_inspect(const char *path, bool anthropic_header, const char *body, size_t len,
                         struct cab_request_info *info, char **out, size_t *out_len);

/* True for a path whose last components are /chat/completions. */
bool cab_request_is_chat(const char *path);

#endif
