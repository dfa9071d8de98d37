"""The app's REST API against the real running app: the README's gradio_client and curl snippets,
streaming, errors, login, and Gradio's file routes (nothing outside the app's own files is served)."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from appserver import PROJECT_ROOT, app_env, running_app, seed_corpus
from gradio_client import Client

README_URL = "http://127.0.0.1:7860/"

# The README's examples, verbatim (only the URL is replaced by the test server's).
CLIENT_SNIPPET = """
from gradio_client import Client

client = Client("http://127.0.0.1:7860/")
a = client.predict("What is Freedom Edge?", api_name="/answer")
print(a["text"])
for c in a["citations"]:
    print(c["marker"], c["title"], c["source"], c["start"], c["end"])

# a follow-up: history is a list of [question, answer] pairs, oldest first
b = client.predict("When did it first happen?", [["What is Freedom Edge?", a["text"]]], api_name="/answer")
print(b["query"], b["abstained"])
"""

CURL_SNIPPET = """
curl -s -X POST http://127.0.0.1:7860/gradio_api/call/v2/answer \\
  -H "Content-Type: application/json" -d '{"question": "What is Freedom Edge?"}' \\
  | awk -F'"' '{ print $4 }' \\
  | { read EVENT_ID; curl -sN http://127.0.0.1:7860/gradio_api/call/answer/$EVENT_ID; }
"""

SECRET = "RAG_LLM_API_KEY=sk-topsecret-do-not-serve"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, model_cache: Path) -> Iterator[tuple[str, Path]]:
    root = tmp_path_factory.mktemp("api-app")
    seed_corpus(root)
    (root / ".env").write_text(SECRET + "\n")
    with running_app(root, model_cache) as url:
        yield url, root


def _run_snippet(snippet: str, url: str, shell: bool) -> str:
    code = snippet.replace(README_URL, url)
    cmd = ["bash", "-c", code] if shell else [sys.executable, "-c", code]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_readme_gradio_client_snippet(server: tuple[str, Path]) -> None:
    lines = _run_snippet(CLIENT_SNIPPET, server[0], shell=False).splitlines()
    out = [line for line in lines if not line.startswith("Loaded as API")]  # gradio_client's greeting
    assert "Freedom Edge" in out[0] and "[1]" in out[0]
    assert out[1].startswith("1 Japan, South Korea and United States")
    assert "lowy-institute" in out[1]
    query, abstained = out[-1].rsplit(" ", 1)
    assert "Freedom Edge" in query and abstained == "False"  # the follow-up was made standalone


def test_readme_curl_snippet(server: tuple[str, Path]) -> None:
    out = _run_snippet(CURL_SNIPPET, server[0], shell=True)
    assert out.startswith("event: complete"), out
    data = json.loads(out.split("data:", 1)[1])
    answer = data[0]
    assert set(answer) >= {"text", "citations", "abstained", "query", "question", "related", "notice"}
    assert "Freedom Edge" in answer["text"] and not answer["abstained"]
    c = answer["citations"][0]
    assert c["marker"] == 1 and "Freedom Edge" in c["text"] and c["end"] - c["start"] == len(c["text"])


def test_curl_positional_form_with_history(server: tuple[str, Path]) -> None:
    url = server[0]
    body = json.dumps({"data": ["When did it first happen?", [["What is Freedom Edge?", ""]]]})
    script = (
        f"curl -s -X POST {url}gradio_api/call/answer -H 'Content-Type: application/json' -d '{body}'"
        f" | awk -F'\"' '{{ print $4 }}'"
        f" | {{ read EVENT_ID; curl -sN {url}gradio_api/call/answer/$EVENT_ID; }}"
    )
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=120).stdout
    answer = json.loads(out.split("data:", 1)[1])[0]
    assert answer["question"] == "When did it first happen?"
    assert "Freedom Edge" in answer["query"] and "June" in answer["text"]


def test_stream_endpoint_yields_growing_text_then_answer(server: tuple[str, Path]) -> None:
    client = Client(server[0], verbose=False)
    job = client.submit("Who is South Korea's defence minister?", api_name="/answer_stream")
    parts = list(job)
    texts = [p["text"] for p in parts if not p["done"]]
    assert len(texts) >= 2, parts
    assert all(b.startswith(a) and len(b) > len(a) for a, b in zip(texts, texts[1:], strict=False))
    final = job.result()
    assert final["done"] and "Shin Wonsik" in final["text"] and final["citations"]


def test_unanswerable_question_abstains_with_fields(server: tuple[str, Path]) -> None:
    a = Client(server[0], verbose=False).predict("What is the population of Seoul?", api_name="/answer")
    assert a["abstained"] is True and a["citations"] == []


def test_errors_reach_the_client_as_messages(server: tuple[str, Path]) -> None:
    client = Client(server[0], verbose=False)
    with pytest.raises(Exception, match="question is empty"):
        client.predict("   ", api_name="/answer")
    with pytest.raises(Exception, match="history must be a list"):
        client.predict("What is Freedom Edge?", "not json", api_name="/answer")


def _get(url: str, raw_path: str) -> tuple[int, bytes]:
    """GET a raw path (no client-side normalisation of ../ or %2e)."""
    u = urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        conn.request("GET", raw_path)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def test_file_routes_refuse_everything_the_app_does_not_mean_to_serve(server: tuple[str, Path]) -> None:
    url, root = server
    index_file = next(p for p in (root / "index").rglob("*") if p.is_file() and p.stat().st_size > 0)
    corpus_file = next((root / "corpus").glob("*.txt"))
    project_file = PROJECT_ROOT / "pyproject.toml"
    paths = [
        "/etc/passwd",
        "../.env",
        ".env",
        "%2e%2e/.env",
        "..%2f.env",
        str(root / ".env"),
        str(index_file),
        "index/" + index_file.relative_to(root / "index").as_posix(),
        str(corpus_file),
        "corpus/" + corpus_file.name,
        str(project_file),
        "../../../../etc/passwd",
    ]
    for p in paths:
        for prefix in ("/gradio_api/file=", "/file="):
            status, body = _get(url, prefix + p)
            assert status in (400, 403, 404), f"{prefix}{p} → {status}"
            for leak in (b"root:x:0", b"topsecret", b"SQLite format", b"Freedom Edge", b"[build-system]"):
                assert leak not in body, f"{prefix}{p} leaked {leak!r}"


def test_login_required_when_auth_is_set(tmp_path: Path, model_cache: Path) -> None:
    seed_corpus(tmp_path)
    with running_app(tmp_path, model_cache, RAG_AUTH="alice:correct-horse") as url:
        status, _ = _get(url, "/gradio_api/info")
        assert status == 401
        with pytest.raises(Exception):  # noqa: B017 - any refusal will do; the point is: no answer
            Client(url, verbose=False).predict("What is Freedom Edge?", api_name="/answer")
        client = Client(url, auth=("alice", "correct-horse"), verbose=False)
        assert "Freedom Edge" in client.predict("What is Freedom Edge?", api_name="/answer")["text"]


def test_refuses_to_start_on_a_network_address_without_credentials(tmp_path: Path, model_cache: Path) -> None:
    env = app_env(tmp_path, model_cache, RAG_HOST="0.0.0.0", RAG_PORT="7999")
    out = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "app.py")], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=120,
    )
    assert out.returncode != 0
    assert "Refusing to serve on 0.0.0.0" in out.stderr and "RAG_AUTH=user:password" in out.stderr
    assert "Traceback" not in out.stderr


def test_snippets_are_the_readme_s() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert CLIENT_SNIPPET.strip() in readme
    assert CURL_SNIPPET.strip() in readme
