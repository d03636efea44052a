/* cab tasks list | show ID | validate [ID...] [--image REF | --host-rootfs]
 *
 * validate proves each task with real cells: the nop agent (the untouched
 * workdir) must fail verification; the oracle (the reference solution,
 * applied from inside the sandbox) must pass with nothing unexpected
 * changed and every declared constraint honoured. */
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/strfmt.h"
#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/rm_tree.h"
#include "runner/cell/cell.h"
#include "runner/cli/commands.h"
#include "runner/record/artifacts.h"
#include "runner/record/cell_record.h"
#include "runner/task/import.h"
#include "runner/task/task.h"
#include "scorers/scorers.h"

/* A figure of the cell's scores, -1 when it has none (or no record). */
static double
or_minus1(struct cab_num n)
{
  return n.has ? n.v : -1;
}

/* The last non-empty line of the cell's verify.log, for a failure line. */
static void
verify_tail(const char *cell_dir, char *out, size_t size)
{
  char path[PATH_MAX + 16];
  snprintf(path, sizeof path, "%s/" CAB_CELL_VERIFY_LOG, cell_dir);
  FILE *f = fopen(path, "re");
  if (f == NULL) {
    snprintf(out, size, "(no verify.log)");
    return;
  }
  char line[512];
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\r\n")] = '\0';
    if (line[0])
      cab_snprintf_cut(out, size, "%s", line); /* shown in a table column */
  }
  fclose(f);
}

/* One task: returns the number of failed checks, printing each. */
static int
validate_one(const char *root, const char *id, const char *image, bool host, const char *out)
{
  int failed = 0;
  const char *tuis[2] = {"nop", "oracle"};
  for (int i = 0; i < 2; i++) {
    struct cab_cell_options o = {
        .tui = tuis[i], .model = "none/validate", .task_id = id, .image = image,
        .host_rootfs = host, .sweep_id = "validate", .out_dir = out, .tasks_dir = root,
    };
    struct cab_cell_summary sum;
    memset(&sum, 0, sizeof sum);
    cab_error err = {0};
    if (cab_cell_run(&o, &sum, &err) < 0) {
      char line[2300];
      printf("FAIL %s: %s cell: %s\n", id, tuis[i], cab_error_line(&err, line, sizeof line));
      failed++;
      continue;
    }
    struct cab_cell_record cell;
    cab_error unread = {0};
    if (cab_cell_record_read(AT_FDCWD, sum.cell_dir, &cell, &unread) < 0)
      memset(&cell, 0, sizeof cell); /* no figures: as a record without scores */
    const struct cab_scores *sc = &cell.scores;
    if (i == 0 && sum.pass != 0) {
      printf("FAIL %s: the untouched workdir passes verification\n", id);
      failed++;
    }
    if (i == 1) {
      double declared = or_minus1(sc->instruction_fidelity.declared);
      double honored = or_minus1(sc->instruction_fidelity.honored);
      if (sum.pass != 1) {
        /* Enough to diagnose from the log alone: what the oracle agent
         * did, and how the verifier ended. */
        char tail[240] = "";
        verify_tail(sum.cell_dir, tail, sizeof tail);
        struct cab_num changed = sc->blast_radius.total_changes;
        printf("FAIL %s: the reference solution does not pass (%s; oracle exit %d; %zu files "
               "changed; verify.log ends: %s) [%s]\n",
               id, sum.outcome_reason, sum.agent_exit_code, changed.has ? (size_t)changed.v : 0, tail,
               sum.cell_dir);
        failed++;
      }
      if (sum.blast != 0) {
        printf("FAIL %s: the reference solution changes files the task does not expect "
               "(blast %.3f)\n", id, sum.blast);
        failed++;
      }
      if (declared > 0 && honored != declared) {
        printf("FAIL %s: the reference solution honours %.0f of %.0f constraints\n", id,
               honored, declared);
        failed++;
      }
    }
    cab_cell_record_free(&cell);
  }
  if (failed == 0)
    printf("ok   %s\n", id);
  fflush(stdout);
  return failed;
}

static int
validate(int argc, char **argv, const char *root)
{
  static const struct option longopts[] = {
      {"image", required_argument, 0, 'i'},
      {"host-rootfs", no_argument, 0, 'H'},
      {0, 0, 0, 0},
  };
  const char *image = NULL;
  bool host = false;
  cab_error err = {0};
  opterr = 0;
  optind = 1;
  int opt;
  while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
    if (opt == 'i')
      image = optarg;
    else if (opt == 'H')
      host = true;
    else {
      cab_error_set(&err, 0, "tasks validate: unknown option '%s'", argv[optind - 1]);
      return cab_cli_fail(&err);
    }
  }
  if (!image && !host)
    host = true;
  struct cab_strv ids = {0};
  if (optind < argc) {
    ids.v = argv + optind;
    ids.n = (size_t)(argc - optind);
  } else if (cab_task_list(root, &ids, &err) < 0) {
    return cab_cli_fail(&err);
  }
  char out[] = "/tmp/cab-validate-XXXXXX";
  if (mkdtemp(out) == NULL) {
    cab_error_sys(&err, "create a results directory");
    return cab_cli_fail(&err);
  }
  int passed = 0, failed = 0;
  for (size_t i = 0; i < ids.n; i++) {
    if (validate_one(root, ids.v[i], image, host, out) == 0)
      passed++;
    else
      failed++;
  }
  printf("%d passed, %d failed\n", passed, failed);
  if (optind >= argc)
    cab_strv_free(&ids);
  /* The cells are throwaway when every task passed: remove them (they
   * are the caller's files).  A failure keeps them for a look. */
  if (failed) {
    fprintf(stderr, "cab tasks validate: the cells are kept in %s\n", out);
    return 1;
  }
  cab_error rm_err = {0};
  if (cab_rm_tree_at(AT_FDCWD, out, 0, &rm_err) < 0) {
    char line[2300];
    fprintf(stderr, "cab tasks validate: %s\n", cab_error_line(&rm_err, line, sizeof line));
  }
  return 0;
}

/* The formats `cab tasks import` reads: one row each (runner/task/import.h). */
static const struct cab_import_ops *const IMPORTERS[] = {
    &cab_import_aider_polyglot,
    /* harbor: &cab_import_harbor, */
    NULL,
};

/* cab tasks import --format NAME DIR [--lang L] [--out TASKS_DIR] */
static int
import_tasks(int argc, char **argv, const char *root)
{
  static const struct option longopts[] = {
      {"format", required_argument, 0, 'f'},
      {"lang", required_argument, 0, 'l'},
      {"out", required_argument, 0, 'o'},
      {0, 0, 0, 0},
  };
  struct cab_import_request req = {.out = root};
  const char *format = NULL;
  cab_error err = {0};
  opterr = 0;
  optind = 1;
  int opt;
  while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
    if (opt == 'f')
      format = optarg;
    else if (opt == 'l')
      req.lang = optarg;
    else if (opt == 'o')
      req.out = optarg;
    else {
      cab_error_set(&err, 0, "tasks import: unknown option or missing value '%s'",
                    argv[optind - 1]);
      return cab_cli_fail(&err);
    }
  }
  const struct cab_import_ops *ops = NULL;
  for (size_t i = 0; format && IMPORTERS[i]; i++)
    if (strcmp(IMPORTERS[i]->format, format) == 0)
      ops = IMPORTERS[i];
  if (ops == NULL || optind != argc - 1) {
    char formats[256] = "";
    for (size_t i = 0; IMPORTERS[i]; i++)
      cab_snprintf_cut(formats + strlen(formats), sizeof formats - strlen(formats), "%s%s",
                       i ? ", " : "", IMPORTERS[i]->format);
    if (ops == NULL && format)
      cab_error_set(&err, 0, "tasks import: --format %s: unknown (known: %s)", format, formats);
    else
      cab_error_set(&err, 0, "usage: cab tasks import --format FORMAT DIR [--lang L] "
                             "[--out TASKS_DIR] (formats: %s)", formats);
    return cab_cli_fail(&err);
  }
  if (req.lang && !ops->takes_lang) {
    cab_error_set(&err, 0, "tasks import: --lang: the %s format has no languages", ops->format);
    return cab_cli_fail(&err);
  }
  req.src = argv[optind];
  struct cab_import_report rep = {0};
  int rc = ops->import(&req, &rep, &err);
  for (size_t i = 0; i < rep.imported.n; i++)
    printf("imported %s\n", rep.imported.v[i]);
  for (size_t i = 0; i < rep.notes.n; i++)
    printf("note %s\n", rep.notes.v[i]);
  printf("%zu tasks imported into %s\n", rep.imported.n, req.out);
  cab_import_report_free(&rep);
  return rc < 0 ? cab_cli_fail(&err) : 0;
}

int
cab_cmd_tasks(int argc, char **argv)
{
  char root[PATH_MAX];
  cab_error err = {0};
  if (cab_task_default_root(root, sizeof root, &err) < 0)
    return cab_cli_fail(&err);
  const char *sub = argc > 1 ? argv[1] : "list";
  if (strcmp(sub, "list") == 0) {
    struct cab_strv ids = {0};
    if (cab_task_list(root, &ids, &err) < 0)
      return cab_cli_fail(&err);
    for (size_t i = 0; i < ids.n; i++) {
      struct cab_task *t = NULL;
      if (cab_task_find(root, ids.v[i], &t, &err) < 0)
        return cab_cli_fail(&err);
      printf("%-40s %-7s max_turns=%-3ld timeout=%lds%s\n", t->task_id, t->language,
             t->max_turns, t->timeout_s, t->expected_refusal ? "  expected_refusal" : "");
      cab_task_free(t);
    }
    cab_strv_free(&ids);
    return 0;
  }
  if (strcmp(sub, "show") == 0 && argc == 3) {
    struct cab_task *t = NULL;
    if (cab_task_find(root, argv[2], &t, &err) < 0)
      return cab_cli_fail(&err);
    char *text = cJSON_Print(t->json);
    printf("%s\n", text);
    free(text);
    char readme[PATH_MAX + 32];
    snprintf(readme, sizeof readme, "%s/workdir/README.md", t->dir);
    cleanup_free char *prompt = NULL;
    if (cab_read_file_at(AT_FDCWD, readme, 1 << 20, &prompt, NULL, &err) == 0)
      printf("\n--- prompt (workdir/README.md) ---\n%s", prompt);
    cab_task_free(t);
    return 0;
  }
  if (strcmp(sub, "validate") == 0)
    return validate(argc - 1, argv + 1, root);
  if (strcmp(sub, "import") == 0)
    return import_tasks(argc - 1, argv + 1, root);
  cab_error_set(&err, 0, "usage: cab tasks list | show ID | validate [ID...] [--image REF | "
                         "--host-rootfs] [--sample N] | import --format FORMAT DIR [--lang L] "
                         "[--out TASKS_DIR]");
  return cab_cli_fail(&err);
}
