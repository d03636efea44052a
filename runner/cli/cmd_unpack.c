/* cab unpack [--keep-setuid] REF DIR: the image's flattened rootfs, written
 * to DIR (which must not exist or be empty).  DIR is outside cab's private
 * store, so by default no file in it keeps a setuid or setgid bit: as root
 * the owners are applied, and an image's setuid-root binary would hand any
 * local user root. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
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
  const char *pos[2] = {NULL, NULL};
  int n_pos = 0;
  bool keep_setid = false;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--keep-setuid") == 0)
      keep_setid = true;
    else if (argv[i][0] == '-' || n_pos == 2)
      n_pos = 3;
    else
      pos[n_pos++] = argv[i];
  }
  if (n_pos != 2) {
    cab_error_set(&err, 0, "usage: cab unpack [--keep-setuid] REF DIR");
    return cab_cli_fail(&err);
  }
  const char *ref = pos[0], *dir = pos[1];
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
      cab_rootfs_unpack_into(s, img, fd, !keep_setid, &stats, &err) < 0) {
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
    if (stats.setid_stripped)
      fprintf(stderr, "cab: removed the setuid/setgid bits of %lld files in %s%s\n",
              (long long)stats.setid_stripped, dir,
              keep_setid ? " (their owners could not be applied: rootless)"
                         : "; pass --keep-setuid to keep them");
  }
  cab_image_free(img);
  cab_store_close(s);
  return rc;
}
