/* A cache of compiled seccomp programs, as crun keeps one: building the
 * default policy with libseccomp costs tens of milliseconds, loading a
 * cached program costs one read.  The key holds everything the program
 * depends on (cab's binary, libseccomp's version, the profile's bytes and the
 * capability set), stored in full in the entry and compared on load, so a
 * hash collision can only cause a miss.
 *
 * Where: the user's cache directory "seccomp" (common/userdir.h):
 * $XDG_CACHE_HOME/cab/seccomp, ~/.cache/cab/seccomp, or beside the store,
 * $CAB_HOME/cache/seccomp, when there is no usable HOME.  An entry is
 * loaded only from a regular file (not followed through a symlink) owned
 * by the caller and writable by no one else. */
#ifndef CAB_SANDBOX_SECCOMP_CACHE_H
#define CAB_SANDBOX_SECCOMP_CACHE_H

#include <linux/filter.h>
#include <stddef.h>

#include "common/error.h"
#include "sandbox/seccomp.h"

/* The cache's directory into BUF (made 0700 if missing); an error saying
 * what to set when there is none, and then every build compiles. */
int cab_seccomp_cache_dir(char *buf, size_t size, cab_error *err);

/* For cab doctor, into BUF (returned): the directory, or "none" with why
 * and what it costs. */
const char *cab_seccomp_cache_describe(char *buf, size_t size);

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
