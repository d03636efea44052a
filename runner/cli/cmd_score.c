/* cab score CELL_DIR [--profile P] [--compact]
 * cab score --all DIR --profile P [--json] [--db FILE]
 *
 * Re-scores a cell from its artifacts (the mapping is in scorers/scorers.h),
 * prints the scorers object, and compares it with the one cell.json records,
 * axis by axis, byte for byte (as printed by cab_json_print).  Exit 0 when
 * they match (or nothing is recorded, or --profile chose a profile other
 * than the recorded one), 1 on drift, 125 when the cell cannot be read.
 * With --all, every cell below DIR is re-scored under P (cell.json is left
 * as it is) into an index (--db FILE or the user's cache, runner/results/),
 * and the leaderboard under P is printed. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "runner/cli/commands.h"
#include "runner/cli/options.h"
#include "runner/cli/results_run.h"
#include "runner/results/results.h"
#include "scorers/scorers.h"

static void
usage(FILE *out)
{
  fputs("usage: cab score CELL_DIR [--profile NAME|FILE] [--compact]\n"
        "       cab score --all DIR --profile NAME|FILE [--json] [--db FILE]\n"
        "\n"
        "Re-score a cell from its artifacts (cell.json, changes.json, diff.patch,\n"
        "verify.log, agent.log, model_calls.jsonl) and compare with cell.json's scorers.\n"
        "\n"
        "  --profile P   scoring profile: codingagentbench-v0.1 (default), cab-v1, or a file;\n"
        "                without it, the profile cell.json was scored with\n"
        "  --compact     print the JSON on one line\n"
        "  --all DIR     re-score every cell below DIR under --profile (its cell.json files\n"
        "                are not changed), index them and print the leaderboard under it\n"
        "  --json        with --all: the leaderboard as JSON (schema cab.leaderboard/v1)\n"
        "  --db FILE     with --all: build the re-scored index at FILE (default: a file in\n"
        "                ${XDG_CACHE_HOME:-~/.cache}/cab/results/; stderr says which);\n"
        "                'cab leaderboard FILE' prints it again\n"
        "\n"
        "exit: 0 scores match cell.json, 1 they differ (under another --profile too),\n"
        "125 the cell cannot be read;\n"
        "with --all: 0, or 125 when no cell can be re-scored\n",
        out);
}

/* --all DIR: every cell re-scored under PROFILE into an index, and its
 * leaderboard. */
static int
score_all(const char *dir, const char *profile, bool json, const char *db_path, const char *extra)
{
  cab_error err = {0};
  if (extra) {
    cab_error_set(&err, 0, "score: --all takes the results directory; '%s' is one argument too "
                           "many", extra);
    return cab_cli_fail(&err);
  }
  if (profile == NULL) {
    cab_error_set(&err, 0, "score: --all needs --profile NAME|FILE (the profile to re-score "
                           "under: codingagentbench-v0.1, cab-v1 or a file)");
    return cab_cli_fail(&err);
  }
  struct cab_results_opts o = {.warn = stderr, .profile = profile, .db = db_path};
  struct cab_leaderboard_opts lo = {.json = json};
  return cab_cli_results_run("score --all", dir, &o, cab_cli_leaderboard_query, &lo, false);
}

int
cab_cmd_score(int argc, char **argv)
{
  enum { O_ALL = 256, O_JSON, O_DB };
  static const struct option opts[] = {
      {"profile", required_argument, NULL, 'p'},
      {"compact", no_argument, NULL, 'c'},
      {"all", required_argument, NULL, O_ALL},
      {"json", no_argument, NULL, O_JSON},
      {"db", required_argument, NULL, O_DB},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  const char *profile = NULL, *all = NULL, *db_path = NULL;
  bool compact = false, json = false;
  int c;
  cab_error err = {0};
  opterr = 0;
  optind = 1;
  while ((c = getopt_long(argc, argv, ":p:ch", opts, NULL)) != -1) {
    switch (c) {
    case 'p':
      profile = optarg;
      break;
    case 'c':
      compact = true;
      break;
    case O_ALL: all = optarg; break;
    case O_JSON: json = true; break;
    case O_DB: db_path = optarg; break;
    case 'h':
      usage(stdout);
      return 0;
    default:
      cab_cli_bad_option("score", c, argv, opts, &err);
      return cab_cli_fail(&err);
    }
  }
  if (all)
    return score_all(all, profile, json, db_path, optind < argc ? argv[optind] : NULL);
  if (json || db_path)
    return cab_cli_usage_error("score", "--json and --db go with --all DIR");
  if (optind != argc - 1) {
    fprintf(stderr, "cab score: give exactly one CELL_DIR\n");
    usage(stderr);
    return CAB_EXIT_RUNNER;
  }
  const char *dir = argv[optind];

  struct cab_cell_artifacts a;
  if (cab_cell_artifacts_load(dir, &a, &err) < 0)
    return cab_cli_fail(&err);
  const char *recorded_profile = a.record.environment.scoring_profile;
  if (recorded_profile && *recorded_profile == '\0')
    recorded_profile = NULL;
  const char *use = profile ? profile : recorded_profile;
  struct cab_profile p;
  if (cab_profile_load(use, &p, &err) < 0) {
    cab_cell_artifacts_free(&a);
    return cab_cli_fail(&err);
  }
  struct cab_scores mine;
  cab_score_all(&a.inputs, &p, &mine);
  const cJSON *scores = mine.json;
  cleanup_free char *text = cab_json_print(scores, !compact);
  printf("%s\n", text);

  int rc = 0;
  const cJSON *rec = a.record.has_scores ? a.record.scores.json : NULL;
  bool other_profile = profile && recorded_profile && strcmp(p.name, recorded_profile) != 0;
  if (!cJSON_IsObject(rec)) {
    fprintf(stderr, "cab score: %s: cell.json records no scorers; nothing to compare\n", dir);
  } else {
    char differ[512] = "";
    size_t used = 0;
    const cJSON *axis;
    cJSON_ArrayForEach(axis, rec) {
      const cJSON *now = cJSON_GetObjectItemCaseSensitive(scores, axis->string);
      cleanup_free char *x = cab_json_print(axis, false);
      cleanup_free char *y = now ? cab_json_print(now, false) : NULL;
      if (y == NULL || strcmp(x, y) != 0)
        used += (size_t)snprintf(differ + used, used < sizeof differ ? sizeof differ - used : 0,
                                 "%s%s", used ? ", " : "", axis->string);
      if (used >= sizeof differ)
        used = sizeof differ - 1;
    }
    if (differ[0] == '\0') {
      fprintf(stderr, "cab score: %s: scorers match cell.json (profile %s)\n", dir, p.name);
    } else {
      fprintf(stderr, "cab score: %s: scorers differ from cell.json in: %s (profile %s%s)\n", dir,
              differ, p.name, other_profile ? ", not the recorded one" : "");
      rc = 1;
    }
  }
  cab_scores_free(&mine);
  cab_cell_artifacts_free(&a);
  return rc;
}
