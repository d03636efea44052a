/* Tests for runner/cell/snapshot.c on real directories with a real libgit2 store:
 * unchanged trees, every kind of change (content, hidden, binary, symlink,
 * mode, type, removal), .git directories the agent creates, the store kept
 * outside the workdir, large files, unreadable files, persistence across
 * reopen, the change list feeding the blast-radius scorer, and the time a
 * 1000-file workdir takes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "runner/cell/snapshot.h"
#include "scorers/patch.h"
#include "scorers/scorers.h"

struct env {
  char root[64];
  char work[128];
  char store[128];
  struct cab_snapshot_store *s;
};

static void
path_of(struct env *e, const char *rel, char *out, size_t size)
{
  snprintf(out, size, "%s/%s", e->work, rel);
}

static void
put(struct env *e, const char *rel, const void *data, size_t len)
{
  char p[512];
  path_of(e, rel, p, sizeof p);
  char dir[512];
  snprintf(dir, sizeof dir, "%s", p);
  *strrchr(dir, '/') = '\0';
  cab_error err = {0};
  if (cab_mkdir_p(dir, 0755, &err) < 0)
    fail_msg("%s", err.message);
  int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    fail_msg("create %s: %s", p, strerror(errno));
  assert_int_equal(write(fd, data, len), (ssize_t)len);
  close(fd);
}

static void
puts_(struct env *e, const char *rel, const char *text)
{
  put(e, rel, text, strlen(text));
}

static void
link_(struct env *e, const char *target, const char *rel)
{
  char p[512];
  path_of(e, rel, p, sizeof p);
  unlink(p);
  if (symlink(target, p) < 0)
    fail_msg("symlink %s: %s", p, strerror(errno));
}

static void
rm_(struct env *e, const char *rel)
{
  char p[512];
  path_of(e, rel, p, sizeof p);
  if (unlink(p) < 0)
    fail_msg("unlink %s: %s", p, strerror(errno));
}

static void
chmod_(struct env *e, const char *rel, mode_t mode)
{
  char p[512];
  path_of(e, rel, p, sizeof p);
  assert_int_equal(chmod(p, mode), 0);
}

static int
setup(void **state)
{
  struct env *e = calloc(1, sizeof *e);
  snprintf(e->root, sizeof e->root, "/tmp/cab-snap-XXXXXX");
  if (mkdtemp(e->root) == NULL)
    return -1;
  snprintf(e->work, sizeof e->work, "%s/work", e->root);
  snprintf(e->store, sizeof e->store, "%s/store", e->root);
  mkdir(e->work, 0755);
  cab_error err = {0};
  if (cab_snapshot_store_open(e->store, e->work, &e->s, &err) < 0) {
    fprintf(stderr, "%s\n", err.message);
    return -1;
  }
  *state = e;
  return 0;
}

static int
rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  /* Never chmod through a symlink: the tests plant ones that point at host
   * files such as /etc/passwd. */
  if (flag != FTW_SL && flag != FTW_SLN)
    chmod(path, 0700);
  return remove(path);
}

static int
teardown(void **state)
{
  struct env *e = *state;
  cab_snapshot_store_close(e->s);
  char p[512];
  snprintf(p, sizeof p, "%s", e->root);
  nftw(p, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
  free(e);
  return 0;
}

static void
snap(struct env *e, const char *label, struct cab_snapshot *out)
{
  cab_error err = {0};
  if (cab_snapshot_take(e->s, e->work, label, out, &err) < 0)
    fail_msg("snapshot: %s", err.message);
}

static void
diff(struct env *e, const char *a, const char *b, struct cab_change_list *cl, char **patch,
     size_t *len)
{
  cab_error err = {0};
  if (cab_snapshot_diff(e->s, a, b, cl, patch, len, &err) < 0)
    fail_msg("diff: %s", err.message);
}

static const struct cab_change *
find(const struct cab_change_list *cl, const char *path)
{
  for (size_t i = 0; i < cl->n; i++)
    if (strcmp(cl->items[i].path, path) == 0)
      return &cl->items[i];
  return NULL;
}

static void
test_unchanged(void **state)
{
  struct env *e = *state;
  puts_(e, "src/a.py", "print(1)\n");
  puts_(e, ".hidden", "x\n");
  struct cab_snapshot a, b;
  snap(e, "before", &a);
  snap(e, "after", &b);
  assert_string_equal(a.id, b.id); /* deterministic: same tree, same commit */
  assert_int_equal(a.n_files, 2);
  struct cab_change_list cl;
  char *patch;
  size_t len;
  diff(e, a.id, b.id, &cl, &patch, &len);
  assert_int_equal(cl.n, 0);
  assert_false(cl.extra_git_dir);
  assert_int_equal(len, 0);
  free(patch);
  cab_change_list_free(&cl);

  /* An empty workdir snapshots too. */
  rm_(e, "src/a.py");
  rm_(e, ".hidden");
  snap(e, NULL, &a);
  assert_int_equal(a.n_files, 0);
  diff(e, b.id, a.id, &cl, NULL, NULL);
  assert_int_equal(cl.n, 2);
  cab_change_list_free(&cl);
}

static void
test_every_kind(void **state)
{
  struct env *e = *state;
  static const unsigned char png[] = {0x89, 'P', 'N', 'G', 0, 0, 0, 13, 'I', 'H', 'D', 'R', 0, 1};
  puts_(e, "src/a.py", "def f():\n    return 1\n");
  puts_(e, "tests/test_a.py", "import unittest\n");
  puts_(e, "run.sh", "#!/bin/sh\necho hi\n");
  puts_(e, "will_be_link", "plain file\n");
  puts_(e, "deep/er/still/x.txt", "deep\n");
  put(e, "img.png", png, sizeof png);
  link_(e, "src/a.py", "latest");
  struct cab_snapshot before, after;
  snap(e, "before", &before);

  puts_(e, "src/a.py", "def f():\n    return 2\n");
  puts_(e, ".env", "SECRET=1\n");
  chmod_(e, "run.sh", 0755);
  link_(e, "run.sh", "latest");
  unsigned char png2[sizeof png];
  memcpy(png2, png, sizeof png);
  png2[sizeof png - 1] = 2;
  put(e, "img.png", png2, sizeof png2);
  rm_(e, "tests/test_a.py");
  link_(e, "src/a.py", "will_be_link");
  link_(e, "/etc/passwd", "escape");
  char p[512];
  path_of(e, "emptydir", p, sizeof p);
  mkdir(p, 0755);
  path_of(e, "fifo", p, sizeof p);
  assert_int_equal(mkfifo(p, 0644), 0);
  snap(e, "after", &after);

  struct cab_change_list cl;
  char *patch;
  size_t len;
  diff(e, "before", "after", &cl, &patch, &len);
  const struct cab_change *c;
  assert_int_equal(cl.n, 8);
  c = find(&cl, "src/a.py");
  assert_non_null(c);
  assert_int_equal(c->status, CAB_CHANGE_MODIFIED);
  assert_int_equal(c->kinds, CAB_KIND_CONTENT);
  c = find(&cl, ".env");
  assert_int_equal(c->status, CAB_CHANGE_ADDED);
  assert_int_equal(c->new_mode, 0100644);
  c = find(&cl, "run.sh");
  assert_int_equal(c->status, CAB_CHANGE_MODIFIED);
  assert_int_equal(c->kinds, CAB_KIND_MODE);
  assert_int_equal(c->old_mode, 0100644);
  assert_int_equal(c->new_mode, 0100755);
  c = find(&cl, "latest");
  assert_int_equal(c->kinds, CAB_KIND_CONTENT);
  assert_int_equal(c->new_mode, 0120000);
  c = find(&cl, "img.png");
  assert_true(c->binary);
  c = find(&cl, "tests/test_a.py");
  assert_int_equal(c->status, CAB_CHANGE_REMOVED);
  c = find(&cl, "will_be_link");
  assert_int_equal(c->status, CAB_CHANGE_MODIFIED);
  assert_int_equal(c->kinds, CAB_KIND_TYPE | CAB_KIND_CONTENT);
  assert_int_equal(c->old_mode, 0100644);
  assert_int_equal(c->new_mode, 0120000);
  c = find(&cl, "escape");
  assert_int_equal(c->status, CAB_CHANGE_ADDED);
  assert_null(find(&cl, "emptydir"));
  assert_null(find(&cl, "fifo"));

  /* The patch: text hunks, the mode change, the binary, the symlink target. */
  assert_non_null(strstr(patch, "diff --git a/src/a.py b/src/a.py\n"));
  assert_non_null(strstr(patch, "-    return 1\n+    return 2\n"));
  assert_non_null(strstr(patch, "old mode 100644\nnew mode 100755\n"));
  assert_non_null(strstr(patch, "Binary files a/img.png and b/img.png differ\n"));
  assert_non_null(strstr(patch, "+/etc/passwd\n"));
  struct cab_patch pt;
  cab_patch_parse(patch, len, &pt);
  const struct cab_patch_file *pf = cab_patch_find(&pt, ".env");
  assert_non_null(pf);
  assert_string_equal(pf->added.v[0], "SECRET=1");
  assert_true(cab_patch_find(&pt, "img.png")->binary);
  cab_patch_free(&pt);

  /* The change list through changes.json and into the blast scorer. */
  cJSON *tj = cJSON_Parse("{\"task_id\":\"polyglot/x\",\"ground_truth_files\":[\"src/*\"]}");
  struct cab_task *t;
  cab_error err = {0};
  assert_int_equal(cab_task_from_record(tj, NULL, &t, &err), 0);
  cJSON_Delete(tj);
  cJSON *cj = cab_changes_to_json(&cl);
  struct cab_change_list back;
  assert_int_equal(cab_changes_from_json(cj, &back, &err), 0);
  cJSON_Delete(cj);
  struct cab_cell_inputs in = {.task = t, .changes = &back};
  cJSON *b = cab_score_blast_radius(&in);
  assert_true(cJSON_GetObjectItem(b, "blast_radius")->valuedouble == 7.0 / 8.0);
  char *s = cab_json_print(cJSON_GetObjectItem(b, "modified"), false);
  assert_string_equal(s, "[\"img.png\",\"latest\",\"run.sh\",\"src/a.py\",\"will_be_link\"]");
  free(s);
  cJSON_Delete(b);
  cab_change_list_free(&back);
  cab_task_free(t);
  free(patch);
  cab_change_list_free(&cl);
}

static void
test_git_dirs(void **state)
{
  struct env *e = *state;
  puts_(e, "src/lib.rs", "fn main() {}\n");
  puts_(e, "vendor/dep/.git/HEAD", "ref: refs/heads/main\n"); /* shipped with the task */
  struct cab_snapshot before, after;
  snap(e, "before", &before);
  assert_int_equal(before.n_git_dirs, 1);

  /* The agent runs `git init` and commits; and a submodule-style gitfile. */
  puts_(e, ".git/HEAD", "ref: refs/heads/master\n");
  puts_(e, ".git/objects/ab/cdef", "blob");
  puts_(e, ".git/index", "DIRC");
  puts_(e, "sub/.git", "gitdir: ../.git/modules/sub\n");
  puts_(e, "sub/file.txt", "x\n");
  puts_(e, "vendor/dep/.git/ORIG_HEAD", "changed inside the old one\n");
  puts_(e, "src/lib.rs", "fn main() { println!(); }\n");
  snap(e, "after", &after);
  assert_int_equal(after.n_git_dirs, 3);

  struct cab_change_list cl;
  diff(e, "before", "after", &cl, NULL, NULL);
  assert_int_equal(cl.n, 2); /* sub/file.txt and src/lib.rs: nothing from inside .git */
  assert_non_null(find(&cl, "sub/file.txt"));
  assert_non_null(find(&cl, "src/lib.rs"));
  assert_true(cl.extra_git_dir);
  assert_int_equal(cl.git_dirs.n, 2);
  assert_true(cab_strv_contains(&cl.git_dirs, ".git"));
  assert_true(cab_strv_contains(&cl.git_dirs, "sub/.git"));
  assert_false(cab_strv_contains(&cl.git_dirs, "vendor/dep/.git"));
  cab_change_list_free(&cl);

  struct cab_strv dirs = {0};
  cab_error err = {0};
  assert_int_equal(cab_snapshot_git_dirs(e->s, after.id, &dirs, &err), 0);
  assert_int_equal(dirs.n, 3);
  cab_strv_free(&dirs);

  /* A name with a newline and a '%' survives the commit message. */
  puts_(e, "we\nird%/.git/HEAD", "x");
  struct cab_snapshot third;
  snap(e, NULL, &third);
  diff(e, after.id, third.id, &cl, NULL, NULL);
  assert_true(cab_strv_contains(&cl.git_dirs, "we\nird%/.git"));
  cab_change_list_free(&cl);

  /* Only ".git" itself is skipped: ".GIT" cannot hide changes. */
  puts_(e, "hide/.GIT/payload", "x");
  struct cab_snapshot fourth;
  snap(e, NULL, &fourth);
  diff(e, third.id, fourth.id, &cl, NULL, NULL);
  assert_non_null(find(&cl, "hide/.GIT/payload"));
  assert_false(cl.extra_git_dir);
  cab_change_list_free(&cl);
}

static void
test_store_placement(void **state)
{
  struct env *e = *state;
  char inside[256];
  snprintf(inside, sizeof inside, "%s/.cab-store", e->work);
  struct cab_snapshot_store *s;
  cab_error err = {0};
  assert_int_equal(cab_snapshot_store_open(inside, e->work, &s, &err), -1);
  assert_non_null(strstr(err.message, "inside the workdir"));
  /* Reopening the real store keeps earlier snapshots (refs/cab/<label>). */
  puts_(e, "a", "1\n");
  struct cab_snapshot one;
  snap(e, "before", &one);
  puts_(e, "a", "2\n");
  struct cab_snapshot two;
  snap(e, "after", &two);
  cab_snapshot_store_close(e->s);
  assert_int_equal(cab_snapshot_store_open(e->store, e->work, &e->s, &err), 0);
  struct cab_change_list cl;
  diff(e, "before", "after", &cl, NULL, NULL);
  assert_int_equal(cl.n, 1);
  cab_change_list_free(&cl);
  diff(e, one.id, two.id, &cl, NULL, NULL);
  assert_int_equal(cl.n, 1);
  cab_change_list_free(&cl);
  /* Unknown ids fail cleanly. */
  assert_int_equal(cab_snapshot_diff(e->s, "nope", two.id, &cl, NULL, NULL, &err), -1);
  assert_int_equal(cab_snapshot_take(e->s, e->work, "bad/label", &one, &err), -1);
}

static void
test_large_and_unreadable(void **state)
{
  struct env *e = *state;
  size_t big = (3u << 20) + 123; /* streamed: larger than the 1 MiB read-whole limit */
  char *data = malloc(big);
  for (size_t i = 0; i < big; i++)
    data[i] = (char)('a' + i % 26);
  put(e, "big.txt", data, big);
  puts_(e, "secret.txt", "top\n");
  struct cab_snapshot a, b;
  snap(e, "before", &a);
  data[big / 2] = '!';
  put(e, "big.txt", data, big);
  free(data);
  bool root = geteuid() == 0;
  if (!root)
    chmod_(e, "secret.txt", 0); /* the agent made it unreadable */
  snap(e, "after", &b);
  struct cab_change_list cl;
  diff(e, a.id, b.id, &cl, NULL, NULL);
  assert_non_null(find(&cl, "big.txt"));
  if (!root)
    assert_non_null(find(&cl, "secret.txt")); /* a placeholder, so it shows */
  assert_int_equal(cl.n, root ? 1 : 2);
  cab_change_list_free(&cl);
}

static double
ms_since(struct timespec *t0)
{
  struct timespec t1;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  return (t1.tv_sec - t0->tv_sec) * 1e3 + (t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static void
test_thousand_files(void **state)
{
  struct env *e = *state;
  char rel[64], body[1024];
  for (int i = 0; i < 1000; i++) {
    snprintf(rel, sizeof rel, "pkg%02d/mod%03d.py", i % 20, i);
    int n = snprintf(body, sizeof body, "# module %d\n", i);
    for (; n < 900; n += 30)
      snprintf(body + n, sizeof body - (size_t)n, "def f_%05d(): return %09d\n", n, i);
    puts_(e, rel, body);
  }
  struct timespec t0;
  struct cab_snapshot a, b, c;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  snap(e, "before", &a);
  double cold = ms_since(&t0);
  clock_gettime(CLOCK_MONOTONIC, &t0);
  snap(e, "same", &b);
  double warm = ms_since(&t0);
  for (int i = 0; i < 10; i++) {
    snprintf(rel, sizeof rel, "pkg%02d/mod%03d.py", i % 20, i);
    puts_(e, rel, "changed\n");
  }
  clock_gettime(CLOCK_MONOTONIC, &t0);
  snap(e, "after", &c);
  double after = ms_since(&t0);
  struct cab_change_list cl;
  char *patch;
  size_t len;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  diff(e, "before", "after", &cl, &patch, &len);
  double d = ms_since(&t0);
  assert_int_equal(a.n_files, 1000);
  assert_string_equal(a.id, b.id);
  assert_int_equal(cl.n, 10);
  print_message("1000 files: first snapshot %.1f ms, unchanged %.1f ms, 10 changed %.1f ms, "
                "diff+patch %.1f ms\n",
                cold, warm, after, d);
  /* Generous bounds (sanitizers, slow CI disks); the numbers are printed. */
  assert_true(cold < 3000 && warm < 3000 && after < 3000 && d < 3000);
  free(patch);
  cab_change_list_free(&cl);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_unchanged, setup, teardown),
      cmocka_unit_test_setup_teardown(test_every_kind, setup, teardown),
      cmocka_unit_test_setup_teardown(test_git_dirs, setup, teardown),
      cmocka_unit_test_setup_teardown(test_store_placement, setup, teardown),
      cmocka_unit_test_setup_teardown(test_large_and_unreadable, setup, teardown),
      cmocka_unit_test_setup_teardown(test_thousand_files, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
