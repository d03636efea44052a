/* A finished call: its line in model_calls.jsonl, its share of the
 * totals, and its cassette entry. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsutil.h"
#include "runner/proxy/bridge.h"
#include "runner/proxy/call.h"
#include "runner/proxy/proxy_internal.h"

static const char *
termination(enum MHD_RequestTerminationCode toe)
{
  switch (toe) {
  case MHD_REQUEST_TERMINATED_COMPLETED_OK: return "completed";
  case MHD_REQUEST_TERMINATED_WITH_ERROR: return "the connection failed";
  case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED: return "the client connection timed out";
  case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN: return "cab stopped the proxy";
  case MHD_REQUEST_TERMINATED_READ_ERROR: return "the client connection broke";
  case MHD_REQUEST_TERMINATED_CLIENT_ABORT: return "the client closed the connection";
  default: return "the connection ended";
  }
}

void
cab_call_finish(struct cab_call *k, enum MHD_RequestTerminationCode toe)
{
  struct cab_proxy *p = k->p;
  int64_t latency_ns = cab_now_ns() - k->t0;
  if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK &&
      (strcmp(k->method, "HEAD") == 0 || (k->expect_len >= 0 && (long long)k->sent == k->expect_len)))
    k->ended = true;
  if (!k->ended)
    cab_call_error(k, CAB_FAULT_CLIENT, "%s after %zu bytes of the response", termination(toe),
              k->sent);

  if (p->key && k->error[0]) { /* an error may quote the upstream */
    bool failed;
    char *clean = cab_redact_string(k->error, p->key, CAB_PROXY_PLACEHOLDER_KEY, &failed);
    if (clean || failed)
      snprintf(k->error, sizeof k->error, "%s", clean ? clean : "(error text withheld)");
    free(clean);
  }

  struct cab_usage u;
  memset(&u, 0, sizeof u);
  if (k->sse) {
    cab_sse_usage_finish(k->scan, &u);
    k->scan = NULL;
  } else if (!k->json_skip && k->json_len > 0) {
    cab_usage_from_json(k->json, k->json_len, &u);
  }

  /* A translated call's client got the upstream's usage already clamped:
   * the record still says it was. */
  const char *note = NULL;
  if (k->bridge && cab_bridge_usage_clamped(k->bridge, &note) && !u.clamped) {
    u.clamped = true;
    if (note)
      snprintf(u.note, sizeof u.note, "%s", note);
    else
      snprintf(u.note, sizeof u.note,
               "the upstream's usage held a figure that is not a token count: counted as %lld "
               "(or rounded up)",
               (long long)CAB_USAGE_TOKENS_MAX);
  }

  struct cab_call_record r = {
      .seq = k->seq,
      .started = k->started,
      .method = k->method,
      .path = k->path,
      .model = k->info.model,
      .stream = k->info.stream,
      .usage_injected = k->usage_injected,
      .replayed = p->replay != NULL,
      .status = k->status,
      .usage = u,
      .ttfb_ms = k->ttfb_ns >= 0 ? k->ttfb_ns / 1000000 : -1,
      .latency_ms = latency_ns / 1000000,
      .attempts = k->attempts,
      .error = k->error[0] ? k->error : NULL,
      .fault = k->fault,
      .translated_from = k->wire,
      .local = k->local,
      .replay_note = k->replay_note,
      .key_redacted = (int64_t)(k->key_hits + cab_redactor_hits(k->red)),
  };
  if (k->sha[0] == '\0')
    cab_request_sha256(k->method, k->uri, k->body, k->len, k->sha);
  memcpy(r.request_sha256, k->sha, sizeof r.request_sha256);
  cab_calllog_add(p->log, &r);

  if (p->rec) {
    struct cab_cassette_entry e = {
        .seq = k->seq, /* the order calls were answered in */
        .method = k->method,
        .path = k->uri,
        .body = k->body ? k->body : (char *)"",
        .body_len = k->len,
        .status = k->status,
        .content_type = k->content_type ? k->content_type : (char *)"",
        .chunks = k->chunks,
        .n_chunks = k->n_chunks,
    };
    memcpy(e.request_sha256, k->sha, sizeof e.request_sha256);
    cab_error err = {0};
    if (cab_cassette_append(p->rec, &e, &err) < 0) {
      char line[600];
      cab_proxy_note(p, &p->record_errors, p->first_record_error,
                     cab_error_line(&err, line, sizeof line));
    }
  }
}
