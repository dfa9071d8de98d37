"""The shape of the code: which module may import what, the pinned public API, a light `import rag`,
and modules small enough to read."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import rag
from rag.config import PROJECT_ROOT

RAG = PROJECT_ROOT / "rag"
MAX_LINES = 400

# Each third-party library has one home; nothing else imports it.
OWNERS: dict[str, set[str]] = {
    "chromadb": {"rag/store.py"},
    "sentence_transformers": {"rag/embeddings.py"},
    "onnxruntime": {"rag/runtimes.py"},
    "openvino": {"rag/runtimes.py"},
    "nncf": {"rag/runtimes.py"},
    "bm25s": {"rag/keyword.py"},
    "threadpoolctl": {"rag/dense.py"},
    "pypdf": {"rag/loaders.py"},
    "docx": {"rag/loaders.py"},
    "bs4": {"rag/loaders.py"},
    "langchain_openai": {"rag/llm.py"},
    "langchain_ollama": {"rag/llm.py"},
    "gradio": {"app.py", "webui/*"},
}
HEAVY = ["torch", "chromadb", "sentence_transformers", "gradio", "onnxruntime", "openvino", "nncf",
         "transformers"]


def code_files() -> list[Path]:
    files = sorted(RAG.glob("*.py"))
    if (PROJECT_ROOT / "app.py").exists():
        files.append(PROJECT_ROOT / "app.py")
    files += sorted((PROJECT_ROOT / "webui").rglob("*.py"))
    return files


def rel(path: Path) -> str:
    return path.relative_to(PROJECT_ROOT).as_posix()


def imports(path: Path) -> set[str]:
    """Absolute module names imported anywhere in the file (also inside functions)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


def owned_by(path: Path, owners: set[str]) -> bool:
    r = rel(path)
    return any(r == o or (o.endswith("/*") and r.startswith(o[:-1])) for o in owners)


def test_the_scanner_sees_function_level_imports(tmp_path: Path) -> None:
    f = tmp_path / "m.py"
    f.write_text("import os\ndef g():\n    import chromadb.config\n    from gradio import Blocks\n")
    assert {"chromadb.config", "gradio", "gradio.Blocks", "os"} <= imports(f)


@pytest.mark.parametrize("library", sorted(OWNERS))
def test_each_library_is_imported_in_one_place(library: str) -> None:
    offenders = [
        rel(f) for f in code_files()
        if any(m.split(".")[0] == library for m in imports(f)) and not owned_by(f, OWNERS[library])
    ]
    assert offenders == [], f"{library} may only be imported in {sorted(OWNERS[library])}"


def top_level_imports(path: Path) -> set[str]:
    """Modules imported at module level (run by a plain import of the file)."""
    found: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def test_the_library_knows_nothing_about_the_ui() -> None:
    for f in RAG.glob("*.py"):
        tops = {m.split(".")[0] for m in imports(f)}
        if f.name == "cli.py":  # `rag serve` launches app.py: the one, lazy, way in
            assert not {m.split(".")[0] for m in top_level_imports(f)} & {"app", "webui"}
            tops -= {"app"}
        assert not tops & {"app", "webui", "gradio", "gradio_client"}, rel(f)


def test_the_ui_uses_only_the_public_api() -> None:
    for f in code_files():
        if f.parent == RAG:
            continue
        private = sorted(m for m in imports(f) if m.startswith("rag.") and m.split(".")[1] not in rag.__all__)
        assert private == [], f"{rel(f)} reaches past the public API: {private}"


def test_public_api_is_pinned() -> None:
    assert rag.__all__ == [
        "Answer",
        "Assistant",
        "Citation",
        "ConfigError",
        "DocumentInfo",
        "FileResult",
        "IndexBusyError",
        "IndexMissingError",
        "IndexReport",
        "IndexStatus",
        "LLMUnavailableError",
        "LoaderError",
        "ModelMismatchError",
        "RagError",
        "Settings",
        "StoreUnavailableError",
        "answer",
        "default_assistant",
        "index",
    ]
    for name in rag.__all__:
        assert getattr(rag, name) is not None
    errors = [getattr(rag, n) for n in rag.__all__ if n.endswith("Error")]
    assert all(issubclass(e, rag.RagError) for e in errors)


def _modules_after(code: str) -> set[str]:
    script = f"import json, sys\n{code}\nprint(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          cwd=PROJECT_ROOT)
    assert proc.returncode == 0, proc.stderr
    return set(json.loads(proc.stdout.strip().splitlines()[-1]))


def test_import_rag_is_light() -> None:
    loaded = _modules_after("import rag\nfrom rag import Assistant, Settings, answer, index")
    assert "rag" in loaded
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))


def test_answering_never_imports_torch_or_sentence_transformers(seeded_assistant: rag.Assistant) -> None:
    """With the model export cached, a new process answers without the ~7 s torch import."""
    s = seeded_assistant.settings
    seeded_assistant.indexer.embedder.warm_up()  # the export exists in the session cache
    code = (
        "from rag.assistant import Assistant\nfrom rag.config import Settings\n"
        f"s = Settings(corpus_dir={str(s.corpus_dir)!r}, index_dir={str(s.index_dir)!r},"
        f" model_cache_dir={str(s.model_cache_dir)!r})\n"
        "a = Assistant.from_settings(s).answer('What is Freedom Edge?')\n"
        "assert a.citations, a\n"
        # LangChain's retriever classes (0.5 s) are for assistant.retriever() only
        "assert 'langchain_core.retrievers' not in sys.modules\n"
    )
    loaded = _modules_after(code)
    runtime = {"openvino-int8": "openvino", "onnx-int8": "onnxruntime"}[s.embedding_backend]
    assert "chromadb" in loaded and runtime in loaded  # it did answer from the index
    assert loaded.isdisjoint({"torch", "sentence_transformers", "nncf", "gradio"})
    assert loaded.isdisjoint({"bs4", "pypdf", "docx"})  # the file parsers are for indexing


@pytest.mark.parametrize("path", sorted(RAG.glob("*.py")), ids=lambda p: p.name)
def test_modules_stay_small(path: Path) -> None:
    n = len(path.read_text().splitlines())
    assert n <= MAX_LINES, f"{path.name} has {n} lines; split it before it becomes a god module"


def test_python_m_rag_exists() -> None:
    assert (RAG / "__main__.py").is_file()
    tree = ast.parse((RAG / "__main__.py").read_text())
    assert "rag.cli" in imports(RAG / "__main__.py") or any(
        isinstance(n, ast.ImportFrom) and n.module == "cli" and n.level == 1 for n in ast.walk(tree)
    )
