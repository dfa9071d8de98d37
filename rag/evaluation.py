"""Evaluation: answer quality on a QA file, retrieval quality on a BEIR dataset."""

from __future__ import annotations

import gzip
import json
import math
import statistics
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .config import Settings
from .cpu import runtime
from .errors import RagError
from .schema import Answer


# --- QA -------------------------------------------------------------------------------
def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:  # type: ignore[operator]
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise RagError(f"{path}:{n}: not valid JSON ({exc.msg}); fix that line.") from exc


def judge(row: dict[str, Any], a: Answer) -> bool:
    """Is the answer right for this QA row?"""
    if not row.get("answerable", True):
        return a.abstained
    if a.abstained:
        return False
    text = a.text.lower()
    ok_any = not row.get("any") or any(s.lower() in text for s in row["any"])
    ok_all = all(s.lower() in text for s in row.get("all", []))
    return ok_any and ok_all


def citation_ok(assistant: Any, c: Any) -> bool:
    """Re-read the cited document and compare the quoted passage character for character."""
    try:
        return bool(assistant.document_text(c.source, c.page)[c.start : c.end] == c.text)
    except RagError:
        return False


def qa_eval(assistant: Any, path: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    rows_out = []
    for row in read_jsonl(path):
        history = [(q, a) for q, a in row.get("history", [])] or None
        t0 = time.perf_counter()
        a = assistant.answer(row["q"], history)
        ms = (time.perf_counter() - t0) * 1000
        bad = [c.marker for c in a.citations if not citation_ok(assistant, c)]
        rows_out.append(
            {
                "id": row.get("id", ""),
                "q": row["q"],
                "answerable": row.get("answerable", True),
                "correct": judge(row, a),
                "abstained": a.abstained,
                "unverifiable": len(bad),
                "ms": round(ms, 1),
                "query": a.query,
                "answer": a.text,
            }
        )
    ans = [r for r in rows_out if r["answerable"]]
    una = [r for r in rows_out if not r["answerable"]]
    lat = sorted(r["ms"] for r in rows_out) or [0.0]
    summary = {
        "questions": len(rows_out),
        "answerable_correct": f"{sum(r['correct'] for r in ans)}/{len(ans)}",
        "answerable_accuracy": round(sum(r["correct"] for r in ans) / max(1, len(ans)), 3),
        "unanswerable_abstained": f"{sum(r['correct'] for r in una)}/{len(una)}",
        "abstention_rate": round(sum(r["correct"] for r in una) / max(1, len(una)), 3),
        "unverifiable_citations": sum(r["unverifiable"] for r in rows_out),
        "latency_ms_p50": round(statistics.median(lat), 1),
        "latency_ms_max": round(lat[-1], 1),
    }
    return rows_out, summary


def format_qa(rows: list[dict[str, Any]], summary: dict[str, Any]) -> str:
    out = [f"{'id':<6} {'ok':<3} {'abst':<5} {'ms':>7}  question → answer"]
    for r in rows:
        mark = "✓" if r["correct"] else "✗"
        out.append(f"{r['id']:<6} {mark:<3} {str(r['abstained'])[0]:<5} {r['ms']:>7.1f}  {r['q']}")
        out.append(f"{'':<24}→ {r['answer'][:150]}")
    out.append("")
    out += [f"{k:>24}: {v}" for k, v in summary.items()]
    return "\n".join(out)


# --- BEIR -----------------------------------------------------------------------------
def ndcg_at(ranked: list[str], rels: dict[str, int], k: int = 10) -> float:
    dcg = sum(rels.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted(rels.values(), reverse=True)[:k]
    idcg = sum(r / math.log2(i + 2) for i, r in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at(ranked: list[str], rels: dict[str, int], k: int = 100) -> float:
    relevant = {d for d, r in rels.items() if r > 0}
    return len(relevant & set(ranked[:k])) / len(relevant) if relevant else 0.0


def load_beir(folder: Path, split: str) -> tuple[Path, dict[str, str], dict[str, dict[str, int]]]:
    corpus = next((folder / n for n in ("corpus.jsonl.gz", "corpus.jsonl") if (folder / n).exists()), None)
    if corpus is None or not (folder / "queries.jsonl").exists():
        raise RagError(f"{folder} is not a BEIR folder (needs corpus.jsonl[.gz], queries.jsonl, qrels/).")
    qrels: dict[str, dict[str, int]] = defaultdict(dict)
    qfile = folder / "qrels" / f"{split}.tsv"
    if not qfile.exists():
        splits = [p.stem for p in (folder / "qrels").glob("*.tsv")]
        raise RagError(f"No qrels split {split!r} at {qfile}; pick one of {splits}.")
    for line in qfile.read_text().splitlines()[1:]:
        q, d, s = line.split("\t")[:3]
        qrels[q][d] = int(s)
    queries = {q["_id"]: q["text"] for q in read_jsonl(folder / "queries.jsonl") if q["_id"] in qrels}
    return corpus, queries, dict(qrels)


def materialize_corpus(corpus: Path, target: Path) -> int:
    """Write one text file per BEIR document (title as front matter), skipping unchanged ones."""
    target.mkdir(parents=True, exist_ok=True)
    n = 0
    for doc in read_jsonl(corpus):
        title = doc.get("title", "").replace("\n", " ").replace('"', "'")
        body = f'---\ntitle: "{title}"\n---\n{doc["text"]}\n'
        path = target / f"{doc['_id']}.txt"
        if not path.exists() or path.read_text(encoding="utf-8") != body:
            path.write_text(body, encoding="utf-8")
        n += 1
    return n


def beir_settings(folder: Path, base: Settings) -> Settings:
    """Settings of a BEIR dataset's scratch index: one per dataset and embedding runtime (their
    vectors differ), kept in .cache/ beside the index folder for later runs to reuse."""
    backend = runtime(base.embedding_backend)
    scratch = base.index_dir.parent / ".cache" / f"beir-{folder.resolve().name}-{backend}"
    return base.model_copy(
        update={
            "corpus_dir": scratch / "corpus",
            "index_dir": scratch / "index",
            "chroma_url": "",
            "embedding_backend": backend,
        }
    )


def doc_ranking(hits: list[Any]) -> list[str]:
    """Chunk hits (best first) → document ids, each at the rank of its best chunk."""
    seen: dict[str, None] = {}
    for h in hits:
        seen.setdefault(Path(str(h.metadata["source"])).stem, None)
    return list(seen)


def beir_eval(
    folder: Path, base: Settings, split: str = "test", modes: tuple[str, ...] = ("dense", "keyword", "hybrid")
) -> dict[str, Any]:
    from .assistant import Assistant

    corpus, queries, qrels = load_beir(folder, split)
    settings = beir_settings(folder, base)
    materialize_corpus(corpus, settings.corpus_dir)
    assistant = Assistant.from_settings(settings)
    report = assistant.index()
    searcher = assistant.searcher()
    result: dict[str, Any] = {"dataset": folder.name, "split": split, "queries": len(queries),
                              "documents": len(report.files), "chunks": report.total_chunks}
    for mode in modes:
        nd, rc = [], []
        for qid, text in queries.items():
            ranked = doc_ranking(searcher.search(text, k=300, mode=mode))  # type: ignore[arg-type]
            nd.append(ndcg_at(ranked, qrels[qid]))
            rc.append(recall_at(ranked, qrels[qid]))
        result[mode] = {"ndcg@10": round(sum(nd) / len(nd), 4), "recall@100": round(sum(rc) / len(rc), 4)}
    return result


def format_beir(r: dict[str, Any]) -> str:
    size = f"{r['queries']} queries, {r['documents']} documents, {r['chunks']} chunks"
    out = [f"{r['dataset']} ({r['split']}): {size}",
           f"{'mode':<8} {'nDCG@10':>8} {'R@100':>8}"]
    for mode in ("dense", "keyword", "hybrid"):
        if mode in r:
            out.append(f"{mode:<8} {r[mode]['ndcg@10']:>8.4f} {r[mode]['recall@100']:>8.4f}")
    return "\n".join(out)
