/* cab slurm's work (slurm.h): the job array, the merge job and the script
 * that submits both. */
#include "runner/sweep/slurm.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/shquote.h"
#include "common/strfmt.h"

/* Slurm options take no newlines or quotes: refuse them early. */
static int
check_value(const char *opt, const char *v, cab_error *err)
{
  for (const char *p = v; *p; p++)
    if (*p == '\n' || *p == '\'' || *p == '"' || *p == ' ')
      return cab_error_set(err, 0, "slurm: %s '%s': spaces and quotes are not allowed", opt, v);
  return 0;
}

/* What the scripts are written from: the request and what it resolves to. */
struct slurm_opts {
  const char *plan, *partition, *time, *mem, *out;
  long shards, cpus;
  char cab[PATH_MAX + 8], plan_abs[PATH_MAX], out_abs[PATH_MAX], sweep_id[256];
};

static void
sbatch_common(FILE *f, const struct slurm_opts *o)
{
  if (o->partition)
    fprintf(f, "#SBATCH --partition=%s\n", o->partition);
  if (o->time)
    fprintf(f, "#SBATCH --time=%s\n", o->time);
  if (o->mem)
    fprintf(f, "#SBATCH --mem=%s\n", o->mem);
}

/* the array */
static void
put_sweep(FILE *f, const struct slurm_opts *o)
{
  fprintf(f, "#!/bin/bash\n# Written by cab slurm: shard K of %ld of sweep %s, one per array task.\n",
          o->shards, o->sweep_id);
  fprintf(f, "#SBATCH --job-name=cab-%s\n#SBATCH --array=1-%ld\n", o->sweep_id, o->shards);
  if (o->cpus > 0)
    fprintf(f, "#SBATCH --cpus-per-task=%ld\n", o->cpus);
  sbatch_common(f, o);
  fputs("set -euo pipefail\n", f);
  fputs("# cab needs unprivileged user namespaces on the node (see 'cab doctor').\n", f);
  fputs("exec ", f);
  cab_shell_quote(f, o->cab, true);
  fputs(" sweep ", f);
  cab_shell_quote(f, o->plan_abs, true);
  fprintf(f, " --shard \"$SLURM_ARRAY_TASK_ID/%ld\" --resume \\\n  --out ", o->shards);
  cab_shell_quote(f, o->out_abs, true);
  fputs("\"/shards/shard-$SLURM_ARRAY_TASK_ID\" ${SLURM_CPUS_PER_TASK:+-j \"$SLURM_CPUS_PER_TASK\"}\n", f);
}

/* the merge, after every shard */
static void
put_merge(FILE *f, const struct slurm_opts *o)
{
  fprintf(f, "#!/bin/bash\n# Written by cab slurm: merge the %ld shards of sweep %s and rank them.\n",
          o->shards, o->sweep_id);
  fprintf(f, "#SBATCH --job-name=cab-%s-merge\n", o->sweep_id);
  sbatch_common(f, o);
  fputs("set -euo pipefail\nCAB=", f);
  cab_shell_quote(f, o->cab, true);
  fputs("\nOUT=", f);
  cab_shell_quote(f, o->out_abs, true);
  fputs("\n\"$CAB\" merge \"$OUT\"/shards/shard-* --out \"$OUT/merged\"\n", f);
  fputs("if \"$CAB\" leaderboard --help >/dev/null 2>&1; then\n"
        "  \"$CAB\" leaderboard \"$OUT/merged\" >\"$OUT/leaderboard.txt\"\nfi\n",
        f);
  fputs("if \"$CAB\" report --help >/dev/null 2>&1; then\n"
        "  \"$CAB\" report \"$OUT/merged\" --out \"$OUT/site\"\nfi\n",
        f);
}

/* submission: the merge waits for the whole array to succeed */
static void
put_submit(FILE *f, const struct slurm_opts *o)
{
  (void) o;
  fputs("#!/bin/bash\n# Written by cab slurm: submit the shards, then the merge.\nset -euo pipefail\n"
        "D=$(cd \"$(dirname \"$0\")\" && pwd)\n"
        "mkdir -p \"$D/logs\"\n"
        "# --output here, not in #SBATCH lines: the path may hold spaces.\n"
        "array=$(sbatch --parsable --output=\"$D/logs/shard-%a.log\" \"$D/sweep.sbatch\")\n"
        "array=${array%%;*}\n"
        "merge=$(sbatch --parsable --output=\"$D/logs/merge.log\" --dependency=afterok:\"$array\" \\\n"
        "  \"$D/merge.sbatch\")\n"
        "echo \"$array ${merge%%;*}\"\n",
        f);
}

/* DIR/NAME (mode 0755), its text what PUT prints. */
static int
write_script(const char *dir, const char *name, void (*put)(FILE *, const struct slurm_opts *),
             const struct slurm_opts *o, cab_error *err)
{
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (f == NULL)
    return cab_error_sys(err, "slurm: memory");
  put(f, o);
  fclose(f);

  char path[PATH_MAX + 32];
  int r = cab_path_printf(path, sizeof path, err, "%s/%s", dir, name) < 0
              ? cab_error_prefix(err, "slurm")
              : cab_write_file_atomic(path, buf, len, 0755, err);
  free(buf);
  return r;
}

static int
write_scripts(const struct slurm_opts *o, const char *dir, cab_error *err)
{
  if (write_script(dir, "sweep.sbatch", put_sweep, o, err) < 0
      || write_script(dir, "merge.sbatch", put_merge, o, err) < 0)
    return -1;
  return write_script(dir, "submit.sh", put_submit, o, err);
}

/* The plan's sweep_id: just enough of the plan to name the jobs; cab sweep
 * validates the rest on the node (and --dry-run checks it here). */
static int
read_sweep_id(struct slurm_opts *o, cab_error *err)
{
  cleanup_free char *text = NULL;
  if (cab_read_file_at(AT_FDCWD, o->plan, 16 << 20, &text, NULL, err) < 0)
    return cab_error_prefix(err, "slurm: plan %s", o->plan);
  cJSON *j = cJSON_Parse(text);
  const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "sweep_id");
  int r = 0;
  if (!cJSON_IsString(id) || id->valuestring[0] == '\0' ||
      strspn(id->valuestring, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
          strlen(id->valuestring))
    r = cab_error_set(err, 0, "slurm: %s: sweep_id: expected a name of letters, digits, '.', '_' "
                              "and '-'", o->plan);
  else
    snprintf(o->sweep_id, sizeof o->sweep_id, "%s", id->valuestring);
  cJSON_Delete(j);
  return r;
}

int
cab_slurm_submit(const char *dir, cab_error *err)
{
  char script[PATH_MAX + 16];
  if (cab_path_printf(script, sizeof script, err, "%s/submit.sh", dir) < 0)
    return -1;
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0)
    return cab_error_sys(err, "slurm: fork");
  if (pid == 0) {
    execl("/bin/bash", "bash", script, (char *)NULL);
    _exit(127);
  }
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
    ;
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
    return cab_error_set(err, 0, "slurm: %s failed (is sbatch on PATH and the cluster up?)", script);
  return 0;
}

int
cab_slurm_write(const struct cab_slurm_request *req, char *dir, size_t dir_size, cab_error *err)
{
  struct slurm_opts o = {
      .plan = req->plan,
      .partition = req->partition,
      .time = req->time,
      .mem = req->mem,
      .out = req->out,
      .shards = req->shards,
      .cpus = req->cpus,
  };
  if ((o.partition && check_value("--partition", o.partition, err) < 0) ||
      (o.time && check_value("--time", o.time, err) < 0) ||
      (o.mem && check_value("--mem", o.mem, err) < 0) || read_sweep_id(&o, err) < 0)
    return -1;
  /* Absolute paths: the jobs start in Slurm's working directory on
   * another node (a shared filesystem is assumed, as for any array). */
  if (realpath(o.plan, o.plan_abs) == NULL)
    return cab_error_sys(err, "slurm: plan %s", o.plan);
  if (cab_mkdir_p(o.out, 0755, err) < 0)
    return -1;
  if (realpath(o.out, o.out_abs) == NULL)
    return cab_error_sys(err, "slurm: --out %s", o.out);
  char exe_dir[PATH_MAX];
  if (cab_exe_dir(exe_dir, sizeof exe_dir) < 0)
    return cab_error_set(err, 0, "slurm: cannot tell where cab is (/proc/self/exe)");
  char logs[PATH_MAX + 32];
  if (cab_path_printf(o.cab, sizeof o.cab, err, "%s/cab", exe_dir) < 0 ||
      cab_path_printf(dir, dir_size, err, "%s/slurm", o.out_abs) < 0 ||
      cab_path_printf(logs, sizeof logs, err, "%s/logs", dir) < 0)
    return cab_error_prefix(err, "slurm");
  if (cab_mkdir_p(logs, 0755, err) < 0 || write_scripts(&o, dir, err) < 0)
    return -1;
  return 0;
}
