/* The site's stylesheet and script, embedded in cab with the assembler's
 * .incbin, so that a fresh clone's build writes a complete site with no
 * install step.  The Makefile rebuilds this object when an asset changes. */
#include <stddef.h>

#include "runner/report/internal.h"

#define CAB_INCBIN(sym, file)                                                                      \
  __asm__(".section .rodata\n"                                                                     \
          ".balign 16\n"                                                                           \
          ".global " #sym "\n" #sym ":\n"                                                          \
          ".incbin \"" file "\"\n"                                                                 \
          ".global " #sym "_end\n" #sym "_end:\n"                                                  \
          ".byte 0\n"                                                                              \
          ".previous\n");                                                                          \
  extern const char sym[], sym##_end[]

CAB_INCBIN(cab_report_css, "runner/report/assets/report.css");
CAB_INCBIN(cab_report_js, "runner/report/assets/report.js");

const struct report_asset report_assets[] = {
    {"report.css", cab_report_css, cab_report_css_end},
    {"report.js", cab_report_js, cab_report_js_end},
};
const size_t report_n_assets = sizeof report_assets / sizeof *report_assets;
