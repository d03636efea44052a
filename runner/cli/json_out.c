/* --json output: one document on stdout, as cab results ls --json prints. */
#include "runner/cli/json_out.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "runner/cli/commands.h"
#include "scorers/scorers.h"

cJSON *
cab_cli_json_list(const char *schema, const char *key, cJSON *items)
{
  cJSON *doc = cJSON_CreateObject();
  if (doc == NULL) {
    cJSON_Delete(items);
    return NULL;
  }
  cJSON_AddStringToObject(doc, "schema", schema);
  cJSON_AddNumberToObject(doc, "count", items ? cJSON_GetArraySize(items) : 0);
  cJSON_AddItemToObject(doc, key, items);
  return doc;
}

int
cab_cli_print_json(cJSON *doc)
{
  cleanup_free char *text = doc ? cab_json_print(doc, true) : NULL;
  cJSON_Delete(doc);
  if (text == NULL) {
    cab_error err = {0};
    cab_error_set(&err, ENOMEM, "print the JSON output");
    return cab_cli_fail(&err);
  }
  printf("%s\n", text);
  return 0;
}
