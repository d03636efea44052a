/* cab export REF DIR */
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "rootfs/archive_io.h"
#include "runner/cli/commands.h"

static const char export_usage[] =
    "usage: cab export REF DIR\n"
    "\n"
    "Write image REF as an OCI image layout in DIR (new, empty, or an existing\n"
    "layout to add to).  Carry DIR to an offline host and 'cab import DIR'.\n";

int
cab_cmd_export(int argc, char **argv)
{
  if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
    fputs(export_usage, stdout);
    return 0;
  }
  if (argc != 3 || argv[1][0] == '-') {
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
  return r < 0 ? cab_cli_fail(&err) : 0;
}
