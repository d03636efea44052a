/* A task's verify command on the host, outside any sandbox (verify_host.h). */
#include "runner/task/verify_host.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/rm_tree.h"
#include "common/strfmt.h"

void
cab_verify_host_result_free(struct cab_verify_host_result *res)
{
  free(res->out);
  res->out = NULL;
  res->len = 0;
}

/* Read FD until EOF or DEADLINE_NS, into RES (past the cap: drained, not
 * kept).  Returns false on timeout. */
static bool
drain(int fd, int64_t deadline_ns, struct cab_verify_host_result *res)
{
  size_t cap = 0;
  for (;;) {
    int64_t left = (deadline_ns - cab_now_ns()) / 1000000;
    if (left <= 0)
      return false;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int r = poll(&p, 1, left > 60000 ? 60000 : (int)left);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      continue;
    char buf[16384];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return true;
    if (res->len + (size_t)n > CAB_VERIFY_HOST_OUT_MAX)
      continue;
    if (res->len + (size_t)n + 1 > cap) {
      size_t want = cap ? cap * 2 : 65536;
      while (want < res->len + (size_t)n + 1)
        want *= 2;
      char *grown = realloc(res->out, want);
      if (grown == NULL)
        continue;
      res->out = grown;
      cap = want;
    }
    memcpy(res->out + res->len, buf, (size_t)n);
    res->len += (size_t)n;
    res->out[res->len] = '\0';
  }
}

static int
run(const struct cab_task *t, const char *work, const char *tmp,
    struct cab_verify_host_result *res, cab_error *err)
{
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) < 0)
    return cab_error_sys(err, "pipe");
  pid_t pid = fork();
  if (pid < 0) {
    close(pipefd[0]);
    close(pipefd[1]);
    return cab_error_sys(err, "fork");
  }
  if (pid == 0) {
    setpgid(0, 0);
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null < 0 || dup2(null, 0) < 0 || dup2(pipefd[1], 1) < 0 || dup2(pipefd[1], 2) < 0 ||
        chdir(work) < 0 || setenv("TMPDIR", tmp, 1) < 0)
      _exit(126);
    execl("/bin/sh", "sh", "-c", t->scorer_command, (char *)NULL);
    _exit(127);
  }
  setpgid(pid, pid); /* whichever of the two runs first */
  close(pipefd[1]);
  int64_t deadline = cab_now_ns() + (int64_t)t->scorer_timeout_s * 1000000000LL;
  res->timed_out = !drain(pipefd[0], deadline, res);
  close(pipefd[0]);
  /* On time, sh has closed its output and is exiting: its status first.
   * Then (or at once, when late) the whole group: a build's children
   * outlive sh otherwise. */
  int status = 0;
  for (;;) {
    if (res->timed_out)
      kill(-pid, SIGKILL);
    pid_t w = waitpid(pid, &status, res->timed_out ? 0 : WNOHANG);
    if (w == pid || (w < 0 && errno != EINTR))
      break;
    if (w == 0 && cab_now_ns() >= deadline)
      res->timed_out = true; /* it closed its output but runs on */
    else if (w == 0)
      usleep(20000);
  }
  kill(-pid, SIGKILL);
  res->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return 0;
}

int
cab_task_verify_on_host(const struct cab_task *t, bool solved,
                        struct cab_verify_host_result *res, cab_error *err)
{
  memset(res, 0, sizeof *res);
  char top[] = "/tmp/cab-verify-host-XXXXXX";
  if (mkdtemp(top) == NULL)
    return cab_error_sys(err, "create a temporary directory for the host's verify");
  char work[PATH_MAX], tmp[PATH_MAX];
  int rc = -1;
  if (cab_path_printf(work, sizeof work, err, "%s/work", top) == 0 &&
      cab_path_printf(tmp, sizeof tmp, err, "%s/tmp", top) == 0 &&
      cab_mkdir_p(tmp, 0700, err) == 0 && cab_task_copy_workdir(t, work, err) == 0 &&
      (!solved || cab_task_apply_solution(t, work, err) == 0))
    rc = run(t, work, tmp, res, err);
  cab_rm_tree_at(AT_FDCWD, top, 0, NULL);
  return rc;
}
