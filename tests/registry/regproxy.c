/* An HTTP proxy in front of a test registry, for what a loopback
 * docker-registry cannot do by itself:
 *
 *   regproxy --upstream PORT --port-file FILE --log FILE
 *            [--cut-after N] [--redirect-blobs STORAGE_ROOT]
 *
 * Every request is forwarded to 127.0.0.1:PORT (as "Connection: close") and
 * logged as one line: "main|storage METHOD PATH auth=yes|no range=VALUE".
 *
 *  --cut-after N    the first blob GET whose response runs past N bytes is
 *                   cut there (a TCP reset) - once per proxy, so a client
 *                   must resume it with Range.  Logs "cut PATH at N".
 *  --manifest FILE --content-type CT
 *                   answer every manifest GET with FILE's bytes as CT (a
 *                   hostile or broken registry), no Docker-Content-Digest.
 *  --redirect-blobs answer blob GETs with a 307 to a second listener, the
 *                   "blob storage", on another port (another origin), which
 *                   serves STORAGE_ROOT/docker/registry/v2/blobs/... itself
 *                   (Range supported).  Its log lines show whether an
 *                   Authorization header was (wrongly) sent there.
 *
 * FILE gets "MAINPORT STORAGEPORT" (STORAGEPORT 0 without redirects).
 * Built by the tests: cc -o regproxy regproxy.c */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static int upstream_port, storage_port;
static long long cut_after = -1;
static const char *log_path, *storage_root, *manifest_file, *manifest_ctype;

static void
die(const char *msg)
{
  fprintf(stderr, "regproxy: %s: %s\n", msg, strerror(errno));
  exit(1);
}

static void
logline(const char *fmt, ...)
{
  char buf[4096];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
  va_end(ap);
  if (n < 0)
    return;
  if (n > (int)sizeof buf - 2)
    n = (int)sizeof buf - 2;
  buf[n++] = '\n';
  int fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd >= 0) {
    if (write(fd, buf, (size_t)n) < 0) {
    }
    close(fd);
  }
}

static int
listen_any(int *port)
{
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t alen = sizeof a;
  if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 64) < 0 ||
      getsockname(s, (struct sockaddr *)&a, &alen) < 0)
    die("listen on 127.0.0.1");
  *port = ntohs(a.sin_port);
  return s;
}

static int
write_all(int fd, const char *p, size_t n)
{
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Read the request header (GET/HEAD: no body). */
static int
read_head(int fd, char *buf, size_t size)
{
  size_t used = 0;
  while (used < size - 1) {
    ssize_t n = read(fd, buf + used, size - 1 - used);
    if (n <= 0)
      return -1;
    used += (size_t)n;
    buf[used] = '\0';
    if (strstr(buf, "\r\n\r\n"))
      return 0;
  }
  return -1;
}

static void
header_value(const char *head, const char *name, char *out, size_t size)
{
  out[0] = '\0';
  char pat[100];
  snprintf(pat, sizeof pat, "\r\n%s:", name);
  const char *p = strcasestr(head, pat);
  if (!p)
    return;
  p += strlen(pat);
  while (*p == ' ')
    p++;
  size_t n = strcspn(p, "\r\n");
  snprintf(out, size, "%.*s", (int)n, p);
}

static bool
is_blob_get(const char *method, const char *path, char *hex)
{
  const char *b = strstr(path, "/blobs/sha256:");
  if (strcmp(method, "GET") != 0 || b == NULL || strncmp(path, "/v2/", 4) != 0)
    return false;
  b += 14;
  if (strspn(b, "0123456789abcdef") != 64)
    return false;
  memcpy(hex, b, 64);
  hex[64] = '\0';
  return true;
}

static void
serve_storage(int c, const char *head, const char *path)
{
  char hex[65] = "", range[128];
  header_value(head, "Range", range, sizeof range);
  if (sscanf(path, "/storage/%64[0-9a-f]", hex) != 1 || strlen(hex) != 64) {
    write_all(c, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", 66);
    return;
  }
  char file[4096];
  snprintf(file, sizeof file, "%s/docker/registry/v2/blobs/sha256/%.2s/%s/data", storage_root, hex,
           hex);
  int fd = open(file, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0) {
    write_all(c, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", 66);
    return;
  }
  long long start = 0;
  char out[512];
  int n;
  if (range[0] && sscanf(range, "bytes=%lld-", &start) == 1 && start > 0 && start < st.st_size) {
    n = snprintf(out, sizeof out,
                 "HTTP/1.1 206 Partial Content\r\nContent-Type: application/octet-stream\r\n"
                 "Content-Range: bytes %lld-%lld/%lld\r\nContent-Length: %lld\r\n"
                 "Connection: close\r\n\r\n",
                 start, (long long)st.st_size - 1, (long long)st.st_size,
                 (long long)st.st_size - start);
  } else {
    start = 0;
    n = snprintf(out, sizeof out,
                 "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                 "Content-Length: %lld\r\nConnection: close\r\n\r\n",
                 (long long)st.st_size);
  }
  write_all(c, out, (size_t)n);
  lseek(fd, start, SEEK_SET);
  char buf[65536];
  ssize_t r;
  while ((r = read(fd, buf, sizeof buf)) > 0)
    if (write_all(c, buf, (size_t)r) < 0)
      break;
  close(fd);
}

static void
forward(int c, char *head, const char *path, bool blob)
{
  /* Drop the client's Connection header, ask for one request per connection. */
  char out[16384];
  size_t used = 0;
  char *line = head;
  while (line && *line) {
    char *end = strstr(line, "\r\n");
    if (!end)
      break;
    size_t len = (size_t)(end - line);
    if (len == 0)
      break;
    if (strncasecmp(line, "Connection:", 11) != 0 && used + len + 2 < sizeof out) {
      memcpy(out + used, line, len);
      memcpy(out + used + len, "\r\n", 2);
      used += len + 2;
    }
    line = end + 2;
  }
  used += (size_t)snprintf(out + used, sizeof out - used, "Connection: close\r\n\r\n");
  int u = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)upstream_port),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (u < 0 || connect(u, (struct sockaddr *)&a, sizeof a) < 0 || write_all(u, out, used) < 0) {
    write_all(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", 68);
    return;
  }
  long long total = 0;
  char buf[16384];
  for (;;) {
    ssize_t n = read(u, buf, sizeof buf);
    if (n <= 0)
      break;
    if (blob && cut_after >= 0 && total + n > cut_after) {
      char marker[4200];
      snprintf(marker, sizeof marker, "%s.cut", log_path);
      int m = open(marker, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
      if (m >= 0) {
        close(m);
        write_all(c, buf, (size_t)(cut_after - total));
        logline("cut %s at %lld", path, cut_after);
        struct linger lg = {1, 0}; /* a reset, as when a server dies */
        setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        close(c);
        close(u);
        _exit(0);
      }
    }
    if (write_all(c, buf, (size_t)n) < 0)
      break;
    total += n;
  }
  close(u);
}

static void
handle(int c, bool storage)
{
  char head[16384];
  if (read_head(c, head, sizeof head) < 0)
    return;
  char method[16] = "", path[4096] = "", auth[16], range[128], hex[65];
  sscanf(head, "%15s %4095s", method, path);
  header_value(head, "Authorization", auth, sizeof auth);
  header_value(head, "Range", range, sizeof range);
  logline("%s %s %s auth=%s range=%s", storage ? "storage" : "main", method, path,
          auth[0] ? "yes" : "no", range[0] ? range : "-");
  if (storage) {
    serve_storage(c, head, path);
    return;
  }
  if (manifest_file && strncmp(path, "/v2/", 4) == 0 && strstr(path, "/manifests/")) {
    int fd = open(manifest_file, O_RDONLY | O_CLOEXEC);
    char body[65536];
    ssize_t len = fd >= 0 ? read(fd, body, sizeof body) : -1;
    if (fd >= 0)
      close(fd);
    if (len < 0)
      len = 0;
    char out[1024];
    int n = snprintf(out, sizeof out,
                     "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %zd\r\n"
                     "Connection: close\r\n\r\n",
                     manifest_ctype ? manifest_ctype : "application/json", len);
    write_all(c, out, (size_t)n);
    write_all(c, body, (size_t)len);
    return;
  }
  bool blob = is_blob_get(method, path, hex);
  if (blob && storage_root) {
    char out[1024];
    int n = snprintf(out, sizeof out,
                     "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:%d/storage/%s"
                     "?X-Signature=s3cr3t\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                     storage_port, hex);
    write_all(c, out, (size_t)n);
    return;
  }
  forward(c, head, path, blob);
}

int
main(int argc, char **argv)
{
  const char *port_file = NULL;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--upstream")) upstream_port = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--port-file")) port_file = argv[i + 1];
    else if (!strcmp(argv[i], "--log")) log_path = argv[i + 1];
    else if (!strcmp(argv[i], "--cut-after")) cut_after = atoll(argv[i + 1]);
    else if (!strcmp(argv[i], "--redirect-blobs")) storage_root = argv[i + 1];
    else if (!strcmp(argv[i], "--manifest")) manifest_file = argv[i + 1];
    else if (!strcmp(argv[i], "--content-type")) manifest_ctype = argv[i + 1];
    else {
      fprintf(stderr, "regproxy: unknown option %s\n", argv[i]);
      return 1;
    }
  }
  if (!upstream_port || !port_file || !log_path) {
    fprintf(stderr, "usage: regproxy --upstream PORT --port-file F --log F [--cut-after N] "
                    "[--redirect-blobs STORAGE_ROOT] [--manifest FILE --content-type CT]\n");
    return 1;
  }
  signal(SIGCHLD, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);
  int main_port, s = listen_any(&main_port), st = -1;
  if (storage_root)
    st = listen_any(&storage_port);
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
  FILE *f = fopen(tmp, "w");
  if (!f)
    die("write the port file");
  fprintf(f, "%d %d\n", main_port, storage_port);
  fclose(f);
  rename(tmp, port_file);
  struct pollfd p[2] = {{.fd = s, .events = POLLIN}, {.fd = st, .events = POLLIN}};
  for (;;) {
    if (poll(p, st >= 0 ? 2 : 1, -1) < 0)
      continue;
    for (int i = 0; i < 2; i++) {
      if (p[i].fd < 0 || !(p[i].revents & POLLIN))
        continue;
      int c = accept4(p[i].fd, NULL, NULL, SOCK_CLOEXEC);
      if (c < 0)
        continue;
      pid_t pid = fork();
      if (pid == 0) {
        close(s);
        if (st >= 0)
          close(st);
        handle(c, i == 1);
        close(c);
        _exit(0);
      }
      close(c);
    }
  }
}
