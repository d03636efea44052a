/* cab pull [--platform OS/ARCH[/VARIANT]] [--insecure] [--quiet] REF
 * cab pull --all PLAN.json: every image a sweep plan's cells run in, ahead of
 * time (for an offline host: then cab export / cab import). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/lazy_curl.h"
#include "rootfs/registry.h"
#include "rootfs/store.h"
#include "runner/cli/options.h"
#include "runner/cli/commands.h"
#include "runner/sweep/cells.h"
#include "runner/sweep/plan.h"

static const char pull_usage[] =
    "usage: cab pull [OPTIONS] REF\n"
    "\n"
    "Fetch REF (name[:tag][@sha256:...]) from its registry, verify every byte,\n"
    "store it in $CAB_HOME and print the pinned reference name@sha256:...\n"
    "\n"
    "       cab pull [OPTIONS] --all PLAN.json\n"
    "\n"
    "  --all PLAN.json               every image the plan's cells run in (for an offline host)\n"
    "  --platform OS/ARCH[/VARIANT]  choose from a multi-platform index (default: this host)\n"
    "  --insecure                    talk plain http to the registry (test registries)\n"
    "  -q, --quiet                   no progress bar\n";

/* Every distinct image the plan's cells run in, pulled in first-use order;
 * each pinned reference printed as it lands.  The first failure stops it. */
static int
pull_plan(cab_store *s, const char *plan_path, const cab_pull_opts *o, cab_error *err)
{
  struct cab_sweep_plan *p = NULL;
  if (cab_sweep_plan_load(plan_path, &p, err) < 0)
    return -1;
  struct cab_sweep_cells cells = {0};
  int r = cab_sweep_cells_build(p, &cells, err);
  size_t pulled = 0;
  for (size_t i = 0; r == 0 && i < cells.n; i++) {
    const char *img = cells.v[i].image;
    if (img == NULL)
      continue; /* host-rootfs */
    bool seen = false;
    for (size_t k = 0; k < i && !seen; k++)
      seen = cells.v[k].image && strcmp(cells.v[k].image, img) == 0;
    if (seen)
      continue;
    char pinned[400];
    if (cab_pull(s, img, o, pinned, sizeof pinned, err) < 0) {
      cab_error_prefix(err, "pull --all %s", plan_path);
      r = -1;
      break;
    }
    printf("%s\n", pinned);
    fflush(stdout);
    pulled++;
  }
  if (r == 0 && pulled == 0)
    fprintf(stderr, "cab: pull --all %s: no cell needs an image (every cell runs on the host's /)\n",
            plan_path);
  cab_sweep_cells_free(&cells);
  cab_sweep_plan_free(p);
  return r;
}

int
cab_cmd_pull(int argc, char **argv)
{
  static const struct option longopts[] = {
      {"platform", required_argument, NULL, 'p'}, {"insecure", no_argument, NULL, 'k'},
      {"quiet", no_argument, NULL, 'q'},          {"help", no_argument, NULL, 'h'},
      {"all", no_argument, NULL, 'a'},
      {NULL, 0, NULL, 0},
  };
  cab_pull_opts o = {0};
  bool quiet = false, all = false;
  int opt;
  opterr = 0;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "+qh", longopts, NULL)) != -1) {
    switch (opt) {
    case 'p': o.platform = optarg; break;
    case 'k': o.insecure = true; break;
    case 'q': quiet = true; break;
    case 'a': all = true; break;
    case 'h': return cab_cli_help(pull_usage);
    default: return cab_cli_option_error("pull", longopts, argv);
    }
  }
  if (optind != argc - 1)
    return cab_cli_usage_error("pull", "give exactly one image reference");
  o.progress = !quiet && isatty(STDERR_FILENO);
  cab_error err = {0};
  if (cab_curl_load(&err) < 0) /* before the parallel blob threads */
    return cab_cli_fail(&err);
  cab_store *s;
  char pinned[400];
  int r = cab_store_open(NULL, &s, &err);
  if (r == 0) {
    r = all ? pull_plan(s, argv[optind], &o, &err)
            : cab_pull(s, argv[optind], &o, pinned, sizeof pinned, &err);
    cab_store_close(s);
  }
  if (r < 0)
    return cab_cli_fail(&err);
  if (!all)
    printf("%s\n", pinned);
  return 0;
}
