/* Which host ids a sandbox runs as (sandbox.h). */
#include <unistd.h>

#include "sandbox/sandbox.h"

void
cab_sandbox_host_ids(const struct cab_sandbox_config *cfg, uid_t *uid, gid_t *gid,
                     bool *mapped_away)
{
  /* Image sandboxes keep root's ids: their rootfs cache is root's and 0700,
   * and nothing of the host's tree is in them. */
  bool away = geteuid() == 0 && cfg->host_rootfs;
  *uid = away ? CAB_SANDBOX_NOBODY : geteuid();
  *gid = away ? CAB_SANDBOX_NOBODY : getegid();
  if (mapped_away)
    *mapped_away = away;
}
