"""Text → chunks with stable ids and exact offsets. Pure: no I/O, no model.

A chunk is a run of whole sentences that fits the token budget; a sentence longer than the
budget is cut at token boundaries. Neighbouring chunks share a few trailing sentences
(the overlap). Offsets always slice back to the chunk: ``text[start:end] == chunk``.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .schema import Chunk, LoadedDocument

# Token character spans (start, end) of a text, without special tokens.
TokenSpans = Callable[[str], Sequence[tuple[int, int]]]

# A sentence ends at . ! ? (optionally followed by closing quotes/brackets) before whitespace,
# at CJK full stops, or at a blank line / line break (headings, list items, captions).
_SENTENCE_END = re.compile(
    r"""(?:[.!?]+['"’”)\]]*(?=\s))|[。！？]+|\n""",
)


@dataclass(frozen=True)
class Span:
    start: int
    end: int


def sentence_spans(text: str) -> list[Span]:
    """Sentences (or lines) of ``text`` as trimmed spans; whitespace-only pieces are dropped."""
    spans: list[Span] = []
    pos = 0
    for m in _SENTENCE_END.finditer(text):
        _add_trimmed(text, pos, m.end(), spans)
        pos = m.end()
    _add_trimmed(text, pos, len(text), spans)
    return spans


def _add_trimmed(text: str, start: int, end: int, out: list[Span]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        out.append(Span(start, end))


def chunk_spans(
    text: str, token_spans: TokenSpans, max_tokens: int, overlap_tokens: int
) -> list[Span]:
    """Pack sentences into spans of at most ``max_tokens`` tokens with a sentence overlap."""
    if max_tokens < 1:
        raise ValueError("max_tokens must be at least 1")
    tok_starts = [s for s, _ in token_spans(text)]

    def n_tokens(span: Span) -> int:
        return bisect.bisect_left(tok_starts, span.end) - bisect.bisect_left(tok_starts, span.start)

    def fits(start: int, end: int) -> bool:
        return len(token_spans(text[start:end])) <= max_tokens

    # (span, tokens, exact): a unit that starts inside a word is not "exact", because the
    # tokenizer splits a word's tail differently on its own than inside the full text.
    units: list[tuple[Span, int, bool]] = []
    for sent in sentence_spans(text):
        n = n_tokens(sent)
        if n <= max_tokens:
            units.append((sent, n, True))
            continue
        # Cut an over-long sentence at token boundaries, re-measuring pieces that start mid-text.
        first = bisect.bisect_left(tok_starts, sent.start)
        last = bisect.bisect_left(tok_starts, sent.end)
        i = first
        while i < last:
            j = min(i + max_tokens, last)
            start = sent.start if i == first else tok_starts[i]
            while i != first and j - i > 1 and not fits(start, sent.end if j == last else tok_starts[j]):
                j -= 1
            end = sent.end if j == last else tok_starts[j]
            piece: list[Span] = []
            _add_trimmed(text, start, end, piece)
            if piece:
                units.append((piece[0], j - i, i == first))
            i = j

    chunks: list[Span] = []
    i = 0
    while i < len(units):
        total, j = 0, i
        while j < len(units) and (j == i or total + units[j][1] <= max_tokens):
            total += units[j][1]
            j += 1
        while not units[i][2] and j - 1 > i and not fits(units[i][0].start, units[j - 1][0].end):
            j -= 1
        chunks.append(Span(units[i][0].start, units[j - 1][0].end))
        if j >= len(units):
            break
        # Step back over trailing sentences that fit in the overlap, but always advance.
        back, k = 0, j
        while k - 1 > i and back + units[k - 1][1] <= overlap_tokens:
            back += units[k - 1][1]
            k -= 1
        i = k
    return chunks


def chunk_id(source: str, page: int | None, start: int, text: str) -> str:
    """Deterministic id from source, position and content."""
    key = f"{source}\x00{page or 0}\x00{start}\x00{text}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def chunk_document(
    doc: LoadedDocument, token_spans: TokenSpans, max_tokens: int, overlap_tokens: int
) -> list[Chunk]:
    """All chunks of a loaded document, in reading order."""
    pieces: list[tuple[int | None, str, Span]] = []
    for section in doc.sections:
        for span in chunk_spans(section.text, token_spans, max_tokens, overlap_tokens):
            pieces.append((section.page, section.text, span))
    out = []
    for page, text, span in pieces:
        body = text[span.start : span.end]
        out.append(
            Chunk(
                id=chunk_id(doc.source, page, span.start, body),
                text=body,
                source=doc.source,
                title=doc.title,
                page=page,
                start=span.start,
                end=span.end,
                chunk_hash=hashlib.sha256(body.encode("utf-8")).hexdigest()[:16],
                file_hash=doc.file_hash,
                n_chunks=len(pieces),
            )
        )
    return out
