/* cab export REF DIR                          an image, as an OCI layout
 * cab export DIR --format jsonl|csv [...]     a results tree, one row per
 *                                             cell (cab results export) */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "rootfs/archive_io.h"
#include "runner/cli/options.h"
#include "runner/cli/commands.h"

static const char export_usage[] =
    "usage: cab export REF DIR\n"
    "       cab export REF -o FILE.tar\n"
    "\n"
    "Write image REF as an OCI image layout in DIR (new, empty, or an existing\n"
    "layout to add to), or with -o as an oci-archive: the tar of such a layout,\n"
    "written whole or not at all.  Carry it to an offline host and 'cab import\n"
    "DIR' (or FILE.tar): the image arrives with the same manifest digest.\n"
    "\n"
    "  -o, --output FILE   write the tar FILE (replaced atomically)\n"
    "\n"
    "       cab export DIR --format jsonl|csv [--out FILE] [--attempts]\n"
    "\n"
    "With --format: the cells of results tree DIR, one row each (the same as\n"
    "'cab results export').\n";

int
cab_cmd_export(int argc, char **argv)
{
  if (argc == 2 && cab_cli_is_help(argv[1]))
    return cab_cli_help(export_usage);
  /* --format anywhere: the results export, not an image. */
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "--format") == 0 || strncmp(argv[i], "--format=", 9) == 0) {
      char *rargv[argc + 2];
      rargv[0] = (char *)"results";
      rargv[1] = (char *)"export";
      for (int k = 1; k < argc; k++)
        rargv[k + 1] = argv[k];
      rargv[argc + 1] = NULL;
      return cab_cmd_results(argc + 1, rargv);
    }
  enum { O_HELP = 256, O_FORMAT };
  static const struct option longopts[] = {
      {"output", required_argument, NULL, 'o'},
      {"format", required_argument, NULL, O_FORMAT},
      {"help", no_argument, NULL, O_HELP},
      {NULL, 0, NULL, 0},
  };
  const char *output = NULL;
  opterr = 0;
  optind = 1;
  int opt;
  while ((opt = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
    switch (opt) {
    case 'o': output = optarg; break;
    case O_HELP: return cab_cli_help(export_usage);
    default: return cab_cli_option_error("export", longopts, argv);
    }
  }
  int rest = argc - optind;
  if (argc == 1) {
    fputs(export_usage, stderr);
    return CAB_EXIT_RUNNER;
  }
  if (output && rest != 1)
    return cab_cli_usage_error("export", "with -o FILE.tar give only the image (REF), no DIR");
  if (!output && rest != 2)
    return cab_cli_usage_error("export", "give the image and a directory (REF DIR), or REF -o FILE.tar");
  const char *ref = argv[optind], *dest = output ? output : argv[optind + 1];
  cab_error err = {0};
  cab_store *s;
  int r = cab_store_open(NULL, &s, &err);
  if (r == 0) {
    r = output ? cab_export_archive(s, ref, dest, &err) : cab_export(s, ref, dest, &err);
    cab_store_close(s);
  }
  if (r < 0)
    return cab_cli_fail(&err);
  printf("exported %s to %s (%s: 'cab import %s' reads it)\n", ref, dest,
         output ? "an oci-archive tar" : "an OCI image layout", dest);
  return 0;
}
