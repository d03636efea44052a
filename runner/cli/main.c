/* cab: run CodingAgentBench cells on one Linux host, without Docker. */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "runner/cli/commands.h"

#define CAB_VERSION "0.1.0"

struct command {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *summary;
};

static const struct command commands[] = {
    {"run-cell", cab_cmd_run_cell, "run one cell end to end and write its record"},
    {"score", cab_cmd_score, "re-score a cell directory from its artifacts"},
    {"exec", cab_cmd_exec, "run a command in a rootless sandbox"},
    {"adapters", cab_cmd_adapters, "list or show the agent adapters"},
    {"tasks", cab_cmd_tasks, "list, show or validate tasks"},
    {"model-server", cab_cmd_model_server, "serve a scripted or recorded model endpoint"},
    {"pull", cab_cmd_pull, "fetch an image from a registry, verified by digest"},
    {"import", cab_cmd_import, "load an image offline (OCI layout or docker save tar)"},
    {"export", cab_cmd_export, "write an image as an OCI layout directory"},
    {"unpack", cab_cmd_unpack, "write an image's flattened rootfs to a directory"},
    {"images", cab_cmd_images, "list stored images"},
    {"inspect", cab_cmd_inspect, "show an image as JSON"},
    {"rmi", cab_cmd_rmi, "remove an image reference"},
    {"gc", cab_cmd_gc, "drop unreferenced blobs and rootfs caches"},
    {"doctor", cab_cmd_doctor, "show what this host supports"},
};

static void
usage(FILE *out)
{
  fputs("usage: cab COMMAND [OPTIONS]   ('cab COMMAND --help' for each)\n\ncommands:\n", out);
  for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
    fprintf(out, "  %-13s %s\n", commands[i].name, commands[i].summary);
  fputs("  version       print cab's version\n", out);
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
  if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
    printf("cab %s\n", CAB_VERSION);
    return 0;
  }
  if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
    usage(stdout);
    return 0;
  }
  for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
    if (strcmp(cmd, commands[i].name) == 0) {
      /* libcurl's global state, once, before any thread (pull, proxy). */
      curl_global_init(CURL_GLOBAL_DEFAULT);
      int rc = commands[i].run(argc - 1, argv + 1);
      curl_global_cleanup();
      return rc;
    }
  fprintf(stderr, "cab: unknown command '%s'; run 'cab help' for the list\n", cmd);
  return CAB_EXIT_RUNNER;
}
