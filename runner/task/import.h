/* Importers: a task suite in another format (the Aider polyglot benchmark,
 * Harbor) turned into cab tasks (tasks/README.md's layout) under a tasks
 * directory.  One const ops struct per format; `cab tasks import --format
 * NAME` (runner/cli/cmd_tasks.c) finds it in its table.  Adding a format:
 * runner/task/import_<name>.c defining its ops, its declaration below, and
 * its row in the CLI's table.
 *
 * Every importer writes each task atomically (cab_import_stage, then
 * cab_import_publish: a reader sees the old task or the new one, never half
 * of one), is idempotent (the same suite imports to the same bytes), and
 * stops at the first malformed source with one line naming the file, the
 * field and what to do. */
#ifndef CAB_RUNNER_TASK_IMPORT_H
#define CAB_RUNNER_TASK_IMPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "common/strv.h"

struct cab_import_request {
  const char *src;  /* the suite's directory, as given */
  const char *out;  /* the tasks directory written into (created if missing) */
  const char *lang; /* --lang: only this language (NULL: all); for formats with languages */
};

struct cab_import_report {
  struct cab_strv imported; /* the task ids written, in order */
  struct cab_strv notes;    /* one line each: what was left out and why */
};

struct cab_import_ops {
  const char *format;  /* --format NAME */
  const char *summary; /* one line for the usage */
  bool takes_lang;     /* --lang means something to it */
  int (*import)(const struct cab_import_request *req, struct cab_import_report *rep,
                cab_error *err);
};

extern const struct cab_import_ops cab_import_aider_polyglot; /* import_aider.c */
extern const struct cab_import_ops cab_import_harbor;         /* import_harbor.c */

void cab_import_report_free(struct cab_import_report *rep);

/* A fresh staging directory OUT/.import-XXXXXX (OUT created if missing), on
 * the same file system as the tasks it will become. */
int cab_import_stage(const char *out, char *stage, size_t size, cab_error *err);

/* Put the staged task STAGE in place as OUT/<task_id>: swapped with the
 * task already there (renameat2 RENAME_EXCHANGE) or renamed into place;
 * the old tree (or a failed stage) is removed. */
int cab_import_publish(const char *stage, const char *out, const char *task_id, cab_error *err);

#endif
