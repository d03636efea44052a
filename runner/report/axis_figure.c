/* The generic figure of an axis without published figures (the axis
 * table's row alone says its label, headline and format). */
#include "runner/report/internal.h"
#include "scorers/axes.h"

void
report_axis_figure(FILE *f, const struct cab_axis_def *a, const cJSON *scorers)
{
  char buf[64];
  cab_axis_headline_format(a, cab_axis_headline(a, scorers), buf, sizeof buf);
  fputs("<div><dt>", f);
  rh_esc(f, a->strip_label ? a->strip_label : a->key);
  fputs("</dt><dd>", f);
  rh_esc(f, buf);
  fputs("</dd></div>", f);
}
