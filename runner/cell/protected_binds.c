#include "runner/cell/protected_binds.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/dir_iter.h"
#include "common/glob.h"
#include "runner/task/harness_dirs.h"

/* What a directory of the verify copy holds. */
enum holds { HOLDS_NONE, HOLDS_SOME, HOLDS_ALL };

struct walk {
  const struct cab_task *t;
  const struct cab_task_layers *layers; /* the hidden layers and the pristine workdir */
  const char *verify, *dst_root;
  struct cab_protected_binds *out;
  cab_error *err;
};

/* Whether a hidden layer holds REL: the harness put it in the verify copy. */
static bool
in_hidden(const struct walk *w, const char *rel)
{
  struct stat st;
  for (int i = 0; i < CAB_TASK_HIDDEN_LAYERS; i++)
    if (w->layers->hidden[i] >= 0 &&
        fstatat(w->layers->hidden[i], rel, &st, AT_SYMLINK_NOFOLLOW) == 0)
      return true;
  return false;
}

static bool
protected_entry(const struct walk *w, const char *rel)
{
  return cab_glob_any(w->t->protected_paths.v, w->t->protected_paths.n, rel) ||
         in_hidden(w, rel);
}

/* Whether directory REL can hold a protected path at all: a hidden layer has it,
 * or a glob's literal start (up to its first wildcard) agrees with "REL/".
 * A workdir's node_modules/ or target/ is then skipped, not walked. */
static bool
may_hold(const struct walk *w, const char *rel)
{
  if (in_hidden(w, rel))
    return true;
  size_t rl = strlen(rel);
  for (size_t i = 0; i < w->t->protected_paths.n; i++) {
    const char *g = w->t->protected_paths.v[i];
    size_t lit = strcspn(g, "*?[");
    size_t n = lit < rl ? lit : rl;
    if (strncmp(g, rel, n) != 0)
      continue;
    /* The glob's literal part ends inside REL: a wildcard may match the
     * rest; or REL ends inside it: what follows in the glob must be '/'. */
    if (lit <= rl || g[rl] == '/')
      return true;
  }
  return false;
}

static int
opendir_at(int dfd, const char *name, DIR **d, cab_error *err)
{
  int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 || (*d = fdopendir(fd)) == NULL) {
    if (fd >= 0)
      close(fd);
    return cab_error_sys(err, "open %s", name);
  }
  return 0;
}

/* The next entry of D but "." and "..": its path REL/NAME in SUB and its
 * lstat in ST.  1 for an entry, 0 at the end, -1 on error. */
static int
next_entry(DIR *d, const char *rel, struct dirent **de, char *sub, size_t size, struct stat *st,
           cab_error *err)
{
  int r = cab_dir_next(d, rel, de, sub, size, err);
  if (r > 0 && fstatat(dirfd(d), (*de)->d_name, st, AT_SYMLINK_NOFOLLOW) < 0)
    return cab_error_sys(err, "stat %s", sub);
  return r;
}

/* How much of directory REL (open as DFD) is protected. */
static int
classify(const struct walk *w, int dfd, const char *rel, int depth, enum holds *out)
{
  if (depth > 64)
    return cab_error_set(w->err, ELOOP, "%s: directories nested too deeply", rel);
  if (*rel && !may_hold(w, rel)) {
    *out = HOLDS_NONE;
    return 0;
  }
  /* The harness's own directory is bound whole, so that nothing can be
   * added beside its graders while they run (harness_dirs.h). */
  if (*rel && cab_task_harness_dir(w->layers, rel)) {
    *out = HOLDS_ALL;
    return 0;
  }
  cleanup_dir DIR *d = NULL;
  if (opendir_at(dfd, ".", &d, w->err) < 0)
    return -1;
  bool any = false, all = true, empty = true;
  struct dirent *de;
  char sub[PATH_MAX];
  struct stat st;
  int r;
  while ((r = next_entry(d, rel, &de, sub, sizeof sub, &st, w->err)) > 0) {
    empty = false;
    enum holds h = protected_entry(w, sub) ? HOLDS_ALL : HOLDS_NONE;
    if (S_ISDIR(st.st_mode)) {
      cleanup_close int sfd =
          openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sfd < 0)
        return cab_error_sys(w->err, "open %s", sub);
      if (classify(w, sfd, sub, depth + 1, &h) < 0)
        return -1;
    }
    any = any || h != HOLDS_NONE;
    all = all && h == HOLDS_ALL;
  }
  if (r < 0)
    return -1;
  if (empty)
    *out = *rel && protected_entry(w, rel) ? HOLDS_ALL : HOLDS_NONE;
  else
    *out = all ? HOLDS_ALL : any ? HOLDS_SOME : HOLDS_NONE;
  return 0;
}

static int
add(const struct walk *w, const char *rel, bool readonly)
{
  struct cab_protected_binds *b = w->out;
  if (b->n >= CAB_PROTECTED_BINDS_MAX)
    return cab_error_set(w->err, E2BIG, "task %s: more than %d protected paths outside wholly "
                         "protected directories; protect whole directories (protected_paths "
                         "such as \"tests/**\")", w->t->task_id, CAB_PROTECTED_BINDS_MAX);
  if (b->n % 16 == 0) {
    struct cab_bind *v = realloc(b->v, (b->n + 16) * sizeof *v);
    if (v == NULL)
      return cab_error_sys(w->err, "allocate");
    b->v = v;
  }
  char *src = NULL, *dst = NULL;
  if (asprintf(&src, "%s/%s", w->verify, rel) < 0 ||
      asprintf(&dst, "%s/%s", w->dst_root, rel) < 0) {
    free(src);
    return cab_error_sys(w->err, "allocate");
  }
  b->v[b->n++] = (struct cab_bind){.src = src, .dst = dst, .readonly = readonly};
  b->n_readonly += readonly;
  return 0;
}

/* Bind what directory REL (open as DFD, HOLDS_SOME) holds of protected
 * paths, top down. */
static int
emit(const struct walk *w, int dfd, const char *rel, int depth)
{
  cleanup_dir DIR *d = NULL;
  if (opendir_at(dfd, ".", &d, w->err) < 0)
    return -1;
  struct dirent *de;
  char sub[PATH_MAX];
  struct stat st;
  int r;
  while ((r = next_entry(d, rel, &de, sub, sizeof sub, &st, w->err)) > 0) {
    if (S_ISREG(st.st_mode)) {
      if (protected_entry(w, sub) && add(w, sub, true) < 0)
        return -1;
      continue;
    }
    if (!S_ISDIR(st.st_mode))
      continue; /* a symlink: see protected_binds.h */
    cleanup_close int sfd =
        openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sfd < 0)
      return cab_error_sys(w->err, "open %s", sub);
    enum holds h;
    if (classify(w, sfd, sub, depth + 1, &h) < 0)
      return -1;
    if (h == HOLDS_ALL && add(w, sub, true) < 0)
      return -1;
    /* Pinned first: the files bound below it then stay where the harness
     * looks for them. */
    if (h == HOLDS_SOME && (add(w, sub, false) < 0 || emit(w, sfd, sub, depth + 1) < 0))
      return -1;
  }
  return r;
}

/* Bind the protected paths of VERIFY. */
static int
bind_harness(const struct cab_task *t, const struct cab_task_layers *layers, const char *verify,
             const char *dst_root, struct cab_protected_binds *out, cab_error *err)
{
  cleanup_close int root = open(verify, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (root < 0)
    return cab_error_sys(err, "open %s", verify);
  struct walk w = {t, layers, verify, dst_root, out, err};
  enum holds h;
  if (classify(&w, root, "", 0, &h) < 0 || (h != HOLDS_NONE && emit(&w, root, "", 0) < 0)) {
    cab_protected_binds_free(out);
    return cab_error_prefix(err, "protect the harness in %s", verify);
  }
  return 0;
}

int
cab_protected_binds(const struct cab_task *t, const char *verify, const char *dst_root,
                    struct cab_protected_binds *out, cab_error *err)
{
  memset(out, 0, sizeof *out);
  struct cab_task_layers layers;
  if (cab_task_layers_open(t, &layers, err) < 0)
    return cab_error_prefix(err, "protect the harness in %s", verify);
  int r = 0;
  if (t->protected_paths.n > 0 || cab_task_layers_any_hidden(&layers))
    r = bind_harness(t, &layers, verify, dst_root, out, err);
  cab_task_layers_close(&layers);
  return r;
}

void
cab_protected_binds_free(struct cab_protected_binds *b)
{
  for (size_t i = 0; i < b->n; i++) {
    free((char *)b->v[i].src);
    free((char *)b->v[i].dst);
  }
  free(b->v);
  memset(b, 0, sizeof *b);
}
