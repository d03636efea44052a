/* Registry authentication: credentials from the user's existing files, and
 * the answer to a WWW-Authenticate challenge (Bearer token or Basic). */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/strfmt.h"
#include "common/cleanup.h"
#include "common/fsutil.h"
#include "rootfs/manifest_json.h"
#include "rootfs/registry_internal.h"

#define TOKEN_MAX (64 << 10)

/* --- credentials ------------------------------------------------------------- */

static int
decode_auth(const char *b64, char *user, size_t usize, char *pass, size_t psize)
{
  size_t len = strlen(b64);
  if (len == 0 || len > 4096 || len % 4 != 0)
    return -1;
  unsigned char out[3200];
  int n = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)len);
  if (n < 0)
    return -1;
  if (len >= 1 && b64[len - 1] == '=')
    n--;
  if (len >= 2 && b64[len - 2] == '=')
    n--;
  out[n] = '\0';
  char *colon = memchr(out, ':', (size_t)n);
  if (colon == NULL || memchr(out, '\0', (size_t)n) != NULL)
    return -1;
  *colon = '\0';
  /* A cut user or password is no credential. */
  int rc = cab_snprintf_checked(user, usize, "%s", (char *)out) == 0 &&
                   cab_snprintf_checked(pass, psize, "%s", colon + 1) == 0
               ? 0
               : -1;
  explicit_bzero(out, sizeof out);
  return rc;
}

/* Look KEY up in the "auths" of the JSON in PATH.  1 found, 0 not, -1 error. */
static int
creds_from_entry(cab_registry *r, const cJSON *entry, const char *path, const char *key,
                 cab_error *err)
{
  const char *auth = cab_json_str(entry, "auth");
  const char *user = cab_json_str(entry, "username");
  const char *pass = cab_json_str(entry, "password");
  if (auth && *auth) {
    if (decode_auth(auth, r->user, sizeof r->user, r->pass, sizeof r->pass) < 0)
      return cab_error_set(err, 0, "%s: the \"auth\" of \"%s\" is not base64 of user:password",
                           path, key);
  } else if (user && pass && strlen(user) < sizeof r->user && strlen(pass) < sizeof r->pass) {
    snprintf(r->user, sizeof r->user, "%s", user);
    snprintf(r->pass, sizeof r->pass, "%s", pass);
  } else {
    return 0; /* identitytoken-only or credential-helper entries are not supported */
  }
  r->have_creds = true;
  cab_snprintf_cut(r->creds_source, sizeof r->creds_source, "%s (\"%s\")", path, key); /* a label */
  return 1;
}

static int
creds_from_file(cab_registry *r, const char *path, cab_error *err)
{
  cleanup_free char *buf = NULL;
  size_t len;
  cab_error ignore = {0};
  if (cab_read_file_at(AT_FDCWD, path, 1 << 20, &buf, &len, &ignore) < 0)
    return 0;
  cJSON *root = cab_json_parse_strict(buf, len, path, err);
  explicit_bzero(buf, len);
  if (root == NULL)
    return -1;
  const cJSON *auths = cJSON_GetObjectItemCaseSensitive(root, "auths");
  const char *d = r->ref.domain;
  bool hub = strcmp(d, "docker.io") == 0;
  /* Most specific first: containers' auth.json allows "host/namespace" keys. */
  char keys[16][600];
  size_t nk = 0;
  char ns[600];
  if (cab_snprintf_checked(ns, sizeof ns, "%s/%s", d, r->ref.path) < 0) {
    cJSON_Delete(root); /* no key that long: a cut one could be another repository's */
    return 0;
  }
  for (char *slash; nk < 8 && (slash = strrchr(ns, '/')) != NULL; *slash = '\0')
    snprintf(keys[nk++], sizeof keys[0], "%s", ns);
  snprintf(keys[nk++], sizeof keys[0], "%s", d);
  snprintf(keys[nk++], sizeof keys[0], "https://%s", d);
  snprintf(keys[nk++], sizeof keys[0], "http://%s", d);
  snprintf(keys[nk++], sizeof keys[0], "https://%s/v1/", d);
  snprintf(keys[nk++], sizeof keys[0], "https://%s/v2/", d);
  if (hub) {
    snprintf(keys[nk++], sizeof keys[0], "https://index.docker.io/v1/");
    snprintf(keys[nk++], sizeof keys[0], "index.docker.io");
    snprintf(keys[nk++], sizeof keys[0], "registry-1.docker.io");
  }
  int ret = 0;
  for (size_t i = 0; i < nk && ret == 0; i++) {
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(auths, keys[i]);
    if (e)
      ret = creds_from_entry(r, e, path, keys[i], err);
  }
  cJSON_Delete(root);
  return ret;
}

int
cab_registry_load_creds(cab_registry *r, cab_error *err)
{
  char paths[3][600];
  int n = 0;
  const char *env;
  int fit = 0;
  if ((env = getenv("REGISTRY_AUTH_FILE")) && *env)
    fit |= cab_path_printf(paths[n++], sizeof paths[0], err, "%s", env);
  else if ((env = getenv("XDG_RUNTIME_DIR")) && *env)
    fit |= cab_path_printf(paths[n++], sizeof paths[0], err, "%s/containers/auth.json", env);
  if ((env = getenv("DOCKER_CONFIG")) && *env)
    fit |= cab_path_printf(paths[n++], sizeof paths[0], err, "%s/config.json", env);
  else if ((env = getenv("HOME")) && *env)
    fit |= cab_path_printf(paths[n++], sizeof paths[0], err, "%s/.docker/config.json", env);
  if (fit < 0)
    return cab_error_prefix(err, "registry credentials");
  for (int i = 0; i < n; i++) {
    int r2 = creds_from_file(r, paths[i], err);
    if (r2 < 0)
      return -1;
    if (r2 > 0)
      return 0;
  }
  return 0;
}

/* --- challenges -------------------------------------------------------------- */

struct challenge {
  char scheme[16];
  char realm[1024], service[1024], scope[1024]; /* each as long as a parsed value */
};

static const char *
skip_ws(const char *p)
{
  while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
    p++;
  return p;
}

static bool
is_tok(char c)
{
  return isalnum((unsigned char)c) || strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Parse RFC 7235 challenges: scheme param="v", param=v, scheme2 ... */
static int
parse_challenges(const char *text, struct challenge *out, int max)
{
  int n = 0;
  const char *p = text;
  while (*p && n < max) {
    p = skip_ws(p);
    while (*p == ',')
      p = skip_ws(p + 1);
    const char *s = p;
    while (is_tok(*p))
      p++;
    if (p == s)
      break;
    struct challenge *c = &out[n++];
    memset(c, 0, sizeof *c);
    snprintf(c->scheme, sizeof c->scheme, "%.*s", (int)(p - s), s);
    for (;;) {
      p = skip_ws(p);
      while (*p == ',')
        p = skip_ws(p + 1);
      const char *k = p;
      while (is_tok(*p))
        p++;
      size_t klen = (size_t)(p - k);
      const char *q = skip_ws(p);
      if (klen == 0 || *q != '=') {
        p = k; /* the next challenge's scheme */
        break;
      }
      p = skip_ws(q + 1);
      char val[1024];
      size_t vl = 0;
      if (*p == '"') {
        for (p++; *p && *p != '"'; p++) {
          if (*p == '\\' && p[1])
            p++;
          if (vl < sizeof val - 1)
            val[vl++] = *p;
        }
        if (*p == '"')
          p++;
      } else {
        while (*p && *p != ',' && *p != ' ' && *p != '\n') {
          if (vl < sizeof val - 1)
            val[vl++] = *p;
          p++;
        }
      }
      val[vl] = '\0';
      if (klen == 5 && strncasecmp(k, "realm", 5) == 0)
        snprintf(c->realm, sizeof c->realm, "%s", val);
      else if (klen == 7 && strncasecmp(k, "service", 7) == 0)
        snprintf(c->service, sizeof c->service, "%s", val);
      else if (klen == 5 && strncasecmp(k, "scope", 5) == 0)
        snprintf(c->scope, sizeof c->scope, "%s", val);
    }
  }
  return n;
}

/* The registry picks the realm, so check where it sends us (SSRF). */
static int
check_realm(const cab_registry *r, const char *realm, cab_error *err)
{
  CURLU *u = curl_url();
  char *scheme = NULL, *host = NULL;
  int ret = 0;
  if (u == NULL || curl_url_set(u, CURLUPART_URL, realm, 0) != CURLUE_OK ||
      curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
      curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
    ret = cab_error_set(err, 0, "token realm '%.200s' is not a URL", realm);
  else if (strcmp(scheme, "https") != 0 && !(strcmp(scheme, "http") == 0 && r->insecure))
    ret = cab_error_set(err, 0, "token realm %.200s is not https (use --insecure for a test "
                                "registry)",
                        realm);
  else {
    struct in_addr a4;
    bool link_local = (inet_pton(AF_INET, host, &a4) == 1 &&
                       (ntohl(a4.s_addr) & 0xffff0000u) == 0xa9fe0000u) ||
                      strncasecmp(host, "[fe80:", 6) == 0 ||
                      strcasecmp(host, "metadata.google.internal") == 0;
    if (link_local)
      ret = cab_error_set(err, 0, "token realm %.200s points at a link-local address; refused",
                          realm);
  }
  curl_free(scheme);
  curl_free(host);
  curl_url_cleanup(u);
  return ret;
}

static bool
token_chars_ok(const char *t)
{
  if (*t == '\0')
    return false;
  for (; *t; t++)
    if (!isalnum((unsigned char)*t) && strchr("-._~+/=", *t) == NULL)
      return false;
  return true;
}

static int
set_auth_header(cab_registry *r, const char *scheme, const char *value, cab_error *err)
{
  size_t len = strlen(scheme) + strlen(value) + 32;
  char *h = malloc(len);
  if (h == NULL)
    return cab_error_sys(err, "allocate");
  snprintf(h, len, "Authorization: %s %s", scheme, value);
  if (r->auth_header) {
    explicit_bzero(r->auth_header, strlen(r->auth_header));
    free(r->auth_header);
  }
  r->auth_header = h;
  r->auth_gen++;
  return 0;
}

static int
fetch_token(cab_registry *r, const struct challenge *c, cab_error *err)
{
  if (c->realm[0] == '\0')
    return cab_error_set(err, 0, "Bearer challenge without a realm");
  if (check_realm(r, c->realm, err) < 0)
    return -1;
  char scope[1100];
  if (c->scope[0])
    snprintf(scope, sizeof scope, "%s", c->scope);
  else
    snprintf(scope, sizeof scope, "repository:%s:pull", r->repo);
  char *es = curl_easy_escape(NULL, scope, 0), *sv = curl_easy_escape(NULL, c->service, 0);
  char url[4096];
  int fits = cab_snprintf_checked(url, sizeof url, "%s%cservice=%s&scope=%s", c->realm,
                                  strchr(c->realm, '?') ? '&' : '?', sv ? sv : "", es ? es : "");
  curl_free(es);
  curl_free(sv);
  if (fits < 0)
    return cab_error_set(err, ENAMETOOLONG, "token from %.200s: URL too long", c->realm);
  char what[300];
  snprintf(what, sizeof what, "token from %.200s", c->realm);
  struct xfer x;
  if (cab_xfer_init(&x, r, url, what, err) < 0)
    return -1;
  x.token_request = true;
  x.same_origin = false;
  x.mem_max = TOKEN_MAX;
  int ret = cab_xfer_run(&x, err);
  cJSON *root = NULL;
  if (ret == 0 && (root = cab_json_parse_strict(x.mem ? x.mem : "", x.mem_len, what, err)) == NULL)
    ret = -1;
  if (ret == 0) {
    const char *tok = cab_json_str(root, "token");
    if (tok == NULL || *tok == '\0')
      tok = cab_json_str(root, "access_token");
    if (tok == NULL || !token_chars_ok(tok))
      ret = cab_error_set(err, 0, "%s: the reply has no usable \"token\"", what);
    else
      ret = set_auth_header(r, "Bearer", tok, err);
  }
  cJSON_Delete(root);
  if (x.mem)
    explicit_bzero(x.mem, x.mem_len);
  cab_xfer_cleanup(&x);
  return ret;
}

int
cab_registry_authenticate(cab_registry *r, const char *www_auth, cab_error *err)
{
  struct challenge ch[8];
  int n = parse_challenges(www_auth, ch, 8);
  for (int i = 0; i < n; i++)
    if (strcasecmp(ch[i].scheme, "Bearer") == 0)
      return fetch_token(r, &ch[i], err);
  for (int i = 0; i < n; i++)
    if (strcasecmp(ch[i].scheme, "Basic") == 0) {
      if (!r->have_creds)
        return cab_error_set(err, 0,
                             "the registry wants a user name and password, and there are no "
                             "credentials for %s in $REGISTRY_AUTH_FILE or ~/.docker/config.json",
                             r->ref.domain);
      if (strncmp(r->origin, "http://", 7) == 0 && !r->insecure)
        return cab_error_set(err, 0, "refusing to send a password over plain http");
      char up[800];
      snprintf(up, sizeof up, "%s:%s", r->user, r->pass);
      unsigned char b64[1100];
      EVP_EncodeBlock(b64, (const unsigned char *)up, (int)strlen(up));
      explicit_bzero(up, sizeof up);
      int ret = set_auth_header(r, "Basic", (const char *)b64, err);
      explicit_bzero(b64, sizeof b64);
      return ret;
    }
  return cab_error_set(err, 0, "unsupported authentication challenge '%.200s'", www_auth);
}
