/* Refs: the manifests array of $CAB_HOME/oci/index.json.  Writers hold
 * locks/index.lock and replace the file atomically; readers just read it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "rootfs/manifest_json.h"
#include "rootfs/ref.h"
#include "rootfs/store_internal.h"

#define INDEX_MAX (64 << 20)

struct query {
  char name[300];   /* exact stored name, or "" */
  char repo[300];   /* "domain/path" when REF named one */
  char digest[CAB_DIGEST_LEN + 1];
};

static int
parse_query(const char *ref, struct query *q, cab_error *err)
{
  memset(q, 0, sizeof *q);
  if (strncmp(ref, "sha256:", 7) == 0) {
    if (cab_digest_require(ref, "image reference", err) < 0)
      return -1;
    snprintf(q->digest, sizeof q->digest, "%s", ref);
    return 0;
  }
  cab_ref r;
  if (cab_ref_parse(ref, &r, err) < 0)
    return -1;
  cab_ref_name(&r, q->repo, sizeof q->repo);
  if (r.digest[0])
    snprintf(q->digest, sizeof q->digest, "%s", r.digest);
  else
    cab_ref_string(&r, q->name, sizeof q->name);
  return 0;
}

static bool
same_repo(const char *stored, const char *repo)
{
  size_t n = strlen(repo);
  return strncmp(stored, repo, n) == 0 && (stored[n] == ':' || stored[n] == '@');
}

static bool
matches(const cab_store_entry *e, const struct query *q, bool need_repo)
{
  if (q->name[0])
    return strcmp(e->name, q->name) == 0;
  if (strcmp(e->manifest.digest, q->digest) != 0 && strcmp(e->index_digest, q->digest) != 0)
    return false;
  return !need_repo || !q->repo[0] || same_repo(e->name, q->repo);
}

int
cab_store_index_read(const cab_store *s, cJSON **out, cab_error *err)
{
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/oci/index.json", s->home); /* fits: home is PATH_MAX - 64 */
  cleanup_free char *buf = NULL;
  size_t len = 0;
  if (cab_read_file_at(AT_FDCWD, path, INDEX_MAX, &buf, &len, err) < 0)
    return -1;
  cJSON *root = cab_json_parse_strict(buf, len, path, err);
  if (root == NULL)
    return -1;
  cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "manifests");
  if (m == NULL)
    m = cJSON_AddArrayToObject(root, "manifests");
  if (!cJSON_IsArray(m)) {
    cJSON_Delete(root);
    return cab_error_set(err, 0, "%s: 'manifests' is not an array", path);
  }
  *out = root;
  return 0;
}

int
cab_store_index_lock_read(const cab_store *s, int *lock, cJSON **out, cab_error *err)
{
  *lock = cab_store_lock_file(s, "index.lock", LOCK_EX, -1, err);
  if (*lock < 0)
    return -1;
  if (cab_store_index_read(s, out, err) < 0) {
    close(*lock);
    *lock = -1;
    return -1;
  }
  return 0;
}

int
cab_store_index_write(const cab_store *s, cJSON *root, cab_error *err)
{
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/oci/index.json", s->home); /* fits: home is PATH_MAX - 64 */
  cleanup_free char *text = cJSON_PrintUnformatted(root);
  if (text == NULL)
    return cab_error_set(err, ENOMEM, "serialise %s", path);
  return cab_write_file_atomic(path, text, strlen(text), 0644, err);
}

/* An index.json entry as a cab_store_entry; false for entries cab cannot use. */
static bool
entry_from_json(const cJSON *item, cab_store_entry *e)
{
  memset(e, 0, sizeof *e);
  if (cab_json_descriptor(item, "index.json", &e->manifest, NULL) < 0)
    return false;
  const cJSON *ann = cJSON_GetObjectItemCaseSensitive(item, "annotations");
  const char *name = cab_json_str(ann, CAB_ANNOT_REF_NAME);
  const char *idx = cab_json_str(ann, CAB_ANNOT_INDEX_DIGEST);
  if (name && strlen(name) < sizeof e->name)
    snprintf(e->name, sizeof e->name, "%s", name);
  if (idx && cab_digest_valid(idx))
    snprintf(e->index_digest, sizeof e->index_digest, "%s", idx);
  const char *twin = cab_json_str(ann, CAB_ANNOT_TWIN_OF);
  if (twin && cab_digest_valid(twin))
    snprintf(e->twin_of, sizeof e->twin_of, "%s", twin);
  return true;
}

cJSON *
cab_store_index_entry(const cab_store_entry *e)
{
  cJSON *o = cab_json_from_descriptor(&e->manifest);
  if (o == NULL)
    return NULL;
  cJSON *ann = cJSON_AddObjectToObject(o, "annotations");
  if (ann == NULL) {
    cJSON_Delete(o);
    return NULL;
  }
  if (e->index_digest[0])
    cJSON_AddStringToObject(ann, CAB_ANNOT_INDEX_DIGEST, e->index_digest);
  if (e->twin_of[0])
    cJSON_AddStringToObject(ann, CAB_ANNOT_TWIN_OF, e->twin_of);
  cJSON_AddStringToObject(ann, CAB_ANNOT_REF_NAME, e->name);
  return o;
}

static int
list_entries(const cab_store *s, bool twins, cab_store_entry **out, size_t *n, cab_error *err)
{
  *out = NULL;
  *n = 0;
  cJSON *root;
  if (cab_store_index_read(s, &root, err) < 0)
    return -1;
  const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "manifests");
  int count = cJSON_GetArraySize(arr);
  cab_store_entry *v = calloc(count ? (size_t)count : 1, sizeof *v);
  if (v == NULL) {
    cJSON_Delete(root);
    return cab_error_sys(err, "allocate the image list");
  }
  size_t used = 0;
  const cJSON *item;
  cJSON_ArrayForEach(item, arr)
  {
    if (entry_from_json(item, &v[used]) && (twins || !v[used].twin_of[0]))
      used++;
  }
  cJSON_Delete(root);
  *out = v;
  *n = used;
  return 0;
}

int
cab_store_list(const cab_store *s, cab_store_entry **out, size_t *n, cab_error *err)
{
  return list_entries(s, false, out, n, err);
}

int
cab_store_list_all(const cab_store *s, cab_store_entry **out, size_t *n, cab_error *err)
{
  return list_entries(s, true, out, n, err);
}

int
cab_store_lookup(const cab_store *s, const char *ref, cab_store_entry *out, cab_error *err)
{
  struct query q;
  if (parse_query(ref, &q, err) < 0)
    return -1;
  cleanup_free cab_store_entry *v = NULL;
  size_t n;
  if (cab_store_list(s, &v, &n, err) < 0)
    return -1;
  for (int pass = 0; pass < 2; pass++)
    for (size_t i = 0; i < n; i++)
      if (matches(&v[i], &q, pass == 0)) {
        *out = v[i];
        return 0;
      }
  return cab_error_set(err, ENOENT, "image '%.300s' is not in the store %s (cab pull or cab "
                                    "import it first)",
                       ref, s->home);
}

int
cab_store_untag(cab_store *s, const char *ref, size_t *removed, cab_error *err)
{
  *removed = 0;
  struct query q;
  if (parse_query(ref, &q, err) < 0)
    return -1;
  cleanup_close int lock = -1;
  cJSON *root;
  if (cab_store_index_lock_read(s, &lock, &root, err) < 0)
    return -1;
  cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "manifests");
  int n = cJSON_GetArraySize(arr);
  bool *drop = calloc((size_t)n + 1, sizeof *drop);
  if (drop == NULL) {
    cJSON_Delete(root);
    return cab_error_sys(err, "allocate");
  }
  cab_store_entry e, t;
  for (int i = 0; i < n; i++)
    if (entry_from_json(cJSON_GetArrayItem(arr, i), &e) && !e.twin_of[0] && matches(&e, &q, true)) {
      drop[i] = true;
      (*removed)++;
      for (int j = 0; j < n; j++) /* its OCI twin goes with it */
        if (entry_from_json(cJSON_GetArrayItem(arr, j), &t) && t.twin_of[0] &&
            strcmp(t.name, e.name) == 0)
          drop[j] = true;
    }
  for (int i = n - 1; i >= 0; i--)
    if (drop[i])
      cJSON_DeleteItemFromArray(arr, i);
  free(drop);
  int r = *removed ? cab_store_index_write(s, root, err) : 0;
  cJSON_Delete(root);
  if (r == 0 && *removed == 0)
    return cab_error_set(err, ENOENT, "image '%.300s' is not in the store %s", ref, s->home);
  return r;
}
