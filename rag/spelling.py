"""Typo correction for questions: a word that neither the documents nor an English dictionary
know is read as the documents' word one edit away ("framwork" → "framework")."""

from __future__ import annotations

import re
import string
from collections.abc import Container, Mapping
from functools import lru_cache
from typing import Any

from .keyword import tokenize

_WORD = re.compile(r"(?<![\w’'-])[A-Za-z]+(?=[’']s\b|(?![\w’'-]))")  # a word, or one before "'s"
# Question words typed in a hurry, read as such at the start of a question only ("wen" is a
# word elsewhere).
_QUESTION_TYPOS = {
    "wat": "what", "wht": "what", "waht": "what", "whta": "what", "whn": "when",
    "wehn": "when", "wher": "where", "whre": "where", "hw": "how", "hwo": "how", "whcih": "which",
}
_SHORTEST = 5  # shorter words have too many neighbours one edit away ("sato" → "nato")
# A capitalised word is a name: corrected only when this long and no English word ("Kihera" →
# "Kihara"; a name the documents lack must otherwise stay a stranger: "Sato" is not "Nato").
_SHORTEST_NAME = 6
_RARE = 500  # a dictionary word seen fewer times than this may still be a slip (see _slip)
_LONGEST = 30  # longer "words" are no typos, and their edits would cost time and memory
# Contractions typed without the apostrophe are no typos of the documents' words.
_CONTRACTIONS = frozenset(
    "theyre thats whats whos theres heres youre didnt doesnt wasnt werent isnt arent hasnt havent "
    "hadnt wouldnt couldnt shouldnt mustnt neednt wont cant dont".split()
)
# British spellings the (American) dictionary lacks: "normalise" is a word, not a typo of
# the documents' "formalise".
_BRITISH = [
    (re.compile(r"is(e|es|ed|ing|ation|ations)$"), r"iz\1"), (re.compile(r"ys(e|es|ed|ing)$"), r"yz\1"),
    (re.compile(r"our(s|ed|ing|ful|ite|ites)?$"), r"or\1"), (re.compile(r"ence$"), "ense"),
    (re.compile(r"tre(s)?$"), r"ter\1"), (re.compile(r"ogue(s)?$"), r"og\1"),
    (re.compile(r"mme(s)?$"), r"m\1"), (re.compile(r"ll(ed|ing|er|ers)$"), r"l\1"),
]


@lru_cache(maxsize=1)
def _english() -> Any:
    from spellchecker import SpellChecker

    return SpellChecker(distance=1)


def is_dictionary_word(word: str) -> bool:
    """Does an English dictionary know the (lower-case) word, in any of its spellings?"""
    return bool(_english().known(_spellings(word)))


def correct_typos(question: str, words: Mapping[str, int], vocabulary: Container[str]) -> str:
    """The question with its misspelt words corrected to words of the documents.

    ``words`` counts the documents' words (lower-case); ``vocabulary`` holds their index terms.
    A word is left alone when the documents use it (as typed, or stemmed alike), when an
    English dictionary knows it ("stop" is not a typo of the documents' "step"; a rare word
    with one of their letters dropped still is: "minster" → "minister"), when it is a
    capitalised name shorter than six letters or an English word (a name the documents lack
    must stay a stranger: "Sato" is not "Nato"), when it is shorter than five letters, or when
    no document word is one edit away.
    Of several, the most frequent wins."""
    if not words:
        return question

    def fix(match: re.Match[str]) -> str:
        word = match.group()
        lower = word.lower()
        first = not question[: match.start()].strip()
        if first and lower in _QUESTION_TYPOS:
            return _same_case(_QUESTION_TYPOS[lower], word)
        if not _SHORTEST <= len(word) <= _LONGEST or lower in _CONTRACTIONS:
            return word
        if lower in words or all(t in vocabulary for t in tokenize(lower)):
            return word  # checked first: the dictionary's first use costs a new process 0.4 s
        if word[0].isupper() and (len(word) < _SHORTEST_NAME or _english().known(_spellings(lower))):
            return word
        near = [w for w in _edits(lower) if w in words]
        if not near:
            return word
        theirs = [w for w in near if lower in _spellings(w)]  # "defense" where they write "defence"
        if theirs:
            return _same_case(theirs[0], word)
        best = max(near, key=lambda w: (words[w], w))
        if _english().known(_spellings(lower)) and not _slip(lower, best):
            return word
        return _same_case(best, word)

    return _WORD.sub(fix, question)


def _slip(typed: str, meant: str) -> bool:
    """Is a dictionary word still a slip of the documents' word? Only when a letter of theirs
    was dropped ("minster" for "minister"), the typed word is rare in English (106 against
    18,798 in the dictionary's counts) and theirs a hundred times more common: "theme" is no
    slip of "there", nor "apolitical" of "political", nor "brink" of "bring"."""
    if len(meant) != len(typed) + 1:
        return False
    if not any(meant[:i] + meant[i + 1 :] == typed for i in range(len(meant))):
        return False
    counts = _english().word_frequency
    seen = max(counts[w] for w in _spellings(typed))
    return seen < _RARE and seen * 100 <= max(counts[w] for w in _spellings(meant))


def _spellings(word: str) -> list[str]:
    """The word and its American spellings."""
    return [word] + [pattern.sub(repl, word) for pattern, repl in _BRITISH if pattern.search(word)]


def _edits(word: str) -> set[str]:
    """Every string one deletion, transposition, replacement or insertion away."""
    letters = string.ascii_lowercase
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = [a + b[1:] for a, b in splits if b]
    transposes = [a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1]
    replaces = [a + c + b[1:] for a, b in splits if b for c in letters]
    inserts = [a + c + b for a, b in splits for c in letters]
    return set(deletes + transposes + replaces + inserts) - {word}


def _same_case(word: str, like: str) -> str:
    return word.capitalize() if like[:1].isupper() else word
