"""Chroma vector store: the only module that imports chromadb (embedded or server)."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import numpy as np

from .config import Settings
from .cpu import runtime
from .errors import IndexMissingError, ModelMismatchError, StoreUnavailableError
from .schema import Chunk
from .sentence_vectors import KEY as SENTENCE_VECTORS

_PAGE = 5000  # rows per get() page when scanning the whole collection; ids per get() in vectors()
_ID_PAGE = 100_000  # ids per get() page when listing ids only
# Records per write. A chunk with its sentence vectors is ~10 KB, and up to ~50 KB for text of
# many short lines: 400 of those stay well under the 40 MiB request limit of a Chroma server.
_WRITE_STEP = 2000
_WRITE_STEP_WITH_VECTORS = 400


@dataclass(frozen=True)
class StoredChunk:
    """A chunk as read back from the store."""

    id: str
    text: str
    metadata: dict[str, Any]


def chunk_metadata(chunk: Chunk, indexed_at: str, chunking: str = "") -> dict[str, Any]:
    """Chroma metadata for a chunk (Chroma has no null: page 0 means 'no pages').

    ``chunking`` names the chunker settings that cut it, so a sync can tell when they changed."""
    return {
        "source": chunk.source,
        "title": chunk.title,
        "page": chunk.page or 0,
        "start": chunk.start,
        "end": chunk.end,
        "chunk_hash": chunk.chunk_hash,
        "file_hash": chunk.file_hash,
        "n_chunks": chunk.n_chunks,
        "chunking": chunking,
        "indexed_at": indexed_at,
    }


def _staging(name: str) -> str:
    return f"{name}__rebuild"


class Store:
    """One Chroma collection that remembers which embedding model filled it."""

    def __init__(self, settings: Settings, model_name: str, dimension: int) -> None:
        self.settings = settings
        self.model_name = model_name
        self.dimension = dimension
        self._client = self._connect()
        self._collection: Any = None
        self._pinned = False  # True for a rebuild's staging Store

    # --- connection ---------------------------------------------------------------------
    def _connect(self) -> Any:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        url = self.settings.chroma_url
        try:
            if url:
                parsed = urlparse(url)
                client = chromadb.HttpClient(
                    host=parsed.hostname or "127.0.0.1",
                    port=parsed.port or (443 if parsed.scheme == "https" else 8000),
                    ssl=parsed.scheme == "https",
                    settings=chroma_settings,
                )
                client.heartbeat()
                return client
            path = self.settings.index_dir / "chroma"
            path.mkdir(parents=True, exist_ok=True)
            return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
        except Exception as exc:  # chromadb raises many types; all mean "cannot open"
            where = url or str(self.settings.index_dir)
            raise StoreUnavailableError(
                f"Cannot open the Chroma store at {where}: {exc}. "
                + (
                    "Start the server (`chroma run --host 127.0.0.1 --port 8000`) or unset RAG_CHROMA_URL."
                    if url
                    else "Check the folder is writable, or delete it and run `rag index --rebuild`."
                )
            ) from exc

    @property
    def location(self) -> str:
        return self.settings.chroma_url or str(self.settings.index_dir / "chroma")

    def collection(self, create: bool = False) -> Any:
        """The collection; with ``create`` it is made if missing. Refuses a different model."""
        if self._collection is not None:
            return self._collection
        name = self.settings.collection
        names = self._names()
        if name not in names and _staging(name) in names:
            self.finish_rebuild()  # a crash between deleting the old index and renaming the new
            names = self._names()
        exists = name in names
        if not exists and not create:
            raise IndexMissingError(
                f"No index found at {self.location} (collection {name!r}). "
                "Build it with `rag index` (or `make run`)."
            )
        if exists:
            col = self._client.get_collection(name)
            meta = col.metadata or {}
            model, dim = meta.get("embedding_model"), meta.get("dimension")
            if model != self.model_name or dim != self.dimension:
                raise ModelMismatchError(
                    f"The index at {self.location} was built with model {model!r} (dim {dim}); "
                    f"this run uses {self.model_name!r} (dim {self.dimension}). "
                    "Run `rag index --rebuild` to rebuild it with the current model."
                )
        else:
            col = self._create(name)
        self._collection = col
        return col

    def _read(self, op: Callable[[Any], Any]) -> Any:
        """Run a read on the collection; if a rebuild elsewhere replaced it, look it up again."""
        from chromadb.errors import NotFoundError

        try:
            return op(self.collection())
        except NotFoundError:
            if self._pinned:
                raise
            self.refresh()
            return op(self.collection())

    def refresh(self) -> None:
        """Look the collection up again on next use (it may have been replaced by a rebuild)."""
        if not self._pinned:  # a rebuild's staging Store never switches to another collection
            self._collection = None

    def _names(self) -> set[str]:
        return {c if isinstance(c, str) else c.name for c in self._client.list_collections()}

    def _create(self, name: str) -> Any:
        return self._client.create_collection(
            name,
            metadata={
                "embedding_model": self.model_name,
                "dimension": self.dimension,
                "embedding_backend": runtime(self.settings.embedding_backend),
            },
            configuration={
                "hnsw": {
                    "space": "cosine",
                    "ef_search": self.settings.hnsw_ef_search,
                    "ef_construction": self.settings.hnsw_ef_construction,
                }
            },
            embedding_function=None,
        )

    # --- rebuilds: fill a staging collection, then swap it in ---------------------------
    def begin_rebuild(self) -> Store:
        """A Store bound to a new, empty staging collection, for the rebuild's writes; this
        Store (and every searcher using it) keeps serving the current index meanwhile."""
        staging = _staging(self.settings.collection)
        if staging in self._names():
            self._client.delete_collection(staging)  # a rebuild that never finished
        bound = copy.copy(self)
        bound._collection = self._create(staging)
        bound._pinned = True
        return bound

    def commit_rebuild(self) -> None:
        """Replace the index with this (staging) Store's collection."""
        col = self._collection
        col.modify(metadata={**(col.metadata or {}), "complete": True})
        self.finish_rebuild()

    def finish_rebuild(self) -> None:
        """Swap a complete staging collection in as the index (idempotent: safe to repeat
        after a crash at any step, or by two parties at once)."""
        from chromadb.errors import NotFoundError

        name, staging = self.settings.collection, _staging(self.settings.collection)
        try:
            col = self._client.get_collection(staging)
        except NotFoundError:
            return  # none, or somebody else finished the swap
        if not (col.metadata or {}).get("complete"):
            return  # an unfinished rebuild: the next rebuild starts it over
        try:
            if self._client.get_collection(name).id != col.id:
                self._client.delete_collection(name)
        except NotFoundError:
            pass
        try:
            col.modify(name=name)
        except Exception:  # noqa: BLE001 - renamed meanwhile by another party: nothing left to do
            if _staging(name) in self._names():
                raise
        if not self._pinned:
            self._collection = None

    def built_with(self) -> str:
        """The embedding backend that created the index ("" if there is no index yet, or it
        predates this record)."""
        try:
            return str((self.collection().metadata or {}).get("embedding_backend", ""))
        except IndexMissingError:
            return ""

    # --- write generations: let a saved copy of the store's state tell it is stale ---------
    def generation(self) -> str:
        """Which collection this is and which write generation it is at, read fresh from the
        store (another client may have written since this Store last looked)."""
        col = self._read(lambda c: self._client.get_collection(c.name))
        return f"{col.id}:{(col.metadata or {}).get('generation', '')}"

    def new_generation(self) -> None:
        """Mark the collection as being written to: any saved state of it is stale from now on."""
        col = self._client.get_collection(self.collection(create=True).name)
        col.modify(metadata={**(col.metadata or {}), "generation": uuid.uuid4().hex})

    def exists(self) -> bool:
        try:
            self.collection()
        except IndexMissingError:
            return False
        return True

    # --- writes -------------------------------------------------------------------------
    def _step(self, wanted: int) -> int:
        return max(1, min(self._client.get_max_batch_size(), wanted))

    def upsert(
        self,
        chunks: Sequence[Chunk],
        embeddings: np.ndarray,
        indexed_at: str,
        chunking: str = "",
        extra: Sequence[dict[str, Any]] | None = None,
    ) -> None:
        """Write chunks with their vectors; ``extra`` adds metadata of each chunk's own."""
        col = self.collection(create=True)
        step = self._step(_WRITE_STEP if extra is None else _WRITE_STEP_WITH_VECTORS)
        for i in range(0, len(chunks), step):
            part = chunks[i : i + step]
            metadatas = [chunk_metadata(c, indexed_at, chunking) for c in part]
            if extra is not None:
                metadatas = [{**m, **e} for m, e in zip(metadatas, extra[i : i + step], strict=True)]
            col.upsert(
                ids=[c.id for c in part],
                documents=[c.text for c in part],
                metadatas=metadatas,  # type: ignore[arg-type]
                embeddings=embeddings[i : i + step],
            )

    def update_metadata(self, chunks: Sequence[Chunk], indexed_at: str, chunking: str = "") -> None:
        """Rewrite the metadata of chunks already stored (same id, so same text), keeping vectors.
        Chroma merges the new fields into the old ones, so the sentence vectors stay too."""
        col = self.collection(create=True)
        step = self._step(_WRITE_STEP)
        for i in range(0, len(chunks), step):
            part = chunks[i : i + step]
            metadatas = [chunk_metadata(c, indexed_at, chunking) for c in part]
            col.update(ids=[c.id for c in part], metadatas=metadatas)

    def copy_to(self, other: Store, ids: Sequence[str]) -> None:
        """Copy these chunks (text, metadata, vectors) into another Store's collection."""
        got = self._read(lambda col: col.get(ids=list(ids), include=["metadatas", "documents", "embeddings"]))
        target = other.collection(create=True)
        step = self._step(_WRITE_STEP_WITH_VECTORS)
        for i in range(0, len(got["ids"]), step):
            target.upsert(
                ids=got["ids"][i : i + step],
                documents=got["documents"][i : i + step],
                metadatas=got["metadatas"][i : i + step],
                embeddings=got["embeddings"][i : i + step],
            )

    def delete(self, ids: Sequence[str]) -> None:
        if not ids:
            return
        col = self.collection(create=True)
        step = self._step(_WRITE_STEP)
        for i in range(0, len(ids), step):
            col.delete(ids=list(ids[i : i + step]))

    # --- reads --------------------------------------------------------------------------
    def count(self) -> int:
        return int(self._read(lambda col: col.count()))

    def ids(self) -> list[str]:
        """Every chunk id, in the store's order (fast: no metadata is read)."""
        out: list[str] = []
        while True:
            got = self._read(lambda col: col.get(include=[], limit=_ID_PAGE, offset=len(out)))  # noqa: B023
            if not got["ids"]:
                return out
            out.extend(got["ids"])

    def scan(self, with_text: bool = False) -> Iterator[StoredChunk]:
        """Every chunk's id and metadata (and text), page by page; without the sentence vectors,
        which no whole-index pass needs (they are 5-10 KB a chunk)."""
        include = ["metadatas", "documents"] if with_text else ["metadatas"]
        offset = 0
        while True:
            got = self._read(lambda col: col.get(include=include, limit=_PAGE, offset=offset))  # noqa: B023
            ids = got["ids"]
            if not ids:
                return
            docs = got.get("documents") or [""] * len(ids)
            for i, cid in enumerate(ids):
                meta = {k: v for k, v in (got["metadatas"][i] or {}).items() if k != SENTENCE_VECTORS}
                yield StoredChunk(cid, docs[i] or "", meta)
            offset += len(ids)

    def get(self, ids: Sequence[str]) -> list[StoredChunk]:
        if not ids:
            return []
        got = self._read(lambda col: col.get(ids=list(ids), include=["metadatas", "documents"]))
        return [
            StoredChunk(cid, got["documents"][i], dict(got["metadatas"][i] or {}))
            for i, cid in enumerate(got["ids"])
        ]

    def vectors(self, ids: Sequence[str]) -> tuple[list[str], np.ndarray]:
        """Stored vectors of these chunks (ids in the order returned; unknown ids are skipped)."""
        found: list[str] = []
        parts = [np.zeros((0, self.dimension), dtype=np.float32)]
        for i in range(0, len(ids), _PAGE):
            part = list(ids[i : i + _PAGE])
            got = self._read(lambda col: col.get(ids=part, include=["embeddings"]))  # noqa: B023
            found.extend(got["ids"])
            parts.append(self._matrix(got))
        return found, np.concatenate(parts)

    def _matrix(self, got: dict[str, Any]) -> np.ndarray:
        """The embeddings of a ``get`` result as one float32 row per id."""
        return np.asarray(got["embeddings"], dtype=np.float32).reshape(len(got["ids"]), self.dimension)

    def all_vectors(self) -> tuple[list[str], np.ndarray]:
        """Every chunk's id and vector, page by page."""
        ids: list[str] = []
        parts = [np.zeros((0, self.dimension), dtype=np.float32)]
        while True:
            got = self._read(
                lambda col: col.get(include=["embeddings"], limit=_PAGE, offset=len(ids))  # noqa: B023
            )
            if not got["ids"]:
                return ids, np.concatenate(parts)
            ids.extend(got["ids"])
            parts.append(self._matrix(got))

    def nearest(self, embedding: np.ndarray, n: int) -> list[tuple[str, float]]:
        """Ids of the nearest chunks with cosine similarity (1 - distance), best first."""
        res = self._read(
            lambda col: col.query(query_embeddings=[embedding], n_results=n, include=["distances"])
        )
        pairs = zip(res["ids"][0], res["distances"][0], strict=True)
        return [(cid, 1.0 - float(dist)) for cid, dist in pairs]

    def query(self, embedding: np.ndarray, n: int) -> list[tuple[StoredChunk, float]]:
        """Nearest chunks with cosine similarity (1 - distance), best first."""
        col = self.collection()
        total = col.count()
        if total == 0:
            return []
        res = col.query(
            query_embeddings=[embedding],
            n_results=min(n, total),
            include=["metadatas", "documents", "distances"],
        )
        out = []
        for i, cid in enumerate(res["ids"][0]):
            chunk = StoredChunk(cid, res["documents"][0][i], dict(res["metadatas"][0][i] or {}))
            out.append((chunk, 1.0 - float(res["distances"][0][i])))
        return out
