"""The demos in Chromium: nothing loads before the click, then a demo runs and prints its output.

Starting Python in the browser costs some ten seconds of CPU, so one demo is run; the tests
without a browser check every demo's expected output against the same Pyodide.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from troubleshooter.sphinxext import demos
from troubleshooter.sphinxext.lite.pyodide import NOT_AT_START

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
RUN = demos.read_demo(ROOT / "docs" / "demos" / "memory_growth.py")
START_TIMEOUT_MS = 90_000  # a slow, shared machine may take this long to start Python


@pytest.fixture
def requests(page) -> list[str]:
    """Every URL the tab asks for, from the page, its frames and their workers."""
    seen: list[str] = []
    page.context.on("request", lambda request: seen.append(request.url))
    return seen


def _is_lite(url: str) -> bool:
    return "/lite/" in urlsplit(url).path


def _outside(urls: list[str]) -> list[str]:
    return [url for url in urls if urlsplit(url).hostname not in {"127.0.0.1", None}]


def test_nothing_of_jupyterlite_loads_before_the_reader_points_or_clicks(
    page, server, requests, page_log
):
    page.goto(server + "demos.html", wait_until="networkidle")
    buttons = page.get_by_role("button", name="Run this demo")
    expect(buttons.first).to_be_visible()
    assert buttons.count() == page.locator("section.memory-demo").count() >= 3
    assert [url for url in requests if _is_lite(url)] == []
    assert page.locator("iframe").count() == 0
    assert page_log.console_errors == [] and page_log.page_errors == []


def test_pointing_at_a_button_starts_the_demo_out_of_sight(page, server, requests, page_log):
    page.goto(server + "demos.html", wait_until="networkidle")
    assert [url for url in requests if _is_lite(url)] == []
    section = page.locator(f"#demo-{RUN.name.replace('_', '-')}")
    section.get_by_role("button", name="Run this demo").hover()  # intent: starts the load
    frame = section.locator("iframe")
    expect(frame).to_have_attribute("aria-hidden", "true")
    page.wait_for_timeout(1000)
    assert any(_is_lite(url) and url.endswith("pyodide.asm.wasm") for url in requests)
    assert frame.bounding_box()["x"] < 0  # laid out, but off the screen
    # Pointing at another demo gives up the first: one hidden start at a time.
    page.locator("section.memory-demo").first.get_by_role("button", name="Run this demo").hover()
    expect(page.locator("iframe.memory-demo-frame")).to_have_count(1)
    expect(section.locator("iframe")).to_have_count(0)
    assert _outside(requests) == []
    assert page_log.console_errors == [] and page_log.page_errors == []


def test_a_demo_runs_in_the_browser_and_prints_its_expected_output(
    page, server, requests, page_log
):
    page.goto(server + "demos.html", wait_until="networkidle")
    section = page.locator(f"#demo-{RUN.name.replace('_', '-')}")
    button = section.get_by_role("button", name="Run this demo")
    button.focus()
    page.keyboard.press("Enter")  # the button works from the keyboard

    frame = section.locator("iframe")
    expect(frame).to_have_attribute("title", f"Python in your browser: {RUN.title}")
    expect(section.get_by_role("status")).to_contain_text("Python")
    outputs = page.frame_locator(f"#{section.get_attribute('id')} iframe").locator(
        ".jp-CodeConsole-content .jp-OutputArea-output"
    )
    last_line = RUN.expected.strip().splitlines()[-1].strip()
    expect(outputs.last).to_contain_text(last_line, timeout=START_TIMEOUT_MS)
    printed = "\n".join(text.strip("\n") for text in outputs.all_inner_texts())
    assert printed.strip() == RUN.expected.strip()
    expect(section.get_by_role("status")).to_contain_text("The demo ran")

    assert any(_is_lite(url) and url.endswith("pyodide.asm.wasm") for url in requests)
    # What the kernel does not load at start is not fetched for it either.
    later = {name.replace("-", "_") for name in NOT_AT_START}
    wheels = [url.rsplit("/", 1)[1] for url in requests if url.endswith(".whl")]
    assert wheels and [wheel for wheel in wheels if wheel.split("-")[0] in later] == []
    assert _outside(requests) == []
    assert page_log.console_errors == [] and page_log.page_errors == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_demos_page_has_no_accessibility_violations(page, server, scheme):
    axe = pytest.importorskip("axe_playwright_python.sync_playwright").Axe()
    page.emulate_media(color_scheme=scheme)
    page.goto(server + "demos.html", wait_until="networkidle")
    violations = axe.run(page).response["violations"]
    assert [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in violations] == []


def test_the_diagnostics_notebook_runs_in_jupyterlite_on_sample_files(
    page, server, requests, page_log
):
    page.goto(server + "demos.html", wait_until="networkidle")
    page.get_by_role("button", name="Open the notebook here").click()
    frame = page.frame_locator("iframe[title='Notebook in your browser: diagnostics.ipynb']")
    expect(frame.get_by_text("Python (Pyodide)").first).to_be_visible(timeout=START_TIMEOUT_MS)
    frame.get_by_role("menuitem", name="Run").first.click()
    frame.get_by_text("Run All Cells").first.click()
    outputs = frame.locator(".jp-OutputArea-output")
    expect(outputs.filter(has_text="this cell").nth(2)).to_be_visible(timeout=START_TIMEOUT_MS)
    # Text content, not inner text: the notebook hides the cells scrolled out of its view.
    printed = "\n".join(outputs.all_text_contents())
    assert "Reading sample files (this is the browser)" in printed
    assert "OOM kills:      1" in printed
    assert "[memory] this cell: +47.7 MiB" in printed
    assert _outside(requests) == []
    assert page_log.console_errors == [] and page_log.page_errors == []
