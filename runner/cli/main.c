/* cab: run CodingAgentBench cells on one Linux host, without Docker.
 *
 * Built twice (runner/cli/core.h): cab-full with every command, and, with
 * -DCAB_CORE, the core cab that runs exec and doctor itself and hands every
 * other command to cab-full. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifndef CAB_CORE
#endif

#include "common/error.h"
#include "common/version.h"
#include "runner/cli/options.h"
#include "runner/cli/commands.h"
#include "runner/cli/core.h"

struct command {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *summary;
};

/* FULL(f): a command only cab-full has; the core runs cab-full for it. */
#ifdef CAB_CORE
#define FULL(f) NULL
#else
#define FULL(f) f
#endif


static const struct command commands[] = {
    {"run-cell", FULL(cab_cmd_run_cell), "run one cell end to end and write its record"},
    {"score", FULL(cab_cmd_score), "re-score a cell directory from its artifacts"},
    {"exec", cab_cmd_exec, "run a command in a rootless sandbox"},
    {"adapters", FULL(cab_cmd_adapters), "list or show the agent adapters"},
    {"tasks", FULL(cab_cmd_tasks), "list, show, validate or import tasks"},
    {"model-server", FULL(cab_cmd_model_server), "serve a scripted or recorded model endpoint"},
    {"pull", FULL(cab_cmd_pull), "fetch an image from a registry, verified by digest"},
    {"import", FULL(cab_cmd_import), "load an image offline (OCI layout or docker save tar)"},
    {"export", FULL(cab_cmd_export), "write an image as an OCI layout directory or an oci-archive tar"},
    {"unpack", FULL(cab_cmd_unpack), "write an image's flattened rootfs to a directory"},
    {"images", FULL(cab_cmd_images), "list stored images"},
    {"inspect", FULL(cab_cmd_inspect), "show an image as JSON"},
    {"rmi", FULL(cab_cmd_rmi), "remove an image reference"},
    {"gc", FULL(cab_cmd_gc), "drop unreferenced blobs and rootfs caches"},
    {"doctor", cab_cmd_doctor, "show what this host supports"},
    {"slurm", FULL(cab_cmd_slurm), "write (and submit) a Slurm job array running a sweep's shards"},
    {"report", FULL(cab_cmd_report), "write a static site (leaderboard, cells, badges) from results"},
    {"sweep", FULL(cab_cmd_sweep), "run a plan's cells concurrently, resumably, sharded"},
    {"merge", FULL(cab_cmd_merge), "combine sweep outputs (shards) into one results tree"},
    {"index", FULL(cab_cmd_index), "(re)build DIR/results.db from the cell.json files below DIR"},
    {"leaderboard", FULL(cab_cmd_leaderboard), "rank TUI x model: pass@1, composite +/- CI, Ships, Stays, Costs"},
    {"results", FULL(cab_cmd_results), "results ls|show|index|export|leaderboard: the cell store"},
    {"compare", FULL(cab_cmd_compare), "compare two cells or results trees task by task (flips, pass@k)"},
};

#ifdef CAB_CORE
static char **main_argv;

int
cab_core_run_full(void)
{
  char full[PATH_MAX + 16];
  ssize_t n = readlink("/proc/self/exe", full, PATH_MAX);
  char *slash = n > 0 ? memrchr(full, '/', (size_t)n) : NULL;
  if (slash == NULL) {
    fprintf(stderr, "cab: %s needs cab-full, but /proc/self/exe does not say where cab is: %s\n",
            main_argv[1], n < 0 ? strerror(errno) : "not a path");
    return CAB_EXIT_RUNNER;
  }
  strcpy(slash, "/cab-full");
  fflush(NULL);
  execv(full, main_argv);
  fprintf(stderr, "cab: %s needs %s, which cannot be run: %s (run make)\n", main_argv[1], full,
          strerror(errno));
  return CAB_EXIT_RUNNER;
}
#endif

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
#ifdef CAB_CORE
  main_argv = argv;
#endif
  const char *cmd = argv[1];
  if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
    if (argc > 2 && argv[2][0] == '-' && !cab_cli_is_help(argv[2]))
      return cab_cli_usage_error("version", "unknown option '%s'", argv[2]);
    if (argc > 2 && !cab_cli_is_help(argv[2]))
      return cab_cli_usage_error("version", "unexpected argument '%s'", argv[2]);
    if (argc > 2) {
      puts("usage: cab version\n\nPrint cab's version.");
      return 0;
    }
    printf("cab %s\n", CAB_VERSION);
    return 0;
  }
  if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
    usage(stdout);
    return 0;
  }
  for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
    if (strcmp(cmd, commands[i].name) == 0) {
#ifdef CAB_CORE
      if (commands[i].run == NULL)
        return cab_core_run_full();
      return commands[i].run(argc - 1, argv + 1);
#else
      /* libcurl and libmicrohttpd are loaded by their first user
       * (common/lazy_curl.h, common/lazy_mhd.h), not here. */
      return commands[i].run(argc - 1, argv + 1);
#endif
    }
  const char *names[sizeof commands / sizeof *commands];
  for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
    names[i] = commands[i].name;
  const char *near = cab_cli_nearest(cmd, names, sizeof commands / sizeof *commands);
  if (near)
    fprintf(stderr, "cab: unknown command '%s'; did you mean '%s'?\n", cmd, near);
  else
    fprintf(stderr, "cab: unknown command '%s'; run 'cab help' for the list\n", cmd);
  return CAB_EXIT_RUNNER;
}
