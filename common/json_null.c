#include "common/json_null.h"

void
cab_json_add_string_or_null(cJSON *o, const char *key, const char *value)
{
  if (value)
    cJSON_AddStringToObject(o, key, value);
  else
    cJSON_AddNullToObject(o, key);
}
