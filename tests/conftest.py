"""Shared fixtures. Every data path points into a temporary folder (autouse)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import rag
from rag.config import PROJECT_ROOT, Settings

SEED_CORPUS = PROJECT_ROOT / "corpus"
SHARED = PROJECT_ROOT.parent / "shared"
# The team's dev QA set lives next to the project (../shared); a copy ships in tests/data so a
# clone anywhere (CI) runs the same tests.
_SHARED_QA = SHARED / "eval" / "dev_qa.jsonl"
DEV_QA = _SHARED_QA if _SHARED_QA.is_file() else PROJECT_ROOT / "tests" / "data" / "dev_qa.jsonl"


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One ONNX export per test session (exercises the real export path once)."""
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture(autouse=True)
def _isolate(tmp_path: Path, model_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("RAG_CORPUS_DIR", str(tmp_path / "corpus"))
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("RAG_MODEL_CACHE_DIR", str(model_cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("RAG_CHROMA_URL", raising=False)
    monkeypatch.delenv("RAG_LLM_PROVIDER", raising=False)
    monkeypatch.delenv("RAG_SENTENCE_VECTORS", raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env from the project is read
    rag._default = None
    yield
    rag._default = None


@pytest.fixture
def settings(tmp_path: Path, model_cache: Path) -> Settings:
    (tmp_path / "corpus").mkdir(exist_ok=True)
    return Settings(
        corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index", model_cache_dir=model_cache
    )


@pytest.fixture
def seeded(settings: Settings) -> Settings:
    """Settings whose corpus folder holds a copy of the bundled corpus."""
    for f in SEED_CORPUS.iterdir():
        if f.is_file():
            shutil.copy(f, settings.corpus_dir / f.name)
    return settings


@pytest.fixture(scope="module")
def seeded_assistant(tmp_path_factory: pytest.TempPathFactory, model_cache: Path):  # type: ignore[no-untyped-def]
    """An Assistant over an indexed copy of the bundled corpus, shared by a test module."""
    from rag.assistant import Assistant

    root = tmp_path_factory.mktemp("seeded")
    (root / "corpus").mkdir()
    for f in SEED_CORPUS.iterdir():
        if f.is_file():
            shutil.copy(f, root / "corpus" / f.name)
    s = Settings(corpus_dir=root / "corpus", index_dir=root / "index", model_cache_dir=model_cache)
    assistant = Assistant.from_settings(s)
    assistant.index()
    return assistant


def assert_sentence_vectors_kept(indexer: Any) -> None:
    """Every stored chunk keeps the vectors of the sentences an answer may quote, however it
    got there: written, its metadata updated by a later sync, carried over by a rebuild."""
    from rag import sentence_vectors as sv

    store, embedder = indexer.store, indexer.embedder
    for chunk in store.get([c.id for c in store.scan()]):
        stored = sv.unpack(chunk.text, chunk.metadata.get(sv.KEY), embedder.dimension, embedder.backend)
        assert {q.text for q in sv.quotable(chunk.text)} <= set(stored), chunk.metadata["source"]
