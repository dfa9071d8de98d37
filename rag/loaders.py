"""Files → text + metadata: one function per format, all behind :func:`load_file`.

Every failure becomes a :class:`LoaderError` that names the file, the problem and
the fix, so one bad document never stops a sync. The file is read once; the hash
and the text come from the same bytes, so they can never disagree. The parsers' libraries (bs4, pypdf,
python-docx) are imported by the format that needs them: answering a question never pays
for them.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import zipfile
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.errors import LoaderError
from rag.schema import LoadedDocument, Section

if TYPE_CHECKING:
    from bs4.element import PageElement, Tag

SUPPORTED_EXTENSIONS: frozenset[str] = frozenset(
    {".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx"}
)
TITLE_MAX_CHARS = 120

# Zip-bomb limits, checked on the zip directory before python-docx inflates anything.
DOCX_MAX_UNCOMPRESSED = 200 * 2**20
DOCX_MAX_RATIO = 200
DOCX_MAX_MEMBERS = 10_000
# Tiny members legitimately reach huge ratios (1 KB of spaces → 10 bytes); a bomb
# needs volume, so the ratio rule only applies above this size.
DOCX_RATIO_MIN_SIZE = 2**20

# Control bytes that never occur in UTF-8 or cp1252 text (tab, LF, FF, CR are allowed).
_CONTROL_BYTES = bytes([*range(9), 11, *range(14, 32), 127])
_CONTROL_SHARE_LIMIT = 0.02

_OS_PROBLEMS: tuple[tuple[type[OSError], str], ...] = (
    (FileNotFoundError, "vanished before it could be read (deleted or moved) — sync again"),
    (IsADirectoryError, "is a directory, not a file — rename or remove it"),
    (PermissionError, "permission denied — make the file readable"),
)
_HTML_DROP = {"script", "style", "noscript", "template", "head", "svg", "iframe", "object", "embed"}
_HTML_PARAGRAPH = (
    "p h1 h2 h3 h4 h5 h6 section article main header footer aside nav blockquote pre table ul ol "
    "dl figure form hr address details fieldset"
)
_HTML_LINE = "div li tr dt dd caption figcaption summary option legend"


@lru_cache(maxsize=1)
def _html_separators() -> dict[str, str]:
    """What goes around each element's text: a blank line, a line break, or a space between cells."""
    from bs4.element import NavigableString

    return {
        **dict.fromkeys(_HTML_PARAGRAPH.split(), "\n\n"),
        **dict.fromkeys(_HTML_LINE.split(), "\n"),
        **dict.fromkeys(("td", "th"), NavigableString(" ")),  # text, so it collapses like text
    }


_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_FRONT_MATTER_LINE = re.compile(r"[A-Za-z0-9_][\w .-]*:(\s.*)?|\s+\S.*|-\s.*|\s*")
_MD_HEADING = re.compile(r"#[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*")


def load_file(path: Path, corpus_dir: Path, max_bytes: int = 100 * 2**20) -> LoadedDocument:
    """Read one file and extract its title and text sections.

    ``source`` is the path relative to ``corpus_dir`` (posix), or the bare file name
    when the file lies outside it. Raises :class:`LoaderError` for anything unreadable.
    """
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_EXTENSIONS:
        raise LoaderError(
            f"{path}: unsupported file type {suffix or '(no extension)'!r} — "
            f"convert it to one of {', '.join(sorted(SUPPORTED_EXTENSIONS))} or remove it"
        )
    data = _read_bytes(path, max_bytes)
    try:
        title, sections = _PARSERS[suffix](data, path)
    except LoaderError:
        raise
    except Exception as exc:  # a parser bug or hostile input must not escape as a raw error
        raise LoaderError(
            f"{path}: could not be read ({type(exc).__name__}: {exc}) — check that it opens "
            "in its usual application and re-save it; report a bug if it does"
        ) from exc
    return LoadedDocument(
        source=_source_name(path, corpus_dir),
        title=title.strip() or path.stem,
        sections=tuple(sections),
        file_hash=hashlib.sha256(data).hexdigest(),
    )


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    """Read the file once, never more than ``max_bytes + 1`` bytes."""
    limit = f"the {max_bytes / 2**20:.0f} MB limit"
    try:
        with path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > max_bytes:
                raise LoaderError(
                    f"{path}: too large ({size / 2**20:.1f} MB, over {limit}) — "
                    "split it into smaller files or raise the size limit"
                )
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        problem = next((msg for kind, msg in _OS_PROBLEMS if isinstance(exc, kind)), None)
        problem = problem or f"could not be read ({exc}) — check the disk and retry"
        raise LoaderError(f"{path}: {problem}") from exc
    if len(data) > max_bytes:  # grew after the size check
        raise LoaderError(f"{path}: too large (over {limit}) — split it into smaller files")
    if not data:
        raise LoaderError(f"{path}: is empty (0 bytes) — add content or remove the file")
    return data


def _source_name(path: Path, corpus_dir: Path) -> str:
    """The corpus-relative posix path, or the file name if ``path`` is outside the corpus."""
    for p, root in ((path.absolute(), corpus_dir.absolute()), (path.resolve(), corpus_dir.resolve())):
        try:
            return Path(os.path.normpath(p)).relative_to(os.path.normpath(root)).as_posix()
        except ValueError:
            continue
    return path.name


def _clean(text: str) -> str:
    """Normalise newlines to ``\\n`` and drop NUL characters; nothing else changes."""
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


def _first_line(text: str) -> str:
    """The first non-empty line, cut to TITLE_MAX_CHARS."""
    for line in text.split("\n", 50):  # bounded split: a 5 MB single line stays cheap
        if line.strip():
            return line.strip()[:TITLE_MAX_CHARS].strip()
    return ""


def _decode_text(data: bytes, path: Path) -> str:
    """Decode a plain-text file: UTF-8 (BOM stripped), then cp1252, then latin-1."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with BOM (Windows "Unicode")
        return _clean(data.decode("utf-16"))
    nuls = data.count(0, 0, 8192)
    controls = len(data) - len(data.translate(None, _CONTROL_BYTES))
    if nuls or controls > _CONTROL_SHARE_LIMIT * len(data):
        raise LoaderError(
            f"{path}: looks binary, not text (NUL or control bytes) — "
            "check the extension is right or export the content as plain text"
        )
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return _clean(data.decode(encoding))
        except UnicodeDecodeError:
            continue
    return _clean(data.decode("latin-1"))  # cannot fail: every byte maps


def _split_front_matter(text: str) -> tuple[dict[str, str], str]:
    """Split a leading ``---`` / ``key: value`` / ``---`` block off the text. The fields other
    than the title (publisher, author, date …) stay in the text, as written, after the body:
    they answer questions too ("Who publishes The Interpreter?") and can be cited; placed
    last, they leave the body's offsets (and so its chunks) as they were."""
    if not text.startswith("---\n"):
        return {}, text
    lines = text.split("\n", 200)
    for end in range(1, len(lines)):
        if lines[end].rstrip() == "---":
            break
        if not _FRONT_MATTER_LINE.fullmatch(lines[end]):
            return {}, text  # not front matter: e.g. a horizontal rule, then prose
    else:
        return {}, text
    meta: dict[str, str] = {}
    kept: list[str] = []
    for line in lines[1:end]:
        key, sep, value = line.partition(":")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]  # a quoted YAML scalar
        if sep and not line[:1].isspace():
            meta[key.strip().lower()] = value
            if value and key.strip().lower() != "title":
                kept.append(line.rstrip())
    body = "\n".join(lines[end + 1 :]).lstrip("\n")
    return meta, body.rstrip("\n") + "\n\n" + "\n".join(kept) + "\n" if kept else body


def _load_text(data: bytes, path: Path) -> tuple[str, list[Section]]:
    """Plain text or Markdown, kept as written; the title comes from front matter if any,
    else the first ``# `` heading (Markdown) or the first non-empty line (plain text)."""
    meta, text = _split_front_matter(_decode_text(data, path))
    if not text.strip():
        raise LoaderError(f"{path}: contains no text — add content or remove the file")
    markdown = path.suffix.lower() != ".txt"
    title = meta.get("title") or (_markdown_title(text) if markdown else _first_line(text))
    return title, [Section(text=text)]


def _markdown_title(text: str) -> str:
    in_fence = False
    for line in text.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence  # a "# comment" in a shell block is not a heading
        elif not in_fence and (match := _MD_HEADING.fullmatch(line)):
            return match.group(1).strip()[:TITLE_MAX_CHARS]
    return ""


def _load_html(data: bytes, path: Path) -> tuple[str, list[Section]]:
    """Visible HTML text: blocks on their own lines, at most one blank line between."""
    from bs4 import BeautifulSoup
    from bs4.element import NavigableString, PreformattedString, Tag

    separators = _html_separators()
    soup = BeautifulSoup(data, "lxml")  # bytes: bs4 honours <meta charset>
    title = " ".join(soup.title.get_text().split()) if soup.title else ""
    if not title and (h1 := soup.find("h1")):
        title = " ".join(h1.get_text().split())
    out: list[str] = []
    stack: list[PageElement | str] = [soup]
    pre_depth = 0
    while stack:
        node = stack.pop()
        if type(node) is str:  # a marker we pushed: a separator or a <pre> exit
            if node == "/pre":
                pre_depth -= 1
            elif node and out:  # a block edge: merge with newlines already there
                out[-1] = out[-1].rstrip(" ")
                tail = "".join(out[-2:])
                if (missing := len(node) - len(tail) + len(tail.rstrip("\n"))) > 0:
                    out.append("\n" * missing)
        elif isinstance(node, PreformattedString):
            continue  # comments, doctypes, CDATA, processing instructions
        elif isinstance(node, NavigableString) and pre_depth:
            out.extend([str(node)] if node else [])  # <pre> keeps its spaces and line breaks
        elif isinstance(node, NavigableString):  # collapse spaces, none at a line start
            text = re.sub(r"\s+", " ", str(node))
            if not out or out[-1].endswith((" ", "\n")):
                text = text.lstrip(" ")
            out.extend([text] if text else [])
        elif isinstance(node, Tag):
            if node.name in _HTML_DROP or _html_hidden(node):
                continue
            if node.name == "br":  # always a line break, so <br><br> leaves a blank line
                out[-1:] = [out[-1].rstrip(" ")] if out else []
                out.append("\n")
                continue
            sep = separators.get(node.name, "")
            if node.name == "pre":
                pre_depth += 1
                stack.append("/pre")
            stack.extend([sep, *reversed(node.contents), sep])
    text = re.sub(r"\n{3,}", "\n\n", "".join(out)).strip()
    if not text:
        raise LoaderError(f"{path}: HTML has no visible text — check it is not a script-only page")
    return title, [Section(text=_clean(text))]


def _html_hidden(tag: Tag) -> bool:
    style = tag.get("style")
    return tag.has_attr("hidden") or (isinstance(style, str) and bool(_HIDDEN_STYLE.search(style)))


def _load_pdf(data: bytes, path: Path) -> tuple[str, list[Section]]:
    """One Section per page with text; title from metadata, else the first line."""
    if b"%PDF-" not in data[:1024]:
        raise LoaderError(f"{path}: is not a PDF (no %PDF header) — check the file type")
    from pypdf import PdfReader
    from pypdf.errors import DependencyError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                opened = bool(reader.decrypt(""))  # many PDFs only restrict printing/copying
            except DependencyError:
                opened = False
            if not opened:
                raise LoaderError(
                    f"{path}: PDF is encrypted — save an unencrypted copy and index that instead"
                )
        sections = []
        for number, page in enumerate(reader.pages, start=1):
            text = _clean(page.extract_text() or "")
            if text.strip():
                sections.append(Section(text=text, page=number))
        meta_title = reader.metadata.title if reader.metadata else None
    except LoaderError:
        raise
    except Exception as exc:
        raise LoaderError(
            f"{path}: PDF is corrupt or truncated ({type(exc).__name__}: {exc}) — "
            "re-download it or re-save it from a PDF viewer"
        ) from exc
    if not reader.pages:
        raise LoaderError(f"{path}: PDF has no pages — it is corrupt or truncated; re-download it")
    if not sections:
        raise LoaderError(
            f"{path}: PDF has no extractable text on any of its {len(reader.pages)} pages "
            "(scanned?) — run OCR first (e.g. ocrmypdf) and index the result"
        )
    title = meta_title.strip() if isinstance(meta_title, str) else ""
    if title.lower() in {"untitled", "untitled document"}:  # generator defaults, not titles
        title = ""
    return title or _first_line(sections[0].text), sections


def _load_docx(data: bytes, path: Path) -> tuple[str, list[Section]]:
    """Paragraphs and table rows in document order, separated by blank lines."""
    _check_docx_zip(data, path)
    from docx import Document

    try:
        doc = Document(io.BytesIO(data))
    except Exception as exc:
        raise LoaderError(
            f"{path}: not a valid .docx ({type(exc).__name__}: {exc}) — "
            "re-save it from Word or LibreOffice as .docx"
        ) from exc
    blocks = [_clean(b) for b in _docx_blocks(doc.element.body, doc)]
    text = "\n\n".join(b for b in blocks if b.strip())
    if not text:
        raise LoaderError(f"{path}: .docx contains no text — add content or remove the file")
    return (doc.core_properties.title or "").strip() or _first_line(text), [Section(text=text)]


def _check_docx_zip(data: bytes, path: Path) -> None:
    """Reject non-zips and zip bombs using only the zip directory (nothing is inflated)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise LoaderError(
            f"{path}: not a .docx (not a zip archive) — if it is an old .doc or another "
            "format, open it in Word or LibreOffice and save it as .docx"
        ) from exc
    bomb = f"{path}: rejected as a possible zip bomb"
    fix = "— re-save it from Word or LibreOffice; if it is genuine, split it"
    if len(infos) > DOCX_MAX_MEMBERS:
        raise LoaderError(f"{bomb} ({len(infos)} zip members, limit {DOCX_MAX_MEMBERS}) {fix}")
    total = sum(info.file_size for info in infos)
    if total > DOCX_MAX_UNCOMPRESSED:
        raise LoaderError(
            f"{bomb} ({total / 2**20:.0f} MB uncompressed, limit "
            f"{DOCX_MAX_UNCOMPRESSED / 2**20:.0f} MB) {fix}"
        )
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > DOCX_RATIO_MIN_SIZE and ratio > DOCX_MAX_RATIO:
            raise LoaderError(
                f"{bomb} (member {info.filename!r} compresses {ratio:.0f}:1, limit {DOCX_MAX_RATIO}:1) {fix}"
            )


def _docx_blocks(element: Any, doc: Any) -> list[str]:
    """Walk body XML in order: paragraphs, table rows (cells joined by " | "), content controls."""
    from docx.oxml.ns import qn
    from docx.text.paragraph import Paragraph

    blocks: list[str] = []
    for child in element:  # lxml elements of the document body
        if child.tag == qn("w:p"):
            blocks.append(Paragraph(child, doc).text)
        elif child.tag == qn("w:tbl"):
            for row in child.iterchildren(qn("w:tr")):
                cells = [
                    "\n".join(b for b in _docx_blocks(tc, doc) if b.strip())
                    for tc in row.iterchildren(qn("w:tc"))
                ]
                blocks.append(" | ".join(c for c in cells if c))
        else:  # <w:sdt>, <w:customXml> and other wrappers can hold paragraphs
            blocks.extend(_docx_blocks(child, doc))
    return blocks


_PARSERS: dict[str, Callable[[bytes, Path], tuple[str, list[Section]]]] = {
    **dict.fromkeys((".txt", ".md", ".markdown"), _load_text),
    **dict.fromkeys((".html", ".htm"), _load_html),
    **{".pdf": _load_pdf, ".docx": _load_docx},
}
