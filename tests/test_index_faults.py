"""Bad input at sync level: one bad file gets a clear message, every other file is indexed,
and a file that was indexed before and now fails keeps its previous chunks."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import docx
import pytest
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

import rag.indexer
from rag.cli import format_report
from rag.config import Settings
from rag.embeddings import Embedder
from rag.indexer import Indexer
from rag.keyword import KeywordIndex
from rag.schema import FileResult, IndexReport
from rag.store import Store

WINDOW = 256


@pytest.fixture(scope="module")
def embedder(model_cache: Path) -> Embedder:
    return Embedder(Settings(model_cache_dir=model_cache))


@pytest.fixture
def ix(tmp_path: Path, embedder: Embedder) -> Indexer:
    corpus = tmp_path / "corpus"
    corpus.mkdir(exist_ok=True)
    cache = embedder.settings.model_cache_dir
    s = Settings(corpus_dir=corpus, index_dir=tmp_path / "index", model_cache_dir=cache)
    (corpus / "good-one.txt").write_text("Good one\n\nThe allies share missile warning data in real time.")
    (corpus / "nested").mkdir()
    (corpus / "nested" / "good-two.md").write_text("# Good two\n\nFreedom Edge is a multi-domain exercise.")
    return Indexer(s, embedder, Store(s, embedder.name, embedder.dimension))


def ids_of(ix: Indexer, source: str) -> set[str]:
    return {c.id for c in ix.store.scan() if c.metadata["source"] == source}


def result(report: IndexReport, source: str) -> FileResult:
    (r,) = [f for f in report.files if f.source == source]
    return r


def keyword_matches_store(ix: Indexer) -> bool:
    saved = KeywordIndex.load(ix.keyword_dir)
    return saved is not None and sorted(saved.ids) == sorted(c.id for c in ix.store.scan())


# --- files, good and bad ------------------------------------------------------------------


def pdf_bytes(text: str = "A PDF about the Camp David summit.\nIt was held in August 2023.") -> bytes:
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4)
    for i, line in enumerate(text.split("\n")):
        pdf.drawString(72, 760 - 16 * i, line)
    pdf.showPage()
    pdf.save()
    return buf.getvalue()


def encrypted_pdf() -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes())))
    writer.encrypt("secret", owner_password="owner")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def truncated_pdf() -> bytes:
    data = pdf_bytes()
    return data[: len(data) // 3]


def docx_bytes(text: str = "A Word document about the trilateral secretariat.") -> bytes:
    d = docx.Document()
    d.add_paragraph(text)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def docx_zip_bomb() -> bytes:
    """A real .docx plus a member that inflates 64 MB from a few KB."""
    buf = io.BytesIO(docx_bytes())
    with zipfile.ZipFile(buf, "a", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/media/huge.bin", b"\0" * (64 * 2**20))
    assert len(buf.getvalue()) < 2**20
    return buf.getvalue()


@dataclass(frozen=True)
class Case:
    name: str  # file name in the corpus
    good: Callable[[], bytes] | None  # the version indexed earlier (None: never indexed)
    bad: Callable[[], bytes]
    reason: str  # a phrase the per-file message must contain


CASES = {
    "encrypted-pdf": Case("report.pdf", pdf_bytes, encrypted_pdf, "encrypted"),
    "truncated-pdf": Case("report.pdf", pdf_bytes, truncated_pdf, "corrupt or truncated"),
    "zero-byte": Case("notes.txt", lambda: b"Notes\n\nThe summit was in 2023.", lambda: b"", "empty"),
    "binary-as-txt": Case("notes.txt", lambda: b"Notes\n\nThe summit was in 2023.",
                          lambda: bytes(range(256)) * 64, "binary"),
    "binary-as-md": Case("notes.md", None, lambda: b"\x7fELF\x02\x01\x01" + bytes(4000), "binary"),
    "unsupported-extension": Case(
        "slides.pptx", None, lambda: b"PK\x03\x04 not really", "unsupported file type"
    ),
    "docx-zip-bomb": Case("paper.docx", docx_bytes, docx_zip_bomb, "zip bomb"),
    "docx-not-a-zip": Case("paper.docx", docx_bytes, lambda: b"Just text saved as .docx\n" * 20, "not a zip"),
    "whitespace-only": Case("notes.txt", lambda: b"Notes\n\nSome text.", lambda: b" \n\t\n  ", "no text"),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_bad_file(ix: Indexer, case: Case) -> None:
    corpus = ix.settings.corpus_dir
    target = corpus / case.name
    previous: set[str] = set()
    if case.good:
        target.write_bytes(case.good())
        first = ix.sync()
        assert first.ok and result(first, case.name).status == "added"
        previous = ids_of(ix, case.name)
        assert previous
    target.write_bytes(case.bad())
    (corpus / "late.txt").write_text("Late\n\nA file added in the same run as the bad one.")

    report = ix.sync()
    bad = result(report, case.name)
    assert bad.status == "failed" and not report.ok
    assert case.reason in bad.reason and case.name in bad.reason
    assert report.counts["failed"] == 1
    assert result(report, "late.txt").status == "added"
    expected_other = "unchanged" if case.good else "added"
    assert result(report, "good-one.txt").status == expected_other
    assert result(report, "nested/good-two.md").status == expected_other
    for source in ("good-one.txt", "nested/good-two.md", "late.txt"):
        assert ids_of(ix, source)
    # Nothing lost: the previously indexed version stays searchable, and the report says so.
    assert ids_of(ix, case.name) == previous
    assert bad.chunks == len(previous)
    if previous:
        assert "kept" in bad.reason
    assert keyword_matches_store(ix)
    assert f"failed    {case.name}  — {bad.reason}" in format_report(report)

    again = ix.sync()  # still failing, still nothing lost, nothing else touched
    assert result(again, case.name).status == "failed" and ids_of(ix, case.name) == previous
    assert again.counts["unchanged"] == 3


def test_file_deleted_between_listing_and_reading(ix: Indexer, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = ix.settings.corpus_dir
    (corpus / "old.txt").write_text("Old\n\nIndexed before it vanished.")
    ix.sync()
    previous = ids_of(ix, "old.txt")
    (corpus / "new.txt").write_text("New\n\nNever indexed, vanishes too.")
    (corpus / "fine.txt").write_text("Fine\n\nStays where it is.")
    real_list = rag.indexer.list_corpus

    def list_then_delete(folder: Path) -> list[Path]:
        listed = real_list(folder)
        (corpus / "old.txt").unlink()  # another process removes files after the listing
        (corpus / "new.txt").unlink()
        return listed

    monkeypatch.setattr(rag.indexer, "list_corpus", list_then_delete)
    report = ix.sync()
    monkeypatch.undo()
    for name in ("old.txt", "new.txt"):
        r = result(report, name)
        assert r.status == "failed" and name in r.reason
        assert "vanished" in r.reason or "No such file" in r.reason
    assert "kept" in result(report, "old.txt").reason and ids_of(ix, "old.txt") == previous
    assert ids_of(ix, "new.txt") == set()
    assert result(report, "fine.txt").status == "added"
    assert keyword_matches_store(ix)
    later = ix.sync()  # the next sync sees the deletion
    assert result(later, "old.txt").status == "deleted" and ids_of(ix, "old.txt") == set()


def test_file_deleted_while_its_hash_is_checked(ix: Indexer, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = ix.settings.corpus_dir
    (corpus / "old.txt").write_text("Old\n\nIndexed before.")
    ix.sync()
    previous = ids_of(ix, "old.txt")
    real_hash = rag.indexer.file_sha256

    def vanish(path: Path) -> str:
        if path.name == "old.txt":
            path.unlink()
        return real_hash(path)

    monkeypatch.setattr(rag.indexer, "file_sha256", vanish)
    report = ix.sync()
    r = result(report, "old.txt")
    assert r.status == "failed" and "old.txt" in r.reason and "kept" in r.reason
    assert ids_of(ix, "old.txt") == previous
    assert result(report, "good-one.txt").status == "unchanged"


def test_cp1252_text_keeps_its_symbols(ix: Indexer) -> None:
    text = "Legal note\r\n\r\nCopyright © 2024 Acme® Widgets™ — “quoted” and café.\r\n"
    (ix.settings.corpus_dir / "legal.txt").write_bytes(text.encode("cp1252"))
    report = ix.sync()
    assert result(report, "legal.txt").status == "added" and report.ok
    (chunk,) = [c for c in ix.store.scan(with_text=True) if c.metadata["source"] == "legal.txt"]
    for ch in "©®™—“”é":
        assert ch in chunk.text
    assert "\ufffd" not in chunk.text and "Ã" not in chunk.text
    assert chunk.metadata["title"] == "Legal note"
    saved = KeywordIndex.load(ix.keyword_dir)
    assert saved is not None and saved.search("Acme widgets", 1)[0][0] == chunk.id


def test_one_enormous_line(ix: Indexer) -> None:
    line = " ".join(f"clause{i} on deterrence and alliance burden sharing" for i in range(700))  # ~40 KB
    (ix.settings.corpus_dir / "one-line.txt").write_text(line)
    report = ix.sync()
    r = result(report, "one-line.txt")
    assert r.status == "added" and r.chunks > 10 and report.ok
    tok = ix.embedder.tokenizer
    chunks = [c for c in ix.store.scan(with_text=True) if c.metadata["source"] == "one-line.txt"]
    assert len(chunks) == r.chunks
    for c in chunks:
        assert line[c.metadata["start"] : c.metadata["end"]] == c.text
        assert len(tok.encode(c.text).ids) <= WINDOW
    assert min(c.metadata["start"] for c in chunks) == 0
    assert max(c.metadata["end"] for c in chunks) == len(line)


def test_file_over_the_size_limit(tmp_path: Path, embedder: Embedder) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir(exist_ok=True)
    cache = embedder.settings.model_cache_dir
    s = Settings(corpus_dir=corpus, index_dir=tmp_path / "index", model_cache_dir=cache, max_file_mb=0.01)
    ix = Indexer(s, embedder, Store(s, embedder.name, embedder.dimension))
    (corpus / "big.txt").write_text("Big\n\n" + "A long sentence about the summit. " * 600)
    (corpus / "small.txt").write_text("Small\n\nA short one.")
    report = ix.sync()
    assert result(report, "big.txt").status == "failed" and "too large" in result(report, "big.txt").reason
    assert result(report, "small.txt").status == "added"


def test_every_fault_at_once(ix: Indexer) -> None:
    """All the bad files in one run: each gets its own message, the good ones all go in."""
    corpus = ix.settings.corpus_dir
    for key, case in CASES.items():
        (corpus / f"{key}{Path(case.name).suffix}").write_bytes(case.bad())
    report = ix.sync()
    failed = {f.source: f.reason for f in report.by_status("failed")}
    assert set(failed) == {f"{key}{Path(c.name).suffix}" for key, c in CASES.items()}
    for key, case in CASES.items():
        assert case.reason in failed[f"{key}{Path(case.name).suffix}"]
    assert {f.source for f in report.by_status("added")} == {"good-one.txt", "nested/good-two.md"}
    assert keyword_matches_store(ix)
