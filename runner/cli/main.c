/* cab: run CodingAgentBench cells on one Linux host, without Docker. */
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "runner/cli/commands.h"

#define CAB_VERSION "0.1.0"

static void
usage(FILE *out)
{
  fputs("usage: cab COMMAND [OPTIONS]\n"
        "\n"
        "commands:\n"
        "  exec     run a command in a rootless sandbox (see 'cab exec --help')\n"
        "  doctor   show what this host supports\n"
        "  pull     fetch an image from a registry, verified (see 'cab pull --help')\n"
        "  import   load an image from an OCI layout or a docker save tar\n"
        "  export   write an image as an OCI layout directory\n"
        "  images   list the images in the store ($CAB_HOME)\n"
        "  inspect  show an image's digests, config and layers as JSON\n"
        "  rmi      remove images\n"
        "  gc       drop blobs and rootfs caches no image needs\n"
        "  score    re-score a cell directory from its artifacts (see 'cab score --help')\n"
        "  version  print cab's version\n",
        out);
}

int
cab_cli_fail(const cab_error *err)
{
  char line[2300];
  fprintf(stderr, "cab: %s\n", cab_error_line(err, line, sizeof line));
  return err->exit_code ? err->exit_code : CAB_EXIT_RUNNER;
}

int
main(int argc, char **argv)
{
  if (argc < 2) {
    usage(stderr);
    return CAB_EXIT_RUNNER;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "exec") == 0)
    return cab_cmd_exec(argc - 1, argv + 1);
  if (strcmp(cmd, "doctor") == 0)
    return cab_cmd_doctor(argc - 1, argv + 1);
  if (strcmp(cmd, "pull") == 0)
    return cab_cmd_pull(argc - 1, argv + 1);
  if (strcmp(cmd, "import") == 0)
    return cab_cmd_import(argc - 1, argv + 1);
  if (strcmp(cmd, "export") == 0)
    return cab_cmd_export(argc - 1, argv + 1);
  if (strcmp(cmd, "images") == 0)
    return cab_cmd_images(argc - 1, argv + 1);
  if (strcmp(cmd, "inspect") == 0)
    return cab_cmd_inspect(argc - 1, argv + 1);
  if (strcmp(cmd, "rmi") == 0)
    return cab_cmd_rmi(argc - 1, argv + 1);
  if (strcmp(cmd, "gc") == 0)
    return cab_cmd_gc(argc - 1, argv + 1);
  if (strcmp(cmd, "score") == 0)
    return cab_cmd_score(argc - 1, argv + 1);
  if (strcmp(cmd, "model-server") == 0)
    return cab_cmd_model_server(argc - 1, argv + 1);
  if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
    printf("cab %s\n", CAB_VERSION);
    return 0;
  }
  if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
    usage(stdout);
    return 0;
  }
  fprintf(stderr, "cab: unknown command '%s'; run 'cab help' for the list\n", cmd);
  return CAB_EXIT_RUNNER;
}
