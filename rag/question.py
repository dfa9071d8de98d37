"""Reading a question: its topic words, the kind of answer it asks for, and the names and role
it is about. The composer weighs every candidate sentence with what is read here; the corpus's
vocabulary is consulted only to tell the names and attributes that no document uses."""

from __future__ import annotations

import re
from collections.abc import Container
from dataclasses import dataclass

from .keyword import tokenize
from .sentence_checks import (
    AGE,
    DAY,
    DURATION,
    FREQUENCY,
    FUTURE,
    HOPE,
    SPEECH,
    TIME,
    YEAR,
    close_together,
    counts_exactly,
    fits,
    names_next_to,
)
from .topic import NATIONS, QUESTION_WORDS, question_names
from .voice import asked_voice

# "When will …?" asks about the future: a sentence about what already happened does not answer.
# "When is Shin meeting …?" asks the same.
_FUTURE_Q = re.compile(
    r"^\s*(?:when|where)\s+will\b|\b(next|upcoming|future|scheduled|planned|slated|due)\b"
    r"|^\s*when\s+(?:exactly\s+|precisely\s+)?(?:is|are)\s+(?:(?:he|she|they|we)\s+|(?-i:(?:[A-Z][\w-]*\s+){1,3}))"
    r"[a-z]{3,}ing\s+(?!(?:held|done|made|used|planned|set|due)\b)\w", re.IGNORECASE,
)
# "On what exact date …?" asks for a day: a month alone does not answer it.
_DAY_Q = re.compile(
    r"\b(exact|precise|specific)\s+(date|day)(?![\w-])|\b(what|which)\s+day(?![\w-])"
    r"|\bon\s+(?:exactly\s+|precisely\s+)?(what|which)\s+date(?![\w-])", re.IGNORECASE,
)
# "How often …?" asks for a frequency: "the first occurred in June" does not answer it.
_FREQUENCY_Q = re.compile(r"\bhow\s+(often|frequently|regularly)\b", re.IGNORECASE)
# "What does the author hope for?": a sentence saying what will be is no hope.
_HOPE_Q = re.compile(r"\b(hop(e|es|ed|ing)|wish(es|ed|ing)?)\b", re.IGNORECASE)
# "How long did it last?" asks for a span of time, "How old is he?" for an age: "in June" is neither.
_DURATION_Q = re.compile(r"\bhow\s+long\b(?!-|\s+ago\b)", re.IGNORECASE)
_AGE_Q = re.compile(r"\bhow\s+old\b", re.IGNORECASE)
# "In what year …?" asks for a year: "in August" does not answer it.
_YEAR_Q = re.compile(r"\b(what|which)\s+year(?![\w-])", re.IGNORECASE)
# "Exactly how many …?" asks for a count: "hundreds" or "several" does not answer it.
_EXACT_COUNT_Q = re.compile(
    r"\b(exactly|precisely)\W+how\s+many\b|^\s*how\s+many\b.*\b(exactly|precisely)\b"
    r"|\b(exact|precise)\s+(number|count|figure|total)\b", re.IGNORECASE,
)
# "How many missiles did it launch last year?": a question that dates what it asks about.
_DATED_Q = re.compile(
    r"\b(?:last|this|past|previous)\s+(?:year|month|week|decade|summer|winter|spring|autumn)\b"
    r"|\b(?:in|since|during)\s+(?:19|20)\d\d\b",
    re.IGNORECASE,
)
# An ordinal, in a question not about a place in the text ("the first paragraph", "the last line").
# Numbered only: with a single event, the first is also the latest.
_ORDINAL = re.compile(r"\b(first|second|third|fourth|fifth)\b", re.IGNORECASE)
_ORDINAL_Q = re.compile(
    _ORDINAL.pattern + r"(?!\s+(?:line|lines|paragraph|paragraphs|sentence|sentences|section|photo|photos|"
    r"photograph|picture|caption|time|place)\b)",
    re.IGNORECASE,
)
# "Journalist checking a quote: what exactly did Trump claim …?": a few words before a colon, then
# the question itself.
_PREAMBLE = re.compile(
    r"^[^:?]{1,60}:\s+(?=(?:what|which|who|whom|whose|when|where|why|how|is|are|was|were|do|does|did|"
    r"has|have|had|can|could|will|would|should)\b)",
    re.IGNORECASE,
)

# --- what the question asks for ---------------------------------------------------------
# "How much" asks for a quantity only with a word of amount ("how much effect …?" does not).
_ADVERBS_OF_PRECISION = frozenset("exactly precisely roughly approximately about around".split())
_ABOUT = r"^\s*(?:(?:" + "|".join(sorted(_ADVERBS_OF_PRECISION)) + r")\W+)?"
_QUANTITY_Q = re.compile(
    _ABOUT + r"(?:how\s+many\b|how\s+much\s+([\w-]+\s+){0,8}?(cost|costs|money|funding|budget|spend|"
    r"spent|worth|pay|paid)\b)",
    re.IGNORECASE,
)
_TIME_Q = re.compile(
    r"^\s*(when|since when|until when|by when|(?:the\s+)?date)\b"
    r"|\b(what|which)\s+(year|month|day|date|decade|deadline|timeline|timeframe|timetable)(?![\w-])"
    r"|\bhow\s+long\s+ago\b",
    re.IGNORECASE,
)
_PLACE_Q = re.compile(
    r"^\s*where\b|\b(in|into|at|from|to)\s+(what|which)\s+(\w+\s+){0,2}(city|cities|country|"
    r"countries|state|province|region|place|location|waters?|sea|ocean|venue|town|capital)\b",
    re.IGNORECASE,
)
_NAME_Q = re.compile(
    r"^\s*who(m|se)?\b|\b(names?|named|called)\b|\b(which|what)\s+(\w+\s+)?(countries|country|"
    r"nations?|leaders?|people|persons?|ministers?|officials?|organi[sz]ations?|compan(y|ies)|"
    r"institutes?|forums?)\b",
    re.IGNORECASE,
)
_WH = r"(?:what|who|whom|whose|when|where|why|how|which)\b"
_YES_NO = re.compile(  # "Is Australia a member …?", and "Australia is member …?" as some type it
    r"^\s*(is|are|was|were|does|do|did|has|have|had|will|would|can|could|should)(n[’']t)?\b|^\s*(?!" + _WH
    + r"|(?:so|and|but|or|then|also|now|ok|okay|well|yes|no|please|the|this|that|it|there|here)\b)"
    r"((?-i:[A-Z][\w’'-]*\s+){1,3})(?:is|are|was|were|has|have)\s(?!.*\b" + _WH + r").*\?\s*$",
    re.IGNORECASE,
)
# "Who is <role> …?": the role is a short phrase, ending where the rest of the question starts.
_WHO_IS = re.compile(
    r"^\s*who(?:\s+is|\s+was|[’']s)\s+(?:the\s+)?(.+?)(?=\s+(?:and|or|between|that|who|which|to|"
    r"mentioned|named|pictured|shown|quoted|cited|in|at|on|with|from|according)\b|\s*[,;?]|\s*$)",
    re.IGNORECASE,
)
# "What is the name of Australia's defence minister?" (and "australian defence minister name?")
_NAME_OF = re.compile(r"(?:what\s+is\s+|what[’']s\s+)?(?:the\s+)?name\s+of\s+(?:the\s+)?", re.IGNORECASE)
# "What is the framework between … called?": the thing named ends before these words.
_CALLED = re.compile(r"what\s+(?:is|was|are|were)\s+(?:the\s+)?", re.IGNORECASE)
_ROLE_ENDS = frozenset("between among amongst that which who of in at on with from for by to and or".split())
# "How many <things> …?": the things run up to the verb.
_HOW_MANY = re.compile(
    _ABOUT + r"how\s+many\s+(.+?)"
    r"(?:\s+(are|is|were|was|have|has|had|do|does|did|will|would|can|could)\b|\s*\??$)",
    re.IGNORECASE,
)
_ATTRIBUTE_Q = re.compile(
    r"^\s*(?:what|which)\s+(?:is|are|was|were)\s+(?:the\s+|(?:the\s+)?(?:[\w-]+\s+)?[\w-]+[’']s\s+)"
    r"(?:[\w-]+\s+)?([\w-]+)\s+(?:of|for|in|to|on|towards?)\b",
    re.IGNORECASE,
)
# "Which TV channel aired …?", "On which day did …?": the thing asked for is the last word
# before the verb.
_WHICH_THING = re.compile(
    r"^\s*(?:(?:in|on|at|from|to|for|by|with|of)\s+)?(?:which|what)\s+(?:[\w’'-]+\s+){0,2}?"
    r"([\w-]+)\s+(?:did|does|do|is|was|are|were|has|have|had|will|would|can|could|[a-z]+ed|took|"
    r"made|began|became|came|went|gave|held|met|led|won|sent|set|put|ran|got|brought|built|kept|"
    r"left|lost|saw|said|told|wrote|chose|signed|joined)\b",
    re.IGNORECASE,
)
# "What radar or satellite systems feed …?": a verb the pattern above does not know; the thing
# asked for is then the word right after "what", when "or", "of", "about" … follows it.
_AUXILIARY = r"(?:is|are|was|were|do|does|did|has|have|had|will|would|can|could|should|might|may|must)"
_WHAT_FIRST = re.compile(
    r"^\s*(?:(?:in|on|at|from|to|for|by|with|of)\s+)?(?:which|what)\s+([a-z][\w-]*)\s+(?:or|and|about|"
    r"of|in|on|for|from|to|with|at|by|" + _AUXILIARY + r")\b",
    re.IGNORECASE,
)
# …unless that word is a verb ("What came of …", "What happened to …") or an adverb.
_VERBS_AFTER_WHAT = frozenset(
    "came went happens happened comes goes became becomes remains remained needs stands led leads "
    "made makes took takes gave gives caused causes drove drives".split()
)
_NO_THING = frozenset(
    "else people person persons one ones thing things stuff kind sort type details detail information "
    "facts event events occasion occasions position positions role roles job post title deadline "
    "timeline timeframe timetable".split()
)
# A front-matter field kept after a document's body ("publisher: Lowy Institute"), and the
# question words that ask for the common fields.
_FIELD = re.compile(r"^([A-Za-z][\w-]{0,30}):\s+\S")
_FIELD_ASKED_BY = {
    tokenize(field)[0]: frozenset(tokenize(words))
    for field, words in {
        "author": "author authors wrote written write writer by",
        "date": "date when published",
        "publisher": "publisher published publishes publish",
    }.items()
}


@dataclass(frozen=True)
class Reading:
    """What a question asks for, as far as its words tell."""

    wants: str | None  # "number", "time", "place", "name" or None (any sentence may answer)
    tokens: frozenset[str]  # the question's tokens (and its rewritten query's)
    absent: bool  # it is about a name, or asks for an attribute, that no document has
    subject: frozenset[str]  # a yes/no question's names: the answer must name one of them
    role: frozenset[str]  # "who is <role>?": the answer must hold all of these words
    counted: frozenset[str]  # "how many <things>?": the answer must name the things
    future: bool = False  # "when will …?": the answer must speak of the future
    # "On what exact date …?", "In what year …?": what an answer must hold to be that precise
    # (a day, a year), or None
    precise: re.Pattern[str] | None = None
    exact_count: bool = False  # "Exactly how many …?": "hundreds" is no answer
    # "What did Kishida say …?": the speaker's names; the answer must report speech by them
    speaker: frozenset[str] = frozenset()
    # what a sentence must report of the speaker: their words ("say"), their reaction ("react"),
    # or either ("think")
    voice: re.Pattern[str] = SPEECH
    someone: bool = False  # "What did he say …?": the speaker is named earlier, but it is speech
    hoping: bool = False  # "What does the author hope …?": the answer must voice a hope
    ordinal: str = ""  # "When is the second exercise?": "the first occurred in June" answers no
    dated: bool = False  # "How many … last year?": an answer must say when, too
    naming: str = ""  # "What is the framework called?": a sentence on it must name it ("… Framework")

    def factor(self, sentence: str) -> float:
        """How far the sentence can answer the question: 1 when it passes every check, less
        for each check it fails."""
        tokens = set(tokenize(sentence))
        f = 0.6 if self.absent else 1.0
        if not fits(self.wants, sentence, self.tokens):  # "when …?" without a time, and so on
            # Who did something is not always a capitalised name ("three island councils").
            f *= 0.6 if self.wants == "name" else 0.4
        if self.subject and not self.subject & tokens:
            f *= 0.6
        if self.role and not self.role <= tokens:
            f *= 0.5
        elif self.role and not close_together(self.role, tokenize(sentence)):
            f *= 0.7  # "Japanese Prime Minister … and South Korean President" is no Korean minister
        if self.counted and not self.counted <= tokens:
            f *= 0.5  # "hundreds" of missiles is no count of warheads
        if self.precise and not self.precise.search(sentence):
            f *= 0.4  # "in August" is no exact date, nor a year, nor how often
        if self.exact_count and not counts_exactly(sentence, self.counted):
            f *= 0.4  # "hundreds of which" is no exact count; "three partners" counts no missiles
        if (self.speaker or self.someone) and not self.voice.search(sentence):
            f *= 0.4  # a caption naming Kishida says nothing he said; naming China, no reaction
        if self.speaker and not self.speaker <= tokens:
            f *= 0.6  # Shin's words are not Kishida's
        ordinals = {w.lower() for w in _ORDINAL.findall(sentence)} if self.ordinal else set()
        if ordinals and self.ordinal not in ordinals:
            f *= 0.5  # "the first iteration … occurred in June" says nothing of the second
        if self.dated and not TIME.search(sentence):
            f *= 0.6  # "hundreds of which have splashed down" counts none "last year"
        if self.naming in tokens and not names_next_to(sentence, self.naming):
            f *= 0.6  # "this framework points to …" speaks of it without its name
        if self.hoping and not HOPE.search(sentence):
            f *= 0.5  # "it is one of the most consequential developments" hopes for nothing
        if self.future and not FUTURE.search(sentence):
            f *= 0.5  # "When will the next exercise be?" is not answered by "the first occurred in June"
        if (field := _FIELD.match(sentence)) and not self.asks_for_field(field[1]):
            f *= 0.5  # "publisher: …" answers who publishes, not who wrote
        return f

    def asks_for_field(self, field: str) -> bool:
        key = frozenset(tokenize(field))
        asked_by = key.union(*(_FIELD_ASKED_BY.get(k, ()) for k in key))
        return bool(asked_by & self.tokens)


def read_question(question: str, query: str, vocabulary: Container[str] | None) -> Reading:
    """Read ``question``, searched as ``query`` (a follow-up's rewrite with earlier turns, else
    the question itself). ``vocabulary`` holds every term the indexed documents use (None when
    unknown: then nothing counts as absent). The names and role of a follow-up may be in the
    earlier turns, so they are checked only for a question that stands alone."""
    standalone = question == query
    question = _PREAMBLE.sub("", question)
    wants = answer_type(question)
    known: Container[str] = vocabulary if vocabulary is not None else _Everything()
    absent = vocabulary is not None and (
        names_a_stranger(question, known) or asks_for_an_absent_attribute(question, known)
    )
    yes_no = _YES_NO.match(question) if standalone else None  # its names, and one that starts it
    subject = question_names(question) | set(tokenize(yes_no.group(3) or "")) if yes_no else set()
    role = {t for t in asked_role(question) if t in known} if standalone else set()
    asked = asked_voice(question, standalone)
    return Reading(
        wants,
        frozenset(tokenize(question)) | frozenset(tokenize(query)),
        absent,
        frozenset(subject),
        frozenset(role),
        frozenset(counted_things(question)),
        future=wants in ("time", "place") and bool(_FUTURE_Q.search(question)),
        precise=_precision(question),
        exact_count=bool(_EXACT_COUNT_Q.search(question)),
        speaker=asked.speaker,
        someone=asked.someone,
        voice=asked.voice,
        hoping=bool(_HOPE_Q.search(question)),
        ordinal=ordinal[0].lower() if (ordinal := _ORDINAL_Q.search(question)) else "",
        dated=bool(_DATED_Q.search(question)),
        naming=named_thing(question) if standalone else "",
    )


def _precision(question: str) -> re.Pattern[str] | None:
    """What an answer must hold when the question asks for a precise day or year, how often,
    how long or how old."""
    return next((needs for asks, needs in _PRECISE_ASKS if asks.search(question)), None)


# A question asking for one of these, and what its answer must hold.
_PRECISE_ASKS = (
    (_DAY_Q, DAY), (_YEAR_Q, YEAR), (_FREQUENCY_Q, FREQUENCY), (_DURATION_Q, DURATION), (_AGE_Q, AGE)
)


class _Everything:
    """A vocabulary that holds every term (when the corpus's is not known)."""

    def __contains__(self, item: object) -> bool:
        return True


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


def asked_role(question: str) -> set[str]:
    """The role in "Who is Australia's defence minister?": its names and its head word. A
    sentence naming some other country's defence minister does not answer it, nor one about
    Australia alone. A long description ("who is capable of coaxing …") is no role."""
    match = _WHO_IS.match(question)
    words = _role_words(match.group(1) if match else _named(question))
    if not words:
        return set()
    names = " ".join(w for w in words if w[:1].isupper() or set(tokenize(w)) & NATIONS)
    return {t for t in tokenize(f"{names} {_head(words)}") if t not in QUESTION_WORDS}


def named_thing(question: str) -> str:
    """The token of what "What is the framework … called?" or "What is the name of the
    exercise?" asks the name of ("framework", "exercis"), or ""."""
    words = _role_words(_named(question))
    tokens = tokenize(_head(words)) if words else []
    return tokens[0] if len(tokens) == 1 and tokens[0] not in QUESTION_WORDS else ""


def _role_words(role: str) -> list[str]:
    """The words of a role, or none when it is too long or a participle ("credited for …")."""
    words = role.split()
    return [] if not words or len(words) > 5 or words[0].lower().endswith("ed") else words


def _head(words: list[str]) -> str:
    return words[words.index("of") - 1] if "of" in words[1:] else words[-1]  # "minister of Japan"


def _named(question: str) -> str:
    """What "What is the name of …?", "… name?" or "What is … called?" asks the name of (plain
    string work: a pattern for the second form backtracks badly on long runs of spaces)."""
    q = question.strip().rstrip("?").strip()
    if match := _NAME_OF.match(q):
        return q[match.end() :]
    if (called := _CALLED.match(q)) and q.lower().endswith(" called"):
        # "What is the framework between Japan, South Korea and the US called?": "framework"
        words = [w for w in q[called.end() : -len(" called")].split() if not w.lower().endswith("ly")]
        cut = next((i for i, w in enumerate(words) if w.lower() in _ROLE_ENDS), len(words))
        return " ".join(words[:cut])
    if not q.lower().endswith(" name"):
        return ""
    role = re.sub(r"^the\s+", "", q[:-5].rstrip(), flags=re.IGNORECASE)
    return re.sub(r"[’']s$", "", role)


def counted_things(question: str) -> set[str]:
    """What "How many North Korean missiles have …?" counts: the last word before the verb
    ("missiles"), or the word after "how many" when no auxiliary follows."""
    match = _HOW_MANY.match(question)
    if not match:
        return set()
    words = [w for w in match.group(1).split() if w.strip(",;:").lower() not in _ADVERBS_OF_PRECISION] or [""]
    counted = tokenize(words[-1] if match.group(2) else words[0])
    return {t for t in counted if t not in QUESTION_WORDS or t in _UNITS}  # "how many days": days


# Units of time a count may be of ("How many days did the summit last?"), though question words.
_UNITS = frozenset(tokenize("day days week weeks month months year years decade decades hour hours"))


def names_a_stranger(question: str, vocabulary: Container[str]) -> bool:
    """Does the question use a name that no indexed document contains? Then the corpus is very
    unlikely to answer it ("Where was the Zorblax Treaty signed?"), however well the rest of
    the question matches (names as ``question_names`` reads them)."""
    return any(t not in vocabulary for t in question_names(question))


def asks_for_an_absent_attribute(question: str, vocabulary: Container[str]) -> bool:
    """ "What is the budget of the framework?", "Which TV channel aired …?": the attribute or
    the kind of thing asked for (budget, population, channel …) appears in no document, so
    no document states it."""
    match = _ATTRIBUTE_Q.search(question)
    if not match and answer_type(question) != "place":  # "in which body of water": a place
        match = _WHICH_THING.search(question)
        if match and (match[1].lower() in _NO_THING or match[1].lower().endswith("ly")):
            match = None  # "what else …", "what precisely …", "what people …"
        if not match and (first := _WHAT_FIRST.search(question)):
            word = first[1].lower()
            # "-ing" too: "what wrongdoing by Kim" is rather a paraphrase than a thing no
            # document has (the "-ing" nouns "funding", "meeting" still count after "which").
            unknown_verb = word in _VERBS_AFTER_WHAT or word.endswith(("ed", "ly", "ing"))
            match = None if word in _NO_THING or unknown_verb else first
    terms = [t for t in tokenize(match.group(1)) if t not in QUESTION_WORDS] if match else []
    return bool(terms) and not any(t in vocabulary for t in terms)
