"""Index benchmark on SciFact (5,183 abstracts, one file each).

Runs `rag index` in a fresh process (end to end: start-up, imports, model load, extraction,
chunking, embedding, Chroma writes, keyword index) on an empty index, then again with nothing
changed, and prints time, documents/s, chunks/s and peak RSS of each run.

    .venv/bin/python bench/index_bench.py [--backend auto|openvino-int8|onnx-int8|torch] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.cpu import runtime  # noqa: E402
from rag.evaluation import materialize_corpus  # noqa: E402

SCIFACT = ROOT.parent / "shared" / "bench" / "scifact" / "corpus.jsonl.gz"


def run_index(env: dict[str, str]) -> tuple[float, float, dict]:
    """(seconds, peak RSS MB of this child alone, report) for one `rag index --json` run."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        cmd = [sys.executable, "-m", "rag", "index", "--json"]
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage, unlike RUSAGE_CHILDREN
        seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode not in (0, 1):
            sys.exit(f"rag index failed:\n{err.read()[-3000:]}")
        return seconds, usage.ru_maxrss / 1024, json.loads(out.read())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", default="auto", choices=["auto", "openvino-int8", "onnx-int8", "torch"])
    ap.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="index-bench-"))
    corpus = work / "corpus"
    t0 = time.perf_counter()
    n_docs = materialize_corpus(SCIFACT, corpus)
    prep = time.perf_counter() - t0
    env = dict(os.environ)
    env.update(
        RAG_CORPUS_DIR=str(corpus),
        RAG_INDEX_DIR=str(work / "index"),
        RAG_EMBEDDING_BACKEND=args.backend,
        HF_HUB_OFFLINE="1",
    )
    env.pop("RAG_CHROMA_URL", None)
    # Make sure the one-off ONNX export is not billed to the index run (it is cached per machine).
    warm = "from rag.config import Settings; from rag.embeddings import Embedder; " \
           "Embedder(Settings()).warm_up()"
    subprocess.run([sys.executable, "-c", warm], env=env, check=True, capture_output=True)

    full_s, full_rss, full = run_index(env)
    again_s, again_rss, again = run_index(env)
    chunks = full["total_chunks"]
    print(f"SciFact corpus: {n_docs} documents written as files in {prep:.1f} s (not timed below)")
    backend = runtime(args.backend)  # "auto" → this CPU's fastest (a new index)
    print(f"backend: {backend}   cpus: {os.cpu_count()}")
    print(f"{'run':<22} {'seconds':>8} {'docs/s':>8} {'chunks/s':>9} {'peak RSS MB':>12}  counts")
    print(f"{'full index (empty)':<22} {full_s:>8.1f} {n_docs / full_s:>8.1f} {chunks / full_s:>9.1f} "
          f"{full_rss:>12.0f}  {full['counts']}")
    print(f"{'re-index, unchanged':<22} {again_s:>8.2f} {n_docs / again_s:>8.0f} {'-':>9} "
          f"{again_rss:>12.0f}  {again['counts']}")
    print(f"chunks: {chunks}; in-process sync time of the unchanged run: {again['seconds']:.2f} s")
    if args.keep:
        print(f"kept: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
