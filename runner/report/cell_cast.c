/* Terminal playback: terminal.cast (asciicast v2) is read here, its output
 * events kept (every line checked as JSON) and embedded in the page as a
 * JSON data block; report.js plays it into a <pre> as text, never as HTML. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/lines.h"
#include "runner/record/artifacts.h"
#include "runner/report/internal.h"

#define CAST_READ_MAX (16u << 20)
#define CAST_EMBED_MAX (2u << 20)

cJSON *
report_cast_parse(const char *text, size_t len, size_t max_bytes)
{
  const char *nl = memchr(text, '\n', len);
  size_t hlen = nl ? (size_t)(nl - text) : len;
  cJSON *header = cJSON_ParseWithLength(text, hlen);
  struct rnum version = report_jnum(header, "version");
  if (!cJSON_IsObject(header) || !version.has || version.v != 2) {
    cJSON_Delete(header);
    return NULL;
  }
  struct rnum w = report_jnum(header, "width"), h = report_jnum(header, "height");
  cJSON_Delete(header);
  cJSON *out = cJSON_CreateObject(), *events = cJSON_CreateArray();
  if (out == NULL || events == NULL) {
    cJSON_Delete(out);
    cJSON_Delete(events);
    return NULL;
  }
  cJSON_AddNumberToObject(out, "width", w.has && w.v >= 1 && w.v <= 1000 ? floor(w.v) : 80);
  cJSON_AddNumberToObject(out, "height", h.has && h.v >= 1 && h.v <= 1000 ? floor(h.v) : 24);
  cJSON_AddItemToObject(out, "events", events);
  double last = 0;
  size_t bytes = 0, skipped = 0;
  bool truncated = false;
  const char *line;
  size_t n;
  for (size_t i = nl ? hlen + 1 : len; cab_next_line(text, len, &i, &line, &n);) {
    if (n == 0)
      continue;
    cJSON *ev = cJSON_ParseWithLength(line, n);
    const cJSON *t = cJSON_GetArrayItem(ev, 0), *type = cJSON_GetArrayItem(ev, 1),
                *data = cJSON_GetArrayItem(ev, 2);
    if (!cJSON_IsArray(ev) || !cJSON_IsNumber(t) || !cJSON_IsString(type) || !cJSON_IsString(data) ||
        !isfinite(t->valuedouble) || t->valuedouble < 0 || t->valuedouble > 1e7) {
      skipped++;
      cJSON_Delete(ev);
      continue;
    }
    if (strcmp(type->valuestring, "o") == 0) {
      size_t dn = strlen(data->valuestring);
      if (bytes + dn > max_bytes) {
        truncated = true;
        cJSON_Delete(ev);
        break;
      }
      bytes += dn;
      double at = fmax(t->valuedouble, last); /* never backwards */
      last = at;
      cJSON *pair = cJSON_CreateArray();
      cJSON_AddItemToArray(pair, cJSON_CreateNumber(round(at * 1e6) / 1e6));
      cJSON_AddItemToArray(pair, cJSON_CreateString(data->valuestring));
      cJSON_AddItemToArray(events, pair);
    }
    cJSON_Delete(ev);
  }
  cJSON_AddNumberToObject(out, "duration", last);
  cJSON_AddBoolToObject(out, "truncated", truncated);
  cJSON_AddNumberToObject(out, "skipped", (double)skipped);
  return out;
}

int
report_cell_cast(FILE *f, const struct report *r, const struct rcell *c, cab_error *err)
{
  fputs("<section id=\"terminal\">\n<h2>Terminal playback</h2>\n", f);
  cleanup_free char *text = NULL;
  size_t len = 0;
  bool file_truncated = false;
  cab_error e2 = {0};
  if (report_read_file(c->dirfd, CAB_CELL_TERMINAL_CAST, CAST_READ_MAX, &text, &len, &file_truncated,
                       &e2) < 0) {
    fputs("<p class=\"empty\">No terminal recording for this run: see the span-level trace above."
          "</p>\n</section>\n",
          f);
    return 0;
  }
  cJSON *cast = report_cast_parse(text, len, CAST_EMBED_MAX);
  const cJSON *events = cJSON_GetObjectItemCaseSensitive(cast, "events");
  int n = cJSON_GetArraySize(events);
  if (cast == NULL || n == 0) {
    fputs(cast ? "<p class=\"empty\">The recording holds no output: the agent printed nothing.</p>\n"
               : "<p class=\"empty\">terminal.cast is not an asciicast v2 recording.</p>\n",
          f);
    fputs("</section>\n", f);
    cJSON_Delete(cast);
    return 0;
  }
  double duration = report_jnum(cast, "duration").v;
  fprintf(f,
          "<p class=\"note\">Replay of terminal.cast (asciicast v2, %.0f×%.0f): %d output events "
          "over %.1f s, pauses capped at 2 s.%s</p>\n",
          report_jnum(cast, "width").v, report_jnum(cast, "height").v, n, duration,
          cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cast, "truncated")) || file_truncated
              ? " The recording is cut: only its first 2 MiB of output are shown."
              : "");
  fprintf(f,
          "<div class=\"player\" id=\"player\">\n<div class=\"controls\">"
          "<button type=\"button\" id=\"term-play\">▶ play</button>"
          "<input type=\"range\" id=\"term-seek\" min=\"0\" max=\"%.0f\" step=\"1\" value=\"0\" "
          "aria-label=\"seek\">"
          "<output id=\"term-time\">0.0 s / %.1f s</output>"
          "<label>speed <select id=\"term-speed\"><option value=\"1\">1×</option>"
          "<option value=\"2\">2×</option><option value=\"4\">4×</option>"
          "<option value=\"10\">10×</option></select></label></div>\n"
          "<pre class=\"term\" id=\"term\" tabindex=\"0\"></pre>\n</div>\n"
          "<script type=\"application/json\" id=\"cast-data\">",
          ceil(duration * 1000), duration);
  rh_json_script(f, cast);
  fputs("</script>\n<noscript><p class=\"note\">The player needs JavaScript; agent.log below "
        "holds the same output as text.</p></noscript>\n</section>\n",
        f);
  cJSON_Delete(cast);
  (void)r;
  (void)err;
  return 0;
}
