/* What goes back to the client: cab's own answers (errors and refusals in
 * the client's wire's shape) and the relayed response, streamed as it
 * comes, with the real key replaced wherever the upstream handed it back
 * (redact.h).  Nothing is buffered beyond what curl has handed over and
 * the client has not yet taken (and the few bytes that may begin the key). */
#include "runner/proxy/answer.h"

#include <cjson/cJSON.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "runner/model_api/api_errors.h"
#include "runner/proxy/bridge.h"
#include "runner/proxy/proxy_internal.h"

#define BLOCK_SIZE 16384

bool
cab_header_listed(const char *name, const char *const *list)
{
  for (; *list; list++)
    if (strcasecmp(name, *list) == 0)
      return true;
  return false;
}

/* --- cab's own answers ------------------------------------------------------------ */

/* BODY (a string of *LEN bytes, or NULL) without the key: itself, or a
 * malloc'd copy in *OWNED.  cab's own answers may quote the upstream. */
static const char *
redacted(const struct cab_proxy *p, const char *body, size_t *len, char **owned)
{
  bool failed = false;
  *owned = p->key && body ? cab_redact_string(body, p->key, CAB_PROXY_PLACEHOLDER_KEY, &failed)
                          : NULL;
  if (failed)
    body = "{\"error\":{\"message\":\"cab proxy: out of memory\"}}";
  else if (*owned)
    body = *owned;
  else
    return body;
  *len = strlen(body);
  return body;
}

/* A response cab makes itself: BODY[0..LEN) with STATUS, as JSON.  FAULT
 * and MESSAGE go to the call's record (no MESSAGE: not an error). */
enum MHD_Result
cab_answer_body(struct cab_call *k, struct MHD_Connection *c, int status,
                enum cab_call_fault fault, const char *message, const char *body, size_t len)
{
  if (message)
    cab_call_error(k, fault, "%s", message);
  char *clean = NULL;
  body = redacted(k->p, body, &len, &clean);
  k->status = status;
  cab_call_content_type(k, "application/json");
  cab_call_account(k, body ? body : "", body ? len : 0);
  k->ended = true;
  k->answered = true;
  k->seq = atomic_fetch_add(&k->p->next_seq, 1) + 1;
  struct MHD_Response *r = MHD_create_response_from_buffer(body ? len : 0, body ? (void *)body : "",
                                                           MHD_RESPMEM_MUST_COPY);
  free(clean);
  if (r == NULL)
    return MHD_NO;
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
  enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
  MHD_destroy_response(r);
  return ret;
}

/* cab's own error, in OpenAI's error shape so that SDKs show the message
 * (a translated call's client gets its own wire's shape instead). */
enum MHD_Result
cab_answer_error(struct cab_call *k, struct MHD_Connection *c, int status,
                 enum cab_call_fault fault, const char *type, const char *message)
{
  char *text = NULL;
  size_t len = 0;
  if (k->bridge) {
    cab_translate_error(cab_bridge_route(k->bridge), status, message, strlen(message), &text, &len);
  } else {
    cJSON *j = cab_api_error_body(CAB_API_ERROR_OPENAI, status, message, type, type);
    text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    len = text ? strlen(text) : 0;
  }
  enum MHD_Result ret = cab_answer_body(k, c, status, fault, message, text, len);
  free(text);
  return ret;
}

bool
cab_has_header(void *cls, const char *name)
{
  return MHD_lookup_connection_value(cls, MHD_HEADER_KIND, name) != NULL;
}

/* A request the proxy does not forward (allow.h): STATUS with MESSAGE, in
 * the error shape of the client's wire (cab_wire_of_client: from the path,
 * or a header only that wire's clients send), before any of its body is
 * read. */
enum MHD_Result
cab_answer_refusal(struct cab_call *k, struct MHD_Connection *c, int status, const char *message)
{
  struct cab_wire_route route;
  const char *query = strchr(k->uri, '?');
  cab_wire_of_client(k->path, query ? query + 1 : NULL, cab_has_header, c, &route);
  char *text = NULL;
  size_t len = 0;
  cab_translate_error(&route, status, message, strlen(message), &text, &len);
  enum MHD_Result ret = cab_answer_body(k, c, status, CAB_FAULT_CLIENT, message, text, len);
  free(text);
  return ret;
}

/* A call refused because the cell's proxy holds too much already (proxy.h:
 * max_calls, max_buffered_bytes): 503, which SDKs retry. */
enum MHD_Result
cab_answer_busy(struct cab_call *k, struct MHD_Connection *c, const char *why)
{
  pthread_mutex_lock(&k->p->notes_mu);
  k->p->busy_refusals++;
  pthread_mutex_unlock(&k->p->notes_mu);
  return cab_answer_refusal(k, c, 503, why);
}

/* Response headers not passed back: hop-by-hop, and what MHD sets. */
static const char *const drop_response[] = {
    "connection", "keep-alive", "transfer-encoding", "content-length", "date", "proxy-connection",
    "proxy-authenticate", "upgrade", "trailer", "te", "alt-svc", NULL};

/* --- the relayed response ------------------------------------------------------------------ */

static ssize_t
replay_read(struct cab_call *k, char *buf, size_t max)
{
  const struct cab_cassette_entry *e = k->entry;
  while (k->chunk < e->n_chunks && k->chunk_off >= e->chunks[k->chunk].len) {
    k->chunk++;
    k->chunk_off = 0;
  }
  if (k->chunk >= e->n_chunks)
    return 0;
  const struct cab_cassette_chunk *ch = &e->chunks[k->chunk];
  size_t n = ch->len - k->chunk_off;
  if (n > max)
    n = max;
  memcpy(buf, ch->data + k->chunk_off, n);
  k->chunk_off += n;
  return (ssize_t)n;
}

/* Each piece of a stream goes out at once: no Nagle wait for the client's
 * ACK of the previous one (MHD leaves Nagle on between chunks). */
static void
no_delay(struct MHD_Connection *c)
{
  const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
  int one = 1;
  if (ci)
    setsockopt(ci->connect_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* The upstream's chat answer, turned into the client's wire as it comes:
 * client bytes go out as soon as the translator has any. */
static ssize_t
read_bridged(struct cab_call *k, char *buf, size_t max)
{
  for (;;) {
    size_t n = cab_bridge_take(k->bridge, buf, max);
    if (n > 0)
      return (ssize_t)n;
    if (cab_bridge_ended(k->bridge))
      return MHD_CONTENT_READER_END_OF_STREAM;
    char up[BLOCK_SIZE];
    cab_error e = {0};
    ssize_t got = cab_xfer_read(k->xfer, up, sizeof up, &e);
    if (got < 0) {
      if (atomic_load(&k->p->stopping))
        cab_call_error(k, CAB_FAULT_CLIENT, "the run ended after %zu bytes of the response", k->sent);
      cab_call_error(k, CAB_FAULT_UPSTREAM, "%s", e.message);
      return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    if (got == 0) {
      if (cab_bridge_end(k->bridge, &e) < 0)
        cab_call_error(k, CAB_FAULT_UPSTREAM, "cab proxy: translating the answer to %s: %s",
                       cab_bridge_wire_name(k->bridge), e.message);
      continue;
    }
    if (cab_bridge_feed(k->bridge, up, (size_t)got, k->p->cfg.max_response_bytes, &e) < 0) {
      cab_call_error(k, CAB_FAULT_UPSTREAM, "cab proxy: translating the answer to %s: %s",
                     cab_bridge_wire_name(k->bridge), e.message);
      return MHD_CONTENT_READER_END_WITH_ERROR;
    }
  }
}

/* The response's next bytes as the upstream (or the cassette, or the
 * bridge) gives them: >0 bytes, or MHD's end-of-stream or error code. */
static ssize_t
read_raw(struct cab_call *k, char *buf, size_t max)
{
  ssize_t n;
  if (k->bridge && k->entry == NULL)
    return read_bridged(k, buf, max);
  if (k->entry) {
    n = replay_read(k, buf, max);
  } else {
    cab_error e = {0};
    n = cab_xfer_read(k->xfer, buf, max, &e);
    if (n < 0) {
      if (atomic_load(&k->p->stopping))
        cab_call_error(k, CAB_FAULT_CLIENT, "the run ended after %zu bytes of the response", k->sent);
      cab_call_error(k, CAB_FAULT_UPSTREAM, "%s", e.message);
      return MHD_CONTENT_READER_END_WITH_ERROR;
    }
  }
  if (n > 0)
    return n;
  if (k->expect_len >= 0 && (long long)k->sent < k->expect_len) {
    cab_call_error(k, CAB_FAULT_UPSTREAM, "upstream ended the response after %zu of %lld bytes",
              k->sent, k->expect_len);
    return MHD_CONTENT_READER_END_WITH_ERROR;
  }
  return MHD_CONTENT_READER_END_OF_STREAM;
}

/* The raw bytes with the key replaced (redact.h): a piece's last bytes
 * may wait for the next piece, or for the end. */
static ssize_t
read_redacted(struct cab_call *k, char *buf, size_t max)
{
  for (;;) {
    size_t n = cab_byteq_take(&k->redq, buf, max);
    if (n > 0)
      return (ssize_t)n;
    if (k->raw_eos)
      return MHD_CONTENT_READER_END_OF_STREAM;
    char raw[BLOCK_SIZE];
    ssize_t got = read_raw(k, raw, sizeof raw);
    int rc;
    if (got == MHD_CONTENT_READER_END_OF_STREAM) {
      k->raw_eos = true;
      rc = cab_redactor_end(k->red, cab_byteq_sink, &k->redq);
    } else if (got < 0) {
      return got;
    } else {
      rc = cab_redactor_feed(k->red, raw, (size_t)got, cab_byteq_sink, &k->redq);
    }
    if (rc < 0) {
      cab_call_error(k, CAB_FAULT_UPSTREAM, "cab proxy: out of memory redacting the answer");
      return MHD_CONTENT_READER_END_WITH_ERROR;
    }
  }
}

static ssize_t
read_body(void *cls, uint64_t pos, char *buf, size_t max)
{
  struct cab_call *k = cls;
  ssize_t n = k->red ? read_redacted(k, buf, max) : read_raw(k, buf, max);
  if (n > 0)
    cab_call_account(k, buf, (size_t)n);
  else if (n == MHD_CONTENT_READER_END_OF_STREAM)
    k->ended = true;
  return n;
}

/* An upstream header passed back: one that names the key is dropped, one
 * whose value holds it (a reflected Authorization) gets the placeholder. */
static void
add_redacted_header(struct cab_call *k, struct MHD_Response *r, const struct cab_header *h)
{
  const char *key = k->p->key;
  bool failed = false;
  if (key && strcasestr(h->name, key)) {
    k->key_hits++;
    return;
  }
  char *clean = key ? cab_redact_string(h->value, key, CAB_PROXY_PLACEHOLDER_KEY, &failed) : NULL;
  if (clean || failed)
    k->key_hits++;
  if (!failed)
    MHD_add_response_header(r, h->name, clean ? clean : h->value);
  free(clean);
}

enum MHD_Result
cab_answer_stream(struct cab_call *k, struct MHD_Connection *c, const struct cab_xfer_head *head)
{
  uint64_t size = MHD_SIZE_UNKNOWN;
  /* Redacting changes the length: the body goes chunked then (a cut
   * upstream body is still caught, by curl). */
  if (head && head->content_length >= 0 && strcmp(k->method, "HEAD") != 0 && k->red == NULL) {
    size = (uint64_t)head->content_length;
    k->expect_len = head->content_length;
  }
  struct MHD_Response *r = MHD_create_response_from_callback(size, BLOCK_SIZE, read_body, k, NULL);
  if (r == NULL)
    return MHD_NO;
  if (head) {
    for (size_t i = 0; i < head->n_headers; i++)
      if (!cab_header_listed(head->headers[i].name, drop_response))
        add_redacted_header(k, r, &head->headers[i]);
  } else if (k->content_type && k->content_type[0]) {
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, k->content_type);
  }
  k->answered = true;
  k->seq = atomic_fetch_add(&k->p->next_seq, 1) + 1;
  if (size == MHD_SIZE_UNKNOWN)
    no_delay(c);
  enum MHD_Result ret = MHD_queue_response(c, (unsigned)k->status, r);
  MHD_destroy_response(r);
  return ret;
}
