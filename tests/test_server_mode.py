"""Server mode: the index lives in a real `chroma run` server started by this module."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import rag
from rag import sentence_vectors
from rag.assistant import Assistant
from rag.config import Settings
from rag.errors import StoreUnavailableError
from tests.conftest import SEED_CORPUS

CHROMA = Path(sys.executable).parent / "chroma"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310 (loopback only)
        return json.loads(resp.read())


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not CHROMA.exists():
        pytest.fail(f"{CHROMA} is missing: install chromadb into the venv (make install)")
    root = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    log = (root / "server.log").open("wb")
    proc = subprocess.Popen(
        [str(CHROMA), "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(root / "data")],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"chroma run exited ({proc.returncode}):\n{(root / 'server.log').read_text()}")
            try:
                if "nanosecond heartbeat" in get_json(f"{url}/api/v2/heartbeat"):
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("chroma run did not answer its heartbeat within 60 s")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        log.close()


def server_collection(url: str, name: str) -> dict[str, Any] | None:
    base = f"{url}/api/v2/tenants/default_tenant/databases/default_database/collections"
    for col in get_json(base):
        if col["name"] == name:
            return {**col, "count": get_json(f"{base}/{col['id']}/count")}
    return None


@pytest.fixture(scope="module")
def server_settings(chroma_url: str, tmp_path_factory: pytest.TempPathFactory, model_cache: Path) -> Settings:
    root = tmp_path_factory.mktemp("server-mode")
    (root / "corpus").mkdir()
    for f in SEED_CORPUS.iterdir():
        shutil.copy(f, root / "corpus" / f.name)
    return Settings(
        corpus_dir=root / "corpus", index_dir=root / "index", model_cache_dir=model_cache,
        chroma_url=chroma_url, collection="server_mode",
    )


@pytest.fixture(scope="module")
def server_assistant(server_settings: Settings) -> Assistant:
    return Assistant.from_settings(server_settings)


def test_index_into_the_server(
    server_assistant: Assistant, server_settings: Settings, chroma_url: str
) -> None:
    report = server_assistant.index(rebuild=True)
    assert report.ok and report.counts["added"] == 1 and report.total_chunks > 0
    col = server_collection(chroma_url, "server_mode")
    assert col is not None, "the chunks went to the server"
    assert col["count"] == report.total_chunks
    assert col["metadata"]["embedding_model"] == "all-MiniLM-L6-v2"
    assert not (server_settings.index_dir / "chroma").exists(), "nothing was written to an embedded store"
    assert server_assistant.status().location == chroma_url


def test_answer_from_the_server(server_assistant: Assistant) -> None:
    server_assistant.index()
    store = server_assistant.indexer.store
    assert all(sentence_vectors.KEY in c.metadata for c in store.get([c.id for c in store.scan()]))
    a = server_assistant.answer("Who is the US Secretary of Defence mentioned?")
    assert not a.abstained and "lloyd austin" in a.text.lower()
    assert a.citations
    for c in a.citations:
        assert server_assistant.document_text(c.source, c.page)[c.start : c.end] == c.text
    assert server_assistant.answer("What is the population of Seoul?").abstained
    # other clients may write to a server: its vectors are not held in memory, HNSW is asked
    assert not server_assistant.searcher().dense.in_memory


def test_resync_writes_nothing(
    server_assistant: Assistant, chroma_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    server_assistant.index()
    store = server_assistant.indexer.store
    writes: list[str] = []
    monkeypatch.setattr(store, "upsert", lambda *a, **k: writes.append("upsert"))
    monkeypatch.setattr(store, "delete", lambda *a, **k: writes.append("delete"))
    before = server_collection(chroma_url, "server_mode")
    report = server_assistant.index()
    assert report.counts == {"added": 0, "updated": 0, "unchanged": 1, "deleted": 0, "failed": 0}
    assert writes == []
    assert server_collection(chroma_url, "server_mode") == before


def test_edit_and_delete_reach_the_server(server_settings: Settings, chroma_url: str) -> None:
    assistant = Assistant.from_settings(server_settings)
    extra = server_settings.corpus_dir / "quokka.txt"
    extra.write_text("The quokka is a small marsupial found on Rottnest Island near Perth.\n")
    n0 = server_collection(chroma_url, "server_mode")["count"]  # type: ignore[index]
    assert assistant.index().counts["added"] == 1
    assert server_collection(chroma_url, "server_mode")["count"] == n0 + 1  # type: ignore[index]
    assert "quokka" in assistant.answer("Where is the quokka found?").text.lower()
    extra.unlink()
    assert assistant.index().counts["deleted"] == 1
    assert server_collection(chroma_url, "server_mode")["count"] == n0  # type: ignore[index]


def test_env_var_selects_the_server(
    chroma_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RAG_CHROMA_URL through the public API; a second machine needs no local keyword copy."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for f in SEED_CORPUS.iterdir():
        shutil.copy(f, corpus / f.name)
    monkeypatch.setenv("RAG_CHROMA_URL", chroma_url + "/")
    monkeypatch.setenv("RAG_COLLECTION", "via_env")
    assert rag.index().counts["added"] == 1
    assert server_collection(chroma_url, "via_env") is not None
    shutil.rmtree(tmp_path / "index")  # the local keyword index is rebuilt from the server
    rag._default = None
    a = rag.answer("What is the name of the multi-domain trilateral exercise?")
    assert "freedom edge" in a.text.lower() and a.citations


def test_nothing_listening_is_store_unavailable(settings: Settings) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    t0 = time.perf_counter()
    with pytest.raises(StoreUnavailableError) as err:
        Assistant.from_settings(settings.model_copy(update={"chroma_url": url}))
    assert time.perf_counter() - t0 < 30
    msg = str(err.value)
    assert url in msg
    assert "chroma run" in msg and "RAG_CHROMA_URL" in msg, "the message says what to do"


def test_bad_chroma_url_is_refused_by_settings() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="http://"):
        Settings(chroma_url="localhost:8000")
