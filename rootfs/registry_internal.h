/* Internals of the registry client: one HTTP request as a small state
 * machine, shared by the blocking path (manifests, tokens) and the curl
 * multi loop (blobs). */
#ifndef CAB_ROOTFS_REGISTRY_INTERNAL_H
#define CAB_ROOTFS_REGISTRY_INTERNAL_H

#include <stdint.h>

#include "common/lazy_curl.h"
#include "rootfs/registry.h"
#include "common/ttyline.h"

struct cab_registry {
  cab_ref ref;
  char origin[300];     /* "https://host:port" */
  char repo[300];       /* the repository path */
  bool insecure;
  bool progress;
  int attempts, parallel;
  char *auth_header;    /* "Authorization: ...", or NULL */
  unsigned auth_gen;    /* bumped whenever auth_header changes */
  char user[256], pass[512];
  bool have_creds;
  char creds_source[300];
};

enum xfer_action {
  XFER_DONE,  /* success */
  XFER_AGAIN, /* redirect or fresh credentials: go again now */
  XFER_RETRY, /* transient failure: go again after a backoff */
  XFER_FAIL,  /* give up; err is set */
};

struct xfer {
  cab_registry *reg;
  CURL *easy;
  char orig_url[2048];
  char url[4096];
  bool same_origin; /* url is on the registry: auth may be sent */
  const char *accept;
  int redirects, attempts;
  unsigned auth_gen_used;
  int auth_failures;
  int64_t not_before_ns;
  struct curl_slist *headers;
  char curl_err[CURL_ERROR_SIZE];
  char what[120]; /* "manifest latest", "blob sha256:..." for errors */

  /* the response */
  long status;
  char ctype[128], docker_digest[80], content_range[128], www_auth[2048];
  char errbody[512];
  size_t errlen;
  bool body_started;

  /* the sink: memory or a staged blob */
  char *mem;
  size_t mem_len, mem_max;
  cab_blob_writer *blob;
  int64_t blob_size;
  bool sink_failed, range_bad;
  cab_error sink_err;
  struct cab_progress *progress;
  bool token_request; /* to a token server: Basic credentials, no registry auth */
  char last_cause[600]; /* the last transient failure, for the final error */
};

struct cab_progress;
int cab_xfer_init(struct xfer *x, cab_registry *r, const char *url, const char *what,
                  cab_error *err);
void cab_xfer_cleanup(struct xfer *x);
/* Configure x->easy for the next attempt at x->url. */
int cab_xfer_setup(struct xfer *x, cab_error *err);
/* Judge a finished attempt. */
enum xfer_action cab_xfer_decide(struct xfer *x, CURLcode res, cab_error *err);
/* Delay before retry number N (1-based), in nanoseconds. */
int64_t cab_xfer_backoff_ns(int attempt);
/* setup/perform/decide until done or failed. */
int cab_xfer_run(struct xfer *x, cab_error *err);

/* Authentication (registry_auth.c). */
int cab_registry_load_creds(cab_registry *r, cab_error *err);
/* Answer the challenge in WWW_AUTH; sets r->auth_header. */
int cab_registry_authenticate(cab_registry *r, const char *www_auth, cab_error *err);

/* Progress bar on stderr (registry_progress.c). */
struct cab_progress {
  bool on;
  int64_t total, done;
  size_t blobs, finished;
  struct cab_ttyline line; /* the drawing (common/ttyline.h) */
  char label[200];
};
void cab_progress_draw(struct cab_progress *p, bool force);
void cab_progress_end(struct cab_progress *p);

#endif
