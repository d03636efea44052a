/* Without a memory cgroup, the supervisor samples the sandbox's memory and
 * kills the whole tree past the limit.  It counts what a memory cgroup would
 * charge and a hostile command can hold without any RSS of its own:
 *   anon    private memory (RssAnon of /proc/PID/status; pages still shared
 *           after fork count in each process);
 *   shmem   shared memory mapped by the tree (RssShmem: memfd, SysV and
 *           POSIX shm and tmpfs files while mapped; in each process that
 *           maps them);
 *   memfd   memfds held only by a file descriptor (never mapped, so in no
 *           RSS at all): each distinct inode's allocated blocks;
 *   tmpfs   the sandbox's own tmpfs mounts (/tmp, /dev/shm), by fstatfs, so a
 *           file written there and closed still counts.
 * A memfd or tmpfs file that is both held or stored and mapped counts twice:
 * the watchdog errs towards killing early, never late. */
#ifndef CAB_SANDBOX_WATCHDOG_H
#define CAB_SANDBOX_WATCHDOG_H

#include <stdint.h>
#include <sys/types.h>

/* How often the supervisor samples; reported with the mechanism. */
#define CAB_WATCHDOG_INTERVAL_MS 10

struct cab_mem_sample {
  int64_t anon, shmem, memfd, tmpfs;
  int64_t total;
};

/* Sample ROOT (the sandbox's init) and all its descendants, walked through
 * /proc/PID/task/TID/children, and the sandbox's tmpfs mounts, given as
 * fds (TMPFS_FDS, -1 for none: passed up by init, since /proc/ROOT/root is
 * closed to an unprivileged supervisor once init is non-dumpable). */
void cab_tree_memory(pid_t root, const int tmpfs_fds[2], struct cab_mem_sample *s);

#endif
