"""Read back the extracted text of indexed documents, to verify and display citations."""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

from .config import Settings
from .errors import RagError
from .loaders import load_file
from .schema import LoadedDocument


class DocumentTexts:
    """Extracted text of corpus files, cached by (path, mtime, size)."""

    def __init__(self, settings: Settings, capacity: int = 64) -> None:
        self.settings = settings
        self._cache: OrderedDict[tuple[str, int, int], LoadedDocument] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()

    def path_of(self, source: str) -> Path:
        """The file of a corpus-relative source; refuses anything that escapes the corpus."""
        root = self.settings.corpus_dir
        path = (root / source).resolve()
        if not path.is_relative_to(root) or path == root:
            raise RagError(f"{source!r} is not a document of the corpus folder {root}.")
        return path

    def load(self, source: str) -> LoadedDocument:
        path = self.path_of(source)
        try:
            st = path.stat()
        except OSError as exc:
            raise RagError(
                f"{source} is in the index but no longer in {self.settings.corpus_dir}; "
                "run `rag index` to bring the index up to date."
            ) from exc
        key = (str(path), st.st_mtime_ns, st.st_size)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        doc = load_file(path, self.settings.corpus_dir, int(self.settings.max_file_mb * 2**20))
        with self._lock:
            self._cache[key] = doc
            while len(self._cache) > self._capacity:
                self._cache.popitem(last=False)
        return doc

    def section_text(self, source: str, page: int | None) -> str:
        """Text of one page (PDF) or of the whole document."""
        doc = self.load(source)
        for section in doc.sections:
            if (section.page or 0) == (page or 0):
                return section.text
        raise RagError(f"{source} has no page {page}; run `rag index` if the file changed.")

    def verify(self, source: str, page: int | None, start: int, end: int, text: str) -> bool:
        """True when the document's text at [start:end] is exactly ``text``."""
        try:
            return self.section_text(source, page)[start:end] == text
        except RagError:
            return False
