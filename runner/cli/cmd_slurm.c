/* cab slurm PLAN.json --shards N [--partition P] [--time T] [--mem M]
 *                      [--cpus C] [--out DIR] [--submit]
 *
 * Writes the sbatch job array and merge job of runner/sweep/slurm.h under
 * OUT/slurm/ and prints their paths; --submit runs submit.sh instead, which
 * prints the two job ids. */
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/error.h"
#include "runner/cli/options.h"
#include "runner/cli/commands.h"
#include "runner/sweep/slurm.h"

static const char slurm_usage[] =
    "usage: cab slurm PLAN.json --shards N [OPTIONS]\n"
    "\n"
    "  --shards N        array tasks, each running 'cab sweep --shard K/N'\n"
    "  --partition P     sbatch --partition\n"
    "  --time T          sbatch --time for each shard (e.g. 4:00:00)\n"
    "  --mem M           sbatch --mem for each shard (e.g. 16G)\n"
    "  --cpus C          sbatch --cpus-per-task (also the shard's -j)\n"
    "  --out DIR         where the shards, the merge and the scripts go (default ./results)\n"
    "  --submit          sbatch the array and the merge now (needs sbatch on PATH)\n";

int
cab_cmd_slurm(int argc, char **argv)
{
  enum { O_SHARDS = 256, O_PARTITION, O_TIME, O_MEM, O_CPUS, O_OUT, O_SUBMIT, O_HELP };
  static const struct option longopts[] = {
      {"shards", required_argument, 0, O_SHARDS}, {"partition", required_argument, 0, O_PARTITION},
      {"time", required_argument, 0, O_TIME},     {"mem", required_argument, 0, O_MEM},
      {"cpus", required_argument, 0, O_CPUS},     {"out", required_argument, 0, O_OUT},
      {"submit", no_argument, 0, O_SUBMIT},       {"help", no_argument, 0, O_HELP},
      {0, 0, 0, 0},
  };
  struct cab_slurm_request o = {.out = "results"};
  bool submit = false;
  cab_error err = {0};
  opterr = 0;
  optind = 1;
  int opt;
  while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
    char *end = NULL;
    switch (opt) {
    case O_SHARDS:
      o.shards = strtol(optarg, &end, 10);
      if (*end || o.shards < 1 || o.shards > 100000) {
        cab_error_set(&err, 0, "slurm: --shards %s: expected a whole number from 1", optarg);
        return cab_cli_fail(&err);
      }
      break;
    case O_CPUS:
      o.cpus = strtol(optarg, &end, 10);
      if (*end || o.cpus < 1) {
        cab_error_set(&err, 0, "slurm: --cpus %s: expected a whole number from 1", optarg);
        return cab_cli_fail(&err);
      }
      break;
    case O_PARTITION: o.partition = optarg; break;
    case O_TIME: o.time = optarg; break;
    case O_MEM: o.mem = optarg; break;
    case O_OUT: o.out = optarg; break;
    case O_SUBMIT: submit = true; break;
    case O_HELP: fputs(slurm_usage, stdout); return 0;
    default:
      return cab_cli_option_error("slurm", longopts, argv);
    }
  }
  if (optind + 1 != argc || o.shards == 0)
    return cab_cli_usage_error("slurm", "usage: cab slurm PLAN.json --shards N [OPTIONS]");
  o.plan = argv[optind];
  char dir[PATH_MAX + 16];
  if (cab_slurm_write(&o, dir, sizeof dir, &err) < 0 || (submit && cab_slurm_submit(dir, &err) < 0))
    return cab_cli_fail(&err);
  if (!submit)
    printf("%s/sweep.sbatch\n%s/merge.sbatch\n%s/submit.sh\n", dir, dir, dir);
  return 0;
}
