/* cab adapters list | show TUI | render TUI [--model M] [--max-turns N] [--prompt TEXT] */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/json_null.h"
#include "common/strfmt.h"
#include "runner/adapters/adapter.h"
#include "runner/cli/json_out.h"
#include "runner/cli/options.h"
#include "runner/cli/commands.h"
#include "runner/cell/modelnet.h"

static const char adapters_usage[] =
    "usage: cab adapters list [--json]\n"
    "       cab adapters show TUI\n"
    "       cab adapters render TUI [--model M] [--max-turns N] [--prompt TEXT]\n"
    "\n"
    "list (the default): every adapter, its wire protocol and default image;\n"
    "--json: one JSON object (schema cab.adapters/v1): count and adapters [{tui,\n"
    "wire, image, builtin, description, file, error}] (error: why a broken file\n"
    "did not load).\n"
    "show: one adapter's definition (argv, env, files, state paths).\n"
    "render: what a cell would run and write for TUI, every placeholder filled,\n"
    "as JSON.\n";

/* What a cell would run and write for TUI, every placeholder filled (the
 * model network's addresses, the placeholder key), as JSON: the way to check
 * an adapter without its agent. */
static int
render(int argc, char **argv)
{
  cab_error err = {0};
  const char *model = "openai/gpt-oss-120b", *prompt = "Fix the failing tests.";
  int max_turns = 0;
  static const struct option longopts[] = {
      {"model", required_argument, NULL, 'm'},
      {"prompt", required_argument, NULL, 'p'},
      {"max-turns", required_argument, NULL, 't'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  int opt;
  opterr = 0;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    switch (opt) {
    case 'm': model = optarg; break;
    case 'p': prompt = optarg; break;
    case 't': {
      char *end;
      long v = strtol(optarg, &end, 10);
      if (*optarg == '\0' || *end != '\0' || v < 0 || v > 100000)
        return cab_cli_usage_error("adapters render", "--max-turns %s: expected a whole number",
                                   optarg);
      max_turns = (int)v;
      break;
    }
    case 'h': return cab_cli_help(adapters_usage);
    default: return cab_cli_option_error("adapters render", longopts, argv);
    }
  }
  if (argc - optind != 1)
    return cab_cli_usage_error("adapters render", "give exactly one TUI");
  struct cab_adapter *a = NULL;
  if (cab_adapter_load(argv[optind], &a, &err) < 0)
    return cab_cli_fail(&err);
  char prompt_file[4200];
  if (cab_path_printf(prompt_file, sizeof prompt_file, &err, "%s/README.md", a->workdir) < 0) {
    cab_adapter_free(a);
    return cab_cli_fail(&err);
  }
  bool net = strcmp(a->wire, "none") != 0;
  struct cab_template_vars v = {
      .endpoint = net ? CAB_MODEL_BASE_URL : "",
      .endpoint_root = net ? CAB_MODEL_ROOT_URL : "",
      .model = model,
      .key = CAB_PLACEHOLDER_KEY,
      .prompt = prompt,
      .prompt_file = prompt_file,
      .workdir = a->workdir,
      .home = a->home,
      .task_id = "polyglot/example",
      .max_turns = max_turns,
  };
  struct cab_adapter_rendered r;
  if (cab_adapter_render(a, &v, &r, &err) < 0) {
    cab_adapter_free(a);
    return cab_cli_fail(&err);
  }
  cJSON *j = cab_adapter_rendered_json(a, &r);
  char *text = cJSON_Print(j);
  if (text)
    puts(text);
  free(text);
  cJSON_Delete(j);
  cab_adapter_rendered_free(&r);
  cab_adapter_free(a);
  return 0;
}

/* One adapter as `adapters list --json` shows it: A loaded, or NAME and
 * the one line why it did not load. */
static cJSON *
adapter_json(const char *name, const struct cab_adapter *a, const char *error)
{
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "tui", a ? a->tui : name);
  cab_json_add_string_or_null(o, "wire", a ? a->wire : NULL);
  cab_json_add_string_or_null(o, "image", a ? a->image : NULL);
  cJSON_AddBoolToObject(o, "builtin", a && a->builtin);
  cab_json_add_string_or_null(o, "description", a ? a->description : NULL);
  cab_json_add_string_or_null(o, "file", a ? a->source_path : NULL);
  cab_json_add_string_or_null(o, "error", error);
  return o;
}

/* cab adapters list [--json]: one line (or object) per adapter file. */
static int
list(int argc, char **argv)
{
  bool json;
  int rc = cab_cli_json_only("adapters list", adapters_usage, argc, argv, &json);
  if (rc >= 0)
    return rc;
  cab_error err = {0};
  char **names = NULL;
  size_t n = 0;
  if (cab_adapter_list(&names, &n, &err) < 0)
    return cab_cli_fail(&err);
  cJSON *arr = json ? cJSON_CreateArray() : NULL;
  for (size_t i = 0; i < n; i++) {
    struct cab_adapter *a = NULL;
    cab_error lerr = {0};
    if (cab_adapter_load(names[i], &a, &lerr) < 0) {
      char line[2300];
      cab_error_line(&lerr, line, sizeof line);
      if (json)
        cJSON_AddItemToArray(arr, adapter_json(names[i], NULL, line));
      else
        printf("%-12s  (broken: %s)\n", names[i], line);
      continue;
    }
    if (json)
      cJSON_AddItemToArray(arr, adapter_json(names[i], a, NULL));
    else
      printf("%-12s  wire=%-9s  %s\n", a->tui, a->wire,
             a->builtin ? "(built in)" : (a->image ? a->image : "(no default image)"));
    cab_adapter_free(a);
  }
  cab_adapter_names_free(names, n);
  return json ? cab_cli_print_json(cab_cli_json_list("cab.adapters/v1", "adapters", arr)) : 0;
}

static void
print_list(const char *label, char **items, size_t n)
{
  printf("%-14s", label);
  for (size_t i = 0; i < n; i++)
    printf("%s%s", i ? " " : "", items[i]);
  printf("\n");
}

int
cab_cmd_adapters(int argc, char **argv)
{
  static const char *const subs[] = {"list", "show", "render"};
  cab_error err = {0};
  const char *sub = argc > 1 ? argv[1] : "list";
  if (cab_cli_is_help(sub))
    return cab_cli_help(adapters_usage);
  if (strcmp(sub, "list") == 0)
    return list(argc > 1 ? argc - 1 : 1, argc > 1 ? argv + 1 : argv);
  if (sub[0] == '-') /* list is the default: `cab adapters --json` */
    return list(argc, argv);
  if (strcmp(sub, "show") == 0) {
    if (argc == 3 && cab_cli_is_help(argv[2]))
      return cab_cli_help(adapters_usage);
    if (argc != 3 || argv[2][0] == '-')
      return cab_cli_usage_error("adapters show", "give exactly one TUI");
    struct cab_adapter *a = NULL;
    if (cab_adapter_load(argv[2], &a, &err) < 0)
      return cab_cli_fail(&err);
    printf("tui           %s\n", a->tui);
    printf("file          %s\n", a->source_path);
    if (a->description)
      printf("description   %s\n", a->description);
    printf("image         %s\n", a->image ? a->image : "(none: --host-rootfs or --image)");
    printf("wire          %s\n", a->wire);
    printf("workdir       %s\nhome          %s\n", a->workdir, a->home);
    print_list("argv", a->argv, a->n_argv);
    if (a->n_max_turns_args)
      print_list("max_turns", a->max_turns_args, a->n_max_turns_args);
    for (size_t i = 0; i < a->n_env; i++)
      printf("%-14s%s\n", i ? "" : "env", a->env[i]);
    for (size_t i = 0; i < a->n_files; i++)
      printf("%-14s%s (mode %04o)\n", i ? "" : "files", a->files[i].path, a->files[i].mode);
    if (a->n_state_paths)
      print_list("state_paths", a->state_paths, a->n_state_paths);
    cab_adapter_free(a);
    return 0;
  }
  if (strcmp(sub, "render") == 0)
    return render(argc - 1, argv + 1);
  return cab_cli_bad_subcommand("adapters", sub, subs, sizeof subs / sizeof *subs);
}
