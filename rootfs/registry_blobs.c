/* Blob downloads: several at once through one curl multi handle, each
 * hashed into the stage as it streams, retried with backoff and resumed
 * with Range after a broken connection. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strfmt.h"
#include "common/fsutil.h"
#include "rootfs/registry_internal.h"

enum slot_state { PENDING, RUNNING, FINISHED };

struct slot {
  struct xfer x;
  const cab_descriptor *d;
  enum slot_state state;
};

static void
abort_all(CURLM *multi, struct slot *slots, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    if (slots[i].state == RUNNING)
      curl_multi_remove_handle(multi, slots[i].x.easy);
    if (slots[i].x.blob)
      cab_blob_abort(slots[i].x.blob);
    slots[i].x.blob = NULL;
    cab_xfer_cleanup(&slots[i].x);
  }
}

static int
start(CURLM *multi, struct slot *s, cab_error *err)
{
  if (cab_xfer_setup(&s->x, err) < 0)
    return -1;
  CURLMcode mc = curl_multi_add_handle(multi, s->x.easy);
  if (mc != CURLM_OK)
    return cab_error_set(err, 0, "curl_multi_add_handle: %s", curl_multi_strerror(mc));
  s->state = RUNNING;
  return 0;
}

/* A transfer ended: finish the blob, or arrange the next attempt. */
static int
finished(CURLM *multi, struct slot *s, CURLcode res, struct cab_progress *prog, cab_error *err)
{
  curl_multi_remove_handle(multi, s->x.easy);
  s->state = PENDING;
  switch (cab_xfer_decide(&s->x, res, err)) {
  case XFER_DONE: {
    cab_blob_writer *w = s->x.blob;
    s->x.blob = NULL;
    s->state = FINISHED;
    prog->finished++;
    cab_progress_draw(prog, true);
    return cab_blob_finish(w, NULL, err);
  }
  case XFER_AGAIN:
    s->x.not_before_ns = 0;
    return 0;
  case XFER_RETRY:
    return 0;
  case XFER_FAIL:
  default:
    return -1;
  }
}

int
cab_registry_blobs(cab_registry *r, cab_stage *st, const cab_descriptor *blobs, size_t n,
                   cab_error *err)
{
  struct cab_progress prog = {.on = r->progress, .blobs = n};
  cab_snprintf_cut(prog.label, sizeof prog.label, "%s/%s", r->ref.domain, r->ref.path); /* shown */
  struct slot *slots = calloc(n ? n : 1, sizeof *slots);
  if (slots == NULL)
    return cab_error_sys(err, "allocate transfers");
  CURLM *multi = curl_multi_init();
  if (multi == NULL) {
    free(slots);
    return cab_error_set(err, ENOMEM, "curl_multi_init failed");
  }
  curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)r->parallel);
  int ret = 0;
  for (size_t i = 0; i < n && ret == 0; i++) {
    const cab_descriptor *d = &blobs[i];
    char url[1024], what[120];
    cab_snprintf_cut(what, sizeof what, "blob %s", d->digest); /* for messages */
    if (cab_snprintf_checked(url, sizeof url, "%s/v2/%s/blobs/%s", r->origin, r->repo,
                             d->digest) < 0) {
      ret = cab_error_set(err, ENAMETOOLONG, "%s: URL too long", what);
      break;
    }
    slots[i].d = d;
    prog.total += d->size;
    if (cab_xfer_init(&slots[i].x, r, url, what, err) < 0 ||
        cab_blob_open(st, d->digest, d->size, &slots[i].x.blob, err) < 0)
      ret = -1;
    slots[i].x.blob_size = d->size;
    slots[i].x.progress = &prog;
  }
  cab_progress_draw(&prog, true);

  size_t done = 0;
  while (ret == 0 && done < n) {
    /* Start what is due, keeping at most r->parallel running. */
    int running = 0;
    int64_t now = cab_now_ns(), next_due = -1;
    for (size_t i = 0; i < n; i++)
      running += slots[i].state == RUNNING;
    for (size_t i = 0; i < n && ret == 0; i++) {
      struct slot *s = &slots[i];
      if (s->state != PENDING)
        continue;
      if (s->x.not_before_ns > now) {
        if (next_due < 0 || s->x.not_before_ns < next_due)
          next_due = s->x.not_before_ns;
        continue;
      }
      if (running >= r->parallel)
        break;
      ret = start(multi, s, err);
      running++;
    }
    if (ret < 0)
      break;
    int still = 0;
    CURLMcode mc = curl_multi_perform(multi, &still);
    if (mc != CURLM_OK) {
      ret = cab_error_set(err, 0, "curl_multi_perform: %s", curl_multi_strerror(mc));
      break;
    }
    CURLMsg *msg;
    int left;
    while (ret == 0 && (msg = curl_multi_info_read(multi, &left)) != NULL) {
      if (msg->msg != CURLMSG_DONE)
        continue;
      struct xfer *x = NULL;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
      struct slot *s = (struct slot *)x; /* x is the first member */
      if (finished(multi, s, msg->data.result, &prog, err) < 0)
        ret = -1;
      else if (s->state == FINISHED)
        done++;
    }
    if (ret < 0 || done == n)
      break;
    int timeout_ms = 200;
    if (next_due > 0) {
      int64_t wait = (next_due - cab_now_ns()) / 1000000;
      if (wait < timeout_ms)
        timeout_ms = wait < 0 ? 0 : (int)wait;
    }
    curl_multi_poll(multi, NULL, 0, timeout_ms, NULL);
  }
  abort_all(multi, slots, n);
  curl_multi_cleanup(multi);
  free(slots);
  if (ret == 0)
    cab_progress_end(&prog);
  else if (prog.on)
    fputc('\n', stderr);
  return ret;
}
