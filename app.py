"""The web chat: Gradio on top of the public rag API.

    python app.py            # or: rag serve   → http://127.0.0.1:7860

Nothing heavy happens at import: the Assistant (model, index) is built in ``main``.
Layout and wiring live here; event handlers in webui/handlers.py, HTML/markdown escaping in
webui/render.py.
"""

import ipaddress
import sys
import threading
import warnings
from pathlib import Path
from typing import Any

import gradio as gr

from rag import Assistant, ConfigError, RagError, Settings
from webui import render
from webui.handlers import Handlers

# Answerable questions from the dev QA set (../shared/eval/dev_qa.jsonl), shown on the empty chat.
EXAMPLES = [
    "What is Freedom Edge?",
    "Who is South Korea's defence minister?",
    "What does the data sharing mechanism exchange?",
    "Which country renewed a security pact with North Korea?",
]
UPLOAD_TYPES = [".txt", ".md", ".html", ".htm", ".pdf", ".docx"]

CSS = """
#index-status { font-size: 0.85em; opacity: 0.8; }
#error-box { border: 1px solid #d33; background: #fff0f0; color: #700;
             border-radius: 6px; padding: 4px 10px; }
.source { margin-bottom: 0.8em; }
.source-meta { font-size: 0.85em; opacity: 0.75; }
.passage { margin: 0.3em 0 0 0.5em; padding-left: 0.6em; border-left: 3px solid #bbb; white-space: pre-wrap; }
.viewer-head { font-size: 0.9em; margin-bottom: 0.4em; }
.viewer-text { white-space: pre-wrap; max-height: 420px; overflow-y: auto; font-size: 0.92em;
               border: 1px solid #ddd; border-radius: 6px; padding: 8px; }
#cited-span { background: #ffe066; color: inherit; padding: 0 1px; }
.sources-empty, .viewer-empty, .table-empty { opacity: 0.6; font-size: 0.9em; }
.plain-table { width: 100%; border-collapse: collapse; font-size: 0.9em; }
.plain-table th, .plain-table td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #ddd; }
"""

# A click on a marker [n] in an answer opens source n in the viewer (the links point at #source-n).
HEAD = """
<script>
document.addEventListener("click", (event) => {
  const link = event.target.closest && event.target.closest('a[href^="#source-"]');
  if (!link) return;
  event.preventDefault();
  event.stopPropagation();
  const n = link.getAttribute("href").slice("#source-".length);
  const open = (tries) => {  // the picker may still be rendering the new answer's sources
    const radio = document.querySelector('#source-picker input[type="radio"][value="' + CSS.escape(n) + '"]');
    if (radio) radio.click();
    else if (tries > 0) setTimeout(() => open(tries - 1), 100);
  };
  open(30);
  const card = document.getElementById("source-" + n);
  if (card) card.scrollIntoView({behavior: "smooth", block: "nearest"});
}, true);
</script>
"""
SCROLL_TO_SPAN = (
    "() => { setTimeout(() => "
    "document.getElementById('cited-span')?.scrollIntoView({block: 'center'}), 50); }"
)

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    host = host.strip().strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def launch_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for ``Blocks.launch``; refuses a network binding without credentials."""
    auth = None
    if settings.auth:
        user, sep, password = settings.auth.partition(":")
        if not (sep and user and password):
            raise ConfigError("RAG_AUTH must look like user:password (both parts non-empty).")
        auth = (user, password)
    if not is_loopback(settings.host) and auth is None:
        raise ConfigError(
            f"Refusing to serve on {settings.host}: it is reachable from other machines and no "
            "credentials are set. Set RAG_AUTH=user:password, or bind to 127.0.0.1 (RAG_HOST)."
        )
    env_files = {str(Path.cwd() / ".env"), str(Path(__file__).resolve().parent / ".env")}
    return {
        "server_name": settings.host,
        "server_port": settings.port,
        "auth": auth,
        "max_file_size": int(settings.max_upload_mb * 2**20),
        # Gradio serves only files it created itself (uploads); these are blocked on top of that.
        "allowed_paths": [],
        "blocked_paths": [str(settings.index_dir), str(settings.corpus_dir), *sorted(env_files)],
        "ssr_mode": False,
        "show_error": False,
        "css": CSS,
        "head": HEAD,
        "theme": gr.themes.Soft(),
    }


def build_app(assistant: Assistant, settings: Settings) -> gr.Blocks:
    """The Blocks app around one Assistant; call ``.queue().launch(**launch_options(settings))``."""
    h = Handlers(assistant)
    with gr.Blocks(title="Trilateral RAG — cited answers") as demo:
        gr.Markdown("## Trilateral Security Cooperation Framework — ask the documents")
        status = gr.Markdown(elem_id="index-status")
        error_box = gr.Markdown(visible=False, elem_id="error-box")
        with gr.Tab("Chat"):
            turns = gr.State([])
            answer = gr.State(None)
            with gr.Row():
                with gr.Column(scale=3):
                    chat = gr.Chatbot(
                        elem_id="chat",
                        label="Answers (every claim cited)",
                        height=460,
                        examples=[{"text": q} for q in EXAMPLES],
                        latex_delimiters=[],
                        allow_tags=False,
                        feedback_options=None,
                        sanitize_html=True,
                    )
                    with gr.Row():
                        msg = gr.Textbox(
                            placeholder="Ask about the documents…",
                            show_label=False,
                            scale=5,
                            elem_id="question",
                            autofocus=True,
                        )
                        send = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
                        clear = gr.Button("Clear chat", scale=1, elem_id="clear")
                with gr.Column(scale=2):
                    sources = gr.HTML(render.sources_html(None), elem_id="sources", label="Sources")
                    picker = gr.Radio(
                        label="Open a source",
                        info="Click a marker [n] in an answer, or pick the source here.",
                        choices=[],
                        elem_id="source-picker",
                    )
            viewer = gr.HTML(render.viewer_placeholder(), elem_id="viewer", label="Source viewer")

        with gr.Tab("Documents") as documents_tab:
            gr.Markdown("#### Indexed documents")
            docs = gr.HTML(elem_id="documents")
            with gr.Row():
                with gr.Column():
                    files = gr.File(
                        label=f"Add documents ({' '.join(UPLOAD_TYPES)}; ≤ {settings.max_upload_mb:g} MB)",
                        file_count="multiple",
                        file_types=UPLOAD_TYPES,
                        type="filepath",
                        elem_id="upload",
                    )
                    upload = gr.Button("Upload and index", variant="primary", elem_id="upload-btn")
                with gr.Column():
                    sync = gr.Button("Sync corpus folder", elem_id="sync-btn")
                    to_delete = gr.Dropdown(label="Document to delete", choices=[], elem_id="delete-pick")
                    delete = gr.Button("Delete document", variant="stop", elem_id="delete-btn")
            gr.Markdown("#### Last indexing report")
            report = gr.HTML(render.table_html([], [], "No indexing run yet."), elem_id="report")

        # --- wiring -----------------------------------------------------------------------
        chat_io: dict[str, Any] = {
            "inputs": [msg, chat, turns],
            "outputs": [msg, chat, turns, answer, sources, picker, viewer, error_box],
            "api_visibility": "private",
            "concurrency_limit": 4,
            "concurrency_id": "chat",
        }
        msg.submit(h.respond, **chat_io)
        send.click(h.respond, **chat_io)
        chat.example_select(_example_text, None, msg, api_visibility="private").then(h.respond, **chat_io)
        picker.change(
            h.open_source, [picker, answer], [viewer, error_box], api_visibility="private"
        ).then(None, js=SCROLL_TO_SPAN)
        clear.click(
            h.clear,
            None,
            [msg, chat, turns, answer, sources, picker, viewer, error_box],
            api_visibility="private",
        )

        doc_outputs = [docs, to_delete, status]
        # One indexing job at a time: a second click waits in the queue; chat has its own queue.
        index_io: dict[str, Any] = {
            "api_visibility": "private",
            "concurrency_id": "index",
            "concurrency_limit": 1,
        }
        upload.click(h.upload, files, [report, *doc_outputs, files], **index_io)
        sync.click(h.sync, None, [report, *doc_outputs], **index_io)
        delete.click(h.delete, to_delete, [report, *doc_outputs], **index_io)
        # Without a progress overlay: the Documents tab is rendered only when opened, and an
        # overlay set on its components while it was hidden never cleared (a spinner forever).
        # Opening the tab refreshes the list (files may have been indexed from the CLI).
        refresh: dict[str, Any] = {"api_visibility": "private", "show_progress": "hidden"}
        demo.load(h.documents, None, doc_outputs, **refresh)
        documents_tab.select(h.documents, None, doc_outputs, **refresh)

        gr.api(h.api_answer, api_name="answer", concurrency_limit=4, concurrency_id="chat")
        gr.api(h.api_stream, api_name="answer_stream", concurrency_limit=4, concurrency_id="chat")
    return demo


def _example_text(event: gr.SelectData) -> str:
    return str(event.value["text"])


def main(settings: Settings | None = None) -> None:
    """Build the assistant (indexing the corpus if there is no index yet) and serve the app."""
    try:
        settings = settings or Settings()
        options = launch_options(settings)  # refuse an unsafe binding before any heavy work
        assistant = Assistant.from_settings(settings)
    except (RagError, ValueError) as exc:  # ValueError: pydantic's ValidationError for a bad RAG_*
        sys.exit(f"error: {exc}")
    _index_if_missing(assistant)
    # Gradio's routes still name a status code Starlette renamed; one line per request otherwise.
    warnings.filterwarnings("ignore", message=".*HTTP_422_UNPROCESSABLE_ENTITY.*")
    # Loads the model while the server starts: the first question then answers at warm speed.
    threading.Thread(target=_warm_up, args=(assistant,), daemon=True).start()
    build_app(assistant, settings).queue().launch(**options)


def _warm_up(assistant: Assistant) -> None:
    try:
        assistant.warm_up()
    except Exception as exc:  # noqa: BLE001 - a failed warm-up only means a slower first answer
        print(f"warning: warm-up failed ({exc}); the first answer will be slower", file=sys.stderr)


def _index_if_missing(assistant: Assistant) -> None:
    try:
        if assistant.documents():
            return
        print("No index yet: indexing the corpus folder…", flush=True)
        report = assistant.index()
        print(f"Indexed: {report.counts} in {report.seconds:.1f} s", flush=True)
    except RagError as exc:  # the app still starts and shows the problem next to each question
        print(f"warning: {exc}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
