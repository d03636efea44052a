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
    "\n"
    "Write image REF as an OCI image layout in DIR (new, empty, or an existing\n"
    "layout to add to).  Carry DIR to an offline host and 'cab import DIR'.\n"
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
  for (int i = 1; i < argc; i++)
    if (argv[i][0] == '-') {
      static const struct option longopts[] = {
          {"format", required_argument, NULL, 'f'},
          {"help", no_argument, NULL, 'h'},
          {NULL, 0, NULL, 0},
      };
      /* what getopt would have stopped at, for the one line */
      optind = i + 1;
      optopt = argv[i][1] == '-' ? 0 : argv[i][1];
      return cab_cli_option_error("export", longopts, argv);
    }
  if (argc != 3) {
    fputs(export_usage, stderr);
    return CAB_EXIT_RUNNER;
  }
  cab_error err = {0};
  cab_store *s;
  int r = cab_store_open(NULL, &s, &err);
  if (r == 0) {
    r = cab_export(s, argv[1], argv[2], &err);
    cab_store_close(s);
  }
  if (r < 0)
    return cab_cli_fail(&err);
  printf("exported %s to %s (an OCI image layout: 'cab import %s' reads it)\n", argv[1], argv[2],
         argv[2]);
  return 0;
}
