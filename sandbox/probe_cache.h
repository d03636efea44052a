/* The answers of the host probes that succeeded (a user namespace can be
 * made and used; an overlay can be mounted in one), remembered per boot so
 * that every run does not fork a probe child for them (≈1.5 ms each).
 *
 * A key says everything an answer depends on: the probe, the boot
 * (/proc/sys/kernel/random/boot_id), the kernel release, the uid and gid,
 * cab's user and mount namespaces, the sysctls that restrict user
 * namespaces, and for the overlay the file system type of the upper
 * layer's directory.  Only successes are kept: a host that was failing and
 * is fixed is probed again at once, and a host that changed one of those
 * (a sysctl, a reboot, another namespace) gets a new key.
 *
 * The file: $XDG_RUNTIME_DIR/cab/host-probes, else host-probes in the
 * user's cache directory (common/userdir.h: ${XDG_CACHE_HOME:-~/.cache}/cab,
 * or $CAB_HOME/cache without a usable HOME), one key a line, written
 * atomically with mode 0600.  It is trusted only when fstat says it is a
 * regular file owned by the caller's uid that no one else may write: a
 * planted or foreign cache is ignored (and replaced on the next put). */
#ifndef CAB_SANDBOX_PROBE_CACHE_H
#define CAB_SANDBOX_PROBE_CACHE_H

#include <stdbool.h>
#include <stddef.h>

#define CAB_PROBE_KEY_MAX 512

/* The key of PROBE ("userns", "overlay") on this host now; FS_DIR, or
 * NULL, is the directory whose file system type the answer depends on.
 * -1 when the host does not say (no boot_id...): then nothing is cached. */
int cab_probe_cache_key(const char *probe, const char *fs_dir, char *key, size_t size);

/* The cache file's path (its directory made if missing); -1 when neither
 * XDG_RUNTIME_DIR nor a usable cache directory says where. */
int cab_probe_cache_path(char *buf, size_t size);

/* Whether KEY is in the (trusted) cache file at PATH / at the default path. */
bool cab_probe_cache_hit_in(const char *path, const char *key);
bool cab_probe_cache_hit(const char *key);

/* Remember KEY (a success) in PATH / the default path: best effort, the
 * lines of other boots dropped.  Creates the directory 0700. */
void cab_probe_cache_put_in(const char *path, const char *key);
void cab_probe_cache_put(const char *key);

#endif
