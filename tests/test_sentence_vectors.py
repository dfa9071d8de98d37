"""Sentence vectors kept with each chunk at index time: packing, lookup, and the answers they serve."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rag import sentence_vectors as sv
from rag.assistant import Assistant
from rag.config import Settings
from rag.lc_retriever import hit_to_document

DIM = 8
RUNTIME = "onnx-int8"
CHUNK = (
    "The three countries signed the framework in 2024. They agreed to meet every year. "
    "Is it enough? Maybe. Seoul and Tokyo both hailed the deal as historic."
)


def _fake_encode(texts: list[str]) -> np.ndarray:
    """A vector per text that depends on the text alone (stands in for the model)."""
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    for i, t in enumerate(texts):
        out[i] = np.random.default_rng(abs(hash(t)) % 2**32).standard_normal(DIM)
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_quotable_skips_questions_and_fragments_and_reads_a_referring_sentence_in_context() -> None:
    got = sv.quotable(CHUNK)
    assert [q.text for q in got] == [
        "The three countries signed the framework in 2024.",
        "They agreed to meet every year.",
        "Seoul and Tokyo both hailed the deal as historic.",
    ]
    assert all(CHUNK[q.start : q.end] == q.text for q in got)
    assert got[1].in_context(CHUNK) == f"{got[0].text} They agreed to meet every year."
    assert got[0].in_context(CHUNK) == got[2].in_context(CHUNK) == ""


def test_packed_vectors_come_back_by_text() -> None:
    other = "Tokyo and Seoul held talks in July. They went well, both sides said."
    empty = "Why? Yes."
    packed = sv.embed([CHUNK, empty, other], _fake_encode, RUNTIME)
    for chunk, value in zip([CHUNK, empty, other], packed, strict=True):
        stored = sv.unpack(chunk, value, DIM, RUNTIME)
        quoted = sv.quotable(chunk)
        texts = [q.text for q in quoted] + [q.in_context(chunk) for q in quoted if q.previous]
        assert sorted(stored) == sorted(texts)
        if texts:
            got = np.stack([stored[t] for t in texts])
            assert np.abs(got - _fake_encode(texts)).max() < 2e-3  # float16
    assert sv.unpack(CHUNK, packed[0], DIM, "openvino-int8") == {}  # another runtime's vectors


_EIGHT = "AAAAAAAAAAAAAAAAAAAAAA=="  # base64 of 16 bytes: one float16 vector of DIM numbers


@pytest.mark.parametrize(
    "value",
    [None, "", 42, f"0:{RUNTIME}|0-5|{_EIGHT}", f"1:{RUNTIME}|0-5|not base64!", f"1:{RUNTIME}|0-5|AAAA"]
    + [f"1:{RUNTIME}|{span}|{_EIGHT}" for span in ("0-9999", "x-y", "5-2", "3-3", "0-5+", "-1-4")],
)
def test_a_missing_or_damaged_value_reads_as_nothing_stored(value: object) -> None:
    assert sv.unpack(CHUNK, value, DIM, RUNTIME) == {}
    assert len(sv.unpack(CHUNK, f"1:{RUNTIME}|0-5|{_EIGHT}", DIM, RUNTIME)) == 1  # the same, intact


@given(st.text(alphabet=st.sampled_from(list("ab. ?!\n한국日本")), max_size=200))
def test_every_stored_text_slices_back_from_its_chunk(text: str) -> None:
    [packed] = sv.embed([text], _fake_encode, RUNTIME)
    stored = sv.unpack(text, packed, DIM, RUNTIME)
    assert set(stored) == {q.text for q in sv.quotable(text)} | {
        q.in_context(text) for q in sv.quotable(text) if q.previous
    }


def test_lookup_embeds_only_what_is_not_stored() -> None:
    stored = {"a b c": np.ones(DIM, dtype=np.float32)}
    asked: list[list[str]] = []

    def encode(texts: list[str]) -> np.ndarray:
        asked.append(list(texts))
        return _fake_encode(texts)

    got = sv.lookup(["a b c", "d e f", "d e f"], stored, encode)
    assert asked == [["d e f"]]
    assert got.shape == (3, DIM) and (got[0] == 1).all() and (got[1] == got[2]).all()
    assert sv.lookup([], stored, lambda t: np.zeros((0, DIM))).shape == (0, DIM)


def _count_embedded(assistant: Assistant) -> list[str]:
    embedder = assistant.indexer.embedder
    seen: list[str] = []
    original = embedder.encode

    def counting(texts):  # type: ignore[no-untyped-def]
        seen.extend(texts)
        return original(texts)

    embedder.encode = counting  # type: ignore[method-assign]
    return seen


def test_an_answer_embeds_no_sentence_the_index_keeps(seeded: Settings) -> None:
    """The index stores every quotable sentence's vector (as the model gives it), and an answer
    embeds only the question; with the setting off, the same answer embeds its sentences."""
    with_vectors = Assistant.from_settings(seeded)
    with_vectors.index()
    store = with_vectors.indexer.store
    chunks = store.get([c.id for c in store.scan()])
    embedder = with_vectors.indexer.embedder
    for chunk in chunks[:2]:
        stored = sv.unpack(chunk.text, chunk.metadata[sv.KEY], embedder.dimension, embedder.backend)
        assert {q.text for q in sv.quotable(chunk.text)} <= set(stored)
        texts = list(stored)
        fresh = embedder.encode(texts)
        cosines = (np.stack([stored[t] for t in texts]) * fresh).sum(axis=1)
        assert cosines.min() > 0.999

    question = "What is Freedom Edge?"
    seen = _count_embedded(with_vectors)
    answer = with_vectors.answer(question)
    assert not answer.abstained
    assert seen == [answer.query]  # the question's own vector, nothing else

    off = seeded.model_copy(update={"sentence_vectors": False, "index_dir": seeded.index_dir.parent / "off"})
    without = Assistant.from_settings(off)
    without.index()
    stored_off = without.indexer.store
    assert all(sv.KEY not in c.metadata for c in stored_off.get([c.id for c in stored_off.scan()]))
    seen_off = _count_embedded(without)
    plain = without.answer(question)
    assert len(seen_off) > 3  # the sentences, embedded while the user waits
    assert plain.text == answer.text
    assert [c.start for c in plain.citations] == [c.start for c in answer.citations]


def test_retrieved_documents_do_not_carry_the_vectors(seeded: Settings) -> None:
    assistant = Assistant.from_settings(seeded)
    assistant.index()
    hits = assistant.searcher().search("Freedom Edge exercise", k=2)
    assert sv.KEY in hits[0].metadata
    assert sv.KEY not in hit_to_document(hits[0]).metadata


def test_matrix_reads_the_vectors_without_their_texts() -> None:
    [packed] = sv.embed([CHUNK], _fake_encode, RUNTIME)
    rows = sv.matrix(packed, DIM, RUNTIME)
    assert rows is not None
    stored = sv.unpack(CHUNK, packed, DIM, RUNTIME)
    assert sorted(map(tuple, rows.tolist())) == sorted(map(tuple, np.stack(list(stored.values())).tolist()))
    assert sv.matrix(packed, DIM, "openvino-int8") is None
    assert sv.matrix(f"1:{RUNTIME}|0-5|not base64!", DIM, RUNTIME) is None
    assert sv.matrix(f"1:{RUNTIME}||", DIM, RUNTIME) is None  # a chunk with nothing quotable
