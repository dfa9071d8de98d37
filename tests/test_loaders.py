"""Loaders against real files of every format, built in tmp_path, and against hostile ones."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import docx
import pytest
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from rag.errors import LoaderError
from rag.loaders import SUPPORTED_EXTENSIONS, load_file

BUNDLED = Path(__file__).resolve().parents[1] / "corpus"


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir(exist_ok=True)
    return folder


def _pdf(pages: list[str], title: str | None = None) -> bytes:
    """A real text PDF; an empty string makes a page with a drawing and no text."""
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4)
    if title:
        pdf.setTitle(title)
    for text in pages:
        if text:
            for i, line in enumerate(text.split("\n")):
                pdf.drawString(72, 760 - 16 * i, line)
        else:
            pdf.rect(100, 100, 200, 200, fill=1)
        pdf.showPage()
    pdf.save()
    return buf.getvalue()


def _encrypted_pdf(user_password: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(_pdf(["Confidential figures"]))))
    writer.encrypt(user_password, owner_password="owner")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _load_error(path: Path, corpus: Path, **kwargs: int) -> str:
    with pytest.raises(LoaderError) as info:
        load_file(path, corpus, **kwargs)
    message = str(info.value)
    assert path.name in message
    return message


# --- every format loads -------------------------------------------------------------------


def test_supported_extensions() -> None:
    assert SUPPORTED_EXTENSIONS == {".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx"}


def test_bundled_corpus_front_matter_title() -> None:
    path = next(BUNDLED.glob("*.txt"))
    doc = load_file(path, BUNDLED)
    assert doc.title == "Japan, South Korea and United States: Let’s hope for a robust, lasting pact"
    assert doc.source == path.name
    assert len(doc.sections) == 1 and doc.sections[0].page is None
    # The title leaves the text; the other fields stay, citable, after the body.
    assert doc.sections[0].text.startswith("Published daily by the Lowy Institute")
    assert doc.sections[0].text.endswith("\n\npublisher: Lowy Institute (The Interpreter)\n")
    assert "title:" not in doc.sections[0].text
    assert doc.file_hash == hashlib.sha256(path.read_bytes()).hexdigest()


def test_txt_title_is_first_line_and_text_verbatim(corpus: Path) -> None:
    raw = b"\n\n  Quarterly report  \r\nLine two\rLine three\r\n"
    path = corpus / "sub" / "notes.TXT"
    path.parent.mkdir()
    path.write_bytes(raw)
    doc = load_file(path, corpus)
    assert doc.source == "sub/notes.TXT"
    assert doc.title == "Quarterly report"
    assert doc.sections[0].text == "\n\n  Quarterly report  \nLine two\nLine three\n"
    assert doc.file_hash == hashlib.sha256(raw).hexdigest()


def test_txt_without_text_lines_falls_back_to_stem_and_outside_corpus_uses_name(
    tmp_path: Path, corpus: Path
) -> None:
    path = tmp_path / "elsewhere.txt"
    path.write_text("x" * 200)
    doc = load_file(path, corpus)
    assert doc.source == "elsewhere.txt"
    assert doc.title == "x" * 120


def test_front_matter_stripped_and_quoted_title(corpus: Path) -> None:
    path = corpus / "a.md"
    path.write_text("---\ntitle: 'Budget 2024'\ntags:\n  - money\n---\n\n# Heading\n\nBody.\n")
    doc = load_file(path, corpus)
    assert doc.title == "Budget 2024"
    assert doc.sections[0].text == "# Heading\n\nBody.\n"  # no field with a plain value to keep


def test_front_matter_fields_other_than_the_title_stay_in_the_text(corpus: Path) -> None:
    path = corpus / "b.md"
    path.write_text('---\ntitle: "Pact"\nauthor: Jane Roe\ndate: 2024-08-18\n---\nBody text.\n')
    doc = load_file(path, corpus)
    assert doc.title == "Pact"
    assert doc.sections[0].text == "Body text.\n\nauthor: Jane Roe\ndate: 2024-08-18\n"


def test_leading_horizontal_rule_is_not_front_matter(corpus: Path) -> None:
    path = corpus / "rule.md"
    path.write_text("---\nJust prose here, not metadata.\n---\n# Real title\n")
    doc = load_file(path, corpus)
    assert doc.title == "Real title"
    assert doc.sections[0].text.startswith("---\nJust prose")


def test_markdown_title_is_first_heading_outside_code(corpus: Path) -> None:
    path = corpus / "guide.markdown"
    path.write_text("Intro line\n\n```sh\n# not a title\n```\n\n## Sub\n# Install Guide #\n")
    doc = load_file(path, corpus)
    assert doc.title == "Install Guide"
    assert "# not a title" in doc.sections[0].text


def test_markdown_without_heading_uses_stem(corpus: Path) -> None:
    path = corpus / "plain-notes.md"
    path.write_text("no heading at all\n")
    assert load_file(path, corpus).title == "plain-notes"


def test_utf8_bom_is_stripped(corpus: Path) -> None:
    path = corpus / "bom.txt"
    path.write_bytes("\ufeffHello wörld".encode())
    assert load_file(path, corpus).sections[0].text == "Hello wörld"


def test_cp1252_keeps_symbols(corpus: Path) -> None:
    path = corpus / "legacy.txt"
    path.write_bytes("Marks: © ® ™ – “quoted”".encode("cp1252"))
    assert load_file(path, corpus).sections[0].text == "Marks: © ® ™ – “quoted”"


def test_latin1_fallback_when_cp1252_fails(corpus: Path) -> None:
    path = corpus / "odd.txt"
    path.write_bytes(b"caf\xe9 \x81 end")  # 0x81 is undefined in cp1252
    assert load_file(path, corpus).sections[0].text == "café \x81 end"


def test_enormous_single_line(corpus: Path) -> None:
    path = corpus / "huge.txt"
    path.write_bytes(b"word " * (1024 * 1024))  # 5 MB, no newline
    doc = load_file(path, corpus)
    assert len(doc.sections[0].text) == 5 * 1024 * 1024
    assert doc.title == ("word " * 24).strip()


def test_html_visible_text_blocks_and_title(corpus: Path) -> None:
    path = corpus / "page.HTM"
    path.write_text(
        "<html><head><title> The  Page </title><style>body{color:red}</style></head><body>"
        "<h1>Heading</h1><p>First   <b>bold</b>\n  para.</p><div><div>Nested</div></div>"
        "<ul><li>one</li><li>two</li></ul><table><tr><td>a</td><td>b</td></tr></table>"
        "<p>line<br>break<br><br>gap</p><pre>  keep\n    indent</pre><!-- a comment --></body></html>"
    )
    doc = load_file(path, corpus)
    assert doc.title == "The Page"
    assert doc.sections[0].text == (
        "Heading\n\nFirst bold para.\n\nNested\n\none\ntwo\n\na b\n\nline\nbreak\n\ngap\n\n  keep\n    indent"
    )


def test_html_title_falls_back_to_h1(corpus: Path) -> None:
    path = corpus / "noh.html"
    path.write_text("<body><h1>Main <em>Topic</em></h1><p>text</p></body>")
    assert load_file(path, corpus).title == "Main Topic"


def test_html_drops_scripts_styles_hidden_and_javascript_links(corpus: Path) -> None:
    path = corpus / "evil.html"
    path.write_text(
        "<html><head><script>var a=1</script></head><body><p>Safe text</p>"
        "<script>alert(1)</script><style>.x{display:none}</style>"
        "<div hidden>secret hidden</div><div style='display: none'>also secret</div>"
        "<noscript>enable js</noscript><template>tmpl</template><svg><text>svgtext</text></svg>"
        "<a href='javascript:alert(2)'>Click</a></body></html>"
    )
    text = load_file(path, corpus).sections[0].text
    assert text == "Safe text\n\nClick"
    for bad in ("alert", "display", "secret", "javascript:", "enable js", "tmpl", "svgtext"):
        assert bad not in text


def test_pdf_pages_and_metadata_title(corpus: Path) -> None:
    path = corpus / "report.PDF"
    path.write_bytes(_pdf(["Alpha page one\nsecond line", "", "Gamma page three"], "Annual"))
    doc = load_file(path, corpus)
    assert doc.title == "Annual"
    assert [s.page for s in doc.sections] == [1, 3]
    assert doc.sections[0].text == "Alpha page one\nsecond line\n"
    assert doc.sections[1].text == "Gamma page three\n"


def test_pdf_title_falls_back_to_first_line(corpus: Path) -> None:
    path = corpus / "untitled.pdf"
    path.write_bytes(_pdf(["Findings of the Survey\nbody"]))  # reportlab's title: "untitled"
    assert load_file(path, corpus).title == "Findings of the Survey"


def test_pdf_encrypted_with_empty_password_opens(corpus: Path) -> None:
    path = corpus / "restricted.pdf"
    path.write_bytes(_encrypted_pdf(""))
    assert load_file(path, corpus).sections[0].text == "Confidential figures\n"


def test_docx_paragraphs_tables_in_order_and_core_title(corpus: Path) -> None:
    document = docx.Document()
    document.core_properties.title = "Policy Memo"
    document.add_heading("Introduction", level=1)
    document.add_paragraph("First paragraph.")
    document.add_paragraph("")
    table = document.add_table(rows=2, cols=2)
    for r, row in enumerate(table.rows):
        for c, cell in enumerate(row.cells):
            cell.text = f"r{r}c{c}"
    document.add_paragraph("After the table.")
    path = corpus / "memo.docx"
    document.save(str(path))
    doc = load_file(path, corpus)
    assert doc.title == "Policy Memo"
    assert doc.sections[0].page is None
    assert doc.sections[0].text == (
        "Introduction\n\nFirst paragraph.\n\nr0c0 | r0c1\n\nr1c0 | r1c1\n\nAfter the table."
    )


def test_docx_title_falls_back_to_first_paragraph(corpus: Path) -> None:
    document = docx.Document()
    document.add_paragraph("")
    document.add_paragraph("Opening words")
    path = corpus / "untitled.docx"
    document.save(str(path))
    assert load_file(path, corpus).title == "Opening words"


# --- every bad input raises LoaderError naming the file and the problem ------------------


def test_unsupported_extension_lists_supported(corpus: Path) -> None:
    path = corpus / "sheet.xlsx"
    path.write_bytes(b"data")
    message = _load_error(path, corpus)
    assert "unsupported" in message and ".docx" in message and ".markdown" in message


def test_file_deleted_before_loading(corpus: Path) -> None:
    path = corpus / "gone.txt"
    path.write_text("here for a moment")
    path.unlink()
    assert "vanished" in _load_error(path, corpus)


def test_zero_byte_file(corpus: Path) -> None:
    path = corpus / "empty.md"
    path.touch()
    assert "empty (0 bytes)" in _load_error(path, corpus)


def test_whitespace_only_text(corpus: Path) -> None:
    path = corpus / "blank.txt"
    path.write_text("---\ntitle: x\n---\n \n\n")
    assert "no text" in _load_error(path, corpus)


def test_file_over_max_bytes(corpus: Path) -> None:
    path = corpus / "big.txt"
    path.write_bytes(b"a" * 2001)
    assert "too large" in _load_error(path, corpus, max_bytes=2000)
    assert load_file(path, corpus, max_bytes=2001).sections[0].text == "a" * 2001


def test_binary_txt_with_nul_bytes(corpus: Path) -> None:
    path = corpus / "image.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    assert "binary" in _load_error(path, corpus)


def test_binary_md_with_control_chars(corpus: Path) -> None:
    path = corpus / "blob.md"
    path.write_bytes(bytes([1, 2, 3, 65, 66, 5, 6, 7, 67, 14, 15, 16]) * 100)
    assert "binary" in _load_error(path, corpus)


def test_pdf_encrypted(corpus: Path) -> None:
    path = corpus / "locked.pdf"
    path.write_bytes(_encrypted_pdf("secret"))
    assert "encrypted — save an unencrypted copy" in _load_error(path, corpus)


def test_pdf_truncated(corpus: Path) -> None:
    data = _pdf(["Some text", "More text"])
    path = corpus / "cut.pdf"
    path.write_bytes(data[: len(data) // 2])
    assert "corrupt or truncated" in _load_error(path, corpus)


def test_pdf_not_a_pdf(corpus: Path) -> None:
    path = corpus / "fake.pdf"
    path.write_text("just some words pretending")
    assert "not a PDF" in _load_error(path, corpus)


def test_pdf_without_text_is_scanned(corpus: Path) -> None:
    path = corpus / "scan.pdf"
    path.write_bytes(_pdf(["", ""]))
    message = _load_error(path, corpus)
    assert "no extractable text" in message and "OCR" in message


def test_docx_that_is_plain_text(corpus: Path) -> None:
    path = corpus / "notzip.docx"
    path.write_text("I am plain text with a .docx name")
    assert "not a zip" in _load_error(path, corpus)


def test_docx_zip_without_document(corpus: Path) -> None:
    path = corpus / "other.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    assert "not a valid .docx" in _load_error(path, corpus)


def test_docx_zip_bomb_total_size(corpus: Path) -> None:
    path = corpus / "bomb.docx"
    chunk = bytes(2**20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            for _ in range(300):
                member.write(chunk)
    assert path.stat().st_size < 5 * 2**20
    message = _load_error(path, corpus)
    assert "zip bomb" in message and "300 MB uncompressed" in message


def test_docx_zip_bomb_ratio(corpus: Path) -> None:
    path = corpus / "dense.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", bytes(20 * 2**20))
    message = _load_error(path, corpus)
    assert "zip bomb" in message and "word/document.xml" in message and "compresses" in message


def test_docx_too_many_members(corpus: Path) -> None:
    path = corpus / "swarm.docx"
    with zipfile.ZipFile(path, "w") as archive:
        for i in range(10_001):
            archive.writestr(f"m{i}", b"")
    assert "10001 zip members" in _load_error(path, corpus)


def test_docx_without_text(corpus: Path) -> None:
    path = corpus / "hollow.docx"
    docx.Document().save(str(path))
    assert "no text" in _load_error(path, corpus)


def test_html_without_text(corpus: Path) -> None:
    path = corpus / "app.html"
    path.write_text("<html><body><script>render()</script><div hidden>x</div></body></html>")
    assert "no visible text" in _load_error(path, corpus)


def test_unexpected_parser_exception_is_wrapped(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*_: object, **__: object) -> None:
        raise RuntimeError("parser exploded")

    import bs4

    monkeypatch.setattr(bs4, "BeautifulSoup", explode)  # loaders imports it when it reads HTML
    path = corpus / "ok.html"
    path.write_text("<p>fine</p>")
    message = _load_error(path, corpus)
    assert "RuntimeError: parser exploded" in message
