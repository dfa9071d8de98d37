"""Follow-up questions → standalone search queries, offline (history heuristics)."""

from __future__ import annotations

import re
from collections.abc import Sequence

History = Sequence[tuple[str, str]]  # (user question, assistant answer) pairs, oldest first

_PRONOUN = re.compile(
    r"\b(he|she|it|they|him|her|his|hers|its|their|them|this|that|these|those|there|then|"
    r"the same|the other|one|ones)\b",
    re.IGNORECASE,
)
_CONTINUATION = re.compile(r"^\s*(and|also|what about|how about|and what about|but|so)\b", re.I)
_MARKER = re.compile(r"\s*\[\d+\]")

# Interchangeable nationality words: "And the American one?" after a question about the
# Japanese minister should ask about the American minister.
_NATIONS = {
    "japan": "japan", "japanese": "japan", "tokyo": "japan",
    "korea": "korea", "korean": "korea", "south korea": "korea", "south korean": "korea",
    "seoul": "korea", "rok": "korea",
    "us": "us", "u.s.": "us", "united states": "us", "american": "us", "america": "us",
    "washington": "us",
    "north korea": "dprk", "north korean": "dprk", "pyongyang": "dprk",
    "china": "china", "chinese": "china", "beijing": "china",
    "russia": "russia", "russian": "russia", "australia": "australia", "australian": "australia",
}
_NATION_RE = re.compile(
    r"\b(" + "|".join(sorted((re.escape(k) for k in _NATIONS), key=len, reverse=True)) + r")\b",
    re.IGNORECASE,
)


def needs_context(question: str) -> bool:
    """Does the question lean on earlier turns (pronouns, 'and …', very short)?"""
    words = re.findall(r"\w+", question)
    return bool(_PRONOUN.search(question) or _CONTINUATION.search(question) or len(words) <= 3)


def rewrite(question: str, history: History | None) -> str:
    """A standalone query for ``question``; unchanged when it needs no context."""
    question = question.strip()
    if not history or not needs_context(question):
        return question
    prev_q, prev_a = history[-1]
    prev_q = prev_q.strip()
    swapped = _swap_nation(prev_q, question)
    if swapped:
        return swapped
    subject = _strip_question(prev_q)
    answer_hint = _MARKER.sub("", prev_a or "").strip()
    if "not found in the indexed documents" in answer_hint.lower():  # an abstention adds no subject
        answer_hint = ""
    parts = [question, subject]
    if answer_hint:
        parts.append(" ".join(answer_hint.split()[:30]))
    return " — ".join(p for p in parts if p)


def _strip_question(q: str) -> str:
    """'Who is South Korea's defence minister?' → "South Korea's defence minister"."""
    q = re.sub(r"^\s*(who|what|which|when|where|why|how)\b(\s+(is|are|was|were|did|does|do))?\s*", "", q, flags=re.I)
    return q.rstrip(" ?.!")


def _swap_nation(prev_q: str, question: str) -> str:
    """If the follow-up names a different nation than the previous question, swap it in."""
    new = [m.group(0) for m in _NATION_RE.finditer(question)]
    old = list(_NATION_RE.finditer(prev_q))
    if not new or not old or len(re.findall(r"\w+", question)) > 8:
        return ""
    if {_NATIONS[n.lower()] for n in new} == {_NATIONS[o.group(0).lower()] for o in old}:
        return ""
    first = old[0]
    return prev_q[: first.start()] + new[0] + prev_q[first.end() :]
