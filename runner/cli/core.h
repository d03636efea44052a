/* The two cab binaries.  build/cab is the core, built from main.c,
 * cmd_exec.c, exec_run.c and cmd_doctor.c with -DCAB_CORE: exec, doctor, version and help, linked
 * with only the sandbox's libraries (and the store's reading side, which
 * needs none more) so that "cab exec" starts fast, with an image too.  Every
 * other command, "cab exec IMAGE" for an image still to unpack, and "--net
 * model" run cab-full beside it (every command, all the libraries) with the
 * same argv. */
#ifndef CAB_RUNNER_CLI_CORE_H
#define CAB_RUNNER_CLI_CORE_H

#ifdef CAB_CORE
/* execv() cab-full (in the directory of /proc/self/exe) with main()'s argv.
 * Returns only on failure, having said so on stderr: CAB_EXIT_RUNNER. */
int cab_core_run_full(void);
#endif

#endif
