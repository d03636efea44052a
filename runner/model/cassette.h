/* Cassettes: every model call of a run, request and response in full, with
 * the stream's chunk timing, for offline replay.  One JSON object per line
 * (JSONL), appended as calls complete:
 *   {"seq": N, "request": {"method", "path", "body", "sha256"},
 *    "response": {"status", "content_type", "chunks": [{"t_ms", "data"}...]}}
 * "sha256" is the request's identity: sha256 over method, path and body. */
#ifndef CAB_RUNNER_MODEL_CASSETTE_H
#define CAB_RUNNER_MODEL_CASSETTE_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

struct cab_cassette_chunk {
  int64_t t_ms;     /* since the request was sent */
  char *data;
  size_t len;
};

struct cab_cassette_entry {
  int64_t seq;
  char *method, *path, *body;
  size_t body_len;
  char request_sha256[72];
  int status;
  char *content_type;
  struct cab_cassette_chunk *chunks;
  size_t n_chunks;
};

/* Recording: thread-safe appends (calls complete on several connections). */
struct cab_cassette_writer;
int cab_cassette_writer_open(const char *path, struct cab_cassette_writer **out, cab_error *err);
int cab_cassette_append(struct cab_cassette_writer *w, const struct cab_cassette_entry *e,
                        cab_error *err);
void cab_cassette_writer_close(struct cab_cassette_writer *w);

/* Replay. */
struct cab_cassette;
int cab_cassette_load(const char *path, struct cab_cassette **out, cab_error *err);

/* Find the answer for a request: by request hash first, else the next
 * unused entry in order whose method and path match.  On a miss, fills ERR
 * with the first difference from the recorded request it was compared with
 * (e.g. `body: at byte 113: recorded "temperature":0.2, got "temperature":0.7`). */
const struct cab_cassette_entry *cab_cassette_match(struct cab_cassette *c, const char *method,
                                                    const char *path, const char *body,
                                                    size_t body_len, cab_error *err);
void cab_cassette_free(struct cab_cassette *c);

/* sha256 identity of a request. */
void cab_request_sha256(const char *method, const char *path, const char *body, size_t len,
                        char out[72]);

#endif
