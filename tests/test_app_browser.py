"""End to end in a real browser (Debian chromium driven by Playwright): ask, see the streamed and
cited answer, open the source viewer, upload a document and get a cited answer from it, and make
sure nothing active from a hostile document reaches the page."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from appserver import HOSTILE, running_app, seed_corpus

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]

UPLOADED = (
    "Zorblax Treaty\n\nThe Zorblax Treaty was signed in Reykjavik in March 2031 by the three defence "
    "ministers. It created a joint lighthouse for missile warning data.\n"
)


def _ensure_chromium() -> None:
    if CHROMIUM.exists():
        return
    apt = shutil.which("apt-get")
    if apt:  # the issue asks the test set-up to install Debian chromium when it is missing
        subprocess.run([apt, "install", "-y", "-qq", "chromium"], check=False, capture_output=True)
    if not CHROMIUM.exists():
        pytest.fail("Debian chromium is missing: apt-get install chromium (or make test)")


@pytest.fixture(scope="module")
def app_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("browser-app")
    seed_corpus(root, {"quokka.md": HOSTILE})
    return root


@pytest.fixture(scope="module")
def app_url(app_root: Path, model_cache: Path) -> Iterator[str]:
    with running_app(app_root, model_cache) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    _ensure_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, app_url: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1300, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(app_url, wait_until="domcontentloaded")
    page.locator("#question textarea").wait_for()
    yield page
    context.close()


# Records every text the last bot message shows, to prove the answer arrived in pieces.
WATCH_STREAM = """() => {
  window.__seen = [];
  new MutationObserver(() => {
    const bots = document.querySelectorAll('#chat [data-testid="bot"]');
    if (bots.length) {
      const t = bots[bots.length - 1].innerText.trim();
      if (window.__seen[window.__seen.length - 1] !== t) window.__seen.push(t);
    }
  }).observe(document.getElementById('chat'), {subtree: true, childList: true, characterData: true});
}"""


def _ask(page, question: str) -> None:  # type: ignore[no-untyped-def]
    page.locator("#question textarea").fill(question)
    page.locator("#ask").click()


def _last_bot(page):  # type: ignore[no-untyped-def]
    return page.locator('#chat [data-testid="bot"]').last


def test_ask_view_source_upload_and_ask_again(page, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    status = page.locator("#index-status")
    status.get_by_text("documents").wait_for()
    assert "2 documents" in status.inner_text()

    # 1. A dev QA question: the answer streams in, carries a marker and lists its source.
    page.evaluate(WATCH_STREAM)
    _ask(page, "What is the name of the multi-domain trilateral exercise?")
    page.locator("#sources .source").filter(visible=True).first.wait_for()
    answer = _last_bot(page)
    assert "Freedom Edge" in answer.inner_text()
    marker = answer.locator('a[href="#source-1"]')
    assert marker.inner_text() == "[1]"
    seen = [t for t in page.evaluate("window.__seen") if t and t != "…"]
    final = answer.inner_text().strip()
    partial = [t for t in seen if t != final]
    # Each growing text the page showed was the start of the final one. (An extractive answer is
    # composed before its words stream out, so the browser may paint them all in one frame:
    # that text grows is checked at the HTTP level, in test_app_api.py.)
    assert all(final.startswith(t.rstrip(" .…")) for t in partial), seen
    source = page.locator("#source-1")
    assert "lowy-institute" in source.inner_text() and "score" in source.inner_text()
    passage = source.locator(".passage").inner_text()
    assert "Freedom Edge" in passage

    # 2. Clicking the marker opens the source viewer with exactly the cited span highlighted.
    marker.click()
    span = page.locator("#viewer mark#cited-span")
    span.wait_for()
    assert span.inner_text().strip() == passage.strip()
    viewer_text = page.locator("#viewer .viewer-text").inner_text()
    assert len(viewer_text) > len(passage) * 5 and "Shin Wonsik" in viewer_text  # the whole document
    page.screenshot(path=str(tmp_path / "answer-and-viewer.png"), full_page=True)

    # 3. Upload a new document in the Documents tab; the per-file report says it was added.
    page.get_by_role("tab", name="Documents").click()
    # The list is there and usable: no loading overlay left over from the page's load event
    # (it used to spin forever on a tab that was hidden when the list arrived).
    page.locator("#documents table").get_by_text("quokka.md").first.wait_for()
    page.wait_for_timeout(1500)
    assert page.locator("#documents .pending, #delete-pick .pending").count() == 0
    new_doc = tmp_path / "zorblax treaty.txt"
    new_doc.write_text(UPLOADED)
    page.locator("#upload input[type=file]").set_input_files([str(new_doc)])
    # the file list shows name and suffix in two spans
    page.locator("#upload").get_by_text("zorblax treaty").filter(visible=True).first.wait_for()
    page.locator("#upload-btn").click()
    report = page.locator("#report")
    report.get_by_text("zorblax treaty.txt").filter(visible=True).first.wait_for()
    report.get_by_text("added", exact=True).filter(visible=True).first.wait_for()
    page.locator("#documents").get_by_text("Zorblax Treaty", exact=True).filter(visible=True).first.wait_for()
    assert "3 documents" in status.inner_text()

    # 4. Ask about it: a cited answer from the new document.
    page.get_by_role("tab", name="Chat").click()
    _ask(page, "Where was the Zorblax Treaty signed?")
    page.locator("#sources").get_by_text("zorblax treaty.txt").filter(visible=True).first.wait_for()
    answer = _last_bot(page)
    assert "Reykjavik" in answer.inner_text()
    answer.locator('a[href^="#source-"]').first.click()
    page.locator("#viewer .viewer-head").get_by_text("zorblax treaty.txt").wait_for()
    assert "Reykjavik" in page.locator("#viewer mark#cited-span").inner_text()
    page.screenshot(path=str(tmp_path / "uploaded-answer.png"), full_page=True)
    assert (tmp_path / "uploaded-answer.png").stat().st_size > 10_000

    # 5. Delete it again; the same question is then not answered from the documents.
    page.get_by_role("tab", name="Documents").click()
    page.locator("#delete-pick input").click()
    page.get_by_role("option", name="zorblax treaty.txt").click()
    page.locator("#delete-btn").click()
    report.get_by_text("deleted", exact=True).wait_for()
    status.get_by_text("2 documents").wait_for()
    assert page.locator("#documents").get_by_text("Zorblax Treaty").count() == 0
    page.get_by_role("tab", name="Chat").click()
    _ask(page, "Where was the Zorblax Treaty signed?")
    page.locator("#chat").get_by_text("Not answered from the documents").last.wait_for()
    assert "Reykjavik" not in _last_bot(page).inner_text()


def test_hostile_document_is_shown_as_text(page, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _ask(page, "Who signed the Quokka Accord?")
    page.locator("#sources .source").filter(visible=True).first.wait_for()
    answer = _last_bot(page)
    assert "Quokka Accord" in answer.inner_text()
    answer.locator('a[href^="#source-"]').first.click()
    page.locator("#viewer mark#cited-span").wait_for()
    viewer = page.locator("#viewer .viewer-text").inner_text()
    # The markup is visible as text …
    assert "<script>window.__pwned = 'script'</script>" in viewer
    assert "[the Quokka Accord text](javascript:" in viewer
    assert "![quokka](http://127.0.0.1:9/x.png)" in viewer
    assert "<script>" in page.locator("#sources").inner_text()
    page.screenshot(path=str(tmp_path / "hostile.png"), full_page=True)
    # … and none of it is live anywhere on the page.
    assert page.evaluate("window.__pwned") is None
    active = page.evaluate(
        """() => ({
        scripts: [...document.querySelectorAll('script')].filter(
            s => s.textContent.includes('__pwned')).length,
        images: [...document.querySelectorAll('img')].filter(i => /127\\.0\\.0\\.1:9|evil|^x$/.test(
            i.getAttribute('src') || '')).length,
        jsLinks: [...document.querySelectorAll('a[href]')].filter(
            a => /^\\s*(javascript|data|vbscript):/i.test(a.getAttribute('href'))).length,
        docLinks: [...document.querySelectorAll('#chat a[href], #sources a[href], #viewer a[href]')].filter(
            a => !a.getAttribute('href').startsWith('#source-')).length,
        handlers: [...document.querySelectorAll('[onerror], [onclick], [onload]')].length,
    })"""
    )
    assert active == {"scripts": 0, "images": 0, "jsLinks": 0, "docLinks": 0, "handlers": 0}, active


def test_example_questions_and_clear(page) -> None:  # type: ignore[no-untyped-def]
    example = page.locator("#chat").get_by_text("Who is South Korea's defence minister?")
    example.click()  # the empty chat offers example questions; a click asks one
    page.locator("#sources .source").first.wait_for()
    assert "Shin Wonsik" in _last_bot(page).inner_text()
    # a follow-up: the standalone query that was searched is shown, small, above the answer
    _ask(page, "What did he say in his TV interview?")
    searched = page.locator("#chat sub").get_by_text("searched for:")
    searched.wait_for()
    assert "defence minister" in searched.inner_text()
    assert "formalise" in _last_bot(page).inner_text()
    page.locator("#clear").click()
    page.locator("#sources .sources-empty").wait_for()
    assert page.locator('#chat [data-testid="bot"]').count() == 0
    example.wait_for()  # back to the empty chat with its examples


def test_the_server_log_is_not_flooded_by_a_deprecation_warning(page, app_root: Path) -> None:  # type: ignore[no-untyped-def]
    """Gradio's routes use a status-code name Starlette deprecated: one warning per request."""
    _ask(page, "What is Freedom Edge?")
    page.locator("#sources .source").first.wait_for()
    assert "HTTP_422_UNPROCESSABLE_ENTITY" not in (app_root / "app.log").read_text(errors="replace")
