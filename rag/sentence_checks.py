"""What a sentence holds that a question may need: a number, a time, a day or a year, speech or
a reaction, a name the question did not use, an exact count of something. Pure checks on text;
``question.Reading`` decides which of them a question asks for."""

from __future__ import annotations

import re
from collections.abc import Set

from .keyword import tokenize

NUMBER = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozens?|hundreds?|"
    r"thousands?|millions?|billions?|several|few|many|single|both|half)\b",
    re.IGNORECASE,
)

TIME = re.compile(
    r"\b(1[5-9]\d\d|20\d\d|\d{1,2}(st|nd|rd|th)|\d{4}s|january|february|march|april|may|june|july|"
    r"august|september|october|november|december|spring|summer|autumn|fall|winter|today|"
    r"yesterday|tomorrow|decades?|centur(y|ies)|years?|months?|weeks?|days?|since|until|ago|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b",
    re.IGNORECASE,
)

FUTURE = re.compile(
    r"\b(will|shall|plans?|planned|scheduled|expected|next|upcoming|future|due to|by the end of)\b"
    r"|\b(?:is|are)\s+\w+ing\b",  # "Shin is meeting Kihara on Friday"
    re.IGNORECASE,
)

_MONTH = (
    r"(jan(uary)?|feb(ruary)?|mar(ch)?|apr(il)?|may|june?|july?|aug(ust)?|sep(t(ember)?)?|"
    r"oct(ober)?|nov(ember)?|dec(ember)?)\.?"
)

DAY = re.compile(
    rf"\b\d{{1,2}}(st|nd|rd|th)?\s+(of\s+)?{_MONTH}(?!\w)|\b{_MONTH}\s+\d{{1,2}}(st|nd|rd|th)?\b"
    r"|\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday|today|yesterday|tomorrow)\b"
    r"|\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b",
    re.IGNORECASE,
)

# A hope, however worded: what "What does the author hope …?" asks for.
HOPE = re.compile(r"\b(hop(e|es|ed|ing|eful|efully)|optimis\w*|wish(es|ed)?)\b", re.IGNORECASE)
# How often something happens: "annual", "every year", "twice", "daily", "hundreds" (of tests) …
FREQUENCY = re.compile(
    r"\b(annual(ly)?|yearly|biennial(ly)?|quarterly|monthly|weekly|daily|hourly|every|each|per|"
    r"times|twice|once|regular(ly)?|routine(ly)?|frequent(ly)?|recurr\w*|repeated(ly)?|again|"
    r"seasonal(ly)?|dozens|hundreds|thousands|numerous|many)\b",
    re.IGNORECASE,
)
# How long something lasts or lasted: "for three days", "a two-week drill", "since the 1980s".
_COUNT = r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
DURATION = re.compile(
    r"\b(?:" + _COUNT + r"|a|an|half\s+an?|several|few|many|couple\s+of)\s+(?:and\s+a\s+half\s+)?"
    r"(?:more\s+|full\s+|long\s+)?(?:seconds?|minutes?|hours?|days?|weeks?|fortnights?|months?|years?|"
    r"decades?|centur(?:y|ies))\b"
    r"|\b" + _COUNT + r"-(?:second|minute|hour|day|week|month|year|decade|century)\b"
    r"|\bfor\s+(?:decades|years|months|weeks|days|hours)\b|\bsince\s+(?:the\s+)?(?:1[5-9]|20)\d\ds?\b"
    r"|\b(?:fortnight|overnight|throughout)\b",
    re.IGNORECASE,
)
# How old someone or something is: "aged 64", "Austin, 71,", "a 70-year-old alliance", "born in 1960".
AGE = re.compile(
    r"\b\d{1,3}[-\s]years?[-\s]old\b|\baged?\s+(?:of\s+)?\d{1,3}\b|,\s*\d{1,3}\s*,"
    r"|\b(?:is|was|turned|turns)\s+\d{1,3}\b(?!\s*(?:%|per|percent|km|miles|missiles))"
    r"|\b(?:his|her|their)\s+(?:twenties|thirties|forties|fifties|sixties|seventies|eighties|nineties)\b"
    r"|\bborn\b|\b(?:founded|established|formed|created)\s+in\b",
    re.IGNORECASE,
)
YEAR = re.compile(
    r"\b(1[5-9]\d\d|20\d\d)s?\b|\b(last|this|next|that)\s+year\b|\byears?\s+ago\b", re.IGNORECASE
)

_EXACT_NUMBERS = frozenset(
    tokenize(
        "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety "
        "single both"
    )
)

_VAGUE_NUMBERS = frozenset(
    tokenize("dozen dozens hundred hundreds thousand thousands million millions several few many numerous")
)

# Reported speech: a verb of saying, or a quotation of three words or more (a quoted name such
# as “Freedom Edge” or a scare-quoted “optimised” reports no words).
SPEECH = re.compile(
    r"[“\"][^”\"\s]{0,80}\s+[^”\"\s]{1,80}\s+[^”\"]{1,300}?[”\"]"
    r"|\b(said|says|say|saying|told|tells|stated|(?<!united\s)states|statement|claimed|claims|speculated|"
    r"announced|announces|announcement|remarked|remarks|commented|replied|responded|warned|"
    r"declared|pledged|promised|vowed|insisted|added|predicted|argued|argues|interview|speech|"
    r"according)\b",
    re.IGNORECASE,
)

REACTION = re.compile(
    r"\b(react(s|ed|ion|ions)?|respon(d|ds|ded|se|ses)|repl(y|ied|ies)|retaliat\w*|welcom\w*|"
    r"condemn\w*|criticis\w*|criticiz\w*|protest\w*|denounc\w*|reject\w*|dismiss\w*|prais\w*|"
    r"consternation|said|says|stated|statement)\b",
    re.IGNORECASE,
)

# A party's view: their words or their reaction.
VIEW = re.compile(f"{SPEECH.pattern}|{REACTION.pattern}", re.IGNORECASE)

CALENDAR = frozenset(
    tokenize(
        "January February March April May June July August September October November December "
        "Monday Tuesday Wednesday Thursday Friday Saturday Sunday"
    )
)

# A word, in any script ("Évian" too); one that starts with a capital letter may be a name.
_WORD = re.compile(r"(?<![\w’'-])[^\W\d_][\w’']*")


def counts_exactly(sentence: str, things: Set[str]) -> bool:
    """Does the sentence count the things exactly: is the nearest quantity within four words
    before them an exact number ("12 ballistic missiles"), not "hundreds" or a year? With no
    things known, any exact number will do."""
    tokens = tokenize(sentence)
    if not things:
        return any(_exact(t) for t in tokens)
    for i, t in enumerate(tokens):
        if t in things:
            before = [b for b in reversed(tokens[max(0, i - 4) : i]) if _exact(b) or b in _VAGUE_NUMBERS]
            if before and _exact(before[0]):
                return True
    return False


def _exact(token: str) -> bool:
    return token in _EXACT_NUMBERS or (token.isdigit() and not YEAR.fullmatch(token))


def close_together(terms: frozenset[str], tokens: list[str], slack: int = 1) -> bool:
    """Do all the terms occur within one short run of the tokens (a phrase, not a list)?"""
    width = len(terms) + slack
    return any(terms <= set(tokens[i : i + width]) for i in range(max(1, len(tokens) - width + 1)))


def fits(wants: str | None, sentence: str, asked: Set[str]) -> bool:
    """Could the sentence hold the kind of answer asked for? (No type: any sentence can.)"""
    if wants == "number":
        return bool(NUMBER.search(sentence))
    if wants == "time":
        return bool(TIME.search(sentence))
    if wants == "place":  # a name the question did not use, and not a month or a weekday
        return names_something_new(sentence, asked | CALENDAR)
    if wants == "name":  # a name it did not ask with
        return names_something_new(sentence, asked)
    return True


# What may come between a thing and the name after it: "the exercise, “Freedom Edge”", "a pact
# called …"; and the words that, first in a sentence, are no name ("The framework …").
_NAME_AFTER = re.compile(r"(?:\s+(?:called|named|dubbed|known\s+as)\s+[“\"‘']?|,?\s*[“\"‘'])[^\W\d_]")
_DETERMINERS = frozenset("a an the this that these those its their our his her".split())
_NAME_THEN_THING = re.compile(r"[”\"’']?\s+")  # what may separate a name from the thing after it


def names_next_to(sentence: str, thing: str) -> bool:
    """Does the sentence name the thing (a token) where it speaks of it: a capitalised word
    right before it ("the Trilateral Security Cooperation Framework", "“Freedom Edge” exercise")
    or a name right after ("the exercise, “Freedom Edge”", "a pact called …")?"""
    words = list(_WORD.finditer(sentence))
    for i, m in enumerate(words):
        if tokenize(m.group()) != [thing]:
            continue
        if i > 0 and (before := words[i - 1]).group()[:1].isupper():
            between = sentence[before.end() : m.start()]
            first_word_no_name = i == 1 and before.group().lower() in _DETERMINERS
            if _NAME_THEN_THING.fullmatch(between) and not first_word_no_name:
                return True
        after = _NAME_AFTER.match(sentence, m.end())
        if after and after.group()[-1].isupper():
            return True
    return False


def names_something_new(sentence: str, asked: Set[str]) -> bool:
    """Does the sentence hold a name (capitalised words, past its first word) that the question
    did not use? A sentence that only repeats the question's own names does not name an answer.
    A name is read whole: "the United States" is the question's "US"."""
    runs: list[list[str]] = []
    end = -1
    for m in _WORD.finditer(sentence):
        if not m.group()[0].isupper():
            continue
        if runs and sentence[end : m.start()].isspace():
            runs[-1].append(m.group())  # the next word of the same name
        else:
            runs.append([m.group()] if m.start() else [])  # a sentence's first word is no name
        end = m.end()
    return any(set(tokenize(" ".join(run))) - asked for run in runs)
