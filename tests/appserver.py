"""Start the real web app (`python app.py`) in a subprocess over a temporary corpus and index."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rag.config import PROJECT_ROOT

SEED_CORPUS = PROJECT_ROOT / "corpus"

# Everything a document could try: tags, event handlers, javascript: links, remote images, in HTML
# and in markdown. Each payload would set window.__pwned if it ever ran.
HOSTILE = """---
title: "Quokka <script>window.__pwned = 'title'</script><img src=x onerror=\\"window.__pwned='t2'\\">"
---
The Quokka Accord <script>window.__pwned = 'script'</script> was signed by three island councils \
<img src="http://127.0.0.1:9/evil.png" onerror="window.__pwned = 'img'"> to protect the quokkas.
Read [the Quokka Accord text](javascript:window.__pwned='mdlink') or ![quokka](http://127.0.0.1:9/x.png) \
or <a href="javascript:window.__pwned='alink'">the Quokka Accord annex</a> at www.evil.example/quokka.
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def app_env(root: Path, model_cache: Path, **extra: str) -> dict[str, str]:
    """Environment of an app whose every data path is under ``root``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(
        RAG_CORPUS_DIR=str(root / "corpus"),
        RAG_INDEX_DIR=str(root / "index"),
        RAG_MODEL_CACHE_DIR=str(model_cache),
        RAG_HOST="127.0.0.1",
        HF_HUB_OFFLINE="1",
        GRADIO_ANALYTICS_ENABLED="False",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def seed_corpus(root: Path, extra: dict[str, str] | None = None) -> Path:
    corpus = root / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    for f in SEED_CORPUS.iterdir():
        if f.is_file():
            shutil.copy(f, corpus / f.name)
    for name, text in (extra or {}).items():
        (corpus / name).write_text(text, encoding="utf-8")
    return corpus


def wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"app exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.25)
    raise RuntimeError(f"app did not answer on {url} within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


@contextmanager
def running_app(root: Path, model_cache: Path, **env: str) -> Iterator[str]:
    """`python app.py` on a free port (it indexes the corpus first); yields the base URL."""
    port = free_port()
    log = root / "app.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, str(PROJECT_ROOT / "app.py")],
            cwd=root,
            env=app_env(root, model_cache, RAG_PORT=str(port), **env),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_http(url, proc, log)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
