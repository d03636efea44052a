/* Capabilities: computed as a mask in the parent, applied with raw prctl and
 * capset in the child (as bubblewrap and crun do), libcap only for names. */
#include "sandbox/caps.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define BIT(c) (UINT64_C(1) << (c))

uint64_t
cab_caps_default(void)
{
  return BIT(CAP_CHOWN) | BIT(CAP_DAC_OVERRIDE) | BIT(CAP_FOWNER) | BIT(CAP_FSETID) |
         BIT(CAP_KILL) | BIT(CAP_SETGID) | BIT(CAP_SETUID) | BIT(CAP_SETPCAP) |
         BIT(CAP_NET_BIND_SERVICE) | BIT(CAP_NET_RAW) | BIT(CAP_SYS_CHROOT) | BIT(CAP_MKNOD) |
         BIT(CAP_AUDIT_WRITE) | BIT(CAP_SETFCAP);
}

static int
last_cap(void)
{
  /* The running kernel may know more capabilities than our headers. */
  int last = CAP_LAST_CAP;
  FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
  if (f) {
    if (fscanf(f, "%d", &last) != 1)
      last = CAP_LAST_CAP;
    fclose(f);
  }
  return last > 63 ? 63 : last;
}

int
cab_caps_adjust(uint64_t *mask, const char *name, int add, cab_error *err)
{
  if (strcasecmp(name, "ALL") == 0) {
    uint64_t all = 0;
    for (int c = 0; c <= last_cap(); c++)
      all |= BIT(c);
    *mask = add ? all : 0;
    return 0;
  }
  char full[64];
  if (strncasecmp(name, "CAP_", 4) == 0)
    snprintf(full, sizeof full, "%s", name);
  else
    snprintf(full, sizeof full, "CAP_%s", name);
  for (char *p = full; *p; p++)
    if (*p >= 'A' && *p <= 'Z')
      *p = (char)(*p - 'A' + 'a');
  cap_value_t value;
  if (cap_from_name(full, &value) < 0 || value < 0 || value > 63)
    return cab_error_set(err, 0,
                         "--cap-%s %s: unknown capability; use a name like NET_RAW or ALL",
                         add ? "add" : "drop", name);
  if (add)
    *mask |= BIT(value);
  else
    *mask &= ~BIT(value);
  return 0;
}

int
cab_caps_apply(uint64_t mask)
{
  int last = last_cap();
  /* The bounding set first: dropping needs CAP_SETPCAP, still held here. */
  for (int c = 0; c <= last; c++) {
    if (mask & BIT(c))
      continue;
    if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
      return -errno;
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
    return -errno;
  struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[2];
  memset(data, 0, sizeof data);
  data[0].effective = data[0].permitted = (uint32_t)mask;
  data[1].effective = data[1].permitted = (uint32_t)(mask >> 32);
  /* Inheritable stays empty, so nothing leaks into ambient sets later. */
  if (syscall(SYS_capset, &hdr, data) < 0)
    return -errno;
  return 0;
}

void
cab_caps_format(uint64_t mask, char *buf, unsigned long size)
{
  size_t used = 0;
  buf[0] = '\0';
  for (int c = 0; c < 64; c++) {
    if (!(mask & BIT(c)))
      continue;
    char *name = cap_to_name(c);
    int n = snprintf(buf + used, size - used, "%s%s", used ? "," : "", name ? name : "?");
    cap_free(name);
    if (n < 0 || (size_t)n >= size - used)
      break;
    used += (size_t)n;
  }
}
