/* What every command's option handling shares: one help style, one usage
 * error line, and a did-you-mean for unknown options and subcommands.
 *
 * A command parses with getopt_long and opterr = 0, lists --help in its
 * table, and on '?' or ':' returns cab_cli_option_error(): one line,
 *   cab: CMD: unknown option '--jsn'; did you mean '--json'? see 'cab CMD --help'
 * and exit 125. */
#ifndef CAB_RUNNER_CLI_OPTIONS_H
#define CAB_RUNNER_CLI_OPTIONS_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

/* ARG is --help or -h. */
bool cab_cli_is_help(const char *arg);

/* 'cab CMD --help': USAGE on stdout; returns 0, its exit code. */
int cab_cli_help(const char *usage);

/* One line "cab: CMD: MESSAGE; see 'cab CMD --help'" on stderr; returns 125. */
int cab_cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* After getopt_long (opterr = 0) returned OPT ('?' or ':') for ARGV: the
 * option it stopped at, unknown (with the nearest of LONGOPTS when one is
 * close), ambiguous, or missing or given a value it does not take, as
 * "CMD: unknown option '--jsn'; did you mean '--json'? see 'cab CMD
 * --help'" into ERR.  Returns -1. */
int cab_cli_bad_option(const char *cmd, int opt, char **argv, const struct option *longopts,
                       cab_error *err);

/* cab_cli_bad_option's line printed (cab_cli_fail); returns 125. */
int cab_cli_option_error(const char *cmd, const struct option *longopts, char **argv);

/* The options of a listing that takes only --json and --help (adapters
 * list, images, tasks list): sets *JSON.  Returns -1 when the command goes
 * on, else its exit code (0 after --help; 125 after a usage error, said). */
int cab_cli_json_only(const char *cmd, const char *usage, int argc, char **argv, bool *json);

/* The one of NAMES nearest to WORD when it is plausibly a typo of it (an
 * edit distance of at most a third of the name, plus one), else NULL. */
const char *cab_cli_nearest(const char *word, const char *const *names, size_t n);

/* 'cab CMD SUB' with SUB not one of SUBS (N): one line naming the nearest.
 * Returns 125. */
int cab_cli_bad_subcommand(const char *cmd, const char *sub, const char *const *subs, size_t n);

#endif
