/* cab-agent's tools: read_file, write_file, list_dir, run and finish.
 *
 * Paths are relative to the workdir.  Absolute paths, and ".." that would
 * climb above the workdir, are refused lexically; then every open goes
 * through openat2(RESOLVE_BENEATH) from the workdir, so a symlink cannot
 * lead outside either.  On kernels without openat2 each component is opened
 * with O_NOFOLLOW instead (symlinks are then refused; CAB_AGENT_NO_OPENAT2=1
 * forces that path, for tests).  A refused path is an
 * error result for the model, never a crash. */
#ifndef CAB_AGENT_TOOLS_H
#define CAB_AGENT_TOOLS_H

#include <stdbool.h>
#include <stddef.h>

#include "json.h"

#define TOOL_READ_MAX (64 * 1024)     /* bytes of a file returned by read_file */
#define TOOL_RUN_OUTPUT_MAX (16 * 1024) /* bytes of run output returned */
#define TOOL_RUN_TIMEOUT_S 60
#define TOOL_LIST_MAX 1000            /* entries returned by list_dir */

struct tool_result {
  char *call;      /* one line for the transcript: the tool and its argument */
  char *content;   /* what the model gets (malloc'd) */
  char *summary;   /* one line for the transcript (malloc'd) */
  bool error;
  bool finish;     /* the finish tool was called */
};

/* Open the workdir (kept for the whole run) and install the SIGTERM, SIGINT
 * and SIGHUP handlers that kill a running command's process group before
 * the agent dies.  0, or -1 with ERR. */
int tools_init(const char *workdir, char *err, size_t errlen);

/* The "tools" array of the request, in OpenAI function-calling form. */
struct json *tools_schema(void);

/* Run tool NAME with ARGS, the call's "arguments" (a JSON text). */
void tool_call(const char *name, const char *args, size_t args_len, struct tool_result *r);
void tool_result_free(struct tool_result *r);

/* Normalize a workdir-relative PATH into OUT ("." for the workdir itself).
 * 0, or -1 with a reason for the model in ERR.  (Exposed for the tests.) */
int tools_normalize_path(const char *path, size_t len, char *out, size_t outlen, char *err,
                         size_t errlen);

#endif
