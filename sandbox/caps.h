/* Capability sets, as a 64-bit mask indexed by CAP_* numbers. */
#ifndef CAB_SANDBOX_CAPS_H
#define CAB_SANDBOX_CAPS_H

#include <stdint.h>

#include "common/error.h"

/* Docker's default set: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID
 * SETPCAP NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP. */
uint64_t cab_caps_default(void);

/* Apply "--cap-add X" / "--cap-drop X" (X a name, with or without CAP_, or
 * ALL) to *MASK. */
int cab_caps_adjust(uint64_t *mask, const char *name, int add, cab_error *err);

/* In the child: bounding set, then permitted/effective/inheritable and
 * ambient, cut to MASK.  Returns -errno; no allocation. */
int cab_caps_apply(uint64_t mask);

/* "CAP_CHOWN,CAP_KILL" style rendering for reports; BUF gets NUL-terminated. */
void cab_caps_format(uint64_t mask, char *buf, unsigned long size);

#endif
