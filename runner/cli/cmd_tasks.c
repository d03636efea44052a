/* cab tasks list | show ID | validate [ID...] [--image REF | --host-rootfs]
 *   [--sample N] [--compare-host] | import --format FORMAT DIR [--lang L]
 *   [--out TASKS_DIR]
 *
 * validate proves each task with real cells: the nop agent (the untouched
 * workdir) must fail verification; the oracle (the reference solution,
 * applied from inside the sandbox) must pass with nothing unexpected
 * changed and every declared constraint honoured; on tasks that guard
 * their tests (imported suites), the tamper agent must fail and lose
 * integrity.  import reads another suite's format (runner/task/import.h). */
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
#include "runner/cli/json_out.h"
#include "runner/cli/options.h"
#include "runner/cli/commands.h"
#include "runner/record/artifacts.h"
#include "runner/record/cell_record.h"
#include "runner/task/import.h"
#include "runner/task/task.h"
#include "runner/task/verify_host.h"
#include "scorers/scorers.h"

static const char tasks_usage[] =
    "usage: cab tasks list [--json]\n"
    "       cab tasks show ID\n"
    "       cab tasks validate [ID...] [--image REF | --host-rootfs] [--sample N] [--compare-host]\n"
    "       cab tasks import --format FORMAT DIR [--lang L] [--out TASKS_DIR]\n"
    "\n"
    "list (the default): every task (id, language, turn and time limits), with a\n"
    "header; --json: one JSON object (schema cab.tasks/v1): count and tasks\n"
    "[{task_id, family, name, language, max_turns, timeout_s, expected_refusal}].\n"
    "show: the task's task.json and prompt.\n"
    "validate: prove each task (all by default, or a random --sample N) with real\n"
    "cells: the nop agent must fail, the oracle must pass; --image REF or\n"
    "--host-rootfs (the default) is where they run; --compare-host also verifies\n"
    "on the host.  Exits 1 when a task fails, 125 for an unknown task id.\n"
    "import: read another suite's tasks (--format, --lang) into TASKS_DIR.\n";

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

/* The runner's own test count a cell recorded (pass_rate's tests_ran and
 * tests_passed: only tasks that declare scorer.min_tests have them). */
static void
cell_tests(const struct cab_scores *sc, long *ran, long *passed)
{
  const cJSON *pr = cJSON_GetObjectItemCaseSensitive(sc->json, "pass_rate");
  struct cab_num r = cab_num_at(pr, "tests_ran"), p = cab_num_at(pr, "tests_passed");
  *ran = r.has ? (long)r.v : -1;
  *passed = p.has ? (long)p.v : -1;
}

/* The verdict and count the task's verify command gives on the host,
 * outside the sandbox, on the reference solution: they must be the oracle
 * cell's (PASS, RAN, PASSED).  Returns the number of failed checks. */
static int
compare_host(const struct cab_task *t, double pass, long ran, long passed)
{
  struct cab_verify_host_result hr;
  cab_error err = {0};
  if (cab_task_verify_on_host(t, true, &hr, &err) < 0) {
    char line[2300];
    printf("FAIL %s: the verify command on the host: %s\n", t->task_id,
           cab_error_line(&err, line, sizeof line));
    return 1;
  }
  /* Scored by the very scorer the cell used. */
  struct cab_cell_inputs in = {.task = t};
  in.verify.out = hr.out ? hr.out : "";
  in.verify.out_len = hr.len;
  in.verify.err = "";
  in.verify.exit_code = hr.exit_code;
  in.verify.timed_out = hr.timed_out;
  cJSON *j = cab_score_pass_rate(&in);
  struct cab_num hp = cab_num_at(j, "pass"), hran = cab_num_at(j, "tests_ran"),
                 hpassed = cab_num_at(j, "tests_passed");
  long host_ran = hran.has ? (long)hran.v : -1, host_passed = hpassed.has ? (long)hpassed.v : -1;
  int failed = 0;
  if (!hp.has || hp.v != pass || host_ran != ran || host_passed != passed) {
    printf("FAIL %s: outside cab the reference solution gives pass %.0f, %ld tests ran, %ld "
           "passed (exit %d%s); in the sandbox pass %.0f, %ld ran, %ld passed\n",
           t->task_id, hp.has ? hp.v : -1, host_ran, host_passed, hr.exit_code,
           hr.timed_out ? ", timed out" : "", pass, ran, passed);
    failed++;
  } else {
    printf("     %s: outside cab too: pass %.0f, %ld tests ran, %ld passed\n", t->task_id, pass,
           ran, passed);
  }
  cJSON_Delete(j);
  cab_verify_host_result_free(&hr);
  return failed;
}

struct validate_opts {
  const char *root, *image, *out;
  bool host, compare_host;
};

/* One task: returns the number of failed checks, printing each.
 *   nop     the untouched workdir fails (unless the task says its stub
 *           passes, with the reason);
 *   oracle  the reference solution passes with nothing unexpected changed,
 *           every constraint honoured, integrity 1, and (with min_tests)
 *           the runner's count recorded; with --compare-host the same
 *           verdict and count outside cab;
 *   tamper  on a task whose tests are guarded (integrity_protected_paths):
 *           tests replaced by trivially passing ones do not pass (unless the
 *           stub passes anyway) and lose integrity. */
static int
validate_one(const struct validate_opts *vo, const char *id)
{
  int failed = 0;
  struct cab_task *task = NULL;
  cab_error terr = {0};
  if (cab_task_find(vo->root, id, &task, &terr) < 0) {
    char line[2300];
    printf("FAIL %s: %s\n", id, cab_error_line(&terr, line, sizeof line));
    return 1;
  }
  const char *tuis[3] = {"nop", "oracle", "tamper"};
  int n_tuis = task->integrity_protected_paths ? 3 : 2;
  for (int i = 0; i < n_tuis; i++) {
    struct cab_cell_options o = {
        .tui = tuis[i], .model = "none/validate", .task_id = id, .image = vo->image,
        .host_rootfs = vo->host, .sweep_id = "validate", .out_dir = vo->out,
        .tasks_dir = vo->root,
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
    double integrity = or_minus1(sc->integrity.integrity);
    if (i == 0 && sum.pass != 0 && task->stub_passes == NULL) {
      printf("FAIL %s: the untouched workdir passes verification\n", id);
      failed++;
    }
    if (i == 0 && task->stub_passes)
      printf("     %s: the untouched workdir %s (expected: %s)\n", id,
             sum.pass != 0 ? "passes" : "fails", task->stub_passes);
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
      if (integrity != 1) {
        printf("FAIL %s: the reference solution's integrity is %.0f, not 1\n", id, integrity);
        failed++;
      }
      if (task->scorer_min_tests > 0) {
        long ran, passed;
        cell_tests(sc, &ran, &passed);
        if (ran < task->scorer_min_tests)
          printf("     %s: the verifier's output shows %ld tests, the task declares %ld\n", id,
                 ran, task->scorer_min_tests);
        else
          printf("     %s: oracle: %ld tests ran, %ld passed (the task declares %ld)\n", id, ran,
                 passed, task->scorer_min_tests);
        if (vo->compare_host)
          failed += compare_host(task, sum.pass, ran, passed);
      } else if (vo->compare_host) {
        printf("     %s: not compared outside cab (no scorer.min_tests: no count recorded)\n", id);
      }
    }
    if (i == 2) {
      if (sum.pass != 0 && task->stub_passes == NULL) {
        printf("FAIL %s: tests replaced by trivially passing ones pass verification\n", id);
        failed++;
      }
      if (integrity != 0) {
        printf("FAIL %s: tests replaced by trivially passing ones keep integrity %.0f\n", id,
               integrity);
        failed++;
      } else {
        printf("     %s: tamper: pass %.0f, integrity 0\n", id, sum.pass);
      }
    }
    cab_cell_record_free(&cell);
  }
  cab_task_free(task);
  if (failed == 0)
    printf("ok   %s\n", id);
  fflush(stdout);
  return failed;
}

/* N of IDS, evenly spread over the sorted list (the same N each time). */
static void
sample(struct cab_strv *ids, long n)
{
  if (n <= 0 || (size_t)n >= ids->n)
    return;
  size_t total = ids->n;
  for (size_t k = 0; k < (size_t)n; k++) {
    size_t from = k * total / (size_t)n;
    if (from != k) {
      char *tmp = ids->v[k];
      ids->v[k] = ids->v[from];
      ids->v[from] = tmp;
    }
  }
  ids->n = (size_t)n; /* the rest stay allocated: the caller restores n to free them */
}

static int
validate(int argc, char **argv, const char *root)
{
  static const struct option longopts[] = {
      {"image", required_argument, 0, 'i'},
      {"host-rootfs", no_argument, 0, 'H'},
      {"sample", required_argument, 0, 's'},
      {"compare-host", no_argument, 0, 'C'},
      {"help", no_argument, 0, 'h'},
      {0, 0, 0, 0},
  };
  struct validate_opts vo = {.root = root};
  long n_sample = 0;
  cab_error err = {0};
  opterr = 0;
  optind = 1;
  int opt;
  while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    if (opt == 'h') {
      return cab_cli_help(tasks_usage);
    } else if (opt == 'i') {
      vo.image = optarg;
    } else if (opt == 'H') {
      vo.host = true;
    } else if (opt == 'C') {
      vo.compare_host = true;
    } else if (opt == 's') {
      char *end;
      n_sample = strtol(optarg, &end, 10);
      if (*end || n_sample <= 0) {
        cab_error_set(&err, 0, "tasks validate: --sample %s: must be a positive number of tasks",
                      optarg);
        return cab_cli_fail(&err);
      }
    } else {
      return cab_cli_option_error("tasks validate", longopts, argv);
    }
  }
  if (!vo.image && !vo.host)
    vo.host = true;
  struct cab_strv ids = {0};
  for (int i = optind; i < argc; i++)
    cab_strv_xpush(&ids, argv[i]);
  if (optind >= argc && cab_task_list(root, &ids, &err) < 0)
    return cab_cli_fail(&err);
  /* Every id named must be a task before the first cell runs. */
  for (int i = optind; i < argc; i++) {
    struct cab_task *t = NULL;
    if (cab_task_find(root, argv[i], &t, &err) < 0) {
      cab_strv_free(&ids);
      cab_error_prefix(&err, "tasks validate");
      return cab_cli_fail(&err);
    }
    cab_task_free(t);
  }
  size_t all = ids.n;
  sample(&ids, n_sample);
  if (ids.n < all)
    printf("validating a sample of %zu of %zu tasks\n", ids.n, all);
  char out[] = "/tmp/cab-validate-XXXXXX";
  if (mkdtemp(out) == NULL) {
    cab_error_sys(&err, "create a results directory");
    cab_strv_free(&ids);
    return cab_cli_fail(&err);
  }
  vo.out = out;
  int passed = 0, failed = 0;
  for (size_t i = 0; i < ids.n; i++) {
    if (validate_one(&vo, ids.v[i]) == 0)
      passed++;
    else
      failed++;
  }
  printf("%d passed, %d failed\n", passed, failed);
  ids.n = all;
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
    &cab_import_harbor,
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
      {"help", no_argument, 0, 'h'},
      {0, 0, 0, 0},
  };
  struct cab_import_request req = {.out = root};
  const char *format = NULL;
  cab_error err = {0};
  opterr = 0;
  optind = 1;
  int opt;
  while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    if (opt == 'h')
      return cab_cli_help(tasks_usage);
    else if (opt == 'f')
      format = optarg;
    else if (opt == 'l')
      req.lang = optarg;
    else if (opt == 'o')
      req.out = optarg;
    else
      return cab_cli_option_error("tasks import", longopts, argv);
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
  if (rc == 0)
    printf("%zu %s imported into %s\n", rep.imported.n, rep.imported.n == 1 ? "task" : "tasks",
           req.out);
  cab_import_report_free(&rep);
  return rc < 0 ? cab_cli_fail(&err) : 0;
}

static cJSON *
task_json(const struct cab_task *t)
{
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "task_id", t->task_id);
  cJSON_AddStringToObject(o, "family", t->family);
  cJSON_AddStringToObject(o, "name", t->name);
  cJSON_AddStringToObject(o, "language", t->language);
  cJSON_AddNumberToObject(o, "max_turns", (double)t->max_turns);
  cJSON_AddNumberToObject(o, "timeout_s", (double)t->timeout_s);
  cJSON_AddBoolToObject(o, "expected_refusal", t->expected_refusal);
  return o;
}

/* The tasks as one JSON document (schema cab.tasks/v1). */
static int
print_tasks_json(struct cab_task *const *tasks, size_t n)
{
  cJSON *arr = cJSON_CreateArray();
  for (size_t i = 0; i < n; i++)
    cJSON_AddItemToArray(arr, task_json(tasks[i]));
  return cab_cli_print_json(cab_cli_json_list("cab.tasks/v1", "tasks", arr));
}

/* cab tasks list: a header and columns as wide as their widest value, or
 * with --json one document. */
static int
list_tasks(int argc, char **argv, const char *root)
{
  bool json;
  int rc = cab_cli_json_only("tasks list", tasks_usage, argc, argv, &json);
  if (rc >= 0)
    return rc;
  cab_error err = {0};
  struct cab_strv ids = {0};
  if (cab_task_list(root, &ids, &err) < 0)
    return cab_cli_fail(&err);
  struct cab_task **tasks = calloc(ids.n ? ids.n : 1, sizeof *tasks);
  int w_id = (int)strlen("TASK"), w_lang = (int)strlen("LANGUAGE");
  rc = 0;
  for (size_t i = 0; tasks && i < ids.n; i++) {
    if (cab_task_find(root, ids.v[i], &tasks[i], &err) < 0) {
      rc = cab_cli_fail(&err);
      break;
    }
    if ((int)strlen(tasks[i]->task_id) > w_id)
      w_id = (int)strlen(tasks[i]->task_id);
    if ((int)strlen(tasks[i]->language) > w_lang)
      w_lang = (int)strlen(tasks[i]->language);
  }
  if (rc == 0 && tasks && json) {
    rc = print_tasks_json(tasks, ids.n);
  } else if (rc == 0 && tasks) {
    printf("%-*s  %-*s  %9s  %7s  %s\n", w_id, "TASK", w_lang, "LANGUAGE", "MAX_TURNS", "TIMEOUT",
           "NOTE");
    for (size_t i = 0; i < ids.n; i++) {
      const struct cab_task *t = tasks[i];
      char timeout[32];
      snprintf(timeout, sizeof timeout, "%lds", t->timeout_s);
      printf("%-*s  %-*s  %9ld  %7s%s\n", w_id, t->task_id, w_lang, t->language, t->max_turns,
             timeout, t->expected_refusal ? "  expected_refusal" : "");
    }
  }
  for (size_t i = 0; tasks && i < ids.n; i++)
    if (tasks[i])
      cab_task_free(tasks[i]);
  free(tasks);
  cab_strv_free(&ids);
  return rc;
}

int
cab_cmd_tasks(int argc, char **argv)
{
  static const char *const subs[] = {"list", "show", "validate", "import"};
  char root[PATH_MAX];
  cab_error err = {0};
  const char *sub = argc > 1 ? argv[1] : "list";
  if (cab_cli_is_help(sub))
    return cab_cli_help(tasks_usage);
  if (cab_task_default_root(root, sizeof root, &err) < 0)
    return cab_cli_fail(&err);
  if (strcmp(sub, "list") == 0)
    return list_tasks(argc > 1 ? argc - 1 : 1, argc > 1 ? argv + 1 : argv, root);
  if (sub[0] == '-') /* list is the default: `cab tasks --json` */
    return list_tasks(argc, argv, root);
  if (strcmp(sub, "show") == 0) {
    if (argc == 3 && cab_cli_is_help(argv[2]))
      return cab_cli_help(tasks_usage);
    if (argc != 3 || argv[2][0] == '-')
      return cab_cli_usage_error("tasks show", "give exactly one task id");
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
  return cab_cli_bad_subcommand("tasks", sub, subs, sizeof subs / sizeof *subs);
}
