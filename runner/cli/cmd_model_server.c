/* cab model-server (--script FILE | --replay FILE) [--listen HOST:PORT] ... */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "runner/cli/options.h"
#include "runner/cli/commands.h"
#include "runner/model_api/cassette.h"
#include "runner/model_server/script.h"
#include "runner/model_server/server.h"

static const char model_server_usage[] =
    "usage: cab model-server (--script FILE | --replay FILE) [OPTIONS]\n"
    "\n"
    "Serve an OpenAI- and Anthropic-compatible model endpoint with no real model:\n"
    "answers come from a script (tests/model/README.md) or a recorded cassette.\n"
    "Prints 'listening on http://HOST:PORT/v1' first, then runs until SIGTERM or SIGINT.\n"
    "\n"
    "  --script FILE          answer turn by turn from this JSON script\n"
    "  --replay FILE          answer from this cassette (JSONL), no upstream\n"
    "  --replay-speed X       replay timing divided by X (default 1; 0: no waits)\n"
    "  --replay-match MODE    hash (default: a request must match exactly) or order\n"
    "                         (the next recorded request of the same method and path)\n"
    "  --record FILE          append every answer served to this cassette\n"
    "  --listen HOST:PORT     default 127.0.0.1:0 (a free port)\n"
    "  --listen-fd N          serve on an inherited listening socket instead\n";

/* Block the stop signals in every thread; the main thread waits for them. */
static int
wait_for_stop_signal(const sigset_t *set)
{
  int sig = 0;
  while (sigwait(set, &sig) != 0)
    ;
  return sig;
}

/* Start, say where, wait for SIGTERM/SIGINT/SIGHUP, stop. */
static int
serve(const struct cab_model_server_config *cfg, cab_error *err)
{
  /* The server's threads inherit the mask: only this thread takes the signals. */
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  signal(SIGPIPE, SIG_IGN);
  struct cab_model_server *srv;
  if (cab_model_server_start(cfg, &srv, err) < 0)
    return -1;
  printf("listening on %s\n", cab_model_server_url(srv));
  fflush(stdout);
  wait_for_stop_signal(&set);
  cab_model_server_stop(srv);
  return 0;
}

static int
parse_fd(const char *text)
{
  char *end;
  errno = 0;
  long v = strtol(text, &end, 10);
  if (errno || *end || end == text || v < 0 || v > 1 << 20)
    return -1;
  return (int)v;
}

int
cab_cmd_model_server(int argc, char **argv)
{
  static const struct option longopts[] = {
      {"script", required_argument, NULL, 's'},       {"replay", required_argument, NULL, 'r'},
      {"replay-speed", required_argument, NULL, 'x'}, {"replay-match", required_argument, NULL, 'm'},
      {"record", required_argument, NULL, 'R'},       {"listen", required_argument, NULL, 'l'},
      {"listen-fd", required_argument, NULL, 'f'},    {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  const char *script_path = NULL, *replay_path = NULL, *record_path = NULL, *match = "hash";
  struct cab_model_server_config cfg = {.replay_speed = 1, .listen_fd = -1, .log = stderr};
  cab_error err = {0};
  int opt;
  opterr = 0;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
    switch (opt) {
    case 's': script_path = optarg; break;
    case 'r': replay_path = optarg; break;
    case 'R': record_path = optarg; break;
    case 'l': cfg.listen = optarg; break;
    case 'm': match = optarg; break;
    case 'x': {
      char *end;
      cfg.replay_speed = strtod(optarg, &end);
      if (*end || end == optarg || cfg.replay_speed < 0) {
        cab_error_set(&err, 0, "model-server: --replay-speed '%s': expected a number >= 0 "
                               "(1 = as recorded, 0 = no waits)", optarg);
        return cab_cli_fail(&err);
      }
      break;
    }
    case 'f':
      if ((cfg.listen_fd = parse_fd(optarg)) < 0) {
        cab_error_set(&err, 0, "model-server: --listen-fd '%s': expected a file descriptor number",
                      optarg);
        return cab_cli_fail(&err);
      }
      break;
    case 'h': fputs(model_server_usage, stdout); return 0;
    default: return cab_cli_option_error("model-server", longopts, argv);
    }
  }
  if (optind != argc || (script_path == NULL) == (replay_path == NULL))
    return cab_cli_usage_error("model-server", "give exactly one of --script FILE and --replay FILE");
  if (strcmp(match, "hash") != 0 && strcmp(match, "order") != 0) {
    cab_error_set(&err, 0, "model-server: --replay-match '%s': expected hash or order", match);
    return cab_cli_fail(&err);
  }

  struct cab_script *script = NULL;
  struct cab_cassette *cassette = NULL;
  struct cab_cassette_writer *writer = NULL;
  if (script_path && cab_script_load(script_path, &script, &err) < 0)
    return cab_cli_fail(&err);
  if (replay_path) {
    if (cab_cassette_load(replay_path, &cassette, &err) < 0)
      return cab_cli_fail(&err);
    cab_cassette_set_mode(cassette, strcmp(match, "order") == 0 ? CAB_CASSETTE_MATCH_ORDER
                                                               : CAB_CASSETTE_MATCH_HASH);
  }
  int rc = 0;
  if (record_path && cab_cassette_writer_open(record_path, &writer, &err) < 0)
    rc = -1;
  cfg.script = script;
  cfg.cassette = cassette;
  cfg.record = writer;
  if (rc == 0)
    rc = serve(&cfg, &err);
  cab_cassette_writer_close(writer);
  cab_cassette_free(cassette);
  cab_script_free(script);
  return rc < 0 ? cab_cli_fail(&err) : 0;
}
