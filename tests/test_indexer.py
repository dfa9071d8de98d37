"""Sync semantics of the indexer against a real Chroma store in tmp and the real bundled model."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path
from typing import Any

import docx
import numpy as np
import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

import rag
import rag.indexer
from rag import sentence_vectors
from rag.assistant import Assistant
from rag.chunking import chunk_document
from rag.config import Settings
from rag.embeddings import Embedder
from rag.errors import ConfigError, IndexBusyError
from rag.indexer import Indexer
from rag.keyword import KeywordIndex
from rag.loaders import SUPPORTED_EXTENSIONS, load_file
from rag.schema import Chunk, FileResult, IndexReport
from rag.store import Store
from tests.conftest import assert_sentence_vectors_kept

PARA = (
    "The {name} meeting brought together the defence ministers of Japan, South Korea and the "
    "United States. They agreed to share missile warning data in real time. Officials said the "
    "{name} arrangement would be reviewed every year. "
)


@pytest.fixture(scope="module")
def embedder(model_cache: Path) -> Embedder:
    return Embedder(Settings(model_cache_dir=model_cache))


def make_indexer(root: Path, embedder: Embedder, **overrides: Any) -> Indexer:
    (root / "corpus").mkdir(parents=True, exist_ok=True)
    s = Settings(corpus_dir=root / "corpus", index_dir=root / "index",
                 model_cache_dir=embedder.settings.model_cache_dir, **overrides)
    return Indexer(s, embedder, Store(s, embedder.name, embedder.dimension))


def write(ix: Indexer, rel: str, text: str) -> Path:
    path = ix.settings.corpus_dir / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def expected_chunks(ix: Indexer) -> dict[str, Chunk]:
    """What the index should hold, computed from the corpus files alone (loader + chunker)."""
    tok = ix.embedder.tokenizer

    def spans(text: str) -> list[tuple[int, int]]:
        return list(tok.encode(text, add_special_tokens=False).offsets)

    out: dict[str, Chunk] = {}
    root = ix.settings.corpus_dir
    for path in sorted(root.rglob("*")):
        hidden = any(part.startswith(".") for part in path.relative_to(root).parts)
        if path.is_file() and path.suffix.lower() in SUPPORTED_EXTENSIONS and not hidden:
            d = load_file(path, root)
            for c in chunk_document(d, spans, ix.settings.chunk_tokens, ix.settings.chunk_overlap_tokens):
                out[c.id] = c
    return out


def stored_ids(ix: Indexer) -> list[str]:
    return [c.id for c in ix.store.scan()]


def ids_of(ix: Indexer, source: str) -> set[str]:
    return {c.id for c in ix.store.scan() if c.metadata["source"] == source}


def assert_in_step(ix: Indexer) -> None:
    """Store == corpus, no duplicates, and the saved keyword index covers exactly the same ids."""
    ids = stored_ids(ix)
    assert len(ids) == len(set(ids)) == ix.store.count()
    assert set(ids) == set(expected_chunks(ix))
    saved = KeywordIndex.load(ix.keyword_dir)
    assert saved is not None and sorted(saved.ids) == sorted(ids)
    assert_sentence_vectors_kept(ix)


def titles_of(ix: Indexer, source: str) -> set[str]:
    return {c.metadata["title"] for c in ix.store.scan() if c.metadata["source"] == source}


def statuses(report: IndexReport) -> dict[str, str]:
    return {f.source: f.status for f in report.files}


class Spy:
    """Counts calls to the methods that write or embed."""

    def __init__(self, ix: Indexer, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[str] = []
        for obj, name in ((ix.store, "upsert"), (ix.store, "delete"), (ix.store, "begin_rebuild"),
                          (ix.embedder, "encode"), (KeywordIndex, "save")):
            monkeypatch.setattr(obj, name, self._wrap(name, getattr(obj, name)))

    def _wrap(self, name: str, fn: Any) -> Any:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if name != "delete" or (args and args[0]):  # delete([]) writes nothing
                self.calls.append(name)
            return fn(*args, **kwargs)

        return wrapped


@pytest.fixture
def ix(tmp_path: Path, embedder: Embedder) -> Indexer:
    ix = make_indexer(tmp_path, embedder)
    write(ix, "alpha.txt", "Alpha report\n\n" + PARA.format(name="Alpha") * 12)
    write(ix, "sub/beta.md", "# Beta notes\n\n" + PARA.format(name="Beta") * 3)
    write(ix, "gamma.txt", "Gamma\n\nFreedom Edge is a trilateral exercise. It first took place in June.")
    return ix


# --- the sync cycle -----------------------------------------------------------------------


def test_first_run_adds_every_file(ix: Indexer) -> None:
    report = ix.sync()
    assert isinstance(report, IndexReport) and report.ok
    assert statuses(report) == {"alpha.txt": "added", "sub/beta.md": "added", "gamma.txt": "added"}
    assert report.counts == {"added": 3, "updated": 0, "unchanged": 0, "deleted": 0, "failed": 0}
    assert report.total_chunks == ix.store.count() == sum(f.chunks for f in report.files)
    assert ix.store.count() > 3  # alpha is long enough for several chunks
    assert_in_step(ix)


def test_rerun_writes_nothing(ix: Indexer, monkeypatch: pytest.MonkeyPatch) -> None:
    first = ix.sync()
    before = sorted(stored_ids(ix))
    spy = Spy(ix, monkeypatch)
    again = ix.sync()
    assert spy.calls == []
    assert again.counts["unchanged"] == 3 and set(statuses(again).values()) == {"unchanged"}
    assert {f.source: f.chunks for f in again.files} == {f.source: f.chunks for f in first.files}
    assert sorted(stored_ids(ix)) == before and again.total_chunks == first.total_chunks


def test_an_unchanged_rerun_reads_no_chunk_metadata(ix: Indexer, monkeypatch: pytest.MonkeyPatch) -> None:
    ix.sync()
    assert (ix.settings.index_dir / "state.json").is_file()

    def no_scan(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("an unchanged sync should use the saved state, not read every chunk")

    monkeypatch.setattr(ix.store, "scan", no_scan)
    again = ix.sync()
    assert set(statuses(again).values()) == {"unchanged"}


def test_chunks_deleted_behind_the_indexers_back_are_restored(ix: Indexer) -> None:
    ix.sync()
    lost = sorted(ids_of(ix, "alpha.txt"))[:1]
    ix.store.delete(lost)  # e.g. another client of a shared Chroma server
    report = ix.sync()
    assert statuses(report)["alpha.txt"] == "updated"
    assert set(lost) <= set(stored_ids(ix))
    assert_in_step(ix)


@pytest.mark.parametrize("saved", ["{not json", '{"format": 1, "collection": 3}', "[]", ""])
def test_a_damaged_saved_state_is_ignored_and_rewritten(ix: Indexer, saved: str) -> None:
    first = ix.sync()
    state_file = ix.settings.index_dir / "state.json"
    state_file.write_text(saved, encoding="utf-8")
    again = ix.sync()
    assert set(statuses(again).values()) == {"unchanged"}
    assert again.total_chunks == first.total_chunks
    assert_in_step(ix)
    assert json.loads(state_file.read_text(encoding="utf-8"))["format"] == 1


@pytest.mark.parametrize("operation", ["sync", "sync-files", "remove", "rebuild"])
def test_the_saved_state_is_dropped_before_any_write(
    ix: Indexer, monkeypatch: pytest.MonkeyPatch, operation: str
) -> None:
    """A run killed after its first write must leave no saved state that could hide the write."""
    ix.sync()
    gamma = write(ix, "gamma.txt", "Gamma\n\nA new version of the exercise notes.")
    state_file = ix.settings.index_dir / "state.json"
    seen: list[tuple[str, bool]] = []
    for name in ("upsert", "update_metadata", "delete", "copy_to"):  # on the class: a rebuild's
        real = getattr(Store, name)  # staging Store is a copy of this one

        def spy(self: Store, *args: Any, _name: str = name, _real: Any = real, **kwargs: Any) -> Any:
            seen.append((_name, state_file.exists()))
            return _real(self, *args, **kwargs)

        monkeypatch.setattr(Store, name, spy)
    {"sync": lambda: ix.sync(), "sync-files": lambda: ix.sync([gamma]),
     "remove": lambda: ix.remove(["alpha.txt"]), "rebuild": lambda: ix.sync(rebuild=True)}[operation]()
    assert seen and all(not exists for _, exists in seen), seen
    assert state_file.is_file()


def test_a_title_change_written_by_another_client_is_not_hidden(
    ix: Indexer, tmp_path: Path, embedder: Embedder
) -> None:
    """Two indexers (two machines) share one store, each with its own saved state. A front-matter
    title edit keeps every chunk id, so only the write generation can tell the first indexer
    that its saved state is stale."""
    note = ix.settings.corpus_dir / "notes.md"
    body = "Freedom Edge is a trilateral exercise. It first took place in June 2024.\n"
    note.write_text("---\ntitle: Old title\n---\n" + body, encoding="utf-8")
    ix.sync()
    other = Indexer(ix.settings.model_copy(update={"index_dir": tmp_path / "elsewhere"}), embedder, ix.store)
    note.write_text("---\ntitle: New title\n---\n" + body, encoding="utf-8")
    assert statuses(other.sync())["notes.md"] == "updated"
    note.write_text("---\ntitle: Old title\n---\n" + body, encoding="utf-8")  # edit reverted
    assert statuses(ix.sync())["notes.md"] == "updated"
    assert titles_of(ix, "notes.md") == {"Old title"}


def test_a_rebuild_swapped_in_later_invalidates_the_saved_state(
    ix: Indexer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rebuild killed after it was complete but before the swap; a delete from the web app
    saves the state meanwhile; the swap must not let that state hide the rebuilt title."""
    note = ix.settings.corpus_dir / "notes.md"
    body = "Freedom Edge is a trilateral exercise. It first took place in June 2024.\n"
    note.write_text("---\ntitle: Old title\n---\n" + body, encoding="utf-8")
    ix.sync()
    note.write_text("---\ntitle: New title\n---\n" + body, encoding="utf-8")
    (ix.settings.corpus_dir / "gamma.txt").unlink()  # gone from the folder; still in the index
    real = Store.finish_rebuild

    def killed(self: Store) -> None:
        if self._pinned:
            raise KeyboardInterrupt("killed after the staging collection was marked complete")
        real(self)

    monkeypatch.setattr(Store, "finish_rebuild", killed)
    with pytest.raises(KeyboardInterrupt):
        ix.sync(rebuild=True)
    monkeypatch.setattr(Store, "finish_rebuild", real)
    note.write_text("---\ntitle: Old title\n---\n" + body, encoding="utf-8")  # edit reverted
    ix.remove(["gamma.txt"])  # the web app's delete: the old index now holds the rebuilt ids
    assert statuses(ix.sync())["notes.md"] == "updated"
    assert titles_of(ix, "notes.md") == {"Old title"}
    assert_in_step(ix)


def test_editing_a_file_replaces_its_chunks(ix: Indexer) -> None:
    ix.sync()
    old_alpha, old_gamma = ids_of(ix, "alpha.txt"), ids_of(ix, "gamma.txt")
    write(ix, "gamma.txt", "Gamma\n\nFreedom Edge is a trilateral exercise. It was held again in November.")
    report = ix.sync()
    assert statuses(report) == {"alpha.txt": "unchanged", "sub/beta.md": "unchanged", "gamma.txt": "updated"}
    new_gamma = ids_of(ix, "gamma.txt")
    assert new_gamma and not new_gamma & old_gamma
    assert ids_of(ix, "alpha.txt") == old_alpha
    texts = " ".join(c.text for c in ix.store.scan(with_text=True) if c.metadata["source"] == "gamma.txt")
    assert "November" in texts and "June" not in texts
    assert_in_step(ix)


def test_editing_the_end_of_a_long_file_re_embeds_only_new_chunks(
    ix: Indexer, monkeypatch: pytest.MonkeyPatch
) -> None:
    ix.sync()
    before = ids_of(ix, "alpha.txt")
    path = ix.settings.corpus_dir / "alpha.txt"
    path.write_text(path.read_text() + "A closing sentence was added later.", encoding="utf-8")
    embedded: list[int] = []
    encode = ix.embedder.encode
    monkeypatch.setattr(ix.embedder, "encode", lambda texts: embedded.append(len(texts)) or encode(texts))
    report = ix.sync()
    assert statuses(report)["alpha.txt"] == "updated"
    # One pass for the new chunks (unchanged leading chunks are reused), one for their sentences.
    fresh = ix.store.get(sorted(ids_of(ix, "alpha.txt") - before))
    assert len(embedded) == 2 and embedded[0] == len(fresh) < report.by_status("updated")[0].chunks
    assert embedded[1] == sum(len(sentence_vectors._texts(c.text)[0]) for c in fresh)
    assert_in_step(ix)
    # The reused chunks now belong to the new version: the next sync has nothing to do.
    new_hash = rag.indexer.file_sha256(path)
    assert {c.metadata["file_hash"] for c in ix.store.scan() if c.metadata["source"] == "alpha.txt"} == {
        new_hash
    }
    spy = Spy(ix, monkeypatch)
    assert set(statuses(ix.sync()).values()) == {"unchanged"}
    assert spy.calls == []


def test_a_new_pdf_title_reaches_chunks_whose_text_did_not_change(tmp_path: Path, embedder: Embedder) -> None:
    ix = make_indexer(tmp_path, embedder)
    pdf = ix.settings.corpus_dir / "report.pdf"
    pdf.write_bytes(_pdf(["The same text on the only page."], "Old title"))
    ix.sync()
    pdf.write_bytes(_pdf(["The same text on the only page."], "New title"))
    assert statuses(ix.sync()) == {"report.pdf": "updated"}
    assert {c.metadata["title"] for c in ix.store.scan()} == {"New title"}
    assert_sentence_vectors_kept(ix)  # the metadata update merged: the vectors stayed
    assert statuses(ix.sync()) == {"report.pdf": "unchanged"}


def test_removing_a_file_deletes_its_chunks(ix: Indexer) -> None:
    ix.sync()
    n_beta = len(ids_of(ix, "sub/beta.md"))
    (ix.settings.corpus_dir / "sub" / "beta.md").unlink()
    report = ix.sync()
    assert statuses(report)["sub/beta.md"] == "deleted"
    assert report.by_status("deleted")[0].chunks == n_beta
    assert ids_of(ix, "sub/beta.md") == set()
    assert_in_step(ix)
    shutil.rmtree(ix.settings.corpus_dir)  # an emptied corpus folder empties the index
    ix.settings.corpus_dir.mkdir()
    ix.sync()
    assert ix.store.count() == 0 and KeywordIndex.load(ix.keyword_dir).ids == []  # type: ignore[union-attr]


def test_changed_chunk_settings_re_chunk_every_file(ix: Indexer, embedder: Embedder) -> None:
    ix.sync()
    before = sorted(stored_ids(ix))
    smaller = make_indexer(ix.settings.corpus_dir.parent, embedder, chunk_tokens=48, chunk_overlap_tokens=8)
    report = smaller.sync()
    assert set(statuses(report).values()) == {"updated"}
    assert sorted(stored_ids(smaller)) != before
    assert_in_step(smaller)  # exactly the chunks the new settings cut
    assert set(statuses(smaller.sync()).values()) == {"unchanged"}


def test_sync_of_given_files_never_deletes_others(ix: Indexer) -> None:
    ix.sync()
    beta, gamma = ids_of(ix, "sub/beta.md"), ids_of(ix, "gamma.txt")
    (ix.settings.corpus_dir / "sub" / "beta.md").unlink()  # gone from disk, not from the index
    write(ix, "gamma.txt", "Gamma\n\nRewritten entirely. Nothing about exercises.")
    new = write(ix, "delta.txt", "Delta\n\nThe Camp David summit took place in August 2023.")
    alpha = write(ix, "alpha.txt", "Alpha report\n\nShorter now. Only two sentences.")
    report = ix.sync(files=[new, alpha])
    assert statuses(report) == {"delta.txt": "added", "alpha.txt": "updated"}
    assert ids_of(ix, "sub/beta.md") == beta and ids_of(ix, "gamma.txt") == gamma
    assert "Camp David" in " ".join(c.text for c in ix.store.scan(with_text=True))
    saved = KeywordIndex.load(ix.keyword_dir)
    assert saved is not None and sorted(saved.ids) == sorted(stored_ids(ix))
    full = ix.sync()  # a later full sync catches up with the rest
    assert statuses(full)["sub/beta.md"] == "deleted" and statuses(full)["gamma.txt"] == "updated"
    assert_in_step(ix)


def test_a_file_given_twice_is_indexed_once(ix: Indexer, monkeypatch: pytest.MonkeyPatch) -> None:
    new = write(ix, "delta.txt", "Delta\n\nThe Camp David summit took place in August 2023.")
    monkeypatch.chdir(ix.settings.corpus_dir)
    report = ix.sync(files=[new, new, Path("delta.txt"), Path("sub/../delta.txt")])
    assert [(f.source, f.status) for f in report.files] == [("delta.txt", "added")]
    (ix.settings.corpus_dir / "alias.txt").symlink_to(new)  # the same file under a second name
    assert [(f.source, f.status) for f in ix.sync().files if f.source == "delta.txt"] == [
        ("delta.txt", "unchanged")
    ]
    assert "alias.txt" not in {c.metadata["source"] for c in ix.store.scan()}
    upload = ix.settings.corpus_dir.parent / "upload"
    for d in ("one", "two"):  # two uploads that share a file name
        write(ix, f"../upload/{d}/same.txt", f"Same\n\nVersion {d}.")
    assistant = Assistant(ix.settings, ix, composer=None)
    added = assistant.add_files([upload / "one" / "same.txt", upload / "two" / "same.txt"])
    assert [(f.source, f.status) for f in added.files] == [("same.txt", "added")]
    assert "Version two." in (ix.settings.corpus_dir / "same.txt").read_text()


def test_given_file_outside_the_corpus_is_refused(ix: Indexer, tmp_path: Path) -> None:
    ix.sync()
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("Somewhere else entirely.")
    report = ix.sync(files=[outside])
    (bad,) = report.files
    assert bad.status == "failed" and "not inside the corpus folder" in bad.reason
    assert_in_step(ix)


def test_rebuild_starts_empty_and_yields_the_same_ids(ix: Indexer) -> None:
    ix.sync()
    ids = sorted(stored_ids(ix))
    stray = Chunk("stray-id", "Left over from an older layout.", "old.txt", "Old", None, 0, 31, "h", "f", 1)
    ix.store.upsert([stray], ix.embedder.encode([stray.text]), "2000-01-01T00:00:00+00:00")
    report = ix.sync(rebuild=True)
    assert set(statuses(report).values()) == {"added"} and len(report.files) == 3
    assert sorted(stored_ids(ix)) == ids
    assert_in_step(ix)


def test_leftovers_of_an_interrupted_update_are_cleaned(ix: Indexer) -> None:
    ix.sync()
    good = sorted(stored_ids(ix))
    # Half of a newer version of gamma.txt that a killed run wrote before deleting the old chunks.
    half = Chunk("half-written", "An edit never finished.", "gamma.txt", "Gamma", None, 0, 23, "h", "new", 2)
    ix.store.upsert([half], ix.embedder.encode([half.text]), "2000-01-01T00:00:00+00:00")
    report = ix.sync()
    assert statuses(report)["gamma.txt"] == "updated"
    assert sorted(stored_ids(ix)) == good
    assert_in_step(ix)


def test_one_writer_at_a_time(ix: Indexer) -> None:
    from filelock import FileLock

    ix.settings.index_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(ix.settings.index_dir / ".write.lock")):  # e.g. another process's `rag index`
        with pytest.raises(IndexBusyError, match="busy"):
            ix.sync()
    assert ix.sync().counts["added"] == 3  # free again


def test_hidden_files_and_folders_are_ignored(ix: Indexer) -> None:
    write(ix, ".draft.txt", "Draft\n\nNot ready.")
    write(ix, ".git/notes.md", "# Git\n\nInternal.")
    (ix.settings.corpus_dir / ".DS_Store").write_bytes(b"\x00\x01")
    report = ix.sync()
    assert sorted(statuses(report)) == ["alpha.txt", "gamma.txt", "sub/beta.md"] and report.ok
    assert_in_step(ix)
    # Given explicitly (an upload, `--file`), a hidden file is refused rather than indexed now
    # and silently dropped by the next full sync.
    report = ix.sync(files=[ix.settings.corpus_dir / ".draft.txt", ix.settings.corpus_dir / ".git/notes.md"])
    assert set(statuses(report).values()) == {"failed"}
    assert all("hidden" in f.reason for f in report.files)
    assert_in_step(ix)


def test_a_missing_corpus_folder_does_not_empty_the_index(ix: Indexer, tmp_path: Path) -> None:
    ix.sync()
    before = sorted(stored_ids(ix))
    gone = ix.settings.corpus_dir.rename(tmp_path / "unmounted")
    for rebuild in (False, True):
        with pytest.raises(ConfigError, match="RAG_CORPUS_DIR") as info:
            ix.sync(rebuild=rebuild)
        assert str(ix.settings.corpus_dir) in str(info.value)
        assert sorted(stored_ids(ix)) == before
    gone.rename(ix.settings.corpus_dir)
    shutil.rmtree(ix.settings.corpus_dir)
    ix.settings.corpus_dir.mkdir()  # an existing, empty folder is a deliberate "no documents"
    assert ix.sync().counts["deleted"] == 3 and ix.store.count() == 0


def test_progress_is_reported(ix: Indexer) -> None:
    seen: list[tuple[int, int, str]] = []
    ix.sync(progress=lambda done, total, name: seen.append((done, total, name)))
    assert seen[0] == (0, 3, "alpha.txt") and seen[-1] == (3, 3, "")
    assert [d for d, _, _ in seen] == sorted(d for d, _, _ in seen)


# --- what every chunk carries -------------------------------------------------------------


def _pdf(pages: list[str], title: str) -> bytes:
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4)
    pdf.setTitle(title)
    for text in pages:
        for i, line in enumerate(text.split("\n")):
            pdf.drawString(72, 760 - 16 * i, line)
        pdf.showPage()
    pdf.save()
    return buf.getvalue()


def test_every_chunk_carries_its_metadata(tmp_path: Path, embedder: Embedder) -> None:
    ix = make_indexer(tmp_path, embedder)
    root = ix.settings.corpus_dir
    write(ix, "notes/plain.txt", "Plain notes\n\n" + PARA.format(name="Plain") * 8)
    write(ix, "page.html", "<html><head><title>Web page</title></head><body><p>Visible text only."
          "</p><script>var hidden = 1;</script></body></html>")
    (root / "report.pdf").write_bytes(_pdf(
        ["Page one talks about missile warning data.\nIt is shared in real time.",
         "Page two covers the Freedom Edge exercise.\nIt was held in June."], "A PDF report"))
    d = docx.Document()
    d.core_properties.title = "A Word file"
    d.add_paragraph("The secretariat was set up in 2024.")
    d.save(str(root / "word.docx"))
    report = ix.sync()
    assert report.counts["added"] == 4 and report.ok

    seen_pages = set()
    for c in ix.store.scan(with_text=True):
        m = c.metadata
        assert not Path(m["source"]).is_absolute() and (root / m["source"]).is_file()
        loaded = load_file(root / m["source"], root)
        assert m["title"] == loaded.title
        (section,) = [s for s in loaded.sections if (s.page or 0) == m["page"]]
        assert section.text[m["start"] : m["end"]] == c.text
        assert len(m["chunk_hash"]) == 16 and m["file_hash"] == loaded.file_hash
        assert m["indexed_at"].startswith("20") and "T" in m["indexed_at"]
        if m["source"] == "report.pdf":
            seen_pages.add(m["page"])
    assert seen_pages == {1, 2}
    titles = {c.metadata["source"]: c.metadata["title"] for c in ix.store.scan()}
    assert titles == {"notes/plain.txt": "Plain notes", "page.html": "Web page",
                      "report.pdf": "A PDF report", "word.docx": "A Word file"}
    assert "hidden" not in " ".join(c.text for c in ix.store.scan(with_text=True))
    docs = {d.source: d for d in ix.documents()}
    assert docs["report.pdf"].pages == 2 and docs["notes/plain.txt"].pages == 0
    assert sum(d.chunks for d in docs.values()) == ix.store.count()
    assert_in_step(ix)


# --- the Python API returns typed reports -------------------------------------------------


def test_python_api_returns_typed_reports(tmp_path: Path) -> None:
    corpus = Path(Settings().corpus_dir)  # conftest points RAG_CORPUS_DIR into tmp_path
    assert corpus == (tmp_path / "corpus").resolve()
    corpus.mkdir()
    (corpus / "one.txt").write_text("One\n\nThe trilateral secretariat opened in 2024.")
    report = rag.index()
    assert isinstance(report, IndexReport) and all(isinstance(f, FileResult) for f in report.files)
    assert report.counts["added"] == 1

    assistant = rag.default_assistant()
    assert isinstance(assistant, Assistant)
    assert assistant.index().counts["unchanged"] == 1
    upload = tmp_path / "upload"
    upload.mkdir()
    (upload / "two.md").write_text("# Two\n\nJapan and Korea resumed shuttle diplomacy.")
    (upload / "three.exe").write_bytes(b"MZ\x00\x00")
    added = assistant.add_files([upload / "two.md", upload / "three.exe"])
    assert isinstance(added, IndexReport)
    assert statuses(added) == {"two.md": "added", "three.exe": "failed"}
    assert "unsupported" in added.by_status("failed")[0].reason
    assert (corpus / "two.md").is_file() and not (corpus / "three.exe").exists()
    assert added.total_chunks == assistant.status().chunks == 2
    with assistant._write_lock:  # a re-index already running in this process (e.g. the web app's)
        with pytest.raises(IndexBusyError):
            assistant.index()
        with pytest.raises(IndexBusyError):
            assistant.add_files([upload / "two.md"])
    (corpus / "one.txt").write_text("One\n\nThe trilateral secretariat opened in Seoul in 2024.")
    (corpus / "two.md").unlink()
    partial = rag.index(files=[corpus / "one.txt"])  # like `rag index --file`: deletes nothing
    assert statuses(partial) == {"one.txt": "updated"} and partial.total_chunks == 2
    rebuilt = rag.index(rebuild=True)
    assert rebuilt.counts["added"] == 1 and rebuilt.total_chunks == 1
    assert [d.source for d in assistant.documents()] == ["one.txt"]


# --- the store underneath -----------------------------------------------------------------


def test_collection_records_model_and_uses_cosine(ix: Indexer) -> None:
    ix.sync()
    col = ix.store.collection()
    assert {k: col.metadata[k] for k in ("embedding_model", "dimension")} == {
        "embedding_model": "all-MiniLM-L6-v2", "dimension": 384
    }
    hnsw = col.configuration["hnsw"]
    assert hnsw["space"] == "cosine"
    assert hnsw["ef_search"] == ix.settings.hnsw_ef_search >= 100  # deep enough not to cost recall
    best, score = ix.store.query(ix.embedder.encode(["When did Freedom Edge first take place?"])[0], 1)[0]
    assert best.metadata["source"] == "gamma.txt" and 0 < score <= 1


def test_writes_go_in_batches_within_chromas_limit(tmp_path: Path, embedder: Embedder) -> None:
    ix = make_indexer(tmp_path, embedder)
    col = ix.store.collection(create=True)
    sizes: list[int] = []
    real_upsert, real_delete = col.upsert, col.delete

    def upsert(**kw: Any) -> None:
        sizes.append(len(kw["ids"]))
        real_upsert(**kw)

    def delete(**kw: Any) -> None:
        sizes.append(-len(kw["ids"]))
        real_delete(**kw)

    col.upsert, col.delete = upsert, delete  # type: ignore[method-assign]
    assert ix.store._client.get_max_batch_size() >= 1000  # Chroma's real limit (5461 on sqlite) …
    limit = 300  # … lowered, so that a small test crosses it several times
    ix.store._client.get_max_batch_size = lambda: limit
    n = 1000
    chunks = [Chunk(f"id-{i}", f"text {i}", "big.txt", "Big", None, i, i + 1, "h", "f", n) for i in range(n)]
    vectors = np.random.default_rng(0).normal(size=(n, embedder.dimension)).astype(np.float32)
    ix.store.upsert(chunks, vectors, "2024-01-01T00:00:00+00:00")
    assert sum(s for s in sizes if s > 0) == n and len(sizes) == 4
    assert max(sizes) <= limit
    assert ix.store.count() == n
    assert len(list(ix.store.scan())) == n  # scanning pages through all of them
    sizes.clear()
    ix.store.delete([c.id for c in chunks])
    assert len(sizes) == 4 and -min(sizes) <= limit and ix.store.count() == 0


def test_rebuild_swaps_in_only_when_complete(ix: Indexer, monkeypatch: pytest.MonkeyPatch) -> None:
    ix.sync()
    before = sorted(c.id for c in ix.store.scan())
    real = ix.embedder.encode

    def broken(texts: Any) -> Any:
        raise RuntimeError("embedding failed half-way")

    monkeypatch.setattr(ix.embedder, "encode", broken)
    with pytest.raises(RuntimeError):
        ix.sync(rebuild=True)
    monkeypatch.setattr(ix.embedder, "encode", real)
    fresh = make_indexer(ix.settings.index_dir.parent, ix.embedder)  # a new process, in effect
    assert sorted(c.id for c in fresh.store.scan()) == before  # the failed rebuild changed nothing
    report = fresh.sync(rebuild=True)
    assert report.counts["added"] == 3 and sorted(c.id for c in fresh.store.scan()) == before


def test_an_interrupted_swap_is_finished_on_next_open(ix: Indexer) -> None:
    ix.sync()
    before = sorted(c.id for c in ix.store.scan())
    live = ix.store
    ix.store = live.begin_rebuild()
    ix.sync()  # fills the staging collection (the "rebuild" body)
    staging = ix.store.collection()
    ix.store = live
    staging.modify(metadata={**(staging.metadata or {}), "complete": True})
    live._client.delete_collection(ix.settings.collection)  # killed right after this step
    fresh = make_indexer(ix.settings.index_dir.parent, ix.embedder)
    assert sorted(c.id for c in fresh.store.scan()) == before


def test_rebuild_with_a_file_list_is_refused(ix: Indexer) -> None:
    ix.sync()
    with pytest.raises(ConfigError, match="without a file list"):
        ix.sync([ix.settings.corpus_dir / "gamma.txt"], rebuild=True)
    assert ix.store.count() > 0


def test_rebuild_keeps_the_chunks_of_a_file_that_now_fails(ix: Indexer) -> None:
    ix.sync()
    gamma = {c.id for c in ix.store.scan() if c.metadata["source"] == "gamma.txt"}
    (ix.settings.corpus_dir / "gamma.txt").write_bytes(b"\x00\x01\x02" * 100)  # now binary
    report = ix.sync(rebuild=True)
    failed = report.by_status("failed")
    assert [r.source for r in failed] == ["gamma.txt"] and "kept" in failed[0].reason
    assert gamma <= {c.id for c in ix.store.scan()}


def test_searches_during_a_rebuild_in_the_same_process_use_the_live_index(ix: Indexer) -> None:
    from rag.compose import Composer
    from rag.documents import DocumentTexts

    ix.sync()
    a = Assistant(ix.settings, ix, Composer(ix.settings, ix.embedder, DocumentTexts(ix.settings)))
    assert a.searcher().search("When did Freedom Edge first take place?")
    seen: list[int] = []

    def during(done: int, total: int, name: str) -> None:
        if done == 1:  # the staging collection exists and is still partial
            seen.append(len(a.searcher().search("When did Freedom Edge first take place?")))

    a.index(rebuild=True, progress=during)
    assert seen and seen[0] > 0
    assert a.searcher().search("When did Freedom Edge first take place?")


def test_finishing_a_swap_twice_is_harmless(ix: Indexer) -> None:
    ix.sync()
    before = sorted(c.id for c in ix.store.scan())
    staging = ix.store.begin_rebuild()
    ix.store, live = staging, ix.store
    ix.sync()
    ix.store = live
    staging.collection().modify(metadata={**(staging.collection().metadata or {}), "complete": True})
    other = Store(ix.settings, ix.embedder.name, ix.embedder.dimension)  # a second party
    live.finish_rebuild()
    other.finish_rebuild()
    live.refresh()
    assert sorted(c.id for c in live.scan()) == before


def test_vectors_of_unknown_ids_is_empty(ix: Indexer) -> None:
    ix.sync()
    ids, vecs = ix.store.vectors(["no-such-id"])
    assert ids == [] and vecs.shape == (0, ix.embedder.dimension)
