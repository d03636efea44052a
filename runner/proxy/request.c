#include "runner/proxy/request.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner/proxy/wire_ops.h"

/* The body with "stream_options":{"include_usage":true} added, or NULL. */
static char *
inject_usage(const char *body, size_t len, cJSON *root, size_t *out_len)
{
  cJSON *so = cJSON_GetObjectItemCaseSensitive(root, "stream_options");
  if (so == NULL) {
    /* Insert right after the opening brace: every other byte of the
     * client's body stays as it was (cJSON would reformat numbers). */
    static const char add[] = "\"stream_options\":{\"include_usage\":true},";
    size_t at = 0;
    while (at < len && (body[at] == ' ' || body[at] == '\t' || body[at] == '\r' ||
                        body[at] == '\n'))
      at++;
    if (at >= len || body[at] != '{')
      return NULL;
    at++;
    char *out = malloc(len + sizeof add);
    if (out == NULL)
      return NULL;
    memcpy(out, body, at);
    memcpy(out + at, add, sizeof add - 1);
    memcpy(out + at + sizeof add - 1, body + at, len - at);
    *out_len = len + sizeof add - 1;
    out[*out_len] = '\0';
    return out;
  }
  if (!cJSON_IsObject(so))
    return NULL;
  cJSON *inc = cJSON_GetObjectItemCaseSensitive(so, "include_usage");
  if (cJSON_IsTrue(inc))
    return NULL;
  if (inc)
    cJSON_DeleteItemFromObjectCaseSensitive(so, "include_usage");
  cJSON_AddTrueToObject(so, "include_usage");
  char *out = cJSON_PrintUnformatted(root);
  if (out)
    *out_len = strlen(out);
  return out;
}

void
cab_request_inspect(const char *path, cab_wire_has_header_fn *has_header, void *cls,
                    const char *body, size_t len, struct cab_request_info *info, char **out,
                    size_t *out_len)
{
  memset(info, 0, sizeof *info);
  *out = NULL;
  *out_len = 0;
  info->wire = cab_wire_of_sender(path, has_header, cls);
  if (body == NULL || len == 0)
    return;
  cJSON *root = cJSON_ParseWithLength(body, len);
  if (root == NULL)
    return;
  if (cJSON_IsObject(root)) {
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    if (cJSON_IsString(model))
      snprintf(info->model, sizeof info->model, "%s", model->valuestring);
    info->stream = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "stream"));
    /* Legacy completions stream the same way: a stream without usage
     * would count no tokens at all (a cheaper cell). */
    if (info->stream && cab_wire_ops(info->wire)->identity &&
        (cab_wire_ends_with(path, "/chat/completions") || strcmp(path, "/v1/completions") == 0))
      *out = inject_usage(body, len, root, out_len);
  }
  cJSON_Delete(root);
}
