/* OpenAI Responses request (codex) -> chat request. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runner/proxy/translate_internal.h"

/* The text of a message's content: a string, or parts (input_text,
 * output_text, text, refusal; images, files, audio become notes). */
static int
content_text(const cJSON *content, int item, struct tr_buf *b, cab_error *err)
{
  if (cJSON_IsString(content)) {
    tr_buf_adds(b, content->valuestring);
    return 0;
  }
  if (content == NULL || cJSON_IsNull(content))
    return 0;
  if (!cJSON_IsArray(content))
    return cab_error_set(err, 0, "input[%d].content: expected a string or an array", item);
  const cJSON *part;
  cJSON_ArrayForEach(part, content)
  {
    const char *type = tr_str(part, "type");
    const char *text = tr_str(part, "text");
    const char *piece = NULL;
    if (type == NULL)
      return cab_error_set(err, 0, "input[%d].content: a part without a string \"type\"", item);
    if (strcmp(type, "refusal") == 0)
      piece = tr_str(part, "refusal");
    else if (strcmp(type, "input_image") == 0)
      piece = TR_NOTE_IMAGE;
    else if (strcmp(type, "input_file") == 0)
      piece = TR_NOTE_FILE;
    else if (strcmp(type, "input_audio") == 0)
      piece = TR_NOTE_AUDIO;
    else
      piece = text; /* input_text, output_text, text, summary_text */
    if (piece == NULL || piece[0] == '\0')
      continue;
    if (b->len)
      tr_buf_adds(b, "\n\n");
    tr_buf_adds(b, piece);
  }
  return 0;
}

/* function_call_output.output: a string, parts, or any JSON. */
static int
output_text(const cJSON *output, int item, struct tr_buf *b, cab_error *err)
{
  if (cJSON_IsArray(output) || cJSON_IsString(output) || output == NULL || cJSON_IsNull(output))
    return content_text(output, item, b, err);
  char *text = cJSON_PrintUnformatted(output);
  if (text == NULL)
    return cab_error_set(err, ENOMEM, "input[%d].output", item);
  tr_buf_adds(b, text);
  free(text);
  return 0;
}

static int
message_item(const cJSON *it, int i, struct tr_msgs *m, cab_error *err)
{
  const char *role = tr_str(it, "role");
  if (role == NULL)
    return cab_error_set(err, 0, "input[%d]: a message without a string \"role\"", i);
  struct tr_buf b = {0};
  int r = content_text(tr_get(it, "content"), i, &b, err);
  if (r == 0 && b.oom)
    r = cab_error_set(err, ENOMEM, "input[%d]", i);
  if (r == 0) {
    if (strcmp(role, "system") == 0 || strcmp(role, "developer") == 0)
      tr_msgs_system(m, b.s);
    else if (strcmp(role, "user") == 0 || strcmp(role, "assistant") == 0)
      tr_msgs_text(m, role, b.s);
    else
      r = cab_error_set(err, 0, "input[%d]: unknown role '%s'", i, role);
  }
  tr_buf_free(&b);
  return r;
}

/* A call item's call_id and name, which chat needs. */
static int
call_names(const cJSON *it, int i, const char **call_id, const char **name, cab_error *err)
{
  *call_id = tr_str(it, "call_id");
  if (*call_id == NULL)
    *call_id = tr_str(it, "id");
  if (*call_id == NULL)
    return cab_error_set(err, 0, "input[%d]: a %s without a string \"call_id\"", i,
                         tr_str(it, "type"));
  if (name == NULL)
    return 0;
  *name = tr_str(it, "name");
  if (*name == NULL)
    return cab_error_set(err, 0, "input[%d]: a %s without a string \"name\"", i,
                         tr_str(it, "type"));
  return 0;
}

static int
input_item(const cJSON *it, int i, struct tr_msgs *m, cab_error *err)
{
  if (!cJSON_IsObject(it))
    return cab_error_set(err, 0, "input[%d]: expected an object", i);
  const char *type = tr_str(it, "type");
  const char *call_id, *name;
  if (type == NULL || strcmp(type, "message") == 0)
    return message_item(it, i, m, err);
  if (strcmp(type, "function_call") == 0) {
    if (call_names(it, i, &call_id, &name, err) < 0)
      return -1;
    const cJSON *args = tr_get(it, "arguments");
    if (args && !cJSON_IsString(args))
      return cab_error_set(err, 0, "input[%d].arguments: expected a string", i);
    tr_msgs_tool_call(m, call_id, name, args ? args->valuestring : "{}");
    return 0;
  }
  if (strcmp(type, "custom_tool_call") == 0) {
    if (call_names(it, i, &call_id, &name, err) < 0)
      return -1;
    const char *input = tr_str(it, "input");
    cJSON *args = cJSON_CreateObject();
    cJSON_AddStringToObject(args, "input", input ? input : "");
    char *text = cJSON_PrintUnformatted(args);
    cJSON_Delete(args);
    if (text == NULL)
      return cab_error_set(err, ENOMEM, "input[%d]", i);
    tr_msgs_tool_call(m, call_id, name, text);
    free(text);
    return 0;
  }
  if (strcmp(type, "function_call_output") == 0 || strcmp(type, "custom_tool_call_output") == 0) {
    if (call_names(it, i, &call_id, NULL, err) < 0)
      return -1;
    struct tr_buf b = {0};
    int r = output_text(tr_get(it, "output"), i, &b, err);
    if (r == 0 && b.oom)
      r = cab_error_set(err, ENOMEM, "input[%d]", i);
    if (r == 0)
      tr_msgs_tool_result(m, call_id, b.s ? b.s : "");
    tr_buf_free(&b);
    return r;
  }
  /* reasoning (nothing a chat model can take back), item_reference (no
   * state here), built-in tools' calls and outputs (their tools are not
   * offered either). */
  return 0;
}

static int
add_custom_name(struct cab_translate_ctx *ctx, const char *name)
{
  char **v = realloc(ctx->custom_tools, (ctx->n_custom_tools + 1) * sizeof *v);
  if (v == NULL)
    return -1;
  ctx->custom_tools = v;
  v[ctx->n_custom_tools] = strdup(name);
  if (v[ctx->n_custom_tools] == NULL)
    return -1;
  ctx->n_custom_tools++;
  return 0;
}

/* A custom (free-form) tool as a function of one string, "input"; the
 * grammar, if any, goes into the description for the model to follow. */
static cJSON *
custom_tool(const cJSON *t, const char *name)
{
  struct tr_buf d = {0};
  const char *desc = tr_str(t, "description");
  tr_buf_adds(&d, desc ? desc : "");
  const cJSON *format = tr_get(t, "format");
  const char *def = tr_str(format, "definition");
  if (def) {
    const char *syntax = tr_str(format, "syntax");
    tr_buf_adds(&d, d.len ? "\n\n" : "");
    tr_buf_adds(&d, "The input is free-form text (not JSON) in this ");
    tr_buf_adds(&d, syntax ? syntax : "");
    tr_buf_adds(&d, " grammar:\n");
    tr_buf_adds(&d, def);
  }
  cJSON *params = cJSON_CreateObject();
  cJSON_AddStringToObject(params, "type", "object");
  cJSON *input = cJSON_AddObjectToObject(cJSON_AddObjectToObject(params, "properties"), "input");
  cJSON_AddStringToObject(input, "type", "string");
  cJSON_AddStringToObject(input, "description", "The tool's raw input text.");
  cJSON *req = cJSON_AddArrayToObject(params, "required");
  cJSON_AddItemToArray(req, cJSON_CreateString("input"));
  cJSON_AddFalseToObject(params, "additionalProperties");
  cJSON *tool = d.oom ? NULL : tr_function_tool(name, d.s, params);
  if (d.oom)
    cJSON_Delete(params);
  tr_buf_free(&d);
  return tool;
}

static int
tools(const cJSON *in, cJSON *root, struct cab_translate_ctx *ctx, cab_error *err)
{
  const cJSON *list = tr_get(in, "tools");
  if (list == NULL || cJSON_IsNull(list))
    return 0;
  if (!cJSON_IsArray(list))
    return cab_error_set(err, 0, "\"tools\": expected an array");
  cJSON *out = cJSON_CreateArray();
  cJSON_AddItemToObject(root, "tools", out);
  const cJSON *t;
  int i = 0;
  cJSON_ArrayForEach(t, list)
  {
    const char *type = tr_str(t, "type");
    const char *name = tr_str(t, "name");
    if (type == NULL)
      return cab_error_set(err, 0, "tools[%d]: expected an object with a string \"type\"", i);
    cJSON *tool = NULL;
    if (strcmp(type, "function") == 0 || strcmp(type, "custom") == 0) {
      if (name == NULL)
        return cab_error_set(err, 0, "tools[%d]: a %s tool without a string \"name\"", i, type);
      if (strcmp(type, "custom") == 0) {
        if (add_custom_name(ctx, name) < 0)
          return cab_error_set(err, ENOMEM, "tools[%d]", i);
        tool = custom_tool(t, name);
      } else {
        const cJSON *params = tr_get(t, "parameters");
        tool = tr_function_tool(name, tr_str(t, "description"),
                                cJSON_IsObject(params) ? cJSON_Duplicate(params, true) : NULL);
        if (tool && cJSON_IsBool(tr_get(t, "strict")))
          cJSON_AddBoolToObject(cJSON_GetObjectItemCaseSensitive(tool, "function"), "strict",
                                cJSON_IsTrue(tr_get(t, "strict")));
      }
      if (tool == NULL)
        return cab_error_set(err, ENOMEM, "tools[%d]", i);
      cJSON_AddItemToArray(out, tool);
    }
    /* local_shell, web_search, file_search, computer_use, mcp, ...: the
     * chat endpoint cannot run them. */
    i++;
  }
  if (cJSON_GetArraySize(out) == 0) {
    cJSON_DeleteItemFromObjectCaseSensitive(root, "tools");
    return 0;
  }
  const cJSON *choice = tr_get(in, "tool_choice");
  if (cJSON_IsString(choice))
    cJSON_AddStringToObject(root, "tool_choice", choice->valuestring);
  else if (cJSON_IsObject(choice)) {
    const char *type = tr_str(choice, "type");
    const char *name = tr_str(choice, "name");
    if (type && name && (strcmp(type, "function") == 0 || strcmp(type, "custom") == 0)) {
      cJSON *c = cJSON_AddObjectToObject(root, "tool_choice");
      cJSON_AddStringToObject(c, "type", "function");
      cJSON_AddStringToObject(cJSON_AddObjectToObject(c, "function"), "name", name);
    }
  }
  return tr_copy(root, "parallel_tool_calls", in, "parallel_tool_calls", cJSON_True | cJSON_False,
                 "a boolean", err);
}

/* text.format -> response_format. */
static void
text_format(const cJSON *in, cJSON *root)
{
  const cJSON *format = tr_get(tr_get(in, "text"), "format");
  const char *type = tr_str(format, "type");
  if (type == NULL)
    return;
  if (strcmp(type, "json_object") == 0) {
    cJSON *rf = cJSON_AddObjectToObject(root, "response_format");
    cJSON_AddStringToObject(rf, "type", "json_object");
  } else if (strcmp(type, "json_schema") == 0) {
    cJSON *rf = cJSON_AddObjectToObject(root, "response_format");
    cJSON_AddStringToObject(rf, "type", "json_schema");
    cJSON *js = cJSON_AddObjectToObject(rf, "json_schema");
    const char *name = tr_str(format, "name");
    cJSON_AddStringToObject(js, "name", name ? name : "response");
    const cJSON *schema = tr_get(format, "schema");
    if (schema)
      cJSON_AddItemToObject(js, "schema", cJSON_Duplicate(schema, true));
    if (cJSON_IsBool(tr_get(format, "strict")))
      cJSON_AddBoolToObject(js, "strict", cJSON_IsTrue(tr_get(format, "strict")));
  }
}

int
tr_request_responses(const cJSON *in, cJSON *root, struct tr_msgs *m,
                     struct cab_translate_ctx *ctx, cab_error *err)
{
  const cJSON *prev = tr_get(in, "previous_response_id");
  if (prev && !cJSON_IsNull(prev))
    return cab_error_set(err, 0,
                         "\"previous_response_id\" is not supported (cab's model proxy keeps no "
                         "state; send the whole conversation in \"input\")");
  const cJSON *instructions = tr_get(in, "instructions");
  if (cJSON_IsString(instructions))
    tr_msgs_system(m, instructions->valuestring);
  else if (instructions && !cJSON_IsNull(instructions))
    return cab_error_set(err, 0, "\"instructions\": expected a string");

  const cJSON *input = tr_get(in, "input");
  if (cJSON_IsString(input))
    tr_msgs_text(m, "user", input->valuestring);
  else if (cJSON_IsArray(input)) {
    const cJSON *it;
    int i = 0;
    cJSON_ArrayForEach(it, input)
    {
      if (input_item(it, i++, m, err) < 0)
        return -1;
    }
  } else
    return cab_error_set(err, 0, "\"input\": expected a string or an array");

  if (tools(in, root, ctx, err) < 0)
    return -1;
  if (tr_copy(root, "max_tokens", in, "max_output_tokens", cJSON_Number, "a number", err) < 0 ||
      tr_copy(root, "temperature", in, "temperature", cJSON_Number, "a number", err) < 0 ||
      tr_copy(root, "top_p", in, "top_p", cJSON_Number, "a number", err) < 0)
    return -1;
  text_format(in, root);
  const cJSON *stream = tr_get(in, "stream");
  if (stream && !cJSON_IsBool(stream) && !cJSON_IsNull(stream))
    return cab_error_set(err, 0, "\"stream\": expected a boolean");
  ctx->stream = cJSON_IsTrue(stream);
  return 0;
}
