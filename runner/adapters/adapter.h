/* Adapters: how to drive one agent CLI headless.  They are data files,
 * runner/adapters/<tui>.json ("cab.adapter/v1"); a new file is a new TUI,
 * with no code change (the built-in ones too: "mounts" and "sandbox" say
 * what sets their sandbox apart; README.md documents the fields).  Strings may use these placeholders, filled per cell:
 *   {endpoint}   the model base URL as the sandbox sees it (…/v1)
 *   {endpoint_root} the same without /v1 (for clients that add their own
 *                path: gemini-cli's GOOGLE_GEMINI_BASE_URL, goose's OPENAI_HOST)
 *   {model}      the model id, e.g. openai/gpt-oss-120b
 *   {key}        the placeholder key (the real one never enters the sandbox)
 *   {max_turns}  the task's turn budget
 *   {prompt}     the prompt text (the workdir's README.md)
 *   {prompt_file} its path inside the sandbox
 *   {workdir} {home} {task_id}
 *   {{ and }} are literal braces. */
#ifndef CAB_RUNNER_ADAPTER_H
#define CAB_RUNNER_ADAPTER_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

struct cab_adapter_file {
  char *path;       /* inside the sandbox; must not be under the workdir */
  char *content;    /* templated text; for a "json" value, its JSON text */
  bool json;        /* CONTENT is JSON: placeholders are filled in its strings */
  unsigned mode;
};

/* A host path bound into the agent's sandbox ("mounts"): PATH relative to
 * FROM's directory, so that an adapter file names no arbitrary host path. */
enum cab_mount_from {
  CAB_MOUNT_FROM_CAB,   /* "cab": the directory of cab's executable */
  CAB_MOUNT_FROM_TASK,  /* "task": the task's directory */
};

struct cab_adapter_mount {
  enum cab_mount_from from;
  char *path;       /* relative, without ".." */
  char *target;     /* absolute, inside the sandbox */
  bool readonly;    /* default true */
  char *missing;    /* when set: the source must exist, else the cell's
                       setup fails with this message */
};

/* The agent's sandbox ("sandbox"), as `cab exec` options: Docker's default
 * seccomp policy and capabilities unless the adapter says otherwise. */
struct cab_adapter_sandbox {
  char *seccomp;        /* default | verifier | unconfined, or NULL */
  bool read_only_proc;
  char **cap_add, **cap_drop;
  size_t n_cap_add, n_cap_drop;
};

struct cab_adapter {
  char *tui;
  char *description;
  char *image;          /* default image reference, or NULL */
  char *wire;           /* chat | responses | anthropic | gemini | none */
  char *workdir;        /* default /work */
  char *home;           /* the agent's HOME; config files live here */
  char *user;           /* "UID:GID" inside, or NULL for 0:0 */
  char *builtin;        /* oracle | nop | tamper | cab-agent, or NULL: a label only
                           (cab adapters list); what sets them apart is
                           data: mounts, argv */
  char **env;           /* "K=V" templates */
  size_t n_env;
  struct cab_adapter_file *files;
  size_t n_files;
  struct cab_adapter_mount *mounts;
  size_t n_mounts;
  struct cab_adapter_sandbox sandbox;
  char **argv;          /* templates */
  size_t n_argv;
  char **max_turns_args; /* appended when the task has max_turns */
  size_t n_max_turns_args;
  char **state_paths;
  size_t n_state_paths;
  char *tokens_prompt_regex;     /* optional: token counts from stdout */
  char *tokens_completion_regex;
  char *source_path;    /* the file it came from */
};

/* TUI.json from the data-file search order (common/datadir.h), first hit
 * wins: $CAB_ADAPTERS_DIR, $CAB_DATA_DIR/adapters, <cab>/../runner/adapters,
 * <cab>/../share/cab/adapters.  Where none of them exists, the error says
 * where cab looked and how to give it its adapters. */
int cab_adapter_load(const char *tui, struct cab_adapter **out, cab_error *err);
int cab_adapter_load_file(const char *path, struct cab_adapter **out, cab_error *err);
void cab_adapter_free(struct cab_adapter *a);

/* Names of every adapter found, sorted; free with cab_adapter_names_free.
 * An error (not an empty list) when no adapter directory exists. */
int cab_adapter_list(char ***names, size_t *n, cab_error *err);
void cab_adapter_names_free(char **names, size_t n);

struct cab_template_vars {
  const char *endpoint, *endpoint_root, *model, *key, *prompt, *prompt_file, *workdir, *home,
      *task_id;
  int max_turns;
};

/* Expand placeholders in TEMPLATE; malloc'd result.  Unknown placeholders
 * are an error naming the adapter file. */
int cab_template_expand(const char *tmpl, const struct cab_template_vars *v, const char *where,
                        char **out, cab_error *err);

/* An adapter with every placeholder filled: what a cell runs and writes. */
struct cab_adapter_rendered {
  char **argv;          /* NULL-terminated; the max_turns args included */
  size_t n_argv;
  char **env;           /* "K=V", the adapter's own */
  size_t n_env;
  struct cab_adapter_file *files; /* path (inside the sandbox, under home), content */
  size_t n_files;
};

/* Fill A's templates with V (adapter_render.c).  MAX_TURNS > 0 adds the
 * max_turns args.  Every file path must lie under A's home.  Errors name the
 * adapter file. */
int cab_adapter_render(const struct cab_adapter *a, const struct cab_template_vars *v,
                       struct cab_adapter_rendered *out, cab_error *err);
void cab_adapter_rendered_free(struct cab_adapter_rendered *r);

/* A and R as `cab adapters render` prints them: tui, wire, workdir, home,
 * argv, env (an object) and files (path, mode "0644", content).  NULL on
 * memory exhaustion. */
struct cJSON *cab_adapter_rendered_json(const struct cab_adapter *a,
                                        const struct cab_adapter_rendered *r);

#endif
