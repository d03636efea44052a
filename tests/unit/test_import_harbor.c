/* Tests for runner/task/import_harbor_dockerfile.c: what cab applies from a
 * Dockerfile without building (FROM, WORKDIR, ENV, COPY into WORKDIR, USER
 * root), what it ignores with a note, and what it refuses, by line; a
 * prebuilt image's Dockerfile is read only for its last WORKDIR. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "runner/task/import_harbor.h"

static char *
joined(const struct cab_strv *v)
{
  size_t n = 1;
  for (size_t i = 0; i < v->n; i++)
    n += strlen(v->v[i]) + 1;
  char *s = calloc(1, n);
  for (size_t i = 0; i < v->n; i++) {
    strcat(s, v->v[i]);
    strcat(s, "|");
  }
  return s;
}

static void
test_applied(void **state)
{
  const char *text = "# syntax=docker/dockerfile:1\n"
                     "FROM registry.example/base@sha256:abc AS env\n"
                     "WORKDIR /srv\n"
                     "WORKDIR app\n"
                     "ENV A=1 B=\"two words\" \\\n"
                     "    C=3\n"
                     "ENV LEGACY some value\n"
                     "COPY --chown=1000 src/ ./src/\n"
                     "COPY [\"a.txt\", \"b.txt\", \"sub/\"]\n"
                     "COPY one.sh /srv/app/bin/run.sh\n"
                     "COPY dir .\n"
                     "USER root\n"
                     "EXPOSE 80\n"
                     "CMD [\"sleep\", \"infinity\"]\n";
  struct cab_harbor_dockerfile d;
  cab_error err = {0};
  if (cab_harbor_dockerfile_parse(text, "Dockerfile", false, &d, &err) < 0)
    fail_msg("%s", err.message);
  assert_string_equal(d.from, "registry.example/base@sha256:abc");
  assert_string_equal(d.workdir, "/srv/app");
  char *env = joined(&d.env), *copies = joined(&d.copies), *notes = joined(&d.notes);
  assert_string_equal(env, "A=1|B=two words|C=3|LEGACY=some value|");
  assert_string_equal(copies, "src/|src/|a.txt|sub/|b.txt|sub/|one.sh|bin/run.sh|dir||");
  assert_string_equal(notes, "Dockerfile:8: COPY --chown=1000 ignored: the agent's files are the "
                             "sandbox user's|Dockerfile:13: EXPOSE ignored (it changes nothing the "
                             "agent or the verifier sees)|Dockerfile:14: CMD ignored (it changes "
                             "nothing the agent or the verifier sees)|");
  free(env);
  free(copies);
  free(notes);
  cab_harbor_dockerfile_free(&d);
}

static void
test_refused(void **state)
{
  static const char *const cases[][2] = {
      {"FROM b\nWORKDIR /app\nRUN make\n",
       "Dockerfile:3: RUN: cab builds no image; build it elsewhere, push it to a registry and "
       "name it as [environment] docker_image"},
      {"FROM b\nWORKDIR /app\nADD https://x/y.tar /app/\n",
       "Dockerfile:3: ADD is not supported: cab applies only FROM, WORKDIR, ENV, COPY and USER "
       "root without building"},
      {"ARG V=1\nFROM b:$V\n",
       "Dockerfile:1: ARG before FROM: cab reads no ARG or other instruction before FROM"},
      {"FROM a\nWORKDIR /app\nFROM b\n",
       "Dockerfile:3: a second FROM (a multi-stage build): cab builds no image; use one FROM"},
      {"FROM b\nWORKDIR /app\nCOPY x /etc/x\n",
       "Dockerfile:3: COPY to /etc/x, outside WORKDIR /app: cab carries only the WORKDIR into "
       "the task (it makes no image layer); copy into WORKDIR"},
      {"FROM b\nWORKDIR /app\nCOPY ../secret .\n",
       "Dockerfile:3: COPY source '../secret': only plain paths inside the build context (no "
       "'..', wildcards or variables)"},
      {"FROM b\nWORKDIR /app\nCOPY *.py .\n",
       "Dockerfile:3: COPY source '*.py': only plain paths inside the build context (no '..', "
       "wildcards or variables)"},
      {"FROM b\nWORKDIR /app\nCOPY --from=build /out .\n",
       "Dockerfile:3: COPY --from=build is not supported: cab builds no image; copy from the "
       "build context only"},
      {"FROM b\nCOPY x .\n",
       "Dockerfile:2: COPY before WORKDIR: cab puts the copied files in the task's workdir, so "
       "set WORKDIR first"},
      {"FROM b\nWORKDIR /app\nUSER 1000\n",
       "Dockerfile:3: USER 1000: cab runs the agent and the verifier as the image's root (in a "
       "user namespace); a task needing another user cannot be imported yet"},
      {"FROM b\nWORKDIR /app\nENV P=$HOME/bin\n",
       "Dockerfile:3: ENV with $ expansion is not supported; write the value out"},
      {"FROM b\nWORKDIR /\n",
       "Dockerfile:2: WORKDIR / : cab mounts the task's files at WORKDIR, which cannot be the "
       "root"},
      {"FROM b\n",
       "Dockerfile: no WORKDIR: cab mounts the task's files at the Dockerfile's WORKDIR; add one "
       "(Harbor tasks use WORKDIR /app)"},
      {"# only a comment\n", "Dockerfile: no FROM"},
      {"FROM b\nWORKDIR /app\nENV A=\"unclosed\n",
       "Dockerfile:3: ENV: cannot read its arguments (quotes?)"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    struct cab_harbor_dockerfile d;
    cab_error err = {0};
    if (cab_harbor_dockerfile_parse(cases[i][0], "Dockerfile", false, &d, &err) == 0)
      fail_msg("accepted: %s", cases[i][0]);
    assert_string_equal(err.message, cases[i][1]);
    assert_null(d.from);
  }
}

static void
test_prebuilt(void **state)
{
  const char *text = "ARG BASE=python:3.12\n"
                     "FROM ${BASE} AS build\n"
                     "WORKDIR /src\n"
                     "RUN pip install x\n"
                     "FROM ${BASE}\n"
                     "WORKDIR /app\n"
                     "COPY --from=build /src /app\n"
                     "ADD data.tgz /data\n";
  struct cab_harbor_dockerfile d;
  cab_error err = {0};
  if (cab_harbor_dockerfile_parse(text, "Dockerfile", true, &d, &err) < 0)
    fail_msg("%s", err.message);
  assert_string_equal(d.workdir, "/app");
  assert_int_equal(d.copies.n, 0);
  cab_harbor_dockerfile_free(&d);
  /* still read: USER, and a stage without WORKDIR */
  assert_int_equal(cab_harbor_dockerfile_parse("FROM a\nWORKDIR /app\nUSER nobody\n",
                                               "Dockerfile", true, &d, &err), -1);
  assert_int_equal(cab_harbor_dockerfile_parse("FROM a\nWORKDIR /app\nFROM b\n", "Dockerfile",
                                               true, &d, &err), -1);
  assert_string_equal(err.message, "Dockerfile: no WORKDIR: cab mounts the task's files at the "
                                   "Dockerfile's WORKDIR; add one (Harbor tasks use WORKDIR /app)");
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_applied),
      cmocka_unit_test(test_refused),
      cmocka_unit_test(test_prebuilt),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
