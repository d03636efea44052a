/* The workdir's change list: what the snapshot's diff produces (runner/cell/
 * snapshot.h), the cell keeps as changes.json, and the scorers read back.
 * The record owns it, as it owns every artifact's name and form, so that
 * the snapshot and the scorers share a type without reaching each other. */
#ifndef CAB_RUNNER_RECORD_CHANGES_H
#define CAB_RUNNER_RECORD_CHANGES_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/strv.h"

enum cab_change_status { CAB_CHANGE_ADDED, CAB_CHANGE_REMOVED, CAB_CHANGE_MODIFIED };

/* What changed in a modified entry (bits). */
enum { CAB_KIND_CONTENT = 1, CAB_KIND_MODE = 2, CAB_KIND_TYPE = 4 };

struct cab_change {
  char *path;                    /* repo-relative, '/'-separated */
  enum cab_change_status status;
  unsigned kinds;                /* CAB_KIND_* (added/removed: CONTENT) */
  uint32_t old_mode, new_mode;   /* git modes: 0100644, 0100755, 0120000; 0 = absent */
  bool binary;
};

struct cab_change_list {
  struct cab_change *items;
  size_t n, cap;
  bool extra_git_dir;            /* the agent created a .git (not listed) */
  struct cab_strv git_dirs;   /* the .git paths it created */
};

void cab_change_list_add(struct cab_change_list *l, const char *path,
                         enum cab_change_status status, unsigned kinds, uint32_t old_mode,
                         uint32_t new_mode, bool binary);
void cab_change_list_free(struct cab_change_list *l);
/* changes.json: {"schema":"cab.changes/v1","extra_git_dir":..,"git_dirs":[..],
 * "changes":[{"path","status","kinds":[..],"old_mode":"100644","new_mode",
 * "binary"}..]} */
cJSON *cab_changes_to_json(const struct cab_change_list *l);
int cab_changes_from_json(const cJSON *j, struct cab_change_list *out, cab_error *err);
const char *cab_change_status_name(enum cab_change_status s);

#endif
