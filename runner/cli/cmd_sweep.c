/* cab sweep PLAN.json and cab merge DIR... --out DIR. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "runner/record/protection.h"
#include "runner/cli/options.h"
#include "runner/cli/commands.h"
#include "runner/sweep/shard.h"
#include "runner/sweep/sweep.h"

int cab_cmd_sweep(int argc, char **argv);
int cab_cmd_merge(int argc, char **argv);

static const char sweep_usage[] =
    "usage: cab sweep PLAN.json [-j N] [--shard K/N] [--out DIR] [--resume] [--dry-run]\n"
    "                 [--json]\n"
    "\n"
    "Run every cell of a plan (tuis x models x tasks x reruns), each as its own\n"
    "'cab run-cell', into OUT/<sweep_id>/.\n"
    "\n"
    "  -j, --jobs N      cells at once (default: from cores and memory; the plan's\n"
    "                    max_concurrency and host memory cap it)\n"
    "  --shard K/N       run only shard K of N (balanced by the tasks' timeouts)\n"
    "  --out DIR         default ./results\n"
    "  --resume          carry on: skip the cells already done under the same plan\n"
    "  --dry-run         list the cells and the images they need; run nothing\n"
    "  --json            the summary at the end (or the --dry-run listing) as one\n"
    "                    JSON object on stdout (schema cab.sweep.summary/v1: sweep_id,\n"
    "                    sweep_dir, shard, cells, done, pass, fail, error, elapsed_s,\n"
    "                    rows [{tui, model, cells, pass, fail, timeout, agent_error,\n"
    "                    infra_error, no_record, composite}]; cab.sweep.dry_run/v1:\n"
    "                    count, to_run, cells [{key, image, status}], images\n"
    "                    [{image, cells}]); progress stays on stderr\n"
    "  --progress-every S  seconds between progress lines when stderr is not a\n"
    "                    terminal (default 10; on a terminal one line is redrawn)\n"
    "  --require LIST    every cell's protection, as run-cell's --require (in place\n"
    "                    of the plan's \"require\"); checked before any cell starts\n"
    "  --cgroup-parent PATH  every cell's cgroups under PATH (below the cgroup file\n"
    "                    system), as run-cell's: a cgroup subtree this user owns and\n"
    "                    the sweep was started in (see 'cab doctor')\n"
    "  --replay DIR      offline: each cell replays the cassette a sweep of this plan\n"
    "                    recorded (models with \"record\": true) in DIR (its --out, or\n"
    "                    DIR/<sweep_id>), as its journal names it; no endpoint is\n"
    "                    called; a cell without one: exit 125 before any runs\n"
    "\n"
    "The plan (JSON): sweep_id, tuis [{tui, image?}], models [{model, endpoint?,\n"
    "key_env?, endpoint_wire?, replay?, record?, model_retries?, max_concurrency?}], tasks\n"
    "[id or glob], and optionally scoring, reruns, host_rootfs, image,\n"
    "max_concurrency, endpoint_max_concurrency, retries {infra, backoff_s}, memory,\n"
    "cpus, tasks_dir, ramp_up_s, require.\n"
    "\n"
    "Exit status: 0 when every cell has its cell.json (whatever its outcome); 125\n"
    "when the plan is bad or some cell could not be run; 128+N after signal N\n"
    "(carry on with --resume).\n";

int
cab_cmd_sweep(int argc, char **argv)
{
  enum {
    O_SHARD = 256, O_OUT, O_RESUME, O_DRY, O_HELP, O_PROGRESS, O_REQUIRE, O_CGROUP_PARENT, O_JSON,
    O_REPLAY
  };
  static const struct option longopts[] = {
      {"jobs", required_argument, 0, 'j'},      {"shard", required_argument, 0, O_SHARD},
      {"out", required_argument, 0, O_OUT},     {"resume", no_argument, 0, O_RESUME},
      {"dry-run", no_argument, 0, O_DRY},       {"help", no_argument, 0, O_HELP},
      {"progress-every", required_argument, 0, O_PROGRESS},
      {"require", required_argument, 0, O_REQUIRE},
      {"cgroup-parent", required_argument, 0, O_CGROUP_PARENT},
      {"json", no_argument, 0, O_JSON},         {"replay", required_argument, 0, O_REPLAY},
      {0, 0, 0, 0},
  };
  struct cab_sweep_opts o = {.out = stdout, .progress = stderr};
  cab_error err = {0};
  opterr = 0;
  optind = 1;
  int opt;
  while ((opt = getopt_long(argc, argv, "j:", longopts, NULL)) != -1) {
    char *end = NULL;
    switch (opt) {
    case 'j':
      o.jobs = strtol(optarg, &end, 10);
      if (*end || end == optarg || o.jobs < 1 || o.jobs > 100000) {
        cab_error_set(&err, 0, "sweep: -j %s: expected a whole number from 1", optarg);
        return cab_cli_fail(&err);
      }
      break;
    case O_SHARD:
      if (cab_sweep_parse_shard(optarg, &o.shard_k, &o.shard_n, &err) < 0)
        return cab_cli_fail(&err);
      break;
    case O_PROGRESS:
      o.progress_every_s = strtod(optarg, &end);
      if (*end || end == optarg || o.progress_every_s <= 0) {
        cab_error_set(&err, 0, "sweep: --progress-every %s: expected seconds", optarg);
        return cab_cli_fail(&err);
      }
      break;
    case O_REQUIRE: {
      cab_protection_set set;
      if (cab_protection_parse(optarg, "sweep: --require", &set, &err) < 0)
        return cab_cli_fail(&err);
      o.require = set;
      o.require_given = true;
      break;
    }
    case O_CGROUP_PARENT: o.cgroup_parent = optarg; break;
    case O_REPLAY: o.replay_dir = optarg; break;
    case O_OUT: o.out_dir = optarg; break;
    case O_RESUME: o.resume = true; break;
    case O_DRY: o.dry_run = true; break;
    case O_JSON: o.json = true; break;
    case O_HELP: return cab_cli_help(sweep_usage);
    default:
      return cab_cli_option_error("sweep", longopts, argv);
    }
  }
  if (optind + 1 != argc)
    return cab_cli_usage_error("sweep", "usage: cab sweep PLAN.json [OPTIONS]");
  o.plan_path = argv[optind];
  o.progress_tty = isatty(STDERR_FILENO);
  if (cab_sweep_run(&o, &err) < 0)
    return cab_cli_fail(&err);
  return 0;
}

static const char merge_usage[] =
    "usage: cab merge DIR... --out DIR\n"
    "\n"
    "Combine sweep outputs (e.g. the shards of 'cab sweep --shard K/N') into one\n"
    "results tree: every cell directory is hard-linked (or copied) to the same path\n"
    "under --out.  A cell found twice must have identical cell.json files; a\n"
    "conflict is refused before anything is written.\n";

int
cab_cmd_merge(int argc, char **argv)
{
  enum { O_OUT = 256, O_HELP };
  static const struct option longopts[] = {
      {"out", required_argument, 0, O_OUT}, {"help", no_argument, 0, O_HELP}, {0, 0, 0, 0}};
  const char *out = NULL;
  cab_error err = {0};
  opterr = 0;
  optind = 1;
  int opt;
  while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
    switch (opt) {
    case O_OUT: out = optarg; break;
    case O_HELP: return cab_cli_help(merge_usage);
    default:
      return cab_cli_option_error("merge", longopts, argv);
    }
  }
  if (out == NULL || optind >= argc) {
    cab_error_set(&err, 0, "merge: usage: cab merge DIR... --out DIR");
    return cab_cli_fail(&err);
  }
  struct cab_merge_summary sum;
  if (cab_sweep_merge(argv + optind, (size_t)(argc - optind), out, &sum, &err) < 0)
    return cab_cli_fail(&err);
  printf("merged %lu cells into %s (%lu already there or duplicated; %lu files linked, %lu "
         "copied)\n",
         sum.cells, out, sum.duplicates, sum.linked_files, sum.copied_files);
  return 0;
}
