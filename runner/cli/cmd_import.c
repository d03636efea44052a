/* cab import [--name NAME[:TAG]] [--platform P] PATH */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "rootfs/archive_io.h"
#include "rootfs/ref.h"
#include "runner/cli/options.h"
#include "runner/cli/commands.h"

static const char import_usage[] =
    "usage: cab import [--name NAME[:TAG]] [--platform OS/ARCH] PATH\n"
    "\n"
    "Load images offline from PATH: an OCI image layout directory, a tar of one,\n"
    "or a 'docker save' tar.  Prints each image as name@sha256:<manifest>.\n"
    "Without --name, images keep the archive's names (a bare tag T becomes\n"
    "localhost/<PATH's base name>:T).\n";

int
cab_cmd_import(int argc, char **argv)
{
  static const struct option longopts[] = {
      {"name", required_argument, NULL, 'n'},
      {"platform", required_argument, NULL, 'p'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  cab_import_opts o = {0};
  int opt;
  opterr = 0;
  optind = 1;
  /* PATH may come before or after the options. */
  while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    switch (opt) {
    case 'n': o.name = optarg; break;
    case 'p': o.platform = optarg; break;
    case 'h': return cab_cli_help(import_usage);
    default: return cab_cli_option_error("import", longopts, argv);
    }
  }
  if (optind != argc - 1)
    return cab_cli_usage_error("import", "give exactly one PATH to import");
  cab_error err = {0};
  cab_store *s;
  cab_imported *res = NULL;
  size_t n = 0;
  int r = cab_store_open(NULL, &s, &err);
  if (r == 0) {
    r = cab_import(s, argv[optind], &o, &res, &n, &err);
    cab_store_close(s);
  }
  if (r < 0)
    return cab_cli_fail(&err);
  for (size_t i = 0; i < n; i++) {
    const char *name = res[i].name;
    size_t len = strcspn(name, "@");
    /* name:tag -> name@digest, keeping what was tagged visible */
    const char *colon = memrchr(name, ':', len);
    const char *slash = memrchr(name, '/', len);
    if (colon && (!slash || colon > slash))
      len = (size_t)(colon - name);
    /* the repository as 'cab images' shows it (docker.io/library/x is x) */
    char repo[300], fam[300];
    snprintf(repo, sizeof repo, "%.*s", (int)len, name);
    cab_ref_familiar(repo, fam, sizeof fam);
    printf("%s@%s\n", fam, res[i].digest);
  }
  free(res);
  return 0;
}
