/* cab images [--json], cab inspect REF, cab rmi REF..., cab gc */
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strfmt.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "rootfs/ref.h"
#include "rootfs/store_describe.h"
#include "runner/cli/json_out.h"
#include "runner/cli/options.h"
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

static const struct option help_only[] = {
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* The options of a command that has only --help (and takes operands):
 * 1 when --help was given (usage printed), 0 to go on, or -1 after the
 * one-line error. */
static int
parse_help_only(const char *cmd, const char *usage, int argc, char **argv)
{
  int opt;
  opterr = 0;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "h", help_only, NULL)) != -1) {
    if (opt == 'h') {
      cab_cli_help(usage);
      return 1;
    }
    cab_cli_option_error(cmd, help_only, argv);
    return -1;
  }
  return 0;
}

static const char images_usage[] =
    "usage: cab images [--json]\n"
    "\n"
    "List the stored images: repository, tag, digest, platform and size.\n"
    "\n"
    "  --json   one JSON object (schema cab.images/v1): count and images [{name,\n"
    "           repository, short_repository (the REPOSITORY column), tag, digest,\n"
    "           index_digest, media_type, platform, size (bytes)}]\n";

int
cab_cmd_images(int argc, char **argv)
{
  bool json;
  int rc = cab_cli_json_only("images", images_usage, argc, argv, &json);
  if (rc >= 0)
    return rc;
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
    char fam[300];
    cab_ref_familiar(sum.repo, fam, sizeof fam);
    if (json) {
      cJSON *o = cab_store_entry_json(e, &sum);
      cJSON_AddStringToObject(o, "short_repository", fam);
      cJSON_AddItemToArray(arr, o);
    } else {
      char size[32];
      human(sum.size, size, sizeof size);
      printf("%-40s %-16s %.19s %-14s %s\n", fam, sum.tag[0] ? sum.tag : "<none>",
             e->manifest.digest, sum.platform, size);
    }
  }
  cab_store_close(s);
  return json ? cab_cli_print_json(cab_cli_json_list("cab.images/v1", "images", arr)) : 0;
}

int
cab_cmd_inspect(int argc, char **argv)
{
  static const char usage[] = "usage: cab inspect REF\n\nShow image REF (manifest, config, "
                              "layers) as JSON.\n";
  int h = parse_help_only("inspect", usage, argc, argv);
  if (h != 0)
    return h > 0 ? 0 : CAB_EXIT_RUNNER;
  if (argc - optind != 1)
    return cab_cli_usage_error("inspect", "give exactly one image reference");
  cab_error err = {0};
  cab_store *s;
  if (cab_store_open(NULL, &s, &err) < 0)
    return cab_cli_fail(&err);
  cJSON *o = NULL;
  int r = cab_store_inspect_json(s, argv[optind], &o, &err);
  cab_store_close(s);
  if (r < 0)
    return cab_cli_fail(&err);
  return cab_cli_print_json(o);
}

static void
report_gc(const cab_gc_report *rep, const struct cab_reaped *scratch)
{
  char freed[32], blobs[32];
  int64_t total = rep->bytes_freed + (scratch ? scratch->bytes : 0);
  human(total, freed, sizeof freed);
  human(rep->blob_bytes_freed, blobs, sizeof blobs);
  printf("gc: freed %s: removed %zu %s (%s), %zu rootfs %s, %zu interrupted %s", freed,
         rep->blobs_removed, cab_plural(rep->blobs_removed, "blob", "blobs"), blobs,
         rep->rootfs_removed, cab_plural(rep->rootfs_removed, "cache", "caches"),
         rep->unpacks_removed, cab_plural(rep->unpacks_removed, "unpack", "unpacks"));
  if (scratch)
    printf(", %zu scratch %s of dead runs", scratch->entries,
           cab_plural(scratch->entries, "directory", "directories"));
  if (rep->rootfs_busy)
    printf("; %zu unreferenced rootfs %s in use and kept", rep->rootfs_busy,
           cab_plural(rep->rootfs_busy, "cache is", "caches are"));
  printf("\n");
}

int
cab_cmd_rmi(int argc, char **argv)
{
  static const char usage[] = "usage: cab rmi REF...\n\nRemove the references, then the blobs "
                              "and rootfs caches nothing else needs.\n";
  int h = parse_help_only("rmi", usage, argc, argv);
  if (h != 0)
    return h > 0 ? 0 : CAB_EXIT_RUNNER;
  if (optind == argc)
    return cab_cli_usage_error("rmi", "give one or more image references");
  cab_error err = {0};
  cab_store *s;
  if (cab_store_open(NULL, &s, &err) < 0)
    return cab_cli_fail(&err);
  int ret = 0;
  for (int i = optind; i < argc; i++) {
    size_t removed = 0;
    if (cab_store_untag(s, argv[i], &removed, &err) < 0) {
      ret = cab_cli_fail(&err);
      continue;
    }
    printf("untagged %s (%zu %s)\n", argv[i], removed, removed == 1 ? "reference" : "references");
  }
  /* After a failure the store is left as it was found past the untags that
   * worked: nothing is collected until the user has looked. */
  if (ret != 0) {
    cab_store_close(s);
    return ret;
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
  static const char usage[] =
      "usage: cab gc [--wait SECONDS]\n\nRemove blobs, staging leftovers and rootfs caches "
      "that no image in the store needs,\nthe trees of interrupted unpacks, and the scratch "
      "directories of dead cells and execs\nin $TMPDIR.  Waits up to SECONDS (60) for running "
      "pulls and unpacks.\n";
  static const struct option longopts[] = {
      {"wait", required_argument, NULL, 'w'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  int wait = 60, opt;
  opterr = 0;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    switch (opt) {
    case 'w': {
      char *end;
      long v = strtol(optarg, &end, 10);
      if (*optarg == '\0' || *end != '\0' || v < 0 || v > 86400)
        return cab_cli_usage_error("gc", "--wait %s: expected whole seconds, 0 to 86400", optarg);
      wait = (int)v;
      break;
    }
    case 'h': return cab_cli_help(usage);
    default: return cab_cli_option_error("gc", longopts, argv);
    }
  }
  if (optind != argc)
    return cab_cli_usage_error("gc", "unexpected argument '%s'", argv[optind]);
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
