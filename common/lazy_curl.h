/* libcurl, opened at first use (common/lazy_lib.h): a cell without a live
 * model endpoint, and every command but pull, never maps libcurl and the
 * TLS, Kerberos and LDAP libraries it pulls in.
 *
 * Include this instead of <curl/curl.h>.  Call cab_curl_load() where a use
 * begins (it fills ERR with one line when libcurl is missing and runs
 * curl_global_init once); the curl_* calls below then go through the table
 * unchanged in spelling.  A call before any cab_curl_load() still loads, and
 * ends the process with the same line (exit 125) if that fails. */
#ifndef CAB_COMMON_LAZY_CURL_H
#define CAB_COMMON_LAZY_CURL_H

#include <curl/curl.h>

#include "common/error.h"

#define CAB_CURL_FUNCS(X)                                                                      \
  X(global_init) X(easy_init) X(easy_setopt) X(easy_perform) X(easy_cleanup) X(easy_getinfo)     \
  X(easy_reset) X(easy_strerror) X(easy_escape) X(free) X(multi_init) X(multi_add_handle)        \
  X(multi_remove_handle) X(multi_perform) X(multi_poll) X(multi_cleanup) X(multi_info_read)      \
  X(multi_setopt) X(multi_strerror) X(share_init) X(share_setopt) X(share_cleanup)               \
  X(slist_append) X(slist_free_all) X(url) X(url_cleanup) X(url_get) X(url_set)

/* One pointer per function, typed as curl.h declares it. */
#define CAB_CURL_MEMBER(n) __typeof__(curl_##n) *n;
struct cab_curl_api {
  CAB_CURL_FUNCS(CAB_CURL_MEMBER)
};
#undef CAB_CURL_MEMBER

/* Open libcurl.so.4 and run curl_global_init, once per process (thread-safe).
 * Returns 0, or -1 with "libcurl.so.4 not found: apt-get install libcurl4
 * (make deps)" in ERR. */
int cab_curl_load(cab_error *err);

/* The table (loads it first if no one has). */
const struct cab_curl_api *cab_curl(void);

/* curl.h's type-checking macros call the linked functions: replaced. */
#undef curl_easy_setopt
#undef curl_easy_getinfo
#undef curl_share_setopt
#undef curl_multi_setopt
#define curl_easy_init (cab_curl()->easy_init)
#define curl_easy_setopt (cab_curl()->easy_setopt)
#define curl_easy_perform (cab_curl()->easy_perform)
#define curl_easy_cleanup (cab_curl()->easy_cleanup)
#define curl_easy_getinfo (cab_curl()->easy_getinfo)
#define curl_easy_reset (cab_curl()->easy_reset)
#define curl_easy_strerror (cab_curl()->easy_strerror)
#define curl_easy_escape (cab_curl()->easy_escape)
#define curl_free (cab_curl()->free)
#define curl_multi_init (cab_curl()->multi_init)
#define curl_multi_add_handle (cab_curl()->multi_add_handle)
#define curl_multi_remove_handle (cab_curl()->multi_remove_handle)
#define curl_multi_perform (cab_curl()->multi_perform)
#define curl_multi_poll (cab_curl()->multi_poll)
#define curl_multi_cleanup (cab_curl()->multi_cleanup)
#define curl_multi_info_read (cab_curl()->multi_info_read)
#define curl_multi_setopt (cab_curl()->multi_setopt)
#define curl_multi_strerror (cab_curl()->multi_strerror)
#define curl_share_init (cab_curl()->share_init)
#define curl_share_setopt (cab_curl()->share_setopt)
#define curl_share_cleanup (cab_curl()->share_cleanup)
#define curl_slist_append (cab_curl()->slist_append)
#define curl_slist_free_all (cab_curl()->slist_free_all)
#define curl_url (cab_curl()->url)
#define curl_url_cleanup (cab_curl()->url_cleanup)
#define curl_url_get (cab_curl()->url_get)
#define curl_url_set (cab_curl()->url_set)

#endif
