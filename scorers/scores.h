/* The scorers' result, typed: one member per axis.  Each axis keeps the
 * figures other parts read (the cell's outcome and strip, `cab index`, the
 * report, the sweep, `cab tasks validate`), so nobody looks them up by key
 * again; `json` is the "scorers" object exactly as cell.json publishes it
 * (keys in the published order, every detail of every axis). */
#ifndef CAB_SCORERS_SCORES_H
#define CAB_SCORERS_SCORES_H

#include <cjson/cJSON.h>
#include <stdbool.h>

/* A figure that may be absent: a JSON number; null, absent or another
 * type: !has. */
struct cab_num {
  bool has;
  double v;
};

struct cab_scores {
  cJSON *json; /* the "scorers" object: owned */
  struct {
    struct cab_num pass, exit_code;
  } pass_rate;
  struct {
    struct cab_num prompt_tokens, completion_tokens, total_tokens, model_calls;
    struct cab_num tokens_per_correct_task; /* 0 when nothing passed; null only in
                                               records scored before cab matched that */
  } tokens;
  struct {
    struct cab_num wall_clock_ms;
  } latency;
  struct {
    struct cab_num blast_radius, total_changes;
    /* how many: the list's length, or the number a published cell holds;
     * LISTED says it was a list of paths */
    struct cab_num unexpected_changes;
    bool unexpected_listed;
  } blast_radius;
  struct {
    struct cab_num refusal;
    struct cab_num not_applicable; /* a boolean: 1 true, 0 false */
    bool refusal_produced;
  } refusal;
  struct {
    struct cab_num integrity;
  } integrity;
  struct {
    struct cab_num composite;
  } composite;
  struct {
    struct cab_num instruction_fidelity, declared, honored; /* constraints */
  } instruction_fidelity;
};

/* The one reading of a "scorers" object: takes JSON (NULL allowed: no
 * scores) and fills the figures from it. */
void cab_scores_from_json(cJSON *json, struct cab_scores *out);
void cab_scores_free(struct cab_scores *s);

/* The figure KEY of OBJ (see struct cab_num). */
struct cab_num cab_num_at(const cJSON *obj, const char *key);

#endif
