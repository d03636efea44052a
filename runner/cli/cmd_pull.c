/* cab pull [--platform OS/ARCH[/VARIANT]] [--insecure] [--quiet] REF */
#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "rootfs/registry.h"
#include "rootfs/store.h"
#include "runner/cli/commands.h"

static const char pull_usage[] =
    "usage: cab pull [OPTIONS] REF\n"
    "\n"
    "Fetch REF (name[:tag][@sha256:...]) from its registry, verify every byte,\n"
    "store it in $CAB_HOME and print the pinned reference name@sha256:...\n"
    "\n"
    "  --platform OS/ARCH[/VARIANT]  choose from a multi-platform index (default: this host)\n"
    "  --insecure                    talk plain http to the registry (test registries)\n"
    "  -q, --quiet                   no progress bar\n";

int
cab_cmd_pull(int argc, char **argv)
{
  static const struct option longopts[] = {
      {"platform", required_argument, NULL, 'p'}, {"insecure", no_argument, NULL, 'k'},
      {"quiet", no_argument, NULL, 'q'},          {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  cab_pull_opts o = {0};
  bool quiet = false;
  int opt;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "+qh", longopts, NULL)) != -1) {
    switch (opt) {
    case 'p': o.platform = optarg; break;
    case 'k': o.insecure = true; break;
    case 'q': quiet = true; break;
    case 'h': fputs(pull_usage, stdout); return 0;
    default: fputs(pull_usage, stderr); return CAB_EXIT_RUNNER;
    }
  }
  if (optind != argc - 1) {
    fputs(pull_usage, stderr);
    return CAB_EXIT_RUNNER;
  }
  o.progress = !quiet && isatty(STDERR_FILENO);
  cab_error err = {0};
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    cab_error_set(&err, 0, "pull: curl_global_init failed");
    return cab_cli_fail(&err);
  }
  cab_store *s;
  char pinned[400];
  int r = cab_store_open(NULL, &s, &err);
  if (r == 0) {
    r = cab_pull(s, argv[optind], &o, pinned, sizeof pinned, &err);
    cab_store_close(s);
  }
  curl_global_cleanup();
  if (r < 0)
    return cab_cli_fail(&err);
  printf("%s\n", pinned);
  return 0;
}
