"""Grounded, cited answers over the Trilateral Security Cooperation Framework corpus.

    >>> from rag import answer
    >>> a = answer("What is Freedom Edge?")
    >>> a.text, a.citations[0].text

This module is the public API; everything else is an implementation detail.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .config import Settings
from .errors import (
    ConfigError,
    IndexBusyError,
    IndexMissingError,
    LLMUnavailableError,
    LoaderError,
    ModelMismatchError,
    RagError,
    StoreUnavailableError,
)
from .schema import Answer, Citation, DocumentInfo, FileResult, IndexReport, IndexStatus

if TYPE_CHECKING:
    from .assistant import Assistant
    from .rewrite import History

__all__ = [
    "Answer",
    "Assistant",
    "Citation",
    "ConfigError",
    "DocumentInfo",
    "FileResult",
    "IndexBusyError",
    "IndexMissingError",
    "IndexReport",
    "IndexStatus",
    "LLMUnavailableError",
    "LoaderError",
    "ModelMismatchError",
    "RagError",
    "Settings",
    "StoreUnavailableError",
    "answer",
    "default_assistant",
    "index",
]

_default: Assistant | None = None
_default_lock = threading.Lock()


def default_assistant() -> Assistant:
    """The process-wide Assistant built from ``Settings()`` (model and index load once)."""
    global _default
    with _default_lock:
        if _default is None:
            from .assistant import Assistant

            _default = Assistant.from_settings(Settings())
        return _default


def answer(question: str, history: History | None = None) -> Answer:
    """Answer ``question`` from the default index; ``history`` is [(question, answer), …]."""
    return default_assistant().answer(question, history)


def index(rebuild: bool = False, *, files: Sequence[str | Path] | None = None) -> IndexReport:
    """Sync the default corpus folder into the default index (``rag index``).

    With ``files``, add or update just those files of the corpus folder and delete nothing
    (``rag index --file``); with ``rebuild``, start from an empty index (``rag index --rebuild``).
    """
    paths = [Path(f) for f in files] if files is not None else None
    return default_assistant().index(paths, rebuild=rebuild)


def __getattr__(name: str) -> object:
    if name == "Assistant":  # imported lazily: it pulls in nothing heavy, but keeps import rag tiny
        from .assistant import Assistant

        return Assistant
    raise AttributeError(f"module 'rag' has no attribute {name!r}")
