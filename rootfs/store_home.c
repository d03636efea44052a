/* Where the store lives when no directory is given.  A file of its own so
 * that the core cab (cab exec --host-rootfs hides the store from the
 * sandbox) links it without the rest of the store. */
#include "rootfs/store.h"
#include "common/strfmt.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int
cab_store_default_home(char *buf, size_t size, cab_error *err)
{
  const char *h = getenv("CAB_HOME");
  if (h && *h) {
    return cab_path_printf(buf, size, err, "%s", h);
  }
  const char *xdg = getenv("XDG_DATA_HOME");
  if (xdg && xdg[0] == '/') {
    return cab_path_printf(buf, size, err, "%s/cab", xdg);
  }
  const char *home = getenv("HOME");
  if (home == NULL || *home == '\0') {
    struct passwd *pw = getpwuid(geteuid());
    home = pw ? pw->pw_dir : NULL;
  }
  if (home == NULL || *home == '\0')
    return cab_error_set(err, ENOENT, "no image store: set CAB_HOME (HOME is not set either)");
  return cab_path_printf(buf, size, err, "%s/.local/share/cab", home);
}
