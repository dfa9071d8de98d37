"""Chunking is pure: property tests against the real model tokenizer, no store, no embeddings."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag.chunking import chunk_document, chunk_id, chunk_spans, sentence_spans
from rag.config import Settings
from rag.embeddings import Embedder
from rag.schema import LoadedDocument, Section

WINDOW = 256  # all-MiniLM-L6-v2's max_seq_length, [CLS] and [SEP] included
DEFAULTS = Settings.model_fields
MAX_CHUNK = DEFAULTS["chunk_tokens"].default
OVERLAP = DEFAULTS["chunk_overlap_tokens"].default
LIMIT_MAX = 254  # the largest chunk_tokens Settings accepts

PROPS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def tokenizer(model_cache: Path) -> Any:
    return Embedder(Settings(model_cache_dir=model_cache)).tokenizer


@pytest.fixture(scope="module")
def spans_of(tokenizer: Any) -> Any:
    def token_spans(text: str) -> list[tuple[int, int]]:
        return list(tokenizer.encode(text, add_special_tokens=False).offsets)

    return token_spans


def window_tokens(tokenizer: Any, text: str) -> int:
    """Tokens the embedder sees for ``text``, special tokens included, nothing truncated."""
    return len(tokenizer.encode(text).ids)


def doc(text: str, source: str = "notes/a.txt", page: int | None = None) -> LoadedDocument:
    digest = hashlib.sha256(text.encode()).hexdigest()
    return LoadedDocument(source, "A title", (Section(text, page),), digest)


# --- strategies ---------------------------------------------------------------------------

_word = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12)
_sentence = st.lists(_word, min_size=1, max_size=30).map(lambda ws: " ".join(ws).capitalize() + ".")
# Awkward text: CJK, accents, digits, punctuation, long unbroken runs, odd whitespace.
_awkward = st.text(
    alphabet=st.sampled_from(list("abcdefghijklmnopqrstuvwxyz0123456789éüß한국日本語。.!? \n\t-—’©")),
    min_size=0,
    max_size=3000,
)


def _sentences_text(sentences: list[str], seps: list[str]) -> tuple[str, set[int], set[int]]:
    """Join sentences with the given separators; return text and sentence start/end offsets."""
    text, starts, ends = "", set(), set()
    for i, s in enumerate(sentences):
        if i:
            text += seps[i % len(seps)]
        starts.add(len(text))
        text += s
        ends.add(len(text))
    return text, starts, ends


# --- properties ---------------------------------------------------------------------------


@PROPS
@given(text=st.one_of(_awkward, st.text(max_size=2000)), max_tokens=st.integers(32, LIMIT_MAX),
       overlap=st.integers(0, 128))
def test_offsets_slice_back_and_chunks_fit_the_window(
    spans_of: Any, tokenizer: Any, text: str, max_tokens: int, overlap: int
) -> None:
    chunks = chunk_document(doc(text), spans_of, max_tokens, overlap)
    for c in chunks:
        assert text[c.start : c.end] == c.text
        assert c.text and c.text == c.text.strip()
        assert window_tokens(tokenizer, c.text) <= WINDOW
    starts = [c.start for c in chunks]
    assert starts == sorted(set(starts)), "chunks are in reading order, no two start together"


@PROPS
@given(text=_awkward)
def test_every_token_is_in_some_chunk(spans_of: Any, text: str) -> None:
    chunks = chunk_spans(text, spans_of, 40, 8)
    for start, end in spans_of(text):
        assert any(c.start <= start and end <= c.end for c in chunks), text[start:end]


@PROPS
@given(text=_awkward, max_tokens=st.integers(32, LIMIT_MAX))
def test_chunks_fit_budget_as_measured_by_the_tokenizer(
    spans_of: Any, text: str, max_tokens: int
) -> None:
    for c in chunk_spans(text, spans_of, max_tokens, OVERLAP):
        assert len(spans_of(text[c.start : c.end])) <= max_tokens


@PROPS
@given(sentences=st.lists(_sentence, min_size=1, max_size=40),
       seps=st.lists(st.sampled_from([" ", "  ", "\n", "\n\n", " \n "]), min_size=1, max_size=4))
def test_sentence_boundaries_respected_and_neighbours_overlap(
    spans_of: Any, sentences: list[str], seps: list[str]
) -> None:
    text, starts, ends = _sentences_text(sentences, seps)
    chunks = chunk_spans(text, spans_of, MAX_CHUNK, OVERLAP)
    assert chunks
    for c in chunks:  # every sentence here is shorter than the budget: no sentence is cut
        assert c.start in starts and c.end in ends, text[c.start : c.end]
    for a, b in zip(chunks, chunks[1:], strict=False):
        assert a.start < b.start, "the chunker always advances"
        last = max(s for s in starts if s < a.end)  # the last sentence of chunk a
        if len(spans_of(text[last : a.end])) <= OVERLAP and last > a.start:
            assert b.start < a.end, "a trailing sentence that fits the overlap is repeated"


def test_overlap_on_a_plain_paragraph(spans_of: Any) -> None:
    text = " ".join(f"Sentence number {i} talks about the trilateral summit." for i in range(60))
    chunks = chunk_spans(text, spans_of, MAX_CHUNK, OVERLAP)
    assert len(chunks) >= 3
    for a, b in zip(chunks, chunks[1:], strict=False):
        assert b.start < a.end
        shared = text[b.start : a.end]
        assert shared.startswith("Sentence number") and shared.endswith(".")
    no_overlap = chunk_spans(text, spans_of, MAX_CHUNK, 0)
    for a, b in zip(no_overlap, no_overlap[1:], strict=False):
        assert b.start > a.end


@pytest.mark.parametrize("text", ["", " ", "\n\n\t  \n", "\u3000 \r\n"])
def test_empty_or_whitespace_text_gives_no_chunks(spans_of: Any, text: str) -> None:
    assert chunk_document(doc(text), spans_of, MAX_CHUNK, OVERLAP) == []
    assert sentence_spans(text) == []


def test_one_enormous_line_is_chunked_within_the_limit(spans_of: Any, tokenizer: Any) -> None:
    line = " ".join(f"word{i} alliance deterrence" for i in range(8000))  # ~200 KB, no sentence end
    assert "\n" not in line and "." not in line
    chunks = chunk_document(doc(line), spans_of, MAX_CHUNK, OVERLAP)
    assert len(chunks) > 50
    for c in chunks:
        assert line[c.start : c.end] == c.text
        assert window_tokens(tokenizer, c.text) <= WINDOW
    assert chunks[0].start == 0 and chunks[-1].end == len(line)
    for a, b in zip(chunks, chunks[1:], strict=False):
        assert b.start <= a.end + 1  # contiguous: nothing of the line is skipped


def test_long_run_on_words_cut_mid_word_still_fit_the_window(spans_of: Any, tokenizer: Any) -> None:
    # Words of 60-99 letters cut into many word pieces; a cut inside such a word makes the next
    # chunk start mid-word, where the tokenizer splits differently than in the full text.
    words = ["".join("qxzjvkw"[(i * 7 + j * j) % 7] + "aeiou"[(i + j) % 5] for j in range(30 + i % 20))
             for i in range(400)]
    line = " ".join(words)
    chunks = chunk_document(doc(line), spans_of, LIMIT_MAX, OVERLAP)
    assert len(chunks) > 10
    for c in chunks:
        assert line[c.start : c.end] == c.text
        assert window_tokens(tokenizer, c.text) <= WINDOW


# --- ids ----------------------------------------------------------------------------------


def test_ids_are_deterministic_and_pinned() -> None:
    # Pinned values: an id must never depend on the process (no hash(), no randomness).
    assert chunk_id("a/b.txt", None, 0, "Hello world.") == "87d87ef709cbe1299d3f0710ed4cdb0c"
    assert chunk_id("a/b.pdf", 2, 10, "Hello world.") == "2f84ee8493b6ef859a4641d825a20776"


def test_ids_stable_across_processes(spans_of: Any) -> None:
    text = "The summit was held at Camp David. " * 40
    here = [c.id for c in chunk_document(doc(text), spans_of, MAX_CHUNK, OVERLAP)]
    code = (
        "import hashlib, sys\n"
        "from rag.chunking import chunk_document\n"
        "from rag.embeddings import bundled_model_path\n"
        "from rag.schema import LoadedDocument, Section\n"
        "from tokenizers import Tokenizer\n"
        "tok = Tokenizer.from_file(str(bundled_model_path() / 'tokenizer.json')); tok.no_truncation()\n"
        "text = 'The summit was held at Camp David. ' * 40\n"
        "d = LoadedDocument('notes/a.txt', 'A title', (Section(text, None),),"
        " hashlib.sha256(text.encode()).hexdigest())\n"
        "spans = lambda t: tok.encode(t, add_special_tokens=False).offsets\n"
        f"print(' '.join(c.id for c in chunk_document(d, spans, {MAX_CHUNK}, {OVERLAP})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == here


@PROPS
@given(text=_awkward)
def test_ids_repeat_on_rerun_and_depend_on_source_page_and_content(spans_of: Any, text: str) -> None:
    first = chunk_document(doc(text), spans_of, MAX_CHUNK, OVERLAP)
    again = chunk_document(doc(text), spans_of, MAX_CHUNK, OVERLAP)
    assert [c.id for c in first] == [c.id for c in again]
    ids = [c.id for c in first]
    assert len(set(ids)) == len(ids)
    elsewhere = {c.id for c in chunk_document(doc(text, source="other.txt"), spans_of, MAX_CHUNK, OVERLAP)}
    assert not elsewhere & set(ids)
    paged = {c.id for c in chunk_document(doc(text, page=3), spans_of, MAX_CHUNK, OVERLAP)}
    assert not paged & set(ids)


def test_editing_one_sentence_keeps_the_ids_of_untouched_leading_chunks(spans_of: Any) -> None:
    sentences = [f"Paragraph {i} records a meeting of defence ministers in Tokyo." for i in range(80)]
    before = chunk_document(doc(" ".join(sentences)), spans_of, MAX_CHUNK, OVERLAP)
    sentences[-1] = "The final sentence changed completely."
    after = chunk_document(doc(" ".join(sentences)), spans_of, MAX_CHUNK, OVERLAP)
    assert before[0].id == after[0].id
    assert before[-1].id != after[-1].id


def test_chunk_metadata_fields(spans_of: Any) -> None:
    text = "First sentence here. Second one follows."
    d = doc(text, source="dir/x.pdf", page=2)
    (c,) = chunk_document(d, spans_of, MAX_CHUNK, OVERLAP)
    assert (c.source, c.title, c.page, c.start, c.end) == ("dir/x.pdf", "A title", 2, 0, len(text))
    assert c.file_hash == d.file_hash
    assert c.chunk_hash == hashlib.sha256(text.encode()).hexdigest()[:16]
    assert c.n_chunks == 1
