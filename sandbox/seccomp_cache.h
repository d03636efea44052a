/* A cache of compiled seccomp programs, as crun keeps one: building the
 * default policy with libseccomp costs tens of milliseconds, loading a
 * cached program costs one read.  The key holds everything the program
 * depends on (cab's binary, libseccomp's version, the profile's bytes and the
 * capability set), stored in full in the entry and compared on load, so a
 * hash collision can only cause a miss. */
#ifndef CAB_SANDBOX_SECCOMP_CACHE_H
#define CAB_SANDBOX_SECCOMP_CACHE_H

#include <linux/filter.h>
#include <stddef.h>

#include "common/error.h"
#include "sandbox/seccomp.h"

/* Build the key for CFG into a malloc'd buffer.  Returns -1 (no cache) when
 * the key cannot be formed, e.g. an unreadable profile file. */
int cab_seccomp_cache_key(const struct cab_seccomp_config *cfg, char **key, size_t *key_len);

/* Look KEY up: on a hit returns a malloc'd instruction array and its length. */
int cab_seccomp_cache_get(const char *key, size_t key_len, struct sock_filter **insns,
                          size_t *n_insns);

/* Store; failures are ignored (the cache is an optimisation). */
void cab_seccomp_cache_put(const char *key, size_t key_len, const struct sock_filter *insns,
                           size_t n_insns);

#endif
