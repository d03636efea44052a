/* cab images [--json], cab inspect REF, cab rmi REF..., cab gc */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "rootfs/ref.h"
#include "rootfs/store_describe.h"
#include "runner/cli/commands.h"
#include "runner/cell/leftovers.h"

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
    struct cab_image_summary sum;
    cab_store_entry_summary(s, e, &sum);
    if (json) {
      cJSON_AddItemToArray(arr, cab_store_entry_json(e, &sum));
    } else {
      char fam[300], size[32];
      cab_ref_familiar(sum.repo, fam, sizeof fam);
      human(sum.size, size, sizeof size);
      printf("%-40s %-16s %.19s %-14s %s\n", fam, sum.tag[0] ? sum.tag : "<none>",
             e->manifest.digest, sum.platform, size);
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
  if (cab_store_open(NULL, &s, &err) < 0)
    return cab_cli_fail(&err);
  cJSON *o = NULL;
  int r = cab_store_inspect_json(s, argv[1], &o, &err);
  cab_store_close(s);
  if (r < 0)
    return cab_cli_fail(&err);
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
