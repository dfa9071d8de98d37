"""Plain, frozen data passed between modules. No behaviour lives here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Section:
    """A run of extracted text: a whole document, or one page of a PDF."""

    text: str
    page: int | None = None  # 1-based PDF page; None for formats without pages


@dataclass(frozen=True)
class LoadedDocument:
    """A file after extraction: its title and its text sections."""

    source: str  # path relative to the corpus dir, with forward slashes
    title: str
    sections: tuple[Section, ...]
    file_hash: str  # sha256 of the file's bytes


@dataclass(frozen=True)
class Chunk:
    """A piece of one section; ``section.text[start:end] == text``."""

    id: str
    text: str
    source: str
    title: str
    page: int | None
    start: int
    end: int
    chunk_hash: str
    file_hash: str
    n_chunks: int  # how many chunks the whole file has (lets a sync spot half-written files)


@dataclass(frozen=True)
class Citation:
    """A cited passage, quoted verbatim from its source: ``document text[start:end] == text``."""

    marker: int
    source: str  # path openable from the project root, e.g. "corpus/report.pdf"
    title: str
    page: int | None
    start: int
    end: int
    text: str
    score: float
    chunk_id: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "marker": self.marker,
            "source": self.source,
            "title": self.title,
            "page": self.page,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "score": round(self.score, 4),
            "chunk_id": self.chunk_id,
        }


@dataclass(frozen=True)
class Answer:
    """What the assistant says, and the evidence for it."""

    text: str
    citations: list[Citation]
    abstained: bool
    query: str  # the standalone query that was searched (after follow-up rewriting)
    question: str = ""
    related: list[Citation] = field(default_factory=list)  # "possibly related" sources on abstention
    mode: str = "extractive"  # or "llm"
    notice: str = ""  # e.g. "LLM server unreachable; showing the extractive answer"

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "citations": [c.to_dict() for c in self.citations],
            "abstained": self.abstained,
            "query": self.query,
            "question": self.question,
            "related": [c.to_dict() for c in self.related],
            "mode": self.mode,
            "notice": self.notice,
        }


@dataclass(frozen=True)
class FileResult:
    """What a sync did with one file."""

    source: str
    status: str  # added | updated | unchanged | deleted | failed
    chunks: int = 0
    reason: str = ""


@dataclass(frozen=True)
class IndexReport:
    """The outcome of one sync, file by file."""

    files: tuple[FileResult, ...]
    seconds: float
    total_chunks: int

    def by_status(self, status: str) -> list[FileResult]:
        return [f for f in self.files if f.status == status]

    @property
    def counts(self) -> dict[str, int]:
        keys = ("added", "updated", "unchanged", "deleted", "failed")
        return {k: len(self.by_status(k)) for k in keys}

    @property
    def ok(self) -> bool:
        return not self.by_status("failed")


@dataclass(frozen=True)
class DocumentInfo:
    """One indexed document, as listed in the documents view."""

    source: str
    title: str
    pages: int
    chunks: int
    indexed_at: str


@dataclass(frozen=True)
class IndexStatus:
    """A summary of the index for status displays."""

    documents: int
    chunks: int
    model: str
    last_sync: str
    location: str
