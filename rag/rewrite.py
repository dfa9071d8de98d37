"""Follow-up questions → standalone search queries, offline (history heuristics)."""

from __future__ import annotations

import re
from collections.abc import Sequence

History = Sequence[tuple[str, str]]  # (user question, assistant answer) pairs, oldest first

# Words that point back at something said earlier. Each kind has its own test below, because
# the same words also occur in standalone questions ("this commentary", "at its core",
# "is there", "the only one capable of …").
_PERSONAL = re.compile(r"\b(he|she|it|they|him|them|then|the same|the other)\b", re.IGNORECASE)
_THERE = re.compile(r"(?<!\bis )(?<!\bare )(?<!\bwas )(?<!\bwere )\bthere\b", re.IGNORECASE)
_ONE = re.compile(r"\b(the|which|that|this|what)\s+(?!only\b)(\w+\s+)?ones?\b", re.IGNORECASE)
_DEMONSTRATIVE = re.compile(r"\b(this|that|these|those)\b(?:\s+(\w+))?", re.IGNORECASE)
_POSSESSIVE = re.compile(r"\b(his|her|hers|its|their|theirs)\b", re.IGNORECASE)
# After a demonstrative, these words mean it names the document itself or is a conjunction.
_SELF_CONTAINED = frozenset(
    "article commentary document documents text report piece paper essay analysis corpus "
    "the a an it he she they we i there his her its their".split()
)
# Words that carry no subject: a possessive with only these before it has no antecedent.
_FUNCTION_WORDS = frozenset(
    "what which who whom whose when where why how is are was were do does did has have had can "
    "could will would should and also but so the a an of in on at to for about with by from".split()
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
# The country itself, for a nationality word that takes the place of a possessive.
_COUNTRY_NAMES = {
    "japan": "Japan", "korea": "South Korea", "us": "the US", "dprk": "North Korea",
    "china": "China", "russia": "Russia", "australia": "Australia",
}
# … and its adjective, for a country name that takes the place of one.
_ADJECTIVES = {
    "japan": "Japanese", "korea": "South Korean", "us": "US", "dprk": "North Korean",
    "china": "Chinese", "russia": "Russian", "australia": "Australian",
}
_ADJECTIVE_FORMS = frozenset(a.lower() for a in _ADJECTIVES.values()) | {"korean", "american"}
_NATION_RE = re.compile(
    r"\b(" + "|".join(sorted((re.escape(k) for k in _NATIONS), key=len, reverse=True)) + r")\b",
    re.IGNORECASE,
)


# "How does the author read that remark?": the follow-up asks about what was just said, so the
# answer is not that sentence again but what the document says of it (it usually comes next).
# Only a demonstrative points back ("the line of the DMZ", "in his words" do not).
_ABOUT_SAID = re.compile(
    r"\b(?:that|this|those|these|such\s+an?)\s+(?:\w+\s+)?(?:remarks?|comments?|statements?|claims?|"
    r"lines?|quotes?|quotations?|speculation|words|assertions?|boasts?|jibes?)\b",
    re.IGNORECASE,
)


# "How seriously does the writer take Trump's remark that …?": the writer's reading of words someone
# said, asked without a previous answer to point back at.
_WORDS_SAID = re.compile(
    r"\b(?:remarks?|comments?|claims?|statements?|quips?|boasts?|jibes?|lines?|speculation|assertions?)\b",
    re.IGNORECASE,
)
_WRITER = re.compile(r"\b(?:author|writer|article|piece|commentary)\b", re.IGNORECASE)
_TAKE = re.compile(
    r"\b(?:take|takes|make\s+of|makes\s+of|view|views|read|reads|interpret|interprets|treat|treats|"
    r"regard|regards|think|thinks|judge|judges|assess|assesses|see|sees|seriously)\b",
    re.IGNORECASE,
)


def asks_for_a_take_on_words(question: str) -> bool:
    """Does the question ask what the document makes of words someone said ("What does the
    author make of Trump's claim …?"), rather than for the words ("What was Trump's remark,
    according to the article?")?"""
    return all(p.search(question) for p in (_WORDS_SAID, _WRITER, _TAKE))


# "Is there a catch to that?", "Does that hold under any …?": the limit of what was just said,
# which the documents state right after it ("… the only country now capable … At least under the
# current US administration.").
_SETTING = re.compile(r"^\s*(?:when|where)\b", re.IGNORECASE)
_CAVEAT = re.compile(
    r"\b(?:caveats?|catch|catches|conditions?|qualifications?|qualifiers?|exceptions?|provisos?|"
    r"limits?|limitations?|strings\s+attached|no\s+matter|under\s+any|regardless)\b"
    r"|\b(?:does|do|would|will)\s+(?:that|this|it)\s+(?:still\s+|always\s+)?hold\b(?!\s+(?:it|them)\b)",
    re.IGNORECASE,
)


def asks_for_a_caveat(question: str) -> bool:
    """Does the follow-up ask for the limits of the previous answer (not when or where it was)?"""
    return bool(_CAVEAT.search(question)) and not _SETTING.search(question)


def asks_about_what_was_said(question: str) -> bool:
    """Does the follow-up ask about words said earlier ("that remark")?"""
    return bool(_ABOUT_SAID.search(question))


def needs_context(question: str) -> bool:
    """Does the question lean on earlier turns (pronouns, 'and …', very short and nameless)?"""
    words = re.findall(r"\w+", question)
    if _CONTINUATION.search(question) or _PERSONAL.search(question) or _THERE.search(question):
        return True
    if _ONE.search(question):
        return True
    for m in _DEMONSTRATIVE.finditer(question):
        if (m.group(2) or "").lower() not in _SELF_CONTAINED:
            return True
    for m in _POSSESSIVE.finditer(question):
        before = re.findall(r"\w+", question[: m.start()])
        if all(w.lower() in _FUNCTION_WORDS for w in before):
            return True
    # "Why?", "Which year?": too short to search on; "Who is Kishida?" names its subject.
    return len(words) <= 3 and not any(w[:1].isupper() for w in words[1:])


def rewrite(question: str, history: History | None) -> str:
    """A standalone query for ``question``; unchanged when it needs no context."""
    question = question.strip()
    if not history or not needs_context(question):
        return question
    prev_q, prev_a = history[-1]
    prev_q = (prev_q or "").strip()
    swapped = _swap_nation(prev_q, question)
    if swapped:
        return swapped
    subject = _strip_question(prev_q)
    if len(history) > 1 and needs_context(prev_q):  # "When did it take place?" after "Where did Biden …?"
        subject = _earlier_subject(history[:-1]) or subject
    return " — ".join(p for p in (question, subject, _answer_hint(prev_a)) if p)


def _earlier_subject(history: History, reach: int = 3) -> str:
    """The subject of the latest of the last ``reach`` turns that did not lean on the ones before
    (a loop, not a recursion: a history may be long)."""
    for q, _ in list(history)[-reach:][::-1]:
        q = (q or "").strip()
        if q and not needs_context(q):
            return _strip_question(q)
    return ""


def _answer_hint(answer: str | None) -> str:
    """What a follow-up's query carries of the previous answer: its first 30 words."""
    text = _MARKER.sub("", answer or "").strip()
    if "not found in the indexed documents" in text.lower():  # an abstention adds no subject
        return ""
    return " ".join(text.split()[:30])


def without_answer(query: str, said: str) -> str:
    """The query without what it carries of the previous answer ``said``: the words asked,
    and the subject they lean on. ("Where did he say that?" asks for a place the previous
    answer may well have named: its names were not asked with.)"""
    hint = _answer_hint(said)
    return query[: -len(hint) - 3] if hint and query.endswith(f" — {hint}") else query


def asks_of_another_nation(question: str, history: History | None) -> bool:
    """Is the follow-up the last question asked again of another nation ("And Japan?")? Then
    it is searched as a question of its own, not read with the last answer."""
    if not history or not needs_context(question.strip()):
        return False
    return bool(_swap_nation((history[-1][0] or "").strip(), question.strip()))


def _strip_question(q: str) -> str:
    """'Who is South Korea's defence minister?' → "South Korea's defence minister"."""
    q = re.sub(r"^\s*(who|what|which|when|where|why|how)\b(\s+(is|are|was|were|did|does|do))?\s*", "", q,
               flags=re.I)
    return q.rstrip(" ?.!")


def _swap_nation(prev_q: str, question: str) -> str:
    """If the follow-up names a different nation than the previous question, swap it in."""
    new = [m.group(0) for m in _NATION_RE.finditer(question)]
    old = list(_NATION_RE.finditer(prev_q))
    words = re.findall(r"\w+", question)
    # Only an elliptic follow-up asks the same again of another nation ("And the American one?",
    # "What about Japan?"); "Is Australia part of this pact?" asks something of its own.
    elliptic = _CONTINUATION.search(question) or _ONE.search(question) or len(words) <= 3
    if not new or not old or len(words) > 8 or not elliptic:
        return ""
    if {_NATIONS[n.lower()] for n in new} == {_NATIONS[o.group(0).lower()] for o in old}:
        return ""
    first = old[0]
    word, nation = new[0], _NATIONS[new[0].lower()]
    if prev_q[first.end() :].startswith(("'s", "’s")):  # "South Korea's" → "Japan's", not "Japanese's"
        word = _COUNTRY_NAMES.get(nation, word)
    elif first.group(0).lower() in _ADJECTIVE_FORMS and word.lower() not in _ADJECTIVE_FORMS:
        word = _ADJECTIVES.get(nation, word)  # "the Korean minister" → "the Japanese …", not "the Japan …"
    return prev_q[: first.start()] + word + prev_q[first.end() :]
