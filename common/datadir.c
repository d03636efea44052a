/* The one data-file lookup (see datadir.h): a table of kinds, one order. */
#include "common/datadir.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsutil.h"

static const struct {
  const char *env;    /* explicit: the user's word */
  const char *source; /* below the source tree that holds build/cab */
  const char *share;  /* below <prefix>/share/cab */
} KINDS[] = {
    [CAB_DATA_ADAPTERS] = {"CAB_ADAPTERS_DIR", "runner/adapters", "adapters"},
    [CAB_DATA_TASKS] = {"CAB_TASKS_DIR", "tasks", "tasks"},
    [CAB_DATA_PROFILES] = {"CAB_PROFILE_DIR", "scorers/profiles", "profiles"},
};

const char *
cab_datadir_env(enum cab_datadir_kind kind)
{
  return KINDS[kind].env;
}

size_t
cab_datadir_candidates(enum cab_datadir_kind kind, char dirs[CAB_DATADIR_MAX][CAB_DATADIR_PATH])
{
  size_t n = 0;
  const char *env = getenv(KINDS[kind].env);
  if (env && *env && snprintf(dirs[n], CAB_DATADIR_PATH, "%s", env) < CAB_DATADIR_PATH)
    n++;
  char exe[CAB_DATADIR_PATH], share[CAB_DATADIR_PATH];
  if (cab_exe_dir(exe, sizeof exe) < 0)
    return n;
  /* An install (<prefix>/share/cab beside <prefix>/bin) never looks at the
   * build-tree layout: with PREFIX=$HOME, $HOME/tasks is the user's own. */
  struct stat st;
  bool installed = snprintf(share, sizeof share, "%s/../share/cab", exe) < (int)sizeof share &&
                   stat(share, &st) == 0 && S_ISDIR(st.st_mode);
  if (!installed &&
      snprintf(dirs[n], CAB_DATADIR_PATH, "%s/../%s", exe, KINDS[kind].source) < CAB_DATADIR_PATH)
    n++;
  if (snprintf(dirs[n], CAB_DATADIR_PATH, "%s/../share/cab/%s", exe, KINDS[kind].share) <
      CAB_DATADIR_PATH)
    n++;
  return n;
}

int
cab_datadir_find(enum cab_datadir_kind kind, const char *name, char *buf, size_t size)
{
  char dirs[CAB_DATADIR_MAX][CAB_DATADIR_PATH];
  size_t n = cab_datadir_candidates(kind, dirs);
  for (size_t i = 0; i < n; i++) {
    int len = snprintf(buf, size, "%s/%s", dirs[i], name);
    if (len >= 0 && (size_t)len < size && access(buf, R_OK) == 0)
      return 0;
  }
  return -1;
}

int
cab_datadir_dir(enum cab_datadir_kind kind, char *buf, size_t size)
{
  char dirs[CAB_DATADIR_MAX][CAB_DATADIR_PATH];
  size_t n = cab_datadir_candidates(kind, dirs);
  if (n == 0)
    return -1;
  /* The variable, when set, is taken as given: a typo must fail, not fall
   * back to the bundled data. */
  const char *env = getenv(KINDS[kind].env);
  size_t pick = 0;
  struct stat st;
  for (size_t i = 0; !(env && *env) && i < n; i++)
    if (stat(dirs[i], &st) == 0 && S_ISDIR(st.st_mode)) {
      pick = i;
      break;
    }
  int len = snprintf(buf, size, "%s", dirs[pick]);
  return len >= 0 && (size_t)len < size ? 0 : -1;
}
