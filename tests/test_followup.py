"""Follow-up questions: rewritten offline into standalone queries, shown in ``Answer.query``."""

from __future__ import annotations

from typing import Any

import pytest

from rag.config import PROJECT_ROOT
from rag.evaluation import judge, read_jsonl
from rag.rewrite import needs_context, rewrite
from tests.conftest import DEV_QA

EXTRA_QA = PROJECT_ROOT / "bench" / "extra_qa.jsonl"
JAPANESE_MINISTER = "Who is the Japanese defence minister mentioned in the article?"


def qa_rows() -> list[dict[str, Any]]:
    rows = list(read_jsonl(DEV_QA))
    if EXTRA_QA.exists():
        rows += list(read_jsonl(EXTRA_QA))
    return rows


# --- the rewrite itself (pure) -----------------------------------------------------------
def test_pronoun_follow_up_carries_the_previous_subject() -> None:
    q = rewrite("And when did it first happen?", [("What is Freedom Edge?", "")])
    assert "freedom edge" in q.lower()
    assert "when did it first happen" in q.lower(), "the user's own words stay in the query"


def test_previous_answer_helps_but_its_markers_do_not() -> None:
    prev = "The first iteration of a new trilateral exercise, “Freedom Edge”, occurred in June. [1]"
    q = rewrite("When did it happen?", [("What is Freedom Edge?", prev)])
    assert "Freedom Edge" in q and "[1]" not in q


def test_nation_swap() -> None:
    q = rewrite("And the American one?", [(JAPANESE_MINISTER, "Kihara Minoru [1]")])
    assert q == "Who is the American defence minister mentioned in the article?"
    q = rewrite("What about the South Korean one?", [("Who is the US Secretary of Defence mentioned?", "")])
    assert "south korean" in q.lower() and "secretary of defence" in q.lower() and "US" not in q.split()


def test_nation_swap_keeps_the_sentence_grammatical() -> None:
    """A nationality word in place of a possessive country, or a country in place of a
    nationality word, takes the form the sentence needs."""
    q = rewrite("And the Japanese one?", [("Who is South Korea's defence minister?", "")])
    assert q == "Who is Japan's defence minister?"
    q = rewrite("And Japan?", [("Who is the Korean defence minister?", "")])
    assert q == "Who is the Japanese defence minister?"


def test_a_follow_up_that_asks_its_own_question_of_another_nation_is_not_a_swap() -> None:
    """Only an elliptic follow-up repeats the last question of another nation."""
    previous = [("Why does Seoul want to get the framework up and running soon?", "")]
    q = rewrite("Is Australia actually part of this pact?", previous)
    assert q.startswith("Is Australia actually part of this pact?") and "Why does Australia" not in q
    elliptic = rewrite("Australia?", previous)
    assert elliptic == "Why does Australia want to get the framework up and running soon?"


def test_only_the_last_turn_supplies_the_subject() -> None:
    history = [("What is Freedom Edge?", ""), ("Who is South Korea's defence minister?", "")]
    q = rewrite("What did he say in his TV interview?", history)
    assert "defence minister" in q and "Freedom Edge" not in q


def test_abstention_in_history_adds_nothing() -> None:
    prev = "Not found in the indexed documents: none of them answers this question."
    q = rewrite("And when did it happen?", [("What is the Jeju accord?", prev)])
    assert "Jeju accord" in q and "not found" not in q.lower()


@pytest.mark.parametrize(
    "question",
    [r["q"] for r in qa_rows() if not r.get("history")]
    + [
        "Who is Kishida?",
        "Is there a treaty between the three countries?",
        "What does the framework represent at its core?",
        "Which country is probably the only one capable of coaxing lasting cooperation?",
    ],
)
def test_standalone_questions_are_not_rewritten(question: str) -> None:
    history = [(JAPANESE_MINISTER, "Kihara Minoru [1]")]
    assert not needs_context(question)
    assert rewrite(question, history) == question


@pytest.mark.parametrize(
    "question",
    ["And when did it first happen?", "And the American one?", "What did he say in his TV interview?",
     "Why?", "Which one?", "When did this exercise first occur?", "What is its purpose?", "Who was there?"],
)
def test_dependent_questions_are_detected(question: str) -> None:
    assert needs_context(question)
    assert rewrite(question, [("What is Freedom Edge?", "")]) != question


def test_without_history_nothing_is_rewritten() -> None:
    assert rewrite("  And when did it first happen? ", None) == "And when did it first happen?"
    assert rewrite("And when did it first happen?", []) == "And when did it first happen?"


# --- through the assistant ---------------------------------------------------------------
def test_follow_up_answer_shows_rewritten_query(seeded_assistant: Any) -> None:
    first = seeded_assistant.answer("What is Freedom Edge?")
    a = seeded_assistant.answer("And when did it first happen?", [("What is Freedom Edge?", first.text)])
    assert a.question == "And when did it first happen?"
    assert a.query != a.question and "freedom edge" in a.query.lower()
    assert a.to_dict()["query"] == a.query
    assert not a.abstained and "june" in a.text.lower()


def test_nation_swap_follow_up_is_answered(seeded_assistant: Any) -> None:
    a = seeded_assistant.answer("And the American one?", [(JAPANESE_MINISTER, "Kihara Minoru [1]")])
    assert "american" in a.query.lower() and "japanese" not in a.query.lower()
    assert not a.abstained and "lloyd austin" in a.text.lower()


def test_standalone_question_query_is_the_question(seeded_assistant: Any) -> None:
    q = "Who is South Korea's defence minister?"
    a = seeded_assistant.answer(q, [("What is Freedom Edge?", "")])
    assert a.query == q


@pytest.mark.parametrize("row", [r for r in qa_rows() if r.get("history")], ids=lambda r: r["id"])
def test_qa_rows_with_history_are_answered(seeded_assistant: Any, row: dict[str, Any]) -> None:
    history = [(q, a) for q, a in row["history"]]
    a = seeded_assistant.answer(row["q"], history)
    assert a.query != row["q"], "a follow-up must be searched as a rewritten, standalone query"
    assert judge(row, a), (a.query, a.text)


def test_history_rows_exist_in_dev_qa() -> None:
    assert any(r.get("history") for r in read_jsonl(DEV_QA))


REMARK = "What did Trump say about Kim at the Republican convention?"


def test_a_follow_up_about_a_remark_is_answered_by_what_the_text_says_of_it(seeded_assistant: Any) -> None:
    """"That remark" is what the last answer quoted: the answer is what the article makes of it
    (the next sentences), not the remark again."""
    first = seeded_assistant.answer(REMARK)
    assert "misses me" in first.text
    a = seeded_assistant.answer("How does the author read that remark?", [(REMARK, first.text)])
    assert "campaign hyperbole" in a.text and "misses me" not in a.text, a.text
    # the previous answer in the caller's own words is recognised as well
    said = 'He speculated that Kim "misses me".'
    b = seeded_assistant.answer("How does the author suggest reading that remark?", [(REMARK, said)])
    assert "campaign hyperbole" in b.text, b.text


def test_a_history_without_answers_is_read_with_the_answers_it_would_have_had(seeded_assistant: Any) -> None:
    """A caller may pass only the earlier questions; "that remark" still needs the answer."""
    a = seeded_assistant.answer("How does the author read that remark?", [(REMARK, "")])
    assert "misses me" in a.query and "campaign hyperbole" in a.text, (a.query, a.text)
    # a follow-up asking the same of another nation is its own question: the sentence that
    # named the Japanese minister (now the last answer) names the American one as well
    b = seeded_assistant.answer("And the American counterpart?", [("Who is Japan's defence minister?", "")])
    assert "lloyd austin" in b.text.lower(), (b.query, b.text)


def test_the_earlier_question_is_read_as_it_was_searched(seeded_assistant: Any) -> None:
    """The earlier question had a typo ("minster"); the follow-up that swaps the nation into it
    must not carry the typo into its own search."""
    history = [("who is the korean defence minster in this article", "")]
    a = seeded_assistant.answer("what about his american counterpart", history)
    assert "minister" in a.query and "minster" not in a.query, a.query
    assert "lloyd austin" in a.text.lower(), (a.query, a.text)


def test_only_words_pointed_back_at_are_what_was_said(seeded_assistant: Any) -> None:
    """"the line" of the DMZ and "his words" are no remark pointed back at: those follow-ups are
    answered as before, the quoted sentence included."""
    from rag.rewrite import asks_about_what_was_said

    assert asks_about_what_was_said("How should we read that remark?")
    assert asks_about_what_was_said("What does the author make of such a claim?")
    assert not asks_about_what_was_said("When did he meet Kim on the line?")
    assert not asks_about_what_was_said("What did he say in the TV interview, in his words?")
    history = [("Where did Trump meet Kim Jong-un?", "")]
    a = seeded_assistant.answer("When did he meet Kim on the line?", history)
    assert "2019" in a.text, (a.query, a.text)


def test_a_history_is_read_whatever_the_caller_left_out(seeded_assistant: Any) -> None:
    """No answer (None), padding around the question, the query shown: all read alike."""
    a = seeded_assistant.answer("And when did it first happen?", [("What is Freedom Edge?", None)])  # type: ignore[list-item]
    assert "june" in a.text.lower()
    history = [("who is the korean defence minster in this article", "")]
    assert "minister" in seeded_assistant.standalone_query("what about his american counterpart", history)
    padded = seeded_assistant.evidence("  How does the author read that remark?  ", [(REMARK, "")])
    assert "campaign hyperbole" in padded[0].text
