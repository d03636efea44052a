/* cJSON's one missing adder: a string member, or null when there is none. */
#ifndef CAB_COMMON_JSON_NULL_H
#define CAB_COMMON_JSON_NULL_H

#include <cjson/cJSON.h>

/* KEY: VALUE as a string, or null when VALUE is NULL. */
void cab_json_add_string_or_null(cJSON *o, const char *key, const char *value);

#endif
