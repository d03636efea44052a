#include "common/lazy_curl.h"

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>

#include "common/lazy_lib.h"

#define CAB_CURL_SYM(n) {"curl_" #n, offsetof(struct cab_curl_api, n)},
static const struct cab_lazy_sym curl_syms[] = {CAB_CURL_FUNCS(CAB_CURL_SYM)};

/* Written once, under pthread_once, and only read after: the process's one
 * copy of libcurl, like the library's own global state. */
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static struct {
  struct cab_curl_api api;
  int ok;
  char why[512];
} curl_loaded;

static void
load_curl(void)
{
  if (cab_lazy_open("libcurl.so.4", "apt-get install libcurl4 (make deps)", curl_syms,
                    sizeof curl_syms / sizeof *curl_syms, &curl_loaded.api, curl_loaded.why,
                    sizeof curl_loaded.why) < 0)
    return;
  if (curl_loaded.api.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    snprintf(curl_loaded.why, sizeof curl_loaded.why, "libcurl.so.4: curl_global_init failed");
    return;
  }
  curl_loaded.ok = 1;
}

int
cab_curl_load(cab_error *err)
{
  pthread_once(&curl_once, load_curl);
  if (!curl_loaded.ok)
    return cab_error_set(err, 0, "%s", curl_loaded.why);
  return 0;
}

const struct cab_curl_api *
cab_curl(void)
{
  pthread_once(&curl_once, load_curl);
  if (!curl_loaded.ok) {
    /* A use no cab_curl_load() guarded: still one line, still 125. */
    fprintf(stderr, "cab: %s\n", curl_loaded.why);
    _exit(CAB_EXIT_RUNNER);
  }
  return &curl_loaded.api;
}
