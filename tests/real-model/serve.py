"""llama.cpp's own HTTP server (through the xllamacpp wheel) on 127.0.0.1.

    python serve.py --model FILE.gguf [--port N] [--ctx N] [--max-tokens N]

Prints "listening on http://127.0.0.1:PORT/v1" once the model is loaded
(port 0: a free one), then serves until SIGTERM/SIGINT.  Only configuration
lives here: the server, its OpenAI-compatible routes, its chat templates,
tool-call parsing and usage figures are llama.cpp's (tools/server), built
by the xllamacpp wheel.  Nothing is downloaded: offline mode, no -hf model,
no web UI.
"""
import argparse
import os
import signal
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import xllamacpp as xlc  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True, help="a GGUF file")
    ap.add_argument("--port", type=int, default=0, help="0: a free port")
    ap.add_argument("--slots", type=int, default=2,
                    help="requests served at once (opencode sends its title request beside its first turn)")
    ap.add_argument("--slot-ctx", type=int, default=3072,
                    help="context of one request, prompt and answer: the server stops an answer "
                         "when it fills it (finish_reason length), the only bound on an answer's "
                         "length, as a client's max_tokens wins over the server's default (opencode "
                         "asks for 16384); opencode's first turn is about 2600 tokens")
    ap.add_argument("--default-max-tokens", type=int, default=256,
                    help="an answer's length when a request gives no max_tokens (cab-agent does not)")
    ap.add_argument("--threads", type=int, default=1,
                    help="1: OpenMP threads spin at every barrier; on a shared 2-core host two of them ran 30x slower")
    a = ap.parse_args()
    if not os.path.isfile(a.model):
        sys.exit(f"serve.py: error: model file {a.model} not found; run 'make real-model'")

    p = xlc.CommonParams()
    p.model.path = a.model
    p.hostnames = ["127.0.0.1"]
    p.port = a.port
    p.n_ctx = a.slot_ctx * a.slots
    p.n_parallel = a.slots
    p.kv_unified = False        # each slot its own a.slot_ctx
    p.ctx_shift = False         # a full context ends the answer, never drops the prompt's head
    p.n_predict = a.default_max_tokens
    p.use_jinja = True          # the GGUF's own chat template; tool calls parsed from it
    p.offline = True            # never fetch a model or a template
    p.ui = False
    p.endpoint_metrics = True   # the server's own token counters, read by the test
    p.cpuparams.n_threads = a.threads
    p.cpuparams_batch.n_threads = a.threads
    p.sampling.seed = 1234
    server = xlc.Server(p)
    addr = server.listening_address
    print(f"listening on {addr}/v1", flush=True)

    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    del server


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    main()
