"""SIGKILL `python -m rag index` mid-run: the index still opens and answers from the previous
content, the dead writer's lock does not block, and the next run converges to a clean run."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from rag.chunking import chunk_document
from rag.config import Settings
from rag.embeddings import Embedder
from rag.loaders import load_file

pytestmark = pytest.mark.timeout(300)

ENV = {"RAG_CHUNK_TOKENS": "64", "RAG_CHUNK_OVERLAP_TOKENS": "8",  # many small chunks: cheap to embed
       "TQDM_MININTERVAL": "0"}  # a progress line per file: the test kills at a chosen file
FACT = "The Zephyr accord on maritime radar sharing was signed in Busan in 2019."
N_FILES = 100

PROBE = """
import json, sys
from rag.assistant import Assistant
a = Assistant.from_settings()
ids = [c.id for c in a.indexer.store.scan()]
answer = a.answer(sys.argv[1]) if len(sys.argv) > 1 else None
print(json.dumps({"ids": ids, "count": a.indexer.store.count(), "keyword": a.indexer.keyword_index().ids,
                  "answer": answer.to_dict() if answer else None}))
"""

_WORDS = ("alliance deterrence missile warning data exercise summit ministers radar maritime "
          "secretariat hotline cyber supply chain coast guard trilateral framework drills").split()


def paragraphs(seed: int, n: int) -> str:
    rnd = random.Random(seed)
    out = []
    for j in range(n):
        words = " ".join(rnd.choice(_WORDS) for _ in range(rnd.randint(25, 45)))
        out.append(f"Report {seed} part {j}: the {words}. Officials noted item {rnd.randint(1, 10**6)}.")
    return "\n\n".join(out)


def env(**extra: str) -> dict[str, str]:
    return {**os.environ, **ENV, **extra}


def rag_cmd(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rag", *args], capture_output=True, text=True,
                          timeout=240, env=env(**extra))


def probe(question: str = "", **extra: str) -> dict:  # type: ignore[type-arg]
    args = [question] if question else []
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True,
                          timeout=240, env=env(**extra))
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def expected_ids(corpus: Path, model_cache: Path) -> dict[str, set[str]]:
    """Chunk ids per source, computed from the files (loader + chunker), not from any index."""
    s = Settings(corpus_dir=corpus, model_cache_dir=model_cache, chunk_tokens=64, chunk_overlap_tokens=8)
    tok = Embedder(s).tokenizer

    def spans(text: str) -> list[tuple[int, int]]:
        return list(tok.encode(text, add_special_tokens=False).offsets)

    return {
        p.name: {c.id for c in chunk_document(load_file(p, corpus), spans, 64, 8)}
        for p in sorted(corpus.iterdir())
    }


def index_and_kill(when: str, meanwhile: Callable[[], None] | None = None, *args: str) -> str:
    """Start `python -m rag index`, SIGKILL it at the given moment; return what it printed.
    ``meanwhile`` runs while the indexer is still at work, just before the kill."""
    proc = subprocess.Popen([sys.executable, "-m", "rag", "index", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env())
    assert proc.stderr is not None
    seen: list[str] = []

    def read() -> None:
        assert proc.stderr is not None
        while chunk := proc.stderr.read1(4096):  # type: ignore[attr-defined]
            seen.append(chunk.decode(errors="replace"))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and proc.poll() is None:
        done = [int(d) for d, _ in re.findall(r"(\d+)/(\d+) \[", "".join(seen))]
        if when == "started" and done:
            time.sleep(0.3)
            break
        if when == "late" and done and max(done) >= N_FILES - 1:
            break
        time.sleep(0.02)
    if meanwhile:
        meanwhile()
    assert proc.poll() is None, "the indexer finished before it could be killed: " + "".join(seen)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    reader.join(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    return "".join(seen)


def test_sigkill_mid_run_keeps_the_index_usable_and_the_next_run_converges(
    tmp_path: Path, model_cache: Path
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "aa-zephyr.txt").write_text("Zephyr accord\n\n" + FACT + "\n\n" + paragraphs(1, 3))
    (corpus / "ab-edited.txt").write_text("Edited later\n\n" + paragraphs(2, 4))
    (corpus / "ac-removed.txt").write_text("Removed later\n\n" + paragraphs(3, 4))
    first = rag_cmd("index")
    assert first.returncode == 0, first.stderr
    before = expected_ids(corpus, model_cache)

    # A much bigger sync: many new files, one edit, one removal.
    for i in range(N_FILES):
        (corpus / f"bulk-{i:03d}.txt").write_text(f"Bulk {i}\n\n" + paragraphs(100 + i, 10))
    (corpus / "ab-edited.txt").write_text("Edited later\n\n" + paragraphs(2, 2) + "\n\n" + paragraphs(99, 3))
    (corpus / "ac-removed.txt").unlink()
    after = expected_ids(corpus, model_cache)
    assert sum(len(v) for v in after.values()) > 1000  # several embedding batches: ~8 s of work when idle

    def second_writer() -> None:
        busy = rag_cmd("index")
        assert busy.returncode == 2 and "Traceback" not in busy.stderr
        assert busy.stderr.startswith("error: ") and "busy" in busy.stderr

    printed = index_and_kill("started", meanwhile=second_writer)
    assert "/" in printed  # the progress bar had started
    printed = index_and_kill("late")  # second kill: after at least one batch was written

    # The index opens and still answers from the previous content.
    state = probe("When was the Zephyr accord signed?")
    ids = state["ids"]
    assert len(ids) == len(set(ids)) == state["count"]
    known = set().union(*before.values(), *after.values())
    assert set(ids) <= known, "only chunks of the old or the new corpus, nothing else"
    assert before["aa-zephyr.txt"] <= set(ids)
    assert set(state["keyword"]) == set(ids)
    answer = state["answer"]
    assert not answer["abstained"] and "2019" in answer["text"]
    assert any(c["source"].endswith("aa-zephyr.txt") and "Busan" in c["text"] for c in answer["citations"])

    # The dead writer's lock file is left behind, and does not block the next writer.
    assert (tmp_path / "index" / ".write.lock").exists()
    recovered = rag_cmd("index", "--json")
    assert recovered.returncode == 0, recovered.stderr
    report = json.loads(recovered.stdout)
    assert report["counts"]["failed"] == 0

    clean = rag_cmd("index", "--json", RAG_INDEX_DIR=str(tmp_path / "clean-index"))
    assert clean.returncode == 0, clean.stderr
    assert json.loads(clean.stdout)["total_chunks"] == report["total_chunks"]

    got = probe()
    ref = probe(RAG_INDEX_DIR=str(tmp_path / "clean-index"))
    want = set().union(*after.values())
    assert len(got["ids"]) == len(set(got["ids"])) == got["count"] == len(want)
    assert set(got["ids"]) == set(ref["ids"]) == want
    assert sorted(got["keyword"]) == sorted(ref["keyword"]) == sorted(want)

    settled = rag_cmd("index", "--json")
    assert json.loads(settled.stdout)["counts"]["unchanged"] == N_FILES + 2, settled.stdout


def test_sigkill_during_a_rebuild_keeps_the_previous_index(tmp_path: Path, model_cache: Path) -> None:
    """A rebuild fills a staging collection; killed, it leaves the live index exactly as it was."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "aa-zephyr.txt").write_text("Zephyr accord\n\n" + FACT + "\n\n" + paragraphs(1, 3))
    for i in range(N_FILES):
        (corpus / f"bulk-{i:03d}.txt").write_text(f"Bulk {i}\n\n" + paragraphs(100 + i, 10))
    first = rag_cmd("index")
    assert first.returncode == 0, first.stderr
    before = probe()

    index_and_kill("started", None, "--rebuild")

    after = probe("Which accord was signed in Busan?")
    assert sorted(after["ids"]) == sorted(before["ids"]) and after["count"] == before["count"]
    assert not after["answer"]["abstained"] and "Zephyr" in after["answer"]["text"]
    again = rag_cmd("index", "--rebuild", "--json")
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert report["counts"]["added"] == N_FILES + 1 and report["total_chunks"] == before["count"]
    assert sorted(probe()["ids"]) == sorted(before["ids"])
