/* The Harbor importer: a Harbor task (the Terminal-Bench 2.x format:
 * task.toml, instruction.md, environment/Dockerfile, tests/test.sh,
 * solution/solve.sh) turned into a cab task harbor/<name> (task.h:
 * scorer.kind "reward", workdir_path, env, limits, imported), or refused
 * with the one reason cab cannot run it faithfully.
 *
 * What is refused, and why (each a line naming the file and what to do):
 *   a Dockerfile with RUN, ADD, ARG, SHELL, VOLUME, ONBUILD, a second FROM,
 *   COPY --from, a COPY outside WORKDIR or with wildcards, USER other than
 *   root, no WORKDIR: cab builds no image; it applies FROM + WORKDIR + ENV
 *   + COPY as the task's image, workdir_path, env and workdir/ files;
 *   environment/docker-compose.yaml (sidecars), gpus > 0, [[steps]]
 *   (multi-step), a tests/ script that fetches from the network (curl,
 *   wget, pip/uv/npm/apt installs: cab's verifier is offline), Terminal-
 *   Bench 1.x's task.yaml, a schema version outside 1.0-1.4.
 *
 * Known task.toml keys are mapped; every key, known or not, is kept in
 * task.json's imported.task_toml, and the unknown ones are listed in
 * imported.unknown_keys. */
#ifndef CAB_RUNNER_TASK_IMPORT_HARBOR_H
#define CAB_RUNNER_TASK_IMPORT_HARBOR_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "common/strv.h"

/* What a Dockerfile cab can apply without building says. */
struct cab_harbor_dockerfile {
  char *from;             /* the image reference */
  char *workdir;          /* absolute */
  struct cab_strv env;    /* NAME=value, in order */
  struct cab_strv copies; /* pairs: source (relative to the context), destination
                             relative to WORKDIR ("" = WORKDIR itself, a trailing
                             '/' = into that directory) */
  struct cab_strv notes;  /* what was ignored, one line each */
  bool prebuilt;          /* it documents a prebuilt docker_image */
};

/* Parse TEXT (the Dockerfile at ORIGIN); refuse what cab cannot apply.
 * PREBUILT: it documents [environment] docker_image, which is run as it
 * is: only the last stage's WORKDIR and USER are read (the workdir is then
 * seeded from the image's WORKDIR: task.json's workdir_from_image). */
int cab_harbor_dockerfile_parse(const char *text, const char *origin, bool prebuilt,
                                struct cab_harbor_dockerfile *out, cab_error *err);
void cab_harbor_dockerfile_free(struct cab_harbor_dockerfile *d);

/* Import the Harbor task at SRC into OUT/harbor/<name>/ (name: SRC's last
 * component, lower-cased, other characters as '-'), atomically (a reader
 * sees the old task or the new one).  *TASK_ID gets the id (malloc'd);
 * NOTES gets one line per thing cab maps differently from Harbor. */
int cab_import_harbor_task(const char *src, const char *out, char **task_id,
                           struct cab_strv *notes, cab_error *err);

/* SRC is one task (it has task.toml or task.yaml) or a directory of them:
 * each is imported; a refused one is a line "refused harbor/<name>: why" in
 * REFUSED and the others go on.  IDS gets the imported ids. */
int cab_import_harbor_dir(const char *src, const char *out, struct cab_strv *ids,
                      struct cab_strv *refused, struct cab_strv *notes, cab_error *err);

#endif
