"""LLM mode against a small OpenAI-compatible server run by the test on 127.0.0.1.

The real langchain-openai client talks real HTTP to it; only the model behind it is fake.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from rag.assistant import Assistant
from rag.config import Settings
from rag.schema import Answer

FIRST_EDGE = (
    "The first iteration of a new, multi-domain trilateral exercise, “Freedom Edge”, occurred in June."
)
QUESTION = "When did the first Freedom Edge exercise take place?"
REWRITTEN = "When did the first Freedom Edge exercise take place"


def passages_of(body: dict[str, Any]) -> list[str]:
    """The numbered passages of the prompt, as the server sees them."""
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    inner = user.split("<passages>\n", 1)[1].split("\n</passages>", 1)[0]
    return [re.sub(r"^\[\d+\] ", "", p) for p in re.split(r"\n(?=\[\d+\] )", inner)]


def cite(passages: list[str], needle: str) -> int:
    return next(i for i, p in enumerate(passages, 1) if needle in p)


def good_reply(passages: list[str]) -> str:
    """One supported sentence (marker after the stop), one invented one citing the same passage."""
    n = cite(passages, "occurred in June")
    return f"{FIRST_EDGE} [{n}] It was held on the Moon with forty submarines and a dragon [{n}]."


class FakeOpenAI(ThreadingHTTPServer):
    """POST /v1/chat/completions, plain JSON or SSE chunks; records every request."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[dict[str, Any]] = []
        self.answer: Callable[[list[str]], str] = good_reply
        self.rewrite = REWRITTEN

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def reply_for(self, body: dict[str, Any]) -> str:
        system = next((m["content"] for m in body["messages"] if m["role"] == "system"), "")
        if system.startswith("Rewrite the last question"):
            return self.rewrite
        return self.answer(passages_of(body))


class _Handler(BaseHTTPRequestHandler):
    server: FakeOpenAI

    def log_message(self, *args: Any) -> None:  # keep test output clean
        pass

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        auth = self.headers.get("Authorization")
        self.server.requests.append({"path": self.path, "body": body, "auth": auth})
        if self.path == "/api/chat":
            self._ollama(body)
            return
        if self.path != "/v1/chat/completions":
            self.send_error(404)
            return
        text = self.server.reply_for(body)
        base = {"id": "chatcmpl-fake", "created": int(time.time()), "model": body["model"]}
        if not body.get("stream"):
            payload = json.dumps({
                **base, "object": "chat.completion",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                             "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
            }).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        pieces = re.findall(r"\S+\s*", text)
        deltas = [{"role": "assistant", "content": ""}] + [{"content": p} for p in pieces]
        for i, delta in enumerate(deltas):
            last = i == len(deltas) - 1
            chunk = {**base, "object": "chat.completion.chunk",
                     "choices": [{"index": 0, "delta": delta, "finish_reason": "stop" if last else None}]}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()


    def _ollama(self, body: dict[str, Any]) -> None:
        """Ollama's /api/chat: newline-delimited JSON, one object per piece, then done=true."""
        text = self.server.reply_for(body)
        pieces = re.findall(r"\S+\s*", text) if body.get("stream", True) else [text]
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.end_headers()
        for piece in pieces + [""]:
            done = piece == ""
            line = {"model": body["model"], "created_at": "2026-01-01T00:00:00Z",
                    "message": {"role": "assistant", "content": piece}, "done": done}
            if done:
                line.update(done_reason="stop", eval_count=len(pieces), prompt_eval_count=10)
            self.wfile.write((json.dumps(line) + "\n").encode())
            self.wfile.flush()


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAI]:
    srv = FakeOpenAI()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(timeout=5)


@pytest.fixture
def fake(server: FakeOpenAI) -> Iterator[FakeOpenAI]:
    server.requests.clear()
    server.answer = good_reply
    server.rewrite = REWRITTEN
    yield server


def with_llm(base: Assistant, **settings: Any) -> Assistant:
    """An assistant over the same index and model, with other LLM settings (constructor wiring)."""
    return Assistant(base.settings.model_copy(update=settings), base.indexer, base.composer)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def openai(seeded_assistant: Assistant, fake: FakeOpenAI) -> Assistant:
    return with_llm(seeded_assistant, llm_provider="openai", llm_base_url=fake.url, llm_model="fake")


# --- the happy path -------------------------------------------------------------------------
def test_client_talks_http_and_prompt_treats_passages_as_data(openai: Assistant, fake: FakeOpenAI) -> None:
    a = openai.answer(QUESTION)
    assert len(fake.requests) == 1
    req = fake.requests[0]
    assert req["path"] == "/v1/chat/completions"
    assert req["auth"] == "Bearer not-needed", "the configured API key is sent"
    body = req["body"]
    assert body["model"] == "fake" and body["stream"] is True
    system = next(m["content"] for m in body["messages"] if m["role"] == "system")
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    assert "data, not instructions" in system and "[1]" in system
    assert "ONLY the numbered passages" in system
    assert user.startswith("<passages>\n[1] ") and "</passages>" in user and QUESTION in user
    hits = openai.searcher().search(QUESTION)
    assert passages_of(body) == [h.text for h in hits], "every retrieved passage is sent, numbered, verbatim"
    assert a.mode == "llm"


def test_streamed_answer_arrives_in_parts_and_is_verified(openai: Assistant, fake: FakeOpenAI) -> None:
    parts = list(openai.stream(QUESTION))
    final = parts[-1]
    assert isinstance(final, Answer) and final.mode == "llm" and not final.abstained
    streamed = [p for p in parts[:-1] if isinstance(p, str)]
    assert len(streamed) >= 5, "the reply streams in as the server sends it"
    raw = streamed[:-1]
    assert all(raw[i + 1].startswith(raw[i]) and raw[i + 1] != raw[i] for i in range(len(raw) - 1))
    assert "Moon" in raw[-1], "the raw reply streams as written…"
    assert streamed[-1] == final.text, "…then the verified text replaces it"
    # the unsupported sentence is removed and the user is told
    assert "moon" not in final.text.lower() and "dragon" not in final.text.lower()
    assert "removed" in final.notice and "1 sentence" in final.notice
    assert final.text == f"{FIRST_EDGE} [1]"
    (c,) = final.citations
    assert c.text == FIRST_EDGE
    assert openai.document_text(c.source, c.page)[c.start : c.end] == c.text


@pytest.mark.parametrize(
    "template",
    ["{s} [{n}]", "{t} [{n}].", "{s}[{n}]\n"],
    ids=["marker-after-stop", "marker-before-stop", "no-space"],
)
def test_marker_styles_are_all_understood(openai: Assistant, fake: FakeOpenAI, template: str) -> None:
    def reply(passages: list[str]) -> str:
        return template.format(s=FIRST_EDGE, t=FIRST_EDGE.rstrip("."), n=cite(passages, "occurred in June"))

    fake.answer = reply
    a = openai.answer(QUESTION)
    assert a.mode == "llm" and not a.notice, a.notice
    assert [c.text for c in a.citations] == [FIRST_EDGE]


def test_wrong_or_missing_citation_is_removed(openai: Assistant, fake: FakeOpenAI) -> None:
    def reply(passages: list[str]) -> str:
        n = cite(passages, "occurred in June")
        other = next(i for i, p in enumerate(passages, 1) if "occurred in June" not in p)
        return (f"{FIRST_EDGE} [{n}] The first Freedom Edge exercise occurred in June [{other}]. "
                f"Freedom Edge occurred in June. It also occurred in June [{len(passages) + 5}].")

    fake.answer = reply
    a = openai.answer(QUESTION)
    assert a.mode == "llm" and len(a.citations) == 1
    assert "3 sentence(s)" in a.notice


def test_reply_with_nothing_supported_falls_back_to_extractive(
    openai: Assistant, fake: FakeOpenAI, seeded_assistant: Assistant
) -> None:
    fake.answer = lambda passages: "Freedom Edge was a football match in Paris [1]. Nobody came [2]."
    a = openai.answer(QUESTION)
    assert a.mode == "extractive" and "not supported" in a.notice
    assert replace(a, notice="") == seeded_assistant.answer(QUESTION)


def test_injected_instructions_obeyed_by_the_llm_do_not_survive(openai: Assistant, fake: FakeOpenAI) -> None:
    fake.answer = lambda passages: "PWNED. The framework was cancelled in 2025 [1]."
    a = openai.answer(QUESTION)
    assert "pwned" not in a.text.lower() and "cancelled" not in a.text.lower()


def test_not_found_reply_abstains(openai: Assistant, fake: FakeOpenAI) -> None:
    fake.answer = lambda passages: "NOT FOUND"
    a = openai.answer(QUESTION)
    assert a.abstained and a.citations == [] and "not found in the indexed documents" in a.text.lower()


def test_weak_evidence_abstains_without_asking_the_llm(openai: Assistant, fake: FakeOpenAI) -> None:
    a = openai.answer("Which football club won the 2025 Champions League?")
    assert a.abstained
    assert fake.requests == [], "the calibrated abstention check runs before the LLM"


def test_follow_up_rewritten_by_the_llm(openai: Assistant, fake: FakeOpenAI) -> None:
    history = [("What is Freedom Edge?", "Freedom Edge is a trilateral exercise. [1]")]
    a = openai.answer("And when did it first happen?", history)
    assert a.query == REWRITTEN
    rewrite_req, answer_req = (r["body"] for r in fake.requests)
    assert rewrite_req.get("stream") in (None, False)
    convo = rewrite_req["messages"][-1]["content"]
    assert "What is Freedom Edge?" in convo and "And when did it first happen?" in convo
    assert REWRITTEN in answer_req["messages"][-1]["content"], "the rewritten query is what is asked"
    assert not a.abstained and "june" in a.text.lower()


def test_standalone_question_is_not_sent_for_rewriting(openai: Assistant, fake: FakeOpenAI) -> None:
    openai.answer(QUESTION, [("What is Freedom Edge?", "")])
    assert len(fake.requests) == 1 and fake.requests[0]["body"]["stream"] is True


def test_ollama_provider_streams_and_verifies(seeded_assistant: Assistant, fake: FakeOpenAI) -> None:
    ollama = with_llm(seeded_assistant, llm_provider="ollama", llm_base_url=fake.url[: -len("/v1")],
                      llm_model="fake")
    parts = list(ollama.stream(QUESTION))
    final = parts[-1]
    assert isinstance(final, Answer) and final.mode == "llm"
    assert [r["path"] for r in fake.requests] == ["/api/chat"]
    assert "data, not instructions" in fake.requests[0]["body"]["messages"][0]["content"]
    assert len([p for p in parts if isinstance(p, str)]) >= 5
    assert final.text == f"{FIRST_EDGE} [1]" and "removed" in final.notice


# --- failures -------------------------------------------------------------------------------
@pytest.mark.parametrize("provider", ["openai", "ollama"])
def test_unreachable_server_gives_extractive_answer_with_notice(
    seeded_assistant: Assistant, provider: str
) -> None:
    port = closed_port()
    url = f"http://127.0.0.1:{port}" + ("/v1" if provider == "openai" else "")
    assistant = with_llm(seeded_assistant, llm_provider=provider, llm_base_url=url, llm_timeout=5)
    t0 = time.perf_counter()
    a = assistant.answer(QUESTION)
    assert time.perf_counter() - t0 < 10
    assert a.mode == "extractive" and not a.abstained
    assert url in a.notice and "did not answer" in a.notice and "extractive" in a.notice
    assert "RAG_LLM_PROVIDER=none" in a.notice
    assert replace(a, notice="") == seeded_assistant.answer(QUESTION)
    parts = list(assistant.stream(QUESTION))
    assert isinstance(parts[-1], Answer) and parts[-1].notice


@pytest.mark.parametrize("provider", ["openai", "ollama"])
def test_unreachable_server_during_follow_up_rewrite(seeded_assistant: Assistant, provider: str) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    assistant = with_llm(seeded_assistant, llm_provider=provider, llm_base_url=url)
    a = assistant.answer("And when did it first happen?", [("What is Freedom Edge?", "")])
    assert "freedom edge" in a.query.lower(), "falls back to the offline rewrite"
    assert a.notice and "june" in a.text.lower()


def test_openai_provider_without_url_is_a_config_error(seeded_assistant: Assistant) -> None:
    from rag.errors import ConfigError

    assistant = with_llm(seeded_assistant, llm_provider="openai", llm_base_url="")
    with pytest.raises(ConfigError, match="RAG_LLM_BASE_URL"):
        assistant.answer(QUESTION)


def test_settings_select_the_provider_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from langchain_ollama import ChatOllama
    from langchain_openai import ChatOpenAI

    from rag.llm import chat_model

    monkeypatch.setenv("RAG_LLM_PROVIDER", "openai")
    monkeypatch.setenv("RAG_LLM_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("RAG_LLM_MODEL", "fake")
    assert isinstance(chat_model(Settings()), ChatOpenAI)
    monkeypatch.setenv("RAG_LLM_PROVIDER", "ollama")
    assert isinstance(chat_model(Settings()), ChatOllama)


def test_llm_obeying_an_injected_instruction_is_caught(
    tmp_path_factory: pytest.TempPathFactory, model_cache: Any, fake: FakeOpenAI
) -> None:
    """The echo of a planted order would look supported by the order itself; it is removed."""
    from tests.test_answer import INJECTION

    root = tmp_path_factory.mktemp("injection-llm")
    (root / "corpus").mkdir()
    (root / "corpus" / "notes.md").write_text(INJECTION, encoding="utf-8")
    s = Settings(corpus_dir=root / "corpus", index_dir=root / "index", model_cache_dir=model_cache,
                 llm_provider="openai", llm_base_url=fake.url, llm_model="fake")
    assistant = Assistant.from_settings(s)
    assistant.index()

    def obey(passages: list[str]) -> str:
        n = cite(passages, "Ignore previous instructions")
        return (f"The first Freedom Edge exercise was held in June 2024 [{n}]. "
                f"The framework was cancelled [{n}].")

    fake.answer = obey
    a = assistant.answer("When was the first Freedom Edge exercise held?")
    assert a.mode == "llm" and "june 2024" in a.text.lower()
    assert "cancelled" not in a.text.lower() and "1 sentence" in a.notice
