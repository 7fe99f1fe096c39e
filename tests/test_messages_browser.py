"""The paste box and ``?message=`` in a real browser: the wizard's JavaScript reads every
signature example and every corpus message as ``troubleshooter.messages`` does, opens the
same step, shows the lines it recognised as text only, and sends nothing anywhere."""

from __future__ import annotations

import re
import runpy
import tomllib
from pathlib import Path
from urllib.parse import quote

import pytest

from troubleshooter import messages
from troubleshooter.loader import load_builtin
from troubleshooter.model import Question
from troubleshooter.signatures import SIGNATURES_PATH, load_signatures

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
PAGE = "troubleshooter.html"
OUTSIDE = re.compile(r"^(?!(?:https?|wss?)://(?:127\.0\.0\.1|localhost)[:/]|data:|blob:|about:)")
GUIDE = "howto/jupyter-kernel-terminated.html"
CONF = runpy.run_path(str(ROOT / "conf.py"))
PLATFORM = CONF["troubleshooter_platform"]
TREE = load_builtin("kernel-terminated", PLATFORM, CONF["troubleshooter_notes"])  # as the site
CORPUS = tomllib.loads((ROOT / "tests" / "messages" / "corpus.toml").read_text("utf-8"))["message"]
EXAMPLES = [
    example.text for entry in load_signatures(SIGNATURES_PATH).entries for example in entry.examples
]

SHOWN = """() => ({
    lines: [...document.querySelectorAll('.ts-read-lines li')].map(li => li.textContent),
    note: document.querySelector('.ts-read')?.textContent ?? '',
    heading: document.querySelector('.ts-step > :first-child').textContent,
    search: location.search,
})"""


def expected(text: str, limit: int = messages.MAX_TEXT) -> tuple[list[str], str, str]:
    """(the recognised lines as the wizard words them, the heading, the address's query)."""
    reading = messages.read(text, limit=limit)
    lines = [f"Line {r.line}: “{r.text}” {r.signature.means}" for r in reading.lines]
    path = messages.wizard_path(TREE, reading)
    node = TREE.follow(path)
    heading = node.text if isinstance(node, Question) else node.title
    query = f"?step={node.id}&path={quote('.'.join(path), safe='.')}" if path else ""
    return lines, heading.replace("`", ""), query


@pytest.fixture(scope="module")
def tab(browser, server):
    context = browser.new_context()
    page = context.new_page()
    outside: list[str] = []

    def block(route):
        outside.append(route.request.url)
        route.abort()

    page.route(OUTSIDE, block)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(server + PAGE, wait_until="domcontentloaded")
    page.wait_for_selector(".ts-app")
    yield page
    assert outside == [] and errors == []
    context.close()


def paste(tab, text: str) -> dict:
    if tab.evaluate("location.search"):
        tab.get_by_role("button", name="Start over").click()
    box = tab.get_by_label("Paste the message and the lines under it")
    box.fill(text)
    tab.get_by_role("button", name="Read the message").click()
    return tab.evaluate(SHOWN)


def test_every_example_is_read_as_python_reads_it(tab):
    for text in EXAMPLES:
        shown = paste(tab, text)
        lines, heading, query = expected(text)
        assert (shown["lines"], shown["heading"], shown["search"]) == (lines, heading, query), text


def test_every_corpus_message_is_read_as_python_reads_it_pasted_and_linked(tab, server):
    for message in CORPUS:
        text = message["text"]
        shown = paste(tab, text)
        lines, heading, query = expected(text)
        assert (shown["lines"], shown["heading"], shown["search"]) == (lines, heading, query), (
            message["id"]
        )
    for message in CORPUS:
        text = message["text"]
        tab.goto(f"{server}{PAGE}?message={quote(text)}", wait_until="domcontentloaded")
        tab.wait_for_selector(".ts-app")
        shown = tab.evaluate(SHOWN)
        lines, heading, query = expected(text, messages.MESSAGE_LIMIT)
        assert (shown["lines"], shown["heading"]) == (lines, heading), message["id"]
        # the address now names the step (replaceState), so the link can be shared
        if query:
            assert shown["search"] == query, message["id"]
        else:
            assert shown["search"].startswith("?message="), message["id"]


def test_a_long_paste_with_odd_characters_is_read_as_python_reads_it(tab):
    # every corpus message, then the same with characters whose lower case differs in length
    # or is ASCII (U+0130, the Kelvin sign), astral ones and Windows line breaks, over and
    # over: entries stop at their line limit, line numbers run into the hundreds
    block = "\n".join(message["text"] for message in CORPUS)
    odd = block.replace("Kernel", "\u0130 Kernel").replace("k", "\u212a").replace("\n", "\r\n")
    text = ((block + "\n\U0001f480 " + odd + "\n") * 8)[: messages.MAX_TEXT]
    shown = paste(tab, text)
    lines, heading, query = expected(text)
    assert len(lines) > 100
    assert (shown["lines"], shown["heading"], shown["search"]) == (lines, heading, query)


def test_ctrl_enter_reads_and_the_focus_moves_to_the_step(tab):
    if tab.evaluate("location.search"):
        tab.get_by_role("button", name="Start over").click()
    box = tab.get_by_label("Paste the message and the lines under it")
    box.fill(
        "OMP: Error #15: Initializing libiomp5md.dll, but found libiomp5md.dll already initialized."
    )
    box.press("Control+Enter")
    assert tab.evaluate("document.activeElement.tagName") in ("H2", "H3", "H4")
    assert "step=abi-openmp" in tab.evaluate("location.search")
    assert "OpenMP" in tab.evaluate(SHOWN)["lines"][0]
    tab.go_back()
    assert tab.evaluate("location.search") == ""


def test_a_pasted_script_is_text_never_markup(tab):
    text = (
        '<img src=x onerror="window.__pwned=1">\nOMP: Error #15 <script>window.__pwned=1</script>'
    )
    shown = paste(tab, text)
    assert "<script>window.__pwned=1</script>" in shown["lines"][0]
    assert tab.evaluate("window.__pwned === undefined")
    assert tab.locator(".ts-wizard img, .ts-wizard .ts-read-lines script").count() == 0


def test_an_unknown_paste_stays_at_the_start_and_says_so(tab):
    shown = paste(tab, "hello, nothing to see")
    assert shown["search"] == ""
    assert "No line of the message matched" in shown["note"]
    assert shown["heading"] == TREE.nodes[TREE.start].text.replace("`", "")


def test_a_huge_paste_is_cut_not_refused(tab):
    shown = paste(tab, "OMP: Error #15\n" + "a" * 1_000_000)
    assert "step=abi-openmp" in shown["search"]


def test_the_light_guide_reads_a_paste_after_loading_the_tree(page, server):
    requests: list[str] = []
    page.on("request", lambda r: "/troubleshooter/data/" in r.url and requests.append(r.url))
    page.goto(server + GUIDE, wait_until="load")
    if not page.locator(".ts-wizard[data-src]").count():
        pytest.skip("the guide carries the whole tree")
    box = page.get_by_label("Paste the message and the lines under it")
    box.fill("RecursionError: maximum recursion depth exceeded")
    assert requests == []
    page.get_by_role("button", name="Read the message").click()
    page.wait_for_selector(".ts-app")
    assert len(requests) == 1
    assert "step=stack-overflow" in page.url
    assert "Line 1" in page.locator(".ts-read-lines li").first.inner_text()


def test_no_accessibility_violations_with_recognised_lines(tab):
    from axe_playwright_python.sync_playwright import Axe

    paste(tab, "Kernel last exited with code 1.\nOSError: [Errno 28] No space left on device")
    # the theme's "Back to top" pill (shown once the page has scrolled) is not the wizard's
    results = Axe().run(tab, context=".ts-wizard")
    assert results.violations_count == 0, results.generate_report()
