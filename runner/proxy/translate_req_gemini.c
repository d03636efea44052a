/* Gemini generateContent / countTokens request (gemini-cli) -> chat
 * request.  Gemini calls may lack ids; see translate.h for how they are
 * made and matched. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner/proxy/translate_internal.h"

#define TOOL_ERROR "(tool error) "

/* Calls made so far without a result: [{"id","name"}], oldest first. */
struct calls {
  cJSON *pending;
  unsigned next; /* for call_<n> */
};

/* Gemini's upper-case schema type names ("OBJECT") -> JSON Schema's, in
 * place, through the whole schema; values (enum, default, example, const)
 * are left alone, and so is a property that happens to be named "type"
 * (its value is a schema object, which is walked). */
static void
lower_types(cJSON *node)
{
  cJSON *c;
  cJSON_ArrayForEach(c, node)
  {
    const char *key = c->string;
    if (key && strcmp(key, "type") == 0 && (cJSON_IsString(c) || cJSON_IsArray(c))) {
      cJSON *s = cJSON_IsArray(c) ? c->child : c;
      for (; s; s = cJSON_IsArray(c) ? s->next : NULL)
        if (cJSON_IsString(s))
          for (char *p = s->valuestring; *p; p++)
            *p = (char)tolower((unsigned char)*p);
      continue;
    }
    if (key && (strcmp(key, "enum") == 0 || strcmp(key, "default") == 0 ||
                strcmp(key, "example") == 0 || strcmp(key, "const") == 0))
      continue;
    if (cJSON_IsObject(c) || cJSON_IsArray(c))
      lower_types(c);
  }
}

/* The text parts of a Content (thoughts left out, media as notes). */
static void
parts_text(const cJSON *parts, const char *sep, struct tr_buf *b)
{
  const cJSON *p;
  cJSON_ArrayForEach(p, parts)
  {
    if (cJSON_IsTrue(tr_get(p, "thought")))
      continue;
    const cJSON *inline_data = tr_get(p, "inlineData");
    const char *mime = tr_str(inline_data, "mimeType");
    if (tr_str(p, "text"))
      tr_buf_join(b, sep, tr_str(p, "text"));
    else if (inline_data)
      tr_buf_join(b, sep, mime && strncmp(mime, "image/", 6) == 0 ? TR_NOTE_IMAGE : TR_NOTE_FILE);
    else if (tr_get(p, "fileData"))
      tr_buf_join(b, sep, TR_NOTE_FILE);
  }
}

/* functionResponse.response: {"output": "text"} (gemini-cli's shape) is
 * passed as the text, {"error": "text"} as a marked error; anything else as
 * its JSON. */
static char *
response_text(const cJSON *resp)
{
  if (cJSON_IsObject(resp) && cJSON_GetArraySize(resp) == 1) {
    const char *out = tr_str(resp, "output");
    if (out)
      return strdup(out);
    const char *e = tr_str(resp, "error");
    if (e) {
      char *s;
      return asprintf(&s, TOOL_ERROR "%s", e) < 0 ? NULL : s;
    }
  }
  return resp ? cJSON_PrintUnformatted(resp) : strdup("");
}

static int
model_content(const cJSON *parts, int i, struct calls *calls, struct tr_msgs *m, cab_error *err)
{
  struct tr_buf text = {0};
  parts_text(parts, "", &text); /* a model's text parts are pieces of one text */
  if (!text.oom)
    tr_msgs_text(m, "assistant", text.s);
  tr_buf_free(&text);
  const cJSON *p;
  cJSON_ArrayForEach(p, parts)
  {
    const cJSON *fc = tr_get(p, "functionCall");
    if (fc == NULL)
      continue;
    const char *name = tr_str(fc, "name");
    if (name == NULL)
      return cab_error_set(err, 0, "contents[%d]: a functionCall without a string \"name\"", i);
    char made[32];
    const char *id = tr_str(fc, "id");
    if (id == NULL || id[0] == '\0') {
      snprintf(made, sizeof made, "call_%u", ++calls->next);
      id = made;
    }
    cJSON *pending = cJSON_CreateObject();
    if (pending == NULL || tr_msgs_tool_call_json(m, id, name, tr_get(fc, "args")) < 0) {
      cJSON_Delete(pending);
      return cab_error_set(err, ENOMEM, "contents[%d]", i);
    }
    cJSON_AddStringToObject(pending, "id", id);
    cJSON_AddStringToObject(pending, "name", name);
    cJSON_AddItemToArray(calls->pending, pending);
  }
  return 0;
}

/* The pending call a functionResponse answers (by id, else the oldest of
 * its name); its id is copied to ID.  False when none. */
static bool
match_call(struct calls *calls, const cJSON *fr, char *id, size_t size)
{
  const char *want_id = tr_str(fr, "id");
  const char *name = tr_str(fr, "name");
  for (int pass = 0; pass < 2; pass++) {
    int k = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, calls->pending)
    {
      const char *cid = tr_str(c, "id"), *cname = tr_str(c, "name");
      bool hit = pass == 0 ? want_id && strcmp(cid, want_id) == 0
                           : name && strcmp(cname, name) == 0;
      if (hit) {
        snprintf(id, size, "%s", cid);
        cJSON_DeleteItemFromArray(calls->pending, k);
        return true;
      }
      k++;
    }
  }
  return false;
}

static int
user_content(const cJSON *parts, int i, struct calls *calls, struct tr_msgs *m, cab_error *err)
{
  const cJSON *p;
  cJSON_ArrayForEach(p, parts)
  {
    const cJSON *fr = tr_get(p, "functionResponse");
    if (fr == NULL)
      continue;
    const char *name = tr_str(fr, "name");
    char *text = response_text(tr_get(fr, "response"));
    if (text == NULL)
      return cab_error_set(err, ENOMEM, "contents[%d]", i);
    char id[256];
    if (match_call(calls, fr, id, sizeof id))
      tr_msgs_tool_result(m, id, text);
    else {
      /* A result for no call we know: keep what it says as text. */
      char *note;
      if (asprintf(&note, "[result of function %s]\n%s", name ? name : "?", text) >= 0) {
        tr_msgs_text(m, "user", note);
        free(note);
      }
    }
    free(text);
  }
  struct tr_buf text = {0};
  parts_text(parts, "\n\n", &text);
  if (!text.oom)
    tr_msgs_text(m, "user", text.s);
  tr_buf_free(&text);
  return 0;
}

static int
contents(const cJSON *in, struct tr_msgs *m, cab_error *err)
{
  const cJSON *list = tr_get(in, "contents");
  if (!cJSON_IsArray(list))
    return cab_error_set(err, 0, "\"contents\": expected an array");
  struct calls calls = {cJSON_CreateArray(), 0};
  if (calls.pending == NULL)
    return cab_error_set(err, ENOMEM, "\"contents\"");
  int i = 0, r = 0;
  const cJSON *c;
  cJSON_ArrayForEach(c, list)
  {
    const char *role = tr_str(c, "role");
    const cJSON *parts = tr_get(c, "parts");
    if (!cJSON_IsObject(c) || !cJSON_IsArray(parts)) {
      r = cab_error_set(err, 0, "contents[%d]: expected an object with a \"parts\" array", i);
      break;
    }
    if (role && strcmp(role, "model") == 0)
      r = model_content(parts, i, &calls, m, err);
    else
      r = user_content(parts, i, &calls, m, err); /* user, function, tool */
    if (r < 0)
      break;
    i++;
  }
  cJSON_Delete(calls.pending);
  return r;
}

static void
system_instruction(const cJSON *in, struct tr_msgs *m)
{
  const cJSON *si = tr_get(in, "systemInstruction");
  if (cJSON_IsString(si)) {
    tr_msgs_system(m, si->valuestring);
    return;
  }
  struct tr_buf b = {0};
  parts_text(tr_get(si, "parts"), "\n\n", &b);
  if (!b.oom)
    tr_msgs_system(m, b.s);
  tr_buf_free(&b);
}

static cJSON *
schema_copy(const cJSON *schema)
{
  cJSON *copy = cJSON_IsObject(schema) ? cJSON_Duplicate(schema, true) : NULL;
  if (copy)
    lower_types(copy);
  return copy;
}

/* A Tool's functionDeclarations (googleSearch, codeExecution, ...: skipped). */
static int
add_tool(const cJSON *t, int i, cJSON *out, struct cab_translate_ctx *ctx, cab_error *err)
{
  const cJSON *decls = tr_get(t, "functionDeclarations");
  if (decls == NULL)
    decls = tr_get(t, "function_declarations");
  const cJSON *d;
  cJSON_ArrayForEach(d, decls)
  {
    const char *name = tr_str(d, "name");
    if (name == NULL)
      return cab_error_set(err, 0, "a function declaration without a string \"name\"");
    const cJSON *params = tr_get(d, "parametersJsonSchema");
    if (params == NULL)
      params = tr_get(d, "parameters");
    if (tr_tools_add(out, tr_function_tool(name, tr_str(d, "description"), schema_copy(params)), i,
                     err) < 0)
      return -1;
  }
  return 0;
}

/* toolConfig.functionCallingConfig -> tool_choice (with tools only). */
static int
tool_choice(const cJSON *in, cJSON *root, cab_error *err)
{
  const cJSON *fcc = tr_get(tr_get(in, "toolConfig"), "functionCallingConfig");
  const char *mode = tr_str(fcc, "mode");
  const cJSON *allowed = tr_get(fcc, "allowedFunctionNames");
  if (mode && strcmp(mode, "NONE") == 0)
    cJSON_AddStringToObject(root, "tool_choice", "none");
  else if (mode && strcmp(mode, "ANY") == 0) {
    if (cJSON_GetArraySize(allowed) == 1 && cJSON_IsString(allowed->child))
      tr_tool_choice_function(root, allowed->child->valuestring);
    else
      cJSON_AddStringToObject(root, "tool_choice", "required");
  } else if (mode)
    cJSON_AddStringToObject(root, "tool_choice", "auto");
  return 0;
}

static int
generation_config(const cJSON *in, cJSON *root, cab_error *err)
{
  const cJSON *gc;
  int r = tr_opt(in, "generationConfig", cJSON_Object, "an object", &gc, err);
  if (r <= 0)
    return r;
  static const char *const numbers[][2] = {
      {"maxOutputTokens", "max_tokens"}, {"temperature", "temperature"},
      {"topP", "top_p"},                 {"seed", "seed"},
      {"presencePenalty", "presence_penalty"}, {"frequencyPenalty", "frequency_penalty"},
  };
  for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++)
    if (tr_copy(root, numbers[i][1], gc, numbers[i][0], cJSON_Number, "a number", err) < 0)
      return cab_error_prefix(err, "generationConfig");
  if (tr_copy(root, "stop", gc, "stopSequences", cJSON_Array, "an array of strings", err) < 0)
    return cab_error_prefix(err, "generationConfig");
  const cJSON *schema = tr_get(gc, "responseJsonSchema");
  if (schema == NULL)
    schema = tr_get(gc, "responseSchema");
  const char *mime = tr_str(gc, "responseMimeType");
  if (cJSON_IsObject(schema)) {
    cJSON *rf = cJSON_AddObjectToObject(root, "response_format");
    cJSON_AddStringToObject(rf, "type", "json_schema");
    cJSON *js = cJSON_AddObjectToObject(rf, "json_schema");
    cJSON_AddStringToObject(js, "name", "response");
    cJSON_AddItemToObject(js, "schema", schema_copy(schema));
  } else if (mime && strcmp(mime, "application/json") == 0)
    cJSON_AddStringToObject(cJSON_AddObjectToObject(root, "response_format"), "type",
                            "json_object");
  return 0;
}

int
tr_request_gemini(const cJSON *in, cJSON *root, struct tr_msgs *m, struct cab_translate_ctx *ctx,
                  cab_error *err)
{
  /* countTokens may wrap a whole generateContent request. */
  const cJSON *wrapped = tr_get(in, "generateContentRequest");
  if (ctx->kind == CAB_ROUTE_COUNT_TOKENS && cJSON_IsObject(wrapped))
    in = wrapped;
  system_instruction(in, m);
  if (contents(in, m, err) < 0 || tr_tools(in, root, add_tool, tool_choice, NULL, err) < 0 ||
      generation_config(in, root, err) < 0)
    return -1;
  return 0;
}
