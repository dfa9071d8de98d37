"""The web app's own logic without a browser: refusing unsafe bindings, escaping document text,
upload file names, and turning library errors into messages (with a real Assistant)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt

from rag import ConfigError, IndexReport, Settings
from rag.config import PROJECT_ROOT

sys.path.insert(0, str(PROJECT_ROOT))  # app.py and webui/ live at the project root

import app  # noqa: E402
from webui import render  # noqa: E402
from webui.handlers import Handlers  # noqa: E402

EVIL = (
    "Intro <script>alert(1)</script> <img src=http://evil.example/x.png onerror=alert(2)> "
    '<a href="javascript:alert(3)">click</a> ![x](http://evil/x.png) [y](javascript:alert(1)) '
    "<https://evil.example/auto> www.evil.example http://evil.example/bare `code` *bold* $x^2$ | a | b |"
)
DANGEROUS = ("<script", "<img", "<a ", "<a>", 'href="', 'src="')  # as markup; escaped text is fine


def _rendered_markdown(md: str) -> str:
    """Render like the chat does: CommonMark with raw HTML on, plus tables and strikethrough.

    (Bare-URL autolinking is not available here; the browser test checks it with the real renderer.)
    """
    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).render(md)


# --- binding and credentials -------------------------------------------------------------------
@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"])
def test_loopback_hosts_need_no_credentials(host: str) -> None:
    opts = app.launch_options(Settings(host=host))
    assert opts["server_name"] == host and opts["auth"] is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "myhost.example"])
def test_network_hosts_are_refused_without_credentials(host: str) -> None:
    with pytest.raises(ConfigError, match="RAG_AUTH=user:password"):
        app.launch_options(Settings(host=host))


def test_credentials_are_passed_to_launch() -> None:
    opts = app.launch_options(Settings(host="0.0.0.0", auth="alice:pa:ss"))
    assert opts["auth"] == ("alice", "pa:ss")


@pytest.mark.parametrize("auth", ["alice", ":secret", "alice:"])
def test_malformed_credentials_are_refused(auth: str) -> None:
    with pytest.raises(ConfigError, match="user:password"):
        app.launch_options(Settings(auth=auth))


def test_main_exits_with_a_message_before_loading_anything(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app.Assistant, "from_settings", _fail_if_called)
    with pytest.raises(SystemExit) as exc:
        app.main(Settings(host="0.0.0.0"))
    assert "Refusing to serve on 0.0.0.0" in str(exc.value.code)


def _fail_if_called(*args: Any) -> None:
    raise AssertionError("the model and index must not load when the binding is refused")


def test_file_routes_serve_nothing_of_ours(settings: Settings) -> None:
    opts = app.launch_options(settings)
    assert opts["allowed_paths"] == [] and opts["max_file_size"] == int(settings.max_upload_mb * 2**20)
    assert {str(settings.index_dir), str(settings.corpus_dir)} <= set(opts["blocked_paths"])


# --- escaping -----------------------------------------------------------------------------------
def test_markdown_text_renders_as_exactly_the_text() -> None:
    out = _rendered_markdown(render.md_text(EVIL))
    for bad in DANGEROUS:
        assert bad not in out, bad
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    visible = out.replace("\u200b", "")
    assert "![x](http" in visible and "[y](javascript:alert(1))" in visible
    assert "<code>" not in out and "<em>" not in out and "<strong>" not in out and "<table>" not in out


def test_answer_markers_are_the_only_links() -> None:
    md = render.answer_markdown(f"{EVIL} Freedom Edge occurred in June. [1] See also [7].", markers=[1])
    out = _rendered_markdown(md)
    assert out.count("<a ") == 1 and 'href="#source-1"' in out
    assert "[7]" in out  # an unknown marker stays text


def test_chat_message_shows_query_notice_and_abstention() -> None:
    data = {
        "text": "The documents do not say.",
        "citations": [],
        "abstained": True,
        "query": "When did <b>it</b> happen? — Freedom Edge",
        "question": "When did it happen?",
        "notice": "LLM server unreachable <img src=x>",
    }
    out = _rendered_markdown(render.chat_message(data))
    assert "Not answered from the documents" in out
    assert "searched for: When did &lt;b&gt;it&lt;/b&gt; happen?" in out
    assert "LLM server unreachable &lt;img src=x&gt;" in out and "<img" not in out


def test_sources_and_viewer_escape_document_text() -> None:
    cite = {
        "marker": 1, "source": "corpus/<evil>.md", "title": EVIL[:40], "page": None,
        "start": 6, "end": 31, "text": EVIL[6:31], "score": 0.5,
    }
    panel = render.sources_html({"citations": [cite], "related": []})
    viewer = render.viewer_html(cite["title"], cite["source"], None, EVIL, 6, 31)
    for html in (panel, viewer):
        body = html.replace('<mark id="cited-span">', "").replace("</mark>", "")
        for tag in ("<script", "<img", "<a "):
            assert tag not in body
    assert '<mark id="cited-span">&lt;script&gt;alert(1)&lt;/script&gt;</mark>' in viewer
    related = render.sources_html({"citations": [], "related": [cite]})
    assert "Possibly related" in related


def test_source_choices_tell_passages_of_one_document_apart() -> None:
    cites = [
        {"marker": m, "title": "Japan, South Korea and United States: a very long title indeed", "text": t}
        for m, t in ((1, "Shin and his counterparts have moved quickly in the past year."), (2, "Short one."))
    ]
    labels = [label for label, _ in render.source_choices({"citations": cites})]
    opening, title = labels[0].split(" — ")
    assert opening == "[1] “Shin and his counterparts have moved quickly in …”"
    assert title == "Japan, South Korea and United States: a …"  # cut between words
    assert labels[1].startswith("[2] “Short one.” — ")
    assert [value for _, value in render.source_choices({"citations": cites})] == ["1", "2"]


def test_status_and_tables_are_text() -> None:
    line = render.status_markdown({"documents": 2, "chunks": 9, "model": "m<i>x</i>", "last_sync": "now"})
    assert "2 documents · 9 chunks" in line and "<i>" not in _rendered_markdown(line)
    table = render.table_html(["title"], [["<script>x</script>"]], "none")
    assert "<script>" not in table and "&lt;script&gt;" in table


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd.txt", "passwd.txt"),
        ("C:\\Users\\x\\notes.md", "notes.md"),
        (".env", "env"),
        ("..", ""),
        ("a<script>b.html", "a_script_b.html"),
        ("zorblax treaty.txt", "zorblax treaty.txt"),
        ("日本語.docx", "日本語.docx"),
        ("x" * 300 + ".txt", "x" * 116 + ".txt"),
    ],
)
def test_upload_names_are_sanitised(name: str, expected: str) -> None:
    assert render.safe_filename(name) == expected


# --- handlers with a real Assistant -----------------------------------------------------------
def _drain(gen: Any) -> list[tuple[Any, ...]]:
    return list(gen)


def test_missing_index_is_an_error_not_an_answer(settings: Settings) -> None:
    from rag import Assistant

    h = Handlers(Assistant.from_settings(settings))
    before = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "earlier answer"}]
    with pytest.warns(UserWarning, match="No index found"):  # gr.Warning, outside a request
        outputs = _drain(h.respond("What is Freedom Edge?", before, []))
    msg, chat, *_rest, error = outputs[-1]
    assert chat == before  # nothing was added as if the assistant had answered
    assert msg == "What is Freedom Edge?"  # the question is given back to retry
    assert error["visible"] is True and "rag index" in error["value"]


def test_answer_sources_viewer_and_hostile_upload(seeded_assistant: Any, tmp_path: Path) -> None:
    h = Handlers(seeded_assistant)
    outputs, growing = [], []  # the chat's answer as it streams in (the handler reuses its list)
    for out in h.respond("What is Freedom Edge?", [], []):
        outputs.append(out)
        growing.append(out[1][-1]["content"])
    growing = growing[1:-1]  # not the placeholder, nor the final message with its sources
    assert len(growing) >= 2 and len(growing[0]) < len(growing[-1])
    assert all(len(b) >= len(a) for a, b in zip(growing, growing[1:], strict=False))
    _, chat, turns, data, sources, picker, viewer, _ = outputs[-1]
    assert "Freedom Edge" in chat[-1]["content"] and "(#source-1)" in chat[-1]["content"]
    assert turns == [["What is Freedom Edge?", data["text"]]] and data["citations"]
    assert 'id="source-1"' in sources and picker["choices"][0][1] == "1"
    html, _ = h.open_source("1", data)
    c = data["citations"][0]
    assert f'<mark id="cited-span">{c["text"]}</mark>' in html

    (tmp_path / "up").mkdir()
    evil = tmp_path / "up" / "quokka notes.md"
    evil.write_text("# Quokka\n\nThe Quokka Pact <script>alert(1)</script> ![x](http://e/x.png) was signed.")
    bad = tmp_path / "payload.exe"
    bad.write_bytes(b"MZ")
    report, table, _, status, files = h.upload([str(evil), str(bad)], progress=_no_progress)
    assert "quokka notes.md" in report and "added" in report
    assert "payload.exe" in report and "rejected" in report and "unsupported file type" in report
    assert "Quokka" in table and "<script>" not in table and files is None
    assert (seeded_assistant.settings.corpus_dir / "quokka notes.md").exists()

    final = _drain(h.respond("What was signed about the Quokka?", [], []))[-1]
    message = final[1][-1]["content"]
    out = _rendered_markdown(message)
    assert "Quokka Pact" in out and "<script" not in out and "<img" not in out
    html, _ = h.open_source("1", final[3])
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html

    report, *_ = h.delete("quokka notes.md")
    assert "deleted" in report
    assert not (seeded_assistant.settings.corpus_dir / "quokka notes.md").exists()


def test_second_reindex_is_told_it_is_busy(seeded_assistant: Any) -> None:
    h = Handlers(seeded_assistant)
    assert seeded_assistant._write_lock.acquire(blocking=False)  # a re-index is running
    try:
        with pytest.warns(UserWarning, match="Busy"):
            out = h.sync(progress=_no_progress)
        assert all(isinstance(o, dict) and o.get("__type__") == "update" for o in out)  # nothing changed
        chat = _drain(h.respond("Who is South Korea's defence minister?", [], []))[-1][1]
        assert "Shin Wonsik" in chat[-1]["content"]  # chat keeps answering meanwhile
    finally:
        seeded_assistant._write_lock.release()


def test_api_answer_returns_the_answer_fields(seeded_assistant: Any) -> None:
    h = Handlers(seeded_assistant)
    a = h.api_answer("When did it first happen?", '[["What is Freedom Edge?", ""]]')
    assert set(a) >= {"text", "citations", "abstained", "query", "question"}
    assert "Freedom Edge" in a["query"] and a["question"] == "When did it first happen?"
    assert isinstance(seeded_assistant.index(), IndexReport)


class _NoProgress:
    def __call__(self, *args: Any, **kwargs: Any) -> None:
        pass


_no_progress: Any = _NoProgress()


def test_llm_down_is_a_notice_under_the_extractive_answer(seeded_assistant: Any) -> None:
    from rag import Assistant

    pytest.importorskip("langchain_openai")
    s = seeded_assistant.settings.model_copy(
        update={"llm_provider": "openai", "llm_base_url": "http://127.0.0.1:9/v1", "llm_timeout": 3.0}
    )
    h = Handlers(Assistant.from_settings(s))
    _, chat, _, data, *_ = _drain(h.respond("What is Freedom Edge?", [], []))[-1]
    assert data["notice"] and not data["abstained"]
    out = _rendered_markdown(chat[-1]["content"])
    assert "<blockquote>" in out and "⚠" in out and "Freedom Edge" in out
