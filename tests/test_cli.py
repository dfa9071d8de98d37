"""The command line: `rag index|ask|status|documents`, in-process where output is all that
matters and in a subprocess where exit codes and the absence of tracebacks matter."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rag.cli import main
from rag.config import PROJECT_ROOT, Settings
from rag.embeddings import Embedder
from rag.errors import ModelMismatchError
from rag.indexer import Indexer
from rag.loaders import load_file
from rag.store import Store

SEED_CORPUS = PROJECT_ROOT / "corpus"

SEED_NAME = next(p.name for p in SEED_CORPUS.iterdir() if p.suffix == ".txt")
RAG_SCRIPT = Path(sys.executable).with_name("rag")


def run(*args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m rag ARGS` in a fresh process, inheriting conftest's tmp RAG_* paths."""
    return subprocess.run(
        [sys.executable, "-m", "rag", *args], capture_output=True, text=True, timeout=timeout,
        env={**os.environ, **env},
    )


def assert_clean_error(proc: subprocess.CompletedProcess[str], *phrases: str) -> None:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    assert proc.stderr.startswith("error: ")
    for phrase in phrases:
        assert phrase in proc.stderr


def corpus_dir() -> Path:
    path = Settings().corpus_dir
    path.mkdir(parents=True, exist_ok=True)
    return path


def seed(corpus: Path) -> None:
    shutil.copy(SEED_CORPUS / SEED_NAME, corpus / SEED_NAME)


@pytest.fixture(scope="module")
def seeded_dirs(tmp_path_factory: pytest.TempPathFactory, model_cache: Path) -> dict[str, str]:
    """A corpus + index shared by the read-only commands of this module."""
    root = tmp_path_factory.mktemp("cli-seeded")
    (root / "corpus").mkdir()
    seed(root / "corpus")
    s = Settings(corpus_dir=root / "corpus", index_dir=root / "index", model_cache_dir=model_cache)
    embedder = Embedder(s)
    report = Indexer(s, embedder, Store(s, embedder.name, embedder.dimension)).sync()
    assert report.ok
    return {"RAG_CORPUS_DIR": str(root / "corpus"), "RAG_INDEX_DIR": str(root / "index")}


@pytest.fixture
def seeded_env(seeded_dirs: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in seeded_dirs.items():
        monkeypatch.setenv(k, v)


# --- rag index ----------------------------------------------------------------------------


def test_python_m_rag_index_prints_counts_and_reasons() -> None:
    corpus = corpus_dir()
    seed(corpus)
    (corpus / "empty.txt").write_bytes(b"")
    proc = run("index")
    assert proc.returncode == 1, proc.stderr  # a failed file makes the run "not ok"
    assert "Traceback" not in proc.stderr
    head, *lines = proc.stdout.strip().splitlines()
    counts = r"added: 1  updated: 0  unchanged: 0  deleted: 0  failed: 1  \| chunks in index: \d+"
    assert re.match(counts, head)
    assert any(line.split()[:2] == ["added", SEED_NAME] and "chunks)" in line for line in lines)
    (failed,) = [line for line in lines if line.split()[0] == "failed"]
    assert "empty.txt" in failed and "empty (0 bytes)" in failed

    (corpus / "empty.txt").unlink()
    again = subprocess.run([str(RAG_SCRIPT), "index"], capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("added: 0  updated: 0  unchanged: 1  deleted: 0  failed: 0")


def test_index_json_file_and_rebuild(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = corpus_dir()
    seed(corpus)
    (corpus / "a.txt").write_text("A\n\nThe hotline between the three leaders opened in 2023.")
    assert main(["index", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["counts"] == {"added": 2, "updated": 0, "unchanged": 0, "deleted": 0, "failed": 0}
    assert first["total_chunks"] == sum(f["chunks"] for f in first["files"])
    assert {f["source"]: f["status"] for f in first["files"]} == {SEED_NAME: "added", "a.txt": "added"}
    assert set(first["files"][0]) == {"source", "status", "chunks", "reason"}

    # --file adds/updates just those files and never deletes the others
    (corpus / "a.txt").unlink()
    (corpus / "b.md").write_text("# B\n\nA new note.")
    (corpus / "c.docx").write_bytes(b"not a zip at all")
    assert main(["index", "--json", "--file", str(corpus / "b.md"), str(corpus / "c.docx")]) == 1
    part = json.loads(capsys.readouterr().out)
    results = {f["source"]: f for f in part["files"]}
    assert {k: f["status"] for k, f in results.items()} == {"b.md": "added", "c.docx": "failed"}
    assert "not a zip" in results["c.docx"]["reason"]
    assert part["total_chunks"] == first["total_chunks"] + 1  # a.txt's chunk is still there

    # a relative --file path (as a user types it) works too
    monkeypatch.chdir(corpus)
    (corpus / "b.md").write_text("# B\n\nA new note, edited.")
    assert main(["index", "--json", "--file", "b.md"]) == 0
    assert json.loads(capsys.readouterr().out)["files"] == [
        {"source": "b.md", "status": "updated", "chunks": 1, "reason": ""}
    ]

    (corpus / "c.docx").unlink()
    assert main(["index", "--rebuild", "--json"]) == 0
    rebuilt = json.loads(capsys.readouterr().out)
    assert rebuilt["counts"]["added"] == 2 and rebuilt["counts"]["deleted"] == 0
    assert rebuilt["total_chunks"] == first["total_chunks"]  # seed + b.md, a.txt gone


# --- rag ask / status / documents ---------------------------------------------------------


def test_ask_prints_answer_and_numbered_sources(seeded_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "What is Freedom Edge?"]) == 0
    out = capsys.readouterr().out
    answer, _, sources = out.partition("\nSources:\n")
    assert "Freedom Edge" in answer and "[1]" in answer
    entries = re.findall(r"^  \[(\d+)\] (.+) — (.+), chars (\d+)-(\d+)\n      \"(.+)\"$", sources, re.M)
    assert entries and [int(e[0]) for e in entries] == list(range(1, len(entries) + 1))
    for _, title, source, start, end, quote in entries:
        doc = load_file(Path(source), Path(source).parent)
        assert title == doc.title
        assert doc.sections[0].text[int(start) : int(end)] == quote


def test_ask_json(seeded_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "What is Freedom Edge?", "--json"]) == 0
    a = json.loads(capsys.readouterr().out)
    assert {"text", "citations", "abstained", "query"} <= set(a)
    assert a["abstained"] is False and a["query"] == "What is Freedom Edge?"
    c = a["citations"][0]
    assert c["marker"] == 1 and f"[{c['marker']}]" in a["text"]
    text = load_file(Path(c["source"]), Path(c["source"]).parent).sections[0].text
    assert text[c["start"] : c["end"]] == c["text"]

    assert main(["ask", "What is the population of Mars?", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["abstained"] is True


def test_status_and_documents(seeded_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status"]) == 0
    status = dict(line.strip().split(": ", 1) for line in capsys.readouterr().out.strip().splitlines())
    assert status["documents"] == "1" and int(status["chunks"]) > 1
    assert "all-MiniLM-L6-v2" in status["model"] and status["last_sync"].startswith("20")
    assert main(["documents"]) == 0
    (row,) = capsys.readouterr().out.strip().splitlines()
    source, title, pages, chunks, at = row.split("\t")
    assert source == SEED_NAME and title.startswith("Japan, South Korea and United States")
    assert pages == "pages=0" and chunks == f"chunks={status['chunks']}" and at.startswith("20")


# --- readable failures --------------------------------------------------------------------


def test_ask_before_index_says_to_build_it() -> None:
    corpus_dir()
    proc = run("ask", "What is Freedom Edge?")
    assert_clean_error(proc, "No index found", "rag index")


def test_status_and_documents_before_index() -> None:
    proc = run("status")
    assert proc.returncode == 0 and "documents: 0" in proc.stdout and "last_sync: never" in proc.stdout


def test_model_mismatch_is_refused_until_rebuild(model_cache: Path) -> None:
    corpus = corpus_dir()
    (corpus / "a.txt").write_text("A\n\nThe hotline between the three leaders opened in 2023.")
    s = Settings()
    embedder = Embedder(s)
    # An index built by another model (same vectors, different recorded name).
    Indexer(s, embedder, Store(s, "old-model", embedder.dimension)).sync()
    with pytest.raises(ModelMismatchError, match=r"rag index --rebuild"):
        Store(s, embedder.name, embedder.dimension).collection()
    with pytest.raises(ModelMismatchError, match=r"dim 768"):
        Store(s, "old-model", 768).collection()

    asked = run("ask", "When did the hotline open?")
    assert_clean_error(asked, "'old-model'", "'all-MiniLM-L6-v2'", "rag index --rebuild")
    synced = run("index")
    assert_clean_error(synced, "rag index --rebuild")
    rebuilt = run("index", "--rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert rebuilt.stdout.startswith("added: 1")
    Store(s, embedder.name, embedder.dimension).collection()  # accepted now


def test_second_concurrent_index_is_told_the_index_is_busy() -> None:
    from filelock import FileLock

    seed(corpus_dir())
    index_dir = Settings().index_dir
    index_dir.mkdir(parents=True)
    with FileLock(str(index_dir / ".write.lock")):  # as held by a running `rag index`
        proc = run("index")
    assert_clean_error(proc, "busy")
    assert run("index").returncode == 0  # and fine once the other writer is done


def test_invalid_setting_is_a_readable_error() -> None:
    proc = run("status", RAG_TOP_K="lots")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "top_k" in proc.stderr.lower() and "lots" in proc.stderr
    proc = run("status", RAG_CHROMA_URL="localhost:8000")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "http://" in proc.stderr


def test_usage_errors_exit_non_zero() -> None:
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 2
    with pytest.raises(SystemExit):
        main(["index", "--bogus"])


def test_empty_question_is_a_readable_error(seeded_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "   "]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "empty" in err
