/* One entry point per CLI command; each returns the process exit code. */
#ifndef CAB_RUNNER_CLI_COMMANDS_H
#define CAB_RUNNER_CLI_COMMANDS_H

int cab_cmd_exec(int argc, char **argv);
int cab_cmd_doctor(int argc, char **argv);
int cab_cmd_pull(int argc, char **argv);
int cab_cmd_import(int argc, char **argv);
int cab_cmd_export(int argc, char **argv);
int cab_cmd_images(int argc, char **argv);
int cab_cmd_inspect(int argc, char **argv);
int cab_cmd_rmi(int argc, char **argv);
int cab_cmd_gc(int argc, char **argv);
int cab_cmd_score(int argc, char **argv);
int cab_cmd_model_server(int argc, char **argv);
int cab_cmd_run_cell(int argc, char **argv);
int cab_cmd_adapters(int argc, char **argv);
int cab_cmd_tasks(int argc, char **argv);
int cab_cmd_unpack(int argc, char **argv);
int cab_cmd_slurm(int argc, char **argv);
int cab_cmd_sweep(int argc, char **argv);
int cab_cmd_merge(int argc, char **argv);
int cab_cmd_index(int argc, char **argv);
int cab_cmd_leaderboard(int argc, char **argv);
int cab_cmd_results(int argc, char **argv);
int cab_cmd_compare(int argc, char **argv);
int cab_cmd_report(int argc, char **argv);

/* Print ERR as cab's one line on stderr and return its exit code. */
struct cab_error;
int cab_cli_fail(const struct cab_error *err);

#endif
