"""Typo correction: misspelt words are read as the documents' words; real words and unknown
names are left alone."""

from __future__ import annotations

import json
from typing import Any

from rag.config import Settings
from rag.keyword import KeywordIndex, tokenize
from rag.spelling import correct_typos

TEXT = (
    "The Freedom Edge exercise is part of the trilateral framework. The president met the minister."
    " There they bring what political trade does with real leaders."
)
WORDS = KeywordIndex.build(["a"], [TEXT]).words
VOCABULARY = set(tokenize(TEXT))


def fix(question: str) -> str:
    return correct_typos(question, WORDS, VOCABULARY)


def test_a_misspelt_word_becomes_the_documents_word() -> None:
    assert fix("what is the trilateral framwork?") == "what is the trilateral framework?"
    assert fix("who is the presdent") == "who is the president"
    assert fix("what is the framwork’s aim?") == "what is the framework’s aim?"


def test_a_rare_word_one_slip_from_a_far_commoner_one_is_a_typo() -> None:
    """"minster" is an English word (a church) that English writes a hundred times less often
    than the documents' "minister"."""
    assert fix("who is the korean defence minster") == "who is the korean defence minister"
    assert fix("Who is the Minster?") == "Who is the Minster?"  # capitalised: maybe a name
    # common words, and words that add or change a letter, are what they say
    for question in ("what is the main theme here", "on the brink of war", "an apolitical leader",
                     "the doves in the cabinet", "a haven for the president", "the realm of the minister"):
        assert fix(question) == question, fix(question)


def test_an_american_spelling_is_read_as_the_documents_british_one() -> None:
    words = KeywordIndex.build(["a"], ["The defence minister spoke of their behaviour."]).words
    vocabulary = set(tokenize("The defence minister spoke of their behaviour."))
    assert correct_typos("the defense minister", words, vocabulary) == "the defence minister"
    assert correct_typos("NK behavior", words, vocabulary) == "NK behaviour"


def test_a_question_word_typed_in_a_hurry_is_read_at_the_start_only() -> None:
    assert fix("wat is the framework") == "what is the framework"
    assert fix("Whn did it start?") == "When did it start?"
    assert fix("the wat near the framework") == "the wat near the framework"


def test_words_that_are_not_typos_are_left_alone() -> None:
    assert fix("What could stop the framework?") == "What could stop the framework?"  # English, not "step"
    assert fix("Did they normalise relations?") == "Did they normalise relations?"  # British spelling
    assert fix("Who is Marles?") == "Who is Marles?"  # a name the documents lack
    assert fix("Fredo said what?") == "Fredo said what?"  # a short name: maybe not "Freedom"
    assert fix("what did sato say") == "what did sato say"  # too short to tell from "nato"
    assert fix("theyre in the framwork") == "theyre in the framework"  # a contraction, not "there"
    assert fix("What is the exercises' aim?") == "What is the exercises' aim?"  # stemmed alike
    assert fix("What is a zqxjvw?") == "What is a zqxjvw?"  # nothing one edit away
    assert correct_typos("what is the framwork", {}, set()) == "what is the framwork"  # no words known
    assert fix("what is " + "q" * 5000) == "what is " + "q" * 5000  # no typo, and no time spent on it


def test_the_keyword_index_keeps_the_documents_words(tmp_path: Any) -> None:
    idx = KeywordIndex.build(["a", "b"], [TEXT, "Freedom again, in June."])
    assert idx.words["freedom"] == 2 and idx.words["framework"] == 1 and "the" in idx.words
    idx.save(tmp_path / "kw")
    back = KeywordIndex.load(tmp_path / "kw")
    assert back is not None and back.words == idx.words


def test_an_index_saved_before_words_were_kept_is_rebuilt(seeded: Settings) -> None:
    """An index from an older version (no words saved) still gets typo correction: it no
    longer counts as up to date, so the first load rebuilds it from the store and saves it."""
    from rag.assistant import Assistant

    assistant = Assistant.from_settings(seeded)
    assistant.index()
    folder = assistant.indexer.keyword_dir
    meta = json.loads((folder / "ids.json").read_text())
    del meta["words"]
    (folder / "ids.json").write_text(json.dumps(meta))
    old_stamp = "0" * 64  # the old format's stamp: a fingerprint of the ids alone
    (folder / "stamp").write_text(old_stamp)
    assert Assistant.from_settings(seeded).searcher().keyword.words  # rebuilt on load …
    assert KeywordIndex.saved_stamp(folder) != old_stamp  # … and saved: the next load is quick
    assert "framework" in json.loads((folder / "ids.json").read_text())["words"]


def test_a_misspelt_question_is_answered_and_shows_what_was_searched(seeded_assistant: Any) -> None:
    a = seeded_assistant.answer("wat does the framwork work program include?")
    assert not a.abstained and "policy consultations" in a.text, a.text
    assert a.query == "what does the framework work program include?"
    assert a.question == "wat does the framwork work program include?"


def test_a_long_capitalised_name_one_edit_from_the_documents_is_theirs() -> None:
    """"Kihera" is no English word and one edit from the documents' "kihara"; "Sato" is too
    short to tell from "Nato", and an English word stays as typed."""
    words = {"kihara": 3, "nato": 2, "austin": 2, "minoru": 1}
    vocabulary = {"kihara", "nato", "austin", "minoru"}
    kihera = "What post does Kihera Minoru hold?"
    assert correct_typos(kihera, words, vocabulary) == "What post does Kihara Minoru hold?"
    assert correct_typos("Who is Sato?", words, vocabulary) == "Who is Sato?"
    assert correct_typos("Is Austin in Texas?", words, vocabulary) == "Is Austin in Texas?"
