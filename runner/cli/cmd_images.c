/* cab images [--json], cab inspect REF, cab rmi REF..., cab gc */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "rootfs/ref.h"
#include "rootfs/store_write.h"
#include "runner/cli/commands.h"
#include "runner/cell/leftovers.h"

/* Split a stored name into repository and tag ("" for a digest name). */
static void
split_name(const char *name, char *repo, size_t rsize, char *tag, size_t tsize)
{
  size_t len = strcspn(name, "@");
  const char *slash = memrchr(name, '/', len);
  const char *colon = memrchr(name, ':', len);
  if (colon && (!slash || colon > slash)) {
    snprintf(tag, tsize, "%.*s", (int)(len - (size_t)(colon - name) - 1), colon + 1);
    len = (size_t)(colon - name);
  } else {
    tag[0] = '\0';
  }
  snprintf(repo, rsize, "%.*s", (int)len, name);
}

/* Bytes of the config and layers (from the verified manifest), -1 if unreadable. */
static int64_t
image_size(const cab_store *s, const cab_store_entry *e)
{
  cleanup_free char *buf = NULL;
  size_t len;
  cab_manifest *m;
  if (cab_store_read_blob(s, e->manifest.digest, CAB_MANIFEST_MAX, &buf, &len, NULL) < 0 ||
      cab_manifest_parse(buf, len, e->manifest.media_type, &m, NULL) < 0)
    return -1;
  int64_t total = m->config.size;
  for (size_t i = 0; i < m->n_layers; i++)
    total += m->layers[i].size;
  cab_manifest_free(m);
  return total;
}

static void
human(int64_t n, char *buf, size_t size)
{
  if (n < 0)
    snprintf(buf, size, "?");
  else if (n < 1000 * 1000)
    snprintf(buf, size, "%.1fkB", (double)n / 1e3);
  else if (n < 1000LL * 1000 * 1000)
    snprintf(buf, size, "%.1fMB", (double)n / 1e6);
  else
    snprintf(buf, size, "%.2fGB", (double)n / 1e9);
}

static int
print_json(cJSON *j)
{
  cleanup_free char *text = cJSON_Print(j);
  cJSON_Delete(j);
  if (text == NULL) {
    cab_error err = {0};
    cab_error_set(&err, ENOMEM, "serialise JSON");
    return cab_cli_fail(&err);
  }
  printf("%s\n", text);
  return 0;
}

static cJSON *
platform_json(const cab_platform *p)
{
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "os", p->os);
  cJSON_AddStringToObject(o, "architecture", p->architecture);
  if (p->variant[0])
    cJSON_AddStringToObject(o, "variant", p->variant);
  return o;
}

int
cab_cmd_images(int argc, char **argv)
{
  bool json = argc == 2 && strcmp(argv[1], "--json") == 0;
  if (argc > 2 || (argc == 2 && !json)) {
    fputs("usage: cab images [--json]\n", argc == 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
    return argc == 2 && strcmp(argv[1], "--help") == 0 ? 0 : CAB_EXIT_RUNNER;
  }
  cab_error err = {0};
  cab_store *s;
  if (cab_store_open(NULL, &s, &err) < 0)
    return cab_cli_fail(&err);
  cleanup_free cab_store_entry *v = NULL;
  size_t n = 0;
  if (cab_store_list(s, &v, &n, &err) < 0) {
    cab_store_close(s);
    return cab_cli_fail(&err);
  }
  cJSON *arr = json ? cJSON_CreateArray() : NULL;
  if (!json)
    printf("%-40s %-16s %-19s %-14s %s\n", "REPOSITORY", "TAG", "DIGEST", "PLATFORM", "SIZE");
  for (size_t i = 0; i < n; i++) {
    const cab_store_entry *e = &v[i];
    char repo[300], tag[200], plat[100] = "", size[32];
    split_name(e->name, repo, sizeof repo, tag, sizeof tag);
    if (e->manifest.has_platform)
      cab_platform_string(&e->manifest.platform, plat, sizeof plat);
    int64_t bytes = image_size(s, e);
    if (json) {
      cJSON *o = cJSON_CreateObject();
      cJSON_AddStringToObject(o, "name", e->name);
      cJSON_AddStringToObject(o, "repository", repo);
      if (tag[0])
        cJSON_AddStringToObject(o, "tag", tag);
      else
        cJSON_AddNullToObject(o, "tag");
      cJSON_AddStringToObject(o, "digest", e->manifest.digest);
      if (e->index_digest[0])
        cJSON_AddStringToObject(o, "index_digest", e->index_digest);
      else
        cJSON_AddNullToObject(o, "index_digest");
      cJSON_AddStringToObject(o, "media_type", e->manifest.media_type);
      cJSON_AddStringToObject(o, "platform", plat);
      cJSON_AddNumberToObject(o, "size", (double)bytes);
      cJSON_AddItemToArray(arr, o);
    } else {
      char fam[300];
      cab_ref_familiar(repo, fam, sizeof fam);
      human(bytes, size, sizeof size);
      printf("%-40s %-16s %.19s %-14s %s\n", fam, tag[0] ? tag : "<none>", e->manifest.digest,
             plat, size);
    }
  }
  cab_store_close(s);
  return json ? print_json(arr) : 0;
}

int
cab_cmd_inspect(int argc, char **argv)
{
  if (argc != 2 || argv[1][0] == '-') {
    fputs("usage: cab inspect REF\n", stderr);
    return CAB_EXIT_RUNNER;
  }
  cab_error err = {0};
  cab_store *s;
  cab_image *img = NULL;
  if (cab_store_open(NULL, &s, &err) < 0)
    return cab_cli_fail(&err);
  if (cab_image_resolve(s, argv[1], &img, &err) < 0) {
    cab_store_close(s);
    return cab_cli_fail(&err);
  }
  cleanup_free char *cbuf = NULL;
  size_t clen = 0;
  cJSON *cfg = NULL;
  if (cab_store_read_blob(s, img->config_digest, CAB_CONFIG_MAX, &cbuf, &clen, &err) == 0)
    cfg = cJSON_ParseWithLength(cbuf, clen);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "name", img->name);
  cJSON_AddStringToObject(o, "digest", img->digest);
  if (img->index_digest[0])
    cJSON_AddStringToObject(o, "index_digest", img->index_digest);
  else
    cJSON_AddNullToObject(o, "index_digest");
  cJSON_AddStringToObject(o, "media_type", img->manifest_media_type);
  cJSON_AddStringToObject(o, "config_digest", img->config_digest);
  cJSON_AddItemToObject(o, "platform", platform_json(&img->config->platform));
  cJSON *inner = cJSON_DetachItemFromObjectCaseSensitive(cfg, "config");
  cJSON_AddItemToObject(o, "config", inner ? inner : cJSON_CreateObject());
  cJSON *created = cJSON_DetachItemFromObjectCaseSensitive(cfg, "created");
  if (created)
    cJSON_AddItemToObject(o, "created", created);
  cJSON *layers = cJSON_AddArrayToObject(o, "layers");
  int64_t total = 0;
  for (size_t i = 0; i < img->n_layers; i++) {
    cJSON *l = cJSON_CreateObject();
    cJSON_AddStringToObject(l, "digest", img->layers[i].digest);
    cJSON_AddStringToObject(l, "media_type", img->layers[i].media_type);
    cJSON_AddNumberToObject(l, "size", (double)img->layers[i].size);
    cJSON_AddStringToObject(l, "diff_id", img->layers[i].diff_id);
    cJSON_AddItemToArray(layers, l);
    total += img->layers[i].size;
  }
  cJSON_AddNumberToObject(o, "size", (double)total);
  cJSON *names = cJSON_AddArrayToObject(o, "names");
  cleanup_free cab_store_entry *v = NULL;
  size_t n = 0;
  if (cab_store_list(s, &v, &n, &err) == 0)
    for (size_t i = 0; i < n; i++)
      if (strcmp(v[i].manifest.digest, img->digest) == 0)
        cJSON_AddItemToArray(names, cJSON_CreateString(v[i].name));
  cJSON_Delete(cfg);
  cab_image_free(img);
  cab_store_close(s);
  return print_json(o);
}

static void
report_gc(const cab_gc_report *rep, const struct cab_reaped *scratch)
{
  char freed[32], blobs[32];
  int64_t total = rep->bytes_freed + (scratch ? scratch->bytes : 0);
  human(total, freed, sizeof freed);
  human(rep->blob_bytes_freed, blobs, sizeof blobs);
  printf("gc: freed %s: removed %zu blobs (%s), %zu rootfs caches, %zu interrupted unpacks",
         freed, rep->blobs_removed, blobs, rep->rootfs_removed, rep->unpacks_removed);
  if (scratch)
    printf(", %zu scratch directories of dead runs", scratch->entries);
  if (rep->rootfs_busy)
    printf("; %zu unreferenced rootfs caches are in use and were kept", rep->rootfs_busy);
  printf("\n");
}

int
cab_cmd_rmi(int argc, char **argv)
{
  if (argc < 2 || argv[1][0] == '-') {
    fputs("usage: cab rmi REF...\n\nRemove the references, then the blobs and rootfs caches "
          "nothing else needs.\n",
          stderr);
    return CAB_EXIT_RUNNER;
  }
  cab_error err = {0};
  cab_store *s;
  if (cab_store_open(NULL, &s, &err) < 0)
    return cab_cli_fail(&err);
  int ret = 0;
  for (int i = 1; i < argc; i++) {
    size_t removed = 0;
    if (cab_store_untag(s, argv[i], &removed, &err) < 0) {
      ret = cab_cli_fail(&err);
      continue;
    }
    printf("untagged %s (%zu %s)\n", argv[i], removed, removed == 1 ? "reference" : "references");
  }
  cab_gc_report rep;
  cab_error gerr = {0};
  if (cab_store_gc(s, 10, &rep, &gerr) < 0)
    fprintf(stderr, "cab: note: blobs not freed yet (%s); run cab gc later\n", gerr.message);
  else
    report_gc(&rep, NULL);
  cab_store_close(s);
  return ret;
}

int
cab_cmd_gc(int argc, char **argv)
{
  int wait = 60;
  if (argc == 3 && strcmp(argv[1], "--wait") == 0)
    wait = atoi(argv[2]);
  else if (argc != 1) {
    fputs("usage: cab gc [--wait SECONDS]\n\nRemove blobs, staging leftovers and rootfs caches "
          "that no image in the store needs,\nthe trees of interrupted unpacks, and the scratch "
          "directories of dead cells and execs\nin $TMPDIR.  Waits up to SECONDS (60) for running "
          "pulls and unpacks.\n",
          stderr);
    return CAB_EXIT_RUNNER;
  }
  cab_error err = {0};
  cab_store *s;
  if (cab_store_open(NULL, &s, &err) < 0)
    return cab_cli_fail(&err);
  cab_gc_report rep;
  int r = cab_store_gc(s, wait, &rep, &err);
  cab_store_close(s);
  if (r < 0)
    return cab_cli_fail(&err);
  /* Cells' and execs' scratch in TMPDIR whose runs died (SIGKILL, a
   * crash): workdirs, snapshots, overlay layers. */
  struct cab_reaped reaped = {0};
  cab_owned_dirs_reap(cab_scratch_parent(), cab_scratch_prefixes, true, &reaped);
  report_gc(&rep, &reaped);
  return 0;
}
