/* What goes back to the client of a call (answer.c): cab's own answers,
 * and the upstream's (or the cassette's) response relayed as it comes.
 * Every byte of either has the real key replaced (redact.h). */
#ifndef CAB_RUNNER_PROXY_ANSWER_H
#define CAB_RUNNER_PROXY_ANSWER_H

#include <stdbool.h>

#include "common/lazy_mhd.h"
#include "runner/proxy/call.h"

/* A response cab makes itself: BODY[0..LEN) with STATUS, as JSON.  FAULT
 * and MESSAGE go to the call's record (no MESSAGE: not an error). */
enum MHD_Result cab_answer_body(struct cab_call *k, struct MHD_Connection *c, int status,
                                enum cab_call_fault fault, const char *message, const char *body,
                                size_t len);

/* cab's own error, in OpenAI's error shape with TYPE (a translated call's
 * client gets its own wire's shape instead). */
enum MHD_Result cab_answer_error(struct cab_call *k, struct MHD_Connection *c, int status,
                                 enum cab_call_fault fault, const char *type, const char *message);

/* A request the proxy does not take (allow.h): STATUS with MESSAGE in the
 * error shape of the client's wire, before any of its body is read. */
enum MHD_Result cab_answer_refusal(struct cab_call *k, struct MHD_Connection *c, int status,
                                   const char *message);

/* A call beyond the cell's bounds (proxy.h: max_calls, max_buffered_bytes):
 * 503 with WHY, counted. */
enum MHD_Result cab_answer_busy(struct cab_call *k, struct MHD_Connection *c, const char *why);

/* The relayed response: HEAD's status and end-to-end headers (NULL: K's
 * status and content type, for the cassette and the bridge), the body read
 * on demand from the upstream, the cassette or the bridge. */
enum MHD_Result cab_answer_stream(struct cab_call *k, struct MHD_Connection *c,
                                  const struct cab_xfer_head *head);

/* The request on connection CLS (a struct MHD_Connection) holds header
 * NAME (cab_wire_has_header_fn). */
bool cab_has_header(void *cls, const char *name);

/* NAME is in LIST (NULL-terminated), ignoring case. */
bool cab_header_listed(const char *name, const char *const *list);

#endif
