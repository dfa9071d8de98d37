"""Web app latency: start-up on a built index, and time to the first streamed token.

    .venv/bin/python bench/app_bench.py [--runs 3] [--questions 5]

* start: `python app.py` launched → first HTTP 200 on / (the index is already built).
* first token: a question submitted → first partial answer, through the named streaming endpoint
  /answer_stream, both with gradio_client (Job iteration) and with raw HTTP (POST
  /gradio_api/call/v2/answer_stream, then the SSE stream); "cold" is the first question after
  start-up, "warm" the following ones. The total time to the final, verified answer is shown too.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [
    "What is Freedom Edge?",
    "Who is South Korea's defence minister?",
    "What does the data sharing mechanism exchange?",
    "Which country renewed a security pact with North Korea?",
    "Which institute publishes this commentary?",
    "On what strategies does the framework rest?",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(root: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(
        RAG_CORPUS_DIR=str(root / "corpus"),
        RAG_INDEX_DIR=str(root / "index"),
        RAG_PORT=str(port),
        RAG_MODEL_CACHE_DIR=os.environ.get(
            "RAG_MODEL_CACHE_DIR", str(Path.home() / ".cache" / "trilateral-rag")
        ),
        HF_HUB_OFFLINE="1",
        GRADIO_ANALYTICS_ENABLED="False",
    )
    return env


@contextmanager
def app(root: Path) -> Iterator[tuple[str, float]]:
    """Start app.py; yields (url, seconds until the first HTTP 200 on /)."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py")],
        cwd=root,
        env=_env(root, port),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"app.py exited with {proc.returncode}")
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.05)
        yield url, time.perf_counter() - t0
    finally:
        proc.terminate()
        proc.wait(15)


def client_stream(client: object, question: str) -> tuple[float, float]:
    """(seconds to the first partial answer, seconds to the final answer) via gradio_client."""
    t0 = time.perf_counter()
    job = client.submit(question, api_name="/answer_stream")  # type: ignore[attr-defined]
    first = None
    for out in job:
        if first is None and out.get("text"):
            first = time.perf_counter() - t0
    job.result()
    total = time.perf_counter() - t0
    return first if first is not None else total, total


def http_stream(url: str, question: str) -> tuple[float, float]:
    """(seconds to the first SSE "generating" event, seconds to "complete") via plain HTTP."""
    t0 = time.perf_counter()
    req = urllib.request.Request(
        f"{url}gradio_api/call/v2/answer_stream",
        data=json.dumps({"question": question}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=60) as r:
        event_id = json.load(r)["event_id"]
    first = None
    with urllib.request.urlopen(f"{url}gradio_api/call/answer_stream/{event_id}", timeout=120) as r:
        for raw in r:
            line = raw.decode().strip()
            if line == "event: generating" and first is None:
                first = time.perf_counter() - t0
            if line in ("event: complete", "event: error"):
                break
    total = time.perf_counter() - t0
    return first if first is not None else total, total


def build_index(root: Path) -> None:
    (root / "corpus").mkdir(parents=True)
    for f in (ROOT / "corpus").iterdir():
        if f.is_file():
            shutil.copy(f, root / "corpus" / f.name)
    env = _env(root, 7860)  # the port is not used by `rag index`
    subprocess.run([sys.executable, "-m", "rag", "index"], cwd=root, env=env, check=True, capture_output=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3, help="app starts to time")
    ap.add_argument("--questions", type=int, default=5, help="warm questions per start")
    args = ap.parse_args()
    from gradio_client import Client

    rows: dict[str, list[float]] = {}

    def add(name: str, value: float) -> None:
        rows.setdefault(name, []).append(value)

    with tempfile.TemporaryDirectory(prefix="app-bench-") as tmp:
        root = Path(tmp)
        build_index(root)
        for run in range(args.runs):
            with app(root) as (url, started):
                add("start: launch → HTTP 200 on /", started)
                t0 = time.perf_counter()
                client = Client(url, verbose=False)
                add("gradio_client: Client(url) connect", time.perf_counter() - t0)
                qs = QUESTIONS[run % len(QUESTIONS) :] + QUESTIONS[: run % len(QUESTIONS)]
                first, total = client_stream(client, qs[0])
                add("first token, cold (1st question after start)", first)
                add("final answer, cold", total)
                for i in range(args.questions):
                    q = qs[(i + 1) % len(qs)]
                    first, total = client_stream(client, q)
                    add("first token, warm (gradio_client)", first)
                    add("final answer, warm (gradio_client)", total)
                    first, total = http_stream(url, q)
                    add("first token, warm (HTTP SSE)", first)
                    add("final answer, warm (HTTP SSE)", total)

    width = max(len(k) for k in rows)
    print(f"{'metric':<{width}}  {'median':>8}  {'min':>8}  {'max':>8}  {'n':>3}")
    for name, values in rows.items():
        med, lo, hi = (1000 * v for v in (statistics.median(values), min(values), max(values)))
        print(f"{name:<{width}}  {med:7.0f}ms  {lo:6.0f}ms  {hi:6.0f}ms  {len(values):>3}")
    print(f"\n{os.cpu_count()} CPUs; extractive answers (RAG_LLM_PROVIDER=none); corpus: {ROOT / 'corpus'}")


if __name__ == "__main__":
    main()
