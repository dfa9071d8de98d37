"""Topic words: what a question (or a sentence) is about, without the words that only shape a
question, and with the abbreviations a reader types spelled out as the documents spell them."""

from __future__ import annotations

import re
from collections.abc import Container

from .keyword import tokenize

# Words that shape a question but carry no topic; they should not count as evidence.
QUESTION_WORDS = frozenset(
    tokenize(
        "what which who whom whose when where why how name named called mention mentioned "
        "article text document commentary say said does did tell kind type according describe "
        "held hold take took taken place happen happened occur occurred mean means"
        # The answer types' own words: the type check looks for the answer itself (a number,
        # a date, a place name); "United States" is the token "usa", so "state" never matches.
        " many much year years month months day days date dates decade decades time"
        " city cities state states location"
        # Function words BM25's short stopword list keeps: no topic either, and a corpus that
        # happens not to use one ("before", "do") must not look unable to answer.
        " do doing done have has had having before after during while about above below also"
        " just still even ever again very should would could can may might must shall"
        " from onto upon than here over under within without through across per via"
        " he him his she her hers me my mine we our ours you your yours them theirs"
        # Words too general to say what a question is about; paraphrases use them freely
        # ("get it up and running", "send a signal", "the main activities", "better briefed").
        " get gets getting got run running soon want wants wanted think thinks thought up down out"
        " send sends sending sent list main"
        " mainly better best see seen able long like other others besides apart actually"
        " particular particularly roughly go goes going come comes coming supposed meant feel"
        " feels really exactly currently probably generally usually often help helps helped"
        " helping due part use used using make makes made way ways thing things sort"
    )
)


# Abbreviations a reader may type for what documents spell out. Expanded only when no
# document uses the abbreviation and some document uses every word of its expansion.
_ABBREVIATIONS = {
    "PM": "Prime Minister", "FM": "Foreign Minister", "DPRK": "North Korea", "ROK": "South Korea",
    "PRC": "China", "ROC": "Taiwan", "UK": "United Kingdom", "EU": "European Union",
    "UN": "United Nations", "N. Korea": "North Korea", "S. Korea": "South Korea",
}
_ABBREVIATION = re.compile(
    r"(?<![\w.])("
    + "|".join(re.escape(a) for a in sorted(_ABBREVIATIONS, key=len, reverse=True))
    + r")(?!\w)"
)


def expand_abbreviations(question: str, vocabulary: Container[str] | None) -> str:
    """"Who is the Japanese PM?" → "Who is the Japanese Prime Minister?" when the documents
    say "Prime Minister" and never "PM" (else the abbreviation counts as a word they lack)."""
    if vocabulary is None:
        return question

    def expand(match: re.Match[str]) -> str:
        short, full = match.group(1), _ABBREVIATIONS[match.group(1)]
        unused = not any(t in vocabulary for t in tokenize(short))
        return full if unused and all(t in vocabulary for t in tokenize(full)) else short

    return _ABBREVIATION.sub(expand, question)


# "Does the author think …", "in the writer's view", "according to the author": whose opinion
# is asked, not what it is about. ("Who is the author?" keeps the word: there it is the topic.)
_WHOSE_VIEW = re.compile(
    r"\b(?:(?:in|according\s+to)\s+)?(?:the|this)\s+(?:author|writer)(?:[’']s)?"
    r"(?:\s+(?:view|opinion|words|assessment)\b|(?=\s+(?:thinks?|thought|says?|said|suggests?|"
    r"believes?|argues?|expects?|hopes?|sees?|means?|fears?|wants?|calls?)\b))"
    r"|\b(?:in|according\s+to)\s+(?:the|this)\s+(?:author|writer)\b",
    re.IGNORECASE,
)


def content_terms(text: str) -> set[str]:
    """Topic words of a text: stemmed, without stopwords and question words."""
    return set(tokenize(_WHOSE_VIEW.sub(" ", text))) - QUESTION_WORDS
