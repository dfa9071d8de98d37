"""The corpus folder's files: listing them, telling them apart, fingerprinting their content."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def list_corpus(corpus_dir: Path) -> list[Path]:
    """Every non-hidden file below the corpus folder, sorted."""
    if not corpus_dir.is_dir():
        return []
    out = []
    for p in corpus_dir.rglob("*"):
        rel = p.relative_to(corpus_dir)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if p.is_file():
            out.append(p)
    return sorted(out)


def unique_files(paths: Sequence[Path]) -> list[Path]:
    """The paths in order, each file once: a file given twice, or a symlink to a file of the
    corpus, must not be indexed twice under the same source. Each folder is resolved once
    (resolving every path of a large corpus component by component is slow)."""
    seen: set[Path] = set()
    folders: dict[Path, Path] = {}
    out = []
    for p in map(Path, paths):
        if p.name in ("", ".", "..") or p.is_symlink():
            key = p.resolve()
        else:
            folder = folders.get(p.parent)
            if folder is None:
                folder = folders[p.parent] = p.parent.resolve()
            key = folder / p.name
        if key not in seen:
            seen.add(key)
            out.append(key)  # resolved once here; later steps rely on it
    return out
