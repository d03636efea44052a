/* Unit tests for the image store (rootfs/store*.c) on a temp $CAB_HOME:
 * the OCI layout it creates, staged and verified blobs, refs in
 * index.json (and concurrent writers), image resolution, gc. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "rootfs/manifest.h"
#include "rootfs/store_write.h"

struct fixture {
  char dir[256];
  char home[300];
  cab_store *s;
};

static int
setup(void **state)
{
  struct fixture *f = calloc(1, sizeof *f);
  const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  snprintf(f->dir, sizeof f->dir, "%s/cab-test-store.XXXXXX", tmp);
  if (mkdtemp(f->dir) == NULL)
    return -1;
  snprintf(f->home, sizeof f->home, "%s/home", f->dir); /* the store creates it */
  cab_error err = {0};
  if (cab_store_open(f->home, &f->s, &err) < 0) {
    fprintf(stderr, "%s\n", err.message);
    return -1;
  }
  *state = f;
  return 0;
}

static int
teardown(void **state)
{
  struct fixture *f = *state;
  cab_store_close(f->s);
  char cmd[600];
  snprintf(cmd, sizeof cmd, "chmod -R u+rwX '%s' 2>/dev/null; rm -rf '%s'", f->dir, f->dir);
  (void)!system(cmd);
  free(f);
  return 0;
}

static void
path_in(const struct fixture *f, const char *rel, char *buf, size_t size)
{
  snprintf(buf, size, "%s/%s", f->home, rel);
}

static int
count_files(const char *dir)
{
  char cmd[600];
  snprintf(cmd, sizeof cmd, "find '%s' -type f | wc -l", dir);
  FILE *p = popen(cmd, "r");
  int n = -1;
  if (p) {
    if (fscanf(p, "%d", &n) != 1)
      n = -1;
    pclose(p);
  }
  return n;
}

static void
test_layout(void **state)
{
  struct fixture *f = *state;
  char p[512];
  char *buf;
  size_t len;
  path_in(f, "oci/oci-layout", p, sizeof p);
  assert_int_equal(cab_read_file_at(AT_FDCWD, p, 4096, &buf, &len, NULL), 0);
  assert_string_equal(buf, "{\"imageLayoutVersion\":\"1.0.0\"}");
  free(buf);
  path_in(f, "oci/index.json", p, sizeof p);
  assert_int_equal(cab_read_file_at(AT_FDCWD, p, 4096, &buf, &len, NULL), 0);
  cJSON *j = cJSON_Parse(buf);
  assert_non_null(j);
  assert_int_equal(cJSON_GetObjectItem(j, "schemaVersion")->valueint, 2);
  assert_true(cJSON_IsArray(cJSON_GetObjectItem(j, "manifests")));
  cJSON_Delete(j);
  free(buf);
  path_in(f, "oci/blobs/sha256", p, sizeof p);
  struct stat st;
  assert_int_equal(stat(p, &st), 0);
  assert_true(S_ISDIR(st.st_mode));
  /* Opening again leaves an existing index alone. */
  cab_store *again;
  assert_int_equal(cab_store_open(f->home, &again, NULL), 0);
  assert_string_equal(cab_store_home(again), f->home);
  cab_store_close(again);
}

static void
test_paths_validate(void **state)
{
  struct fixture *f = *state;
  char buf[512];
  cab_error err = {0};
  assert_int_equal(cab_store_blob_path(f->s, "sha256:../../../etc/passwd", buf, sizeof buf, &err),
                   -1);
  assert_non_null(strstr(err.message, "invalid digest"));
  assert_int_equal(cab_store_rootfs_path(f->s, "sha256:abc/..", buf, sizeof buf, &err), -1);
  char d[CAB_DIGEST_LEN + 1];
  cab_sha256_buffer("x", 1, d);
  assert_int_equal(cab_store_rootfs_path(f->s, d, buf, sizeof buf, &err), 0);
  assert_non_null(strstr(buf, "/rootfs/"));
  assert_non_null(strstr(buf, d + 7));
  assert_false(cab_store_has_blob(f->s, "sha256:../x", -1));
}

static void
test_stage_commit(void **state)
{
  struct fixture *f = *state;
  cab_error err = {0};
  cab_stage *st;
  assert_int_equal(cab_stage_new(f->s, &st, &err), 0);
  const char data[] = "hello blob";
  char d[CAB_DIGEST_LEN + 1], want[CAB_DIGEST_LEN + 1];
  cab_sha256_buffer(data, strlen(data), want);
  assert_int_equal(cab_stage_put(st, data, strlen(data), want, d, &err), 0);
  assert_string_equal(d, want);
  assert_true(cab_stage_has(st, want, (int64_t)strlen(data)));
  assert_false(cab_store_has_blob(f->s, want, -1)); /* not before the commit */
  const char *list[] = {want};
  assert_int_equal(cab_stage_commit(st, list, 1, &err), 0);
  assert_true(cab_store_has_blob(f->s, want, (int64_t)strlen(data)));
  assert_false(cab_store_has_blob(f->s, want, 3));
  char *buf;
  size_t len;
  assert_int_equal(cab_store_read_blob(f->s, want, 1024, &buf, &len, &err), 0);
  assert_memory_equal(buf, data, strlen(data));
  free(buf);
  /* Committing what the store already has is fine. */
  assert_int_equal(cab_stage_put(st, data, strlen(data), want, NULL, &err), 0);
  assert_int_equal(cab_stage_commit(st, list, 1, &err), 0);
  cab_stage_free(st);
  char tmp[512];
  path_in(f, "tmp", tmp, sizeof tmp);
  assert_int_equal(count_files(tmp), 0);
}

static void
test_stage_rejects(void **state)
{
  struct fixture *f = *state;
  cab_error err = {0};
  cab_stage *st;
  assert_int_equal(cab_stage_new(f->s, &st, &err), 0);
  char wrong[CAB_DIGEST_LEN + 1];
  cab_sha256_buffer("other", 5, wrong);
  assert_int_equal(cab_stage_put(st, "data", 4, wrong, NULL, &err), -1);
  assert_non_null(strstr(err.message, "digest mismatch"));
  assert_non_null(strstr(err.message, wrong));
  assert_int_equal(cab_stage_put(st, "data", 4, "sha256:nothex", NULL, &err), -1);
  assert_non_null(strstr(err.message, "invalid digest"));

  /* A writer refuses more than the descriptor's size, and a short blob. */
  cab_blob_writer *w;
  char good[CAB_DIGEST_LEN + 1];
  cab_sha256_buffer("abcdef", 6, good);
  assert_int_equal(cab_blob_open(st, good, 3, &w, &err), 0);
  assert_int_equal(cab_blob_write(w, "abcdef", 6, &err), -1);
  assert_non_null(strstr(err.message, "more data"));
  cab_blob_abort(w);
  assert_int_equal(cab_blob_open(st, good, 6, &w, &err), 0);
  assert_int_equal(cab_blob_write(w, "abc", 3, &err), 0);
  assert_int_equal(cab_blob_finish(w, NULL, &err), -1);
  assert_non_null(strstr(err.message, "got 3 bytes"));
  /* reset: a server that ignored Range sends everything again */
  assert_int_equal(cab_blob_open(st, good, 6, &w, &err), 0);
  assert_int_equal(cab_blob_write(w, "xyz", 3, &err), 0);
  assert_int_equal(cab_blob_reset(w, &err), 0);
  assert_int_equal(cab_blob_written(w), 0);
  assert_int_equal(cab_blob_write(w, "abc", 3, &err), 0);
  assert_int_equal(cab_blob_write(w, "def", 3, &err), 0);
  assert_int_equal(cab_blob_finish(w, NULL, &err), 0);
  assert_true(cab_stage_has(st, good, 6));
  /* Nothing failed left a file behind; only the good blob is staged. */
  char cmd[600];
  snprintf(cmd, sizeof cmd, "%s/tmp", f->home);
  assert_int_equal(count_files(cmd), 1);
  /* Commit of a blob neither staged nor stored fails. */
  const char *list[] = {wrong};
  assert_int_equal(cab_stage_commit(st, list, 1, &err), -1);
  cab_stage_free(st);
  snprintf(cmd, sizeof cmd, "%s/oci/blobs", f->home);
  assert_int_equal(count_files(cmd), 0);
}

/* A tiny image: config + one layer + manifest, committed, returns the manifest digest. */
static void
make_image(struct fixture *f, const char *layer_text, char *manifest_digest)
{
  cab_error err = {0};
  cab_stage *st;
  assert_int_equal(cab_stage_new(f->s, &st, &err), 0);
  char ld[CAB_DIGEST_LEN + 1], cd[CAB_DIGEST_LEN + 1];
  assert_int_equal(cab_stage_put(st, layer_text, strlen(layer_text), NULL, ld, &err), 0);
  char config[1024];
  snprintf(config, sizeof config,
           "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Env\":[\"PATH=/bin\"],"
           "\"Cmd\":[\"/bin/sh\"],\"WorkingDir\":\"/work\",\"User\":\"0\"},"
           "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}",
           ld);
  assert_int_equal(cab_stage_put(st, config, strlen(config), NULL, cd, &err), 0);
  char man[2048];
  snprintf(man, sizeof man,
           "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\","
           "\"digest\":\"%s\",\"size\":%zu},\"layers\":[{\"mediaType\":\"%s\",\"digest\":\"%s\","
           "\"size\":%zu}]}",
           CAB_MT_OCI_MANIFEST, CAB_MT_OCI_CONFIG, cd, strlen(config), CAB_MT_OCI_LAYER, ld,
           strlen(layer_text));
  assert_int_equal(cab_stage_put(st, man, strlen(man), NULL, manifest_digest, &err), 0);
  const char *list[] = {ld, cd, manifest_digest};
  assert_int_equal(cab_stage_commit(st, list, 3, &err), 0);
  cab_stage_free(st);
}

static void
entry_for(cab_store_entry *e, const char *name, const char *digest, const char *index_digest)
{
  memset(e, 0, sizeof *e);
  snprintf(e->name, sizeof e->name, "%s", name);
  snprintf(e->manifest.media_type, sizeof e->manifest.media_type, "%s", CAB_MT_OCI_MANIFEST);
  snprintf(e->manifest.digest, sizeof e->manifest.digest, "%s", digest);
  e->manifest.size = 1;
  if (index_digest)
    snprintf(e->index_digest, sizeof e->index_digest, "%s", index_digest);
}

static void
test_refs_and_resolve(void **state)
{
  struct fixture *f = *state;
  cab_error err = {0};
  char m1[CAB_DIGEST_LEN + 1], m2[CAB_DIGEST_LEN + 1];
  make_image(f, "layer one", m1);
  make_image(f, "layer two", m2);
  cab_store_entry e;
  entry_for(&e, "docker.io/library/busybox:latest", m1, NULL);
  assert_int_equal(cab_store_tag(f->s, &e, &err), 0);
  entry_for(&e, "127.0.0.1:5000/x:v1", m2, NULL);
  assert_int_equal(cab_store_tag(f->s, &e, &err), 0);
  /* Re-tagging a name moves it. */
  entry_for(&e, "127.0.0.1:5000/x:v1", m1, NULL);
  assert_int_equal(cab_store_tag(f->s, &e, &err), 0);
  cab_store_entry *v;
  size_t n;
  assert_int_equal(cab_store_list(f->s, &v, &n, &err), 0);
  assert_int_equal(n, 2);
  free(v);
  entry_for(&e, "127.0.0.1:5000/x:v1", m2, NULL);
  assert_int_equal(cab_store_tag(f->s, &e, &err), 0);

  cab_image *img;
  assert_int_equal(cab_image_resolve(f->s, "busybox", &img, &err), 0);
  assert_string_equal(img->digest, m1);
  assert_string_equal(img->name, "docker.io/library/busybox:latest");
  assert_string_equal(img->config->cmd[0], "/bin/sh");
  assert_string_equal(img->config->working_dir, "/work");
  assert_string_equal(img->config->env[0], "PATH=/bin");
  assert_int_equal(img->n_layers, 1);
  assert_string_equal(img->layers[0].diff_id, img->layers[0].digest);
  assert_int_equal(img->layers[0].size, 9);
  char p[512];
  assert_int_equal(cab_store_blob_path(f->s, img->layers[0].digest, p, sizeof p, &err), 0);
  assert_int_equal(access(p, R_OK), 0);
  cab_image_free(img);

  assert_int_equal(cab_image_resolve(f->s, m2, &img, &err), 0); /* bare digest */
  assert_string_equal(img->name, "127.0.0.1:5000/x:v1");
  cab_image_free(img);
  char pinned[400];
  snprintf(pinned, sizeof pinned, "127.0.0.1:5000/x@%s", m2);
  assert_int_equal(cab_image_resolve(f->s, pinned, &img, &err), 0);
  cab_image_free(img);
  /* A digest pins content: another repository name still finds it. */
  snprintf(pinned, sizeof pinned, "other/name:tag@%s", m1);
  assert_int_equal(cab_image_resolve(f->s, pinned, &img, &err), 0);
  assert_string_equal(img->digest, m1);
  cab_image_free(img);

  assert_int_equal(cab_image_resolve(f->s, "busybox:nope", &img, &err), -1);
  assert_int_equal(err.errnum, ENOENT);
  assert_non_null(strstr(err.message, "not in the store"));
  assert_int_equal(cab_image_resolve(f->s, "sha256:../../x", &img, &err), -1);
  assert_non_null(strstr(err.message, "invalid digest"));

  /* untag */
  size_t removed;
  assert_int_equal(cab_store_untag(f->s, "busybox:latest", &removed, &err), 0);
  assert_int_equal(removed, 1);
  assert_int_equal(cab_store_untag(f->s, "busybox:latest", &removed, &err), -1);
  assert_int_equal(cab_store_untag(f->s, m2, &removed, &err), 0);
  assert_int_equal(removed, 1);
}

static void
test_corrupt_blob_detected(void **state)
{
  struct fixture *f = *state;
  cab_error err = {0};
  char m[CAB_DIGEST_LEN + 1];
  make_image(f, "some layer", m);
  cab_store_entry e;
  entry_for(&e, "docker.io/library/c:latest", m, NULL);
  assert_int_equal(cab_store_tag(f->s, &e, &err), 0);
  char p[512];
  assert_int_equal(cab_store_blob_path(f->s, m, p, sizeof p, &err), 0);
  FILE *fp = fopen(p, "r+");
  assert_non_null(fp);
  fputc('X', fp);
  fclose(fp);
  cab_image *img;
  assert_int_equal(cab_image_resolve(f->s, "c", &img, &err), -1);
  assert_non_null(strstr(err.message, "corrupt"));
}

static void
test_index_digest(void **state)
{
  struct fixture *f = *state;
  cab_error err = {0};
  char m[CAB_DIGEST_LEN + 1], idx[CAB_DIGEST_LEN + 1], other[CAB_DIGEST_LEN + 1];
  make_image(f, "indexed layer", m);
  make_image(f, "other layer", other);
  char index[1024];
  snprintf(index, sizeof index,
           "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":[{\"mediaType\":\"%s\","
           "\"digest\":\"%s\",\"size\":1,\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}",
           CAB_MT_OCI_INDEX, CAB_MT_OCI_MANIFEST, m);
  cab_stage *st;
  assert_int_equal(cab_stage_new(f->s, &st, &err), 0);
  assert_int_equal(cab_stage_put(st, index, strlen(index), NULL, idx, &err), 0);
  const char *list[] = {idx};
  assert_int_equal(cab_stage_commit(st, list, 1, &err), 0);
  cab_stage_free(st);
  cab_store_entry e;
  entry_for(&e, "docker.io/library/multi:latest", m, idx);
  assert_int_equal(cab_store_tag(f->s, &e, &err), 0);
  cab_image *img;
  char ref[400];
  snprintf(ref, sizeof ref, "multi@%s", idx);
  assert_int_equal(cab_image_resolve(f->s, ref, &img, &err), 0);
  assert_string_equal(img->digest, m);
  assert_string_equal(img->index_digest, idx);
  cab_image_free(img);
  /* An entry claiming an index that does not list it is refused. */
  entry_for(&e, "docker.io/library/liar:latest", other, idx);
  assert_int_equal(cab_store_tag(f->s, &e, &err), 0);
  snprintf(ref, sizeof ref, "liar@%s", idx);
  assert_int_equal(cab_store_untag(f->s, "multi:latest", &(size_t){0}, &err), 0);
  assert_int_equal(cab_image_resolve(f->s, ref, &img, &err), -1);
  assert_non_null(strstr(err.message, "does not list"));
}

/* A Docker schema2 manifest gets an OCI twin over the same blobs. */
static void
test_oci_twin(void **state)
{
  struct fixture *f = *state;
  cab_error err = {0};
  char m[CAB_DIGEST_LEN + 1], dm[CAB_DIGEST_LEN + 1];
  make_image(f, "docker layer", m);
  cab_image *img;
  cab_store_entry e;
  entry_for(&e, "docker.io/library/tmp:latest", m, NULL);
  assert_int_equal(cab_store_tag(f->s, &e, &err), 0);
  assert_int_equal(cab_image_resolve(f->s, "tmp", &img, &err), 0);
  char man[2048];
  char cpath[512];
  struct stat st;
  cab_store_blob_path(f->s, img->config_digest, cpath, sizeof cpath, NULL);
  assert_int_equal(stat(cpath, &st), 0);
  snprintf(man, sizeof man,
           "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\","
           "\"digest\":\"%s\",\"size\":%lld},\"layers\":[{\"mediaType\":\"%s\",\"digest\":\"%s\","
           "\"size\":%lld}]}",
           CAB_MT_DOCKER_MANIFEST, CAB_MT_DOCKER_CONFIG, img->config_digest, (long long)st.st_size,
           CAB_MT_DOCKER_LAYER_GZIP, img->layers[0].digest, (long long)img->layers[0].size);
  cab_image_free(img);
  cab_stage *stg;
  assert_int_equal(cab_stage_new(f->s, &stg, &err), 0);
  assert_int_equal(cab_stage_put(stg, man, strlen(man), NULL, dm, &err), 0);
  const char *list[] = {dm};
  assert_int_equal(cab_stage_commit(stg, list, 1, &err), 0);
  cab_stage_free(stg);
  size_t removed;
  assert_int_equal(cab_store_untag(f->s, "tmp", &removed, &err), 0);

  entry_for(&e, "docker.io/library/dock:latest", dm, NULL);
  snprintf(e.manifest.media_type, sizeof e.manifest.media_type, "%s", CAB_MT_DOCKER_MANIFEST);
  assert_int_equal(cab_store_tag(f->s, &e, &err), 0);
  assert_int_equal(cab_store_tag(f->s, &e, &err), 0); /* again: still one twin */
  cab_store_entry *v;
  size_t n;
  assert_int_equal(cab_store_list(f->s, &v, &n, &err), 0);
  assert_int_equal(n, 1);
  assert_string_equal(v[0].manifest.digest, dm);
  free(v);
  assert_int_equal(cab_store_list_all(f->s, &v, &n, &err), 0);
  assert_int_equal(n, 2);
  const cab_store_entry *twin = strcmp(v[0].manifest.digest, dm) == 0 ? &v[1] : &v[0];
  assert_string_equal(twin->twin_of, dm);
  assert_string_equal(twin->manifest.media_type, CAB_MT_OCI_MANIFEST);
  char *buf;
  size_t len;
  assert_int_equal(cab_store_read_blob(f->s, twin->manifest.digest, 65536, &buf, &len, &err), 0);
  assert_non_null(strstr(buf, CAB_MT_OCI_LAYER_GZIP));
  assert_non_null(strstr(buf, CAB_MT_OCI_CONFIG));
  free(buf);
  free(v);
  assert_int_equal(cab_image_resolve(f->s, "dock", &img, &err), 0);
  assert_string_equal(img->digest, dm);
  assert_string_equal(img->manifest_media_type, CAB_MT_DOCKER_MANIFEST);
  cab_image_free(img);
  cab_gc_report rep;
  assert_int_equal(cab_store_gc(f->s, 5, &rep, &err), 0);
  assert_int_equal(rep.blobs_removed, 1); /* only the OCI manifest of the untagged "tmp" */
  assert_int_equal(cab_store_untag(f->s, "dock", &removed, &err), 0);
  assert_int_equal(removed, 1);
  assert_int_equal(cab_store_list_all(f->s, &v, &n, &err), 0);
  assert_int_equal(n, 0);
  free(v);
  assert_int_equal(cab_store_gc(f->s, 5, &rep, &err), 0);
  assert_int_equal(rep.blobs_removed, 4); /* docker manifest, twin, config, layer */
}

/* Many processes tagging at once: flock keeps every update. */
static void
test_concurrent_tags(void **state)
{
  struct fixture *f = *state;
  char m[CAB_DIGEST_LEN + 1];
  make_image(f, "shared layer", m);
  enum { N = 12 };
  pid_t pids[N];
  for (int i = 0; i < N; i++) {
    pids[i] = fork();
    if (pids[i] == 0) {
      cab_store *s;
      if (cab_store_open(f->home, &s, NULL) < 0)
        _exit(1);
      for (int j = 0; j < 5; j++) {
        cab_store_entry e;
        char name[100];
        snprintf(name, sizeof name, "docker.io/library/p%d:t%d", i, j);
        entry_for(&e, name, m, NULL);
        if (cab_store_tag(s, &e, NULL) < 0)
          _exit(2);
      }
      cab_store_close(s);
      _exit(0);
    }
  }
  for (int i = 0; i < N; i++) {
    int st;
    assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  }
  cab_store_entry *v;
  size_t n;
  assert_int_equal(cab_store_list(f->s, &v, &n, NULL), 0);
  assert_int_equal(n, N * 5);
  free(v);
}

static void
test_gc(void **state)
{
  struct fixture *f = *state;
  cab_error err = {0};
  char keep[CAB_DIGEST_LEN + 1], drop[CAB_DIGEST_LEN + 1];
  make_image(f, "kept layer", keep);
  make_image(f, "dropped layer", drop);
  cab_store_entry e;
  entry_for(&e, "docker.io/library/keep:latest", keep, NULL);
  assert_int_equal(cab_store_tag(f->s, &e, &err), 0);
  /* rootfs caches: one referenced, one not, one not but in use */
  char busy[CAB_DIGEST_LEN + 1];
  cab_sha256_buffer("busy", 4, busy);
  const char *ds[] = {keep, drop, busy};
  for (int i = 0; i < 3; i++) {
    char p[512];
    assert_int_equal(cab_store_rootfs_path(f->s, ds[i], p, sizeof p, &err), 0);
    strcat(p, "/etc/ro");
    assert_int_equal(cab_mkdir_p(p, 0755, &err), 0);
    chmod(p, 0555); /* a read-only directory inside */
  }
  int lock = cab_store_rootfs_lock(f->s, busy, &err);
  assert_true(lock >= 0);
  /* an unpack's leftovers: a stale temporary tree, a running one, old locks */
  char stale[512], running[512], ulock[512], oldlock[512];
  snprintf(stale, sizeof stale, "%s/rootfs/.tmp-%s-1/etc", f->home, keep + 7);
  snprintf(running, sizeof running, "%s/rootfs/.tmp-%s-2/etc", f->home, busy + 7);
  snprintf(ulock, sizeof ulock, "%s/rootfs/%s.unpack.lock", f->home, busy + 7);
  snprintf(oldlock, sizeof oldlock, "%s/rootfs/%s.unpack.lock", f->home, drop + 7);
  assert_int_equal(cab_mkdir_p(stale, 0755, &err), 0);
  assert_int_equal(cab_mkdir_p(running, 0755, &err), 0);
  int ufd = open(ulock, O_RDWR | O_CREAT, 0644);
  assert_true(ufd >= 0);
  assert_int_equal(flock(ufd, LOCK_EX), 0);
  close(open(oldlock, O_RDWR | O_CREAT, 0644));
  /* a leftover staging area from a killed pull */
  char junk[512];
  snprintf(junk, sizeof junk, "%s/tmp/stage-1-XXXXXX/part-x", f->home);
  assert_int_equal(cab_mkdir_p(junk, 0755, &err), 0);

  cab_gc_report rep;
  assert_int_equal(cab_store_gc(f->s, 5, &rep, &err), 0);
  assert_int_equal(rep.blobs_removed, 3); /* drop's layer, config, manifest */
  assert_int_equal(rep.rootfs_removed, 1);
  assert_int_equal(rep.rootfs_busy, 1);
  assert_true(rep.bytes_freed > 0);
  assert_false(cab_store_has_blob(f->s, drop, -1));
  assert_true(cab_store_has_blob(f->s, keep, -1));
  char p[512];
  struct stat st;
  cab_store_rootfs_path(f->s, keep, p, sizeof p, NULL);
  assert_int_equal(stat(p, &st), 0);
  cab_store_rootfs_path(f->s, drop, p, sizeof p, NULL);
  assert_int_equal(stat(p, &st), -1);
  cab_store_rootfs_path(f->s, busy, p, sizeof p, NULL);
  assert_int_equal(stat(p, &st), 0);
  snprintf(junk, sizeof junk, "%s/tmp", f->home);
  assert_int_equal(count_files(junk), 0);
  *strrchr(stale, '/') = '\0';
  *strrchr(running, '/') = '\0';
  assert_int_equal(stat(stale, &st), -1);   /* no unpack holds its lock: stale */
  assert_int_equal(stat(running, &st), 0);  /* its unpack is running */
  assert_int_equal(stat(oldlock, &st), -1); /* the lock of a removed tree */
  close(ufd);
  close(lock);
  assert_int_equal(cab_store_gc(f->s, 5, &rep, &err), 0);
  assert_int_equal(rep.rootfs_removed, 1);
  cab_image *img;
  assert_int_equal(cab_image_resolve(f->s, "keep", &img, &err), 0);
  cab_image_free(img);
}

/* gc removes a rootfs cache nested far deeper than it keeps fds open. */
static void
test_gc_deep_tree(void **state)
{
  struct fixture *f = *state;
  cab_error err = {0};
  char d[CAB_DIGEST_LEN + 1], p[512];
  cab_sha256_buffer("deep", 4, d);
  assert_int_equal(cab_store_rootfs_path(f->s, d, p, sizeof p, &err), 0);
  assert_int_equal(cab_mkdir_p(p, 0755, &err), 0);
  int fd = open(p, O_RDONLY | O_DIRECTORY);
  assert_true(fd >= 0);
  for (int i = 0; i < 1500; i++) { /* deeper than PATH_MAX allows as a path */
    assert_int_equal(mkdirat(fd, "dd", 0755), 0);
    int next = openat(fd, "dd", O_RDONLY | O_DIRECTORY);
    assert_true(next >= 0);
    if (i % 100 == 0) {
      int ff = openat(next, "file", O_WRONLY | O_CREAT, 0400);
      close(ff);
      fchmod(next, 0555); /* read-only directories on the way */
    }
    close(fd);
    fd = next;
  }
  close(fd);
  cab_gc_report rep;
  assert_int_equal(cab_store_gc(f->s, 5, &rep, &err), 0);
  assert_int_equal(rep.rootfs_removed, 1);
  struct stat st;
  assert_int_equal(stat(p, &st), -1);
  char rootfs[512];
  snprintf(rootfs, sizeof rootfs, "%s/rootfs", f->home);
  assert_int_equal(count_files(rootfs), 0);
  char cmd[600];
  snprintf(cmd, sizeof cmd, "test -z \"$(ls -A '%s')\"", rootfs);
  assert_int_equal(system(cmd), 0);
}

/* gc waits for (and then times out on) a process holding the use lock. */
static void
test_gc_waits_for_users(void **state)
{
  struct fixture *f = *state;
  cab_error err = {0};
  int pipefd[2];
  assert_int_equal(pipe(pipefd), 0);
  pid_t pid = fork();
  if (pid == 0) {
    cab_store *s;
    if (cab_store_open(f->home, &s, NULL) < 0 || cab_store_use(s, NULL) < 0)
      _exit(1);
    (void)!write(pipefd[1], "x", 1);
    sleep(3);
    _exit(0);
  }
  char c;
  assert_int_equal(read(pipefd[0], &c, 1), 1);
  cab_gc_report rep;
  assert_int_equal(cab_store_gc(f->s, 1, &rep, &err), -1);
  assert_non_null(strstr(err.message, "other cab processes"));
  int st;
  waitpid(pid, &st, 0);
  assert_int_equal(cab_store_gc(f->s, 1, &rep, &err), 0);
  close(pipefd[0]);
  close(pipefd[1]);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_layout, setup, teardown),
      cmocka_unit_test_setup_teardown(test_paths_validate, setup, teardown),
      cmocka_unit_test_setup_teardown(test_stage_commit, setup, teardown),
      cmocka_unit_test_setup_teardown(test_stage_rejects, setup, teardown),
      cmocka_unit_test_setup_teardown(test_refs_and_resolve, setup, teardown),
      cmocka_unit_test_setup_teardown(test_corrupt_blob_detected, setup, teardown),
      cmocka_unit_test_setup_teardown(test_index_digest, setup, teardown),
      cmocka_unit_test_setup_teardown(test_oci_twin, setup, teardown),
      cmocka_unit_test_setup_teardown(test_concurrent_tags, setup, teardown),
      cmocka_unit_test_setup_teardown(test_gc, setup, teardown),
      cmocka_unit_test_setup_teardown(test_gc_deep_tree, setup, teardown),
      cmocka_unit_test_setup_teardown(test_gc_waits_for_users, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
