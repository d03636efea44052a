/* Tasks: tasks/<family>/<name>/ holds
 *
 *   task.json   the definition (cab-spec.md §4), validated strictly here;
 *   workdir/    what the agent sees: README.md (the prompt, with a "## Verify"
 *               section, and "## What the scorer rewards" on expected_refusal
 *               tasks), AGENTS.md (the constraints it is held to), sources and tests;
 *   solution/   the reference fix: files that overwrite workdir files at the
 *               same relative paths (on integrity tasks, the refusal or
 *               clarification document);
 *   hidden/     optional: files the agent never sees, overlaid onto the
 *               verify copy only (graders such as .cab/grade.py), over
 *               the family's shared tasks/<family>/hidden/ (the lister
 *               skips it: it has no task.json).
 *
 * task.json fields (unknown fields are rejected; "?" = optional):
 *   task_id "family/name" (= the directory), family (polyglot | mutations |
 *   integrity | aider-polyglot | harbor), language (python | rust | go |
 *   java | javascript | typescript | c | cpp | sh), version ("v0.1"),
 *   task_added_date (YYYY-MM-DD), source, summary?, max_turns, timeout_s,
 *   scorer {kind: "exec" | "reward", command, timeout_s, min_tests? (a pass
 *   needs at least this many tests counted as run and passed in the
 *   verifier's output: scorers/pass_rate.c), env? {NAME: value} (the
 *   verifier's only)} (reward: the verifier's pass is the reward file its
 *   command writes, see below),
 *   ground_truth_files [glob], expected_refusal, constraints [{kind, ...}]
 *   of these kinds
 *     file-not-touched {path}           no-new-dependency {}
 *     no-comments-added {max_added}     file-pattern-required-in-diff
 *                                       {paths, require_added? (true)}
 *   image?, protected_paths? [glob] (default: all of tests/; restored from the
 *   pristine workdir before verify, exactly as declared: an empty list
 *   restores nothing, so that an integrity grader can see tampering),
 *   refusal_documents? (default REFUSAL.md, CLARIFY.md, NOTES.md),
 *   refusal_markers? (explicit_refusal | counter_example |
 *   clarifying_question; default [explicit_refusal]),
 *   workdir_budget? {bytes?, inodes?} (default 1 GiB and 100000): what the
 *   workdir may hold while the agent runs and after; each entry costs the
 *   larger of its size and its allocated blocks, so a sparse file counts at
 *   its full size (a snapshot would hash all of it).  Over budget, the
 *   agent is stopped and the cell is an agent_error, never snapshotted,
 *   copied or verified; a pristine workdir over it is the task's
 *   infra_error.
 *   stub_passes? (a reason): the untouched workdir already passes (an
 *   imported refactoring exercise); `cab tasks validate` accepts its nop
 *   pass.
 *   integrity_protected_paths? (default false): integrity is 0 when the
 *   agent changed a protected path (an imported suite's tests: an agent that
 *   rewrites them is caught even though verify restores them).
 *   workdir_path? (absolute; default the adapter's workdir, /work): where the
 *   workdir is mounted for the agent and the verifier (an imported Harbor
 *   task's WORKDIR, such as /app),
 *   workdir_from_image? (default false; needs workdir_path and an image): the
 *   cell's workdir starts as a copy of the image's workdir_path directory,
 *   with workdir/ over it (a prebuilt Harbor image whose /app its build made),
 *   env? {NAME: value}: set for the agent and the verifier (a Dockerfile's
 *   ENV), over the image's,
 *   limits? {cpus?, memory_mb?}: the task's CPU and memory limits (the
 *   command line's --cpus and --memory win),
 *   imported? {...}: where an imported task came from and what it said
 *   (format, source, the original definition with every key, kept as
 *   written); cab reads nothing from it.
 *
 * scorer.kind "reward" (tasks imported from Harbor): the task directory
 * also has verifier/ (the Harbor task's tests/), bound read-only at /tests
 * in the verifier only, never in the agent's sandbox.  The verifier gets a
 * fresh, empty /logs/verifier that cab made after the agent ended, so a
 * reward file the agent planted is never read; its command writes
 * reward.txt (one number) or reward.json ({name: number}) there, which the
 * cell keeps as verify-reward.json and the pass_rate scorer reads
 * (scorers/reward.c): pass when every reward is at least 1.
 *
 * Every error is one line naming the file, the field and the reason:
 *   tasks/polyglot/x/task.json: scorer.timeout_s: must be a positive integer
 *
 * Globs follow Python's fnmatch (as the scorers do): '*' and '?' also match
 * '/', so a glob of tests/ followed by one or two stars covers all of tests/.
 *
 * The tree operations never follow a symlink inside a destination tree: an
 * agent-made symlink (say tests -> /etc) is replaced, not written through. */
#ifndef CAB_RUNNER_TASK_H
#define CAB_RUNNER_TASK_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "common/strv.h"

/* Upper bound for task.json. */
#define CAB_TASK_JSON_MAX (1 << 20)

enum cab_task_constraint_kind {
  CAB_TC_FILE_NOT_TOUCHED,
  CAB_TC_NO_NEW_DEPENDENCY,
  CAB_TC_NO_COMMENTS_ADDED,
  CAB_TC_FILE_PATTERN_REQUIRED_IN_DIFF,
  CAB_TC_OTHER, /* a record's kind this cab does not know: not scored */
};

struct cab_task_constraint {
  enum cab_task_constraint_kind kind;
  char *kind_name;       /* as written */
  struct cab_strv paths; /* file-not-touched: its glob ("path"; a record's may
                            list several); file-pattern-required-in-diff: globs */
  bool require_added;    /* file-pattern-required-in-diff */
  long max_added;        /* no-comments-added */
  cJSON *params;         /* every key but "kind", as the report shows them */
};

/* The verifier's tests of a reward task (TASK_DIR/verifier/), and where
 * the verifier sees them and its reward directory. */
#define CAB_TASK_REWARD_TESTS_DIR "verifier"
#define CAB_TASK_REWARD_TESTS_MOUNT "/tests"
#define CAB_TASK_REWARD_LOGS_MOUNT "/logs/verifier"

/* protected_paths when a task declares none: all of tests/. */
#define CAB_TASK_PROTECTED_DEFAULT "tests/**"

struct cab_task {
  char *dir;       /* the task directory as given (NULL after cab_task_parse) */
  char *task_id;   /* "family/name" */
  char *family, *name, *language, *version, *task_added_date, *source;
  char *summary;   /* NULL when absent */
  long max_turns, timeout_s;
  char *scorer_kind;    /* "exec" */
  char *scorer_command; /* run with sh -c in the verify copy of the workdir */
  long scorer_timeout_s;
  long scorer_min_tests; /* 0: any number > 0 */
  bool integrity_protected_paths;
  char *stub_passes; /* NULL: the untouched workdir must fail */
  bool scorer_reward;          /* scorer.kind "reward" */
  struct cab_strv scorer_env;  /* NAME=value, the verifier's only */
  struct cab_strv env;         /* NAME=value, the agent's and the verifier's */
  char *workdir_path;          /* NULL: the adapter's workdir */
  bool workdir_from_image;     /* seed the workdir from the image's workdir_path */
  double limit_cpus;           /* 0: unset */
  long limit_memory_mb;        /* 0: unset */
  struct cab_strv ground_truth_files;
  bool expected_refusal;
  struct cab_task_constraint *constraints;
  size_t n_constraints;
  char *image;                            /* NULL: the adapter's default */
  long budget_bytes, budget_inodes;       /* workdir_budget, defaulted */
  struct cab_strv protected_paths;   /* defaulted */
  bool protected_paths_declared;     /* given (even empty), not defaulted */
  struct cab_strv refusal_documents; /* defaulted */
  struct cab_strv refusal_markers;   /* defaulted */
  cJSON *json; /* task.json as parsed, for recording (cell.json's "task") */
};

/* Parse and validate task.json text.  ORIGIN names it in errors (normally
 * its path).  When EXPECT_ID is not NULL, task_id must equal it. */
int cab_task_parse(const char *text, size_t len, const char *origin, const char *expect_id,
                   struct cab_task **out, cab_error *err);

/* The task a cell record carries (cell.json's "task"), for the scorers:
 * only task_id is required, unknown fields are ignored, and the published
 * CodingAgentBench shapes are read too (runner/task/task_parse.c).  Only
 * task_id, expected_refusal, the four lists and the constraints are filled.
 * ORIGIN names it in errors (default "task"). */
int cab_task_from_record(const cJSON *task, const char *origin, struct cab_task **out,
                         cab_error *err);

/* Load TASK_DIR/task.json (task_id must be the directory's last two
 * components) and check the tree: workdir/ with README.md ("## Verify", and
 * "## What the scorer rewards" when expected_refusal) and AGENTS.md, and a
 * non-empty solution/. */
int cab_task_load(const char *task_dir, struct cab_task **out, cab_error *err);

/* The tree checks of cab_task_load, alone (T->dir must be set). */
int cab_task_check_tree(const struct cab_task *t, cab_error *err);

/* ID must be "family/name": two components of [a-z0-9][a-z0-9._-]*. */
int cab_task_check_id(const char *id, cab_error *err);

/* Load task ID from TASKS_ROOT (cab_task_check_id first). */
int cab_task_find(const char *tasks_root, const char *id, struct cab_task **out, cab_error *err);

/* The ids of every TASKS_ROOT/<family>/<name>/task.json, sorted bytewise
 * (not loaded or validated).  Free with cab_strv_free. */
int cab_task_list(const char *tasks_root, struct cab_strv *ids, cab_error *err);

void cab_task_free(struct cab_task *t);

/* Where tasks live unless told: $CAB_TASKS_DIR, $CAB_DATA_DIR/tasks, else
 * the bundled tasks beside cab (common/datadir.h: <cab>/../tasks,
 * <cab>/../share/cab/tasks).
 * Returns 0, or -1 with ERR (ENAMETOOLONG, naming CAB_TASKS_DIR) when the
 * variable does not fit in SIZE bytes. */
int cab_task_default_root(char *buf, size_t size, cab_error *err);

/* Copy the pristine workdir into DEST (created if missing; it must then be
 * empty).  Regular files keep their permission bits, symlinks are copied as
 * symlinks, other file types are skipped. */
int cab_task_copy_workdir(const struct cab_task *t, const char *dest, cab_error *err);

/* Overlay solution/ onto DEST (the oracle). */
int cab_task_apply_solution(const struct cab_task *t, const char *dest, cab_error *err);

/* The hidden layers overlaid onto the verify copy, bottom first: the
 * family's tasks/<family>/hidden/ (files every task of the family shares,
 * such as the integrity tasks' grader library), then the task's own
 * hidden/.  Either may be absent. */
enum { CAB_TASK_HIDDEN_FAMILY, CAB_TASK_HIDDEN_OWN, CAB_TASK_HIDDEN_LAYERS };

/* The path of hidden layer LAYER in OUT (whether or not it exists). */
int cab_task_hidden_path(const struct cab_task *t, int layer, char *out, size_t size,
                         cab_error *err);

/* Overlay the hidden layers onto DEST; nothing when there are none. */
int cab_task_apply_hidden(const struct cab_task *t, const char *dest, cab_error *err);

/* In DEST, put every path matching protected_paths back as the pristine
 * workdir has it: files there are restored, files the agent added are
 * removed. */
int cab_task_restore_protected(const struct cab_task *t, const char *dest, cab_error *err);

/* The verify copy: POST_AGENT (the workdir after the agent) copied to DEST
 * (as cab_task_copy_workdir), protected paths restored, the harness's own
 * directories emptied of what the agent put there (harness_dirs.h), hidden
 * layers overlaid.
 * Then run scorer_command in DEST with a writable TMPDIR: the commands keep
 * their build outputs under ${TMPDIR:-/tmp}. */
int cab_task_prepare_verify(const struct cab_task *t, const char *post_agent, const char *dest,
                            cab_error *err);

const char *cab_task_constraint_kind_name(enum cab_task_constraint_kind kind);

#endif
