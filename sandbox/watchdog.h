/* Without a memory cgroup, the supervisor samples the sandbox's memory and
 * kills the whole tree past the limit. */
#ifndef CAB_SANDBOX_WATCHDOG_H
#define CAB_SANDBOX_WATCHDOG_H

#include <stdint.h>
#include <sys/types.h>

/* Sum of the anonymous resident memory (resident - shared pages) of ROOT and
 * all its descendants, walked through /proc/PID/task/TID/children. */
int64_t cab_tree_anon_rss(pid_t root);

#endif
