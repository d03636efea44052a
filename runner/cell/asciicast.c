#include "runner/cell/asciicast.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/fsutil.h"
#include "common/headtail.h"

#define MAX_BYTES (8 << 20)
#define TAIL_BYTES ((size_t)1 << 20)

struct cab_asciicast {
  FILE *f;
  int64_t start_ns;
  int64_t recorded;
  unsigned char pending[4];
  size_t n_pending;
  int truncated;
  /* Past MAX_BYTES: the output goes here, and its last TAIL_BYTES are
   * recorded at close, after a marker saying how much was cut. */
  struct cab_headtail tail;
};

int
cab_asciicast_open(const char *path, int width, int height, const char *title,
                   struct cab_asciicast **out, cab_error *err)
{
  FILE *f = fopen(path, "we");
  if (f == NULL)
    return cab_error_sys(err, "create %s", path);
  struct cab_asciicast *c = calloc(1, sizeof *c);
  if (c == NULL) {
    fclose(f);
    return cab_error_sys(err, "allocate");
  }
  c->f = f;
  c->start_ns = cab_now_ns();
  cJSON *h = cJSON_CreateObject();
  cJSON_AddNumberToObject(h, "version", 2);
  cJSON_AddNumberToObject(h, "width", width);
  cJSON_AddNumberToObject(h, "height", height);
  cJSON_AddNumberToObject(h, "timestamp", (double)time(NULL));
  if (title)
    cJSON_AddStringToObject(h, "title", title);
  cJSON *env = cJSON_AddObjectToObject(h, "env");
  cJSON_AddStringToObject(env, "TERM", "xterm-256color");
  cJSON_AddStringToObject(env, "SHELL", "/bin/sh");
  char *line = cJSON_PrintUnformatted(h);
  cJSON_Delete(h);
  fprintf(f, "%s\n", line);
  free(line);
  *out = c;
  return 0;
}

/* Length of the valid UTF-8 sequence at P (max N bytes): >0 valid, 0 cut
 * short (need more bytes), -1 invalid. */
static int
utf8_seq(const unsigned char *p, size_t n)
{
  unsigned char b = p[0];
  int len;
  if (b < 0x80)
    return 1;
  if (b >= 0xc2 && b <= 0xdf)
    len = 2;
  else if (b >= 0xe0 && b <= 0xef)
    len = 3;
  else if (b >= 0xf0 && b <= 0xf4)
    len = 4;
  else
    return -1;
  for (int i = 1; i < len; i++) {
    if ((size_t)i >= n)
      return 0;
    if ((p[i] & 0xc0) != 0x80)
      return -1;
  }
  return len;
}

static void
emit(struct cab_asciicast *c, const char *text)
{
  double t = (double)(cab_now_ns() - c->start_ns) / 1e9;
  cJSON *ev = cJSON_CreateArray();
  cJSON_AddItemToArray(ev, cJSON_CreateNumber((double)((int64_t)(t * 1e6)) / 1e6));
  cJSON_AddItemToArray(ev, cJSON_CreateString("o"));
  cJSON_AddItemToArray(ev, cJSON_CreateString(text));
  char *line = cJSON_PrintUnformatted(ev);
  cJSON_Delete(ev);
  if (line) {
    fprintf(c->f, "%s\n", line);
    free(line);
  }
}

static void record(struct cab_asciicast *c, const char *data, size_t len);

void
cab_asciicast_output(struct cab_asciicast *c, const char *data, size_t len)
{
  if (c == NULL || len == 0)
    return;
  if (!c->truncated && c->recorded + (int64_t)len > MAX_BYTES) {
    c->truncated = 1;
    cab_headtail_init(&c->tail, TAIL_BYTES);
  }
  if (c->truncated) {
    cab_headtail_add(&c->tail, data, len);
    return;
  }
  record(c, data, len);
}

/* DATA as one event, UTF-8 made valid. */
static void
record(struct cab_asciicast *c, const char *data, size_t len)
{
  size_t total = c->n_pending + len;
  unsigned char *in = malloc(total);
  char *outbuf = malloc(total * 3 + 1);
  if (in == NULL || outbuf == NULL) {
    free(in);
    free(outbuf);
    return;
  }
  memcpy(in, c->pending, c->n_pending);
  memcpy(in + c->n_pending, data, len);
  size_t i = 0, o = 0;
  c->n_pending = 0;
  while (i < total) {
    int l = utf8_seq(in + i, total - i);
    if (l == 0) {
      /* cut by the chunk boundary: keep for next time */
      c->n_pending = total - i;
      memcpy(c->pending, in + i, c->n_pending);
      break;
    }
    if (l < 0 || in[i] == 0) {
      memcpy(outbuf + o, "\xef\xbf\xbd", 3);
      o += 3;
      i++;
      continue;
    }
    memcpy(outbuf + o, in + i, (size_t)l);
    o += (size_t)l;
    i += (size_t)l;
  }
  outbuf[o] = '\0';
  if (o > 0)
    emit(c, outbuf);
  c->recorded += (int64_t)len;
  free(in);
  free(outbuf);
}

int64_t
cab_asciicast_close(struct cab_asciicast *c)
{
  if (c == NULL)
    return 0;
  if (c->truncated) {
    /* Only the ring (the last TAIL_BYTES) is kept of what came past the
     * head: the rest is cut, and the marker says how much. */
    struct cab_headtail last = c->tail;
    uint64_t cut = c->tail.total - c->tail.ring_len;
    if (c->tail.ring_len == 0) {
      last.ring = c->tail.head;
      last.ring_len = c->tail.head_len;
      last.ring_pos = 0;
      last.keep = c->tail.head_len + 1; /* not wrapped */
      cut = 0;
    }
    last.head_len = 0;
    last.total = last.ring_len;
    char marker[160], human[32];
    cab_format_bytes((int64_t)cut, human, sizeof human);
    snprintf(marker, sizeof marker, "\r\n[cab: terminal output: %llu bytes (%s) cut here]\r\n",
             (unsigned long long)cut, human);
    if (cut > 0)
      emit(c, marker);
    size_t n = 0;
    char *text = cab_headtail_render(&last, "terminal output", &n);
    c->n_pending = 0;
    if (text)
      record(c, text, n);
    free(text);
    cab_headtail_free(&c->tail);
  }
  int64_t n = c->recorded;
  fflush(c->f);
  fclose(c->f);
  free(c);
  return n;
}
