/* Cassettes: every model call of a run, request and response in full, with
 * the stream's chunk timing, for offline replay.  One JSON object per line
 * (JSONL), appended as calls complete:
 *   {"seq": N, "request": {"method", "path", "body", "sha256"},
 *    "response": {"status", "content_type", "chunks": [{"t_ms", "data"}...]}}
 * "sha256" is the request's identity: sha256 over method, path and body
 * (cab_request_sha256), with "\n" between them.  "path" is the request path
 * as the client sent it (cab model-server matches on the path without its
 * query string).  A body or chunk that is not valid UTF-8 text (or holds a
 * NUL byte) is stored base64-encoded as "body_b64" / "data_b64" instead of
 * "body" / "data"; a reader accepts either.  Keys not listed are ignored,
 * so a line may carry more (the recorder's notes).  The writer fsyncs on
 * close; each line goes out in one write() under a mutex.
 *
 * A cassette cab run-cell records starts with one identity line, the cell
 * it was recorded for:
 *   {"cassette": "cab.cassette/v1", "recorded_for": {"tui", "model", "task_id"}}
 * so that --replay can refuse a cassette of another agent, model or task
 * (whose answers would be scored as this cell's).  Cassettes without one
 * (cab model-server --record, older cab) replay as before. */
#ifndef CAB_RUNNER_MODEL_API_CASSETTE_H
#define CAB_RUNNER_MODEL_API_CASSETTE_H

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
/* 1, 2, 3...: a seq for the next entry, unique within this writer. */
int64_t cab_cassette_next_seq(struct cab_cassette_writer *w);
/* The identity line, written only when the cassette is still empty (a
 * recording appended to an existing cassette keeps that one's identity). */
int cab_cassette_write_identity(struct cab_cassette_writer *w, const char *tui,
                                const char *model, const char *task_id, cab_error *err);
void cab_cassette_writer_close(struct cab_cassette_writer *w);

/* Replay. */
struct cab_cassette;
int cab_cassette_load(const char *path, struct cab_cassette **out, cab_error *err);

/* Find the answer for a request: by request hash first, else (ORDER mode)
 * the next unused entry in order whose method and path match; that answer
 * comes with ERR holding how the request differs from the recorded one, as
 * a note for the caller (the call still succeeds).  On a miss, fills ERR
 * with the first difference from the recorded request it was compared with
 * (e.g. `body: at byte 113: recorded "temperature":0.2, got "temperature":0.7`). */
const struct cab_cassette_entry *cab_cassette_match(struct cab_cassette *c, const char *method,
                                                    const char *path, const char *body,
                                                    size_t body_len, cab_error *err);
void cab_cassette_free(struct cab_cassette *c);
/* What the identity line says: KEY is "tui", "model" or "task_id"; NULL
 * when the cassette has no identity line. */
const char *cab_cassette_recorded_for(const struct cab_cassette *c, const char *key);

/* How a request that is not an exact (hash) match is treated.
 * HASH (the default): an error naming the first difference.
 * ORDER: answered with the next unused entry of the same method and path,
 * whatever its body (for clients whose requests carry volatile fields). */
enum cab_cassette_mode { CAB_CASSETTE_MATCH_HASH, CAB_CASSETTE_MATCH_ORDER };
void cab_cassette_set_mode(struct cab_cassette *c, enum cab_cassette_mode mode);

/* In detail: (1) the earliest unused entry with the request's hash; (2) in
 * ORDER mode, the next unused entry with the same method and path; (3) an
 * already used entry with the same hash, again (a client that repeats a
 * request, e.g. GET /v1/models); (4) otherwise a miss.  Thread-safe. */

size_t cab_cassette_count(const struct cab_cassette *c);
const struct cab_cassette_entry *cab_cassette_entry_at(const struct cab_cassette *c, size_t i);

/* Frees the strings and chunks an entry owns (not E itself); for entries a
 * caller builds with malloc'd fields. */
void cab_cassette_entry_clear(struct cab_cassette_entry *e);

/* sha256 identity of a request. */
void cab_request_sha256(const char *method, const char *path, const char *body, size_t len,
                        char out[72]);

#endif
