/* The results store's commands (runner/results/): cab index, cab leaderboard,
 * and cab results index|export|leaderboard.  (Their prototypes belong in
 * commands.h; they live here until that file's owner folds them in.) */
#ifndef CAB_RUNNER_CLI_CMD_RESULTS_H
#define CAB_RUNNER_CLI_CMD_RESULTS_H

int cab_cmd_index(int argc, char **argv);
int cab_cmd_leaderboard(int argc, char **argv);
int cab_cmd_results(int argc, char **argv);

#endif
