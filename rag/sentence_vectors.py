"""The vectors of a chunk's sentences, embedded once at index time and kept with the chunk.

An extractive answer scores the sentences of the retrieved passages by their cosine to the
question. Embedding them while the user waits took most of a warm answer (~9 ms a sentence on
a 2-core AVX2 CPU, a dozen per answer). The indexer embeds each new chunk's sentences once and
stores them in the chunk's own metadata, so they are written, copied, replaced and deleted
with the chunk by every sync and rebuild, with no second collection to keep in step.

Stored as one string (a list value would be one metadata row per number): the runtime that
embedded them, the spans of the texts embedded, then their vectors as base64 float16 (a cosine
moves by ~1e-4). Texts are looked up by their words, so a passage stored by an older version,
by another runtime, or none at all, only costs the embeddings it lacks: an answer never
compares vectors of two runtimes.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .chunking import sentence_spans

KEY = "sentence_vectors"  # the chunk metadata field
_VERSION = "1"

# A sentence that refers back to the one before it ("… cooperation between them"); "their" and
# "it" refer within the sentence too often to count.
_REFERS_BACK = re.compile(r"\b(?:they|them)\b", re.IGNORECASE)
_CJK_CHAR = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


@dataclass(frozen=True)
class Quotable:
    """A sentence of a chunk that an answer may quote, at ``start:end`` of the chunk's text."""

    start: int
    end: int
    text: str
    previous: tuple[int, int] | None  # the sentence before, when this one refers back to it

    def in_context(self, chunk_text: str) -> str:
        """The sentence read with the one before ("" when it does not refer back)."""
        if self.previous is None:
            return ""
        return _joined([chunk_text[self.previous[0] : self.previous[1]], self.text])


def _joined(sentences: list[str]) -> str:
    return " ".join(sentences)


def too_short(text: str) -> bool:
    """Fewer than three words: a fragment, not an answer. Japanese and Chinese write no
    spaces, so there every two CJK characters count as a word."""
    return len(text.split()) + len(_CJK_CHAR.findall(text)) // 2 < 3


def quotable(chunk_text: str) -> list[Quotable]:
    """The sentences of a chunk an answer may quote: not questions, not fragments."""
    out: list[Quotable] = []
    before: tuple[int, int] | None = None
    for span in sentence_spans(chunk_text):
        previous, before = before, (span.start, span.end)
        text = chunk_text[span.start : span.end]
        if text.rstrip().endswith(("?", "？")) or too_short(text):
            continue
        refers = previous is not None and bool(_REFERS_BACK.search(text))
        out.append(Quotable(span.start, span.end, text, previous if refers else None))
    return out


def _texts(chunk_text: str) -> tuple[list[str], list[str]]:
    """What is embedded for a chunk: each quotable sentence, and a referring one in context too,
    with the span codes that rebuild each text from the chunk."""
    texts, codes = [], []
    for q in quotable(chunk_text):
        texts.append(q.text)
        codes.append(f"{q.start}-{q.end}")
        if q.previous is not None:
            texts.append(q.in_context(chunk_text))
            codes.append(f"{q.previous[0]}-{q.previous[1]}+{q.start}-{q.end}")
    return texts, codes


def embed(chunk_texts: Sequence[str], encode: Callable[[list[str]], np.ndarray], runtime: str) -> list[str]:
    """For each chunk, its sentences' vectors (by ``runtime``) packed for its metadata (one
    encode call)."""
    per_chunk = [_texts(t) for t in chunk_texts]
    everything = [text for texts, _ in per_chunk for text in texts]
    vectors = encode(everything) if everything else np.zeros((0, 0), dtype=np.float32)
    out, at = [], 0
    for texts, codes in per_chunk:
        part = vectors[at : at + len(texts)]
        at += len(texts)
        blob = base64.b64encode(np.asarray(part, dtype="<f2").tobytes()).decode("ascii")
        out.append(f"{_VERSION}:{runtime}|{','.join(codes)}|{blob}")
    return out


def unpack(chunk_text: str, value: object, dimension: int, runtime: str) -> dict[str, np.ndarray]:
    """The stored vectors of a chunk, by the text they embed ({} when none, unreadable or made
    by another runtime than ``runtime``: the caller embeds what it needs)."""
    decoded = _decode(value, dimension, runtime)
    if decoded is None:
        return {}
    entries, vectors = decoded
    try:
        texts = [_text_of(chunk_text, code) for code in entries]
    except ValueError:
        return {}
    return dict(zip(texts, vectors, strict=True))


def matrix(value: object, dimension: int, runtime: str) -> np.ndarray | None:
    """The stored vectors of a chunk, one row per text, without the texts (None when there are
    none, they are unreadable or another runtime made them)."""
    decoded = _decode(value, dimension, runtime)
    return decoded[1] if decoded is not None and len(decoded[0]) else None


def _decode(value: object, dimension: int, runtime: str) -> tuple[list[str], np.ndarray] | None:
    """(span codes, vectors) of a stored value, or None."""
    if not isinstance(value, str) or not value.startswith(f"{_VERSION}:{runtime}|"):
        return None
    try:
        _, codes, blob = value.split("|", 2)
        raw = np.frombuffer(base64.b64decode(blob, validate=True), dtype="<f2")
    except (ValueError, binascii.Error):
        return None
    entries = codes.split(",") if codes else []
    if raw.size != len(entries) * dimension:
        return None
    return entries, raw.reshape(len(entries), dimension).astype(np.float32)


def _text_of(chunk_text: str, code: str) -> str:
    parts = []
    for part in code.split("+"):
        start, end = (int(x) for x in part.split("-"))
        if not 0 <= start < end <= len(chunk_text):
            raise ValueError(f"span {part} outside the chunk")
        parts.append(chunk_text[start:end])
    return _joined(parts)


def lookup(
    texts: Sequence[str], stored: Mapping[str, np.ndarray], encode: Callable[[list[str]], np.ndarray]
) -> np.ndarray:
    """Vectors of ``texts``: the stored ones, and ``encode`` for the rest."""
    if not texts:
        return encode([])
    missing = list(dict.fromkeys(t for t in texts if t not in stored))
    fresh = dict(zip(missing, encode(missing), strict=True)) if missing else {}
    return np.stack([stored[t] if t in stored else fresh[t] for t in texts])
