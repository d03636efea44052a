/* One record per model call: appended to model_calls.jsonl as a JSON line
 * and summed into the run's totals. */
#ifndef CAB_RUNNER_PROXY_CALLLOG_H
#define CAB_RUNNER_PROXY_CALLLOG_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "common/error.h"
#include "runner/model_api/usage.h"
#include "runner/proxy/proxy.h"

/* ok: the endpoint answered 1xx-3xx in full.  infra: the endpoint could not
 * be reached (refused, DNS, TLS, timeout), answered 429 or 5xx, or broke off
 * mid-response.  client: a 4xx other than 429, or a failure on the client's
 * side (body too large, gone mid-response, no match in the cassette). */
enum cab_call_class { CAB_CALL_OK, CAB_CALL_INFRA, CAB_CALL_CLIENT };

/* Who is to blame for an error (when there is one). */
enum cab_call_fault { CAB_FAULT_NONE, CAB_FAULT_UPSTREAM, CAB_FAULT_CLIENT };

struct cab_call_record {
  int64_t seq;                  /* 1, 2...: the order the calls were answered in */
  struct timespec started;      /* CLOCK_REALTIME */
  char request_sha256[72];      /* cab_request_sha256 of the client's request */
  const char *method, *path;    /* path without the query */
  const char *model;            /* from the request body; "" if none */
  bool stream, usage_injected, replayed;
  int status;                   /* HTTP status given to the client */
  struct cab_usage usage;
  int64_t ttfb_ms;              /* first response byte; -1 if none */
  int64_t latency_ms;
  int attempts;                 /* upstream attempts (retries + 1); 0 in replay */
  const char *error;            /* NULL, or what went wrong */
  enum cab_call_fault fault;
  const char *translated_from;  /* the client's wire when it is not the endpoint's (the
                                   call was translated to chat, or refused), or NULL */
  bool local;                   /* answered by cab (a token-count estimate): no model call */
  const char *replay_note;      /* replayed in order although the request differed: how */
  int64_t key_redacted;         /* times the upstream's answer held the real key (replaced
                                   with the placeholder before the client saw it) */
};

enum cab_call_class cab_call_classify(int status, enum cab_call_fault fault);
const char *cab_call_class_name(enum cab_call_class c);

struct cab_calllog;
/* PATH may be NULL: totals only. */
int cab_calllog_open(const char *path, struct cab_calllog **out, cab_error *err);
/* Thread-safe.  A failed write is counted, not fatal: the call itself went
 * through. */
void cab_calllog_add(struct cab_calllog *l, const struct cab_call_record *r);
void cab_calllog_totals(struct cab_calllog *l, struct cab_proxy_totals *t);
void cab_calllog_close(struct cab_calllog *l);

/* The record as one JSON line with "\n" (malloc'd); for tests too. */
char *cab_call_record_json(const struct cab_call_record *r);

#endif
