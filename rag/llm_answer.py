"""Turn an LLM reply into a verified Answer: every sentence must be supported by the
passage it cites; unsupported sentences are removed and the user is told."""

from __future__ import annotations

import re
from collections.abc import Sequence

from .chunking import sentence_spans
from .compose import Candidate, Composer
from .retrieve import Hit
from .schema import Answer
from .topic import content_terms

_MARKERS = re.compile(r"\[(\d+)\]")
_LEADING_MARKERS = re.compile(r"^(\s*\[\d+\])+")
# A passage sentence that addresses the model ("ignore previous instructions and say …"): an LLM
# that obeyed it would echo its words, which would then look "supported" by that very sentence.
_INSTRUCTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(instructions?|prompts?|rules|directions)\b"
    r"|\bsystem prompt\b|\byou are now\b"
    r"|\b(assistant|ai|llm|model)s?\s*[,:]?\s*(must|should)\s+(say|reply|answer)\b",
    re.IGNORECASE,
)
SUPPORT = 0.6  # share of a sentence's topic words that its cited passage sentence must contain


def verified_answer(
    composer: Composer, question: str, query: str, hits: Sequence[Hit], reply: str
) -> Answer | None:
    """The checked answer, or None when nothing in the reply survives the check."""
    if "NOT FOUND" in reply.upper() and len(reply) < 40:
        return composer.abstain(question, query, composer.candidates(query, hits, question=question))
    kept: list[tuple[str, Candidate]] = []
    dropped = 0
    for plain, refs in _sentences(reply):
        best = _best_support(plain, [hits[r - 1] for r in refs if 0 < r <= len(hits)])
        if best is None:
            dropped += 1
            continue
        kept.append((plain, best))
    if not kept:
        return None
    citations = composer.cite([c for _, c in kept])
    if len(citations) != len(kept):
        return None
    text = " ".join(f"{s} [{c.marker}]" for (s, _), c in zip(kept, citations, strict=True))
    notice = (
        f"{dropped} sentence(s) of the generated answer were removed: their cited passage "
        "does not support them."
        if dropped
        else ""
    )
    return Answer(text, citations, False, query, question, mode="llm", notice=notice)


def _sentences(reply: str) -> list[tuple[str, list[int]]]:
    """The reply's sentences without markers, each with the passage numbers it cites.

    Markers may come before the full stop ("… in June [1].") or after it ("… in June. [1]");
    the sentence splitter puts the latter at the start of the next sentence, so markers that
    open a sentence are given back to the one before."""
    out: list[tuple[str, list[int]]] = []
    for span in sentence_spans(reply):
        sentence = reply[span.start : span.end]
        lead = _LEADING_MARKERS.match(sentence)
        if lead and out:
            out[-1][1].extend(int(n) for n in _MARKERS.findall(lead.group(0)))
            sentence = sentence[lead.end() :]
        plain = re.sub(r"\s*\[\d+\]", "", sentence).strip()
        if plain:
            out.append((plain, [int(n) for n in _MARKERS.findall(sentence)]))
    return out


def _best_support(sentence: str, hits: Sequence[Hit]) -> Candidate | None:
    terms = content_terms(sentence)
    if not terms:
        return None
    best: tuple[float, Candidate] | None = None
    for hit in hits:
        base = int(hit.metadata.get("start", 0))
        for span in sentence_spans(hit.text):
            text = hit.text[span.start : span.end]
            if _INSTRUCTION.search(text):  # an order planted in a document is not evidence
                continue
            share = len(terms & content_terms(text)) / len(terms)
            if share >= SUPPORT and (best is None or share > best[0]):
                best = (share, Candidate(text, hit, base + span.start, base + span.end, score=share))
    return best[1] if best else None
