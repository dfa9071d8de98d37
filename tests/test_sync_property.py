"""Hypothesis stateful test: after any sequence of add / edit / delete / break / (partial) sync /
rebuild, the index holds exactly the chunks of the current corpus, and so does the keyword index.

The model of what the index should hold is computed from the files alone (loader + chunker):
a good file contributes the chunks of its current content; a file that fails to load keeps the
chunks of its last good version (nothing lost); a file that is gone contributes nothing after a
full sync, and a rebuild forgets everything that cannot be loaded now.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from rag.chunking import chunk_document
from rag.config import Settings
from rag.embeddings import Embedder
from rag.errors import LoaderError
from rag.indexer import Indexer
from rag.keyword import KeywordIndex
from rag.loaders import load_file
from rag.store import Store
from tests.conftest import assert_sentence_vectors_kept

CHUNK, OVERLAP = 32, 8  # small chunks: several per file, cheap to embed

NAMES = ["a.txt", "b.md", "sub/deeper/c.txt"]
SENTENCES = [
    "Japan and South Korea agreed to share missile warning data.",
    "The Camp David summit was held in August 2023.",
    "Freedom Edge is a multi-domain trilateral exercise.",
    "The secretariat coordinates the three governments.",
    "Coast guards from the three countries trained together.",
    "A trilateral hotline connects the leaders.",
    "Cyber threats from North Korea were discussed at length by officials.",
    "The ministers met again in Tokyo.",
    "Supply chain resilience became a shared priority.",
    "Officials said the framework would outlast changes of government.",
]
BAD = [b"", bytes(range(32)) * 50, b"\x00\x00\x00binary\x00"]

_texts = st.lists(st.sampled_from(SENTENCES), min_size=3, max_size=9).map(" ".join)


class SyncMachine(RuleBasedStateMachine):
    ix: Indexer  # set by the test before the machine runs

    def __init__(self) -> None:
        super().__init__()
        self.corpus = self.ix.settings.corpus_dir
        self.indexed: dict[str, dict[str, tuple[Any, ...]]] = {}  # source → {id: metadata} to hold

    @initialize()
    def empty_corpus(self) -> None:
        shutil.rmtree(self.corpus, ignore_errors=True)
        self.corpus.mkdir()
        self.ix.sync()  # a sync of an empty folder empties the index
        assert self.ix.store.count() == 0

    # --- the corpus changes -------------------------------------------------------------
    @rule(name=st.sampled_from(NAMES), body=_texts)
    def write(self, name: str, body: str) -> None:
        path = self.corpus / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"Title {name}\n\n{body}", encoding="utf-8")

    @rule(name=st.sampled_from(NAMES), extra=st.sampled_from(SENTENCES))
    def append(self, name: str, extra: str) -> None:
        path = self.corpus / name
        if path.is_file():
            with path.open("a", encoding="utf-8") as f:
                f.write(" " + extra)

    @rule(name=st.sampled_from(NAMES), bad=st.sampled_from(BAD))
    def break_file(self, name: str, bad: bytes) -> None:
        path = self.corpus / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(bad)

    @rule(name=st.sampled_from(NAMES))
    def delete(self, name: str) -> None:
        (self.corpus / name).unlink(missing_ok=True)

    # --- the index follows --------------------------------------------------------------
    @rule()
    def sync(self) -> None:
        report = self.ix.sync()
        on_disk = {p.relative_to(self.corpus).as_posix() for p in self.corpus.rglob("*") if p.is_file()}
        self.indexed = {k: v for k, v in self.indexed.items() if k in on_disk}
        for name in on_disk:
            self._expect(name)
        self._check()
        failed = {f.source for f in report.by_status("failed")}
        assert failed == {n for n in on_disk if self._chunks_now(n) is None}

    @rule(names=st.lists(st.sampled_from(NAMES), min_size=1, max_size=3, unique=True))
    def sync_files(self, names: list[str]) -> None:
        present = [n for n in names if (self.corpus / n).is_file()]
        self.ix.sync(files=[self.corpus / n for n in present])  # never deletes anything else
        for name in present:
            self._expect(name)
        self._check()

    @rule()
    def rebuild(self) -> None:
        # Like a full sync, except that every file is re-read: a file that now fails still
        # keeps the chunks of its last good version.
        self.ix.sync(rebuild=True)
        on_disk = {p.relative_to(self.corpus).as_posix() for p in self.corpus.rglob("*") if p.is_file()}
        self.indexed = {k: v for k, v in self.indexed.items() if k in on_disk}
        for name in on_disk:
            self._expect(name)
        self._check()

    @rule()
    def resync_writes_nothing(self) -> None:
        self.sync()
        before = sorted(c.id for c in self.ix.store.scan())
        report = self.ix.sync()
        assert report.counts["added"] == report.counts["updated"] == report.counts["deleted"] == 0
        assert sorted(c.id for c in self.ix.store.scan()) == before

    @invariant()
    def no_duplicates(self) -> None:
        ids = [c.id for c in self.ix.store.scan()]
        assert len(ids) == len(set(ids)) == self.ix.store.count()

    # --- the model ----------------------------------------------------------------------
    def _chunks_now(self, name: str) -> dict[str, tuple[Any, ...]] | None:
        """The file's chunks as it is now (id → metadata), or None if it cannot be indexed."""
        try:
            doc = load_file(self.corpus / name, self.corpus)
        except LoaderError:
            return None
        chunks = chunk_document(doc, _spans, CHUNK, OVERLAP)
        return {c.id: (c.title, c.page or 0, c.start, c.end, c.file_hash, c.n_chunks) for c in chunks} or None

    def _expect(self, name: str) -> None:
        chunks = self._chunks_now(name)
        if chunks is not None:
            self.indexed[name] = chunks  # else: the last good version stays

    def _check(self) -> None:
        stored: dict[str, dict[str, tuple[Any, ...]]] = {}
        for c in self.ix.store.scan():
            m = c.metadata
            meta = (m["title"], m["page"], m["start"], m["end"], m["file_hash"], m["n_chunks"])
            stored.setdefault(m["source"], {})[c.id] = meta
        assert stored == self.indexed
        keyword = KeywordIndex.load(self.ix.keyword_dir)
        assert keyword is not None
        assert sorted(keyword.ids) == sorted(i for chunks in stored.values() for i in chunks)
        assert self.ix.keyword_index().stamp == keyword.stamp
        assert_sentence_vectors_kept(self.ix)


_tokenizer: Any = None


def _spans(text: str) -> list[tuple[int, int]]:
    return list(_tokenizer.encode(text, add_special_tokens=False).offsets)


@pytest.fixture(scope="module")
def indexer(tmp_path_factory: pytest.TempPathFactory, model_cache: Path) -> Indexer:
    global _tokenizer
    root = tmp_path_factory.mktemp("sync-property")
    s = Settings(corpus_dir=root / "corpus", index_dir=root / "index", model_cache_dir=model_cache,
                 chunk_tokens=CHUNK, chunk_overlap_tokens=OVERLAP)
    embedder = Embedder(s)
    _tokenizer = embedder.tokenizer
    return Indexer(s, embedder, Store(s, embedder.name, embedder.dimension))


def test_index_always_holds_exactly_the_current_corpus(indexer: Indexer) -> None:
    SyncMachine.ix = indexer
    run_state_machine_as_test(
        SyncMachine,
        settings=settings(max_examples=50, stateful_step_count=12, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]),
    )
