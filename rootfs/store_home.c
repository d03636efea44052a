/* Where the store lives when no directory is given: the user's data
 * directory (common/userdir.h).  A file of its own so that the core cab
 * (cab exec --host-rootfs hides the store from the sandbox) links it
 * without the rest of the store. */
#include "rootfs/store.h"
#include "common/userdir.h"

int
cab_store_default_home(char *buf, size_t size, cab_error *err)
{
  return cab_user_data_dir(buf, size, err);
}
