/* What can be wrong with a cell's setup is found before its agent starts,
 * and stops the run with one line (exit 125) instead of being recorded as
 * a benchmark result: the agent's command missing from the root it runs
 * in, a cassette that is not there or was recorded for another cell, a
 * model endpoint that cannot be reached. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/lazy_curl.h"
#include "common/lazy_mhd.h"
#include "runner/cell/cell_internal.h"
#include "runner/model_api/cassette.h"
#include "runner/proxy/redact.h"

/* PATH (absolute) names an executable regular file in the tree at ROOT_FD,
 * symlinks resolved inside that tree as they will be once it is /. */
static bool
executable_in(int root_fd, const char *path)
{
  struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT};
  cleanup_close int fd = (int)syscall(SYS_openat2, root_fd, path, &how, sizeof how);
  struct stat st;
  return fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111);
}

static bool
under_bind(const char *path, const struct cab_bind *binds, size_t n_binds)
{
  for (size_t i = 0; i < n_binds; i++) {
    size_t l = strlen(binds[i].dst);
    if (strncmp(path, binds[i].dst, l) == 0 && (path[l] == '/' || path[l] == '\0'))
      return true;
  }
  return false;
}

int
cab_cell_check_argv0(const struct cell *c, const char *argv0, const char *path_env,
                     const struct cab_bind *binds, size_t n_binds, cab_error *err)
{
  const char *root = c->rootfs[0] ? c->rootfs : "/";
  cleanup_close int root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0)
    return 0; /* the sandbox will say what is wrong with it */
  /* execvp's rules: a name with a slash is not searched (a relative one is
   * the workdir's: the task's files, not checked here). */
  if (strchr(argv0, '/')) {
    if (argv0[0] != '/' || under_bind(argv0, binds, n_binds) || executable_in(root_fd, argv0))
      return 0;
  } else {
    const char *p = path_env ? path_env : "/bin:/usr/bin";
    while (*p) {
      size_t l = strcspn(p, ":");
      char cand[PATH_MAX];
      bool fits = (size_t)snprintf(cand, sizeof cand, "%.*s/%s", (int)l, p, argv0) < sizeof cand;
      /* An empty or relative PATH entry is the workdir's: not checked. */
      if (l > 0 && p[0] == '/' && fits &&
          (under_bind(cand, binds, n_binds) || executable_in(root_fd, cand)))
        return 0;
      p += l + (p[l] == ':');
    }
  }
  char where[700];
  if (c->rootfs[0])
    snprintf(where, sizeof where, "image %s", c->image_ref);
  else
    snprintf(where, sizeof where, "the host's / (--host-rootfs)");
  return cab_error_set(err, 0, "--tui %s: the agent's command '%s' is not in %s (PATH=%s); "
                                    "install it there, or run in an image that has it",
                       c->adapter->tui, argv0, where, path_env ? path_env : "");
}

/* --replay: readable, and recorded for this cell when it says what it was
 * recorded for. */
int
cab_cell_check_cassette(const struct cab_cell_options *o, const char *task_id, cab_error *err)
{
  /* The proxy answers from the cassette with libmicrohttpd: missing, it is
   * one line now, not an infra_error after the cell has started. */
  if (cab_mhd_load(err) < 0)
    return -1;
  struct cab_cassette *cas = NULL;
  if (cab_cassette_load(o->replay, &cas, err) < 0)
    return cab_error_prefix(err, "--replay");
  const char *want[3] = {o->tui, o->model, task_id};
  static const char *const keys[3] = {"tui", "model", "task_id"};
  static const char *const opts[3] = {"--tui", "--model", "--task"};
  int rc = 0;
  for (int i = 0; i < 3 && rc == 0; i++) {
    const char *had = cab_cassette_recorded_for(cas, keys[i]);
    if (had && strcmp(had, want[i]) != 0)
      rc = cab_error_set(err, 0, "--replay %s: recorded for %s %s, not %s %s (its answers "
                                 "would be scored as this cell's); replay it with %s %s or "
                                 "record one for this cell",
                         o->replay, opts[i], had, opts[i], want[i], opts[i], had);
  }
  cab_cassette_free(cas);
  return rc;
}

/* The answer's status line and headers are all it takes: the first byte
 * of the body ends the transfer (a model list can be megabytes). */
static size_t
stop_at_body(char *p, size_t size, size_t n, void *ctx)
{
  (void)p;
  (void)size;
  (void)n;
  (void)ctx;
  return 0;
}

/* One GET of the endpoint's model list: any HTTP answer (even 401 or 404:
 * not every endpoint lists models) shows it is there; a refused or timed
 * out connection, an unknown host or a TLS failure is a setup problem.  No
 * key is sent: reachability needs none.  Costs one round trip per cell. */
int
cab_cell_check_endpoint(const char *endpoint, cab_error *err)
{
  size_t len = strlen(endpoint);
  if (len > 0 && endpoint[len - 1] == '/')
    len--;
  char url[2048];
  if ((size_t)snprintf(url, sizeof url, "%.*s/models", (int)len, endpoint) >= sizeof url)
    return cab_error_set(err, 0, "--endpoint %.100s...: too long", endpoint);
  /* The probe needs libcurl and the proxy libmicrohttpd: missing, either is
   * one line now, not an infra_error after the cell has started. */
  if (cab_curl_load(err) < 0 || cab_mhd_load(err) < 0)
    return -1;
  CURL *e = curl_easy_init();
  if (e == NULL)
    return cab_error_set(err, ENOMEM, "--endpoint %s: start a request", endpoint);
  char errbuf[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(e, CURLOPT_URL, url);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, stop_at_body);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 20000L);
  CURLcode rc = curl_easy_perform(e);
  curl_easy_cleanup(e);
  if (rc == CURLE_OK || rc == CURLE_WRITE_ERROR) /* answered (stop_at_body) */
    return 0;
  return cab_error_set(err, 0, "--endpoint %s: the model endpoint cannot be reached (GET %s: %s); "
                               "check the URL and that the server is up",
                       endpoint, url, errbuf[0] ? errbuf : curl_easy_strerror(rc));
}

/* The key is replaced by the placeholder in everything the cell writes
 * (cell_redact.c, the proxy's answers), matched anywhere in any letter
 * case: a key of a few characters would match ordinary text and corrupt
 * the record ("x" is in "max_turns").  Local servers take any key, so a
 * longer one costs nothing. */
int
cab_cell_check_key(const char *key_env, cab_error *err)
{
  const char *key = key_env ? getenv(key_env) : NULL;
  size_t n = key ? strlen(key) : 0;
  if (n == 0 || n >= CAB_REDACT_MIN_SECRET)
    return 0;
  return cab_error_set(err, 0,
                       "--key-env %s: the key is %zu character%s long; cab removes it from "
                       "everything a cell writes, and a key under %d characters would match "
                       "ordinary text: use a longer key (a local server accepts any)",
                       key_env, n, n == 1 ? "" : "s", CAB_REDACT_MIN_SECRET);
}
