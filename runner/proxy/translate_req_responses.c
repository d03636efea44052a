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
    tr_buf_join(b, "\n\n", piece);
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
    int r = args && cJSON_AddStringToObject(args, "input", input ? input : "")
                ? tr_msgs_tool_call_json(m, call_id, name, args)
                : -1;
    cJSON_Delete(args);
    return r < 0 ? cab_error_set(err, ENOMEM, "input[%d]", i) : 0;
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

/* function and custom tools; local_shell, web_search, file_search,
 * computer_use, mcp, ...: the chat endpoint cannot run them. */
static int
add_tool(const cJSON *t, int i, cJSON *out, struct cab_translate_ctx *ctx, cab_error *err)
{
  const char *type = tr_str(t, "type");
  const char *name = tr_str(t, "name");
  if (type == NULL)
    return cab_error_set(err, 0, "tools[%d]: expected an object with a string \"type\"", i);
  if (strcmp(type, "function") != 0 && strcmp(type, "custom") != 0)
    return 0;
  if (name == NULL)
    return cab_error_set(err, 0, "tools[%d]: a %s tool without a string \"name\"", i, type);
  cJSON *tool;
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
  return tr_tools_add(out, tool, i, err);
}

/* tool_choice and parallel_tool_calls (with tools only). */
static int
tool_choice(const cJSON *in, cJSON *root, cab_error *err)
{
  const cJSON *choice = tr_get(in, "tool_choice");
  if (cJSON_IsString(choice))
    cJSON_AddStringToObject(root, "tool_choice", choice->valuestring);
  else if (cJSON_IsObject(choice)) {
    const char *type = tr_str(choice, "type");
    const char *name = tr_str(choice, "name");
    if (type && name && (strcmp(type, "function") == 0 || strcmp(type, "custom") == 0))
      tr_tool_choice_function(root, name);
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
  const cJSON *instructions;
  if (tr_opt(in, "instructions", cJSON_String, "a string", &instructions, err) < 0)
    return -1;
  if (instructions)
    tr_msgs_system(m, instructions->valuestring);

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

  if (tr_tools(in, root, add_tool, tool_choice, ctx, err) < 0)
    return -1;
  if (tr_copy(root, "max_tokens", in, "max_output_tokens", cJSON_Number, "a number", err) < 0 ||
      tr_copy(root, "temperature", in, "temperature", cJSON_Number, "a number", err) < 0 ||
      tr_copy(root, "top_p", in, "top_p", cJSON_Number, "a number", err) < 0)
    return -1;
  text_format(in, root);
  const cJSON *stream;
  if (tr_opt(in, "stream", cJSON_True | cJSON_False, "a boolean", &stream, err) < 0)
    return -1;
  ctx->stream = cJSON_IsTrue(stream);
  return 0;
}
