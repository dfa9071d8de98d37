"""Hybrid retrieval: dense (dense.py) + keyword (BM25, keyword.py), fused by a convex combination of
rank-anchored normalised scores computed for every candidate on both sides. The LangChain
retriever over it is in lc_retriever.py (LangChain's retriever classes take a new process
half a second to import; answering does without them).

Past the first ``HEAD`` hits (a search for more than ten passages: the LangChain retriever with
a large ``k``, the BEIR evaluation), the rest of the candidates are ordered by reciprocal rank
fusion of three signals: the chunk's cosine averaged with its document's (the cosine of the mean
vector of all the document's chunks), its BM25 score, and the cosine of its best sentence (from
the sentence vectors kept with each chunk, sentence_vectors.py). The convex fusion ranks the
head better (SciFact train nDCG@10 0.736 against 0.720 for rank fusion); rank fusion finds more
of the rest. SciFact Recall@100, train / test: 0.955 / 0.951 with the convex fusion alone,
0.960 / 0.958 with rank fusion of the chunk cosine, BM25 and the best sentence (chosen on train,
with RRF's usual constant 60), 0.9615 / 0.9617 with the document's cosine averaged into the
chunk's (nDCG@10 0.7348 -> 0.7339 on train, 0.7257 -> 0.7276 on test: the tail also orders
documents 2-10 when the head holds several chunks of one). A small gain: 2 train queries gain,
1 loses, 1 test query gains. The document's cosine alone did as well (train 0.9621, test
0.9617); the average keeps the chunks of a long document apart.
An answer reads the first ``top_k`` (6 by default), all in the head.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from .config import Settings
from .dense import DenseIndex
from .embeddings import Embedder
from .keyword import KeywordIndex
from .sentence_vectors import KEY, matrix
from .store import Store, StoredChunk

Mode = Literal["hybrid", "dense", "keyword"]
HEAD = 10  # hits ranked by score fusion; any further ones by rank fusion (see above)
_RRF_K = 60  # reciprocal rank fusion's constant (Cormack et al. 2009)


@dataclass(frozen=True)
class Hit:
    """One retrieved chunk with its fused and raw scores."""

    id: str
    text: str
    metadata: dict[str, Any]
    score: float  # fused score in [0, 1] (past the first HEAD hits, rank fusion's, scaled below)
    dense: float  # cosine similarity
    keyword: float  # BM25 score


class HybridSearcher:
    """Search over a Store and its KeywordIndex."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        store: Store,
        keyword: KeywordIndex,
        documents: Callable[[], Mapping[str, Collection[str]]] | None = None,
    ) -> None:
        """``documents`` gives the chunk ids of each document (source file), for the rank
        fusion past the head; it is called at the first search deeper than the head."""
        self.settings = settings
        self.embedder = embedder
        self.store = store
        self.keyword = keyword
        # A Chroma server may be written by other clients, which this process would not notice
        # (a local sync changes the keyword index's stamp, and Assistant.searcher reloads).
        in_memory = 0 if settings.chroma_url else settings.exact_search_max_chunks
        self.dense = DenseIndex(store, in_memory, documents)

    def search(self, query: str, k: int | None = None, mode: Mode = "hybrid") -> list[Hit]:
        """The ``k`` best chunks for ``query``. Candidates are scored on both signals by id
        alone; text and metadata are fetched for the ``k`` winners only (keeps search ~10 ms),
        or, in a search deeper than ``HEAD``, for every candidate (the rank fusion past the head
        reads their sentence vectors)."""
        k = k or self.settings.top_k
        n = max(self.settings.candidates, k)
        qvec = self.embedder.encode_cached([query])[0]  # the answer's scoring reuses it
        dense = {} if mode == "keyword" else self.dense.nearest(qvec, n)
        if mode == "dense":
            best = sorted(dense.items(), key=lambda kv: -kv[1])[:k]
            return self._hits([(cid, s, s, 0.0) for cid, s in best])
        kw_scores = self.keyword.score_all(query)
        kw = dict(self.keyword.search(query, n, kw_scores))
        missing = [cid for cid in kw if cid not in dense]
        if missing:  # keyword-only candidates: their cosine from the stored vectors
            dense.update(self.dense.cosines(qvec, missing))
        if mode == "keyword":
            best_kw = sorted((cid for cid in kw if cid in dense), key=lambda cid: -kw[cid])[:k]
            return self._hits([(cid, kw[cid], dense[cid], kw[cid]) for cid in best_kw])
        ids = list(dense)
        d = np.array([dense[i] for i in ids], dtype=np.float64)
        b = np.array(self.keyword.scores_for(kw_scores, ids), dtype=np.float64)
        w = self.settings.dense_weight
        depth = self.settings.candidates
        fused = w * _rescale(d, depth) + (1 - w) * _rescale(b, depth)
        order = np.argsort(-fused, kind="stable")
        scores = fused[order]
        read: dict[str, StoredChunk] | None = None
        if k > HEAD and order.size > HEAD:
            read = {c.id: c for c in self.store.get(ids)}  # every candidate's, for _hits too
            kept = {cid: c.metadata[KEY] for cid, c in read.items() if KEY in c.metadata}
            order, scores = self._deeper(order, fused, ids, d, b, qvec, kept)
        top = zip(order[:k].tolist(), scores[:k].tolist(), strict=True)
        return self._hits([(ids[i], score, float(d[i]), float(b[i])) for i, score in top], read)

    def _deeper(
        self,
        order: np.ndarray,
        fused: np.ndarray,
        ids: list[str],
        d: np.ndarray,
        b: np.ndarray,
        qvec: np.ndarray,
        kept: Mapping[str, object],
    ) -> tuple[np.ndarray, np.ndarray]:
        """(order, score at each place): the first HEAD entries of ``order`` with their fused
        scores, then the rest re-ordered by reciprocal rank fusion of the chunk cosine
        averaged with its document's, the BM25 score and the best sentence's cosine (the chunk
        cosine where a chunk keeps no sentence vectors), scored by it scaled to fall from the
        last head score, so that scores keep falling down the list. ``kept``: the stored
        sentence vectors of these chunks, by id."""
        dim, backend = self.embedder.dimension, self.embedder.backend
        best = d.copy()
        for i, cid in enumerate(ids):
            vectors = matrix(kept.get(cid), dim, backend)
            if vectors is not None:
                best[i] = float((vectors @ qvec).max())
        doc_cos = self.dense.document_cosines(qvec, ids)
        blended = np.array([(d[i] + doc_cos.get(cid, d[i])) / 2 for i, cid in enumerate(ids)])
        rrf = np.sum([1.0 / (_RRF_K + 1 + _ranks(x)) for x in (blended, b, best)], axis=0)
        head = order[:HEAD]
        rest = np.argsort(-rrf, kind="stable")
        rest = rest[~np.isin(rest, head)]
        tail = fused[head[-1]] * rrf[rest] / rrf[rest[0]]
        return np.concatenate([head, rest]), np.concatenate([fused[head], tail])

    def _hits(
        self, scored: list[tuple[str, float, float, float]], read: Mapping[str, StoredChunk] | None = None
    ) -> list[Hit]:
        """(id, score, dense, keyword) rows → Hits with text and metadata (those ``read``
        already, or read now), in the same order."""
        chunks = read if read is not None else {c.id: c for c in self.store.get([row[0] for row in scored])}
        return [
            Hit(cid, chunks[cid].text, chunks[cid].metadata, score, d, b)
            for cid, score, d, b in scored
            if cid in chunks
        ]


def _ranks(x: np.ndarray) -> np.ndarray:
    """0 for the largest value, 1 for the next …; equal values share the best of their ranks
    (the many candidates with no keyword in common all rank just below those with one)."""
    descending = np.sort(x)[::-1]
    return np.searchsorted(-descending, -x, side="left").astype(np.float64)


def _rescale(x: np.ndarray, depth: int) -> np.ndarray:
    """Map scores to [0, 1]: the best → 1, the ``depth``-th best (and below) → 0.

    Anchoring the floor at a fixed rank, rather than at the minimum of however many candidates
    happen to be in the pool, keeps the two signals on the same footing for every query
    (SciFact train: nDCG@10 0.7328 → 0.7354 against plain min-max)."""
    if x.size == 0:
        return x
    ranked = np.sort(x)[::-1]
    hi, lo = float(ranked[0]), float(ranked[min(depth, x.size) - 1])
    if hi - lo < 1e-12:
        return np.zeros_like(x)
    return np.clip((x - lo) / (hi - lo), 0.0, None)
