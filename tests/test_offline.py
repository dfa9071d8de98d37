"""Nothing touches the network: indexing and answering open no socket to a non-loopback address."""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rag.config import PROJECT_ROOT, Settings

SEED = PROJECT_ROOT / "corpus"

GUARD = '''
import ipaddress, socket

def _local(address):
    if not isinstance(address, tuple):
        return True  # AF_UNIX path
    host = address[0]
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"

def _guard(fn):
    def connect(sock, address, *args):
        if not _local(address):
            with open(__LOG__, "a") as f:
                f.write(repr(address) + "\\n")
            raise OSError("network access attempted during an offline test: %r" % (address,))
        return fn(sock, address, *args)
    return connect

socket.socket.connect = _guard(socket.socket.connect)
socket.socket.connect_ex = _guard(socket.socket.connect_ex)

_getaddrinfo = socket.getaddrinfo

def _lookup(host, *args, **kwargs):  # a name lookup is the first step of any remote call
    name = host.decode() if isinstance(host, bytes) else str(host or "")
    if name not in ("", "0.0.0.0", "::") and not _local((name,)):
        with open(__LOG__, "a") as f:
            f.write("lookup " + repr(host) + "\\n")
        raise OSError("name lookup attempted during an offline test: %r" % (host,))
    return _getaddrinfo(host, *args, **kwargs)

socket.getaddrinfo = _lookup
'''


def _is_loopback(address: Any) -> bool:
    if not isinstance(address, tuple):
        return True  # AF_UNIX path
    host = address[0]
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Record, and refuse, every attempt to reach a non-loopback address."""
    attempts: list[Any] = []
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_create = socket.create_connection

    def refuse(address: Any) -> None:
        attempts.append(address)
        raise OSError(f"network access attempted during an offline test: {address!r}")

    def connect(sock: socket.socket, address: Any) -> None:
        if not _is_loopback(address):
            refuse(address)
        real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> int:
        if not _is_loopback(address):
            refuse(address)
        return real_connect_ex(sock, address)

    def create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        if not _is_loopback(address):
            refuse(address)
        return real_create(address, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    yield attempts


def test_the_guard_catches_a_connection(no_network: list[Any]) -> None:
    with pytest.raises(OSError, match="offline test"):
        socket.create_connection(("93.184.215.14", 80), timeout=0.1)
    with socket.socket() as s, pytest.raises(OSError, match="offline test"):
        s.connect(("2001:db8::1", 443) if s.family == socket.AF_INET6 else ("10.255.255.1", 80))
    assert len(no_network) == 2
    with socket.socket() as server:  # loopback is fine (e.g. a local LLM or Chroma server)
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.create_connection(server.getsockname(), timeout=1):
            pass
    assert len(no_network) == 2


def test_export_index_and_answer_offline(no_network: list[Any], tmp_path: Path) -> None:
    from rag.assistant import Assistant

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for f in SEED.iterdir():
        shutil.copy(f, corpus / f.name)
    # A fresh model cache: the one-time ONNX export of the bundled model runs under the guard too.
    s = Settings(corpus_dir=corpus, index_dir=tmp_path / "index", model_cache_dir=tmp_path / "cache")
    assistant = Assistant.from_settings(s)
    report = assistant.index()
    assert report.ok and report.counts["added"] == 1
    a = assistant.answer("What is Freedom Edge?")
    assert not a.abstained and a.citations
    assert list((tmp_path / "cache").iterdir()), "the export ran"
    assert no_network == []


def test_cli_index_and_ask_offline(tmp_path: Path) -> None:
    """The real commands in fresh processes, with the guard installed before anything else runs."""
    site = tmp_path / "site"
    site.mkdir()
    log = tmp_path / "attempts.log"
    (site / "sitecustomize.py").write_text(GUARD.replace("__LOG__", repr(str(log))))
    corpus = Settings().corpus_dir
    corpus.mkdir(parents=True)
    for f in SEED.iterdir():
        shutil.copy(f, corpus / f.name)
    # A fresh model cache: the one-time export and int8 quantization run under the guard too
    # (NNCF, the quantizer, would otherwise send usage telemetry).
    # OpenVINO's telemetry stays quiet on CI machines (CI=true …) and where the user's home
    # holds an opt-out: remove both, so the test sees what a user's first run would do.
    env = {**os.environ, "PYTHONPATH": str(site), "RAG_MODEL_CACHE_DIR": str(tmp_path / "cache"),
           "HOME": str(tmp_path / "home")}
    for marker in ("CI", "TF_BUILD", "JENKINS_URL", "HF_HUB_OFFLINE"):  # the library sets HF_HUB_OFFLINE
        env.pop(marker, None)
    env.pop("TRANSFORMERS_OFFLINE", None)
    check = "import socket; socket.socket().connect(('10.255.255.1', 80))"
    probe = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, env=env)
    assert probe.returncode != 0 and "offline test" in probe.stderr and log.exists()  # guard is live
    log.unlink()
    for args in (["index"], ["ask", "What is Freedom Edge?"]):
        proc = subprocess.run([sys.executable, "-m", "rag", *args], capture_output=True, text=True,
                              env=env, timeout=600)
        assert proc.returncode == 0, proc.stderr
    assert not log.exists(), log.read_text()


def test_hf_hub_offline_is_set_by_the_library() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    code = (
        "import os\n"
        "from rag.assistant import Assistant\n"
        "Assistant.from_settings()\n"
        "import huggingface_hub.constants as c\n"
        "print(os.environ.get('HF_HUB_OFFLINE'), os.environ.get('TRANSFORMERS_OFFLINE'), c.HF_HUB_OFFLINE)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["1", "1", "True"]
