/* The real API key, wherever it would leave cab: replaced with the
 * placeholder.
 *
 * The proxy adds the key to upstream requests; an upstream that reflects
 * request headers (a debug endpoint, a misconfigured gateway) would hand it
 * to the agent, and from the agent it would reach the cell's artifacts.  So
 * every byte the proxy sends back to the sandbox (headers, bodies, streams,
 * cab's own errors) and every artifact of a cell goes through here.  The key
 * is matched in any letter case (its case variants); a stream is redacted
 * piece by piece, and the bytes at a piece's end that could begin the key
 * are held back until the next piece shows whether they do (a key split
 * across chunks).  Bytes that begin no match are never held: an SSE event,
 * which ends in a line break the key cannot hold, goes out whole at once.
 *
 * Encodings of the key (JSON \u escapes, base64, split across fields) are
 * not recognised: the defence that matters is that the key is only ever
 * sent to the endpoint's model API paths (allow.h). */
#ifndef CAB_RUNNER_PROXY_REDACT_H
#define CAB_RUNNER_PROXY_REDACT_H

#include <stdbool.h>
#include <stddef.h>

#include "runner/proxy/byteq.h" /* a cab_redact_sink that queues: cab_byteq_sink */

/* The shortest key cab takes: the key is matched anywhere, in any letter
 * case, so a shorter one would match ordinary text ("x" is in "max_turns")
 * and rewrite it.  run-cell and cab exec refuse a shorter key up front. */
#define CAB_REDACT_MIN_SECRET 8

/* Where redacted bytes go: 0, or -1 to stop (the feed returns -1). */
typedef int (*cab_redact_sink)(void *ctx, const char *data, size_t n);

struct cab_redactor;

/* A redactor replacing SECRET (copied; NULL or "" gives NULL: nothing to
 * redact) with WITH.  NULL also when out of memory: check SECRET first. */
struct cab_redactor *cab_redactor_new(const char *secret, const char *with);

/* Redact IN[0..N) into SINK (NULL: count the matches only). */
int cab_redactor_feed(struct cab_redactor *r, const char *in, size_t n, cab_redact_sink sink,
                      void *ctx);

/* The stream ended: the held bytes go out as they are. */
int cab_redactor_end(struct cab_redactor *r, cab_redact_sink sink, void *ctx);

/* Matches replaced so far. */
size_t cab_redactor_hits(const struct cab_redactor *r);

/* Wipes the copy of the secret. */
void cab_redactor_free(struct cab_redactor *r);

/* S with every match of SECRET replaced by WITH (malloc'd), or NULL when S
 * holds none (or out of memory: *FAILED). */
char *cab_redact_string(const char *s, const char *secret, const char *with, bool *failed);

#endif
