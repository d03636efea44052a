/* cab unpack [--keep-setuid] REF DIR: the image's flattened rootfs, written
 * to DIR (which must not exist or be empty).  DIR is outside cab's private
 * store, so by default no file in it keeps a setuid or setgid bit: as root
 * the owners are applied, and an image's setuid-root binary would hand any
 * local user root. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/strfmt.h"
#include "common/cleanup.h"
#include "rootfs/rootfs_cache.h"
#include "rootfs/store.h"
#include "runner/cli/options.h"
#include "runner/cli/commands.h"

int
cab_cmd_unpack(int argc, char **argv)
{
  cab_error err = {0};
  static const char usage[] =
      "usage: cab unpack [--keep-setuid] REF DIR\n"
      "\n"
      "Write image REF's flattened rootfs to DIR (new or empty).  Setuid and setgid\n"
      "bits are removed unless --keep-setuid is given.\n";
  static const struct option longopts[] = {
      {"keep-setuid", no_argument, NULL, 'k'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  bool keep_setid = false;
  int opt;
  opterr = 0;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    switch (opt) {
    case 'k': keep_setid = true; break;
    case 'h': return cab_cli_help(usage);
    default: return cab_cli_option_error("unpack", longopts, argv);
    }
  }
  if (argc - optind != 2)
    return cab_cli_usage_error("unpack", "usage: cab unpack [--keep-setuid] REF DIR");
  const char *pos[2] = {argv[optind], argv[optind + 1]};
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
    fprintf(stderr, "cab: unpacked %s: %zu %s, %lld %s, %lld %s", img->digest, img->n_layers,
            cab_plural(img->n_layers, "layer", "layers"), (long long)stats.entries,
            cab_plural((unsigned long long)stats.entries, "entry", "entries"),
            (long long)stats.bytes, cab_plural((unsigned long long)stats.bytes, "byte", "bytes"));
    if (stats.devices_placeholdered)
      fprintf(stderr, ", %lld %s made placeholders", (long long)stats.devices_placeholdered,
              cab_plural((unsigned long long)stats.devices_placeholdered, "device node",
                         "device nodes"));
    if (stats.chown_failures)
      fprintf(stderr, ", %lld %s not applied (rootless; recorded as user.cab.owner)",
              (long long)stats.chown_failures,
              cab_plural((unsigned long long)stats.chown_failures, "owner", "owners"));
    fprintf(stderr, "\n");
    if (stats.setid_stripped)
      fprintf(stderr, "cab: removed the setuid/setgid bits of %lld %s in %s%s\n",
              (long long)stats.setid_stripped,
              cab_plural((unsigned long long)stats.setid_stripped, "file", "files"), dir,
              keep_setid ? " (their owners could not be applied: rootless)"
                         : "; pass --keep-setuid to keep them");
  }
  cab_image_free(img);
  cab_store_close(s);
  return rc;
}
