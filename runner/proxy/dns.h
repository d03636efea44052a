/* The sandbox's DNS: the endpoint's host name and model.cab.internal are
 * the gateway; every other name does not exist, answered at once.
 *
 * The wire format is handled by hand rather than with ldns: all it takes
 * is one question read (a header, labels without compression, type and
 * class) and a fixed reply written, some sixty lines, while ldns would add
 * a build dependency and a general parser's attack surface for none of its
 * features.  Every read is bounds-checked, and the code is fuzzed with a
 * corpus of malformed packets (tests/fixtures/proxy/dns) and random
 * mutations under ASan (tests/unit/test_proxy_dns.c). */
#ifndef CAB_RUNNER_PROXY_DNS_H
#define CAB_RUNNER_PROXY_DNS_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

#define CAB_DNS_MAX_NAMES 4
#define CAB_DNS_MAX_REPLY 512 /* a reply never exceeds the classic UDP size */

struct cab_dns_zone {
  char names[CAB_DNS_MAX_NAMES][256]; /* lower case, no trailing dot */
  size_t n_names;
  struct in_addr addr;                /* what every known name is */
};

/* Add NAME (any case, trailing dot allowed) to Z; -1 when full or invalid. */
int cab_dns_zone_add(struct cab_dns_zone *z, const char *name);

/* The reply to the query Q (QLEN bytes) in OUT (CAB_DNS_MAX_REPLY bytes):
 * an A record for a known name, NOERROR without records for its other types
 * (AAAA...), NXDOMAIN for any other name, FORMERR or NOTIMP for what cannot
 * be parsed or is not a query.  Returns the reply's length, or 0 when the
 * packet gets no reply (too short to carry an ID, or itself a response). */
size_t cab_dns_answer(const struct cab_dns_zone *z, const uint8_t *q, size_t qlen, uint8_t *out);

/* Whether REPLY (LEN bytes, from cab_dns_answer) says NXDOMAIN; if so the
 * question's name, lower case, goes to NAME (256 bytes). */
int cab_dns_refused_name(const uint8_t *reply, size_t len, char name[256]);

/* A name the sandbox asked for and was refused: what an agent tried to
 * reach besides the model (update checks, telemetry...). */
#define CAB_DNS_MAX_REFUSALS 32
struct cab_dns_refusal {
  char name[256];
  int64_t first_ns;   /* wall clock of the first query, ns since the epoch */
  unsigned count;     /* queries for it (every type and retry) */
};

/* The responder: a thread serving FD (a bound UDP socket; owned from now on,
 * also on failure). */
struct cab_dns_server;
int cab_dns_server_start(int fd, const struct cab_dns_zone *z, struct cab_dns_server **out,
                         cab_error *err);
/* The distinct names refused so far, in the order first asked (at most
 * CAB_DNS_MAX_REFUSALS; more are counted in *MORE).  Thread-safe. */
size_t cab_dns_server_refusals(struct cab_dns_server *s, struct cab_dns_refusal *out, size_t max,
                               unsigned *more);
void cab_dns_server_stop(struct cab_dns_server *s);

#endif
