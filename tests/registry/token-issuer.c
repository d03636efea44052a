/* A bearer-token issuer for cab's registry tests (the Docker "token
 * authentication specification"), just enough for Debian's docker-registry
 * configured with `auth: token:`.
 *
 *   token-issuer --key KEY.pem --cert CERT.pem --issuer ISS --service SVC
 *                --port-file FILE [--log FILE] [--user U --password P]
 *
 * Listens on 127.0.0.1 (an ephemeral port, written to FILE), answers
 * GET /token?service=SVC&scope=repository:NAME:pull[,push] with
 * {"token": JWT, "access_token": JWT, "expires_in": 300}: an RS256 JWT whose
 * header carries the certificate (x5c) that the registry's rootcertbundle
 * trusts.  With --user, a request must carry those Basic credentials (401
 * otherwise); anonymous requests then get no token.  Each request is logged
 * as one line: "token service=... scope=... user=... granted=...".
 * Built by the tests: cc -o token-issuer token-issuer.c -lcrypto */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *opt_issuer, *opt_service, *opt_user, *opt_pass, *opt_log;
static EVP_PKEY *key;
static char x5c[8192];

static void
die(const char *msg)
{
  fprintf(stderr, "token-issuer: %s\n", msg);
  exit(1);
}

static void
logf_(const char *fmt, ...)
{
  if (!opt_log)
    return;
  FILE *f = fopen(opt_log, "a");
  if (!f)
    return;
  va_list ap;
  va_start(ap, fmt);
  vfprintf(f, fmt, ap);
  va_end(ap);
  fputc('\n', f);
  fclose(f);
}

static void
b64(const unsigned char *in, size_t len, char *out, int url)
{
  int n = EVP_EncodeBlock((unsigned char *)out, in, (int)len);
  if (url) {
    for (int i = 0; i < n; i++)
      out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
    while (n > 0 && out[n - 1] == '=')
      out[--n] = '\0';
  }
}

static void
urldecode(char *s)
{
  char *o = s;
  for (; *s; s++) {
    if (*s == '%' && s[1] && s[2]) {
      char h[3] = {s[1], s[2], 0};
      *o++ = (char)strtol(h, NULL, 16);
      s += 2;
    } else {
      *o++ = *s == '+' ? ' ' : *s;
    }
  }
  *o = '\0';
}

static void
query_param(const char *query, const char *name, char *out, size_t size)
{
  out[0] = '\0';
  size_t n = strlen(name);
  for (const char *p = query; p && *p;) {
    const char *amp = strchr(p, '&');
    size_t len = amp ? (size_t)(amp - p) : strlen(p);
    if (len > n && strncmp(p, name, n) == 0 && p[n] == '=') {
      snprintf(out, size, "%.*s", (int)(len - n - 1), p + n + 1);
      urldecode(out);
      return;
    }
    p = amp ? amp + 1 : NULL;
  }
}

static int
sign_jwt(const char *claims, char *out, size_t size)
{
  char header[9000], h64[12500], c64[4096], input[17000];
  snprintf(header, sizeof header, "{\"typ\":\"JWT\",\"alg\":\"RS256\",\"x5c\":[\"%s\"]}", x5c);
  b64((const unsigned char *)header, strlen(header), h64, 1);
  b64((const unsigned char *)claims, strlen(claims), c64, 1);
  snprintf(input, sizeof input, "%s.%s", h64, c64);
  unsigned char sig[1024];
  size_t siglen = sizeof sig;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  if (EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) != 1 ||
      EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *)input, strlen(input)) != 1) {
    EVP_MD_CTX_free(ctx);
    return -1;
  }
  EVP_MD_CTX_free(ctx);
  char s64[1500];
  b64(sig, siglen, s64, 1);
  snprintf(out, size, "%s.%s", input, s64);
  return 0;
}

static void
reply(int fd, const char *status, const char *extra, const char *body)
{
  char head[1024];
  int n = snprintf(head, sizeof head,
                   "HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                   "Connection: close\r\n%s\r\n",
                   status, strlen(body), extra);
  if (write(fd, head, (size_t)n) < 0 || write(fd, body, strlen(body)) < 0)
    return;
}

static void
handle(int fd)
{
  char req[8192];
  size_t used = 0;
  while (used < sizeof req - 1) {
    ssize_t n = read(fd, req + used, sizeof req - 1 - used);
    if (n <= 0)
      break;
    used += (size_t)n;
    req[used] = '\0';
    if (strstr(req, "\r\n\r\n"))
      break;
  }
  req[used] = '\0';
  char method[16], target[4096];
  if (sscanf(req, "%15s %4095s", method, target) != 2) {
    reply(fd, "400 Bad Request", "", "{}");
    return;
  }
  char *q = strchr(target, '?');
  if (q)
    *q++ = '\0';
  if (strcmp(target, "/token") != 0) {
    reply(fd, "404 Not Found", "", "{}");
    return;
  }
  char service[256], scope[1024];
  query_param(q, "service", service, sizeof service);
  query_param(q, "scope", scope, sizeof scope);

  /* Basic credentials, when configured. */
  char user[256] = "anonymous";
  const char *auth = strcasestr(req, "\r\nAuthorization: Basic ");
  if (auth) {
    char enc[1024], dec[1024] = "";
    sscanf(auth + 23, "%1023s", enc);
    int n = EVP_DecodeBlock((unsigned char *)dec, (unsigned char *)enc, (int)strlen(enc));
    if (n > 0) {
      dec[n] = '\0';
      char *colon = strchr(dec, ':');
      if (colon) {
        *colon = '\0';
        if (opt_user && strcmp(dec, opt_user) == 0 && strcmp(colon + 1, opt_pass) == 0)
          snprintf(user, sizeof user, "%s", dec);
        else
          snprintf(user, sizeof user, "BAD:%s", dec);
      }
    }
  }
  if (opt_user && strcmp(user, opt_user) != 0) {
    logf_("token service=%s scope=%s user=%s granted=no", service, scope, user);
    reply(fd, "401 Unauthorized", "WWW-Authenticate: Basic realm=\"cab-test-issuer\"\r\n",
          "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"bad credentials\"}]}");
    return;
  }
  if (strcmp(service, opt_service) != 0) {
    logf_("token service=%s scope=%s user=%s granted=no", service, scope, user);
    reply(fd, "400 Bad Request", "", "{\"errors\":[{\"code\":\"DENIED\",\"message\":\"service\"}]}");
    return;
  }
  /* scope: repository:NAME:ACTIONS */
  char access[1400] = "[]", name[600] = "", actions[256] = "";
  if (strncmp(scope, "repository:", 11) == 0) {
    char *last = strrchr(scope, ':');
    if (last && last > scope + 11) {
      snprintf(name, sizeof name, "%.*s", (int)(last - scope - 11), scope + 11);
      /* grant what was asked among pull and push */
      char granted[256] = "";
      char acts[256];
      snprintf(acts, sizeof acts, "%s", last + 1);
      for (char *save = NULL, *t = strtok_r(acts, ",", &save); t; t = strtok_r(NULL, ",", &save))
        if (strcmp(t, "pull") == 0 || strcmp(t, "push") == 0) {
          size_t l = strlen(granted);
          snprintf(granted + l, sizeof granted - l, "%s\"%s\"", l ? "," : "", t);
        }
      snprintf(actions, sizeof actions, "%s", granted);
      snprintf(access, sizeof access,
               "[{\"type\":\"repository\",\"name\":\"%s\",\"actions\":[%s]}]", name, granted);
    }
  }
  time_t now = time(NULL);
  unsigned char rnd[12];
  RAND_bytes(rnd, sizeof rnd);
  char jti[40];
  b64(rnd, sizeof rnd, jti, 1);
  char claims[3000];
  snprintf(claims, sizeof claims,
           "{\"iss\":\"%s\",\"sub\":\"%s\",\"aud\":\"%s\",\"exp\":%lld,\"nbf\":%lld,\"iat\":%lld,"
           "\"jti\":\"%s\",\"access\":%s}",
           opt_issuer, user, service, (long long)now + 300, (long long)now - 10, (long long)now,
           jti, access);
  static char token[20000], body[41000];
  if (sign_jwt(claims, token, sizeof token) < 0) {
    reply(fd, "500 Internal Server Error", "", "{}");
    return;
  }
  snprintf(body, sizeof body, "{\"token\":\"%s\",\"access_token\":\"%s\",\"expires_in\":300}",
           token, token);
  logf_("token service=%s scope=%s user=%s granted=%s", service, scope, user,
        actions[0] ? actions : "none");
  reply(fd, "200 OK", "", body);
}

int
main(int argc, char **argv)
{
  const char *keyfile = NULL, *certfile = NULL, *portfile = NULL;
  for (int i = 1; i + 1 < argc; i += 2) {
    const char *k = argv[i], *v = argv[i + 1];
    if (!strcmp(k, "--key")) keyfile = v;
    else if (!strcmp(k, "--cert")) certfile = v;
    else if (!strcmp(k, "--issuer")) opt_issuer = v;
    else if (!strcmp(k, "--service")) opt_service = v;
    else if (!strcmp(k, "--port-file")) portfile = v;
    else if (!strcmp(k, "--log")) opt_log = v;
    else if (!strcmp(k, "--user")) opt_user = v;
    else if (!strcmp(k, "--password")) opt_pass = v;
    else die("unknown option");
  }
  if (!keyfile || !certfile || !opt_issuer || !opt_service || !portfile)
    die("usage: token-issuer --key K --cert C --issuer I --service S --port-file F [--log L] "
        "[--user U --password P]");
  if (opt_user && !opt_pass)
    die("--user needs --password");
  FILE *f = fopen(keyfile, "r");
  if (!f || !(key = PEM_read_PrivateKey(f, NULL, NULL, NULL)))
    die("cannot read the key");
  fclose(f);
  f = fopen(certfile, "r");
  X509 *cert = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
  if (!cert)
    die("cannot read the certificate");
  fclose(f);
  unsigned char *der = NULL;
  int dlen = i2d_X509(cert, &der);
  if (dlen <= 0 || (size_t)dlen * 4 / 3 + 4 >= sizeof x5c)
    die("certificate too large");
  b64(der, (size_t)dlen, x5c, 0);

  signal(SIGPIPE, SIG_IGN);
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t alen = sizeof a;
  if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 64) < 0 ||
      getsockname(s, (struct sockaddr *)&a, &alen) < 0)
    die("cannot listen on 127.0.0.1");
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp", portfile);
  f = fopen(tmp, "w");
  if (!f)
    die("cannot write the port file");
  fprintf(f, "%d\n", ntohs(a.sin_port));
  fclose(f);
  rename(tmp, portfile);
  for (;;) {
    int c = accept(s, NULL, NULL);
    if (c < 0)
      continue;
    struct timeval tv = {5, 0};
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    handle(c);
    close(c);
  }
}
