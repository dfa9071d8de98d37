"""The public Python API: names, one-time wiring, streaming, and errors that say what to do."""

from __future__ import annotations

import importlib
import pkgutil
import shutil
from pathlib import Path
from typing import Any

import pytest

import rag
from rag.config import Settings
from rag.cpu import best_runtime, runtime
from tests.conftest import SEED_CORPUS

PUBLIC = {
    "Answer", "Assistant", "Citation", "ConfigError", "DocumentInfo", "FileResult", "IndexBusyError",
    "IndexMissingError", "IndexReport", "IndexStatus", "LLMUnavailableError", "LoaderError",
    "ModelMismatchError", "RagError", "Settings", "StoreUnavailableError", "answer", "default_assistant",
    "index",
}


def test_all_is_pinned_and_every_name_resolves() -> None:
    assert set(rag.__all__) == PUBLIC
    for name in rag.__all__:
        assert getattr(rag, name) is not None
    ns: dict[str, Any] = {}
    exec("from rag import *", ns)
    assert PUBLIC <= set(ns)
    for name in PUBLIC - {"Settings", "answer", "default_assistant", "index", "Assistant"}:
        obj = getattr(rag, name)
        assert isinstance(obj, type)
    for err in ("ConfigError", "IndexBusyError", "IndexMissingError", "LLMUnavailableError", "LoaderError",
                "ModelMismatchError", "StoreUnavailableError"):
        assert issubclass(getattr(rag, err), rag.RagError)
    with pytest.raises(AttributeError):
        _ = rag.no_such_name  # type: ignore[attr-defined]


def test_answer_stays_the_function_after_every_submodule_is_imported() -> None:
    """A submodule named like a public function would replace it on import (rag.answer)."""
    for mod in pkgutil.iter_modules(rag.__path__):
        if mod.name != "__main__":  # that one runs the CLI
            importlib.import_module(f"rag.{mod.name}")
    assert callable(rag.answer) and callable(rag.index) and callable(rag.default_assistant)
    from rag import answer, index

    assert answer is rag.answer and index is rag.index
    assert answer.__module__ == "rag" and not isinstance(answer, type(rag))


@pytest.fixture
def indexed(seeded: Settings) -> Settings:
    from rag.assistant import Assistant

    Assistant.from_settings(seeded).index()
    return seeded


def test_default_assistant_is_built_once(indexed: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings come from the environment (pointed at tmp); the model and index load once."""
    import rag.assistant

    built: list[Any] = []
    real = rag.assistant.Assistant.from_settings.__func__  # type: ignore[attr-defined]

    def counting(cls: type, settings: Settings | None = None) -> Any:
        built.append(settings)
        return real(cls, settings)

    monkeypatch.setattr(rag.assistant.Assistant, "from_settings", classmethod(counting))

    a1 = rag.answer("What is Freedom Edge?")
    a2 = rag.answer("Who is South Korea's defence minister?")
    assistant = rag.default_assistant()
    assert len(built) == 1
    assert assistant.settings.corpus_dir == indexed.corpus_dir
    assert not a1.abstained and not a2.abstained
    searcher = assistant.searcher()
    assert searcher is assistant.searcher(), "the searcher (keyword index) is reused between questions"
    model = assistant.indexer.embedder._model
    assert model is not None
    rag.answer("Which institute publishes this commentary?")
    assert assistant.indexer.embedder._model is model, "the embedding model is loaded once"
    assert assistant.searcher() is searcher


def test_searcher_is_rebuilt_after_a_sync_changes_the_index(indexed: Settings) -> None:
    from rag.assistant import Assistant

    assistant = Assistant.from_settings(indexed)
    before = assistant.searcher()
    assistant.index()  # nothing changed: same searcher
    assert assistant.searcher() is before
    (indexed.corpus_dir / "new.txt").write_text("The quokka is a small marsupial found on Rottnest Island.\n")
    assistant.index()
    after = assistant.searcher()
    assert after is not before
    assert "quokka" in after.keyword


def test_stream_yields_growing_text_then_the_answer(indexed: Settings) -> None:
    from rag.assistant import Assistant

    assistant = Assistant.from_settings(indexed)
    parts = list(assistant.stream("What is the name of the multi-domain trilateral exercise?"))
    final = parts[-1]
    assert isinstance(final, rag.Answer)
    texts = parts[:-1]
    assert len(texts) >= 2 and all(isinstance(p, str) for p in texts)
    assert all(texts[i + 1].startswith(texts[i]) for i in range(len(texts) - 1)), "text only grows"
    assert texts[-1] == final.text
    assert not final.abstained and final.citations
    assert final == assistant.answer("What is the name of the multi-domain trilateral exercise?")


def test_stream_of_an_abstention(indexed: Settings) -> None:
    from rag.assistant import Assistant

    assistant = Assistant.from_settings(indexed)
    parts = list(assistant.stream("Which football club won the 2025 Champions League?"))
    assert isinstance(parts[-1], rag.Answer) and parts[-1].abstained
    assert all(isinstance(p, str) for p in parts[:-1]) and parts[-2] == parts[-1].text


def test_empty_question_is_refused(indexed: Settings) -> None:
    from rag.assistant import Assistant

    with pytest.raises(rag.RagError, match="empty"):
        Assistant.from_settings(indexed).answer("   ")


def test_asking_before_indexing_says_run_rag_index(settings: Settings) -> None:
    from rag.assistant import Assistant

    with pytest.raises(rag.IndexMissingError) as err:
        Assistant.from_settings(settings).answer("What is Freedom Edge?")
    assert "rag index" in str(err.value)
    assert str(settings.index_dir) in str(err.value)


def test_public_answer_before_indexing_raises_index_missing(tmp_path: Path) -> None:
    (tmp_path / "corpus").mkdir()
    shutil.copy(next(SEED_CORPUS.glob("*.txt")), tmp_path / "corpus")
    with pytest.raises(rag.IndexMissingError, match="rag index"):
        rag.answer("What is Freedom Edge?")
    rag.index()  # …and after indexing the same call works
    assert not rag.answer("What is Freedom Edge?").abstained


def test_status_and_documents(indexed: Settings) -> None:
    from rag.assistant import Assistant

    assistant = Assistant.from_settings(indexed)
    st = assistant.status()
    docs = assistant.documents()
    assert st.documents == len(docs) == len(list(SEED_CORPUS.glob("*.txt")))
    assert st.chunks == sum(d.chunks for d in docs) > 0
    assert st.model == f"all-MiniLM-L6-v2 ({runtime(indexed.embedding_backend)})" and st.last_sync != "never"
    text = assistant.document_text(docs[0].source)
    assert "Freedom Edge" in text


def test_status_says_when_the_index_was_built_with_another_backend(indexed: Settings) -> None:
    """Vectors from another runtime are close (cosine ~0.99), not identical: the status says so
    and how to align them; a rebuild with the current runtime clears the note."""
    from rag.assistant import Assistant

    other = Assistant.from_settings(indexed.model_copy(update={"embedding_backend": "torch"}))
    assert other.indexer.store.built_with() == runtime(indexed.embedding_backend) != "torch"
    assert f"index was built with {runtime(indexed.embedding_backend)}" in other.status().model
    assert "rag index --rebuild" in other.status().model
    other.index(rebuild=True)
    assert other.status().model.startswith("all-MiniLM-L6-v2 (torch); ")  # built with it now
    assert "built with" not in other.status().model and "is faster here" in other.status().model


def test_auto_keeps_the_runtime_the_index_was_built_with(seeded: Settings, tmp_path: Path) -> None:
    """An index built with one int8 runtime is searched with the same one under "auto" (so an
    upgrade that makes another runtime this CPU's fastest never mixes vectors in one index),
    and the status says how to switch; a new index gets this CPU's fastest."""
    from rag.assistant import Assistant

    assert seeded.embedding_backend == "auto"
    fastest = best_runtime()
    other = "openvino-int8" if fastest == "onnx-int8" else "onnx-int8"
    Assistant.from_settings(seeded.model_copy(update={"embedding_backend": other})).index()
    auto = Assistant.from_settings(seeded)
    assert auto.settings.embedding_backend == auto.indexer.embedder.backend == other
    hint = f"({other}); {fastest} is faster here: `RAG_EMBEDDING_BACKEND={fastest} rag index --rebuild`"
    assert hint in auto.status().model
    assert not auto.answer("What is Freedom Edge?").abstained
    # an index from before the runtime was recorded was built with the default of the time
    col = auto.indexer.store.collection()
    col.modify(metadata={k: v for k, v in (col.metadata or {}).items() if k != "embedding_backend"})
    assert Assistant.from_settings(seeded).indexer.store.built_with() == ""
    assert Assistant.from_settings(seeded).settings.embedding_backend == "openvino-int8"
    fresh = Assistant.from_settings(seeded.model_copy(update={"index_dir": tmp_path / "new-index"}))
    assert fresh.settings.embedding_backend == fastest
    fresh.index()
    assert fresh.indexer.store.built_with() == fastest
    assert fresh.status().model == f"all-MiniLM-L6-v2 ({fastest})"


def test_warm_up_loads_model_and_indexes(indexed: Settings, settings: Settings) -> None:
    from rag.assistant import Assistant

    a = Assistant.from_settings(indexed)
    assert a._searcher is None and a.indexer.embedder._model is None
    a.warm_up()
    assert a._searcher is not None and a.indexer.embedder._model is not None
    empty = Assistant.from_settings(settings.model_copy(update={"index_dir": settings.index_dir / "none"}))
    empty.warm_up()  # no index yet: nothing to load, and no error either
    with pytest.raises(rag.IndexMissingError):
        empty.answer("What is Freedom Edge?")


def test_a_rebuild_by_another_process_is_picked_up(indexed: Settings) -> None:
    import subprocess
    import sys

    from rag.assistant import Assistant

    a = Assistant.from_settings(indexed)
    assert not a.answer("What is Freedom Edge?").abstained
    out = subprocess.run([sys.executable, "-m", "rag", "index", "--rebuild"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    # The old collection is gone; the long-running assistant must follow the swapped-in one.
    b = a.answer("What is Freedom Edge?")
    assert not b.abstained and "Freedom Edge" in b.text
