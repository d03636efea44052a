/* cab-agent's HTTP/1.1 client (see http.h). */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define HTTP_MAX_HEADERS (64 * 1024)
#define HTTP_MAX_BODY (64 * 1024 * 1024)

int http_parse_url(const char *url, struct http_url *u, char *err, size_t errlen) {
  memset(u, 0, sizeof *u);
  if (strncasecmp(url, "http://", 7) != 0) {
    if (strncasecmp(url, "https://", 8) == 0)
      snprintf(err, errlen, "endpoint %s: https is not supported (cab-agent speaks plain HTTP to the cell's gateway)", url);
    else
      snprintf(err, errlen, "endpoint %s: expected http://HOST:PORT/PATH", url);
    return -1;
  }
  const char *h = url + 7;
  const char *slash = strchr(h, '/');
  size_t hp_len = slash ? (size_t)(slash - h) : strlen(h);
  if (hp_len == 0 || hp_len >= sizeof u->hostport) {
    snprintf(err, errlen, "endpoint %s: missing or overlong host", url);
    return -1;
  }
  memcpy(u->hostport, h, hp_len);
  u->hostport[hp_len] = '\0';
  if (memchr(u->hostport, '@', hp_len)) {
    snprintf(err, errlen, "endpoint %s: user info in the URL is not supported (use --key)", url);
    return -1;
  }
  const char *port = NULL;
  if (u->hostport[0] == '[') {
    char *close = strchr(u->hostport, ']');
    if (!close || (close[1] != '\0' && close[1] != ':')) {
      snprintf(err, errlen, "endpoint %s: bad IPv6 literal", url);
      return -1;
    }
    size_t n = (size_t)(close - u->hostport - 1);
    memcpy(u->host, u->hostport + 1, n);
    u->host[n] = '\0';
    if (close[1] == ':') port = close + 2;
  } else {
    char *colon = strchr(u->hostport, ':');
    size_t n = colon ? (size_t)(colon - u->hostport) : hp_len;
    memcpy(u->host, u->hostport, n);
    u->host[n] = '\0';
    if (colon) port = colon + 1;
  }
  if (u->host[0] == '\0') {
    snprintf(err, errlen, "endpoint %s: missing host", url);
    return -1;
  }
  u->port = 80;
  if (port) {
    char *end;
    long p = strtol(port, &end, 10);
    if (*port == '\0' || *end != '\0' || p < 1 || p > 65535) {
      snprintf(err, errlen, "endpoint %s: bad port '%s'", url, port);
      return -1;
    }
    u->port = (int)p;
  }
  const char *path = slash ? slash : "";
  size_t pl = strcspn(path, "?#");
  while (pl > 0 && path[pl - 1] == '/') pl--;
  if (pl >= sizeof u->path) {
    snprintf(err, errlen, "endpoint %s: path too long", url);
    return -1;
  }
  memcpy(u->path, path, pl);
  u->path[pl] = '\0';
  for (const char *c = u->path; *c; c++) {
    if ((unsigned char)*c <= 0x20 || *c == 0x7F) {
      snprintf(err, errlen, "endpoint %s: spaces or control characters in the path", url);
      return -1;
    }
  }
  return 0;
}

static bool add_numeric(struct http_addrs *out, const char *s) {
  if (out->n >= HTTP_MAX_ADDRS) return false;
  unsigned char buf[16];
  if (inet_pton(AF_INET, s, buf) == 1) {
    out->a[out->n].family = AF_INET;
    memcpy(out->a[out->n].addr, buf, 4);
    out->n++;
    return true;
  }
  if (inet_pton(AF_INET6, s, buf) == 1) {
    out->a[out->n].family = AF_INET6;
    memcpy(out->a[out->n].addr, buf, 16);
    out->n++;
    return true;
  }
  return false;
}

int http_resolve(const char *host, struct http_addrs *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  if (add_numeric(out, host)) return 0;
  const char *file = getenv("CAB_AGENT_HOSTS_FILE");
  if (!file || !*file) file = "/etc/hosts";
  FILE *f = fopen(file, "re");
  if (f) {
    char line[1024];
    while (fgets(line, sizeof line, f) && out->n < HTTP_MAX_ADDRS) {
      char *hash = strchr(line, '#');
      if (hash) *hash = '\0';
      char *save = NULL;
      char *addr = strtok_r(line, " \t\r\n", &save);
      if (!addr) continue;
      for (char *name; (name = strtok_r(NULL, " \t\r\n", &save));) {
        if (strcasecmp(name, host) == 0) {
          add_numeric(out, addr);
          break;
        }
      }
    }
    fclose(f);
  }
  if (out->n == 0 && strcasecmp(host, "localhost") == 0) {
    add_numeric(out, "127.0.0.1");
    add_numeric(out, "::1");
  }
  if (out->n == 0) {
    snprintf(err, errlen,
             "cannot resolve '%s': it is not an IP address and not in %s (cab-agent uses no DNS)",
             host, file);
    return -1;
  }
  return 0;
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for EVENTS on FD until DEADLINE.  0 ready, -1 timed out / error. */
static int wait_fd(int fd, short events, int64_t deadline) {
  for (;;) {
    int64_t left = deadline - now_ms();
    if (left <= 0) {
      errno = ETIMEDOUT;
      return -1;
    }
    struct pollfd pfd = {.fd = fd, .events = events};
    int r = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
    if (r > 0) return 0;
    if (r < 0 && errno != EINTR) return -1;
  }
}

static void fmt_addr(const struct http_addrs *as, int i, int port, char *buf, size_t n) {
  char a[INET6_ADDRSTRLEN];
  inet_ntop(as->a[i].family, as->a[i].addr, a, sizeof a);
  if (as->a[i].family == AF_INET6) snprintf(buf, n, "[%s]:%d", a, port);
  else snprintf(buf, n, "%s:%d", a, port);
}

static int connect_one(int family, const unsigned char *addr, int port, int64_t deadline) {
  struct sockaddr_storage ss;
  socklen_t sl;
  memset(&ss, 0, sizeof ss);
  if (family == AF_INET) {
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    s4->sin_family = AF_INET;
    s4->sin_port = htons((uint16_t)port);
    memcpy(&s4->sin_addr, addr, 4);
    sl = sizeof *s4;
  } else {
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons((uint16_t)port);
    memcpy(&s6->sin6_addr, addr, 16);
    sl = sizeof *s6;
  }
  int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  if (connect(fd, (struct sockaddr *)&ss, sl) < 0) {
    if (errno != EINPROGRESS) {
      int e = errno;
      close(fd);
      errno = e;
      return -1;
    }
    if (wait_fd(fd, POLLOUT, deadline) < 0) {
      int e = errno;
      close(fd);
      errno = e;
      return -1;
    }
    int soerr = 0;
    socklen_t el = sizeof soerr;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &el);
    if (soerr) {
      close(fd);
      errno = soerr;
      return -1;
    }
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

static int send_all(int fd, const char *p, size_t n, int64_t deadline) {
  while (n > 0) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w > 0) {
      p += w;
      n -= (size_t)w;
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (wait_fd(fd, POLLOUT, deadline) < 0) return -1;
      continue;
    }
    return -1;
  }
  return 0;
}

/* Read more into B.  >0 bytes read, 0 EOF, -1 error (errno). */
static ssize_t recv_some(int fd, struct sbuf *b, int64_t deadline) {
  for (;;) {
    sb_grow(b, 16384);
    ssize_t r = recv(fd, b->p + b->len, 16384, 0);
    if (r > 0) {
      b->len += (size_t)r;
      b->p[b->len] = '\0';
      return r;
    }
    if (r == 0) return 0;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (wait_fd(fd, POLLIN, deadline) < 0) return -1;
      continue;
    }
    return -1;
  }
}

/* Find the end of the header block: the offset just past the blank line. */
static size_t header_end(const char *p, size_t n) {
  for (size_t i = 0; i + 1 < n; i++) {
    if (p[i] == '\n' && p[i + 1] == '\n') return i + 2;
    if (i + 3 < n && p[i] == '\r' && p[i + 1] == '\n' && p[i + 2] == '\r' && p[i + 3] == '\n')
      return i + 4;
  }
  return 0;
}

int http_dechunk(const char *in, size_t n, char **out, size_t *out_len) {
  struct sbuf b = {0};
  size_t i = 0;
  for (;;) {
    /* chunk-size [; extensions] CRLF */
    const char *nl = memchr(in + i, '\n', n - i);
    if (!nl) goto more;
    size_t line_end = (size_t)(nl - in);
    uint64_t size = 0;
    size_t j = i, digits = 0;
    for (; j < line_end; j++, digits++) {
      char c = in[j];
      unsigned d;
      if (c >= '0' && c <= '9') d = (unsigned)(c - '0');
      else if (c >= 'a' && c <= 'f') d = (unsigned)(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') d = (unsigned)(c - 'A' + 10);
      else break;
      if (size > (HTTP_MAX_BODY >> 4)) goto bad;
      size = size * 16 + d;
    }
    if (digits == 0) goto bad;
    while (j < line_end && (in[j] == ' ' || in[j] == '\t')) j++;
    if (j < line_end && in[j] != ';' && !(in[j] == '\r' && j + 1 == line_end)) goto bad;
    i = line_end + 1;
    if (size == 0) {
      /* trailers, then an empty line */
      for (;;) {
        const char *tl = memchr(in + i, '\n', n - i);
        if (!tl) goto more;
        size_t len = (size_t)(tl - (in + i));
        bool empty = len == 0 || (len == 1 && in[i] == '\r');
        i += len + 1;
        if (empty) {
          *out_len = b.len;
          *out = sb_take(&b);
          return 0;
        }
      }
    }
    if (b.len + size > HTTP_MAX_BODY) goto bad;
    if (n - i < size) goto more;
    sb_add(&b, in + i, (size_t)size);
    i += (size_t)size;
    if (n - i >= 2 && in[i] == '\r' && in[i + 1] == '\n') i += 2;
    else if (n - i >= 1 && in[i] == '\n') i += 1;
    else if (n - i < 2 && (n == i || in[i] == '\r')) goto more;
    else goto bad;
  }
more:
  sb_free(&b);
  return 1;
bad:
  sb_free(&b);
  return -1;
}

/* The value of header NAME in the header block H (first line skipped), or
 * NULL; copied into BUF. */
static const char *header_value(const char *h, size_t hlen, const char *name, char *buf,
                                size_t bufsz) {
  size_t nl = strlen(name);
  const char *p = memchr(h, '\n', hlen);
  while (p && (size_t)(p - h) < hlen) {
    p++;
    const char *e = memchr(p, '\n', hlen - (size_t)(p - h));
    if (!e) break;
    if ((size_t)(e - p) > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
      const char *v = p + nl + 1;
      while (v < e && (*v == ' ' || *v == '\t')) v++;
      const char *ve = e;
      while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t')) ve--;
      size_t vl = (size_t)(ve - v);
      if (vl >= bufsz) vl = bufsz - 1;
      memcpy(buf, v, vl);
      buf[vl] = '\0';
      return buf;
    }
    p = e;
  }
  return NULL;
}

void http_response_free(struct http_response *r) {
  free(r->body);
  r->body = NULL;
  r->len = 0;
}

int http_post_json(const struct http_url *u, const char *suffix, const char *key,
                   const char *body, size_t body_len, int timeout_s, struct http_response *r,
                   char *err, size_t errlen) {
  memset(r, 0, sizeof *r);
  r->retry_after = -1;
  int64_t deadline = now_ms() + (int64_t)timeout_s * 1000;
  struct http_addrs as;
  if (http_resolve(u->host, &as, err, errlen) < 0) return -1;

  int fd = -1, last_errno = 0;
  char where[128] = "";
  for (int i = 0; i < as.n && fd < 0; i++) {
    fmt_addr(&as, i, u->port, where, sizeof where);
    fd = connect_one(as.a[i].family, as.a[i].addr, u->port, deadline);
    if (fd < 0) last_errno = errno;
  }
  if (fd < 0) {
    if (last_errno == ETIMEDOUT)
      snprintf(err, errlen, "cannot connect to %s (http://%s%s): no answer within %d s", where,
               u->hostport, u->path, timeout_s);
    else
      snprintf(err, errlen, "cannot connect to %s (http://%s%s): %s", where, u->hostport, u->path,
               strerror(last_errno));
    return -1;
  }

  struct sbuf req = {0};
  sb_printf(&req,
            "POST %s%s HTTP/1.1\r\nHost: %s\r\nUser-Agent: cab-agent/1\r\n"
            "Content-Type: application/json\r\nAccept: application/json\r\n"
            "Content-Length: %zu\r\nConnection: close\r\n",
            u->path, suffix, u->hostport, body_len);
  if (key && *key) sb_printf(&req, "Authorization: Bearer %s\r\n", key);
  sb_adds(&req, "\r\n");
  int rc = -1;
  struct sbuf in = {0};
  char url_path[sizeof u->path + 64];
  snprintf(url_path, sizeof url_path, "%s%s", u->path, suffix);
  if (send_all(fd, req.p, req.len, deadline) < 0 || send_all(fd, body, body_len, deadline) < 0) {
    if (errno == ETIMEDOUT)
      snprintf(err, errlen, "sending the request to %s%s: timed out after %d s", where, url_path, timeout_s);
    else
      snprintf(err, errlen, "sending the request to %s%s: %s", where, url_path, strerror(errno));
    goto out;
  }

  /* Status line and headers; 1xx responses are skipped. */
  size_t hend;
  for (;;) {
    while ((hend = header_end(in.p ? in.p : "", in.len)) == 0) {
      if (in.len > HTTP_MAX_HEADERS) {
        snprintf(err, errlen, "reply from %s: headers larger than %d bytes", where, HTTP_MAX_HEADERS);
        goto out;
      }
      ssize_t n = recv_some(fd, &in, deadline);
      if (n < 0) {
        if (errno == ETIMEDOUT)
          snprintf(err, errlen, "no reply from %s%s within %d s (CAB_AGENT_TIMEOUT)", where, url_path, timeout_s);
        else
          snprintf(err, errlen, "reading the reply from %s: %s", where, strerror(errno));
        goto out;
      }
      if (n == 0) {
        snprintf(err, errlen, "%s closed the connection %s", where,
                 in.len ? "in the middle of the reply headers" : "without replying");
        goto out;
      }
    }
    int major, minor, status;
    if (sscanf(in.p, "HTTP/%d.%d %3d", &major, &minor, &status) != 3 || status < 100 || status > 599) {
      char first[80];
      size_t fl = strcspn(in.p, "\r\n");
      if (fl >= sizeof first) fl = sizeof first - 1;
      memcpy(first, in.p, fl);
      first[fl] = '\0';
      for (char *c = first; *c; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7F) *c = '?';
      snprintf(err, errlen, "reply from %s is not HTTP: '%s'", where, first);
      goto out;
    }
    if (status >= 100 && status < 200) {
      memmove(in.p, in.p + hend, in.len - hend);
      in.len -= hend;
      in.p[in.len] = '\0';
      continue;
    }
    r->status = status;
    break;
  }

  char val[128];
  bool chunked = false;
  long long clen = -1;
  if (header_value(in.p, hend, "Transfer-Encoding", val, sizeof val))
    chunked = strcasestr(val, "chunked") != NULL;
  if (!chunked && header_value(in.p, hend, "Content-Length", val, sizeof val)) {
    char *end;
    errno = 0;
    clen = strtoll(val, &end, 10);
    if (errno || end == val || *end || clen < 0) {
      snprintf(err, errlen, "reply from %s: bad Content-Length '%s'", where, val);
      goto out;
    }
    if (clen > HTTP_MAX_BODY) {
      snprintf(err, errlen, "reply from %s: body of %lld bytes is too large", where, clen);
      goto out;
    }
  }
  if (header_value(in.p, hend, "Retry-After", val, sizeof val)) {
    char *end;
    long s = strtol(val, &end, 10);
    if (end != val && s >= 0) r->retry_after = s > 3600 ? 3600 : (int)s;
  }

  /* The body. */
  size_t body_start = hend;
  for (;;) {
    size_t have = in.len - body_start;
    if (chunked) {
      char *dec;
      size_t dl;
      int d = http_dechunk(in.p + body_start, have, &dec, &dl);
      if (d == 0) {
        r->body = dec;
        r->len = dl;
        break;
      }
      if (d < 0) {
        snprintf(err, errlen, "reply from %s: malformed chunked encoding", where);
        goto out;
      }
    } else if (clen >= 0 && have >= (size_t)clen) {
      r->body = xstrndup(in.p + body_start, (size_t)clen);
      r->len = (size_t)clen;
      break;
    }
    if (have > HTTP_MAX_BODY + 65536) {
      snprintf(err, errlen, "reply from %s: body too large", where);
      goto out;
    }
    ssize_t n = recv_some(fd, &in, deadline);
    if (n < 0) {
      if (errno == ETIMEDOUT)
        snprintf(err, errlen, "reply from %s%s incomplete after %d s (CAB_AGENT_TIMEOUT)", where, url_path, timeout_s);
      else
        snprintf(err, errlen, "reading the reply from %s: %s", where, strerror(errno));
      goto out;
    }
    if (n == 0) {
      if (!chunked && clen < 0) {
        r->body = xstrndup(in.p + body_start, in.len - body_start);
        r->len = in.len - body_start;
        break;
      }
      snprintf(err, errlen, "%s closed the connection in the middle of the reply body", where);
      goto out;
    }
  }
  rc = 0;
out:
  if (rc < 0) http_response_free(r);
  close(fd);
  sb_free(&req);
  sb_free(&in);
  return rc;
}
