"""Grounded answers: pick the retrieved sentences that answer the question, cite each one
verbatim (verified against the source text), or abstain when the evidence is too weak.

(Not named ``answer.py``: importing a submodule ``rag.answer`` would replace the public
function ``rag.answer`` with the module.)"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .chunking import sentence_spans
from .config import Settings
from .documents import DocumentTexts
from .embeddings import Embedder
from .keyword import KeywordIndex, tokenize
from .retrieve import Hit
from .schema import Answer, Citation

# The issue asks for this plain wording; the UI and CLI show ``Answer.related`` after it.
NOT_FOUND = "Not found in the indexed documents: none of them answers this question."

# Words that shape a question but carry no topic; they should not count as evidence.
_QUESTION_WORDS = frozenset(
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


def content_terms(text: str) -> set[str]:
    """Topic words of a text: stemmed, without stopwords and question words."""
    return set(tokenize(text)) - _QUESTION_WORDS


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
        limit: int = 48,
        question: str = "",
    ) -> list[Candidate]:
        """Sentences of the hits, scored against the query, best first.

        The score mixes meaning (cosine to the query), topic-word coverage and the passage's
        retrieval score; headings and captions are discounted (they rarely answer anything),
        and so is every sentence when the question's topic words are absent from the whole
        corpus (a strong sign the corpus cannot answer it). When ``question`` is a follow-up
        whose query was rewritten with earlier context, the follow-up's own words count as much
        as the whole rewritten query: they say what is being asked now."""
        raw: list[Candidate] = []
        seen: set[tuple[str, int, int]] = set()
        for hit in hits:
            base = int(hit.metadata.get("start", 0))
            for span in sentence_spans(hit.text):
                text = hit.text[span.start : span.end]
                key = (str(hit.metadata.get("source")), base + span.start, base + span.end)
                if key in seen or text.rstrip().endswith(("?", "？")) or _too_short(text):
                    continue
                seen.add(key)
                raw.append(Candidate(text, hit, base + span.start, base + span.end))
        if not raw:
            return []
        terms = content_terms(query)
        weight = {t: keyword.idf(t) for t in terms} if keyword else dict.fromkeys(terms, 1.0)
        total = sum(weight.values()) or 1.0
        # Share of the question's weight carried by words the corpus never uses.
        missing = {t for t in terms if keyword and t not in keyword}
        unknown = sum(weight[t] for t in missing) / total
        cover = [sum(weight[t] for t in terms & content_terms(c.text)) / total for c in raw]
        own = content_terms(question) & terms if question and question != query else set()
        if own:
            own_total = sum(weight[t] for t in own)
            cover = [
                0.5 * cv + 0.5 * sum(weight[t] for t in own & content_terms(c.text)) / own_total
                for cv, c in zip(cover, raw, strict=True)
            ]
        asking = question or query
        wants = _answer_type(asking)
        asked = set(tokenize(asking)) if wants in ("name", "place") else set()
        # The question is about a name, or asks for an attribute ("the budget of …"), that no
        # document contains: a strong sign the corpus cannot answer it.
        absent = keyword is not None and (
            _names_a_stranger(asking, keyword) or _asks_for_an_absent_attribute(asking, keyword)
        )
        # "Is Australia a member …?": a yes/no question about a name is answered by a
        # sentence that names it.
        subject = _question_names(asking) if _YES_NO.match(asking) and asking == query else set()
        # "Who is <role>?": the role's words the corpus knows must all be in the answer.
        role = _asked_role(asking) - missing if asking == query else set()
        # Embed only the most promising sentences: keeps a warm answer well under 100 ms.
        pre = sorted(range(len(raw)), key=lambda i: -(cover[i] + raw[i].hit.score))[:limit]
        # The query without the words no document uses: when a sentence matches it clearly
        # better than the whole query, those words ask for what the sentence does not say
        # ("What is the budget of the framework?"); a paraphrase's words ("before the
        # American vote" for "prior to the US election") do not move the match that way.
        reduced = _without(query, missing) if missing else ""
        head = [query, reduced] if reduced else [query]
        vecs = self.embedder.encode(head + [raw[i].text for i in pre])
        sims = vecs[len(head) :] @ vecs[0]
        sims_reduced = vecs[len(head) :] @ vecs[1] if reduced else sims
        out = []
        for j, i in enumerate(pre):
            sim = float(sims[j])
            c = raw[i]
            score = 0.55 * sim + 0.30 * cover[i] + 0.15 * c.hit.score - 0.30 * unknown**2
            score -= max(0.0, float(sims_reduced[j]) - sim - 0.03)
            if _is_heading(c.text):
                score *= 0.85
            if absent:
                score *= 0.8
            if not _fits(wants, c.text, asked):  # "when …?" without a time, and so on
                # Who did something is not always a capitalised name ("three island councils").
                score *= 0.6 if wants == "name" else 0.4
            if subject and not subject & set(tokenize(c.text)):
                score *= 0.6
            if role and not role <= set(tokenize(c.text)):
                score *= 0.5
            if (field := _FIELD.match(c.text)) and not set(tokenize(field[1])) & set(tokenize(asking)):
                score *= 0.5  # "publisher: …" answers who publishes, not who wrote
            out.append(Candidate(c.text, c.hit, c.start, c.end, sim, cover[i], score))
        out.sort(key=lambda c: -c.score)
        return out

    def supported(self, best: Candidate) -> bool:
        """Is the best sentence strong enough evidence to answer at all?"""
        return best.score >= self.settings.abstain_threshold

    # --- answers ------------------------------------------------------------------------
    def compose(
        self, question: str, query: str, hits: Sequence[Hit], keyword: KeywordIndex | None = None
    ) -> Answer:
        cands = self.candidates(query, hits, keyword, question=question)
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


def _answer_type(question: str) -> str | None:
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


def _fits(wants: str | None, sentence: str, asked: set[str]) -> bool:
    """Could the sentence hold the kind of answer asked for? (No type: any sentence can.)"""
    if wants == "number":
        return bool(_NUMBER.search(sentence))
    if wants == "time":
        return bool(_TIME.search(sentence))
    if wants == "place":  # a name the question did not use, and not a month or a weekday
        return _names_something_new(sentence, asked | _CALENDAR)
    if wants == "name":  # a name it did not ask with
        return _names_something_new(sentence, asked)
    return True


_WHO_IS = re.compile(
    r"^\s*who(?:\s+is|\s+was|\s+are|\s+were|[’']s)\s+(.+?)(?:\s+(?:mentioned|named|pictured|shown|"
    r"quoted|cited|in|at|on|with|from|according)\b.*)?\s*\??\s*$",
    re.IGNORECASE,
)
# A front-matter field kept after a document's body ("publisher: Lowy Institute").
_FIELD = re.compile(r"^([a-z][a-z0-9_-]{0,30}):\s+\S")


def _asked_role(question: str) -> set[str]:
    """The words of the role in "Who is Australia's defence minister?": a sentence naming
    some other country's defence minister does not answer it, nor one about Australia alone."""
    match = _WHO_IS.match(question)
    return {t for t in tokenize(match.group(1)) if t not in _QUESTION_WORDS} if match else set()


def _without(text: str, terms: set[str]) -> str:
    """The text minus the words whose tokens are all in ``terms``."""
    return " ".join(w for w in text.split() if not (tokens := tokenize(w)) or not set(tokens) <= terms)


def _names_something_new(sentence: str, asked: set[str]) -> bool:
    """Does the sentence hold a capitalised word (past its first) that the question did not
    use? A sentence that only repeats the question's own names does not name an answer."""
    words = _CAPITALISED.findall(sentence)[1:] if sentence[:1].isupper() else _CAPITALISED.findall(sentence)
    return any(set(tokenize(w)) - asked for w in words)


# A run of capitalised words ("United States", "Zorblax Treaty"), and what may come before a
# word that is capitalised only because a sentence or clause starts there.
_NAME_RUN = re.compile(r"(?<![\w’'-])[A-Z][\w’'-]*(?:\s+[A-Z][\w’'-]*)*")
_CLAUSE_START = re.compile(r"(^|[.!?:;,(\"“]\s*)$")


_YES_NO = re.compile(r"^\s*(is|are|was|were|does|do|did|has|have|had|will|would|can|could|should)\b", re.I)


def _question_names(question: str) -> set[str]:
    """The tokens of the names a question uses: runs of capitalised words, tokenized whole (so
    "United States" is the corpus's "usa"); a run that starts a sentence or clause loses its
    first word, and question words never count."""
    out: set[str] = set()
    for match in _NAME_RUN.finditer(question):
        words = match.group().split()
        if _CLAUSE_START.search(question[: match.start()]):
            words = words[1:]
        out |= {t for t in tokenize(" ".join(words)) if t not in _QUESTION_WORDS}
    return out


def _names_a_stranger(question: str, keyword: KeywordIndex) -> bool:
    """Does the question use a name that no indexed document contains? Then the corpus is very
    unlikely to answer it ("Where was the Zorblax Treaty signed?"), however well the rest of
    the question matches (names as ``_question_names`` reads them)."""
    return any(t not in keyword for t in _question_names(question))


_ATTRIBUTE_Q = re.compile(
    r"^\s*(?:what|which)\s+(?:is|are|was|were)\s+the\s+([\w-]+)\s+(?:of|for|in)\b", re.IGNORECASE
)


def _asks_for_an_absent_attribute(question: str, keyword: KeywordIndex) -> bool:
    """"What is the budget of the framework?": the attribute asked for (budget, population,
    capital …) appears in no document, so no document states it."""
    match = _ATTRIBUTE_Q.search(question)
    terms = [t for t in tokenize(match.group(1)) if t not in _QUESTION_WORDS] if match else []
    return bool(terms) and not any(t in keyword for t in terms)


_CJK_CHAR = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


def _too_short(text: str) -> bool:
    """Fewer than three words: a fragment, not an answer. Japanese and Chinese write no
    spaces, so there every two CJK characters count as a word."""
    return len(text.split()) + len(_CJK_CHAR.findall(text)) // 2 < 3


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
