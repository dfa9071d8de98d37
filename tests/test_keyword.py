"""BM25 keyword search: CJK tokenization, staying in step with the index, persistence."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rag.config import Settings
from rag.keyword import KeywordIndex, tokenize
from tests.conftest import SEED_CORPUS

KOREAN = (
    "---\ntitle: 한미일 안보협력 체계\n---\n"
    "한미일 안보협력 체계는 한국, 미국, 일본 세 나라의 국방 협력을 제도화한 것이다. "
    "세 나라는 북한의 미사일 경보 정보를 실시간으로 공유하고 있다. "
    "다영역 훈련인 프리덤 에지는 2024년 6월에 처음 실시되었다.\n"
)
JAPANESE = (
    "---\ntitle: 日米韓安全保障協力枠組み\n---\n"
    "日米韓安全保障協力枠組みは、日本、米国、韓国の防衛協力を制度化するものである。"
    "三か国は北朝鮮のミサイル警戒データをリアルタイムで共有している。"
    "共同訓練「フリーダム・エッジ」は二〇二四年六月に初めて実施された。\n"
)


def test_cjk_runs_become_character_bigrams() -> None:
    ko = tokenize("한미일 안보협력을")
    assert {"한미", "미일", "안보", "보협", "협력", "력을"} <= set(ko)
    ja = tokenize("日米韓の安全保障協力")
    assert {"日米", "米韓", "韓の", "安全", "全保", "保障", "協力"} <= set(ja)
    assert "日米韓の安全保障協力" not in ja, "a CJK run must not survive as one whitespace token"
    assert tokenize("韓") == ["韓"]
    # mixed text: English words are stemmed, CJK bigrammed, both kept
    mixed = tokenize("Freedom Edge 훈련 exercises")
    assert {"freedom", "edg", "훈련", "exercis"} <= set(mixed)


def test_latin_tokens_keep_us_and_map_demonyms() -> None:
    toks = tokenize("The US and the United States; American, Japanese and Korean ministers")
    assert toks.count("usa") == 3 and "japan" in toks and "korea" in toks
    assert "the" not in toks and "and" not in toks


def test_korean_particle_does_not_hide_the_word() -> None:
    """'안보협력을' (with the object particle) still matches a query for '안보협력'."""
    idx = KeywordIndex.build(["a", "b"], ["안보협력을 강화했다", "경제 협정에 서명했다"])
    hits = idx.search("안보협력", 2)
    assert hits and hits[0][0] == "a"


@pytest.fixture(scope="module")
def cjk_assistant(tmp_path_factory: pytest.TempPathFactory, model_cache: Path) -> Any:
    from rag.assistant import Assistant

    root = tmp_path_factory.mktemp("cjk")
    corpus = root / "corpus"
    corpus.mkdir()
    for f in SEED_CORPUS.iterdir():
        shutil.copy(f, corpus / f.name)
    (corpus / "korean.md").write_text(KOREAN, encoding="utf-8")
    (corpus / "japanese.md").write_text(JAPANESE, encoding="utf-8")
    assistant = Assistant.from_settings(
        Settings(corpus_dir=corpus, index_dir=root / "index", model_cache_dir=model_cache)
    )
    report = assistant.index()
    assert report.ok and report.counts["added"] == 3
    return assistant


@pytest.mark.parametrize(
    ("query", "source"),
    [("한미일 안보협력", "korean.md"), ("미사일 경보 정보 공유", "korean.md"),
     ("日米韓の安全保障協力", "japanese.md"), ("ミサイル警戒データ", "japanese.md")],
)
@pytest.mark.parametrize("mode", ["keyword", "hybrid"])
def test_cjk_query_finds_the_cjk_document(cjk_assistant: Any, query: str, source: str, mode: str) -> None:
    hits = cjk_assistant.searcher().search(query, k=3, mode=mode)
    assert hits, f"{mode} search found nothing for {query!r}"
    assert hits[0].metadata["source"] == source
    if mode == "keyword":
        assert hits[0].keyword > 0
        assert all(h.metadata["source"] != "lowy-institute-japan-south-korea-us-trilateral-security-pact.txt"
                   for h in hits), "English text shares no CJK bigram with the query"


@pytest.mark.parametrize(
    ("question", "source", "expected"),
    [("프리덤 에지 훈련은 언제 처음 실시되었나?", "korean.md", "2024년 6월"),
     ("フリーダム・エッジはいつ初めて実施されたか", "japanese.md", "二〇二四年六月")],
)
def test_cjk_question_gets_a_cited_cjk_answer(
    cjk_assistant: Any, question: str, source: str, expected: str
) -> None:
    """Sentences without spaces (Japanese) are answers too, not fragments to skip."""
    a = cjk_assistant.answer(question)
    assert not a.abstained, a.related
    assert a.citations[0].source.endswith(source)
    assert expected in a.text
    for c in a.citations:
        assert cjk_assistant.document_text(c.source, c.page)[c.start : c.end] == c.text


def test_english_query_still_prefers_the_english_document(cjk_assistant: Any) -> None:
    hits = cjk_assistant.searcher().search("Freedom Edge multi-domain trilateral exercise", k=3)
    assert hits[0].metadata["source"].startswith("lowy-institute")


# --- keeping in step with the index ------------------------------------------------------
def keyword_sources(assistant: Any, query: str) -> set[str]:
    return {h.metadata["source"] for h in assistant.searcher().search(query, k=5, mode="keyword")}


def test_keyword_index_follows_add_edit_delete(seeded: Settings) -> None:
    from rag.assistant import Assistant

    assistant = Assistant.from_settings(seeded)
    assistant.index()
    assert keyword_sources(assistant, "quokka marsupial") == set()

    new = seeded.corpus_dir / "quokka.txt"
    new.write_text("The quokka is a small marsupial found on Rottnest Island near Perth.\n", encoding="utf-8")
    assert assistant.index().counts["added"] == 1
    assert keyword_sources(assistant, "quokka marsupial") == {"quokka.txt"}
    assert len(assistant.searcher().keyword.ids) == assistant.indexer.store.count()

    new.write_text("The numbat is a termite-eating marsupial of Western Australia.\n", encoding="utf-8")
    assert assistant.index().counts["updated"] == 1
    assert keyword_sources(assistant, "quokka") == set()
    assert keyword_sources(assistant, "numbat") == {"quokka.txt"}

    new.unlink()
    assert assistant.index().counts["deleted"] == 1
    assert keyword_sources(assistant, "numbat") == set()
    assert len(assistant.searcher().keyword.ids) == assistant.indexer.store.count()

    # another process (a second Assistant on the same index) sees the change too
    other = Assistant.from_settings(seeded)
    (seeded.corpus_dir / "wombat.md").write_text("# Wombats\n\nWombats dig burrows.\n", encoding="utf-8")
    assistant.index()
    assert keyword_sources(other, "wombat burrows") == {"wombat.md"}


def test_delete_document_updates_keyword_results(seeded: Settings) -> None:
    from rag.assistant import Assistant

    assistant = Assistant.from_settings(seeded)
    (seeded.corpus_dir / "bilby.txt").write_text("The bilby is a desert marsupial with long ears.\n")
    assistant.index()
    assert keyword_sources(assistant, "bilby") == {"bilby.txt"}
    assistant.delete_document("bilby.txt")
    assert keyword_sources(assistant, "bilby") == set()
    assert not (seeded.corpus_dir / "bilby.txt").exists()


# --- persistence --------------------------------------------------------------------------
def test_save_load_round_trip(tmp_path: Path) -> None:
    ids = ["k", "j", "e"]
    texts = [KOREAN, JAPANESE, "Freedom Edge is a trilateral exercise held in June."]
    idx = KeywordIndex.build(ids, texts)
    folder = tmp_path / "kw"
    idx.save(folder)
    idx.save(folder)  # overwriting an existing copy is fine too
    assert not folder.with_name("kw.tmp").exists() and not folder.with_name("kw.old").exists()
    assert KeywordIndex.saved_stamp(folder) == idx.stamp
    back = KeywordIndex.load(folder)
    assert back is not None
    assert back.ids == ids and back.stamp == idx.stamp and back.df == idx.df
    for q in ("한미일 안보협력", "日米韓", "Freedom Edge exercise", "nothing matches zzz"):
        assert np.allclose(back.score_all(q), idx.score_all(q))
        assert back.search(q, 3) == idx.search(q, 3)
    assert "安全" in back and "zzz" not in back


def test_acronyms_of_capitalised_phrases_are_kept_and_an_older_index_is_rebuilt(tmp_path: Path) -> None:
    """"RNC" for "Republican National Convention": three to six capitalised words, with "of" …
    between; never across a line break (a heading and the next line are no phrase)."""
    texts = [
        "He spoke at the Republican National Convention in July.",
        "The Ministry of Foreign Affairs said so.",
        "Lowy Institute\n\nJapan Today",
        "Just Two words here.",
    ]
    idx = KeywordIndex.build(["a", "b", "c", "d"], texts)
    assert idx.acronyms == {"RNC": "Republican National Convention", "MFA": "Ministry of Foreign Affairs"}
    idx.save(tmp_path / "kw")
    back = KeywordIndex.load(tmp_path / "kw")
    assert back is not None and back.acronyms == idx.acronyms
    meta = json.loads((tmp_path / "kw" / "ids.json").read_text())
    del meta["acronyms"]  # as written before acronyms were kept: rebuilt from the store
    (tmp_path / "kw" / "ids.json").write_text(json.dumps(meta))
    assert KeywordIndex.load(tmp_path / "kw") is None


def test_load_of_missing_or_broken_index_is_none(tmp_path: Path) -> None:
    assert KeywordIndex.load(tmp_path / "absent") is None
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "ids.json").write_text("{not json")
    assert KeywordIndex.load(broken) is None


def test_empty_index_round_trip(tmp_path: Path) -> None:
    empty = KeywordIndex.build([], [])
    empty.save(tmp_path / "e")
    back = KeywordIndex.load(tmp_path / "e")
    assert back is not None and back.ids == [] and back.search("anything", 5) == []


def test_an_absent_term_is_read_as_one_of_its_word_family() -> None:
    """"optimistic" (stem "optimist") is the corpus's "optimism" ("optim"); a short or unrelated
    stem has no kin, nor has a term the corpus uses."""
    idx = KeywordIndex.build(["a", "b"], ["It does not generate optimism.", "The military drills."])
    assert idx.kin(tokenize("optimistic")[0]) == tokenize("optimism")[0]
    assert idx.kin(tokenize("militant")[0]) is None  # "milit" + "ari" is no derivation
    assert idx.kin(tokenize("optimism")[0]) is None  # the corpus's own
    assert idx.kin("opt") is None and idx.kin("zorblax") is None and idx.kin("optician") is None
