/* A strict, small TOML reader: TOML text to a cJSON object.
 *
 * Why not a library: Debian 12 packages no C TOML library (libcpptoml is
 * C++, tomlc99 is not packaged), and cab reads only small task files
 * (Harbor's task.toml).  So this reads the subset those files use and
 * refuses everything else with "ORIGIN:LINE: what; what to do":
 *
 *   tables [a.b], arrays of tables [[a]], key = value with bare, quoted and
 *   dotted keys, comments; strings (basic "..", literal '..', multi-line
 *   """..""" and '''..'''), integers (decimal with _, 0x/0o/0b) within
 *   +-2^53 (cJSON's exact range), floats (no inf/nan), booleans, arrays
 *   (nested, multi-line, trailing comma), inline tables { k = v }.
 *
 * Refused: dates and times (quote them), inf/nan, integers cJSON cannot
 * hold exactly, a key or table defined twice, control characters, bad
 * UTF-8, nesting deeper than CAB_TOML_MAX_DEPTH, text over CAB_TOML_MAX. */
#ifndef CAB_COMMON_TOML_H
#define CAB_COMMON_TOML_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "common/error.h"

#define CAB_TOML_MAX (1 << 20)
#define CAB_TOML_MAX_DEPTH 32

/* Parse TEXT (LEN bytes) into *OUT (a cJSON object the caller frees).
 * ORIGIN names the text in errors (normally its path). */
int cab_toml_parse(const char *text, size_t len, const char *origin, cJSON **out, cab_error *err);

#endif
