/* cab unpack REF DIR: the image's flattened rootfs, written to DIR (which
 * must not exist or be empty). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "rootfs/rootfs_cache.h"
#include "rootfs/store.h"
#include "runner/cli/commands.h"

int
cab_cmd_unpack(int argc, char **argv)
{
  cab_error err = {0};
  if (argc != 3) {
    cab_error_set(&err, 0, "usage: cab unpack REF DIR");
    return cab_cli_fail(&err);
  }
  const char *ref = argv[1], *dir = argv[2];
  if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
    cab_error_sys(&err, "unpack: create %s", dir);
    return cab_cli_fail(&err);
  }
  cleanup_close int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    cab_error_sys(&err, "unpack: open %s", dir);
    return cab_cli_fail(&err);
  }
  cab_store *s = NULL;
  cab_image *img = NULL;
  int rc = 0;
  struct cab_unpack_stats stats = {0};
  if (cab_store_open(NULL, &s, &err) < 0 || cab_store_use(s, &err) < 0 ||
      cab_image_resolve(s, ref, &img, &err) < 0 ||
      cab_rootfs_unpack_into(s, img, fd, &stats, &err) < 0) {
    rc = cab_cli_fail(&err);
  } else {
    fprintf(stderr, "cab: unpacked %s: %zu layers, %lld entries, %lld bytes",
            img->digest, img->n_layers, (long long)stats.entries, (long long)stats.bytes);
    if (stats.devices_placeholdered)
      fprintf(stderr, ", %lld device nodes made placeholders",
              (long long)stats.devices_placeholdered);
    if (stats.chown_failures)
      fprintf(stderr, ", %lld owners not applied (rootless; recorded as user.cab.owner)",
              (long long)stats.chown_failures);
    fprintf(stderr, "\n");
  }
  cab_image_free(img);
  cab_store_close(s);
  return rc;
}
