"""Retrieval quality and latency on SciFact (BEIR layout).

Indexes SciFact into its own scratch index (kept in .cache/, re-used by later runs), prints
nDCG@10 and Recall@100 for dense, keyword and hybrid search on the test split, then warm
latency percentiles of retrieval and of a full extractive answer.

    .venv/bin/python bench/retrieval_bench.py [--split test|train] [--backend openvino-int8|onnx-int8|torch]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.assistant import Assistant  # noqa: E402
from rag.config import Settings  # noqa: E402
from rag.evaluation import beir_eval, beir_settings, format_beir, load_beir  # noqa: E402

SCIFACT = ROOT.parent / "shared" / "bench" / "scifact"


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", default="test")
    ap.add_argument("--backend", default="openvino-int8", choices=["openvino-int8", "onnx-int8", "torch"])
    ap.add_argument("--dense-weight", type=float, default=None)
    ap.add_argument("--candidates", type=int, default=None, help="candidates per side (default: settings)")
    ap.add_argument("--no-latency", action="store_true")
    args = ap.parse_args()
    overrides: dict[str, object] = {"embedding_backend": args.backend}
    if args.candidates is not None:
        overrides["candidates"] = args.candidates
    if args.dense_weight is not None:
        overrides["dense_weight"] = args.dense_weight
    base = Settings(**overrides)  # type: ignore[arg-type]
    if args.backend != "openvino-int8":  # its own scratch index: vectors differ between backends
        scratch = base.index_dir.parent / ".cache" / f"{args.backend}-index"
        base = base.model_copy(update={"index_dir": scratch})
    t0 = time.perf_counter()
    result = beir_eval(SCIFACT, base, split=args.split)
    print(format_beir(result))
    print(f"(evaluation incl. any indexing: {time.perf_counter() - t0:.0f} s; backend {args.backend}, "
          f"dense weight {base.dense_weight}, candidates {base.candidates})")
    if args.no_latency:
        return

    assistant = Assistant.from_settings(beir_settings(SCIFACT, base))
    searcher = assistant.searcher()
    _, queries, _ = load_beir(SCIFACT, args.split)
    texts = list(queries.values())[:200]
    for q in texts[:10]:  # warm up
        assistant.answer(q)
    retr, full = [], []
    for q in texts:
        t = time.perf_counter()
        searcher.search(q)
        retr.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        assistant.answer(q)
        full.append((time.perf_counter() - t) * 1000)
    print(f"\nwarm latency over {len(texts)} queries (ms)   p50     p95")
    print(f"  retrieval (hybrid, top {base.top_k})       "
          f"{statistics.median(retr):6.1f}  {pct(retr, .95):6.1f}")
    print(f"  full extractive answer            {statistics.median(full):6.1f}  {pct(full, .95):6.1f}")


if __name__ == "__main__":
    main()
