"""Hybrid search: exact dense search held in memory, and the rank fusion past the first hits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rag import sentence_vectors as sv
from rag.assistant import Assistant
from rag.config import Settings
from rag.dense import DenseIndex
from rag.retrieve import HEAD

TOPICS = [
    ("navy", "The navy held drills near the island in {m}. Sailors practised search and rescue."),
    ("budget", "The defence budget grew in {m}. Parliament approved the new spending plan."),
    ("missile", "A missile test was detected in {m}. Radar data was shared within minutes."),
    ("summit", "Leaders met at a summit in {m}. They signed a statement on maritime security."),
    ("cyber", "A cyber attack hit a port in {m}. Engineers restored the systems after two days."),
]
MONTHS = ["January", "March", "May", "July", "September"]


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory, model_cache: Path) -> Assistant:
    """An index of 25 short notes: more chunks than the head of a search."""
    root = tmp_path_factory.mktemp("many")
    (root / "corpus").mkdir()
    for topic, text in TOPICS:
        for month in MONTHS:
            (root / "corpus" / f"{topic}-{month}.txt").write_text(text.format(m=month) + "\n")
    s = Settings(corpus_dir=root / "corpus", index_dir=root / "index", model_cache_dir=model_cache)
    assistant = Assistant.from_settings(s)
    assistant.index()
    return assistant


def test_a_deep_search_keeps_the_head_and_returns_each_chunk_once(many: Assistant) -> None:
    searcher = many.searcher()
    total = searcher.store.count()
    assert total > HEAD + 5
    deep = searcher.search("missile radar data shared", k=total)
    head = searcher.search("missile radar data shared", k=HEAD)
    assert [h.id for h in deep[:HEAD]] == [h.id for h in head]
    assert len({h.id for h in deep}) == len(deep) == total
    assert Path(deep[0].metadata["source"]).name.startswith("missile-")


def test_past_the_head_a_chunk_with_a_matching_sentence_moves_up(
    many: Assistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunk cosine and BM25 put the target last; its best sentence is the question itself."""
    searcher = many.searcher()
    ids = searcher.store.ids()
    target = ids[-1]
    kept = searcher.store.sentence_vectors([target])[target]
    vectors = sv.matrix(kept, searcher.embedder.dimension, searcher.embedder.backend)
    assert vectors is not None
    qvec = vectors[0]
    order = np.arange(len(ids))
    falling = np.linspace(1.0, 0.0, len(ids))  # both signals rank the chunks in id order

    with_sentences = searcher._deeper(order, ids, falling, falling * 10, qvec).tolist()
    monkeypatch.setattr(searcher.store, "sentence_vectors", lambda ids: {})  # an index without them
    without = searcher._deeper(order, ids, falling, falling * 10, qvec).tolist()

    assert with_sentences[:HEAD] == without[:HEAD] == list(range(HEAD))
    assert without[-1] == len(ids) - 1  # the target, last
    assert with_sentences.index(len(ids) - 1) < len(ids) - 1
    assert sorted(with_sentences) == list(range(len(ids)))


def test_exact_search_in_memory_agrees_with_chroma(many: Assistant) -> None:
    store = many.indexer.store
    in_memory, hnsw = DenseIndex(store, 10**6), DenseIndex(store, 0)
    assert in_memory.in_memory and not hnsw.in_memory
    assert not DenseIndex(store, store.count() - 1).in_memory  # over the limit: Chroma's index
    qvec = many.indexer.embedder.encode(["leaders signed a maritime statement"])[0]
    a, b = in_memory.nearest(qvec, 8), hnsw.nearest(qvec, 8)
    assert list(a) == list(b)
    assert max(abs(a[c] - b[c]) for c in a) < 1e-4
    ids = store.ids()
    a, b = in_memory.cosines(qvec, ids + ["no-such-chunk"]), hnsw.cosines(qvec, ids)
    assert set(a) == set(b) == set(ids)
    assert max(abs(a[c] - b[c]) for c in a) < 1e-4


def test_chunks_written_after_the_vectors_were_read_are_still_scored(seeded: Settings) -> None:
    assistant = Assistant.from_settings(seeded)
    assistant.index()
    store = assistant.indexer.store
    dense = DenseIndex(store, 10**6)
    before = set(store.ids())
    (seeded.corpus_dir / "new.txt").write_text("Coast guards of the three nations met in Busan in May.\n")
    assistant.index()
    new = [c for c in store.ids() if c not in before]
    assert new
    qvec = assistant.indexer.embedder.encode(["coast guard meeting in Busan"])[0]
    assert set(dense.cosines(qvec, new)) == set(new)
    # a searcher made after the sync holds the new chunk's vector and finds it first
    hits: list[Any] = assistant.searcher().search("coast guard meeting in Busan", k=3)
    assert hits[0].id in new and assistant.searcher().dense.in_memory
