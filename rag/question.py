"""Reading a question: its topic words, the kind of answer it asks for, and the names and
role it is about. Text alone, no index: the composer weighs sentences with what is read here."""

from __future__ import annotations

import re
from collections.abc import Container, Set
from dataclasses import dataclass

from .keyword import tokenize

# Words that shape a question but carry no topic; they should not count as evidence.
QUESTION_WORDS = frozenset(
    tokenize(
        "what which who whom whose when where why how name named called mention mentioned "
        "article text document commentary say said does did tell kind type according describe "
        "held hold take took taken place happen happened occur occurred mean means"
        # Function words BM25's short stopword list keeps: no topic either, and a corpus that
        # happens not to use one ("before", "do") must not look unable to answer.
        " do doing done have has had having before after during while about above below also"
        " just still even ever again very should would could can may might must shall"
        " from onto upon than here over under within without through across per via"
        " he him his she her hers me my mine we our ours you your yours them theirs"
        # Words too general to say what a question is about; paraphrases use them freely
        # ("get it up and running", "the main activities", "better briefed").
        " get gets getting got want wants wanted think thinks thought up down out list main"
        " mainly better best see seen able long like other others besides apart actually"
        " particular particularly roughly go goes going come comes coming supposed meant feel"
        " feels really exactly currently probably generally usually often help helps helped"
        " helping due part use used using make makes made way ways thing things sort"
    )
)


def content_terms(text: str) -> set[str]:
    """Topic words of a text: stemmed, without stopwords and question words."""
    return set(tokenize(text)) - QUESTION_WORDS


@dataclass(frozen=True)
class Reading:
    """What a question asks for, as far as its words tell."""

    wants: str | None  # "number", "time", "place", "name" or None (any sentence may answer)
    asked: frozenset[str]  # the question's tokens: an answer must name something else
    absent: bool  # it is about a name, or asks for an attribute, that no document has
    subject: frozenset[str]  # a yes/no question's names: the answer must name one of them
    role: frozenset[str]  # "who is <role>?": the answer must hold all of the role's words
    tokens: frozenset[str]  # all of the question's tokens

    def factor(self, sentence: str) -> float:
        """How far the sentence can answer the question, by the checks above: 1 when it can,
        less for each check it fails."""
        tokens = set(tokenize(sentence))
        f = 0.8 if self.absent else 1.0
        if not fits(self.wants, sentence, self.asked):  # "when …?" without a time, and so on
            # Who did something is not always a capitalised name ("three island councils").
            f *= 0.6 if self.wants == "name" else 0.4
        if self.subject and not self.subject & tokens:
            f *= 0.6
        if self.role and not self.role <= tokens:
            f *= 0.5
        if (field := _FIELD.match(sentence)) and not set(tokenize(field[1])) & self.tokens:
            f *= 0.5  # "publisher: …" answers who publishes, not who wrote
        return f


def read_question(question: str, corpus_terms: Container[str] | None, standalone: bool) -> Reading:
    """Read ``question``. ``corpus_terms`` holds every term the indexed documents use (None:
    unknown, so nothing counts as absent); ``standalone`` is False for a follow-up whose
    search query was rewritten with earlier turns: its names and role may be in those."""
    wants = answer_type(question)
    tokens = frozenset(tokenize(question))
    known = corpus_terms if corpus_terms is not None else _Everything()
    absent = corpus_terms is not None and (
        names_a_stranger(question, known) or asks_for_an_absent_attribute(question, known)
    )
    subject = question_names(question) if standalone and _YES_NO.match(question) else set()
    role = {t for t in asked_role(question) if t in known} if standalone else set()
    return Reading(
        wants,
        tokens if wants in ("name", "place") else frozenset(),
        absent,
        frozenset(subject),
        frozenset(role),
        tokens,
    )


class _Everything:
    """A vocabulary that holds every term (when the corpus's is not known)."""

    def __contains__(self, item: object) -> bool:
        return True


_NUMBER = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozens?|hundreds?|"
    r"thousands?|millions?|billions?|several|few|many|single|both|half)\b",
    re.IGNORECASE,
)
_QUANTITY_Q = re.compile(r"^\s*how\s+(many|much)\b", re.IGNORECASE)
_TIME = re.compile(
    r"\b(1[5-9]\d\d|20\d\d|\d{1,2}(st|nd|rd|th)|\d{4}s|january|february|march|april|may|june|july|"
    r"august|september|october|november|december|spring|summer|autumn|fall|winter|today|"
    r"yesterday|tomorrow|(last|next|this|past|coming)\s+(week|month|year|decade|century)|"
    r"decades?|centur(y|ies)|years?|months?|weeks?|days?|since|until|ago)\b",
    re.IGNORECASE,
)
_TIME_Q = re.compile(
    r"^\s*(when|since when|until when|by when)\b|\b(what|which)\s+(year|month|day|date|decade)\b"
    r"|\bhow\s+long\s+ago\b",
    re.IGNORECASE,
)
_PLACE_Q = re.compile(
    r"^\s*where\b|\b(in|into|at|from|to)\s+(what|which)\s+(\w+\s+)?(city|cities|country|"
    r"countries|state|province|region|place|location|waters?|sea|ocean|venue|town|capital)\b",
    re.IGNORECASE,
)
_NAME_Q = re.compile(r"^\s*who(m|se)?\b|\b(names?|named|called)\b", re.IGNORECASE)
_CAPITALISED = re.compile(r"(?<![\w’'-])[A-Z][\w’']*")
_CALENDAR = frozenset(
    tokenize(
        "January February March April May June July August September October November December "
        "Monday Tuesday Wednesday Thursday Friday Saturday Sunday"
    )
)


def answer_type(question: str) -> str | None:
    """What kind of answer the question asks for, when that is easy to check: a quantity
    ("how many …?"), a time ("when …?", "on what date …?"), a place ("where …?", "in which
    city …?") or a name ("who …?", "what is the name of …?")."""
    if _QUANTITY_Q.search(question):
        return "number"
    if _TIME_Q.search(question):
        return "time"
    if _PLACE_Q.search(question):
        return "place"
    if _NAME_Q.search(question):
        return "name"
    return None


def fits(wants: str | None, sentence: str, asked: Set[str]) -> bool:
    """Could the sentence hold the kind of answer asked for? (No type: any sentence can.)"""
    if wants == "number":
        return bool(_NUMBER.search(sentence))
    if wants == "time":
        return bool(_TIME.search(sentence))
    if wants == "place":  # a name the question did not use, and not a month or a weekday
        return names_something_new(sentence, asked | _CALENDAR)
    if wants == "name":  # a name it did not ask with
        return names_something_new(sentence, asked)
    return True


_WHO_IS = re.compile(
    r"^\s*who(?:\s+is|\s+was|\s+are|\s+were|[’']s)\s+(.+?)(?:\s+(?:mentioned|named|pictured|shown|"
    r"quoted|cited|in|at|on|with|from|according)\b.*)?\s*\??\s*$",
    re.IGNORECASE,
)
# A front-matter field kept after a document's body ("publisher: Lowy Institute").
_FIELD = re.compile(r"^([a-z][a-z0-9_-]{0,30}):\s+\S")


def asked_role(question: str) -> set[str]:
    """The words of the role in "Who is Australia's defence minister?": a sentence naming
    some other country's defence minister does not answer it, nor one about Australia alone."""
    match = _WHO_IS.match(question)
    return {t for t in tokenize(match.group(1)) if t not in QUESTION_WORDS} if match else set()


def without(text: str, terms: set[str]) -> str:
    """The text minus the words whose tokens are all in ``terms``."""
    return " ".join(w for w in text.split() if not (tokens := tokenize(w)) or not set(tokens) <= terms)


def names_something_new(sentence: str, asked: Set[str]) -> bool:
    """Does the sentence hold a capitalised word (past its first) that the question did not
    use? A sentence that only repeats the question's own names does not name an answer."""
    words = _CAPITALISED.findall(sentence)[1:] if sentence[:1].isupper() else _CAPITALISED.findall(sentence)
    return any(set(tokenize(w)) - asked for w in words)


# A run of capitalised words ("United States", "Zorblax Treaty"), and what may come before a
# word that is capitalised only because a sentence or clause starts there.
_NAME_RUN = re.compile(r"(?<![\w’'-])[A-Z][\w’'-]*(?:\s+[A-Z][\w’'-]*)*")
_CLAUSE_START = re.compile(r"(^|[.!?:;,(\"“]\s*)$")


_YES_NO = re.compile(r"^\s*(is|are|was|were|does|do|did|has|have|had|will|would|can|could|should)\b", re.I)


def question_names(question: str) -> set[str]:
    """The tokens of the names a question uses: runs of capitalised words, tokenized whole (so
    "United States" is the corpus's "usa"); a run that starts a sentence or clause loses its
    first word, and question words never count."""
    out: set[str] = set()
    for match in _NAME_RUN.finditer(question):
        words = match.group().split()
        if _CLAUSE_START.search(question[: match.start()]):
            words = words[1:]
        out |= {t for t in tokenize(" ".join(words)) if t not in QUESTION_WORDS}
    return out


def names_a_stranger(question: str, keyword: Container[str]) -> bool:
    """Does the question use a name that no indexed document contains? Then the corpus is very
    unlikely to answer it ("Where was the Zorblax Treaty signed?"), however well the rest of
    the question matches (names as ``question_names`` reads them)."""
    return any(t not in keyword for t in question_names(question))


_ATTRIBUTE_Q = re.compile(
    r"^\s*(?:what|which)\s+(?:is|are|was|were)\s+the\s+([\w-]+)\s+(?:of|for|in)\b", re.IGNORECASE
)


def asks_for_an_absent_attribute(question: str, keyword: Container[str]) -> bool:
    """"What is the budget of the framework?": the attribute asked for (budget, population,
    capital …) appears in no document, so no document states it."""
    match = _ATTRIBUTE_Q.search(question)
    terms = [t for t in tokenize(match.group(1)) if t not in QUESTION_WORDS] if match else []
    return bool(terms) and not any(t in keyword for t in terms)
