#include "common/userdir.h"

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/strfmt.h"

int
cab_user_data_dir(char *buf, size_t size, cab_error *err)
{
  const char *h = getenv("CAB_HOME");
  if (h && *h)
    return cab_path_printf(buf, size, err, "%s", h);
  const char *xdg = getenv("XDG_DATA_HOME");
  if (xdg && xdg[0] == '/')
    return cab_path_printf(buf, size, err, "%s/cab", xdg);
  const char *home = getenv("HOME");
  if (home == NULL || *home == '\0') {
    struct passwd *pw = getpwuid(geteuid());
    home = pw ? pw->pw_dir : NULL;
  }
  if (home == NULL || *home == '\0')
    return cab_error_set(err, ENOENT, "no image store: set CAB_HOME (HOME is not set either)");
  return cab_path_printf(buf, size, err, "%s/.local/share/cab", home);
}

/* 0 when DIR can be used as a cache: it exists or was made (0700). */
static int
usable(const char *dir)
{
  cab_error ignored = {0};
  return cab_mkdir_private(dir, &ignored);
}

int
cab_user_cache_dir(const char *sub, char *buf, size_t size, cab_error *err)
{
  cab_error ignored = {0};
  const char *slash = sub ? "/" : "", *name = sub ? sub : "";
  const char *xdg = getenv("XDG_CACHE_HOME");
  if (xdg && xdg[0] == '/' &&
      cab_path_printf(buf, size, &ignored, "%s/cab%s%s", xdg, slash, name) == 0 && usable(buf) == 0)
    return 0;
  const char *home = getenv("HOME");
  if (home && home[0] == '/' &&
      cab_path_printf(buf, size, &ignored, "%s/.cache/cab%s%s", home, slash, name) == 0 &&
      usable(buf) == 0)
    return 0;
  /* No usable HOME: beside the store, which the user must be able to write
   * for cab to work at all (and which --host-rootfs hides from the sandbox
   * like every home). */
  char data[PATH_MAX];
  if (cab_user_data_dir(data, sizeof data, &ignored) == 0 &&
      cab_path_printf(buf, size, &ignored, "%s/cache%s%s", data, slash, name) == 0 &&
      usable(buf) == 0)
    return 0;
  buf[0] = '\0';
  return cab_error_set(err, ENOENT,
                       "no usable cache directory: XDG_CACHE_HOME, HOME and CAB_HOME are unset or "
                       "cannot be written; set CAB_HOME or XDG_CACHE_HOME to a directory of yours");
}
