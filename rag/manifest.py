"""What the index holds per source file, and a saved copy of it.

A sync decides per file whether it is unchanged from each source's chunk ids, file hash, chunk
count and chunker settings. Reading those from Chroma means reading every chunk's metadata
(about 0.5 s for 11,000 chunks); reading only the ids takes about 15 ms. So the indexer saves
the per-file state beside the index after each completed write, and a later sync uses that copy
only while the store holds exactly the ids it lists. Any write first drops the copy, so a run
killed half-way leaves none and the next sync reads the store itself.

Chunk ids come from text and position only, so a write can keep every id and still change what
the saved copy says (a new title or file hash on the same chunks). Every sync therefore also
stamps the collection with a new write generation before its first write, and a saved copy is
used only at the generation (and collection id) it was saved at: this catches writes by other
clients of a shared Chroma server, and a rebuild swapped in by another process, too.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .store import Store

_FORMAT = 1


@dataclass
class SourceState:
    """The chunks one source file has in the index."""

    ids: set[str] = field(default_factory=set)
    hashes: set[str] = field(default_factory=set)
    n_chunks: set[int] = field(default_factory=set)
    chunkings: set[str] = field(default_factory=set)

    def complete_for(self, file_hash: str, chunking: str) -> bool:
        """Does the index hold exactly the full set of chunks of this version of the file?"""
        return (
            self.hashes == {file_hash}
            and self.chunkings == {chunking}
            and len(self.n_chunks) == 1
            and next(iter(self.n_chunks)) == len(self.ids)
        )


State = dict[str, SourceState]


def state_of(chunks: Iterable[tuple[str, dict[str, Any]]]) -> State:
    """Per-source state from (chunk id, metadata) pairs."""
    state: dict[str, SourceState] = defaultdict(SourceState)
    for cid, meta in chunks:
        s = state[str(meta["source"])]
        s.ids.add(cid)
        s.hashes.add(str(meta.get("file_hash", "")))
        s.n_chunks.add(int(meta.get("n_chunks", -1)))
        s.chunkings.add(str(meta.get("chunking", "")))
    return dict(state)


class Manifest:
    """The saved state of one collection, in a JSON file."""

    def __init__(self, path: Path, collection: str) -> None:
        self.path = path
        self.collection = collection  # a file saved for another collection/server is ignored

    def load(self, stored_ids: Iterable[str], generation: str) -> State | None:
        """The saved state, if it was saved at this write ``generation`` of the store and lists
        exactly ``stored_ids``; else None."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or (
            data.get("format"),
            data.get("collection"),
            data.get("generation"),
        ) != (_FORMAT, self.collection, generation):
            return None
        try:
            state = {
                src: SourceState(set(s["ids"]), set(s["hashes"]), set(s["n_chunks"]), set(s["chunkings"]))
                for src, s in data["sources"].items()
            }
        except (KeyError, TypeError, AttributeError):
            return None
        listed = [i for s in state.values() for i in s.ids]
        wanted = set(stored_ids)
        if len(listed) != len(wanted) or set(listed) != wanted:
            return None
        return state

    def current(self, store: Store) -> State:
        """Per-file state of ``store``: the saved copy while it still matches the store's ids
        (an unchanged sync then reads no chunk metadata), else read from the store."""
        saved = self.load(store.ids(), store.generation())
        if saved is not None:
            return saved
        return state_of((c.id, c.metadata) for c in store.scan())

    def save(self, state: State, generation: str) -> None:
        """Write atomically (a reader sees the old file or the new one, never half of one)."""
        data = {
            "format": _FORMAT,
            "collection": self.collection,
            "generation": generation,
            "sources": {
                src: {
                    "ids": sorted(s.ids),
                    "hashes": sorted(s.hashes),
                    "n_chunks": sorted(s.n_chunks),
                    "chunkings": sorted(s.chunkings),
                }
                for src, s in state.items()
            },
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
        os.replace(tmp, self.path)

    def drop(self) -> None:
        """Forget the saved state (before any write to the store)."""
        self.path.unlink(missing_ok=True)
