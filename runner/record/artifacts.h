/* The names of the files a cell directory holds.  Every reader and writer
 * of a cell (run-cell, the scorers, results, report, sweep, merge, tasks)
 * names them through these, so that renaming one is one edit. */
#ifndef CAB_RUNNER_RECORD_ARTIFACTS_H
#define CAB_RUNNER_RECORD_ARTIFACTS_H

#define CAB_CELL_JSON "cell.json"                  /* the record: identity, outcome, scores */
#define CAB_CELL_MODEL_CALLS "model_calls.jsonl"   /* one line per call through the proxy */
#define CAB_CELL_TRACE "trace.otlp.json"           /* the phases as OTLP spans */
#define CAB_CELL_AGENT_LOG "agent.log"             /* the agent's stdout and stderr */
#define CAB_CELL_VERIFY_LOG "verify.log"           /* the verifier's stdout and stderr */
#define CAB_CELL_TERMINAL_CAST "terminal.cast"     /* the agent's terminal, asciicast v2 */
#define CAB_CELL_DIFF "diff.patch"                 /* the workdir's change, as a patch */
#define CAB_CELL_CHANGES "changes.json"            /* the workdir's change, path by path */
#define CAB_CELL_VERIFY_REWARD "verify-reward.json" /* a reward task's rewards, as read by cab */

#endif
