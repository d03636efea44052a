/* The cell page's "Downloads": cell.json, trace.otlp.json (OTLP JSON, for
 * Jaeger or Tempo), terminal.cast (asciicast v2) and diff.patch, copied
 * from the cell's directory beside the page and linked relatively, so the
 * site carries them wherever it is served from.  Only a regular file is
 * copied: a symlink (which could point anywhere on the machine that builds
 * the report) or a FIFO in a cell directory is refused, named on the page. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "runner/record/artifacts.h"
#include "runner/report/internal.h"

#define DOWNLOAD_MAX ((off_t)256 << 20)

enum copied { COPIED, ABSENT, REFUSED, TOO_BIG };

static int
copy_one(struct report *r, const struct rcell *c, const char *name, enum copied *how,
         off_t *size, cab_error *err)
{
  /* O_NONBLOCK: a FIFO planted in a cell must not hang the report */
  cleanup_close int in = openat(c->dirfd, name,
                                O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  struct stat st;
  if (in < 0) {
    *how = errno == ENOENT ? ABSENT : REFUSED;
    return 0;
  }
  if (fstat(in, &st) < 0 || !S_ISREG(st.st_mode)) {
    *how = REFUSED;
    return 0;
  }
  *size = st.st_size;
  if (st.st_size > DOWNLOAD_MAX) {
    *how = TOO_BIG;
    return 0;
  }
  FILE *out = report_create(r, c->page, name, err);
  if (out == NULL)
    return -1;
  if (cab_copy_fd_sparse(in, fileno(out), st.st_size) < 0) {
    int saved = errno;
    fclose(out);
    return cab_error_set(err, saved, "report: copy %s/%s", c->rel, name);
  }
  *how = COPIED;
  return report_close(out, c->page, name, err);
}

int
report_cell_downloads(FILE *f, struct report *r, const struct rcell *c, cab_error *err)
{
  static const struct {
    const char *name, *what;
  } files[] = {
      {CAB_CELL_JSON, "the cell's record: identity, outcome, every scorer's keys"},
      {CAB_CELL_TRACE, "the phases as OpenTelemetry spans (OTLP JSON: load it into Jaeger or "
                       "Grafana Tempo)"},
      {CAB_CELL_TERMINAL_CAST, "the agent's terminal (asciicast v2: <code>asciinema play</code>)"},
      {CAB_CELL_DIFF, "the agent's change to the workdir (<code>git apply</code>)"},
  };
  fputs("<section id=\"downloads\">\n<h2>Downloads</h2>\n<ul class=\"downloads\">\n", f);
  for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
    enum copied how = ABSENT;
    off_t size = 0;
    if (copy_one(r, c, files[i].name, &how, &size, err) < 0)
      return -1;
    fputs("<li>", f);
    if (how == COPIED) {
      char human[32];
      cab_format_bytes((int64_t)size, human, sizeof human);
      fprintf(f, "<a href=\"%s\" download>%s</a> (%s): %s", files[i].name, files[i].name, human,
              files[i].what);
    } else {
      fprintf(f, "<span class=\"empty\">%s: %s</span>", files[i].name,
              how == ABSENT    ? "not in this cell"
              : how == TOO_BIG ? "too large to copy into the site (over 256 MiB)"
                               : "not a regular file in the cell's directory; not copied");
    }
    fputs("</li>\n", f);
  }
  fputs("</ul>\n</section>\n", f);
  return 0;
}
