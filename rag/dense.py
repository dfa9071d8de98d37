"""The dense side of hybrid search: cosine similarity of the question to the chunks' vectors.

Up to ``Settings.exact_search_max_chunks`` chunks, every vector is read once into memory and
each search compares the question with all of them: one matrix product (~1 ms for SciFact's
11k chunks on one thread), exact, where asking Chroma cost ~5 ms for the nearest chunks and
~6 ms more for the cosines of the keyword side's candidates on a 2-core CPU (SciFact retrieval
p50 22-24 -> 15 ms). A larger index is searched by Chroma's HNSW index instead. The vectors
are those of when they were read: the searcher holding them is rebuilt after a sync that
changes the chunks (Assistant.searcher).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import numpy as np

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


class DenseIndex:
    """Nearest chunks and cosines for one query vector, from memory or from the Store."""

    def __init__(self, store: Store, max_in_memory: int) -> None:
        self.store = store
        self.ids: list[str] = []
        self._pos: dict[str, int] = {}
        self._vectors: np.ndarray | None = None
        if max_in_memory > 0 and store.count() <= max_in_memory:
            self.ids, self._vectors = store.all_vectors()
            self._pos = {cid: i for i, cid in enumerate(self.ids)}

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
        found, vectors = self._vectors_of(ids, qvec.size)
        return dict(zip(found, (vectors @ qvec).tolist(), strict=True))

    def document_cosines(
        self, qvec: np.ndarray, ids: Sequence[str], siblings: Mapping[str, tuple[str, ...]]
    ) -> dict[str, float]:
        """For each of these chunks, the cosine of ``qvec`` to the mean vector of its document's
        chunks (``siblings``: chunk id -> the ids of all the chunks of its document; a chunk
        missing from it counts as a document of its own). Chunks whose document has no stored
        vector are left out."""
        groups = {cid: siblings.get(cid, (cid,)) for cid in ids}
        found, vectors = self._vectors_of(sorted({c for g in groups.values() for c in g}), qvec.size)
        row = {cid: i for i, cid in enumerate(found)}
        by_group: dict[tuple[str, ...], float] = {}
        for members in set(groups.values()):
            rows = [row[c] for c in members if c in row]
            if rows:
                total = vectors[rows].sum(axis=0)
                norm = float(np.linalg.norm(total))
                by_group[members] = float(total @ qvec) / norm if norm > 0 else 0.0
        return {cid: by_group[g] for cid, g in groups.items() if g in by_group}

    def _vectors_of(self, ids: Sequence[str], dim: int) -> tuple[list[str], np.ndarray]:
        """(ids found, their vectors): from memory when held there, else from the store."""
        known = [cid for cid in ids if cid in self._pos]
        unknown = [cid for cid in ids if cid not in self._pos]  # or written since they were read
        found, vectors = self.store.vectors(unknown) if unknown else ([], np.zeros((0, dim), np.float32))
        if known and self._vectors is not None:
            found += known
            vectors = np.concatenate([vectors, self._vectors[[self._pos[cid] for cid in known]]])
        return found, vectors
