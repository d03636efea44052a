/* What the commands share about options: the one error line for an unknown
 * or incomplete option, with the nearest known option as a suggestion. */
#ifndef CAB_RUNNER_CLI_OPTIONS_H
#define CAB_RUNNER_CLI_OPTIONS_H

#include <getopt.h>
#include <stddef.h>

#include "common/error.h"

/* After getopt_long (OPTSTRING starting with ':') returned OPT ('?' or ':')
 * for ARGV: "CMD: unknown option '--jsn'; did you mean '--json'? see 'cab
 * CMD --help'" (or "option '--out' needs a value") into ERR.  Returns -1. */
int cab_cli_bad_option(const char *cmd, int opt, char **argv, const struct option *longopts,
                       cab_error *err);

/* The one of NAMES nearest to WORD when it is plausibly a typo of it (an
 * edit distance of at most a third of the name, plus one), else NULL. */
const char *cab_cli_nearest(const char *word, const char *const *names, size_t n);

#endif
