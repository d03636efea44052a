/* cab adapters list | show TUI */
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "runner/adapter.h"
#include "runner/cli/commands.h"

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
  cab_error_set(&err, 0, "usage: cab adapters list | cab adapters show TUI");
  return cab_cli_fail(&err);
}
