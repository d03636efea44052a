#include "runner/proxy/request.h"
#include "common/strfmt.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner/proxy/wire_ops.h"

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
      /* For the call log only (the body goes upstream as sent): an agent's
       * over-long model name is logged cut. */
      cab_snprintf_cut(info->model, sizeof info->model, "%s", model->valuestring);
    info->stream = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "stream"));
    /* A stream without usage would count no tokens at all (a cheaper
     * cell): the client's wire may ask for it. */
    const struct cab_wire_ops *ops = cab_wire_ops(info->wire);
    if (info->stream && ops->ask_usage)
      *out = ops->ask_usage(path, body, len, root, out_len);
  }
  cJSON_Delete(root);
}
