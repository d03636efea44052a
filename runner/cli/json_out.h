/* The one way a command prints its --json document (cab-full only: the
 * core has no cJSON). */
#ifndef CAB_RUNNER_CLI_JSON_OUT_H
#define CAB_RUNNER_CLI_JSON_OUT_H

#include <cjson/cJSON.h>

/* A listing's document: {"schema": SCHEMA, "count": N, KEY: ITEMS} with
 * ITEMS (an array, taken) counted, as `cab results ls --json` lays it out. */
cJSON *cab_cli_json_list(const char *schema, const char *key, cJSON *items);

/* DOC (taken, deleted) on stdout, 2-space indented, numbers as the shortest
 * text that round-trips, and a newline.  Returns 0, or 125 after one error
 * line. */
int cab_cli_print_json(cJSON *doc);

#endif
