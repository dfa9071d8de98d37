"""Text → safe HTML/markdown for the web chat. Pure functions: no gradio, no rag internals.

Everything that comes from a document (titles, passages, whole texts) or from a question is
treated as plain text. Two renderers are in play and each gets its own escaping:

* gr.HTML panels get ``html.escape`` — nothing a document contains can become a tag.
* gr.Chatbot renders markdown, so text shown there is HTML-escaped *and* has every markdown
  control character backslash-escaped (no ``![img](…)``, no ``[link](javascript:…)``), and bare
  URLs are broken with a zero-width space so the markdown renderer cannot autolink them.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$])")
_AUTOLINK = re.compile(r"(?i)\b(https?|ftp|mailto|javascript|data|vbscript|file)(:)|\b(www)(\.)")
_ZWSP = "\u200b"
_MARKER = re.compile(r"\\\[(\d{1,3})\\\]")  # a marker [n] after md_text escaped it


def md_text(text: str) -> str:
    """Plain text → markdown that renders as exactly that text (no links, images, HTML)."""
    text = html.escape(text, quote=False)
    text = _AUTOLINK.sub(lambda m: f"{m.group(1) or m.group(3)}{_ZWSP}{m.group(2) or m.group(4)}", text)
    return _MD_SPECIAL.sub(r"\\\1", text)


def answer_markdown(text: str, markers: Iterable[int] = ()) -> str:
    """Answer text for the chat: escaped, with markers [n] bold and linked to source n."""
    known = set(markers)

    def link(m: re.Match[str]) -> str:
        n = int(m.group(1))
        return f"[**\\[{n}\\]**](#source-{n})" if n in known else m.group(0)

    return _MARKER.sub(link, md_text(text))


def chat_message(answer: Mapping[str, Any]) -> str:
    """The final chat message for an Answer dict (Answer.to_dict())."""
    lines = []
    if answer.get("query") and answer["query"] != answer.get("question"):
        lines.append(f"<sub>searched for: {md_text(answer['query'])}</sub>\n")
    if answer.get("abstained"):
        lines.append("**Not answered from the documents.**\n")
    markers = [c["marker"] for c in answer.get("citations", [])]
    lines.append(answer_markdown(answer.get("text", ""), markers))
    if answer.get("notice"):
        lines.append(f"\n> ⚠ {md_text(answer['notice'])}")
    return "\n".join(lines)


def sources_html(answer: Mapping[str, Any] | None) -> str:
    """The sources panel: each cited passage with title, file, page and score."""
    if not answer:
        return '<div class="sources-empty">Sources of the answer appear here.</div>'
    cites, heading = answer.get("citations") or [], "Sources"
    if not cites:
        cites, heading = answer.get("related") or [], "Possibly related"
    if not cites:
        return '<div class="sources-empty">No sources: the documents do not cover this question.</div>'
    items = [f"<h4>{heading}</h4>"]
    for c in cites:
        page = f", page {int(c['page'])}" if c.get("page") else ""
        items.append(
            f'<div class="source" id="source-{int(c["marker"])}">'
            f'<div class="source-head"><b>[{int(c["marker"])}]</b> {html.escape(c["title"])}'
            f' <span class="source-meta">— {html.escape(c["source"])}{page}'
            f', score {float(c["score"]):.3f}</span></div>'
            f'<blockquote class="passage">{html.escape(c["text"])}</blockquote></div>'
        )
    return "\n".join(items)


def source_choices(answer: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """(label, value) pairs for the "open a source" selector; value is the marker."""
    if not answer:
        return []
    cites = answer.get("citations") or answer.get("related") or []
    return [
        (f"[{c['marker']}] “{_clip(c['text'], 50)}” — {_clip(c['title'], 40)}", str(c["marker"]))
        for c in cites
    ]


def _clip(text: str, limit: int) -> str:
    """The text's first words up to ``limit`` characters, "…" marking a cut: a passage's
    opening is what tells apart two passages of one document."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + " …"


def viewer_html(title: str, source: str, page: int | None, text: str, start: int, end: int) -> str:
    """The document text with text[start:end] highlighted; everything escaped."""
    start, end = max(0, min(start, len(text))), max(0, min(end, len(text)))
    page_note = f", page {page}" if page else ""
    return (
        f'<div class="viewer-head"><b>{html.escape(title)}</b> — {html.escape(source)}{page_note}'
        f", characters {start}–{end}</div>"
        '<div class="viewer-text">'
        f"{html.escape(text[:start])}<mark id=\"cited-span\">{html.escape(text[start:end])}</mark>"
        f"{html.escape(text[end:])}</div>"
    )


def status_markdown(status: Mapping[str, Any]) -> str:
    """One line of index status for the header."""
    docs, chunks = int(status["documents"]), int(status["chunks"])
    return (
        f"**Index:** {docs} document{'s' * (docs != 1)} · {chunks} chunk{'s' * (chunks != 1)} · "
        f"model {md_text(str(status['model']))} · last sync {md_text(str(status['last_sync']))}"
    )


def safe_filename(name: str, max_len: int = 120) -> str:
    """An uploaded file's name, reduced to a harmless base name inside the corpus folder.

    Directory parts are dropped, characters outside letters/digits/``._- `` become ``_``, leading
    dots are removed (no hidden files such as ``.env``). Returns "" when nothing usable is left.
    """
    name = unicodedata.normalize("NFKC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[^\w.\- ]", "_", name).strip(" .")
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    stem = stem[: max_len - len(ext) - 1].strip(" .")
    return f"{stem}.{ext}" if stem and ext else stem


def viewer_placeholder() -> str:
    text = "Open a source to read it in its document, with the cited span highlighted."
    return f'<div class="viewer-empty">{text}</div>'


def table_html(headers: list[str], rows: list[list[Any]], empty: str) -> str:
    """A plain HTML table; every cell is escaped text."""
    if not rows:
        return f'<div class="table-empty">{html.escape(empty)}</div>'
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape('' if v is None else str(v))}</td>" for v in row) + "</tr>"
        for row in rows
    )
    return f'<table class="plain-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
