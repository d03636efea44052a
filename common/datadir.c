/* The one data-file lookup (see datadir.h): a table of kinds, one order. */
#include "common/datadir.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fsutil.h"

static const struct {
  const char *name;   /* what the kind is, for messages */
  const char *env;    /* explicit: the user's word */
  const char *source; /* below the source tree that holds build/cab */
  const char *share;  /* below <prefix>/share/cab */
} KINDS[] = {
    [CAB_DATA_ADAPTERS] = {"adapters", "CAB_ADAPTERS_DIR", "runner/adapters", "adapters"},
    [CAB_DATA_TASKS] = {"tasks", "CAB_TASKS_DIR", "tasks", "tasks"},
    [CAB_DATA_PROFILES] = {"scoring profiles", "CAB_PROFILE_DIR", "scorers/profiles", "profiles"},
};

static bool
is_dir(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *
cab_datadir_env(enum cab_datadir_kind kind)
{
  return KINDS[kind].env;
}

size_t
cab_datadir_candidates(enum cab_datadir_kind kind, char dirs[CAB_DATADIR_MAX][CAB_DATADIR_PATH])
{
  size_t n = 0;
  const char *env = getenv(KINDS[kind].env), *data = getenv(CAB_DATADIR_ENV);
  /* A variable too long to use ends the list: never a quiet fall back to
   * the bundled data behind the user's word. */
  if (env && *env) {
    if (snprintf(dirs[n], CAB_DATADIR_PATH, "%s", env) >= CAB_DATADIR_PATH)
      return n;
    n++;
  }
  if (data && *data) {
    if (snprintf(dirs[n], CAB_DATADIR_PATH, "%s/%s", data, KINDS[kind].share) >= CAB_DATADIR_PATH)
      return n;
    n++;
  }
  char exe[CAB_DATADIR_PATH], share[CAB_DATADIR_PATH];
  if (cab_exe_dir(exe, sizeof exe) < 0)
    return n;
  /* An install (<prefix>/share/cab beside <prefix>/bin) never looks at the
   * build-tree layout: with PREFIX=$HOME, $HOME/tasks is the user's own. */
  bool installed =
      snprintf(share, sizeof share, "%s/../share/cab", exe) < (int)sizeof share && is_dir(share);
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
  /* A variable, when set, is taken as given: a typo must fail, not fall
   * back to the bundled data.  The first candidate is then its. */
  const char *env = getenv(KINDS[kind].env), *data = getenv(CAB_DATADIR_ENV);
  bool given = (env && *env) || (data && *data);
  size_t pick = 0;
  for (size_t i = 0; !given && i < n; i++)
    if (is_dir(dirs[i])) {
      pick = i;
      break;
    }
  int len = snprintf(buf, size, "%s", dirs[pick]);
  return len >= 0 && (size_t)len < size ? 0 : -1;
}

bool
cab_datadir_present(enum cab_datadir_kind kind)
{
  char dirs[CAB_DATADIR_MAX][CAB_DATADIR_PATH];
  size_t n = cab_datadir_candidates(kind, dirs);
  for (size_t i = 0; i < n; i++)
    if (is_dir(dirs[i]))
      return true;
  return false;
}

void
cab_datadir_hint(enum cab_datadir_kind kind, char *buf, size_t size)
{
  snprintf(buf, size,
           "'make install PREFIX=DIR' puts the %s in DIR/share/cab/%s beside DIR/bin (the "
           "tree can be moved as a whole), or set %s to a share/cab tree",
           KINDS[kind].name, KINDS[kind].share, CAB_DATADIR_ENV);
}

int
cab_datadir_missing(enum cab_datadir_kind kind, cab_error *err, const char *what)
{
  char dirs[CAB_DATADIR_MAX][CAB_DATADIR_PATH];
  size_t n = cab_datadir_candidates(kind, dirs);
  /* Long candidates are cut here and in the error's message, never
   * overrun. */
  char where[CAB_DATADIR_MAX * 400] = "", hint[256];
  size_t used = 0;
  for (size_t i = 0; i < n && used < sizeof where; i++) {
    int len = snprintf(where + used, sizeof where - used, "%s%s", i ? ", " : "", dirs[i]);
    if (len < 0)
      break;
    used += (size_t)len;
  }
  cab_datadir_hint(kind, hint, sizeof hint);
  return cab_error_set(err, 0, "%s: cab has no %s (looked in %s); %s", what,
                       KINDS[kind].name, n ? where : "nowhere: /proc/self/exe is unreadable",
                       hint);
}
