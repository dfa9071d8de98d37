"""Whose words or view a question asks for ("What did Kishida say …?", "How did China react …?",
"What does China think …?"), and what a sentence must report to answer it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .keyword import tokenize
from .sentence_checks import REACTION, SPEECH, VIEW
from .topic import NATIONS, QUESTION_WORDS, question_names

# "What did Kishida say about …?" asks for words someone said: a sentence must report speech.
# Who spoke or thinks: a few words ("Japanese Prime Minister Kishida", "the three ministers").
_WHO = r"((?:[\w’'.-]+\s+){0,4}?[\w’'.-]+)"
_AUX = r"(?:did|does|do|has|have|had|will|would|might)\b"
# Without an auxiliary, none may hide inside the speaker ("What 'vicissitudes' does the author say …").
_WHO_PLAIN = r"((?:(?!" + _AUX + r")[\w’'.-]+\s+){0,4}?(?!" + _AUX + r")[\w’'.-]+)"
# The auxiliary may be missing ("What Kim answer when …?", as some type it), with a verb that
# is no noun ("What US state …", "What Chinese claim …" ask for no one's words).
_SPEECH_Q = re.compile(
    r"^\s*what\s+" + _WHO_PLAIN + r"\s+(?:say|says|said|tell|tells|told|answer|answered|replied|"
    r"responded)\b|^\s*what\s+(?:\w+ly\s+)?" + _AUX + r"\s+" + _WHO + r"\s+(?:\w+ly\s+)?"
    r"(?:say|says|said|tell|told|claim|claimed|state|stated|announce|announced|speculate|speculated|remark|"
    r"remarked|comment|commented|answer|answered|reply|replied|respond|responded|warn|warned|declare|declared|pledge|"
    r"pledged|promise|promised|vow|vowed|insist|insisted|predict|predicted|argue|argued)\b",
    re.IGNORECASE,
)
# "How did China react to …?" asks for a reaction: a sentence naming China is not one.
_REACTION_Q = re.compile(
    r"^\s*how\s+(?:did|does|do|has|have|had|will|would|might|could)\s+" + _WHO + r"\s+(?:\w+ly\s+)?(?:react|"
    r"respond|reply|replied|retaliate)(?:s|ed|ing)?\b",
    re.IGNORECASE,
)
# "What does China think about …?", "How does Seoul view …?" ask for a party's view: a sentence
# must report what that party said or how it reacted, not merely name it.
_VIEW_Q = re.compile(
    r"^\s*what\s+(?:\w+ly\s+)?" + _AUX + r"\s+" + _WHO + r"\s+(?:\w+ly\s+)?"
    r"(?:think|thought|feel|felt|believe|make\s+of|made\s+of)\b"
    r"|^\s*what\s+" + _WHO_PLAIN
    + r"\s+(?:think|thinks|feel|feels|believe|believes)\b(?!\s+tanks?\b)"  # not "think tank"
    r"|^\s*how\s+" + _AUX + r"\s+" + _WHO + r"\s+(?:view|see|regard|"
    r"feel\s+about)\b"
    r"|^\s*what(?:[’']s|\s+(?:is|was|are|were))\s+" + _WHO + r"[’']s?\s+(?:opinion|opinions|view|views|"
    r"position|stance|take|assessment|verdict)\s+(?:of|on|about|regarding)\b",
    re.IGNORECASE,
)
# A lower-case speaker is a name when it is a nation ("what does china think …") or a word no
# English dictionary knows ("what did kishida say …"); "the pact", "the author" are no speakers.


# Roles a speaker is named by ("the Japanese prime minister"): part of who the speaker is.
_ROLES = frozenset(tokenize(
    "minister president secretary leader spokesman spokeswoman spokesperson official government "
    "ambassador chief commander envoy premier chancellor king emperor general admiral"
))


@dataclass(frozen=True)
class Voice:
    """The speaker a question asks about, and what a sentence must report of them."""

    speaker: frozenset[str] = frozenset()  # their names' tokens ("kishida"; "australia defenc minist")
    voice: re.Pattern[str] = SPEECH  # their words ("say"), their reaction ("react"), or either ("think")
    someone: bool = False  # "What did he say …?": named in an earlier turn, but it is speech asked for


_PRONOUNS = ("he", "she", "they", "it", "we", "you", "i")


def asked_voice(question: str, standalone: bool) -> Voice:
    """Read whose words the question asks for. Only a speaker makes it a question about speech
    ("what does the article say" is not); the speaker of a follow-up is in an earlier turn."""
    voice, speech = SPEECH, _SPEECH_Q.match(question)
    if reaction := _REACTION_Q.match(question):
        voice, speech = REACTION, reaction
    elif (view := _VIEW_Q.match(question)) and (not speech or view.end() < speech.end()):
        # the verb that comes first: "What did Trump claim Kim feels …?" asks for Trump's words
        voice, speech = VIEW, view
    who = next((g for g in speech.groups() if g), "") if speech else ""
    # a follow-up's "he" is in an earlier turn; a speaker it names itself is asked about
    speaker = _speaker(question, who) if who and (standalone or who.lower() not in _PRONOUNS) else set()
    return Voice(frozenset(speaker), voice, who.lower() in ("he", "she", "they"))


def _speaker(question: str, who: str) -> set[str]:
    """The tokens of the speaker ``who`` in a question about what they said or think."""
    named = question_names(question) & set(tokenize(who))
    if named and len(who.split()) <= 4 and (re.search(r"[’']s\s", who) or set(tokenize(who)) & _ROLES):
        return {t for t in tokenize(who) if t not in QUESTION_WORDS}  # "Australia's defence minister"
    if named or any(c.isupper() for c in who):
        return named
    from .spelling import is_dictionary_word

    words = re.findall(r"[a-z][a-z’'-]*", who)
    return {
        t for w in words for t in tokenize(w)
        if t not in QUESTION_WORDS and (t in NATIONS or not is_dictionary_word(w))
    }
