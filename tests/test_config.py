"""Settings: RAG_ environment variables and .env are read when Settings() is built; bad values
are refused with messages that name the setting."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from rag.cli import settings_problem
from rag.config import PROJECT_ROOT, Settings
from rag.cpu import runtime
from rag.errors import StoreUnavailableError


def test_defaults_are_offline_and_local(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("RAG_CORPUS_DIR", "RAG_INDEX_DIR", "RAG_MODEL_CACHE_DIR"):
        monkeypatch.delenv(var)
    s = Settings()
    assert s.corpus_dir == PROJECT_ROOT / "corpus" and s.index_dir == PROJECT_ROOT / "index"
    assert s.chroma_url == "" and s.llm_provider == "none" and s.host == "127.0.0.1"
    assert s.embedding_model == "all-MiniLM-L6-v2" and s.embedding_model_path == ""
    assert 0 < s.chunk_overlap_tokens < s.chunk_tokens <= 254


def test_auto_backend_is_the_fastest_runtime_measured_for_the_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    from rag import cpu

    amd_avx2 = frozenset("fpu sse4_2 avx avx2 fma aes".split())  # the AMD EPYC of bench/ (no VNNI)
    assert cpu.best_runtime(amd_avx2) == "onnx-int8"
    for vnni in ("avx512_vnni", "avx_vnni", "amx_int8"):
        assert cpu.best_runtime(amd_avx2 | {"avx512f", vnni}) == "openvino-int8"
    assert cpu.best_runtime(frozenset()) == "openvino-int8"  # nothing known: as before
    assert cpu.best_runtime(frozenset("fp asimd asimddp".split())) == "openvino-int8"  # ARM: unmeasured
    monkeypatch.delenv("RAG_EMBEDDING_BACKEND", raising=False)
    assert Settings().embedding_backend == "auto"  # read when the index is opened (test_api.py)
    assert cpu.runtime("auto") == cpu.best_runtime() and cpu.runtime("torch") == "torch"
    monkeypatch.setattr(cpu, "flags", lambda: amd_avx2)
    assert cpu.runtime("auto") == "onnx-int8"


def test_cpu_flags_are_read_from_cpuinfo() -> None:
    from rag.cpu import parse_flags

    x86 = (
        "processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu sse2 avx2 fma\n"
        "vmx flags\t: vnmi ept\n\nprocessor\t: 1\nflags\t\t: fpu sse2 avx2 fma avx512_vnni\n"
    )
    assert parse_flags(x86) == {"fpu", "sse2", "avx2", "fma"}  # the first processor's, not "vmx flags"
    assert parse_flags("processor\t: 0\nFeatures\t: fp asimd asimddp\nCPU part\t: 0xd0c\n") == {
        "fp", "asimd", "asimddp"
    }
    assert parse_flags("") == parse_flags("processor : 0\nmodel name : something\n") == frozenset()


def test_every_field_is_described() -> None:
    undocumented = [name for name, f in Settings.model_fields.items() if not (f.description or "").strip()]
    assert undocumented == []


def test_rag_prefixed_environment_is_read_when_built(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    before = Settings()
    monkeypatch.setenv("RAG_TOP_K", "9")
    monkeypatch.setenv("RAG_COLLECTION", "from-env")
    monkeypatch.setenv("RAG_EMBEDDING_BACKEND", "torch")
    monkeypatch.setenv("TOP_K", "1")  # no prefix: not ours
    s = Settings()
    assert (s.top_k, s.collection, s.embedding_backend) == (9, "from-env", "torch")
    assert before.top_k != 9  # nothing was frozen at import or at an earlier build
    assert s.corpus_dir == (tmp_path / "corpus").resolve()  # conftest's RAG_CORPUS_DIR


def test_dotenv_in_the_working_directory_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # conftest chdirs into tmp_path, so this is the .env a user keeps next to their project
    (tmp_path / ".env").write_text(
        "RAG_COLLECTION=from-dotenv\nRAG_TOP_K=3\nRAG_CHROMA_URL=http://127.0.0.1:8000/\nUNRELATED=1\n"
    )
    s = Settings()
    assert (s.collection, s.top_k, s.chroma_url) == ("from-dotenv", 3, "http://127.0.0.1:8000")
    monkeypatch.setenv("RAG_TOP_K", "5")  # the environment wins over .env
    assert Settings().top_k == 5


def test_paths_are_made_absolute(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RAG_CORPUS_DIR", "docs/../docs")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RAG_INDEX_DIR", "~/idx")
    s = Settings()
    assert s.corpus_dir == (tmp_path / "docs").resolve()
    assert s.index_dir == (tmp_path / "home" / "idx").resolve()


@pytest.mark.parametrize(
    ("var", "value", "phrase"),
    [
        ("RAG_TOP_K", "lots", "valid integer"),
        ("RAG_TOP_K", "0", "greater than or equal to 1"),
        ("RAG_CHUNK_TOKENS", "300", "less than or equal to 254"),  # the model window is 256
        ("RAG_EMBEDDING_BACKEND", "gpu", "'auto', 'openvino-int8', 'onnx-int8' or 'torch'"),
        ("RAG_LLM_PROVIDER", "skynet", "'none', 'ollama' or 'openai'"),
        ("RAG_DENSE_WEIGHT", "1.5", "less than or equal to 1"),
        ("RAG_PORT", "70000", "less than or equal to 65535"),
        ("RAG_CHROMA_URL", "localhost:8000", "must start with http:// or https://"),
        ("RAG_CHROMA_URL", "ftp://host", "must start with http:// or https://"),
    ],
)
def test_invalid_values_are_refused_clearly(
    monkeypatch: pytest.MonkeyPatch, var: str, value: str, phrase: str
) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(ValidationError) as info:
        Settings()
    message = settings_problem(info.value)
    assert f"invalid setting {var}={value!r}" in message
    assert phrase in message
    assert ".env" in message  # says where to fix it


def test_overlap_must_leave_room_for_new_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_CHUNK_TOKENS", "40")
    monkeypatch.setenv("RAG_CHUNK_OVERLAP_TOKENS", "30")
    with pytest.raises(ValidationError) as info:
        Settings()
    assert "RAG_CHUNK_OVERLAP_TOKENS (30) must be at most half of RAG_CHUNK_TOKENS (40)" in settings_problem(
        info.value
    )
    monkeypatch.setenv("RAG_CHUNK_OVERLAP_TOKENS", "20")
    assert Settings().chunk_overlap_tokens == 20


@pytest.mark.parametrize(
    ("url", "stored"),
    [
        ("", ""),
        ("  ", ""),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("https://chroma.example.org/", "https://chroma.example.org"),
    ],
)
def test_chroma_url_is_normalised(url: str, stored: str) -> None:
    assert Settings(chroma_url=url).chroma_url == stored


def test_unreachable_chroma_server_is_a_clear_error(model_cache: Path) -> None:
    from rag.store import Store

    s = Settings(chroma_url="http://127.0.0.1:9")  # the discard port: nothing listens
    with pytest.raises(StoreUnavailableError) as info:
        Store(s, "all-MiniLM-L6-v2", 384)
    assert "http://127.0.0.1:9" in str(info.value) and "chroma run" in str(info.value)
    assert not (s.index_dir / "chroma").exists()  # server mode never falls back to a local store


def test_settings_are_passed_down_not_read_again(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from rag.assistant import Assistant

    s = Settings(corpus_dir=tmp_path / "mine", collection="explicit")
    monkeypatch.setenv("RAG_COLLECTION", "ignored")
    monkeypatch.setenv("RAG_CORPUS_DIR", str(tmp_path / "ignored"))
    a = Assistant.from_settings(s)
    # "auto" is read once, when the index is opened; every other field is passed down as given
    assert a.settings.embedding_backend == runtime("auto")  # no index yet: this CPU's fastest
    assert a.settings == s.model_copy(update={"embedding_backend": a.settings.embedding_backend})
    assert a.indexer.settings is a.settings and a.indexer.store.settings is a.settings
    assert a.indexer.embedder.settings is a.settings
    assert a.indexer.store.settings.collection == "explicit"
    chosen = s.model_copy(update={"embedding_backend": "onnx-int8"})
    assert Assistant.from_settings(chosen).settings is chosen
