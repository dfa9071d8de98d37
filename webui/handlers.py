"""What the web chat's buttons do: thin adapters from Gradio events to the public rag API.

Library errors (RagError) become a visible error box plus a toast here, at the edge; they are
never written into the chat as if the assistant had said them.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from rag import Answer, Assistant, IndexBusyError, IndexReport, RagError

from . import render

Turns = list[list[str]]  # [[question, answer text], …], oldest first
DOC_HEADERS = ["title", "file", "pages", "chunks", "indexed at"]
REPORT_HEADERS = ["file", "result", "chunks", "reason"]


class Handlers:
    """Event handlers bound to one Assistant (built once, shared by every session)."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant

    # --- chat -----------------------------------------------------------------------------
    def respond(self, question: str, chat: list[Any], turns: Turns) -> Iterator[tuple[Any, ...]]:
        """Stream an answer into the chat.

        Outputs: msg, chat, turns, answer, sources, picker, viewer, error.
        """
        keep = gr.skip()
        question = (question or "").strip()
        if not question:
            gr.Warning("Type a question about the documents first.")
            yield (keep,) * 8
            return
        before = list(chat or [])
        chat = before + [
            {"role": "user", "content": render.md_text(question)},
            {"role": "assistant", "content": "…"},
        ]
        yield "", chat, keep, keep, keep, keep, keep, _hidden()
        final: Answer | None = None
        try:
            for part in self.assistant.stream(question, [(q, a) for q, a in turns or []]):
                if isinstance(part, Answer):
                    final = part
                else:
                    chat[-1] = {"role": "assistant", "content": render.answer_markdown(part)}
                    yield keep, chat, keep, keep, keep, keep, keep, keep
        except RagError as exc:  # shown as an error, and the chat is left as it was
            gr.Warning(str(exc))
            yield question, before, keep, keep, keep, keep, keep, _error(exc)
            return
        assert final is not None
        data = final.to_dict()
        chat[-1] = {"role": "assistant", "content": render.chat_message(data)}
        turns = [*(turns or []), [question, final.text]]
        choices = render.source_choices(data)
        picker = gr.update(choices=choices, value=None)
        viewer = render.viewer_placeholder()
        yield keep, chat, turns, data, render.sources_html(data), picker, viewer, keep

    def open_source(self, marker: str | None, answer: dict[str, Any] | None) -> tuple[Any, Any]:
        """Show the cited document with the cited span highlighted; outputs: viewer, error."""
        if not marker or not answer:
            return gr.skip(), gr.skip()
        cites = answer.get("citations") or answer.get("related") or []
        cite = next((c for c in cites if str(c["marker"]) == str(marker)), None)
        if cite is None:
            return gr.skip(), gr.skip()
        try:
            text = self.assistant.document_text(cite["source"], cite["page"])
        except RagError as exc:
            return gr.skip(), _error(exc)
        c = cite
        return render.viewer_html(c["title"], c["source"], c["page"], text, c["start"], c["end"]), _hidden()

    @staticmethod
    def clear() -> tuple[Any, ...]:
        """Empty chat; outputs: msg, chat, turns, answer, sources, picker, viewer, error."""
        empty_viewer = render.viewer_placeholder()
        picker = gr.update(choices=[], value=None)
        return "", [], [], None, render.sources_html(None), picker, empty_viewer, _hidden()

    # --- REST -------------------------------------------------------------------------------
    def api_answer(self, question: str, history: list[list[str]] | str | None = None) -> dict[str, Any]:
        """Answer a question from the indexed documents; history: [[question, answer], …] or JSON."""
        try:
            if isinstance(history, str):
                history = json.loads(history) if history.strip() else None
            pairs = [(str(q), str(a)) for q, a in history or []]
        except (ValueError, TypeError) as exc:
            raise gr.Error('history must be a list of [question, answer] pairs, e.g. [["Q?", "A."]]') from exc
        try:
            return self.assistant.answer(question, pairs).to_dict()
        except RagError as exc:
            raise gr.Error(str(exc)) from exc

    def api_stream(self, question: str) -> Iterator[dict[str, Any]]:
        """Stream an answer: {"text": growing text, "done": false} …, then the full answer with done=true."""
        try:
            for part in self.assistant.stream(question):
                if isinstance(part, Answer):
                    yield {**part.to_dict(), "done": True}
                else:
                    yield {"text": part, "done": False}
        except RagError as exc:
            raise gr.Error(str(exc)) from exc

    # --- documents --------------------------------------------------------------------------
    def status(self) -> str:
        try:
            return render.status_markdown(self.assistant.status().__dict__)
        except RagError as exc:
            return f"**Index:** unavailable — {render.md_text(str(exc))}"

    def documents(self) -> tuple[Any, Any, str]:
        """Outputs: documents table, delete picker, status line."""
        try:
            docs = self.assistant.documents()
        except RagError as exc:
            gr.Warning(str(exc))
            docs = []
        rows = [[d.title, d.source, d.pages or "", d.chunks, d.indexed_at] for d in docs]
        table = render.table_html(DOC_HEADERS, rows, "No documents indexed yet.")
        picker = gr.update(choices=[d.source for d in docs], value=None)
        return table, picker, self.status()

    def upload(self, files: list[str] | None, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
        """Save uploads into the corpus and index them; outputs: report, table, picker, status, files."""
        if not files:
            gr.Warning("Choose one or more files to upload first.")
            return (gr.skip(),) * 5
        rows: list[list[Any]] = []
        with tempfile.TemporaryDirectory(prefix="rag-upload-") as tmp:
            staged = []
            for f in files:
                original = Path(f).name  # Gradio keeps the uploaded file's own name as the base name
                name = render.safe_filename(original)
                if not name:
                    rows.append([original, "rejected", 0, "The file name has no usable characters."])
                    continue
                target = Path(tmp) / name
                shutil.copyfile(f, target)
                staged.append(target)
            try:
                report = self.assistant.add_files(staged, progress=_progress(progress)) if staged else None
            except RagError as exc:  # busy index, unreadable file …: a pop-up, nothing changed
                return _refused(exc, 5)
        rows += _report_rows(report)
        return (_report_table(rows), *self.documents(), None)

    def sync(self, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
        """Full sync of the corpus folder; outputs: report, table, picker, status."""
        try:
            report = self.assistant.index(progress=_progress(progress))
        except RagError as exc:  # busy index, unreadable file …: a pop-up, nothing changed
            return _refused(exc, 4)
        gr.Info(_summary(report))
        return (_report_table(_report_rows(report)), *self.documents())

    def delete(self, source: str | None) -> tuple[Any, ...]:
        """Delete a document's file and chunks; outputs: report, table, picker, status."""
        if not source:
            gr.Warning("Pick the document to delete first.")
            return (gr.skip(),) * 4
        try:
            report = self.assistant.delete_document(source)
        except RagError as exc:  # busy index, unreadable file …: a pop-up, nothing changed
            return _refused(exc, 4)
        return (_report_table(_report_rows(report) or [[source, "deleted", 0, ""]]), *self.documents())


def _refused(exc: RagError, outputs: int) -> tuple[Any, ...]:
    """Tell the user why an index change did not happen, and leave every output as it was."""
    gr.Warning(f"Busy: {exc}" if isinstance(exc, IndexBusyError) else str(exc))
    return (gr.skip(),) * outputs


def _progress(progress: gr.Progress) -> Any:
    def update(done: int, total: int, name: str) -> None:
        progress((done, total), desc=f"Indexing {name}", unit="files")

    progress(0, desc="Starting…")
    return update


_STATUS_WORDS = {"failed": "rejected"}


def _report_rows(report: IndexReport | None) -> list[list[Any]]:
    if report is None:
        return []
    return [
        [f.source, _STATUS_WORDS.get(f.status, f.status), f.chunks, f.reason]
        for f in report.files
        if f.status != "unchanged"
    ]


def _report_table(rows: list[list[Any]]) -> str:
    return render.table_html(REPORT_HEADERS, rows, "Nothing changed.")


def _summary(report: IndexReport) -> str:
    counts = ", ".join(f"{v} {k}" for k, v in report.counts.items() if v)
    return f"Sync done in {report.seconds:.1f} s: {counts or 'nothing changed'}."


def _error(exc: Exception) -> Any:
    return gr.update(value=f"**Error:** {render.md_text(str(exc))}", visible=True)


def _hidden() -> Any:
    return gr.update(value="", visible=False)
