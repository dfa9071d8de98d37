"""The dense side of hybrid search: cosine similarity of the question to the chunks' vectors.

Up to ``Settings.exact_search_max_chunks`` chunks, every vector is read once into memory and
each search compares the question with all of them: one matrix product (~1 ms for SciFact's
11k chunks on one thread), exact, where asking Chroma cost ~5 ms for the nearest chunks and
~6 ms more for the cosines of the keyword side's candidates on a 2-core CPU (SciFact retrieval
p50 22-24 -> 15 ms). A larger index is searched by Chroma's HNSW index instead. The vectors
are those of when they were read: the searcher holding them is rebuilt after a sync that
changes the chunks (Assistant.searcher).

It also gives a chunk's document's cosine: that of the mean vector of all the document's chunks
(for the rank fusion past the first hits, retrieve.py). The map of documents is read at the
first such request, and each document's mean when first needed, then kept (1.5 KB a document).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from .errors import RagError
from .store import Store


@lru_cache(maxsize=1)
def _blas() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


_BLAS_LOCK = threading.Lock()


@contextmanager
def _one_blas_thread() -> Iterator[None]:
    """BLAS on one thread for the product: OpenBLAS's threads keep spinning after it, and on a
    2-core CPU they took the cores from the next question's embedding (6 -> 16 ms). The limit
    is process-wide, so searches in other threads take turns (a product takes ~1 ms): two
    overlapping limits would restore each other's setting."""
    with _BLAS_LOCK, _blas().limit(limits=1, user_api="blas"):
        yield


@dataclass(frozen=True)
class _Documents:
    """Which document each chunk is in (an index into ``members``), with the mean vector of each
    document asked for so far (1.5 KB a document)."""

    doc_of: dict[str, int]
    members: list[list[str]]
    means: dict[int, np.ndarray] = field(default_factory=dict)


class DenseIndex:
    """Nearest chunks and cosines for one query vector, from memory or from the Store."""

    def __init__(
        self,
        store: Store,
        max_in_memory: int,
        documents: Callable[[], Mapping[str, Collection[str]]] | None = None,
    ) -> None:
        """``documents`` gives the chunk ids of each document; it is called once, by the first
        ``document_cosines`` (later than the vectors are read: a chunk written between the two
        is scored from the store). Without it, each chunk counts as a document of its own."""
        self.store = store
        self.ids: list[str] = []
        self._pos: dict[str, int] = {}
        self._vectors: np.ndarray | None = None
        if max_in_memory > 0 and store.count() <= max_in_memory:
            self.ids, self._vectors = store.all_vectors()
            self._pos = {cid: i for i, cid in enumerate(self.ids)}
        self._documents = documents
        self._docs: _Documents | None = None
        self._documents_lock = threading.Lock()

    @property
    def in_memory(self) -> bool:
        return self._vectors is not None

    def nearest(self, qvec: np.ndarray, n: int) -> dict[str, float]:
        """The ``n`` chunks nearest to ``qvec`` with their cosine, best first."""
        if self._vectors is None:
            return dict(self.store.nearest(qvec, n))
        with _one_blas_thread():
            sims = self._vectors @ qvec
        n = min(n, sims.size)
        if n < 1:
            return {}
        top = np.argpartition(-sims, n - 1)[:n]
        top = top[np.argsort(-sims[top], kind="stable")]
        return {self.ids[i]: float(sims[i]) for i in top}

    def cosines(self, qvec: np.ndarray, ids: Sequence[str]) -> dict[str, float]:
        """The cosine of each of these chunks to ``qvec`` (from memory when held there, else
        from the store, which leaves out chunks it lacks)."""
        found, vectors = self._vectors_of(ids)
        return dict(zip(found, (vectors @ qvec).tolist(), strict=True))

    def document_cosines(self, qvec: np.ndarray, ids: Sequence[str]) -> dict[str, float]:
        """For each of these chunks, the cosine of ``qvec`` to its document's mean vector (the
        normalised sum of all its chunks' vectors, computed once per document). A chunk the
        document map lacks (written after it was read) counts as a document of its own; a
        document with no stored vector is left out."""
        docs = self._document_groups()
        grouped = [cid for cid in ids if cid in docs.doc_of]
        out = self.cosines(qvec, [cid for cid in ids if cid not in docs.doc_of])
        if not grouped:
            return out
        wanted = sorted({docs.doc_of[cid] for cid in grouped})
        new = [g for g in wanted if g not in docs.means]
        if new:
            docs.means.update(zip(new, self._means([docs.members[g] for g in new]), strict=True))
        means = np.stack([docs.means[g] for g in wanted])
        with _one_blas_thread():
            sims = means @ qvec
        has_vector = np.linalg.norm(means, axis=1) > 0
        at = {g: i for i, g in enumerate(wanted)}
        for cid in grouped:
            i = at[docs.doc_of[cid]]
            if has_vector[i]:
                out[cid] = float(sims[i])
        return out

    def _document_groups(self) -> _Documents:
        """The document map, read at the first call (the caller's ``documents``); when it
        cannot be read (a Chroma server gone away), none for now, and asked again next time."""
        if self._docs is not None:
            return self._docs
        with self._documents_lock:
            if self._docs is None:
                try:
                    by_source = self._documents() if self._documents else {}
                except RagError:
                    return _Documents({}, [])
                members = [list(ids) for ids in by_source.values()]
                self._docs = _Documents({cid: g for g, ids in enumerate(members) for cid in ids}, members)
            return self._docs

    def _means(self, groups: Sequence[Sequence[str]]) -> np.ndarray:
        """One row per group of chunk ids: the normalised sum of their vectors (zeros when none
        of them has a vector)."""
        found, vectors = self._vectors_of([cid for ids in groups for cid in ids])
        row = {cid: i for i, cid in enumerate(found)}
        owner = np.array([g for g, ids in enumerate(groups) for cid in ids if cid in row], dtype=np.intp)
        rows = [row[cid] for ids in groups for cid in ids if cid in row]
        sums = np.zeros((len(groups), self.store.dimension), dtype=np.float32)
        if rows:  # ``owner`` ascends: each group's rows are one run, summed by reduceat
            starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
            sums[owner[starts]] = np.add.reduceat(vectors[rows], starts, axis=0)
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        return np.divide(sums, norms, out=np.zeros_like(sums), where=norms > 0)

    def _vectors_of(self, ids: Sequence[str]) -> tuple[list[str], np.ndarray]:
        """(ids found, their vectors): from memory when held there, else from the store."""
        known = [cid for cid in ids if cid in self._pos]
        unknown = [cid for cid in ids if cid not in self._pos]  # or written since they were read
        empty = np.zeros((0, self.store.dimension), dtype=np.float32)
        found, vectors = self.store.vectors(unknown) if unknown else ([], empty)
        if known and self._vectors is not None:
            found += known
            vectors = np.concatenate([vectors, self._vectors[[self._pos[cid] for cid in known]]])
        return found, vectors
