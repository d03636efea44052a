/* Tests for runner/record/: the results tree's names and paths, and the
 * one walker with its rules (hidden, staging, aside and attempt
 * directories) on a real tree, and the reader of model_calls.jsonl. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "runner/record/artifacts.h"
#include "runner/record/cell_record.h"
#include "runner/record/layout.h"
#include "runner/record/model_calls.h"
#include "runner/record/walk.h"
#include "tests/unit/test_tmpdir.h"

CAB_TEST_TMPDIR("record")

/* ROOT/REL/cell.json, with its parents. */
static void
put_cell(const char *rel)
{
  char cmd[512];
  snprintf(cmd, sizeof cmd, "mkdir -p '%s/%s' && echo '{}' > '%s/%s/" CAB_CELL_JSON "'", root, rel,
           root, rel);
  assert_int_equal(system(cmd), 0);
}

/* Attempt directories: "X.attempt-N" and ".attempt-N", nothing else. */
static void
test_attempt_suffix(void **state)
{
  (void)state;
  size_t stem;
  assert_int_equal(cab_record_attempt_suffix("python-reverse-string.attempt-2", &stem), 2);
  assert_int_equal(stem, strlen("python-reverse-string"));
  assert_int_equal(cab_record_attempt_suffix("run-3.attempt-12", &stem), 12);
  assert_int_equal(stem, 5);
  assert_int_equal(cab_record_attempt_suffix(".attempt-1", &stem), 1);
  assert_int_equal(stem, 0);
  assert_int_equal(cab_record_attempt_suffix("task.attempt-", NULL), 0);
  assert_int_equal(cab_record_attempt_suffix("task.attempt-0", NULL), 0);
  assert_int_equal(cab_record_attempt_suffix("task.attempt-1x", NULL), 0);
  assert_int_equal(cab_record_attempt_suffix("task-attempt-1", NULL), 0);
  assert_int_equal(cab_record_attempt_suffix("run-1", NULL), 0);
}

static void
test_asides(void **state)
{
  (void)state;
  assert_true(cab_record_is_aside("run-1.old-123"));
  assert_false(cab_record_is_aside(".old-123"));
  assert_false(cab_record_is_aside("run-1.old-"));
  assert_false(cab_record_is_aside("run-1.old-12x"));
  assert_int_equal(cab_record_aside_of("run-1.old-123", "run-1"), 123);
  assert_int_equal(cab_record_aside_of("run-12.old-123", "run-1"), 0);
  assert_int_equal(cab_record_aside_of("run-1.old-12x", "run-1"), 0);
}

static void
test_paths(void **state)
{
  (void)state;
  cab_error err = {0};
  char buf[PATH_MAX];
  assert_int_equal(cab_record_cell_dir(buf, sizeof buf, "out", "s", "nop", "vendor/m",
                                       "polyglot/t", 2, &err), 0);
  assert_string_equal(buf, "out/s/nop/vendor/m/polyglot/t/run-2");
  assert_int_equal(cab_record_cell_dir(buf, sizeof buf, "out", "s", "nop", "m", "f/t", 0, &err), 0);
  assert_string_equal(buf, "out/s/nop/m/f/t");
  char *key = cab_record_cell_key("nop", "vendor/m", "f/t", 3);
  assert_string_equal(key, "nop/vendor/m/f/t/run-3");
  free(key);

  /* too long is an error, never a shorter path */
  char small[16];
  assert_int_equal(cab_record_cell_dir(small, sizeof small, "out", "sweep", "nop", "m", "f/t", 1,
                                       &err), -1);
  assert_int_equal(err.errnum, ENAMETOOLONG);

  assert_int_equal(cab_record_staging_template(buf, sizeof buf, "p", "run-1", 42, &err), 0);
  assert_string_equal(buf, "p/.staging-run-1-42-XXXXXX");
  assert_int_equal(cab_record_merge_template(buf, sizeof buf, "p", "run-1", 42, &err), 0);
  assert_string_equal(buf, "p/.merge-run-1-42-XXXXXX");
  assert_int_equal(cab_record_sweep_dir(buf, sizeof buf, "out", "s", &err), 0);
  assert_string_equal(buf, "out/s");
  assert_int_equal(cab_record_sweep_meta_dir(buf, sizeof buf, "out", "s", &err), 0);
  assert_string_equal(buf, "out/s/.sweep");
  assert_int_equal(cab_record_aside_path(buf, sizeof buf, "p/run-1", 42, &err), 0);
  assert_string_equal(buf, "p/run-1.old-42");
  assert_true(cab_record_is_aside(strrchr(buf, '/') + 1));
  assert_int_equal(cab_record_attempt_path(buf, sizeof buf, "p/run-1", 2, &err), 0);
  assert_string_equal(buf, "p/run-1.attempt-2");
  assert_int_equal(cab_record_attempt_suffix(strrchr(buf, '/') + 1, NULL), 2);
}

static const struct cab_record_found *
find(const struct cab_record_found_list *l, const char *rel)
{
  for (size_t i = 0; i < l->n; i++)
    if (strcmp(l->v[i].rel, rel) == 0)
      return &l->v[i];
  return NULL;
}

static void
test_walk(void **state)
{
  (void)state;
  put_cell("s/nop/m/f/t/run-1");
  put_cell("s/nop/m/f/t/run-1/inner");
  put_cell("s/nop/m/f/t/run-1.attempt-2");
  put_cell("s/nop/m/f/u/.attempt-1");
  put_cell("s/nop/m/f/t/run-1.old-77");
  put_cell("s/nop/m/f/t/.staging-run-1-77-abcdef");
  put_cell("s/.sweep/x");

  cab_error err = {0};
  struct cab_record_found_list l;
  assert_int_equal(cab_record_walk(root, 0, &l, &err), 0);
  assert_int_equal(l.n, 4);
  for (size_t i = 1; i < l.n; i++)
    assert_true(strcmp(l.v[i - 1].rel, l.v[i].rel) < 0);
  const struct cab_record_found *f = find(&l, "s/nop/m/f/t/run-1");
  assert_non_null(f);
  assert_int_equal(f->attempt, 0);
  assert_int_equal(f->size, 3);
  assert_non_null(find(&l, "s/nop/m/f/t/run-1/inner"));
  f = find(&l, "s/nop/m/f/t/run-1.attempt-2");
  assert_non_null(f);
  assert_int_equal(f->attempt, 2);
  assert_string_equal(f->attempt_of, "s/nop/m/f/t/run-1");
  f = find(&l, "s/nop/m/f/u/.attempt-1");
  assert_non_null(f);
  assert_int_equal(f->attempt, 1);
  assert_string_equal(f->attempt_of, "s/nop/m/f/u");
  cab_record_found_free(&l);

  /* a cell's subdirectories go with it */
  assert_int_equal(cab_record_walk(root, CAB_RECORD_WALK_OUTERMOST, &l, &err), 0);
  assert_int_equal(l.n, 3);
  assert_null(find(&l, "s/nop/m/f/t/run-1/inner"));
  cab_record_found_free(&l);

  /* the root's own cell.json is "." and does not stop the walk */
  put_cell(".");
  assert_int_equal(cab_record_walk(root, CAB_RECORD_WALK_OUTERMOST, &l, &err), 0);
  assert_int_equal(l.n, 4);
  assert_non_null(find(&l, "."));
  cab_record_found_free(&l);
}

static void
test_walk_missing_root(void **state)
{
  (void)state;
  cab_error err = {0};
  struct cab_record_found_list l;
  char missing[128];
  snprintf(missing, sizeof missing, "%s/none", root);
  assert_int_equal(cab_record_walk(missing, CAB_RECORD_WALK_TOLERANT, &l, &err), -1);
  assert_int_equal(err.errnum, ENOENT);
  assert_int_equal(l.n, 0);
}

#define RECORD_FIXTURE "tests/fixtures/record"

/* A cell.json run-cell wrote: read typed, rendered back byte for byte. */
static void
test_cell_record_round_trip(void **state)
{
  (void)state;
  struct cab_cell_record r;
  cab_error err = {0};
  if (cab_cell_record_read(AT_FDCWD, RECORD_FIXTURE, &r, &err) < 0)
    fail_msg("%s", err.message);
  assert_string_equal(r.schema, CAB_CELL_SCHEMA);
  assert_string_equal(r.tui, "oracle");
  assert_string_equal(r.model_build_id, "cab/none");
  assert_string_equal(r.task_id, "polyglot/c-string-trim");
  assert_string_equal(r.family, "polyglot");
  assert_true(r.run.has && r.run.v == 2);
  assert_null(r.image_digest);
  assert_string_equal(r.outcome, "pass");
  assert_true(r.has_scores);
  assert_true(r.scores.pass_rate.pass.has && r.scores.pass_rate.pass.v == 1);
  assert_true(r.scores.composite.composite.has);
  assert_true(r.scores.refusal.not_applicable.has && r.scores.refusal.not_applicable.v == 1);
  assert_true(r.verify.exit_code.has && r.verify.exit_code.v == 0);
  assert_true(r.model.present);
  assert_string_equal(r.environment.scoring_profile, "codingagentbench-v0.1");
  assert_non_null(r.task);
  assert_non_null(r.spans);
  /* written before cell.json held the limits' values: none, and none added */
  assert_false(r.environment.limits.has_values);

  size_t len = 0;
  char *text = cab_cell_record_render(&r, &len);
  assert_non_null(text);
  char *want = NULL;
  size_t want_len = 0;
  assert_int_equal(cab_read_file_at(AT_FDCWD, RECORD_FIXTURE "/" CAB_CELL_JSON, 1 << 20, &want,
                                    &want_len, &err), 0);
  assert_int_equal(len, want_len);
  assert_memory_equal(text, want, len);
  free(text);
  free(want);
  cab_cell_record_free(&r);
}

/* What the writer prints for what is absent: null, in the published order. */
static void
test_cell_record_nulls(void **state)
{
  (void)state;
  struct cab_cell_record r = {
      .cell_id = "c", .sweep_id = "s", .tui = "nop", .container_image = "host-rootfs",
      .model_build_id = "m/x", .exit_code = {true, 0}, .task_id = "t/x", .family = "t",
      .started_at = "a", .ended_at = "b", .duration_s = {true, 0.5},
      .tokens_source = "proxy", .outcome = "fail", .outcome_reason = "r",
      .timing = {.wall_clock_ms = {true, 500}, .container_active_ms = {true, 1.25}},
      .verify = {.exit_code = {true, 1}, .wall_ms = {true, 3}},
      .environment = {.cab_version = "v", .scoring_profile = "p", .methodology_version = "1"},
  };
  size_t len = 0;
  char *text = cab_cell_record_render(&r, &len);
  assert_non_null(text);
  assert_string_equal(text,
      "{\n  \"schema\": \"cab.cell/v1\",\n  \"cell_id\": \"c\",\n  \"sweep_id\": \"s\",\n"
      "  \"tui\": \"nop\",\n  \"container_image\": \"host-rootfs\",\n  \"image_digest\": null,\n"
      "  \"model_build_id\": \"m/x\",\n  \"exit_code\": 0,\n  \"task_id\": \"t/x\",\n"
      "  \"family\": \"t\",\n  \"run\": null,\n  \"started_at\": \"a\",\n  \"ended_at\": \"b\",\n"
      "  \"duration_s\": 0.5,\n  \"tokens_source\": \"proxy\",\n  \"outcome\": \"fail\",\n"
      "  \"outcome_reason\": \"r\",\n  \"timing\": {\n    \"wall_clock_ms\": 500,\n"
      "    \"container_active_ms\": 1.25\n  },\n  \"verify\": {\n    \"exit_code\": 1,\n"
      "    \"timed_out\": false,\n    \"wall_ms\": 3\n  },\n  \"model\": {\n"
      "    \"network\": false,\n    \"model_calls\": null,\n    \"prompt_tokens\": null,\n"
      "    \"completion_tokens\": null,\n    \"total_tokens\": null,\n    \"model_call_ms\": null,\n"
      "    \"ok\": null,\n    \"infra_errors\": null,\n    \"client_errors\": null\n  },\n"
      "  \"task\": null,\n  \"environment\": {\n    \"cab_version\": \"v\",\n"
      "    \"scoring_profile\": \"p\",\n    \"methodology_version\": \"1\"\n  }\n}\n");
  free(text);
}

/* The limits' values go after the mechanisms that enforced them (with
 * run-cell's --timeout and --max-turns), and read back typed; a cpus of
 * none is null.  An older record (the fixture) has none of them. */
static void
test_cell_record_limits(void **state)
{
  (void)state;
  struct cab_cell_record r;
  cab_error err = {0};
  if (cab_cell_record_read(AT_FDCWD, RECORD_FIXTURE, &r, &err) < 0)
    fail_msg("%s", err.message);
  assert_false(r.environment.limits.has_values);
  assert_false(r.environment.limits.timeout_s.has || r.environment.limits.max_turns.has);
  r.environment.limits.has_values = true;
  r.environment.limits.memory_bytes = (struct cab_num){true, 536870912};
  r.environment.limits.cpus = (struct cab_num){false, 0};
  r.environment.limits.pids_max = (struct cab_num){true, 256};
  r.environment.limits.timeout_s = (struct cab_num){true, 1};
  r.environment.limits.max_turns = (struct cab_num){true, 7};
  size_t len = 0;
  char *text = cab_cell_record_render(&r, &len);
  assert_non_null(text);
  cab_cell_record_free(&r);
  assert_non_null(strstr(text, "\"limits\": {\n      \"memory\": \"cgroup-v1\",\n"
                               "      \"pids\": \"cgroup-v1\",\n"));
  assert_non_null(strstr(text, "\"disk\": \"watchdog (1.0 GiB, 100000 files; poll 200 ms)\",\n"
                               "      \"memory_bytes\": 536870912,\n      \"cpus\": null,\n"
                               "      \"pids_max\": 256,\n      \"timeout_s\": 1,\n"
                               "      \"max_turns\": 7\n    },\n"));
  struct cab_cell_record back;
  if (cab_cell_record_parse(text, len, "limits", &back, &err) < 0)
    fail_msg("%s", err.message);
  assert_true(back.environment.limits.has_values);
  assert_true(back.environment.limits.memory_bytes.has &&
              back.environment.limits.memory_bytes.v == 536870912);
  assert_false(back.environment.limits.cpus.has);
  assert_true(back.environment.limits.pids_max.has && back.environment.limits.pids_max.v == 256);
  assert_true(back.environment.limits.timeout_s.has && back.environment.limits.timeout_s.v == 1);
  assert_true(back.environment.limits.max_turns.has && back.environment.limits.max_turns.v == 7);
  /* and once more, unchanged */
  size_t len2 = 0;
  char *again = cab_cell_record_render(&back, &len2);
  assert_int_equal(len2, len);
  assert_memory_equal(again, text, len);
  free(again);
  free(text);
  cab_cell_record_free(&back);
}

/* The reader's errors name the file. */
static void
test_cell_record_errors(void **state)
{
  (void)state;
  struct cab_cell_record r;
  cab_error err = {0};
  assert_int_equal(cab_cell_record_parse("{\"a\":", 6, "x/cell.json", &r, &err),
                   CAB_CELL_RECORD_NOT_JSON);
  assert_non_null(strstr(err.message, "x/cell.json: not valid JSON (near byte"));
  err = (cab_error){0};
  assert_int_equal(cab_cell_record_parse("[1]", 3, "x/cell.json", &r, &err),
                   CAB_CELL_RECORD_NOT_OBJECT);
  assert_string_equal(err.message, "x/cell.json: not a JSON object");
  err = (cab_error){0};
  assert_int_equal(cab_cell_record_read(AT_FDCWD, "/nonexistent", &r, &err),
                   CAB_CELL_RECORD_UNREADABLE);
  assert_non_null(strstr(err.message, "/nonexistent/cell.json"));
  /* wrong types read as absent */
  const char *odd = "{\"tui\":1,\"run\":\"2\",\"scorers\":{\"pass_rate\":{\"pass\":true}}}";
  assert_int_equal(cab_cell_record_parse(odd, strlen(odd), "odd", &r, &err), 0);
  assert_null(r.tui);
  assert_false(r.run.has);
  assert_true(r.has_scores);
  assert_false(r.scores.pass_rate.pass.has);
  cab_cell_record_free(&r);
}

/* What the readers of model_calls.jsonl have always done with odd lines:
 * empty lines skipped, unparsable ones counted, a JSON non-object counted
 * unless ANY_JSON makes it a bare call (the trace's span). */
static const char CALLS[] =
    "{\"seq\":1,\"timestamp\":\"2026-01-02T03:04:05.678Z\",\"path\":\"/v1/chat/completions\","
    "\"prompt_tokens\":10,\"completion_tokens\":5,\"total_tokens\":15,\"latency_ms\":1.5,"
    "\"status\":200,\"error\":null}\n"
    "\n"
    "not json\n"
    "5\n"
    "{\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":3},\"latency_ms\":2}\n"
    "{\"prompt_tokens\":1e20,\"completion_tokens\":null,\"total_tokens\":0,\"error\":\"boom\"}";

struct seen {
  int calls, with_status, errors;
  double latency;
};

static void
see_call(const struct cab_model_call *c, void *arg)
{
  struct seen *s = arg;
  s->calls++;
  s->with_status += c->status.has;
  s->errors += c->error != NULL && !cJSON_IsNull(c->error);
  s->latency += c->latency_ms.has ? c->latency_ms.v : 0;
  if (c->seq.has) {
    assert_string_equal(c->path, "/v1/chat/completions");
    assert_true(c->prompt_tokens.v == 10 && c->total_tokens.v == 15);
  }
}

static void
test_model_calls(void **state)
{
  (void)state;
  struct seen s = {0};
  assert_int_equal(cab_model_calls_each(CALLS, strlen(CALLS), 0, see_call, &s), 2);
  assert_int_equal(s.calls, 3);
  assert_int_equal(s.with_status, 1);
  assert_int_equal(s.errors, 1);
  assert_true(s.latency == 3.5);
  s = (struct seen){0};
  assert_int_equal(cab_model_calls_each(CALLS, strlen(CALLS), CAB_MODEL_CALLS_ANY_JSON, see_call, &s),
                   1);
  assert_int_equal(s.calls, 4);
  assert_int_equal(cab_model_calls_each(NULL, 0, 0, see_call, &s), 0);

  /* The sum: nested usage counts, a missing total is prompt + completion,
   * an out-of-range count is the maximum. */
  struct cab_token_totals t;
  cab_model_calls_sum(CALLS, strlen(CALLS), &t);
  assert_int_equal(t.model_calls, 3);
  assert_int_equal(t.prompt_tokens, 10 + 7 + 4294967295);
  assert_int_equal(t.completion_tokens, 5 + 3);
  assert_int_equal(t.total_tokens, 15 + 10 + 4294967295);
  assert_true(t.model_call_ms == 3.5);

  assert_true(cab_model_call_time_ns("2026-01-02T03:04:05.678Z") ==
              INT64_C(1767323045) * 1000000000 + 678000000);
  assert_true(cab_model_call_time_ns("2026-01-02T03:04:05.6Z") ==
              INT64_C(1767323045) * 1000000000 + 600000000);
  assert_true(cab_model_call_time_ns(NULL) == 0);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cell_record_round_trip),
      cmocka_unit_test(test_cell_record_nulls),
      cmocka_unit_test(test_cell_record_limits),
      cmocka_unit_test(test_cell_record_errors),
      cmocka_unit_test(test_attempt_suffix),
      cmocka_unit_test(test_asides),
      cmocka_unit_test(test_paths),
      cmocka_unit_test(test_model_calls),
      cmocka_unit_test_setup_teardown(test_walk, setup, teardown),
      cmocka_unit_test_setup_teardown(test_walk_missing_root, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
