"""Reading what a question asks, on the seed corpus: whose words or view, which quality, what a
follow-up leans on. Each case is a question a blind question set got wrong before."""

from __future__ import annotations

from typing import Any

from rag.question import read_question
from rag.rewrite import rewrite, without_answer
from rag.sentence_checks import REACTION, SPEECH, VIEW
from rag.topic import absent_predicates, content_terms, use_document_words


def read(question: str) -> Any:
    return read_question(question, question, None)  # a question that stands alone


def answers(assistant: Any, question: str, expected: str, history: Any = None) -> None:
    a = assistant.answer(question, history=history)
    assert not a.abstained and expected in a.text, (question, a.text)


def test_a_lower_case_speaker_is_still_a_speaker() -> None:
    """A name typed in lower case ("kishida") or a nation ("china") is the speaker; a word an
    English dictionary knows ("the pact", "the author") is not, nor a pronoun."""
    said = read("what did kishida say about the framework at camp david")
    assert said.speaker == {"kishida"} and said.voice is SPEECH
    assert read("what did trump say about kim").speaker == set()  # a word too
    assert read("what does the pact say about taiwan").speaker == set()
    assert read("What does the author think about Trump?").speaker == set()
    assert read("what did he say about it").speaker == set()
    reacted = read("how did china react to the framework")
    assert reacted.speaker == {"china"} and reacted.voice is REACTION


def test_what_a_party_thinks_needs_their_words_or_reaction(seeded_assistant: Any) -> None:
    """The seed names China's military expansion, but says nothing of what China thinks."""
    china = "what does china think about the trilateral security cooperation framework"
    view = read(china)
    assert view.speaker == {"china"} and view.voice is VIEW
    assert read("How does Seoul view the framework?").speaker == {"seoul"}
    assert VIEW.search("Seoul welcomed it") and VIEW.search("he said so") and not VIEW.search("China's navy")
    assert seeded_assistant.answer(china).abstained
    assert seeded_assistant.answer("what did kishida say about the framework at camp david").abstained
    # the seed does report what Shin said
    answers(seeded_assistant, "What does Shin think about formalising the framework?", "work quickly")


def test_the_quality_asked_about_is_weak_evidence(seeded_assistant: Any) -> None:
    """"How significant is …?": the seed says "most consequential", never "significant"."""
    keyword = seeded_assistant.searcher().keyword
    assert absent_predicates("how significant is this pact for australia", keyword) == {"signific"}
    assert absent_predicates("How long is the framework?", keyword) == set()  # a question word
    assert absent_predicates("How consequential is the framework?", keyword) == set()  # theirs
    assert absent_predicates("How is the framework going?", keyword) == set()  # no quality
    significant = "how significant is this deal for australia according to the piece"
    answers(seeded_assistant, significant, "most consequential")


def test_what_something_becomes_is_what_it_evolves_into(seeded_assistant: Any) -> None:
    """"become", "turn into", "grow into": the seed hopes it "evolves into a lasting pact"."""
    for question in (
        "What does the author hope the framework eventually becomes?",
        "what does the author ultimately hope the framework turns into",
        "What does the author hope the arrangement eventually grows into?",
    ):
        answers(seeded_assistant, question, "lasting pact")


def test_a_follow_up_is_read_without_the_previous_answers_names(seeded_assistant: Any) -> None:
    """"Where did he say that?": the place is in the previous answer; its names were not
    asked with, so the sentence naming the convention still names a place."""
    said = "Trump also speculated that Kim “misses me” during his acceptance speech [1]."
    query = rewrite("where exactly did he say that?", [("What did Trump say about Kim recently?", said)])
    assert query.endswith("acceptance speech.") and "Trump say about Kim" in without_answer(query, said)
    assert "speculated" not in without_answer(query, said)
    assert without_answer(query, "") == query and without_answer("plain question", said) == "plain question"
    history = [("What did Trump say about Kim recently?", "")]
    answers(seeded_assistant, "where exactly did he say that?", "Republican National Convention", history)


def test_a_sentence_that_refers_back_is_read_with_the_one_before(seeded_assistant: Any) -> None:
    """"… the only country now capable of coaxing lasting cooperation … between them": "them"
    are Seoul and Tokyo, named in the sentence before."""
    for question in (
        "Which country does the writer think is able to get Japan and South Korea to cooperate durably?",
        "In the author's view, which country is best placed to get Seoul and Tokyo to cooperate for the "
        "long haul?",
    ):
        answers(seeded_assistant, question, "only country now capable")
    # a question the two sentences together do not answer still abstains
    sign = "When will the three defence ministers formally sign the framework?"
    assert seeded_assistant.answer(sign).abstained


def test_words_that_only_shape_the_question_are_no_topic(seeded_assistant: Any) -> None:
    """Copulas ("were"), requests ("summarise"), a photo's relation ("pictured") and whose
    view it is ("is the author optimistic", "is the writer saying") say nothing of the topic;
    "Who is the author?" asks for the author."""
    assert content_terms("Who were the three leaders pictured together?") == {"three", "leader", "togeth"}
    assert content_terms("summarise the framework's agenda") == {"framework", "agenda"}
    assert content_terms("Is the author optimistic about Seoul?") == {"optimist", "seoul"}
    assert content_terms("is the writer saying it will last") == {"last"}
    assert content_terms("Who is the author of this commentary?") == {"author"}
    answers(seeded_assistant, "Who were the three leaders pictured together at Camp David?", "Joe Biden")
    agenda = "summarise what activities are on the framework's agenda"
    answers(seeded_assistant, agenda, "policy consultations")


def test_everyday_words_and_idioms_are_read_as_the_documents_say_them(seeded_assistant: Any) -> None:
    """A wish is a hope, to "single out" is to "point to", to "come true" is to be "realised",
    and what could "kill" or "derail" something is what it must survive."""
    for question, expected in (
        ("What does the writer wish the pact will eventually become?", "lasting pact"),
        ("Which threats does the framework single out?", "military expansion"),
        ("is the author saying shin's hope is likely to come true", "stars are aligning"),
        ("what could kill the deal", "domestic politics"),
    ):
        answers(seeded_assistant, question, expected)


def test_abbreviations_digits_and_acronyms_are_spelled_out(seeded_assistant: Any) -> None:
    """ "sk def min", "3-way", "RNC": the seed writes "South Korean Defence Minister",
    "three-way", "Republican National Convention"; a preamble before a colon is no question."""
    keyword = seeded_assistant.searcher().keyword
    assert use_document_words("a 3-way pact", keyword) == "a three-way pact"
    assert use_document_words("a 3-way pact, a 7-day week", None) == "a 3-way pact, a 7-day week"
    assert use_document_words("his RNC speech", keyword, keyword.acronyms) == (
        "his Republican National Convention speech"
    )
    assert use_document_words("NATO and the RNC", keyword, {}) == "NATO and the RNC"  # none known
    quote = "Journalist checking a quote: what exactly did Trump claim about Kim in his RNC speech?"
    assert read(quote).speaker == {"trump"}
    answers(seeded_assistant, quote, "misses me")
    where = "sk def min said he'd move fast on formalising the 3-way pact - where did he say that"
    answers(seeded_assistant, where, "TV interview")
    japan = [("who is japan's def min in the article", "")]
    answers(seeded_assistant, "and the american one", "Lloyd Austin", japan)


def test_titles_photos_positions_and_events_are_asked_for_by_their_kind(seeded_assistant: Any) -> None:
    """A question about the title reads headings as answers; "photograph" is the seed's
    "photo" and "who is credited" asks for a name, not a role; "position" and "event" are kinds
    of thing, not absent attributes; a misspelt surname ("Kihera") is read as the seed's."""
    title = "What does the title of the piece say the author is hoping for?"
    answers(seeded_assistant, title, "lasting pact")
    photo = "Who is credited for the first photograph, the one about the framework's work program?"
    answers(seeded_assistant, photo, "Muhammad Farhad")
    answers(seeded_assistant, "What position does Kihera Minoru hold?", "Defence Minister Kihara Minoru")
    history = [("What did Trump claim about Kim in his acceptance speech?", "")]
    answers(seeded_assistant, "At which event did he say it?", "Republican National Convention", history)


def test_paraphrases_of_what_the_framework_is_and_what_threatens_it(seeded_assistant: Any) -> None:
    """"stand for" / "fundamentally" are the seed's "represents" / "at its core"; what might
    "prevent" it from lasting is what it must survive; "Am I right that …" asks nothing itself."""
    stands = "What does the framework fundamentally stand for between South Korea and Japan?"
    answers(seeded_assistant, stands, "strategic reconciliation")
    prevent = "What might prevent the framework from lasting, according to the article's summary line?"
    answers(seeded_assistant, prevent, "domestic politics")
    assert content_terms("Am I right that Seoul would prefer to wait?") == {"seoul", "prefer", "wait"}
    assert content_terms("Is it true that Seoul is eager?") == {"seoul", "eager"}


def test_a_cost_or_a_named_partys_opinion_the_seed_lacks_is_not_answered(seeded_assistant: Any) -> None:
    """No cost is given; no Australian minister is quoted ("United States" reports no speech)."""
    cost = "How much will the real-time missile warning data sharing mechanism cost?"
    assert seeded_assistant.answer(cost).abstained
    opinion = "What is Australia's defence minister's opinion of the trilateral framework?"
    assert read(opinion).speaker == {"australia", "defenc", "minist"} and read(opinion).voice is VIEW
    assert seeded_assistant.answer(opinion).abstained
    assert not SPEECH.search("partners including the United States") and SPEECH.search("the minister states")


def test_everyday_names_for_the_documents_things(seeded_assistant: Any) -> None:
    """"war games" and "round" are the seed's "exercise" and "iteration"; "defence chief" its
    "defence minister"; Washington the United States; "what's the deal with", "give me" and
    "from X's point of view" ask nothing themselves."""
    games = "When did the first round of the new joint war games take place?"
    answers(seeded_assistant, games, "June")
    answers(seeded_assistant, "What are they called?", "Freedom Edge", [(games, "")])
    chief = ("According to the passage, what does Seoul's defence chief plan to do together with his "
             "counterparts in Tokyo and Washington?")
    answers(seeded_assistant, chief, "work quickly")
    answers(seeded_assistant, "What's the deal with North Korea and Moscow?", "consternation")
    view = "How does the article characterise Japan and South Korea from Australia's point of view?"
    assert read(view).speaker == set()  # the article is no party with a view
    answers(seeded_assistant, view, "highly capable")


def test_an_exact_date_a_schedule_or_a_named_speakers_words_the_seed_lacks(seeded_assistant: Any) -> None:
    """"last month" is no date; the seed schedules no second exercise; it quotes Shin, not Kishida
    ("has … said publicly")."""
    for question in (
        "On exactly what date did the South Korean minister give that television interview?",
        "When is the second edition of the multi-domain exercise scheduled to be held?",
        "What has Japanese Prime Minister Kishida said publicly about formalising the framework?",
    ):
        assert seeded_assistant.answer(question).abstained, question
    said = read("What has Japanese Prime Minister Kishida said publicly about formalising the framework?")
    assert said.speaker == {"japan", "prime", "minist", "kishida"}


def test_other_names_jargon_and_places_in_the_text(seeded_assistant: Any) -> None:
    """ROK, Nippon, "the North Atlantic one", a capital in the possessive ("Pyongyang's"), "put
    out", "media appearance"; "the opening line" and "the caption" say where, not what."""
    keyword = seeded_assistant.searcher().keyword
    assert use_document_words("Pyongyang's launches", keyword) == "North Korea's launches"
    for question, expected in (
        ("Why is the writer not very optimistic about the relationship between the ROK and Nippon?",
         "fractured attempts"),
        ("Will the trilateral arrangement amount to an alliance with a collective defence commitment like "
         "the North Atlantic one?", "NATO-style"),
        ("According to the opening line of the article, how often does the Lowy Institute put out The "
         "Interpreter?", "Published daily"),
        ("What does the caption under the first photo list as the elements of the framework's work plan?",
         "policy consultations"),
        ("Through what kind of media appearance did the ROK defence minister talk about formalising the "
         "framework, and when was it?", "TV interview"),
    ):
        answers(seeded_assistant, question, expected)


def test_a_question_about_another_ordinal_is_not_answered_by_the_first(seeded_assistant: Any) -> None:
    """The seed reports the first iteration of Freedom Edge; where the second will be, it does not
    say. "The first paragraph" names a place in the text, no ordinal of the thing asked about."""
    second = "Where will the second iteration of the multi-domain trilateral exercise be held?"
    assert read(second).ordinal == "second" and read(second).future
    assert read("What does the first paragraph say?").ordinal == ""
    assert seeded_assistant.answer(second).abstained
    answers(seeded_assistant, "When was the first iteration of Freedom Edge?", "June")


def test_a_follow_up_asking_for_a_catch_gets_the_limit_stated_next(seeded_assistant: Any) -> None:
    """"… the only country now capable of coaxing lasting cooperation … At least under the
    current US administration.": the limit comes right after the claim."""
    only = [("Which country does the author think is probably the only one able to bring Seoul and Tokyo "
             "into durable cooperation?", "")]
    answers(seeded_assistant, "Is there a catch to that?", "current US administration", only)
    answers(seeded_assistant, "Is there a caveat attached to that?", "current US administration", only)


def test_a_question_dated_by_the_asker_needs_a_dated_answer(seeded_assistant: Any) -> None:
    """"hundreds of which have splashed down" counts no launches "last year"."""
    assert read("How many ballistic missiles did North Korea launch last year?").dated
    assert read("How many missiles were fired in 2023?").dated
    assert not read("How many missiles have splashed down?").dated
    assert seeded_assistant.answer("How many ballistic missiles did North Korea launch last year?").abstained
    answers(seeded_assistant, "When did the first Freedom Edge exercise happen this year?", "June")


def test_idioms_and_thesaurus_words_of_heavy_paraphrase(seeded_assistant: Any) -> None:
    """rattled → consternation, patching things up → repair, track record → history, pitfalls →
    downsides, cosying up to a dictator → courting a despot, off the ground → up and running."""
    for question, expected in (
        ("What's got people rattled about Pyongyang's dealings with Moscow?", "consternation"),
        ("How upbeat is the writer about Seoul and Tokyo patching things up, given their track record?",
         "fractured attempts"),
        ("What should Trump be briefed on about the pitfalls of cosying up to a dictator?",
         "illegal activities"),
        ("What have the three defence chiefs been doing over the past year to get the framework off the "
         "ground?", "moved quickly"),
    ):
        answers(seeded_assistant, question, expected)


def test_a_follow_up_two_turns_deep_keeps_the_first_subject(seeded_assistant: Any) -> None:
    """"Who represented Japan there?" after "When did it take place?" after a question about
    Biden's trilateral meeting: "there" is that meeting, two turns back."""
    history = [("Where did Biden hold a trilateral meeting with the leaders of Japan and South Korea?", ""),
               ("When did it take place?", "")]
    assert "Biden" in rewrite("Who represented Japan there?", history)
    answers(seeded_assistant, "Who represented Japan there?", "Kishida", history)


def test_what_he_said_needs_words_said_whoever_he_is(seeded_assistant: Any) -> None:
    """A quoted name (“Freedom Edge”) or a scare-quoted word (“optimised”) reports no speech."""
    assert not SPEECH.search("a new exercise, “Freedom Edge”, occurred in June")
    assert not SPEECH.search("will be “optimised” by the end of this year")
    assert SPEECH.search("a new “axis of evil”") and SPEECH.search("Shin Wonsik said he will")
    assert read("What did he say at the press conference?").someone
    history = [("Who is the US Secretary of Defence mentioned?", ""),
               ("What have he and his counterparts done over the past year?", "")]
    press = "What did he say at the press conference after Freedom Edge?"
    assert seeded_assistant.answer(press, history=history).abstained


def test_the_headline_is_the_documents_title_and_a_role_may_be_asked_by_name(seeded_assistant: Any) -> None:
    """"What is the headline?" is answered by the title line (its metadata title), however
    little it resembles the question; "australian defence minister name?" asks for a role the
    seed names for Japan and the US only."""
    from rag.question import asked_role

    answers(seeded_assistant, "What is the headline of the article?", "robust, lasting pact")
    assert asked_role("australian defence minister name?") == {"australia", "minist"}
    assert asked_role("What is the name of Australia's defence minister?") == {"australia", "minist"}
    assert seeded_assistant.answer("australian defence minister name?").abstained
    answers(seeded_assistant, "how fast did he n his counterparts move", "moved quickly",
            [("us defence sec in the article?", "")])


def test_a_count_of_days_a_speakers_role_and_the_setting_of_a_remark(seeded_assistant: Any) -> None:
    """"How many days …" counts days ("the 1980s" counts none); "the Japanese prime minister" is
    a speaker only a sentence with his words answers; "on what occasion" a remark was made is
    told in the same sentence; "does that hold under any …" asks for the limit stated next."""
    from rag.question import counted_things

    assert counted_things("How many days did the summit last?") == {"day"}
    camp = [("Where did Biden, Kishida and Yoon hold their three-way meeting?", "")]
    assert seeded_assistant.answer("How many days did the summit last?", history=camp).abstained
    pm = "What did the Japanese prime minister say at the Camp David meeting?"
    assert read(pm).speaker == {"japan", "prime", "minist"}
    assert seeded_assistant.answer(pm).abstained
    remark = [("What did Trump say Kim felt about him?", "")]
    answers(seeded_assistant, "On what occasion did he make that remark?", "acceptance speech", remark)
    only = [("Which partner is seen as the only one able to coax lasting cooperation between Seoul and "
             "Tokyo?", "")]
    hold = "Does that hold under any US administration?"
    answers(seeded_assistant, hold, "current US administration", only)
    answers(seeded_assistant, "Why is Seoul eager to put the framework into operation soon?", "US election")


def test_a_date_of_something_else_does_not_answer_when(seeded_assistant: Any) -> None:
    """The seed dates Shin's interview ("last month") but not the renewal of the North Korea–Russia
    pact: a sentence with a time that covers little of the question does not answer it."""
    assert seeded_assistant.answer("When did North Korea and Russia renew their security pact?").abstained
    answers(seeded_assistant, "When did Shin give his TV interview?", "last month")


def test_pathological_questions_are_read_quickly() -> None:
    """Thousands of unclosed quotes, words or capitals: every check stays linear (a nested lazy
    quote pattern once took minutes on 2,000 opening quotes)."""
    import time

    from rag.sentence_checks import VIEW

    long_speech = "what did " + "x " * 2000 + "say"
    spaces = " " * 4000 + "?"  # "… name?" once backtracked for minutes on this
    for text in ("“a b " * 2000, '"a b ' * 2000, "“" * 5000, "A'" * 2500 + " b", long_speech, spaces):
        start = time.perf_counter()
        SPEECH.search(text), VIEW.search(text), read(text), content_terms(text)
        assert time.perf_counter() - start < 2.0, text[:20]


def test_review_findings_long_histories_many_names_and_meaning_kept(seeded_assistant: Any) -> None:
    """An independent review's repros: a 1,000-turn history, thousands of names, a role of
    spaces; rewrites that changed meaning ("How many did the attack kill?", "Washington Post",
    "southeast"); "hold" and "latest" as ordinary words; a person's title is no headline."""
    import time

    from rag.question import asked_role
    from rag.rewrite import asks_for_a_caveat

    long_history = [("Where did Biden meet Kishida?", "At Camp David.")]
    long_history += [("And what did he say then?", "")] * 1000
    assert rewrite("When did it take place?", long_history)  # no RecursionError; looks back 3 turns
    assert "Biden" in rewrite("When did it take place?", long_history[:3])
    start = time.perf_counter()
    read("Is " + "Kishida, " * 2000 + "here?")
    assert time.perf_counter() - start < 1.0
    assert asked_role("Who is   ") == set()
    keyword = seeded_assistant.searcher().keyword
    assert use_document_words("How many people did the attack kill?", keyword).endswith("kill?")
    post = "What does the Washington Post say?"
    assert use_document_words(post, keyword) == post
    assert keyword.kin("southeast") is None and keyword.kin("militant") is None
    assert not asks_for_a_caveat("When did they hold it?")
    assert asks_for_a_caveat("Does that hold under any US administration?")
    answers(seeded_assistant, "When did they hold it?", "June", [("What is Freedom Edge?", "")])
    answers(seeded_assistant, "When did the latest trilateral exercise take place?", "June")
    title = seeded_assistant.answer("What is the title of the Japanese defence minister?")
    assert "lasting pact" not in title.text, title.text


def test_how_long_how_old_and_future_meetings_need_their_own_answers(seeded_assistant: Any) -> None:
    """"How long did it last?" needs a span of time and "How old is he?" an age: "occurred in June"
    and a minister's name are neither. "When is Shin meeting …?" and "date the … was signed?"
    ask for a time the seed never gives."""
    lasted = read("How long did the exercise last?")
    assert lasted.factor("It lasted three days.") == lasted.factor("It has run since the 1980s.") == 1.0
    assert lasted.factor("The first iteration occurred in June.") < 1.0
    assert read("How long ago was it?").precise is None  # a time, not a span
    old = read("How old is he?")
    assert old.factor("Austin, aged 71, said so.") == old.factor("He was born in 1953.") == 1.0
    assert old.factor("US Secretary of Defence Lloyd Austin met them.") < 1.0
    assert read("when exactly is Shin meeting Kihara to sign it?").future
    assert not read("When is the meeting held?").future  # present tense, no plan
    assert read("date the pact was signed?").wants == "time"
    history = [("Who is the US Secretary of Defence mentioned?", "")]
    assert seeded_assistant.answer("How old is he?", history=history).abstained
    history = [("What is the name of the new multi-domain trilateral exercise?", "")]
    assert seeded_assistant.answer("How long did it last?", history=history).abstained
    assert seeded_assistant.answer("date the NK-Russia pact was signed?").abstained


def test_a_name_asked_for_is_a_name_next_to_the_thing(seeded_assistant: Any) -> None:
    """"What is the framework … called?" is answered by "the Trilateral Security Cooperation
    Framework", not by "this framework, the United States" (the question's own "US", read whole)
    nor "the framework points to …" (no name)."""
    from rag.sentence_checks import names_next_to, names_something_new

    called = read("What is the framework between Japan, South Korea and the US called?")
    assert called.naming == "framework" and called.role == {"framework"}
    assert called.factor("If so, the Trilateral Security Cooperation Framework will be a step.") == 1.0
    assert called.factor("Resting on their strategies, the framework points to China’s expansion.") < 1.0
    assert not names_something_new("But the third partner, the United States, is able.", called.tokens)
    named = "The first iteration of a new exercise, “Freedom Edge”, occurred in June."
    assert names_next_to(named, "exercis")
    answers(seeded_assistant, "What is the framework between Japan, South Korea and the US called?",
            "Trilateral Security Cooperation Framework")


def test_abbreviations_synonyms_and_a_partys_position(seeded_assistant: Any) -> None:
    """A reporter's "SecDef", a "partnership" for the seed's "pact", and "what's the JSDF's
    position" (a party the seed never quotes) asked in one breath."""
    keyword = seeded_assistant.searcher().keyword
    assert "Secretary of Defence" in use_document_words("US SecDef named?", keyword)
    answers(seeded_assistant, "US SecDef named in the article?", "Lloyd Austin")
    answers(seeded_assistant, "Which North Korean partnership has caused consternation?", "pact with Russia")
    assert read("what's the JSDF's position on the drills?").speaker == {"jsdf"}
    assert seeded_assistant.answer("what's the JSDF's position on the Freedom Edge drills?").abstained


def test_review_findings_spans_ages_names_and_the_future() -> None:
    """A span "and a half" or a fortnight; an age as "Austin, 71,"; "since" alone is no span nor
    an age; a noun in -ing is no plan ("When is the annual training held?"); a name first in a
    sentence or in quotes before the thing; an adverb is not the thing named."""
    from rag.sentence_checks import names_next_to

    lasted = read("How long did it last?")
    assert lasted.factor("It lasted two and a half years.") == lasted.factor("It lasted a fortnight.") == 1.0
    assert lasted.factor("Since Japan is worried, it acts.") < 1.0
    assert read("How long-range are the missiles?").precise is None
    old = read("How old is Lloyd Austin?")
    assert old.factor("Lloyd Austin, 71, met Kihara.") == old.factor("Austin is 71.") == 1.0
    assert old.factor("He has served since 2021.") < 1.0
    assert not read("When is the annual training held?").future
    assert not read("When is the summit in Beijing?").future
    meeting = read("When is Shin meeting Kihara?")
    assert meeting.factor("Shin is meeting Kihara on Friday.") > meeting.factor("Shin met Kihara on July 28.")
    assert names_next_to("AUKUS partnership deepens.", "partnership")
    assert names_next_to("“Freedom Edge” exercise began in June.", "exercis")
    assert not names_next_to("Under the framework, Seoul and Tokyo will share data.", "framework")
    assert not names_next_to("The Framework is new.", "framework")
    assert read("What is the alliance officially called?").naming == "allianc"


def test_questions_typed_without_articles_or_auxiliaries(seeded_assistant: Any) -> None:
    """A blind set in a learner's English (bench/holdout22_qa.jsonl): "what is title …?" asks
    for the title; "What China government say …?" asks for China's words, which the seed never
    reports; "Australia is member …?" is a yes/no question about Australia."""
    answers(seeded_assistant, "what is title of this article?", "robust, lasting pact")
    china = read("What China government say about this trilateral framework?")
    assert {"china"} <= china.speaker and china.voice is SPEECH
    assert seeded_assistant.answer("What China government say about this trilateral framework?").abstained
    assert read("Australia is member in this framework?").subject == {"australia"}
    assert read("The framework is new?").subject == set() and read("What is Freedom Edge?").subject == set()
    answers(seeded_assistant, "Australia is member in this framework?", "does not involve Australia directly")
    # a claim about what someone feels asks for the claim (speech), not for that person's view
    claim = read("What did Trump claim Kim Jong-un feels about him?")
    assert claim.speaker == {"trump"} and claim.voice is SPEECH
    answers(seeded_assistant, "What did Trump claim Kim Jong-un feels about him?", "misses me")
    assert read("what is said about the pact?").speaker == set()  # no one's words asked for
    # the review's cases: a filler or a question word is no subject, a noun after "What" no verb
    for question in ("So is it binding?", "Whom is the pact aimed at?", "Freedom Edge was held when?",
                     "Camp David is in which US state?", "It is binding?"):
        assert read(question).subject == set(), question
    for question in ("What US state is Camp David in?", "What Australian think tank published this article?",
                     "What Chinese claim is disputed?"):
        assert read(question).speaker == set(), question
    seoul = read("What does Seoul think Kim said?")  # the verb that comes first says what is asked
    assert seoul.speaker == {"seoul"} and seoul.voice is VIEW
    # bench/holdout23_qa.jsonl: an auxiliary inside the phrase is no speaker's name; a follow-up
    # that names its speaker asks for that speaker's words (a caption naming Kishida has none)
    vicissitudes = "What 'vicissitudes' does the author say the framework must survive?"
    assert read(vicissitudes).speaker == set()
    answers(seeded_assistant, vicissitudes, "domestic politics")
    where = [("Where was the trilateral meeting in the photo held?", "at Camp David, Maryland")]
    said = seeded_assistant.answer("What did the Japanese leader say at that meeting?", history=where)
    assert said.abstained, said.text
