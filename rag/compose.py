"""Grounded answers: pick the retrieved sentences that answer the question, cite each one
verbatim (verified against the source text), or abstain when the evidence is too weak.

(Not named ``answer.py``: importing a submodule ``rag.answer`` would replace the public
function ``rag.answer`` with the module.)"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from .config import Settings
from .documents import DocumentTexts
from .embeddings import Embedder
from .keyword import KeywordIndex, tokenize
from .question import read_question
from .retrieve import Hit
from .rewrite import asks_about_what_was_said, asks_for_a_caveat, asks_for_a_take_on_words, without_answer
from .schema import Answer, Citation
from .sentence_checks import SPEECH
from .sentence_vectors import KEY, lookup, quotable, unpack
from .topic import absent_predicates, content_terms

_CONTEXT_MARGIN = 0.06  # a sentence read with the one before must match that much better
# How the limit of a claim opens ("… the only country capable … At least under the current …").
_QUALIFIER = re.compile(
    r"(?:at\s+least|but|however|unless|only\s+if|provided|though|although|yet|still|except)\b",
    re.IGNORECASE,
)
# "On what occasion did he make that remark?": where or when words were said is told with them.
_SETTING_Q = re.compile(r"\b(?:where|when|occasion|event|venue|setting)\b", re.IGNORECASE)
# "What does the headline say …?": a title or heading is what is asked for, not a lesser answer.
# (Not "the title of the Japanese defence minister", nor "Shin's official title".)
_OF_SOMEONE = r"(?!\s+of\s+(?!(?:the|this)\s+(?:article|piece|commentary|story|post|document)\b))"
_THE_TITLE = (
    r"(?:\b(?:the|this|its|article[’']s|piece[’']s)\s+|^\s*(?:what(?:[’']s|\s+is)\s+)?)title\b" + _OF_SOMEONE
)  # "what is title of this article?", "title of this piece?": typed without "the"
_TITLE_Q = re.compile(r"\b(?:headline|subtitle|standfirst)s?\b|" + _THE_TITLE, re.IGNORECASE)
_OWN_TITLE_Q = re.compile(r"\bheadline\b|" + _THE_TITLE, re.IGNORECASE)
# The issue asks for this plain wording; the UI and CLI show ``Answer.related`` after it.
NOT_FOUND = "Not found in the indexed documents: none of them answers this question."


@dataclass(frozen=True)
class Candidate:
    """A sentence of a retrieved chunk, located in its source document."""

    text: str
    hit: Hit
    start: int  # offset in the document (page) text
    end: int
    similarity: float = 0.0  # cosine to the query
    coverage: float = 0.0  # share of the query's topic words found in the sentence
    score: float = 0.0


class Composer:
    """Extractive answer composition (the default, offline mode)."""

    def __init__(self, settings: Settings, embedder: Embedder, texts: DocumentTexts) -> None:
        self.settings = settings
        self.embedder = embedder
        self.texts = texts

    # --- evidence -----------------------------------------------------------------------
    def candidates(
        self,
        query: str,
        hits: Sequence[Hit],
        keyword: KeywordIndex | None = None,
        limit: int = 12,
        question: str = "",
        said: str = "",
    ) -> list[Candidate]:
        """Sentences of the hits, scored against the query, best first.

        The score mixes meaning (cosine to the query), topic-word coverage and the passage's
        retrieval score, less a penalty for the question's topic words that the whole corpus
        lacks (a strong sign it cannot answer) and for a match that improves once those words
        are left out (they ask for what the sentence does not say). Headings and captions are
        discounted (they rarely answer anything), and so is a sentence that fails a check read
        from the question (``question.Reading``: a when-question needs a time, and so on).
        When ``question`` is a follow-up
        whose query was rewritten with earlier context, the follow-up's own words count as much
        as the whole rewritten query: they say what is being asked now, and a sentence that
        repeats ``said`` (the previous answer) is discounted: a follow-up asks for more."""
        raw: list[Candidate] = []
        context: list[str] = []  # a sentence that refers back, with the sentence before it
        seen: set[tuple[str, int, int]] = set()
        stored: dict[str, np.ndarray] = {}  # sentence vectors the index keeps with each chunk
        for hit in hits:
            base = int(hit.metadata.get("start", 0))
            for q in quotable(hit.text):
                key = (str(hit.metadata.get("source")), base + q.start, base + q.end)
                if key in seen:
                    continue
                seen.add(key)
                raw.append(Candidate(q.text, hit, base + q.start, base + q.end))
                context.append(q.in_context(hit.text))
            kept = hit.metadata.get(KEY)
            stored.update(unpack(hit.text, kept, self.embedder.dimension, self.embedder.backend))
        if not raw:
            return []
        terms = _theirs(content_terms(query), keyword)
        if keyword and len({t for t in terms if t in keyword}) >= 2:
            # "What could stop the framework from lasting?": the documents say "survive", not
            # "stop"; with two topic words of theirs left, what is asked is still clear.
            terms -= absent_predicates(query, keyword)
        weight = {t: keyword.idf(t) for t in terms} if keyword else dict.fromkeys(terms, 1.0)
        total = sum(weight.values()) or 1.0
        # Share of the question's weight carried by words the corpus never uses.
        missing = {t for t in terms if keyword and t not in keyword}
        unknown = sum(weight[t] for t in missing) / total
        cover = [sum(weight[t] for t in terms & content_terms(c.text)) / total for c in raw]
        own = _theirs(content_terms(question), keyword) & terms if question and question != query else set()
        if own:
            own_total = sum(weight[t] for t in own)
            cover = [
                0.5 * cv + 0.5 * sum(weight[t] for t in own & content_terms(c.text)) / own_total
                for cv, c in zip(cover, raw, strict=True)
            ]
        asking = question or query
        asked = without_answer(query, said)  # the words asked, and the subject they lean on
        reading = read_question(asking, asked, keyword)
        # Score only the most promising sentences: one whose vector the index does not keep
        # (RAG_SENTENCE_VECTORS off, an older index) is embedded while the user waits, which
        # then dominates a warm answer's time; the QA sets in bench/ lose nothing at this limit.
        pre = sorted(range(len(raw)), key=lambda i: -(cover[i] + raw[i].hit.score))[:limit]
        # A follow-up about "that remark" after an answer that reported words someone said
        # (or for the limits of what the previous answer said: "Is there a catch to that?").
        of_words = asks_about_what_was_said(question) and bool(SPEECH.search(said))
        of_words = of_words and not _SETTING_Q.search(question)
        caveat = asks_for_a_caveat(question)
        about_said = bool(said) and (of_words or caveat)
        title_asked, own_title_asked = bool(_TITLE_Q.search(asking)), bool(_OWN_TITLE_Q.search(asking))
        if title_asked:  # "What is the headline?": every title is a candidate
            pre += [i for i, c in enumerate(raw) if _is_heading(c.text) and i not in pre]
        if about_said:  # what follows the sentence said before is a candidate, however it matches
            pre += [i for i in _following(raw, [c for c in raw if _repeats(c.text, said, 2)]) if i not in pre]
        # The query without the words no document uses: when a sentence matches it clearly
        # better than the whole query, those words ask for what the sentence does not say
        # ("What is the budget of the framework?"); a paraphrase's words ("before the
        # American vote" for "prior to the US election") do not move the match that way.
        reduced = _without(asked, missing) if missing else asked
        head = [asked, reduced] if reduced != asked else [asked]  # CJK: no spaces to split at
        heads = self.embedder.encode_cached(head)  # the query's vector: the search's, reused
        vecs = lookup([raw[i].text for i in pre], stored, self.embedder.encode_cached)
        sims = vecs @ heads[0]
        # "Which country can get Japan and South Korea to cooperate?": "… the only country now
        # capable of coaxing lasting cooperation … between them" says so with the sentence before.
        referring = [j for j, i in enumerate(pre) if context[i]]
        if referring:
            in_context = lookup([context[pre[j]] for j in referring], stored, self.embedder.encode_cached)
            in_context = in_context @ heads[0]
            for j, sim in zip(referring, in_context, strict=True):
                sims[j] = max(sims[j], float(sim) - _CONTEXT_MARGIN)
        sims_reduced = vecs @ heads[-1]
        out = []
        quoted: list[tuple[object, int]] = []  # (source, end) of the sentences said before
        for j, i in enumerate(pre):
            sim = float(sims[j])
            c = raw[i]
            score = 0.55 * sim + 0.30 * cover[i] + 0.15 * c.hit.score - 0.30 * unknown**2
            score -= max(0.0, float(sims_reduced[j]) - sim - 0.03)
            if _is_heading(c.text):  # a lesser answer, unless the title is asked for
                score *= 1.5 if title_asked else 0.85
                if own_title_asked and c.text.strip() == str(c.hit.metadata.get("title", "")).strip():
                    score += 0.5  # the document's own title ("What is the headline?")
            score *= reading.factor(c.text)
            if reading.wants in ("time", "place", "number") and cover[i] < 0.15:
                score *= 0.7  # a date, place or number of something else ("last month": an interview)
            if said and _repeats(c.text, said, 2 if about_said else 4):
                score *= 0.3 if about_said else 0.75
                quoted.append((c.hit.metadata.get("source"), c.end))
            out.append(Candidate(c.text, c.hit, c.start, c.end, sim, cover[i], score))
        if not said and asks_for_a_take_on_words(question):
            # the best sentence reporting words said is the remark asked about, not the take on it
            reports = [c for c in out if c.score > 0 and SPEECH.search(c.text)]
            remark = max(reports, key=lambda c: c.score, default=None)
            if remark:
                out = [replace(c, score=c.score * 0.3) if c is remark else c for c in out]
                about_said, quoted = True, [(remark.hit.metadata.get("source"), remark.end)]
        if about_said:
            out = _after_what_was_said(out, quoted, caveat)
        out.sort(key=lambda c: -c.score)
        return out

    def supported(self, best: Candidate) -> bool:
        """Is the best sentence strong enough evidence to answer at all?"""
        return best.score >= self.settings.abstain_threshold

    # --- answers ------------------------------------------------------------------------
    def compose(
        self,
        question: str,
        query: str,
        hits: Sequence[Hit],
        keyword: KeywordIndex | None = None,
        said: str = "",
    ) -> Answer:
        cands = self.candidates(query, hits, keyword, question=question, said=said)
        if not cands or not self.supported(cands[0]):
            return self.abstain(question, query, cands)
        chosen = [cands[0]]
        for c in cands[1:]:
            if len(chosen) >= self.settings.max_answer_sentences:
                break
            if c.score < 0.8 * cands[0].score or c.coverage < 0.5 * cands[0].coverage:
                continue
            if any(_overlaps(c, o) or _near_duplicate(c, o) for o in chosen):
                continue
            chosen.append(c)
        citations = self.cite(chosen)
        if not citations:
            return self.abstain(question, query, cands)
        text = " ".join(f"{c.text} [{c.marker}]" for c in citations)
        return Answer(text, citations, False, query, question)

    def abstain(self, question: str, query: str, cands: Sequence[Candidate]) -> Answer:
        related: list[Candidate] = []
        for c in cands:
            if c.score <= 0:  # the penalties outweigh any match: not related, just nearest
                break
            if c.hit.metadata.get("source") not in {r.hit.metadata.get("source") for r in related}:
                related.append(c)
            if len(related) == 2:
                break
        rel = self.cite(related)
        return Answer(NOT_FOUND, [], True, query, question, related=rel)

    def cite(self, chosen: Sequence[Candidate]) -> list[Citation]:
        """Citations for the chosen sentences; any that do not match the source are dropped."""
        out: list[Citation] = []
        for c in chosen:
            meta = c.hit.metadata
            source = str(meta.get("source", ""))
            page = int(meta.get("page") or 0) or None
            if not self.texts.verify(source, page, c.start, c.end, c.text):
                continue
            out.append(
                Citation(
                    marker=len(out) + 1,
                    source=self.settings.display_path(source),
                    title=str(meta.get("title", "")),
                    page=page,
                    start=c.start,
                    end=c.end,
                    text=c.text,
                    score=c.score,
                    chunk_id=c.hit.id,
                )
            )
        return out


def _theirs(terms: set[str], keyword: KeywordIndex | None) -> set[str]:
    """The terms, each the corpus lacks read as one of its own word family ("optimistic" as
    "optimism")."""
    if not keyword:
        return terms
    return {keyword.kin(t) or t for t in terms}


def _is_heading(text: str) -> bool:
    """A line with no closing punctuation: a title, heading or caption."""
    return not text.rstrip().endswith((".", "!", "”", '"', "’", "'", ")", "。", "！"))


def _overlaps(a: Candidate, b: Candidate) -> bool:
    same = a.hit.metadata.get("source") == b.hit.metadata.get("source")
    return same and a.start < b.end and b.start < a.end


def _near_duplicate(a: Candidate, b: Candidate) -> bool:
    if a.text == b.text:
        return True
    ta, tb = content_terms(a.text), content_terms(b.text)
    return bool(ta and tb) and len(ta & tb) / min(len(ta), len(tb)) > 0.8


def _repeats(sentence: str, said: str, least: int = 4) -> bool:
    """Was the sentence already said: quoted in the previous answer, or holding nearly every
    topic word of a short one ("In Singapore and Hanoi, and on the DMZ line in 2019.") that has
    at least ``least`` of them?"""
    if sentence.strip() in said:
        return True
    before = content_terms(said)
    return len(before) >= least and len(before & content_terms(sentence)) >= 0.8 * len(before)


def _after_what_was_said(
    cands: list[Candidate], quoted: Sequence[tuple[object, int]], caveat: bool = False
) -> list[Candidate]:
    """Weigh up the sentences that follow a sentence the previous answer quoted (``quoted``: its
    source and end): what a document says of a remark ("What to make of such a throw-away
    line? Without reading too much into campaign hyperbole, …") comes right after it; so does
    the limit of a claim, all the more when it opens with a qualifier ("At least under …")."""
    def weight(c: Candidate) -> float:
        return 1.5 * (1.5 if caveat and _QUALIFIER.match(c.text.lstrip()) else 1.0)

    return [
        replace(c, score=c.score * weight(c)) if c.score > 0 and _follows(c, quoted) else c for c in cands
    ]


def _following(raw: Sequence[Candidate], said: Sequence[Candidate]) -> list[int]:
    """Indexes of the sentences that follow one of ``said``."""
    ends = [(c.hit.metadata.get("source"), c.end) for c in said]
    return [i for i, c in enumerate(raw) if _follows(c, ends)]


def _follows(c: Candidate, ends: Sequence[tuple[object, int]], reach: int = 300) -> bool:
    """Does ``c`` start within ``reach`` characters after one of ``ends`` (source, end)?"""
    return any(c.hit.metadata.get("source") == src and 0 <= c.start - end <= reach for src, end in ends)


def _without(text: str, terms: set[str]) -> str:
    """The text minus the words whose tokens are all in ``terms``."""
    return " ".join(w for w in text.split() if not (tokens := tokenize(w)) or not set(tokens) <= terms)
