#include "sandbox/limits.h"

const char *
cab_limit_mech_name(enum cab_limit_mech m)
{
  switch (m) {
  case CAB_MECH_CGROUP_V2: return "cgroup-v2";
  case CAB_MECH_CGROUP_V1: return "cgroup-v1";
  case CAB_MECH_RLIMIT: return "rlimit";
  case CAB_MECH_NONE: break;
  }
  return "none";
}
