"""The README's examples are tests: what a user copies from it must run."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rag.config import PROJECT_ROOT
from tests.conftest import DEV_QA, SEED_CORPUS

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


def library_blocks() -> list[str]:
    """Python examples that need no running web app (the REST ones run in test_app_api.py)."""
    return [b for b in blocks("python") if "gradio_client" not in b]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, model_cache: Path) -> dict[str, str]:
    root = tmp_path_factory.mktemp("readme")
    shutil.copytree(SEED_CORPUS, root / "corpus")
    e = dict(os.environ)
    e.update(RAG_CORPUS_DIR=str(root / "corpus"), RAG_INDEX_DIR=str(root / "index"),
             RAG_MODEL_CACHE_DIR=str(model_cache), HF_HUB_OFFLINE="1")
    e.pop("RAG_CHROMA_URL", None)
    e.pop("RAG_LLM_PROVIDER", None)
    subprocess.run([sys.executable, "-m", "rag", "index"], env=e, check=True, capture_output=True)
    return e


def test_readme_has_exactly_the_two_setup_commands() -> None:
    setup = README.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    commands = [line.split("#")[0].strip() for line in blocks("bash")[0].splitlines() if line.strip()]
    assert commands == ["make run", "make test"]
    assert "make run" in setup and "make test" in setup
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    assert re.search(r"^run: install", makefile, re.M) and re.search(r"^test: install", makefile, re.M)
    assert "make test" in (PROJECT_ROOT / ".ci" / "run").read_text()
    assert "torch==2.13.0" in makefile


@pytest.mark.parametrize("n", range(len(library_blocks())))
def test_python_examples_run(n: int, env: dict[str, str]) -> None:
    code = library_blocks()[n]
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         cwd=PROJECT_ROOT, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip(), "the example printed nothing"
    if "Freedom Edge" in code:
        assert "Freedom Edge" in out.stdout and "[1]" in out.stdout


def cli_lines() -> list[str]:
    lines = []
    for block in blocks("bash")[1:]:
        for line in block.splitlines():
            cmd = re.split(r"\s+#\s", line)[0].strip()
            # Skipped: a file that does not exist here, and a SciFact run measured by bench/.
            if cmd.startswith(".venv/bin/rag") and "new.pdf" not in cmd and "--beir" not in cmd:
                lines.append(cmd)
    return lines


@pytest.mark.parametrize("cmd", cli_lines())
def test_cli_examples_run(cmd: str, env: dict[str, str]) -> None:
    cmd = cmd.replace(".venv/bin/rag", f"{sys.executable} -m rag")
    cmd = cmd.replace("../shared/eval/dev_qa.jsonl", str(DEV_QA))
    out = subprocess.run(
        cmd, shell=True, env=env, capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=300
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip()
    assert "Traceback" not in out.stderr
