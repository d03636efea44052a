/* Cassettes (JSONL of model calls): recording, loading, matching. */
#include "runner/model_api/cassette.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/sha256.h"

/* --- identity ----------------------------------------------------------------- */

void
cab_request_sha256(const char *method, const char *path, const char *body, size_t len,
                   char out[72])
{
  struct cab_sha256 *h = cab_sha256_new();
  if (h == NULL) {
    out[0] = '\0';
    return;
  }
  cab_sha256_update(h, method ? method : "", method ? strlen(method) : 0);
  cab_sha256_update(h, "\n", 1);
  cab_sha256_update(h, path ? path : "", path ? strlen(path) : 0);
  cab_sha256_update(h, "\n", 1);
  if (body && len)
    cab_sha256_update(h, body, len);
  cab_sha256_final(h, out);
}

/* --- text or base64 ------------------------------------------------------------- */

static bool
is_utf8_text(const unsigned char *p, size_t n)
{
  size_t i = 0;
  while (i < n) {
    unsigned char c = p[i];
    if (c == 0)
      return false;
    if (c < 0x80) {
      i++;
      continue;
    }
    size_t k;
    unsigned cp;
    if ((c & 0xe0) == 0xc0) {
      k = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      k = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      k = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    for (size_t j = 1; j <= k; j++) {
      if (i + j >= n || (p[i + j] & 0xc0) != 0x80)
        return false;
      cp = (cp << 6) | (p[i + j] & 0x3f);
    }
    /* overlong forms, surrogates, beyond U+10FFFF */
    if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
      return false;
    i += k + 1;
  }
  return true;
}

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *
b64_encode(const unsigned char *p, size_t n)
{
  char *out = malloc(4 * ((n + 2) / 3) + 1);
  if (out == NULL)
    return NULL;
  size_t o = 0;
  for (size_t i = 0; i < n; i += 3) {
    unsigned v = (unsigned)p[i] << 16;
    if (i + 1 < n)
      v |= (unsigned)p[i + 1] << 8;
    if (i + 2 < n)
      v |= p[i + 2];
    out[o++] = b64chars[(v >> 18) & 63];
    out[o++] = b64chars[(v >> 12) & 63];
    out[o++] = i + 1 < n ? b64chars[(v >> 6) & 63] : '=';
    out[o++] = i + 2 < n ? b64chars[v & 63] : '=';
  }
  out[o] = '\0';
  return out;
}

static int
b64_value(char c)
{
  const char *p = c ? strchr(b64chars, c) : NULL;
  return p ? (int)(p - b64chars) : -1;
}

/* Decode into a NUL-terminated malloc'd buffer; -1 on bad input. */
static int
b64_decode(const char *s, char **out, size_t *len)
{
  size_t n = strlen(s);
  if (n % 4 != 0)
    return -1;
  cleanup_free char *buf = malloc(n / 4 * 3 + 1);
  if (buf == NULL)
    return -1;
  size_t o = 0;
  for (size_t i = 0; i < n; i += 4) {
    int v[4];
    for (int j = 0; j < 4; j++) {
      v[j] = s[i + j] == '=' && i + 4 == n && j >= 2 ? -2 : b64_value(s[i + j]);
      if (v[j] == -1)
        return -1;
    }
    if (v[2] == -2 && v[3] != -2)
      return -1;
    buf[o++] = (char)((v[0] << 2) | (v[1] >> 4));
    if (v[2] >= 0)
      buf[o++] = (char)(((v[1] & 15) << 4) | (v[2] >> 2));
    if (v[3] >= 0)
      buf[o++] = (char)(((v[2] & 3) << 6) | v[3]);
  }
  buf[o] = '\0';
  *len = o;
  *out = cab_steal_ptr(&buf);
  return 0;
}

/* Add DATA as KEY (text) or KEY_b64. */
static bool
add_bytes(cJSON *obj, const char *key, const char *data, size_t len)
{
  if (data == NULL)
    data = "";
  if (is_utf8_text((const unsigned char *)data, len)) {
    cleanup_free char *copy = strndup(data, len);
    return copy && cJSON_AddStringToObject(obj, key, copy) != NULL;
  }
  char k[32];
  snprintf(k, sizeof k, "%s_b64", key);
  cleanup_free char *enc = b64_encode((const unsigned char *)data, len);
  return enc && cJSON_AddStringToObject(obj, k, enc) != NULL;
}

/* Read KEY or KEY_b64 into a NUL-terminated malloc'd buffer. */
static int
get_bytes(const cJSON *obj, const char *key, char **out, size_t *len, const char *where,
          cab_error *err)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (cJSON_IsString(v)) {
    *out = strdup(v->valuestring);
    if (*out == NULL)
      return cab_error_set(err, ENOMEM, "%s.%s", where, key);
    *len = strlen(v->valuestring);
    return 0;
  }
  char k[32];
  snprintf(k, sizeof k, "%s_b64", key);
  v = cJSON_GetObjectItemCaseSensitive(obj, k);
  if (cJSON_IsString(v)) {
    if (b64_decode(v->valuestring, out, len) < 0)
      return cab_error_set(err, 0, "%s.%s: not valid base64", where, k);
    return 0;
  }
  return cab_error_set(err, 0, "%s: missing \"%s\" (or \"%s\") string", where, key, k);
}

/* --- writing ---------------------------------------------------------------------- */

struct cab_cassette_writer {
  int fd;
  pthread_mutex_t mu;
  int64_t next_seq;
  char *path;
};

int
cab_cassette_writer_open(const char *path, struct cab_cassette_writer **out, cab_error *err)
{
  cleanup_close int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0)
    return cab_error_sys(err, "open cassette %s for recording (check that its directory exists "
                              "and is writable)", path);
  struct cab_cassette_writer *w = calloc(1, sizeof *w);
  if (w == NULL || (w->path = strdup(path)) == NULL) {
    free(w);
    return cab_error_set(err, ENOMEM, "open cassette %s", path);
  }
  pthread_mutex_init(&w->mu, NULL);
  w->next_seq = 1;
  w->fd = cab_steal_fd(&fd);
  *out = w;
  return 0;
}

int
cab_cassette_write_identity(struct cab_cassette_writer *w, const char *tui, const char *model,
                            const char *task_id, cab_error *err)
{
  struct stat st;
  if (fstat(w->fd, &st) == 0 && st.st_size > 0)
    return 0;
  cJSON *root = cJSON_CreateObject();
  cJSON *id = cJSON_AddObjectToObject(root, "recorded_for");
  cJSON_AddStringToObject(root, "cassette", "cab.cassette/v1");
  cJSON_AddStringToObject(id, "tui", tui);
  cJSON_AddStringToObject(id, "model", model);
  cJSON_AddStringToObject(id, "task_id", task_id);
  char *text = cJSON_PrintUnformatted(root);
  cJSON_Delete(root);
  if (text == NULL)
    return cab_error_set(err, ENOMEM, "cassette %s: identity", w->path);
  size_t len = strlen(text);
  text[len] = '\n'; /* the NUL's place: one write() for the whole line */
  pthread_mutex_lock(&w->mu);
  ssize_t n = write(w->fd, text, len + 1);
  pthread_mutex_unlock(&w->mu);
  free(text);
  if (n != (ssize_t)(len + 1))
    return cab_error_sys(err, "cassette %s: write the identity line", w->path);
  return 0;
}

int64_t
cab_cassette_next_seq(struct cab_cassette_writer *w)
{
  pthread_mutex_lock(&w->mu);
  int64_t s = w->next_seq++;
  pthread_mutex_unlock(&w->mu);
  return s;
}

static cJSON *
entry_to_json(const struct cab_cassette_entry *e)
{
  cJSON *root = cJSON_CreateObject();
  cJSON *req = cJSON_CreateObject();
  cJSON *resp = cJSON_CreateObject();
  cJSON *chunks = cJSON_CreateArray();
  if (root == NULL || req == NULL || resp == NULL || chunks == NULL) {
    cJSON_Delete(root);
    cJSON_Delete(req);
    cJSON_Delete(resp);
    cJSON_Delete(chunks);
    return NULL;
  }
  bool ok = cJSON_AddNumberToObject(root, "seq", (double)e->seq) != NULL;
  cJSON_AddItemToObject(root, "request", req);
  cJSON_AddItemToObject(root, "response", resp);
  char sha[72];
  if (e->request_sha256[0])
    snprintf(sha, sizeof sha, "%s", e->request_sha256);
  else
    cab_request_sha256(e->method, e->path, e->body, e->body_len, sha);
  ok = ok && cJSON_AddStringToObject(req, "method", e->method ? e->method : "") != NULL;
  ok = ok && cJSON_AddStringToObject(req, "path", e->path ? e->path : "") != NULL;
  ok = ok && add_bytes(req, "body", e->body, e->body_len);
  ok = ok && cJSON_AddStringToObject(req, "sha256", sha) != NULL;
  ok = ok && cJSON_AddNumberToObject(resp, "status", e->status) != NULL;
  ok = ok && cJSON_AddStringToObject(resp, "content_type",
                                     e->content_type ? e->content_type : "") != NULL;
  cJSON_AddItemToObject(resp, "chunks", chunks);
  for (size_t i = 0; ok && i < e->n_chunks; i++) {
    cJSON *c = cJSON_CreateObject();
    ok = c != NULL;
    if (ok)
      cJSON_AddItemToArray(chunks, c);
    ok = ok && cJSON_AddNumberToObject(c, "t_ms", (double)e->chunks[i].t_ms) != NULL;
    ok = ok && add_bytes(c, "data", e->chunks[i].data, e->chunks[i].len);
  }
  if (!ok) {
    cJSON_Delete(root);
    return NULL;
  }
  return root;
}

int
cab_cassette_append(struct cab_cassette_writer *w, const struct cab_cassette_entry *e,
                    cab_error *err)
{
  cJSON *j = entry_to_json(e);
  if (j == NULL)
    return cab_error_set(err, ENOMEM, "cassette %s: encode entry seq %lld", w->path,
                         (long long)e->seq);
  cleanup_free char *text = cJSON_PrintUnformatted(j);
  cJSON_Delete(j);
  if (text == NULL)
    return cab_error_set(err, ENOMEM, "cassette %s: encode entry seq %lld", w->path,
                         (long long)e->seq);
  size_t n = strlen(text);
  char *line = realloc(text, n + 2);
  if (line == NULL)
    return cab_error_set(err, ENOMEM, "cassette %s: encode entry seq %lld", w->path,
                         (long long)e->seq);
  text = line;
  line[n++] = '\n';
  line[n] = '\0';

  /* One write() per line, under the lock: lines never interleave. */
  pthread_mutex_lock(&w->mu);
  size_t off = 0;
  int saved = 0;
  while (off < n) {
    ssize_t r = write(w->fd, line + off, n - off);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0) {
      saved = r < 0 ? errno : EIO;
      break;
    }
    off += (size_t)r;
  }
  if (e->seq >= w->next_seq)
    w->next_seq = e->seq + 1;
  pthread_mutex_unlock(&w->mu);
  if (saved)
    return cab_error_set(err, saved, "cassette %s: append entry seq %lld (is the disk full?)",
                         w->path, (long long)e->seq);
  return 0;
}

void
cab_cassette_writer_close(struct cab_cassette_writer *w)
{
  if (w == NULL)
    return;
  fsync(w->fd);
  close(w->fd);
  pthread_mutex_destroy(&w->mu);
  free(w->path);
  free(w);
}

/* --- loading ------------------------------------------------------------------------ */

struct cab_cassette {
  pthread_mutex_t mu;
  struct cab_cassette_entry *entries;
  bool *used;
  size_t n;
  enum cab_cassette_mode mode;
  cJSON *recorded_for;   /* the identity line's object, or NULL */
};

const char *
cab_cassette_recorded_for(const struct cab_cassette *c, const char *key)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->recorded_for, key);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

void
cab_cassette_entry_clear(struct cab_cassette_entry *e)
{
  free(e->method);
  free(e->path);
  free(e->body);
  free(e->content_type);
  for (size_t i = 0; i < e->n_chunks; i++)
    free(e->chunks[i].data);
  free(e->chunks);
  memset(e, 0, sizeof *e);
}

static int
get_string(const cJSON *obj, const char *key, char **out, const char *where, cab_error *err)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (!cJSON_IsString(v))
    return cab_error_set(err, 0, "%s: missing \"%s\" string", where, key);
  *out = strdup(v->valuestring);
  if (*out == NULL)
    return cab_error_set(err, ENOMEM, "%s.%s", where, key);
  return 0;
}

static int
entry_from_json(const cJSON *root, struct cab_cassette_entry *e, cab_error *err)
{
  if (!cJSON_IsObject(root))
    return cab_error_set(err, 0, "not a JSON object");
  const cJSON *seq = cJSON_GetObjectItemCaseSensitive(root, "seq");
  if (!cJSON_IsNumber(seq))
    return cab_error_set(err, 0, "missing \"seq\" number");
  e->seq = (int64_t)seq->valuedouble;
  const cJSON *req = cJSON_GetObjectItemCaseSensitive(root, "request");
  const cJSON *resp = cJSON_GetObjectItemCaseSensitive(root, "response");
  if (!cJSON_IsObject(req))
    return cab_error_set(err, 0, "missing \"request\" object");
  if (!cJSON_IsObject(resp))
    return cab_error_set(err, 0, "missing \"response\" object");
  if (get_string(req, "method", &e->method, "request", err) < 0 ||
      get_string(req, "path", &e->path, "request", err) < 0 ||
      get_bytes(req, "body", &e->body, &e->body_len, "request", err) < 0)
    return -1;
  const cJSON *sha = cJSON_GetObjectItemCaseSensitive(req, "sha256");
  if (sha != NULL) {
    if (!cJSON_IsString(sha) || !cab_digest_valid(sha->valuestring))
      return cab_error_set(err, 0, "request.sha256: not \"sha256:\" and 64 lowercase hex digits");
    snprintf(e->request_sha256, sizeof e->request_sha256, "%s", sha->valuestring);
  } else {
    cab_request_sha256(e->method, e->path, e->body, e->body_len, e->request_sha256);
  }
  const cJSON *status = cJSON_GetObjectItemCaseSensitive(resp, "status");
  if (!cJSON_IsNumber(status) || status->valuedouble < 100 || status->valuedouble > 999)
    return cab_error_set(err, 0, "response.status: missing or not an HTTP status");
  e->status = (int)status->valuedouble;
  const cJSON *ct = cJSON_GetObjectItemCaseSensitive(resp, "content_type");
  e->content_type = strdup(cJSON_IsString(ct) ? ct->valuestring : "");
  if (e->content_type == NULL)
    return cab_error_set(err, ENOMEM, "response.content_type");
  const cJSON *chunks = cJSON_GetObjectItemCaseSensitive(resp, "chunks");
  if (!cJSON_IsArray(chunks))
    return cab_error_set(err, 0, "response: missing \"chunks\" array");
  size_t n = (size_t)cJSON_GetArraySize(chunks);
  e->chunks = calloc(n ? n : 1, sizeof *e->chunks);
  if (e->chunks == NULL)
    return cab_error_set(err, ENOMEM, "response.chunks");
  const cJSON *c;
  cJSON_ArrayForEach(c, chunks)
  {
    char where[64];
    snprintf(where, sizeof where, "response.chunks[%zu]", e->n_chunks);
    struct cab_cassette_chunk *k = &e->chunks[e->n_chunks];
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(c, "t_ms");
    if (!cJSON_IsObject(c) || !cJSON_IsNumber(t) || t->valuedouble < 0)
      return cab_error_set(err, 0, "%s: missing \"t_ms\" (a number >= 0)", where);
    if (get_bytes(c, "data", &k->data, &k->len, where, err) < 0)
      return -1;
    k->t_ms = (int64_t)t->valuedouble;
    e->n_chunks++;
  }
  return 0;
}

int
cab_cassette_load(const char *path, struct cab_cassette **out, cab_error *err)
{
  cleanup_fclose FILE *f = fopen(path, "re");
  if (f == NULL)
    return cab_error_sys(err, "open cassette %s (give the file a run recorded with --record)",
                         path);
  struct cab_cassette *c = calloc(1, sizeof *c);
  if (c == NULL)
    return cab_error_set(err, ENOMEM, "load cassette %s", path);
  pthread_mutex_init(&c->mu, NULL);
  size_t cap = 0;
  cleanup_free char *line = NULL;
  size_t line_cap = 0;
  ssize_t len;
  unsigned long lineno = 0;
  while ((len = getline(&line, &line_cap, f)) >= 0) {
    lineno++;
    size_t l = (size_t)len;
    while (l > 0 && (line[l - 1] == '\n' || line[l - 1] == '\r' || line[l - 1] == ' '))
      l--;
    if (l == 0)
      continue;
    if (c->n == cap) {
      size_t ncap = cap ? cap * 2 : 16;
      struct cab_cassette_entry *ne = realloc(c->entries, ncap * sizeof *ne);
      if (ne == NULL) {
        cab_cassette_free(c);
        return cab_error_set(err, ENOMEM, "load cassette %s", path);
      }
      c->entries = ne;
      cap = ncap;
    }
    struct cab_cassette_entry *e = &c->entries[c->n];
    memset(e, 0, sizeof *e);
    cJSON *j = cJSON_ParseWithLength(line, l);
    cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "recorded_for");
    if (cJSON_IsObject(id) && !cJSON_HasObjectItem(j, "request")) {
      if (c->recorded_for == NULL)
        c->recorded_for = cJSON_DetachItemViaPointer(j, id);
      cJSON_Delete(j);
      continue;
    }
    int r = j ? entry_from_json(j, e, err) : cab_error_set(err, 0, "not valid JSON");
    cJSON_Delete(j);
    if (r < 0) {
      cab_cassette_entry_clear(e);
      cab_cassette_free(c);
      return cab_error_prefix(err, "cassette %s: line %lu", path, lineno);
    }
    c->n++;
  }
  if (ferror(f)) {
    cab_cassette_free(c);
    return cab_error_sys(err, "read cassette %s", path);
  }
  c->used = calloc(c->n ? c->n : 1, sizeof *c->used);
  if (c->used == NULL) {
    cab_cassette_free(c);
    return cab_error_set(err, ENOMEM, "load cassette %s", path);
  }
  *out = c;
  return 0;
}

void
cab_cassette_free(struct cab_cassette *c)
{
  if (c == NULL)
    return;
  for (size_t i = 0; i < c->n; i++)
    cab_cassette_entry_clear(&c->entries[i]);
  free(c->entries);
  free(c->used);
  cJSON_Delete(c->recorded_for);
  pthread_mutex_destroy(&c->mu);
  free(c);
}

void
cab_cassette_set_mode(struct cab_cassette *c, enum cab_cassette_mode mode)
{
  c->mode = mode;
}

size_t
cab_cassette_count(const struct cab_cassette *c)
{
  return c->n;
}

const struct cab_cassette_entry *
cab_cassette_entry_at(const struct cab_cassette *c, size_t i)
{
  return i < c->n ? &c->entries[i] : NULL;
}

/* --- matching ------------------------------------------------------------------------- */

/* Append P[0..N) to OUT, printable and quoted only where needed. */
static void
snippet(char *out, size_t size, const char *p, size_t n)
{
  size_t o = strlen(out);
  for (size_t i = 0; i < n && o + 5 < size; i++) {
    unsigned char c = (unsigned char)p[i];
    if (c >= 0x20 && c < 0x7f)
      out[o++] = (char)c;
    else if (c == '\n')
      o += (size_t)snprintf(out + o, size - o, "\\n");
    else
      o += (size_t)snprintf(out + o, size - o, "\\x%02x", c);
  }
  out[o < size ? o : size - 1] = '\0';
}

static bool
is_stop(char c)
{
  return c == ',' || c == '}' || c == ']' || c == '{' || c == '[';
}

/* "at byte N: recorded X, got Y", X and Y the JSON member around N. */
static void
describe_body_difference(const char *rec, size_t rlen, const char *got, size_t glen, char *out,
                         size_t size)
{
  size_t i = 0;
  while (i < rlen && i < glen && rec[i] == got[i])
    i++;
  size_t start = i;
  while (start > 0 && i - start < 40 && !is_stop(rec[start - 1]))
    start--;
  size_t rend = i, gend = i;
  while (rend < rlen && rend - i < 40 && !is_stop(rec[rend]))
    rend++;
  while (gend < glen && gend - i < 40 && !is_stop(got[gend]))
    gend++;
  snprintf(out, size, "at byte %zu: recorded ", i);
  if (i == rlen)
    snippet(out, size, "<end of body>", 13);
  else
    snippet(out, size, rec + start, rend - start);
  size_t o = strlen(out);
  snprintf(out + o, size - o, ", got ");
  if (i == glen)
    snippet(out, size, "<end of body>", 13);
  else
    snippet(out, size, got + start, gend - start);
}

static void
describe_difference(const struct cab_cassette_entry *e, const char *method, const char *path,
                    const char *body, size_t body_len, char *out, size_t size)
{
  if (strcmp(e->method, method) != 0) {
    snprintf(out, size, "method: recorded %s, got %s", e->method, method);
  } else if (strcmp(e->path, path) != 0) {
    snprintf(out, size, "path: recorded %s, got %s", e->path, path);
  } else {
    char d[600] = "";
    describe_body_difference(e->body, e->body_len, body, body_len, d, sizeof d);
    snprintf(out, size, "body: %s", d);
  }
}

const struct cab_cassette_entry *
cab_cassette_match(struct cab_cassette *c, const char *method, const char *path, const char *body,
                   size_t body_len, cab_error *err)
{
  if (body == NULL)
    body = "";
  char sha[72];
  cab_request_sha256(method, path, body, body_len, sha);
  const struct cab_cassette_entry *found = NULL;
  pthread_mutex_lock(&c->mu);
  /* (1) the earliest unused entry with this hash */
  for (size_t i = 0; !found && i < c->n; i++)
    if (!c->used[i] && strcmp(c->entries[i].request_sha256, sha) == 0) {
      c->used[i] = true;
      found = &c->entries[i];
    }
  /* the next unused entry of the same method and path: the answer in ORDER
   * mode, what the request is compared with otherwise */
  size_t next = c->n;
  for (size_t i = 0; !found && i < c->n; i++)
    if (!c->used[i] && strcmp(c->entries[i].method, method) == 0 &&
        strcmp(c->entries[i].path, path) == 0) {
      next = i;
      break;
    }
  if (!found && next < c->n && c->mode == CAB_CASSETTE_MATCH_ORDER) {
    c->used[next] = true;
    found = &c->entries[next];
    /* Served, but say how it differs: the caller notes it. */
    char diff[800];
    describe_difference(found, method, path, body, body_len, diff, sizeof diff);
    cab_error_set(err, 0, "answered in order by entry seq %lld; %s", (long long)found->seq, diff);
    pthread_mutex_unlock(&c->mu);
    return found;
  }
  /* (3) a repeated request: the last used entry with this hash */
  for (size_t i = c->n; !found && i > 0; i--)
    if (c->used[i - 1] && strcmp(c->entries[i - 1].request_sha256, sha) == 0)
      found = &c->entries[i - 1];
  if (found) {
    pthread_mutex_unlock(&c->mu);
    return found;
  }
  /* (4) a miss: compare with the next unused entry of this method and path;
   * else the entry of this method and path sharing the longest body prefix;
   * else the next unused entry at all */
  size_t cmp = next;
  const char *why = "the next unused one of this method and path";
  size_t best = 0;
  for (size_t i = 0; next == c->n && i < c->n; i++) {
    const struct cab_cassette_entry *e = &c->entries[i];
    if (strcmp(e->method, method) != 0 || strcmp(e->path, path) != 0)
      continue;
    size_t k = 0;
    while (k < e->body_len && k < body_len && e->body[k] == body[k])
      k++;
    if (k > best || cmp == c->n) {
      best = k;
      cmp = i;
      why = "all of this method and path are used; the closest";
    }
  }
  for (size_t i = 0; cmp == c->n && i < c->n; i++)
    if (!c->used[i]) {
      cmp = i;
      why = "none has this method and path; the next unused";
    }
  pthread_mutex_unlock(&c->mu);

  if (cmp == c->n) {
    cab_error_set(err, 0,
                  "%s %s: no recorded request left to answer it (%zu entries, all used); the "
                  "run makes more calls than the recorded one",
                  method, path, c->n);
    return NULL;
  }
  char diff[800];
  describe_difference(&c->entries[cmp], method, path, body, body_len, diff, sizeof diff);
  cab_error_set(err, 0, "%s %s does not match the cassette (compared with entry seq %lld: %s): %s",
                method, path, (long long)c->entries[cmp].seq, why, diff);
  return NULL;
}
