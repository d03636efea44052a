/* libmicrohttpd, opened at first use (common/lazy_lib.h): only the model
 * proxy and `cab model-server` serve HTTP, so a cell without a model, and
 * every other command, never maps it and the GnuTLS it pulls in.
 *
 * Include this instead of <microhttpd.h>.  Call cab_mhd_load() where a use
 * begins (it fills ERR with one line when the library is missing); the
 * MHD_* calls below then go through the table unchanged in spelling.  A call
 * before any cab_mhd_load() still loads, and ends the process with the same
 * line (exit 125) if that fails. */
#ifndef CAB_COMMON_LAZY_MHD_H
#define CAB_COMMON_LAZY_MHD_H

#include <microhttpd.h>

#include "common/error.h"

#define CAB_MHD_FUNCS(X)                                                                       \
  X(start_daemon) X(stop_daemon) X(get_connection_values) X(lookup_connection_value)            \
  X(queue_response) X(create_response_from_callback) X(create_response_from_buffer)            \
  X(destroy_response) X(add_response_header) X(get_connection_info) X(set_connection_option)

/* One pointer per function, typed as microhttpd.h declares it. */
#define CAB_MHD_MEMBER(n) __typeof__(MHD_##n) *n;
struct cab_mhd_api {
  CAB_MHD_FUNCS(CAB_MHD_MEMBER)
};
#undef CAB_MHD_MEMBER

/* Open libmicrohttpd.so.12, once per process (thread-safe).  Returns 0, or
 * -1 with "libmicrohttpd.so.12 not found: apt-get install libmicrohttpd12
 * (make deps)" in ERR. */
int cab_mhd_load(cab_error *err);

/* The table (loads it first if no one has). */
const struct cab_mhd_api *cab_mhd(void);

#define MHD_start_daemon (cab_mhd()->start_daemon)
#define MHD_stop_daemon (cab_mhd()->stop_daemon)
#define MHD_get_connection_values (cab_mhd()->get_connection_values)
#define MHD_lookup_connection_value (cab_mhd()->lookup_connection_value)
#define MHD_queue_response (cab_mhd()->queue_response)
#define MHD_create_response_from_callback (cab_mhd()->create_response_from_callback)
#define MHD_create_response_from_buffer (cab_mhd()->create_response_from_buffer)
#define MHD_destroy_response (cab_mhd()->destroy_response)
#define MHD_add_response_header (cab_mhd()->add_response_header)
#define MHD_get_connection_info (cab_mhd()->get_connection_info)
#define MHD_set_connection_option (cab_mhd()->set_connection_option)

#endif
