/* The decoder on a worker thread, NBUF buffers ahead of the consumer (the
 * libarchive read callback).  The consumer holds one buffer between two
 * reads (libarchive points into it); the worker fills the others.  An error
 * or the end of the stream is delivered after the bytes before it. */
#include "rootfs/decompress.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define NBUF 4
#define BUF_SIZE (1024 * 1024)

struct cab_layer_reader {
  struct cab_decoder *dec;
  pthread_t thread;
  bool started;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  /* Under mu: */
  size_t head, count;  /* filled buffers are head .. head+count-1 (mod NBUF) */
  bool held;           /* the consumer holds buffers[head] */
  bool done;           /* the worker finished: end of stream or error */
  bool failed;         /* ... with ERR */
  bool stop;           /* the consumer wants the worker gone */
  cab_error err;
  size_t len[NBUF];
  unsigned char *buf[NBUF];
};

static void *
worker(void *arg)
{
  struct cab_layer_reader *r = arg;
  cab_error err = { 0 };
  for (;;) {
    pthread_mutex_lock(&r->mu);
    while (r->count == NBUF && !r->stop)
      pthread_cond_wait(&r->cv, &r->mu);
    if (r->stop) {
      pthread_mutex_unlock(&r->mu);
      return NULL;
    }
    size_t slot = (r->head + r->count) % NBUF;
    pthread_mutex_unlock(&r->mu);

    /* The slot is the worker's alone until count covers it. */
    ssize_t n = cab_decoder_fill(r->dec, r->buf[slot], BUF_SIZE, &err);

    pthread_mutex_lock(&r->mu);
    if (n > 0) {
      r->len[slot] = (size_t)n;
      r->count++;
    } else {
      r->done = true;
      if (n < 0) {
        r->failed = true;
        r->err = err;
      }
    }
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    if (n <= 0)
      return NULL;
  }
}

int
cab_layer_reader_new(int fd, enum cab_layer_compression c, int64_t max_bytes,
                     struct cab_layer_reader **out, cab_error *err)
{
  struct cab_layer_reader *r = calloc(1, sizeof *r);
  if (r == NULL)
    return cab_error_set(err, ENOMEM, "layer reader: out of memory");
  pthread_mutex_init(&r->mu, NULL);
  pthread_cond_init(&r->cv, NULL);
  for (int i = 0; i < NBUF; i++)
    if ((r->buf[i] = malloc(BUF_SIZE)) == NULL) {
      cab_layer_reader_free(r);
      return cab_error_set(err, ENOMEM, "layer reader: out of memory");
    }
  if (cab_decoder_new(fd, c, max_bytes, &r->dec, err) < 0) {
    cab_layer_reader_free(r);
    return -1;
  }
  int e = pthread_create(&r->thread, NULL, worker, r);
  if (e != 0) {
    cab_layer_reader_free(r);
    return cab_error_set(err, e, "layer reader: starting the decompression thread");
  }
  r->started = true;
  *out = r;
  return 0;
}

void
cab_layer_reader_free(struct cab_layer_reader *r)
{
  if (r == NULL)
    return;
  if (r->started) {
    pthread_mutex_lock(&r->mu);
    r->stop = true;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);
  }
  cab_decoder_free(r->dec);
  for (int i = 0; i < NBUF; i++)
    free(r->buf[i]);
  pthread_cond_destroy(&r->cv);
  pthread_mutex_destroy(&r->mu);
  free(r);
}

ssize_t
cab_layer_reader_read(struct cab_layer_reader *r, const void **buf, cab_error *err)
{
  pthread_mutex_lock(&r->mu);
  if (r->held) { /* give back the buffer of the previous read */
    r->held = false;
    r->head = (r->head + 1) % NBUF;
    r->count--;
    pthread_cond_broadcast(&r->cv);
  }
  while (r->count == 0 && !r->done)
    pthread_cond_wait(&r->cv, &r->mu);
  ssize_t n;
  if (r->count > 0) {
    r->held = true;
    *buf = r->buf[r->head];
    n = (ssize_t)r->len[r->head];
  } else if (r->failed) {
    *err = r->err;
    n = -1;
  } else {
    n = 0;
  }
  pthread_mutex_unlock(&r->mu);
  return n;
}

int
cab_layer_reader_drain(struct cab_layer_reader *r, cab_error *err)
{
  const void *buf;
  ssize_t n;
  while ((n = cab_layer_reader_read(r, &buf, err)) > 0)
    ;
  return n < 0 ? -1 : 0;
}

/* Only after read returned 0: the worker has finished with the decoder
 * (the mutex orders its last writes before our reads). */
int64_t
cab_layer_reader_bytes(struct cab_layer_reader *r)
{
  return cab_decoder_bytes(r->dec);
}

void
cab_layer_reader_digest(struct cab_layer_reader *r, char *out)
{
  cab_decoder_digest(r->dec, out);
}
