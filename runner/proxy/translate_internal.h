/* Helpers shared by translate_*.c; not part of the proxy's API. */
#ifndef CAB_RUNNER_PROXY_TRANSLATE_INTERNAL_H
#define CAB_RUNNER_PROXY_TRANSLATE_INTERNAL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "runner/proxy/translate.h"

/* --- JSON ---------------------------------------------------------------- */

static inline const cJSON *
tr_get(const cJSON *o, const char *key)
{
  return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
}

/* The string at KEY, or NULL. */
static inline const char *
tr_str(const cJSON *o, const char *key)
{
  const cJSON *v = tr_get(o, key);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static inline void
tr_json_freep(cJSON **p)
{
  cJSON_Delete(*p);
}
#define cleanup_json __attribute__((cleanup(tr_json_freep)))

/* Print ROOT unformatted into *OUT (length *OUT_LEN) and delete it. */
int tr_print(cJSON *root, char **out, size_t *out_len, cab_error *err);

/* IN[KEY] in *OUT when present and not null: 1, else 0 (*OUT NULL).  It
 * must have the cJSON type TYPE (cJSON_Number, cJSON_True|cJSON_False,
 * cJSON_Array, ...; 0 = any) or ERR says "KEY: expected WHAT" and -1 is
 * returned. */
int tr_opt(const cJSON *in, const char *key, int type, const char *what, const cJSON **out,
           cab_error *err);

/* Copy SRC[SKEY] to DST[DKEY] when present and not null.  It must have the
 * cJSON type TYPE (cJSON_Number, cJSON_True|cJSON_False, cJSON_Array, ...;
 * 0 = any) or ERR says "SKEY: expected WHAT" and -1 is returned. */
int tr_copy(cJSON *dst, const char *dkey, const cJSON *src, const char *skey, int type,
            const char *what, cab_error *err);

/* The chat request's "tools" in ROOT from IN's "tools" array (absent or
 * null: none): ADD appends what entry I (TOOL) gives, if anything, to OUT;
 * then, when that made any, CHOICE adds "tool_choice" (and the like) from
 * IN, and when not, "tools" is left out.  0, or -1 on an error (ERR). */
typedef int tr_tool_fn(const cJSON *tool, int i, cJSON *out, struct cab_translate_ctx *ctx,
                       cab_error *err);
typedef int tr_tool_choice_fn(const cJSON *in, cJSON *root, cab_error *err);
int tr_tools(const cJSON *in, cJSON *root, tr_tool_fn *add, tr_tool_choice_fn *choice,
             struct cab_translate_ctx *ctx, cab_error *err);
/* Append TOOL (taken; NULL: out of memory) to OUT, for entry I. */
int tr_tools_add(cJSON *out, cJSON *tool, int i, cab_error *err);

/* tool_choice {"type":"function","function":{"name":NAME}} in ROOT. */
void tr_tool_choice_function(cJSON *root, const char *name);

/* "[image omitted]"-style placeholders for content cab does not pass on. */
#define TR_NOTE_IMAGE "[image omitted: cab's model proxy passes text only]"
#define TR_NOTE_FILE "[file omitted: cab's model proxy passes text only]"
#define TR_NOTE_AUDIO "[audio omitted: cab's model proxy passes text only]"

/* --- the message builder (translate_request.c) ---------------------------- */

/* Chat messages as they are appended; see translate.h for the merging. */
struct tr_msgs {
  cJSON *arr;
};

void tr_msgs_system(struct tr_msgs *m, const char *text);
void tr_msgs_text(struct tr_msgs *m, const char *role, const char *text);
void tr_msgs_tool_call(struct tr_msgs *m, const char *id, const char *name, const char *args);
/* The same with ARGS' JSON as the arguments ("{}" when NULL); -1 when out of
 * memory. */
int tr_msgs_tool_call_json(struct tr_msgs *m, const char *id, const char *name,
                           const cJSON *args);
void tr_msgs_tool_result(struct tr_msgs *m, const char *id, const char *text);

/* A tools entry {"type":"function","function":{...}}; takes PARAMS (may be
 * NULL: an empty object schema). */
cJSON *tr_function_tool(const char *name, const char *description, cJSON *params);

/* Per-wire request translation into ROOT (the chat request being built,
 * with "messages" filled by M), each wire's ops.request (wire_ops.h).  CTX
 * gets stream/custom tool names. */
int tr_request_responses(const cJSON *in, cJSON *root, struct tr_msgs *m,
                         struct cab_translate_ctx *ctx, cab_error *err);
int tr_request_anthropic(const cJSON *in, cJSON *root, struct tr_msgs *m,
                         struct cab_translate_ctx *ctx, cab_error *err);
int tr_request_gemini(const cJSON *in, cJSON *root, struct tr_msgs *m,
                      struct cab_translate_ctx *ctx, cab_error *err);

/* Text of a growing string (translate_stream.c uses it too). */
struct tr_buf {
  char *s;
  size_t len, cap;
  bool oom;
};
void tr_buf_add(struct tr_buf *b, const char *s, size_t n);
void tr_buf_adds(struct tr_buf *b, const char *s);
/* Append PIECE (nothing when NULL or ""), after SEP when B has text. */
void tr_buf_join(struct tr_buf *b, const char *sep, const char *piece);
void tr_buf_free(struct tr_buf *b);

/* --- the answer's shapes (translate_shapes.c) ------------------------------ */

enum tr_finish { TR_FINISH_NONE, TR_FINISH_STOP, TR_FINISH_LENGTH, TR_FINISH_TOOLS,
                 TR_FINISH_FILTER };

/* A chat finish_reason; HAS_TOOLS upgrades stop/none to tool calls (some
 * servers say "stop" after calling tools). */
enum tr_finish tr_finish_of(const char *reason, bool has_tools);

/* Chat usage, as numbers. */
struct tr_usage {
  bool present;
  bool clamped;       /* a figure was not a token count (runner/model_api/usage.h) */
  double prompt, completion, total, cached, reasoning;
};
void tr_usage_read(const cJSON *usage, struct tr_usage *u);
cJSON *tr_usage_responses(const struct tr_usage *u); /* cJSON null when absent */
cJSON *tr_usage_anthropic(const struct tr_usage *u);
cJSON *tr_usage_gemini(const struct tr_usage *u);     /* NULL when absent */

bool tr_is_custom(const struct cab_translate_ctx *ctx, const char *name);

/* Responses: a custom tool's input from the chat arguments {"input": "..."}
 * (the raw arguments when they are not that).  Malloc'd. */
char *tr_custom_input(const char *args);

/* Anthropic tool_use.input / Gemini functionCall.args from the arguments
 * string (see translate.h). */
cJSON *tr_args_object(const char *args);

/* Responses objects: the response "resp_<CHAT_ID>" (takes OUTPUT; U NULL:
 * usage null), an output_text part, a message item, and a call item
 * ("fc_<CALL_ID>", "ctc_<CALL_ID>" for a custom tool: its item id). */
cJSON *tr_responses_object(const char *chat_id, double created, const char *model,
                           const char *status, enum tr_finish finish, cJSON *output,
                           const struct tr_usage *u);
cJSON *tr_responses_text_part(const char *text);
cJSON *tr_responses_message_item(const char *id, const char *status, const char *text);
void tr_responses_call_item_id(const struct cab_translate_ctx *ctx, const char *call_id,
                               const char *name, char *id, size_t size);
cJSON *tr_responses_call_item(const struct cab_translate_ctx *ctx, const char *call_id,
                              const char *name, const char *args, const char *status);

/* Anthropic: a message "msg_<CHAT_ID>" with its empty content array in
 * *CONTENT, a text block, a tool_use block (takes INPUT), and a message's
 * (or message_delta's) stop_reason and stop_sequence. */
cJSON *tr_anthropic_message(const char *chat_id, const char *model, cJSON **content);
cJSON *tr_anthropic_text_block(const char *text);
cJSON *tr_anthropic_tool_use_block(const char *id, const char *name, cJSON *input);
void tr_anthropic_stop_fields(cJSON *o, enum tr_finish f, const char *stop_sequence);

/* Gemini: a text part, a part {"functionCall":{"id","name","args"}}, and a
 * GenerateContentResponse of one candidate with PARTS (taken), FINISH (NULL:
 * none yet) and U's usageMetadata (U NULL: none). */
cJSON *tr_gemini_text_part(const char *text);
cJSON *tr_gemini_call_part(const char *id, const char *name, const char *args);
cJSON *tr_gemini_response(cJSON *parts, const char *finish, const struct tr_usage *u,
                          const char *model, const char *id);

/* What a non-streamed chat completion says, from choices[0]
 * (translate_response.c reads it; each wire's answer() shapes it). */
struct tr_answer {
  const char *id, *model;
  double created;
  struct tr_buf text;
  const cJSON *calls; /* message.tool_calls */
  enum tr_finish finish;
  const char *stop_sequence; /* vLLM's stop_reason, when a string matched */
  struct tr_usage usage;
};

/* One tool call of the answer as the wire's item, block or part. */
typedef cJSON *tr_call_item_fn(const struct cab_translate_ctx *ctx, const char *id,
                               const char *name, const char *args);

/* Append the answer's tool calls to ARR, as ITEM makes them.  A call
 * without an id gets "call_<chat id>_<i>". */
void tr_answer_add_calls(const struct cab_translate_ctx *ctx, const struct tr_answer *a,
                         cJSON *arr, tr_call_item_fn *item);

/* Anthropic stop_reason / Gemini finishReason. */
const char *tr_anthropic_stop(enum tr_finish f, const char *stop_sequence);
const char *tr_gemini_finish(enum tr_finish f);

/* A stream chunk's {"error": ...} in the wire's shape (translate_error.c). */
cJSON *tr_error_object(enum cab_wire wire, int http_status, const char *message,
                       const char *type, const char *code);
/* The error shapes wires share (ops.error): OpenAI's {"error":{"message",
 * "type","param","code"}}, Anthropic's {"type":"error","error":{"type",
 * "message"}}, Gemini's {"error":{"code","message","status"}}. */
cJSON *tr_error_openai(int http_status, const char *message, const char *type, const char *code);
cJSON *tr_error_anthropic(int http_status, const char *message, const char *type,
                          const char *code);
cJSON *tr_error_gemini(int http_status, const char *message, const char *type, const char *code);

/* --- the stream (translate_stream*.c) -------------------------------------- */

enum tr_call_state { TR_CALL_HELD, TR_CALL_OPEN, TR_CALL_CLOSED };

/* One tool call of the chat stream, by its tool_calls[].index. */
struct tr_call {
  int index;
  char *id, *name;
  struct tr_buf args;
  size_t checked;     /* args.len when last found incomplete */
  enum tr_call_state state;
  int out_index;      /* Responses output_index / Anthropic block index */
};

struct cab_sse_translator {
  const struct cab_translate_ctx *ctx;
  const struct tr_emitter *emit;
  /* SSE input: the unfinished line and the event's data lines */
  struct tr_buf line, data;
  bool skip_lf, has_data;
  /* client bytes produced by this feed/finish call */
  struct tr_buf out;
  /* what upstream said */
  char *id, *model;
  double created;
  char finish[32];
  char *stop_sequence;
  struct tr_usage usage;
  /* progress: start events sent, blocks closed, final events sent */
  bool started, closed, ended;
  bool text_open;
  struct tr_buf text;      /* the open text block's text so far */
  struct tr_buf late_text; /* text that came while a call was open */
  struct tr_call **calls;  /* in order of arrival */
  size_t n_calls;
  struct tr_call *live;    /* the call being streamed */
  int next_index;
  int text_index;
  /* for the wire's emitter, whichever it uses */
  int events;              /* events sent (Responses' sequence_number, Gemini's
                              chunks: the JSON array's commas) */
  cJSON *items;            /* what the final event gathers (Responses' finished
                              output items, Gemini's function call parts) */
  struct tr_buf held;      /* a text delta not yet sent (Gemini: the last) */
  bool has_held;
};

/* One wire's stream: what it writes (into t->out) at each step of the
 * sequencer (translate_stream.c).  A NULL step writes nothing.  t->id and
 * t->model are set before start. */
struct tr_emitter {
  void (*start)(struct cab_sse_translator *t);
  void (*text_open)(struct cab_sse_translator *t);   /* block t->text_index */
  void (*text_delta)(struct cab_sse_translator *t, const char *s);
  void (*text_close)(struct cab_sse_translator *t);  /* whole text in t->text */
  void (*call_open)(struct cab_sse_translator *t, struct tr_call *c);
  void (*call_delta)(struct cab_sse_translator *t, struct tr_call *c, const char *s);
  void (*call_close)(struct cab_sse_translator *t, struct tr_call *c);
  void (*final)(struct cab_sse_translator *t);       /* usage, finish known */
  void (*error)(struct cab_sse_translator *t, int status, const char *message,
                const char *code);
};

/* Each wire's ops.stream (wire_ops.h). */
extern const struct tr_emitter tr_emit_responses;  /* translate_stream_responses.c */
extern const struct tr_emitter tr_emit_anthropic;  /* translate_stream_anthropic.c */
extern const struct tr_emitter tr_emit_gemini;     /* translate_stream_gemini.c */

/* Append "event: EVENT\n" (when not NULL), PREFIX, DATA's JSON (deleted)
 * and SUFFIX to t->out. */
void tr_stream_send(struct cab_sse_translator *t, const char *event, const char *prefix,
                    cJSON *data, const char *suffix);

/* The same for an SSE event named by DATA's "type" (Responses, Anthropic). */
void tr_stream_send_typed(struct cab_sse_translator *t, cJSON *data);

/* The sequencer's input: one chat chunk, and the end of the stream
 * ([DONE] or finish(); sends the final events once). */
void tr_stream_chunk(struct cab_sse_translator *t, const cJSON *chunk);
void tr_stream_end(struct cab_sse_translator *t);

/* The stream's finish, calls made counting as tool calls. */
enum tr_finish tr_stream_finish(const struct cab_sse_translator *t);

#endif
