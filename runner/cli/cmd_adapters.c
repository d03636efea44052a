/* cab adapters list | show TUI | render TUI [--model M] [--max-turns N] [--prompt TEXT] */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/strfmt.h"
#include "runner/adapters/adapter.h"
#include "runner/cli/commands.h"
#include "runner/cell/modelnet.h"

/* What a cell would run and write for TUI, every placeholder filled (the
 * model network's addresses, the placeholder key), as JSON: the way to check
 * an adapter without its agent. */
static int
render(int argc, char **argv)
{
  cab_error err = {0};
  const char *model = "openai/gpt-oss-120b", *prompt = "Fix the failing tests.";
  int max_turns = 0;
  for (int i = 3; i < argc; i++) {
    if (strcmp(argv[i], "--model") == 0 && i + 1 < argc)
      model = argv[++i];
    else if (strcmp(argv[i], "--prompt") == 0 && i + 1 < argc)
      prompt = argv[++i];
    else if (strcmp(argv[i], "--max-turns") == 0 && i + 1 < argc)
      max_turns = atoi(argv[++i]);
    else {
      cab_error_set(&err, 0, "adapters render: unknown or incomplete option '%s'; usage: cab "
                             "adapters render TUI [--model M] [--max-turns N] [--prompt TEXT]",
                    argv[i]);
      return cab_cli_fail(&err);
    }
  }
  struct cab_adapter *a = NULL;
  if (cab_adapter_load(argv[2], &a, &err) < 0)
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
  cab_error err = {0};
  const char *sub = argc > 1 ? argv[1] : "list";
  if (strcmp(sub, "list") == 0) {
    char **names = NULL;
    size_t n = 0;
    if (cab_adapter_list(&names, &n, &err) < 0)
      return cab_cli_fail(&err);
    for (size_t i = 0; i < n; i++) {
      struct cab_adapter *a = NULL;
      cab_error lerr = {0};
      if (cab_adapter_load(names[i], &a, &lerr) < 0) {
        char line[2300];
        printf("%-12s  (broken: %s)\n", names[i], cab_error_line(&lerr, line, sizeof line));
        continue;
      }
      printf("%-12s  wire=%-9s  %s\n", a->tui, a->wire,
             a->builtin ? "(built in)" : (a->image ? a->image : "(no default image)"));
      cab_adapter_free(a);
    }
    cab_adapter_names_free(names, n);
    return 0;
  }
  if (strcmp(sub, "show") == 0 && argc == 3) {
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
  if (strcmp(sub, "render") == 0 && argc >= 3)
    return render(argc, argv);
  cab_error_set(&err, 0, "usage: cab adapters list | cab adapters show TUI | cab adapters render "
                         "TUI [--model M] [--max-turns N] [--prompt TEXT]");
  return cab_cli_fail(&err);
}
