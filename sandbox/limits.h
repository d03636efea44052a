/* Resource limits asked for, and the mechanism that actually enforced each. */
#ifndef CAB_SANDBOX_LIMITS_H
#define CAB_SANDBOX_LIMITS_H

#include <stdint.h>

struct cab_limits {
  int64_t memory_bytes;  /* 0: unlimited */
  int64_t pids;          /* 0: unlimited */
  double cpus;           /* 0: unlimited; 1.5 = one and a half cores */
  double timeout_s;      /* 0: none */
  int64_t tmpfs_bytes;   /* size of /tmp; 0: default */
};

/* Which mechanism enforced a limit.  Reported verbatim in --result. */
enum cab_limit_mech {
  CAB_MECH_NONE = 0,    /* not enforced (or not asked for) */
  CAB_MECH_CGROUP_V2,
  CAB_MECH_CGROUP_V1,
  CAB_MECH_RLIMIT,      /* rlimits, plus the supervisor's RSS watchdog for memory */
};

const char *cab_limit_mech_name(enum cab_limit_mech m);


/* Without a cgroup, RLIMIT_DATA backs up the memory watchdog per process.
 * Not in an AddressSanitizer build: ASan's shadow memory already counts
 * against RLIMIT_DATA, so the sandbox's own (instrumented) code could no
 * longer map memory between setting the limit and exec; the watchdog alone
 * holds memory there, and the report says so. */
#if defined(__SANITIZE_ADDRESS__)
#define CAB_RLIMIT_DATA_BACKSTOP 0
#define CAB_MEMORY_BACKSTOP_WORDS ""
#else
#define CAB_RLIMIT_DATA_BACKSTOP 1
#define CAB_MEMORY_BACKSTOP_WORDS " and RLIMIT_DATA"
#endif

#endif
