/* The built-in model endpoint (`cab model-server`): an OpenAI- and
 * Anthropic-compatible HTTP server on libmicrohttpd that answers from a
 * script (script.h) or replays a cassette (cassette.h).  No upstream, no key.
 *
 * Endpoints (script mode):
 *   POST /v1/chat/completions   chat, streamed or not, text and tool calls
 *   POST /v1/completions        legacy completions (the turn's content)
 *   POST /v1/messages           Anthropic Messages, streamed or not
 *   POST /v1/messages/count_tokens   {"input_tokens": body bytes / 4}
 *   GET  /v1/models, /v1/models/ID   the script's model
 *   POST /v1/embeddings         deterministic vectors
 * The three chat endpoints take the script's turns in order; the others take
 * none.  Anything else is a 404 JSON error, a wrong method a 405.
 *
 * Replay mode answers every request from the cassette (any path), pieces at
 * their recorded times divided by the replay speed; a request with no match
 * gets 409 and a JSON error naming the first difference, and one line on the
 * log.
 *
 * One thread per connection (MHD's internal polling thread hands each
 * connection its own), so a slow or hanging answer holds only its own. */
#ifndef CAB_RUNNER_MODEL_SERVER_H
#define CAB_RUNNER_MODEL_SERVER_H

#include <stdint.h>
#include <stdio.h>

#include "common/error.h"
#include "runner/model_api/cassette.h"
#include "runner/model_server/script.h"

struct cab_model_server_config {
  const struct cab_script *script;    /* answer from this script, or */
  struct cab_cassette *cassette;      /* replay this cassette */
  double replay_speed;                /* 1: recorded timing, 2: twice as fast, 0: no waits */
  struct cab_cassette_writer *record; /* optional: append every answer served */
  int listen_fd;                      /* a listening TCP socket (the server takes it), or -1 */
  const char *listen;                 /* with listen_fd -1: "HOST:PORT"; NULL: 127.0.0.1:0 */
  FILE *log;                          /* one line per notable event, or NULL */
};

/* The config's script, cassette and writer must outlive the server. */
struct cab_model_server;
int cab_model_server_start(const struct cab_model_server_config *cfg,
                           struct cab_model_server **out, cab_error *err);
/* Stops accepting, ends held (delayed, hanging) answers, joins every thread. */
void cab_model_server_stop(struct cab_model_server *s);

int cab_model_server_port(const struct cab_model_server *s);
/* "http://127.0.0.1:PORT/v1" (IPv6 hosts bracketed). */
const char *cab_model_server_url(const struct cab_model_server *s);
/* Chat-family requests answered (script turns taken, or cassette entries). */
uint64_t cab_model_server_answered(const struct cab_model_server *s);

/* A listening TCP socket (close-on-exec) on ADDR: "HOST:PORT", "[V6]:PORT",
 * ":PORT" or "PORT" (host 127.0.0.1); port 0 picks a free one. */
int cab_listen_tcp(const char *addr, cab_error *err);

#endif
