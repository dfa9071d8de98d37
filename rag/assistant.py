"""The Assistant: built once from Settings, it wires the pieces and answers questions.

Heavy modules (chromadb, onnxruntime, bm25s) are imported when first needed, so that
``import rag`` stays cheap for tools that only want the types.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Generator, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import Settings
from .cpu import best_runtime
from .errors import IndexBusyError, LLMUnavailableError, RagError
from .rewrite import History, asks_of_another_nation, needs_context, rewrite
from .schema import Answer, DocumentInfo, FileResult, IndexReport, IndexStatus

if TYPE_CHECKING:
    from .compose import Candidate, Composer
    from .indexer import Indexer, Progress
    from .lc_retriever import HybridRetriever
    from .retrieve import HybridSearcher, Mode
    from .store import Store


class Assistant:
    """Answers questions from the index and keeps the index in sync with the corpus."""

    def __init__(self, settings: Settings, indexer: Indexer, composer: Composer | None = None) -> None:
        self.settings = settings
        self.indexer = indexer
        self._composer = composer
        self._searcher: HybridSearcher | None = None
        self._keyword_stamp: str | None = None
        self._search_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._llm: Any = None

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Assistant:
        """Wire every component from one Settings object (the single place that does so)."""
        from .embeddings import Embedder
        from .indexer import Indexer
        from .store import Store

        settings = settings or Settings()
        embedder = Embedder(settings)
        store = Store(settings, embedder.name, embedder.dimension)
        if settings.embedding_backend == "auto":
            # The runtime that built the index, so that its vectors and the queries' come from
            # one model (an upgrade must not mix them); for a new index, this CPU's fastest.
            chosen = _built_with(store) or embedder.backend
            settings = settings.model_copy(update={"embedding_backend": chosen})
            embedder = Embedder(settings)
            store = Store(settings, embedder.name, embedder.dimension)
        indexer = Indexer(settings, embedder, store)
        return cls(settings, indexer)

    @property
    def composer(self) -> Composer:
        """The answer composer, built on first use: indexing alone never imports it."""
        if self._composer is None:
            from .compose import Composer
            from .documents import DocumentTexts

            self._composer = Composer(self.settings, self.indexer.embedder, DocumentTexts(self.settings))
        return self._composer

    def warm_up(self) -> None:
        """Load the model and the search indexes now, so the first question is not the slow one."""
        self.indexer.embedder.warm_up()
        try:
            self.searcher()
            self.composer  # noqa: B018 - built on first use
        except RagError:
            pass  # no index yet: the first question reports it

    # --- answering ----------------------------------------------------------------------
    def searcher(self) -> HybridSearcher:
        """The hybrid searcher, reloaded when another process has re-indexed."""
        from .keyword import KeywordIndex
        from .retrieve import HybridSearcher

        # The saved index's id fingerprint changes with every sync that changes the chunks
        # (here or in another process); a file mtime could tie for two quick syncs.
        stamp = KeywordIndex.saved_stamp(self.indexer.keyword_dir)
        with self._search_lock:
            if self._searcher is not None and stamp == self._keyword_stamp:
                return self._searcher
        # Built outside the lock (reading every vector takes ~0.7 s for 11k chunks): searches
        # in other threads go on with the previous searcher meanwhile.
        store = self.indexer.store  # held: a later rebuild points the indexer at a staging store
        store.refresh()  # another process may have swapped in a rebuild
        store.collection()  # raises IndexMissingError with advice
        searcher = HybridSearcher(
            self.settings,
            self.indexer.embedder,
            store,
            self.indexer.keyword_index(),
            documents=lambda: self.indexer.chunks_by_source(store),
        )
        with self._search_lock:
            self._searcher, self._keyword_stamp = searcher, stamp
            return searcher

    def retriever(self, k: int | None = None, mode: Mode = "hybrid") -> HybridRetriever:
        """A LangChain retriever over this assistant's index."""
        from .lc_retriever import HybridRetriever

        return HybridRetriever(searcher=self.searcher(), k=k or self.settings.top_k, mode=mode)

    def standalone_query(self, question: str, history: History | None = None) -> str:
        """The query actually searched: the question, rewritten if it leans on the history."""
        return self._read(question, history)[1]

    def _read(self, question: str, history: History | None) -> tuple[str, str, str]:
        """(the question as searched, the query searched, the previous answer it is read with
        or ""): typos and abbreviations read as the documents spell them, then a follow-up
        rewritten into a standalone query."""
        asked = self._spelled_out((question or "").strip())
        history = self._recalled(asked, history)
        query = self._rewritten(asked, history)
        return asked, query, _said(asked, query, history)

    def _recalled(self, question: str, history: History | None) -> History | None:
        """The history as this question reads it: when the question leans on the last turn, that
        turn's question is read as it was searched (typos corrected), and its answer, when the
        caller gave only the question (``[("Who is …?", "")]``), is the extractive answer that
        question gets (read with the turns before it as given): the follow-up may refer to what
        that answer said ("How does the author read that remark?")."""
        if not history or not needs_context(question):
            return history
        *earlier, (last_q, last_a) = history
        last_q, last_a = (last_q or "").strip(), last_a or ""
        if not last_q:
            return history
        last_q = self._spelled_out(last_q)
        if not last_a.strip():
            searcher = self.searcher()
            query = rewrite(last_q, earlier or None)
            recalled = self.composer.compose(last_q, query, searcher.search(query), searcher.keyword)
            last_a = "" if recalled.abstained else recalled.text
        return [*earlier, (last_q, last_a)]

    def _rewritten(self, question: str, history: History | None) -> str:
        if history and needs_context(question) and self.settings.llm_provider != "none":
            from .llm import rewrite_query

            try:
                return rewrite_query(self._chat_model(), question, history, self._llm_where())
            except LLMUnavailableError:
                pass
        return rewrite(question, history)

    def evidence(self, question: str, history: History | None = None) -> list[Candidate]:
        """The candidate answer sentences, scored and best first, as ``answer`` weighs them
        (the abstention threshold is compared with the first one's score)."""
        asked, query, said = self._read(question, history)
        searcher = self.searcher()
        hits = searcher.search(query)
        return self.composer.candidates(query, hits, searcher.keyword, question=asked, said=said)

    def answer(self, question: str, history: History | None = None) -> Answer:
        """Answer a question (with the chat so far) from the indexed documents."""
        final: Answer | None = None
        for part in self.stream(question, history):
            if isinstance(part, Answer):
                final = part
        assert final is not None
        return final

    def stream(self, question: str, history: History | None = None) -> Iterator[str | Answer]:
        """Yield the answer text as it grows, then the final, verified Answer."""
        question = (question or "").strip()
        if not question:
            raise RagError("The question is empty: type a question about the documents.")
        asked, query, said = self._read(question, history)  # the Answer keeps the words typed
        searcher = self.searcher()
        hits = searcher.search(query)
        final = replace(self.composer.compose(asked, query, hits, searcher.keyword, said), question=question)
        # With an LLM configured, the same calibrated evidence check decides whether to answer
        # at all: an LLM shown weak passages tends to answer anyway.
        if self.settings.llm_provider != "none" and not final.abstained:
            final = yield from self._stream_llm(final, hits)
            yield final.text  # the verified text replaces the raw reply streamed so far
        else:
            words = final.text.split(" ")
            for i in range(4, len(words) + 4, 4):  # a few words at a time, ending on the full text
                yield " ".join(words[:i])
        yield final

    def _stream_llm(self, base: Answer, hits: list[Any]) -> Generator[str, None, Answer]:
        """The LLM's answer, verified; ``base`` (the extractive answer) when it cannot be had."""
        from .llm import stream_text
        from .llm_answer import verified_answer

        question, query = base.question, base.query
        reply = ""
        try:
            for piece in stream_text(self._chat_model(), query, [h.text for h in hits], self._llm_where()):
                reply += piece
                yield reply
        except LLMUnavailableError as exc:
            return _with_notice(base, f"{exc} Showing the extractive answer instead.")
        checked = verified_answer(self.composer, question, query, hits, reply)
        if checked is None:
            return _with_notice(
                base, "The generated answer was not supported by the passages; showing the extractive answer."
            )
        return checked

    def _spelled_out(self, question: str) -> str:
        """The question as searched: abbreviations the documents spell out are expanded and
        misspelt words corrected to the documents' words."""
        from .spelling import correct_typos
        from .topic import use_document_words

        keyword = self.searcher().keyword
        return correct_typos(use_document_words(question, keyword, keyword.acronyms), keyword.words, keyword)

    def _chat_model(self) -> Any:
        if self._llm is None:
            from .llm import chat_model

            self._llm = chat_model(self.settings)
        return self._llm

    def _llm_where(self) -> str:
        return self.settings.llm_base_url or self.settings.llm_provider

    # --- documents and status -----------------------------------------------------------
    def documents(self) -> list[DocumentInfo]:
        return self.indexer.documents() if self.indexer.store.exists() else []

    def document_text(self, source: str, page: int | None = None) -> str:
        """Extracted text of a corpus document (one page of a PDF), as cited offsets use it."""
        return self.composer.texts.section_text(_corpus_relative(source, self.settings), page)

    def status(self) -> IndexStatus:
        docs = self.documents()
        runtime = self.settings.embedding_backend
        model = f"{self.indexer.embedder.name} ({runtime})"
        built = self.indexer.store.built_with()
        if built and built != runtime:  # close vectors, not identical ones: say how to align them
            model += f"; the index was built with {built}: `rag index --rebuild` to re-embed with {runtime}"
        elif runtime != (fastest := best_runtime()):
            model += f"; {fastest} is faster here: `RAG_EMBEDDING_BACKEND={fastest} rag index --rebuild`"
        return IndexStatus(
            documents=len(docs),
            chunks=sum(d.chunks for d in docs),
            model=model,
            last_sync=max((d.indexed_at for d in docs), default="never"),
            location=self.indexer.store.location,
        )

    # --- indexing -----------------------------------------------------------------------
    def index(
        self, files: Sequence[Path] | None = None, rebuild: bool = False, progress: Progress | None = None
    ) -> IndexReport:
        """Sync the corpus (or add/update ``files``); one writer at a time."""
        if not self._write_lock.acquire(blocking=False):
            raise IndexBusyError("A re-index is already running; wait for it to finish.")
        try:
            return self.indexer.sync(files, rebuild=rebuild, progress=progress)
        finally:
            self._write_lock.release()

    def add_files(self, paths: Sequence[Path], progress: Progress | None = None) -> IndexReport:
        """Copy files into the corpus folder and index just them. Bad files are rejected."""
        from .loaders import SUPPORTED_EXTENSIONS

        rejected, targets = [], []
        limit = self.settings.max_upload_mb * 2**20
        self.settings.corpus_dir.mkdir(parents=True, exist_ok=True)
        for p in paths:
            name = Path(p).name
            if Path(name).suffix.lower() not in SUPPORTED_EXTENSIONS:
                kinds = ", ".join(sorted(SUPPORTED_EXTENSIONS))
                reason = f"{name}: unsupported file type; supported: {kinds}."
                rejected.append(FileResult(name, "failed", reason=reason))
            elif Path(p).stat().st_size > limit:
                reason = f"{name}: larger than {self.settings.max_upload_mb:g} MB (RAG_MAX_UPLOAD_MB)."
                rejected.append(FileResult(name, "failed", reason=reason))
            else:
                target = self.settings.corpus_dir / name
                if Path(p).resolve() != target.resolve():
                    shutil.copyfile(p, target)
                targets.append(target)
        report = self.index(targets, progress=progress) if targets else None
        files = tuple(rejected) + (report.files if report else ())
        total = report.total_chunks if report else self.status().chunks
        return IndexReport(files, report.seconds if report else 0.0, total)

    def delete_document(self, source: str) -> IndexReport:
        """Remove a document's file from the corpus and its chunks from the index."""
        rel = _corpus_relative(source, self.settings)
        path = self.composer.texts.path_of(rel)
        if not self._write_lock.acquire(blocking=False):
            raise IndexBusyError("A re-index is running; delete the document when it has finished.")
        try:
            report = self.indexer.remove([rel])
            path.unlink(missing_ok=True)
            return report
        finally:
            self._write_lock.release()


def _corpus_relative(source: str, settings: Settings) -> str:
    """Accept either a corpus-relative source or the display path ("corpus/x.pdf")."""
    prefix = settings.display_path("").rstrip("/") + "/"  # display_path("") has no trailing slash
    return source[len(prefix) :] if source.startswith(prefix) else source


def _with_notice(answer: Answer, notice: str) -> Answer:
    return replace(answer, notice=notice)


def _said(asked: str, query: str, history: History | None) -> str:
    """The previous answer, when the question is a follow-up read with it (else ""). A follow-up
    that asks the same of another nation ("And the American counterpart?") is searched as a
    question of its own, and the sentence that answered for Japan may name the American too."""
    if not history or query == asked or asks_of_another_nation(asked, history):
        return ""
    return history[-1][1] or ""


def _built_with(store: Store) -> str:
    """The backend that built the index, if there is one and it can be read."""
    try:  # an index from before the record was made with the default of the time
        built = store.built_with() or ("openvino-int8" if store.exists() else "")
    except RagError:  # unreachable, another model: reported on first use, as before
        return ""
    return built if built in ("openvino-int8", "onnx-int8", "torch") else ""
