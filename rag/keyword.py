"""The BM25 side of hybrid search (bm25s), with tokenization that works for CJK text too."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import shutil
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

logging.getLogger("bm25s").setLevel(logging.WARNING)

# Latin/Cyrillic/etc. words and numbers, or runs of Han, Kana and Hangul characters.
_TOKEN = re.compile(
    r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]+"
    r"|[^\W_]+",
    re.UNICODE,
)
_KIN = 5  # letters two stems of one word family share at least (see KeywordIndex.kin)
# Endings that derive a word of the same family (as stems: "optimist" is "optim" + "ist").
_DERIVING = ("ist", "ism", "ic", "ical", "al", "iti", "ian", "ous", "ive", "ment", "ness")
_PLAIN_WORD = re.compile(r"\b[a-z]{3,}\b")  # what typo correction may correct a word to
# Three to six capitalised words, maybe with "of" or "the" between ("Republican National
# Convention", "Ministry of Foreign Affairs"): the phrases whose acronyms a reader may type. ("and"
# joins two names more often than it belongs to one: "Seoul and Tokyo for Shin".)
_CAPITAL_RUN = re.compile(r"\b(?!The\b)[A-Z][a-z]+(?: +(?:(?:of|the) +)?[A-Z][a-z]+){2,5}\b")
_CJK = re.compile(
    r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]"
)


def _derived(longer: str, shorter: str) -> bool:
    """Is the stem ``longer`` the stem ``shorter`` with a derivational ending?"""
    return longer.startswith(shorter) and longer[len(shorter) :] in _DERIVING


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


# "US" must not vanish as the stopword "us"; nations and their adjectives should match.
_US = re.compile(r"\bU\.?S\.?A?\b|\bUnited States\b")
_DEMONYMS = {
    "korean": "korea", "koreans": "korea", "japanese": "japan", "american": "usa",
    "americans": "usa", "america": "usa", "chinese": "china", "russian": "russia",
    "australian": "australia", "australians": "australia",
}


def tokenize(text: str) -> list[str]:
    """Lower-cased, stemmed word tokens; CJK runs become character bigrams (and unigrams).

    Whitespace splitting fails on Japanese (no spaces) and Korean (particles glued to words),
    so every CJK run is indexed by its overlapping character pairs.
    """
    out: list[str] = []
    stop = _stopwords() | {"us"}
    words: list[str] = []
    text = _US.sub(" usa ", text)
    for m in _TOKEN.finditer(text.lower()):
        tok = m.group(0)
        if _CJK.match(tok):
            if len(tok) == 1:
                out.append(tok)
            out.extend(tok[i : i + 2] for i in range(len(tok) - 1))
        elif tok not in stop and (len(tok) > 1 or tok.isdigit()):
            words.append(_DEMONYMS.get(tok, tok))
    out.extend(_stemmer().stemWords(words))
    return out


def ids_stamp(ids: Sequence[str]) -> str:
    """A fingerprint of a set of chunk ids: the keyword index is valid for exactly this set."""
    h = hashlib.sha256()
    for cid in sorted(ids):
        h.update(cid.encode())
        h.update(b"\n")
    return h.hexdigest()


class KeywordIndex:
    """BM25 over chunk texts, addressed by chunk id."""

    def __init__(
        self,
        ids: list[str],
        model: Any,
        df: dict[str, int] | None = None,
        words: dict[str, int] | None = None,
        acronyms: dict[str, str] | None = None,
    ) -> None:
        self.ids = ids
        self._model = model
        self.df = df or {}  # term → number of chunks containing it
        self.words = words or {}  # lower-case word as written → how often (for typo correction)
        self.acronyms = acronyms or {}  # "RNC" → "Republican National Convention"
        self._families: dict[str, list[str]] | None = None  # first letters → terms (for ``kin``)
        self._pos = {cid: i for i, cid in enumerate(ids)}
        self.stamp = ids_stamp(ids)

    @classmethod
    def build(cls, ids: Sequence[str], texts: Sequence[str]) -> KeywordIndex:
        import bm25s

        model = bm25s.BM25(k1=1.2, b=0.75)
        df: Counter[str] = Counter()
        words: Counter[str] = Counter()
        acronyms: dict[str, str] = {}
        if ids:
            tokens = [tokenize(t) or ["\x00"] for t in texts]
            for toks in tokens:
                df.update(set(toks))
            for text in texts:
                words.update(_PLAIN_WORD.findall(text.lower()))
                for run in _CAPITAL_RUN.finditer(text):
                    initials = "".join(w[0] for w in run.group().split() if w[0].isupper())
                    acronyms.setdefault(initials, run.group())
            model.index(tokens, show_progress=False)
        return cls(list(ids), model, dict(df), dict(words), acronyms)

    def idf(self, term: str) -> float:
        """BM25 inverse document frequency; highest for a term the corpus never uses."""
        n = len(self.ids)
        d = self.df.get(term, 0)
        return math.log((n - d + 0.5) / (d + 0.5) + 1.0)

    def kin(self, term: str) -> str | None:
        """The indexed term of the same word family as ``term``, when the corpus lacks it: one
        stem is the other with a derivational ending, and both have five letters or more
        ("optimistic" → "optimist" → the corpus's "optim", from "optimism"; not "southeast" →
        "south", nor "militant" → "military")."""
        if len(term) < _KIN or term in self or not self.ids:
            return None
        if self._families is None:
            self._families = {}
            for t in self._model.vocab_dict:
                if len(t) >= _KIN and t.isalpha():
                    self._families.setdefault(t[:_KIN], []).append(t)
        kin = [t for t in self._families.get(term[:_KIN], ()) if _derived(term, t) or _derived(t, term)]
        return max(kin, key=lambda t: (self.df.get(t, 0), t)) if kin else None

    def __contains__(self, term: object) -> bool:
        """Is this (tokenized) term anywhere in the indexed text?"""
        return bool(self.ids) and term in self._model.vocab_dict

    def score_all(self, query: str) -> np.ndarray:
        """BM25 score of every chunk (aligned with ``ids``) for the query."""
        vocab = self._model.vocab_dict if self.ids else {}
        tokens = [t for t in tokenize(query) if t in vocab]
        if not tokens:
            return np.zeros(len(self.ids), dtype=np.float32)
        return np.asarray(self._model.get_scores(tokens))

    def scores_for(self, scores: np.ndarray, ids: Sequence[str]) -> list[float]:
        """Pick the scores of ``ids`` out of a ``score_all`` result (0 for unknown ids)."""
        return [float(scores[self._pos[i]]) if i in self._pos else 0.0 for i in ids]

    def search(self, query: str, k: int, scores: np.ndarray | None = None) -> list[tuple[str, float]]:
        """Top ``k`` (chunk id, BM25 score) pairs with a positive score, best first."""
        if not self.ids or k < 1:
            return []
        if scores is None:
            scores = self.score_all(query)
        k = min(k, len(self.ids))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self.ids[i], float(scores[i])) for i in top if scores[i] > 0]

    # --- persistence --------------------------------------------------------------------
    def save(self, folder: Path) -> None:
        """Write atomically: a crash leaves the previous copy (or none), never half a copy."""
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if self.ids:
            self._model.save(str(tmp / "bm25"))
        (tmp / "ids.json").write_text(
            json.dumps({
                "stamp": self.stamp, "ids": self.ids, "df": self.df, "words": self.words,
                "acronyms": self.acronyms,
            })
        )
        (tmp / "stamp").write_text(self.stamp)
        old = folder.with_name(folder.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if folder.exists():
            folder.rename(old)
        tmp.rename(folder)
        shutil.rmtree(old, ignore_errors=True)

    @staticmethod
    def saved_stamp(folder: Path) -> str | None:
        """The id fingerprint of the saved index, without loading it."""
        try:
            return (folder / "stamp").read_text().strip()
        except OSError:
            return None

    @classmethod
    def load(cls, folder: Path) -> KeywordIndex | None:
        """The saved index, or None when there is none, it cannot be read or it is of an older
        format (then it is rebuilt from the store)."""
        try:
            meta = json.loads((folder / "ids.json").read_text())
            # no words or acronyms: an older format, rebuilt
            ids, words, acronyms = list(meta["ids"]), meta["words"], meta["acronyms"]
            if not ids:
                return cls.build([], [])
            import bm25s

            model = bm25s.BM25.load(str(folder / "bm25"))
            return cls(ids, model, meta.get("df"), words, acronyms)
        except (OSError, ValueError, KeyError):
            return None
