"""Retrieval quality and latency on SciFact (BEIR layout).

Indexes SciFact into its own scratch index (kept in .cache/, re-used by later runs), prints
nDCG@10 and Recall@100 for dense, keyword and hybrid search on the test split, then warm
latency percentiles of retrieval, of a full extractive answer and of a 300-hit retrieval.

    .venv/bin/python bench/retrieval_bench.py [--split test|train]
        [--backend auto|openvino-int8|onnx-int8|torch]
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
from rag.cpu import runtime  # noqa: E402
from rag.evaluation import beir_eval, beir_settings, format_beir, load_beir  # noqa: E402

SCIFACT = ROOT.parent / "shared" / "bench" / "scifact"


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", default="test")
    ap.add_argument("--backend", default="auto", choices=["auto", "openvino-int8", "onnx-int8", "torch"])
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
    t0 = time.perf_counter()
    result = beir_eval(SCIFACT, base, split=args.split)
    print(format_beir(result))
    print(f"(evaluation incl. any indexing: {time.perf_counter() - t0:.0f} s; "
          f"backend {runtime(base.embedding_backend)}, "
          f"dense weight {base.dense_weight}, candidates {base.candidates})")
    if args.no_latency:
        return

    assistant = Assistant.from_settings(beir_settings(SCIFACT, base))
    searcher = assistant.searcher()
    _, queries, _ = load_beir(SCIFACT, args.split)
    _, warm_up, _ = load_beir(SCIFACT, "train" if args.split == "test" else "test")
    for q in list(warm_up.values())[:10]:
        assistant.answer(q)
    # Separate questions for the two timings: a search keeps its query's vector, and an answer
    # to the same question would find it (its search then costs no embedding).
    texts = list(queries.values())
    half = min(150, len(texts) // 2)
    retr, full = [], []
    for q in texts[:half]:
        t = time.perf_counter()
        searcher.search(q)
        retr.append((time.perf_counter() - t) * 1000)
    for q in texts[half : 2 * half]:
        t = time.perf_counter()
        assistant.answer(q)
        full.append((time.perf_counter() - t) * 1000)
    deep = []  # a search past the first ten hits (the rank fusion of the tail), other queries
    for q in list(warm_up.values())[10:110]:
        t = time.perf_counter()
        searcher.search(q, k=300)
        deep.append((time.perf_counter() - t) * 1000)
    print(f"\nwarm latency over {half} + {half} queries (ms)  p50     p95")
    print(f"  retrieval (hybrid, top {base.top_k})       "
          f"{statistics.median(retr):6.1f}  {pct(retr, .95):6.1f}")
    print(f"  full extractive answer            {statistics.median(full):6.1f}  {pct(full, .95):6.1f}")
    print(f"  retrieval (hybrid, top 300; {len(deep)} other queries)"
          f" {statistics.median(deep):6.1f}  {pct(deep, .95):6.1f}")


if __name__ == "__main__":
    main()
