#include "rootfs/registry.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/strfmt.h"
#include "common/cleanup.h"
#include "common/fsutil.h"
#include "rootfs/manifest_json.h"
#include "rootfs/registry_internal.h"

static const char manifest_accept[] =
    "Accept: " CAB_MT_OCI_INDEX ", " CAB_MT_OCI_MANIFEST ", " CAB_MT_DOCKER_LIST
    ", " CAB_MT_DOCKER_MANIFEST;

static bool
listed_insecure(const char *domain)
{
  const char *list = getenv("CAB_INSECURE_REGISTRIES");
  if (list == NULL)
    return false;
  size_t n = strlen(domain);
  for (const char *p = list; *p;) {
    const char *e = strchr(p, ',');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    if (len == n && strncmp(p, domain, n) == 0)
      return true;
    if (!e)
      break;
    p = e + 1;
  }
  return false;
}

int
cab_registry_new(const cab_ref *ref, const cab_registry_opts *o, cab_registry **out,
                 cab_error *err)
{
  *out = NULL;
  if (cab_curl_load(err) < 0)
    return -1;
  cab_registry *r = calloc(1, sizeof *r);
  if (r == NULL)
    return cab_error_sys(err, "allocate a registry client");
  r->ref = *ref;
  r->insecure = o->insecure || listed_insecure(ref->domain);
  r->progress = o->progress;
  r->attempts = o->attempts;
  const char *env = getenv("CAB_PULL_ATTEMPTS");
  if (r->attempts <= 0 && env && atoi(env) > 0)
    r->attempts = atoi(env);
  if (r->attempts <= 0)
    r->attempts = 6;
  r->parallel = o->parallel > 0 ? o->parallel : 4;
  snprintf(r->origin, sizeof r->origin, "%s://%s", r->insecure ? "http" : "https",
           cab_ref_registry_host(ref));
  snprintf(r->repo, sizeof r->repo, "%s", ref->path);
  if (cab_registry_load_creds(r, err) < 0) {
    free(r);
    return -1;
  }
  *out = r;
  return 0;
}

void
cab_registry_free(cab_registry *r)
{
  if (r == NULL)
    return;
  free(r->auth_header);
  explicit_bzero(r->pass, sizeof r->pass);
  free(r);
}

int64_t
cab_xfer_backoff_ns(int attempt)
{
  int64_t ms = 250;
  for (int i = 1; i < attempt && ms < 4000; i++)
    ms *= 2;
  if (ms > 4000)
    ms = 4000;
  return ms * 1000000LL;
}

int
cab_xfer_init(struct xfer *x, cab_registry *r, const char *url, const char *what, cab_error *err)
{
  memset(x, 0, sizeof *x);
  x->reg = r;
  x->blob_size = -1;
  if (cab_snprintf_checked(x->orig_url, sizeof x->orig_url, "%s", url) < 0)
    return cab_error_set(err, ENAMETOOLONG, "%s: URL too long", what);
  snprintf(x->url, sizeof x->url, "%s", url); /* fits: url is as long as orig_url */
  cab_snprintf_cut(x->what, sizeof x->what, "%s", what); /* for messages */
  x->same_origin = true;
  x->easy = curl_easy_init();
  if (x->easy == NULL)
    return cab_error_set(err, ENOMEM, "curl_easy_init failed");
  return 0;
}

void
cab_xfer_cleanup(struct xfer *x)
{
  if (x->easy)
    curl_easy_cleanup(x->easy);
  x->easy = NULL;
  curl_slist_free_all(x->headers);
  x->headers = NULL;
  free(x->mem);
  x->mem = NULL;
}

static size_t
on_header(char *buf, size_t size, size_t nitems, void *ud)
{
  struct xfer *x = ud;
  size_t n = size * nitems;
  if (n >= 5 && strncasecmp(buf, "HTTP/", 5) == 0) {
    x->ctype[0] = x->docker_digest[0] = x->content_range[0] = x->www_auth[0] = '\0';
    return n;
  }
  const char *colon = memchr(buf, ':', n);
  if (colon == NULL)
    return n;
  size_t klen = (size_t)(colon - buf);
  const char *v = colon + 1;
  size_t vlen = n - klen - 1;
  while (vlen > 0 && (*v == ' ' || *v == '\t'))
    v++, vlen--;
  while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
    vlen--;
  struct {
    const char *name;
    char *dst;
    size_t size;
  } want[] = {
      {"content-type", x->ctype, sizeof x->ctype},
      {"docker-content-digest", x->docker_digest, sizeof x->docker_digest},
      {"content-range", x->content_range, sizeof x->content_range},
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
    if (klen == strlen(want[i].name) && strncasecmp(buf, want[i].name, klen) == 0)
      snprintf(want[i].dst, want[i].size, "%.*s", (int)vlen, v);
  if (klen == 16 && strncasecmp(buf, "www-authenticate", 16) == 0) {
    size_t used = strlen(x->www_auth);
    snprintf(x->www_auth + used, sizeof x->www_auth - used, "%s%.*s", used ? "\n" : "", (int)vlen,
             v);
  }
  return n;
}

static size_t
on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
  struct xfer *x = ud;
  size_t n = size * nmemb;
  long code = 0;
  curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
  bool ok = code == 200 || (x->blob && code == 206);
  if (!ok) {
    size_t room = sizeof x->errbody - 1 - x->errlen;
    size_t take = n < room ? n : room;
    memcpy(x->errbody + x->errlen, ptr, take);
    x->errlen += take;
    x->errbody[x->errlen] = '\0';
    return n;
  }
  if (!x->body_started) {
    x->body_started = true;
    if (x->blob) {
      int64_t have = cab_blob_written(x->blob);
      if (code == 200 && have > 0) {
        if (x->progress)
          x->progress->done -= have;
        if (cab_blob_reset(x->blob, &x->sink_err) < 0) {
          x->sink_failed = true;
          return 0;
        }
      }
      long long start = -1;
      if (code == 206 && (sscanf(x->content_range, "bytes %lld-", &start) != 1 || start != have)) {
        x->range_bad = true;
        return 0;
      }
    }
  }
  if (x->blob) {
    if (cab_blob_write(x->blob, ptr, n, &x->sink_err) < 0) {
      x->sink_failed = true;
      return 0;
    }
    if (x->progress) {
      x->progress->done += (int64_t)n;
      cab_progress_draw(x->progress, false);
    }
    return n;
  }
  if (x->mem_len + n > x->mem_max) {
    cab_error_set(&x->sink_err, 0, "%s: larger than %zu bytes", x->what, x->mem_max);
    x->sink_failed = true;
    return 0;
  }
  char *m = realloc(x->mem, x->mem_len + n + 1);
  if (m == NULL) {
    cab_error_set(&x->sink_err, ENOMEM, "%s: out of memory", x->what);
    x->sink_failed = true;
    return 0;
  }
  x->mem = m;
  memcpy(x->mem + x->mem_len, ptr, n);
  x->mem_len += n;
  x->mem[x->mem_len] = '\0';
  return n;
}

int
cab_xfer_setup(struct xfer *x, cab_error *err)
{
  cab_registry *r = x->reg;
  CURL *e = x->easy;
  curl_easy_reset(e);
  curl_slist_free_all(x->headers);
  x->headers = NULL;
  x->status = 0;
  x->ctype[0] = x->docker_digest[0] = x->content_range[0] = x->www_auth[0] = '\0';
  x->errlen = 0;
  x->errbody[0] = '\0';
  x->curl_err[0] = '\0';
  x->body_started = x->range_bad = false;
  x->mem_len = 0;

  struct curl_slist *h = NULL;
  if (x->accept)
    h = curl_slist_append(h, x->accept);
  /* Credentials only ever go to the registry's own origin, never to a host
   * a redirect pointed at. */
  if (x->same_origin && !x->token_request && r->auth_header)
    h = curl_slist_append(h, r->auth_header);
  x->auth_gen_used = r->auth_gen;
  char range[64];
  if (x->blob && cab_blob_written(x->blob) > 0) {
    snprintf(range, sizeof range, "Range: bytes=%lld-", (long long)cab_blob_written(x->blob));
    h = curl_slist_append(h, range);
  }
  x->headers = h;
  if (x->token_request && r->have_creds && strcmp(x->url, x->orig_url) == 0) {
    curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    curl_easy_setopt(e, CURLOPT_USERNAME, r->user);
    curl_easy_setopt(e, CURLOPT_PASSWORD, r->pass);
  }
  if (curl_easy_setopt(e, CURLOPT_URL, x->url) != CURLE_OK)
    return cab_error_set(err, 0, "%s: bad URL '%.200s'", x->what, x->url);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 20L);
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 256L);
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, 30L);
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(e, CURLOPT_USERAGENT, "cab/0.1");
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->curl_err);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
  curl_easy_setopt(e, CURLOPT_PRIVATE, x);
  return 0;
}

/* "scheme://host[:port]" of URL, lower-cased, into OUT. */
static void
url_origin(const char *url, char *out, size_t size)
{
  out[0] = '\0';
  const char *p = strstr(url, "://");
  if (p == NULL)
    return;
  const char *end = p + 3 + strcspn(p + 3, "/?#");
  size_t n = (size_t)(end - url);
  if (n >= size)
    n = size - 1;
  for (size_t i = 0; i < n; i++)
    out[i] = (char)tolower((unsigned char)url[i]);
  out[n] = '\0';
}

/* The URL without its query (signed blob-storage URLs carry secrets). */
static void
url_for_message(const char *url, char *out, size_t size)
{
  snprintf(out, size, "%.*s", (int)strcspn(url, "?#"), url);
}

static void
describe_http_error(struct xfer *x, char *out, size_t size)
{
  char code[64] = "", msg[200] = "";
  cJSON *root = x->errlen ? cJSON_ParseWithLength(x->errbody, x->errlen) : NULL;
  const cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "errors"), 0);
  const char *c = cab_json_str(first, "code"), *m = cab_json_str(first, "message");
  if (c)
    snprintf(code, sizeof code, "%s", c);
  if (m)
    snprintf(msg, sizeof msg, "%s", m);
  cJSON_Delete(root);
  char u[300];
  url_for_message(x->url, u, sizeof u);
  if (code[0])
    snprintf(out, size, "HTTP %ld from %s (%s: %s)", x->status, u, code, msg);
  else
    snprintf(out, size, "HTTP %ld from %s", x->status, u);
}

/* Failures worth another attempt: the network or the server, not us. */
static bool
transient(CURLcode res)
{
  switch (res) {
  case CURLE_COULDNT_CONNECT:
  case CURLE_OPERATION_TIMEDOUT:
  case CURLE_RECV_ERROR:
  case CURLE_SEND_ERROR:
  case CURLE_PARTIAL_FILE:
  case CURLE_GOT_NOTHING:
  case CURLE_HTTP2:
  case CURLE_HTTP2_STREAM:
  case CURLE_HTTP3:
  case CURLE_AGAIN:
    return true;
  default:
    return false;
  }
}

static enum xfer_action
retry_or_fail(struct xfer *x, const char *cause, cab_error *err)
{
  snprintf(x->last_cause, sizeof x->last_cause, "%s", cause);
  x->attempts++;
  if (x->attempts >= x->reg->attempts) {
    cab_error_set(err, 0, "%s: %s (gave up after %d attempts)", x->what, cause, x->attempts);
    return XFER_FAIL;
  }
  x->not_before_ns = cab_now_ns() + cab_xfer_backoff_ns(x->attempts);
  snprintf(x->url, sizeof x->url, "%s", x->orig_url);
  x->same_origin = true;
  x->redirects = 0;
  return XFER_RETRY;
}

static enum xfer_action
follow_redirect(struct xfer *x, cab_error *err)
{
  char *loc = NULL;
  curl_easy_getinfo(x->easy, CURLINFO_REDIRECT_URL, &loc);
  if (loc == NULL || *loc == '\0') {
    cab_error_set(err, 0, "%s: HTTP %ld redirect without a Location", x->what, x->status);
    return XFER_FAIL;
  }
  if (++x->redirects > 10) {
    cab_error_set(err, 0, "%s: more than 10 redirects", x->what);
    return XFER_FAIL;
  }
  bool https = strncasecmp(loc, "https://", 8) == 0;
  bool http = strncasecmp(loc, "http://", 7) == 0;
  if (!https && !(http && (x->reg->insecure || strncasecmp(x->url, "http://", 7) == 0))) {
    char u[300];
    url_for_message(loc, u, sizeof u);
    cab_error_set(err, 0, "%s: refusing redirect to %s (not https)", x->what, u);
    return XFER_FAIL;
  }
  if (strlen(loc) >= sizeof x->url) {
    cab_error_set(err, 0, "%s: redirect URL too long", x->what);
    return XFER_FAIL;
  }
  char a[300], b[300];
  url_origin(loc, a, sizeof a);
  url_origin(x->url, b, sizeof b);
  /* Once a redirect leaves the registry, the rest of the chain is foreign. */
  x->same_origin = x->same_origin && strcmp(a, b) == 0;
  snprintf(x->url, sizeof x->url, "%s", loc);
  return XFER_AGAIN;
}

enum xfer_action
cab_xfer_decide(struct xfer *x, CURLcode res, cab_error *err)
{
  cab_registry *r = x->reg;
  curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
  char cause[600];
  if (x->sink_failed) {
    *err = x->sink_err;
    return XFER_FAIL;
  }
  if (x->range_bad) {
    if (cab_blob_reset(x->blob, err) < 0)
      return XFER_FAIL;
    return retry_or_fail(x, "the server answered a Range request with another range", err);
  }
  if (res != CURLE_OK) {
    char u[300];
    url_for_message(x->url, u, sizeof u);
    snprintf(cause, sizeof cause, "GET %s: %s", u, x->curl_err[0] ? x->curl_err : curl_easy_strerror(res));
    if (!transient(res)) {
      if (res == CURLE_SSL_CONNECT_ERROR && strncmp(x->url, "https:", 6) == 0)
        cab_error_set(err, 0, "%s: %s (a plain-http test registry needs --insecure)", x->what,
                      cause);
      else
        cab_error_set(err, 0, "%s: %s", x->what, cause);
      return XFER_FAIL;
    }
    if (x->blob && cab_blob_written(x->blob) > 0) {
      size_t used = strlen(cause);
      snprintf(cause + used, sizeof cause - used, " after %lld of %lld bytes",
               (long long)cab_blob_written(x->blob), (long long)x->blob_size);
    }
    return retry_or_fail(x, cause, err);
  }
  long s = x->status;
  if (s == 200 || (s == 206 && x->blob)) {
    if (x->blob && x->blob_size >= 0 && cab_blob_written(x->blob) < x->blob_size) {
      snprintf(cause, sizeof cause, "connection ended after %lld of %lld bytes",
               (long long)cab_blob_written(x->blob), (long long)x->blob_size);
      return retry_or_fail(x, cause, err);
    }
    return XFER_DONE;
  }
  if (s == 301 || s == 302 || s == 303 || s == 307 || s == 308)
    return follow_redirect(x, err);
  if (s == 401 && x->token_request) {
    if (r->have_creds)
      cab_error_set(err, 0, "%s: the token server rejected the credentials for %s from %s",
                    x->what, r->ref.domain, r->creds_source);
    else
      cab_error_set(err, 0,
                    "%s: authentication required and no credentials for %s (docker login, or "
                    "$REGISTRY_AUTH_FILE / ~/.docker/config.json)",
                    x->what, r->ref.domain);
    return XFER_FAIL;
  }
  if (s == 401 && x->same_origin) {
    if (r->auth_gen != x->auth_gen_used)
      return XFER_AGAIN; /* another transfer already refreshed the token */
    if (x->auth_failures++ > 0 || x->www_auth[0] == '\0') {
      describe_http_error(x, cause, sizeof cause);
      cab_error_set(err, 0, "%s: unauthorized: %s%s%s", x->what, cause,
                    r->have_creds ? "; credentials from " : "",
                    r->have_creds ? r->creds_source : "");
      return XFER_FAIL;
    }
    if (cab_registry_authenticate(r, x->www_auth, err) < 0) {
      cab_error_prefix(err, "%s", x->what);
      return XFER_FAIL;
    }
    return XFER_AGAIN;
  }
  if (s == 416 && x->blob) {
    if (cab_blob_reset(x->blob, err) < 0)
      return XFER_FAIL;
    return retry_or_fail(x, "HTTP 416: range not satisfiable", err);
  }
  describe_http_error(x, cause, sizeof cause);
  if (s == 408 || s == 425 || s == 429 || s >= 500)
    return retry_or_fail(x, cause, err);
  cab_error_set(err, 0, "%s: %s", x->what, cause);
  return XFER_FAIL;
}

int
cab_xfer_run(struct xfer *x, cab_error *err)
{
  for (int rounds = 0; rounds < 100; rounds++) {
    if (cab_xfer_setup(x, err) < 0)
      return -1;
    CURLcode res = curl_easy_perform(x->easy);
    switch (cab_xfer_decide(x, res, err)) {
    case XFER_DONE:
      return 0;
    case XFER_FAIL:
      return -1;
    case XFER_AGAIN:
      break;
    case XFER_RETRY: {
      int64_t wait = x->not_before_ns - cab_now_ns();
      if (wait > 0) {
        struct timespec ts = {wait / 1000000000LL, wait % 1000000000LL};
        nanosleep(&ts, NULL);
      }
      break;
    }
    }
  }
  return cab_error_set(err, 0, "%s: too many redirects or retries", x->what);
}

int
cab_registry_manifest(cab_registry *r, const char *reference, char **body, size_t *len,
                      char *ctype, size_t ctype_size, char *docker_digest, cab_error *err)
{
  *body = NULL;
  char url[1024], what[200];
  cab_snprintf_cut(what, sizeof what, "manifest %s", reference); /* for messages */
  if (cab_snprintf_checked(url, sizeof url, "%s/v2/%s/manifests/%s", r->origin, r->repo,
                           reference) < 0)
    return cab_error_set(err, ENAMETOOLONG, "%s: URL too long", what);
  struct xfer x;
  if (cab_xfer_init(&x, r, url, what, err) < 0)
    return -1;
  x.accept = manifest_accept;
  x.mem_max = CAB_MANIFEST_MAX;
  int ret = cab_xfer_run(&x, err);
  if (ret == 0) {
    snprintf(ctype, ctype_size, "%s", x.ctype);
    if (cab_snprintf_checked(docker_digest, CAB_DIGEST_LEN + 1, "%s", x.docker_digest) < 0)
      docker_digest[0] = '\0'; /* too long for a digest: as if the registry sent none */
    *len = x.mem_len;
    *body = x.mem ? x.mem : strdup("");
    x.mem = NULL;
    if (*body == NULL)
      ret = cab_error_sys(err, "allocate");
  }
  cab_xfer_cleanup(&x);
  return ret;
}

int
cab_registry_blob_mem(cab_registry *r, const char *digest, int64_t size, size_t max,
                      char **body, cab_error *err)
{
  *body = NULL;
  if (cab_digest_require(digest, "blob", err) < 0)
    return -1;
  if (size < 0 || (uint64_t)size > max)
    return cab_error_set(err, 0, "blob %s: %lld bytes, more than the %zu allowed", digest,
                         (long long)size, max);
  char url[1024], what[200];
  cab_snprintf_cut(what, sizeof what, "blob %s", digest); /* for messages */
  if (cab_snprintf_checked(url, sizeof url, "%s/v2/%s/blobs/%s", r->origin, r->repo, digest) < 0)
    return cab_error_set(err, ENAMETOOLONG, "%s: URL too long", what);
  struct xfer x;
  if (cab_xfer_init(&x, r, url, what, err) < 0)
    return -1;
  x.mem_max = (size_t)size;
  int ret = cab_xfer_run(&x, err);
  if (ret == 0 && (int64_t)x.mem_len != size)
    ret = cab_error_set(err, 0, "blob %s: got %zu bytes, its descriptor says %lld", digest,
                        x.mem_len, (long long)size);
  if (ret == 0) {
    char got[CAB_DIGEST_LEN + 1];
    cab_sha256_buffer(x.mem ? x.mem : "", x.mem_len, got);
    if (strcmp(got, digest) != 0)
      ret = cab_error_set(err, 0, "blob %s: digest mismatch, the content hashes to %s", digest,
                          got);
  }
  if (ret == 0) {
    *body = x.mem ? x.mem : strdup("");
    x.mem = NULL;
    if (*body == NULL)
      ret = cab_error_sys(err, "allocate");
  }
  cab_xfer_cleanup(&x);
  return ret;
}
