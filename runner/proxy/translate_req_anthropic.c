/* Anthropic Messages request (claude-code) -> chat request. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runner/proxy/translate_internal.h"

#define TOOL_ERROR "(tool error) "

/* A text-ish block's text, a note for media, NULL for what is dropped
 * (thinking, tool blocks, server tools' results). */
static const char *
block_text(const cJSON *block)
{
  const char *type = tr_str(block, "type");
  if (type == NULL)
    return NULL;
  if (strcmp(type, "text") == 0)
    return tr_str(block, "text");
  if (strcmp(type, "image") == 0)
    return TR_NOTE_IMAGE;
  if (strcmp(type, "document") == 0)
    return TR_NOTE_FILE;
  return NULL;
}

/* system: a string or text blocks. */
static int
system_prompt(const cJSON *in, struct tr_msgs *m, cab_error *err)
{
  const cJSON *sys;
  int r = tr_opt(in, "system", cJSON_String | cJSON_Array, "a string or an array of text blocks",
                 &sys, err);
  if (r <= 0)
    return r;
  if (cJSON_IsString(sys)) {
    tr_msgs_system(m, sys->valuestring);
    return 0;
  }
  struct tr_buf b = {0};
  const cJSON *block;
  cJSON_ArrayForEach(block, sys) tr_buf_join(&b, "\n\n", tr_str(block, "text"));
  if (!b.oom)
    tr_msgs_system(m, b.s);
  bool oom = b.oom;
  tr_buf_free(&b);
  return oom ? cab_error_set(err, ENOMEM, "\"system\"") : 0;
}

/* tool_result.content: a string or blocks; is_error marks the text. */
static void
tool_result(const cJSON *block, struct tr_msgs *m)
{
  struct tr_buf b = {0};
  if (cJSON_IsTrue(tr_get(block, "is_error")))
    tr_buf_adds(&b, TOOL_ERROR);
  size_t mark = b.len;
  const cJSON *content = tr_get(block, "content");
  if (cJSON_IsString(content))
    tr_buf_adds(&b, content->valuestring);
  else {
    const cJSON *c;
    cJSON_ArrayForEach(c, content)
    {
      const char *piece = block_text(c);
      if (piece && piece[0]) {
        if (b.len > mark)
          tr_buf_adds(&b, "\n\n");
        tr_buf_adds(&b, piece);
      }
    }
  }
  if (!b.oom)
    tr_msgs_tool_result(m, tr_str(block, "tool_use_id"), b.s ? b.s : "");
  tr_buf_free(&b);
}

static int
message(const cJSON *msg, int i, struct tr_msgs *m, cab_error *err)
{
  /* "system" is not in Anthropic's documented API, but claude-code sends
   * its environment context that way mid-conversation (2.1.x, for a model
   * it does not know): a chat system message where it stands. */
  const char *role = tr_str(msg, "role");
  if (role == NULL || (strcmp(role, "user") != 0 && strcmp(role, "assistant") != 0 &&
                       strcmp(role, "system") != 0))
    return cab_error_set(err, 0, "messages[%d]: \"role\" must be \"user\", \"assistant\" or "
                                 "\"system\"", i);
  const cJSON *content = tr_get(msg, "content");
  if (cJSON_IsString(content)) {
    tr_msgs_text(m, role, content->valuestring);
    return 0;
  }
  if (!cJSON_IsArray(content))
    return cab_error_set(err, 0, "messages[%d].content: expected a string or an array", i);
  bool user = strcmp(role, "user") == 0;
  const cJSON *block;
  /* A user turn's tool results go first: chat wants them right after the
   * assistant's calls. */
  if (user)
    cJSON_ArrayForEach(block, content)
    {
      const char *type = tr_str(block, "type");
      if (type && strcmp(type, "tool_result") == 0) {
        if (tr_str(block, "tool_use_id") == NULL)
          return cab_error_set(err, 0, "messages[%d]: a tool_result without a string "
                                       "\"tool_use_id\"", i);
        tool_result(block, m);
      }
    }
  struct tr_buf text = {0};
  cJSON_ArrayForEach(block, content)
  {
    if (!cJSON_IsObject(block) || tr_str(block, "type") == NULL) {
      tr_buf_free(&text);
      return cab_error_set(err, 0, "messages[%d].content: a block without a string \"type\"", i);
    }
    tr_buf_join(&text, "\n\n", block_text(block));
  }
  if (!text.oom)
    tr_msgs_text(m, role, text.s);
  tr_buf_free(&text);
  if (user || strcmp(role, "system") == 0)
    return 0;
  cJSON_ArrayForEach(block, content)
  {
    const char *type = tr_str(block, "type");
    if (strcmp(type, "tool_use") != 0)
      continue;
    const char *id = tr_str(block, "id"), *name = tr_str(block, "name");
    if (id == NULL || name == NULL)
      return cab_error_set(err, 0, "messages[%d]: a tool_use without a string \"id\" and \"name\"",
                           i);
    if (tr_msgs_tool_call_json(m, id, name, tr_get(block, "input")) < 0)
      return cab_error_set(err, ENOMEM, "messages[%d]", i);
  }
  return 0;
}

/* Server and versioned tools (web_search_..., bash_..., text_editor_...)
 * run at Anthropic; a chat endpoint cannot: only custom ones are passed. */
static int
add_tool(const cJSON *t, int i, cJSON *out, struct cab_translate_ctx *ctx, cab_error *err)
{
  const char *type = tr_str(t, "type");
  const char *name = tr_str(t, "name");
  if (type && strcmp(type, "custom") != 0)
    return 0;
  if (name == NULL)
    return cab_error_set(err, 0, "tools[%d]: expected an object with a string \"name\"", i);
  const cJSON *schema = tr_get(t, "input_schema");
  cJSON *tool = tr_function_tool(name, tr_str(t, "description"),
                                 cJSON_IsObject(schema) ? cJSON_Duplicate(schema, true) : NULL);
  return tr_tools_add(out, tool, i, err);
}

/* tool_choice {"type": auto, none, any, tool} -> chat's (with tools only). */
static int
tool_choice(const cJSON *in, cJSON *root, cab_error *err)
{
  const cJSON *choice = tr_get(in, "tool_choice");
  const char *type = tr_str(choice, "type");
  if (type) {
    if (strcmp(type, "auto") == 0 || strcmp(type, "none") == 0)
      cJSON_AddStringToObject(root, "tool_choice", type);
    else if (strcmp(type, "any") == 0)
      cJSON_AddStringToObject(root, "tool_choice", "required");
    else if (strcmp(type, "tool") == 0 && tr_str(choice, "name"))
      tr_tool_choice_function(root, tr_str(choice, "name"));
    if (cJSON_IsTrue(tr_get(choice, "disable_parallel_tool_use")))
      cJSON_AddFalseToObject(root, "parallel_tool_calls");
  }
  return 0;
}

int
tr_request_anthropic(const cJSON *in, cJSON *root, struct tr_msgs *m,
                     struct cab_translate_ctx *ctx, cab_error *err)
{
  if (system_prompt(in, m, err) < 0)
    return -1;
  const cJSON *msgs = tr_get(in, "messages");
  if (!cJSON_IsArray(msgs))
    return cab_error_set(err, 0, "\"messages\": expected an array");
  const cJSON *msg;
  int i = 0;
  cJSON_ArrayForEach(msg, msgs)
  {
    if (!cJSON_IsObject(msg))
      return cab_error_set(err, 0, "messages[%d]: expected an object", i);
    if (message(msg, i++, m, err) < 0)
      return -1;
  }
  if (tr_tools(in, root, add_tool, tool_choice, NULL, err) < 0)
    return -1;
  if (tr_copy(root, "max_tokens", in, "max_tokens", cJSON_Number, "a number", err) < 0 ||
      tr_copy(root, "temperature", in, "temperature", cJSON_Number, "a number", err) < 0 ||
      tr_copy(root, "top_p", in, "top_p", cJSON_Number, "a number", err) < 0 ||
      tr_copy(root, "stop", in, "stop_sequences", cJSON_Array, "an array of strings", err) < 0)
    return -1;
  const cJSON *stream;
  if (tr_opt(in, "stream", cJSON_True | cJSON_False, "a boolean", &stream, err) < 0)
    return -1;
  ctx->stream = cJSON_IsTrue(stream);
  return 0;
}
