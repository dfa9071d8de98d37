"""Topic words: what a question (or a sentence) is about, without the words that only shape a
question, and with the abbreviations a reader types spelled out as the documents spell them."""

from __future__ import annotations

import re
from collections.abc import Container, Mapping, Sequence

from .keyword import tokenize

# Words that shape a question but carry no topic; they should not count as evidence.
QUESTION_WORDS = frozenset(
    tokenize(
        "what which who whom whose when where why how name named called mention mentioned "
        "article text document commentary piece say said does did tell kind type according describe "
        "quote quoted quotes quoting cite cited cites "
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
        " send sends sending sent list main hurry hurried rush rushed rushing"
        " mainly better best see seen able long like other others besides apart actually"
        " particular particularly specific specifically precisely roughly go goes going come comes coming"
        " supposed meant feel"
        " feels really exactly currently probably generally usually often help helps helped"
        " helping due part use used using make makes made way ways thing things sort"
        " become becomes became becoming eventually ultimately finally"
        # Copulas BM25's list lacks ("Who were the three leaders …?"); what a reader asks to be
        # done with the text, and how a photo relates to it.
        " am were being summarise summarize summary summarising summarizing explain overview"
        " briefly pictured depicted shown credit credited credits title headline subtitle"
        " position positions role roles job passage gist characterise characterize portray portrays"
        " itself themselves himself herself talk talked talks talking speak speaks spoke spoken"
        " caption captions element elements component components aspect aspects people off"
    )
)


# Abbreviations a reader may type for what documents spell out. Expanded only when no
# document uses the abbreviation and some document uses every word of its expansion.
_ABBREVIATIONS: dict[str, str | tuple[str, ...]] = {
    "PM": "Prime Minister", "FM": "Foreign Minister", "DPRK": "North Korea", "ROK": "South Korea",
    "PRC": "China", "ROC": "Taiwan", "UK": "United Kingdom", "EU": "European Union",
    "UN": "United Nations", "N. Korea": "North Korea", "S. Korea": "South Korea",
    "NK": "North Korea", "SK": "South Korea", "nk": "North Korea", "sk": "South Korea",
    "def min": "defence minister", "Def Min": "Defence Minister", "defmin": "defence minister",
    "SecDef": ("Secretary of Defence", "Secretary of Defense"),
    "secdef": ("Secretary of Defence", "Secretary of Defense"),
    "SecState": ("Secretary of State",), "POTUS": ("US President", "President"),
    "MoD": ("Ministry of Defence", "Ministry of Defense", "defence ministry"),
    "MOD": ("Ministry of Defence", "Ministry of Defense", "defence ministry"),
    "MOFA": ("Ministry of Foreign Affairs", "foreign ministry"),
}
_ABBREVIATION = re.compile(
    r"(?<![\w.])("
    + "|".join(re.escape(a) for a in sorted(_ABBREVIATIONS, key=len, reverse=True))
    + r")(?!\w)"
)

# Everyday words for what such documents call otherwise: read as the first alternative the
# documents use, and only when no document uses the everyday word itself.
_SYNONYMS = {
    "deal": ("pact", "agreement", "framework"), "deals": ("pacts", "agreements", "frameworks"),
    "accord": ("pact", "agreement", "framework"), "accords": ("pacts", "agreements"),
    "drill": ("exercise",), "drills": ("exercises",),
    "arrangement": ("framework", "pact"), "arrangements": ("frameworks", "pacts"),
    "counterbalance": ("offset",), "counterbalancing": ("offsetting",),
    # what something changes into ("what does the author hope the pact turns into?")
    "turn into": ("evolve into",), "turns into": ("evolves into",), "grow into": ("evolve into",),
    "grows into": ("evolves into",), "develop into": ("evolve into",),
    "develops into": ("evolves into",), "morph into": ("evolve into",), "morphs into": ("evolves into",),
    # a wish is a hope; a programme, an agenda; "single out", "point to"; "come true", "be realised"
    "wish": ("hope",), "wishes": ("hopes",), "agenda": ("program", "programme", "plan"),
    "single out": ("point to",), "singles out": ("points to",), "singled out": ("pointed to",),
    "come true": ("realised", "realized"), "comes true": ("realised", "realized"),
    # what something stands for is what it represents, at its core
    "stand for": ("represent",), "stands for": ("represents",), "signify": ("represent",),
    "signifies": ("represents",), "symbolise": ("represent",), "symbolises": ("represents",),
    "symbolize": ("represent",), "symbolizes": ("represents",), "fundamentally": ("at its core",),
    "essentially": ("at its core",), "photograph": ("photo",), "photographs": ("photos",),
    "picture": ("photo",), "image": ("photo",), "photographed": ("photo",),
    "operational": ("operationalise", "operationalize", "up and running"),
    "into operation": ("operationalise", "operationalize", "up and running"),
    "eager": ("keen",), "keen": ("eager",),
    "war games": ("exercises",), "wargames": ("exercises",),
    "war game": ("exercise",),
    "round": ("iteration", "edition"), "rounds": ("iterations", "editions"),
    "defence chief": ("defence minister",), "defense chief": ("defence minister",),
    "washington": ("United States",),
    # a capital for its country ("NK and Moscow")
    "moscow": ("Russia",), "beijing": ("China",), "pyongyang": ("North Korea",),
    "canberra": ("Australia",),
    # other names of the same country or alliance
    "republic of korea": ("South Korea",), "nippon": ("Japan",), "north atlantic": ("NATO",),
    # a reader's words for the documents' ("media appearance", "a party to", "drawbacks")
    "media appearance": ("interview",), "tv appearance": ("TV interview",), "television": ("TV",),
    "a party to": ("part of", "involved in"), "drawback": ("downside",), "drawbacks": ("downsides",),
    "put out": ("publish",), "puts out": ("publishes",), "work plan": ("work program", "work programme"),
    "collective defence": ("mutual defence",), "collective defense": ("mutual defence",),
    "defence chiefs": ("defence ministers",), "defense chiefs": ("defence ministers",),
    "pitfall": ("downside",), "pitfalls": ("downsides",), "dictator": ("despot",), "dictators": ("despots",),
    "cosy up to": ("court",), "cosying up to": ("courting",), "cozy up to": ("court",),
    "cozying up to": ("courting",), "track record": ("history",), "patch up": ("repair",),
    "patching up": ("repairing",), "patch things up": ("repair",), "patching things up": ("repairing",),
    "line up": ("align",), "lining up": ("aligning",), "lined up": ("aligned",),
    "off the ground": ("up and running", "to life"), "dealings": ("pact", "relations"),
    "partnership": ("pact", "alliance", "cooperation"), "partnerships": ("pacts", "alliances"),
    "alliance": ("pact",), "alliances": ("pacts",),
    **dict.fromkeys(("rattled", "alarmed", "dismayed", "unsettled", "worried"), ("consternation",)),
}
# "deal with" is a verb: "How did Trump deal with Kim?" asks no question about a pact.
_NAME_GOES_ON = re.compile(r"\s+[A-Z][a-z]")
_SYNONYM = re.compile(
    r"(?<![\w’'-])(" + "|".join(_SYNONYMS) + r")(?=[’']s\b|(?![\w’'-]))(?!\s+with\b)",
    re.IGNORECASE,
)
# What could end something is what it must survive ("What could derail the framework?"), asked
# with a modal only: "How many did the attack kill?" asks nothing of the kind.
_THREAT = re.compile(
    r"\b((?:could|might|would|can|may|will)\s+(?:\w+ly\s+)?)(derail|kill|sink|wreck|scupper|doom|unravel|"
    r"undo|torpedo|destroy|prevent|threaten|endanger|jeopardi[sz]e)\b",
    re.IGNORECASE,
)


# "a 3-way pact": the documents write numbers in words ("three-way").
_NUMBER_WORDS = dict(zip("23456789", "two three four five six seven eight nine".split(), strict=True))
_DIGIT_COMPOUND = re.compile(r"(?<![\w.,])([2-9])-(?=[A-Za-z])")


# An acronym a reader may type for a phrase the documents spell out ("RNC").
_ACRONYM = re.compile(r"(?<![\w.])([A-Z]{3,6})(?![\w.])")


def use_document_words(
    question: str, vocabulary: Container[str] | None, acronyms: Mapping[str, str] | None = None
) -> str:
    """The question in the documents' words, where it uses one they lack: "Who is the Japanese
    PM?" → "… Prime Minister?", "Is Australia part of this deal?" → "… this pact?" (else the
    word counts as one the documents lack, a sign they cannot answer)."""
    if vocabulary is None:
        return question
    question = _ABBREVIATION.sub(lambda m: _theirs(m[1], _spelled_out(m[1]), vocabulary), question)
    if acronyms:  # "his RNC acceptance speech" → "his Republican National Convention …"
        question = _ACRONYM.sub(lambda m: _theirs(m[1], [acronyms.get(m[1], m[1])], vocabulary), question)
    question = _DIGIT_COMPOUND.sub(lambda m: _theirs(m[1], [_NUMBER_WORDS[m[1]]], vocabulary) + "-", question)
    question = _THREAT.sub(lambda m: m[1] + _theirs(m[2], ["survive"], vocabulary), question)
    return _SYNONYM.sub(lambda m: _synonym(m, question, vocabulary), question)


def _spelled_out(abbreviation: str) -> Sequence[str]:
    """What an abbreviation may stand for in the documents (some are spelled two ways)."""
    expansion = _ABBREVIATIONS[abbreviation]
    return [expansion] if isinstance(expansion, str) else expansion


def _synonym(match: re.Match[str], question: str, vocabulary: Container[str]) -> str:
    """The documents' word for a reader's, unless the word is part of a name ("Washington Post",
    "Nippon Steel": a capitalised word before another)."""
    word = match[1]
    if word[:1].isupper() and _NAME_GOES_ON.match(question, match.end()):
        return word
    return _theirs(word, _SYNONYMS[word.lower()], vocabulary)


def _theirs(word: str, alternatives: Sequence[str], vocabulary: Container[str]) -> str:
    """The word, if a document uses it; else the first alternative every word of which the
    documents use; else the word as typed."""
    if all(t in vocabulary for t in tokenize(word)):
        return word
    return next((alt for alt in alternatives if all(t in vocabulary for t in tokenize(alt))), word)


# "Does the author think …", "in the writer's view", "is the author optimistic …": whose opinion is
# asked, not what it is about; unless the question asks who the author is. So are the words that
# ask to confirm a claim ("Am I right that …", "Is it true that …").
_THE_AUTHOR = re.compile(
    r"\b(?:(?:in|according\s+to)\s+)?(?:the|this)\s+(?:author|writer)(?:[’']s)?"
    r"(?:\s+(?:view|opinion|words|assessment|reading|estimation|judge?ment|eyes)\b)?",
    re.IGNORECASE,
)
_WHO_THE_AUTHOR_IS = re.compile(
    r"\bwho\s+(?:is|was|[’']s)\s+(?:the|this)\s+(?:author|writer)\b|\bwho\s+wrote\b|\bwritten\s+by\b"
    r"|\bname\s+of\s+(?:the|this)\s+(?:author|writer)\b|\b(?:author|writer)[’']s\s+name\b",
    re.IGNORECASE,
)
_CONFIRM = re.compile(
    r"^\s*(?:am\s+i\s+right|is\s+it\s+(?:true|correct|right)|(?:can|could)\s+you\s+confirm|"
    r"i\s+(?:read|heard)|do\s+i\s+understand\s+(?:it\s+)?correctly|(?:please\s+)?(?:give|tell|show)\s+me|"
    r"what[’']?s\s+the\s+(?:deal|story)\s+with)(?:\s+that)?\b"
    r"|\b(?:point\s+of\s+view|perspective|standpoint|viewpoint)\b"
    r"|\b(?:opening|closing|first|last|final|second|third)\s+(?:line|lines|paragraph|paragraphs|sentence|"
    r"sentences|section)\b",
    re.IGNORECASE,
)


# "What could stop …", "Who might block …", "Why should Australians care …": the word after a
# question word and a modal (and, after "why", a capitalised subject) is the verb. In "What
# could the framework …" it is "the", which is no term; a lower-case subject ("why should
# australia care") is not told from a verb and is left alone. "How significant is …": the word
# after "how" is the quality asked about, which a document states in its own words.
_MODAL = r"(?i:could|would|might|can|will|may|should|must)\s+(?i:not\s+)?"
_PREDICATE = re.compile(
    r"^\s*(?:(?i:what|who|which|how)\s+" + _MODAL + r"|(?i:why)\s+" + _MODAL + r"[A-Z][\w’'-]*\s+"
    r"|(?i:how)\s+(?=[a-z]+\s+(?i:is|are|was|were|will|would|could|might|did|does|do|has|have|had|can)\b))"
    r"([a-z]+)\b"
)


def absent_predicates(text: str, vocabulary: Container[str]) -> set[str]:
    """Terms of the verb or quality asked about that no document uses ("What could stop the
    framework from lasting?", "How significant is the pact?"). Documents say the same with
    other words ("if it survives", "most consequential") far more often than they lack the
    topic, so such a word is weak evidence that they cannot answer."""
    match = _PREDICATE.match(text)
    return {t for t in tokenize(match[1]) if t not in vocabulary} - QUESTION_WORDS if match else set()


def content_terms(text: str) -> set[str]:
    """Topic words of a text: stemmed, without stopwords and question words."""
    if not _WHO_THE_AUTHOR_IS.search(text):
        text = _THE_AUTHOR.sub(" ", text)
    return set(tokenize(_CONFIRM.sub(" ", text))) - QUESTION_WORDS


# Nations, as tokens ("Australian" and "australia" alike): names even when typed in lower case.
NATIONS = frozenset(tokenize("china japan korea usa russia australia taiwan"))
# A run of capitalised words ("United States", "Zorblax Treaty"), and what may come before a
# word that is capitalised only because a sentence or clause starts there.
_NAME_RUN = re.compile(r"(?<![\w’'-])[A-Z][\w’'-]*(?:\s+[A-Z][\w’'-]*)*")
_CLAUSE_OPENERS = '.!?:;,("“'


def _starts_clause(text: str, at: int) -> bool:
    """Does a sentence or clause start at ``at`` (only spaces back to the text's start or to
    punctuation)? Looks back only over the spaces, so it costs nothing on a long text."""
    while at > 0 and text[at - 1].isspace():
        at -= 1
    return at == 0 or text[at - 1] in _CLAUSE_OPENERS


def question_names(question: str) -> set[str]:
    """The tokens of the names a question uses: runs of capitalised words, tokenized whole (so
    "United States" is the corpus's "usa"); a run that starts a sentence or clause loses its
    first word, and question words never count."""
    out: set[str] = set()
    for match in _NAME_RUN.finditer(question):
        words = match.group().split()
        if _starts_clause(question, match.start()):
            words = words[1:]
        out |= {t for t in tokenize(" ".join(words)) if t not in QUESTION_WORDS}
    return out
