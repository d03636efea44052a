/* The wall clock as cab records it: nanoseconds since the epoch, and the
 * ISO-8601 form cell.json and the sweep journal write.  Here, not in a
 * cell's trace, so that a sweep can stamp its journal without reaching
 * into the cell. */
#ifndef CAB_COMMON_WALLCLOCK_H
#define CAB_COMMON_WALLCLOCK_H

#include <stdint.h>

/* Wall clock now, ns since the epoch. */
int64_t cab_wall_ns(void);

/* ISO-8601 UTC with microseconds, e.g. 2026-06-17T06:30:21.091487Z. */
void cab_iso8601_us(int64_t ns, char *buf, unsigned long size);

#endif
