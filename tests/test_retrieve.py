"""Hybrid search: exact dense search held in memory, and the rank fusion past the first hits."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from rag import sentence_vectors as sv
from rag.assistant import Assistant
from rag.config import Settings
from rag.dense import DenseIndex
from rag.retrieve import HEAD, HybridSearcher, _ranks
from rag.store import Store

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
    scores = [h.score for h in deep]
    assert scores == sorted(scores, reverse=True) and scores[-1] > 0
    assert Path(deep[0].metadata["source"]).name.startswith("missile-")


def test_past_the_head_a_chunk_with_a_matching_sentence_moves_up(
    many: Assistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunk cosine and BM25 put the target last; its best sentence is the question itself."""
    searcher = many.searcher()
    ids = searcher.store.ids()
    target = ids[-1]
    kept = {c.id: c.metadata[sv.KEY] for c in searcher.store.get(ids)}
    vectors = sv.matrix(kept[target], searcher.embedder.dimension, searcher.embedder.backend)
    assert vectors is not None
    qvec = vectors[0]
    order = np.arange(len(ids))
    falling = np.linspace(1.0, 0.0, len(ids))  # both signals rank the chunks in id order
    monkeypatch.setattr(searcher.dense, "document_cosines", lambda *args: {})  # chunk cosine only

    with_sentences, scores = searcher._deeper(order, falling, ids, falling, falling * 10, qvec, kept)
    without, _ = searcher._deeper(order, falling, ids, falling, falling * 10, qvec, {})  # none kept

    assert with_sentences[:HEAD].tolist() == without[:HEAD].tolist() == list(range(HEAD))
    assert without[-1] == len(ids) - 1  # the target, last
    assert with_sentences.tolist().index(len(ids) - 1) < len(ids) - 1
    assert sorted(with_sentences.tolist()) == list(range(len(ids)))
    assert scores[:HEAD].tolist() == falling[:HEAD].tolist()
    assert (np.diff(scores) <= 0).all() and scores[HEAD] <= falling[HEAD - 1]


def test_past_the_head_a_chunk_of_a_matching_document_moves_up(many: Assistant) -> None:
    """Every signal puts the target last; the other chunk of its document is the question."""
    store = many.indexer.store
    ids = store.ids()
    target, partner = ids[-1], ids[0]
    _, vectors = store.vectors([partner])
    qvec = vectors[0]
    order = np.arange(len(ids))
    falling = np.linspace(1.0, 0.0, len(ids))

    def searcher(documents: dict[str, set[str]]) -> HybridSearcher:
        keyword = many.indexer.keyword_index()
        return HybridSearcher(many.settings, many.indexer.embedder, store, keyword, lambda: documents)

    signals = (order, falling, ids, falling, falling * 10, qvec, {})  # best sentence = chunk cosine
    alone, _ = searcher({})._deeper(*signals)
    together, scores = searcher({"pair.txt": {partner, target}})._deeper(*signals)

    assert alone.tolist() == list(range(len(ids)))
    assert together[:HEAD].tolist() == list(range(HEAD))
    assert together.tolist().index(len(ids) - 1) < len(ids) - 1
    assert sorted(together.tolist()) == list(range(len(ids)))
    assert (np.diff(scores) <= 0).all()


NOTES = [
    "Coast guards of the three nations met in Busan in May.",
    "A missile warning system went live in December.",
    "Sailors from the three navies trained near Jeju.",
    "Officials discussed cyber defence in Tokyo.",
    "Defence ministers spoke by phone about North Korea.",
    "Aircraft from the three air forces flew together.",
    "The framework was signed in Tokyo.",
    "Parliament debated the defence budget.",
]


@pytest.fixture
def mixed(seeded: Settings) -> Assistant:
    """The commentary (several chunks) and eight one-chunk notes."""
    for i, text in enumerate(NOTES):
        (seeded.corpus_dir / f"note{i}.txt").write_text(text + "\n")
    assistant = Assistant.from_settings(seeded)
    assistant.index()
    return assistant


def _by_source(store: Store) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for c in store.scan():
        out.setdefault(c.metadata["source"], set()).add(c.id)
    return out


def test_the_document_map_comes_from_the_saved_state_or_the_metadata(
    mixed: Assistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    indexer, store = mixed.indexer, mixed.indexer.store
    by_source = _by_source(store)
    assert len(by_source) == len(NOTES) + 1
    with monkeypatch.context() as m:
        m.setattr(store, "scan", lambda *a, **k: pytest.fail("the saved state was not used"))
        assert indexer.chunks_by_source(store) == by_source
    (mixed.settings.index_dir / "state.json").unlink()
    assert indexer.chunks_by_source(store) == by_source


def test_document_cosines_use_the_mean_vector_of_the_document(mixed: Assistant) -> None:
    store = mixed.indexer.store
    by_source = _by_source(store)
    long_doc = sorted(max(by_source.values(), key=len))
    (note,) = by_source["note0.txt"]
    assert len(long_doc) > 3
    qvec = mixed.indexer.embedder.encode(["trilateral coast guard cooperation"])[0]
    _, vectors = store.vectors(long_doc)
    mean = vectors.sum(axis=0)
    expected = float(mean @ qvec / np.linalg.norm(mean))
    own = DenseIndex(store, 0).cosines(qvec, [note, *long_doc])
    # a map read after a deletion may list chunks no longer stored, or documents with none
    listed = {**by_source, "commentary": {*long_doc, "deleted-chunk"}, "gone.txt": {"gone-chunk"}}
    del listed[next(src for src, ids in by_source.items() if set(long_doc) == ids)]
    for held in (10**6, 0):  # vectors from memory, from Chroma
        dense = DenseIndex(store, held, lambda: listed)
        for _ in range(2):  # the second time from the means kept
            got = dense.document_cosines(qvec, [*long_doc, note, "no-such-chunk", "gone-chunk"])
            assert set(got) == {*long_doc, note}
            assert max(abs(got[c] - expected) for c in long_doc) < 1e-5
            assert abs(got[note] - own[note]) < 1e-5  # a one-chunk document: its chunk's cosine
            assert max(abs(got[c] - own[c]) for c in long_doc) > 0.02  # not the chunks' own
    # without a map every chunk stands alone
    alone = DenseIndex(store, 10**6).document_cosines(qvec, long_doc)
    assert max(abs(alone[c] - own[c]) for c in long_doc) < 1e-5


def test_a_deep_search_orders_the_same_from_memory_and_from_chroma(mixed: Assistant) -> None:
    def searcher(held: int) -> HybridSearcher:
        settings = mixed.settings.model_copy(update={"exact_search_max_chunks": held})
        store, keyword = mixed.indexer.store, mixed.indexer.keyword_index()
        return HybridSearcher(
            settings, mixed.indexer.embedder, store, keyword, lambda: mixed.indexer.chunks_by_source(store)
        )

    exact, hnsw = searcher(10**6), searcher(0)
    total = mixed.indexer.store.count()
    assert exact.dense.in_memory and not hnsw.dense.in_memory and total > HEAD + 3
    for query in ("coast guard meeting", "missile warning data", "Freedom Edge exercise"):
        a, b = exact.search(query, k=total), hnsw.search(query, k=total)
        assert [h.id for h in a] == [h.id for h in b]
        assert max(abs(x.score - y.score) for x, y in zip(a, b, strict=True)) < 1e-4


def test_the_document_map_is_read_once_and_only_by_a_deep_search(many: Assistant) -> None:
    calls: list[int] = []
    reading, release = threading.Event(), threading.Event()

    def documents() -> dict[str, set[str]]:
        calls.append(1)
        reading.set()
        assert release.wait(30)
        return many.indexer.chunks_by_source(many.indexer.store)

    searcher = HybridSearcher(
        many.settings, many.indexer.embedder, many.indexer.store, many.indexer.keyword_index(), documents
    )
    searcher.search("missile radar", k=HEAD)
    assert calls == []
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(searcher.search, "missile radar", 20)
        assert reading.wait(30)
        second = pool.submit(searcher.search, "navy drills", 20)
        time.sleep(0.3)
        assert not second.done()  # waiting for the map the first search is reading
        release.set()
        results = [first.result(30), second.result(30)]
    assert calls == [1] and all(len(r) == 20 for r in results)
    searcher.search("budget", k=20)
    assert calls == [1]


def test_equal_scores_share_a_rank() -> None:
    assert _ranks(np.array([0.0, 0.0, 0.0, 2.0])).tolist() == [1, 1, 1, 0]
    assert _ranks(np.array([3.0, 1.0, 2.0, 1.0])).tolist() == [0, 2, 1, 2]


def test_exact_search_in_memory_agrees_with_chroma(many: Assistant) -> None:
    store = many.indexer.store
    in_memory, hnsw = DenseIndex(store, 10**6), DenseIndex(store, 0)
    assert in_memory.in_memory and not hnsw.in_memory
    assert not DenseIndex(store, store.count() - 1).in_memory  # over the limit: Chroma's index
    qvec = many.indexer.embedder.encode(["leaders signed a maritime statement"])[0]
    a, b = in_memory.nearest(qvec, 8), hnsw.nearest(qvec, 8)
    assert set(a) == set(b) and list(a.values()) == sorted(a.values(), reverse=True)
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
    before = store.ids()
    (seeded.corpus_dir / "new.txt").write_text("Coast guards of the three nations met in Busan in May.\n")
    assistant.index()
    new = [c for c in store.ids() if c not in before]
    assert new
    qvec = assistant.indexer.embedder.encode(["coast guard meeting in Busan"])[0]
    mixed = before[:3] + new
    got = dense.cosines(qvec, mixed)
    found, vectors = store.vectors(mixed)
    expected = dict(zip(found, (vectors @ qvec).tolist(), strict=True))
    assert set(got) == set(mixed) and max(abs(got[c] - expected[c]) for c in mixed) < 1e-5
    # a searcher made after the sync holds the new chunk's vector and finds it first
    searcher = assistant.searcher()
    assert searcher.dense.in_memory and set(searcher.dense.ids) == set(store.ids())
    assert searcher.search("coast guard meeting in Busan", k=3)[0].id in new


def test_a_searcher_made_after_a_deletion_holds_no_deleted_chunk(seeded: Settings) -> None:
    assistant = Assistant.from_settings(seeded)
    assistant.index()
    (seeded.corpus_dir / "new.txt").write_text("Coast guards of the three nations met in Busan in May.\n")
    assistant.index()
    held = set(assistant.searcher().dense.ids)
    (seeded.corpus_dir / "new.txt").unlink()
    assistant.index()
    now = assistant.searcher()
    assert set(now.dense.ids) == set(assistant.indexer.store.ids()) < held
    assert all("new.txt" not in h.metadata["source"] for h in now.search("coast guard Busan", k=20))


def test_hybrid_search_is_the_same_from_memory_and_from_chroma(many: Assistant) -> None:
    exact = HybridSearcher(
        many.settings,
        many.indexer.embedder,
        many.indexer.store,
        many.indexer.keyword_index(),
        lambda: many.indexer.chunks_by_source(many.indexer.store),
    )
    hnsw = HybridSearcher(
        many.settings.model_copy(update={"exact_search_max_chunks": 0}),
        many.indexer.embedder,
        many.indexer.store,
        many.indexer.keyword_index(),
        lambda: many.indexer.chunks_by_source(many.indexer.store),
    )
    assert exact.dense.in_memory and not hnsw.dense.in_memory
    for query in ("budget spending plan", "cyber attack on a port", "radar"):
        a, b = exact.search(query, k=20), hnsw.search(query, k=20)
        assert {h.id for h in a} == {h.id for h in b}
        assert {h.id for h in a[:3]} == {h.id for h in b[:3]}
