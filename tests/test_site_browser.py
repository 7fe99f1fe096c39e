"""The site in a real browser: accessibility, dark mode, phones, copy buttons, search."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

PAGES = ["index.html", "howto/jupyter-kernel-terminated.html", "howto/low-memory.html"]


@pytest.fixture(scope="module")
def axe():
    module = pytest.importorskip("axe_playwright_python.sync_playwright")
    return module.Axe()


def _violations(axe, page) -> list[str]:
    results = axe.run(page)
    return [
        f"{violation['id']}: {[node['target'] for node in violation['nodes']][:3]}"
        for violation in results.response["violations"]
    ]


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("path", PAGES)
def test_pages_have_no_accessibility_violations(page, server, axe, path, scheme):
    page.emulate_media(color_scheme=scheme)
    page.goto(server + path)
    assert _violations(axe, page) == []


@pytest.mark.parametrize("path", PAGES)
def test_pages_load_cleanly(page, page_log, server, path):
    page.goto(server + path, wait_until="load")
    assert page_log.console_errors == []
    assert page_log.page_errors == []


def _background_luminance(page) -> float:
    rgb = page.evaluate(
        "getComputedStyle(document.body).backgroundColor.match(/\\d+/g).slice(0, 3).map(Number)"
    )
    return sum(rgb) / 3


def test_dark_mode_follows_the_system_setting(page, server):
    page.emulate_media(color_scheme="light")
    page.goto(server + PAGES[1])
    light = _background_luminance(page)
    page.emulate_media(color_scheme="dark")
    page.reload()
    assert light > 200
    assert _background_luminance(page) < 60


@pytest.mark.parametrize("path", PAGES)
def test_pages_fit_a_phone_screen(browser, server, path):
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
    try:
        phone = context.new_page()
        phone.goto(server + path)
        overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px on a phone"
    finally:
        context.close()


def test_copy_button_copies_a_command_without_its_prompt(browser, server):
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    try:
        tab = context.new_page()
        tab.goto(server + PAGES[1])
        block = tab.locator("div.highlight-console").first
        shown = block.locator("pre").inner_text()
        assert shown.lstrip().startswith("$ ")
        block.hover()
        block.locator("button.copy-button").click()
        copied = tab.evaluate("navigator.clipboard.readText()")
        assert copied.strip()
        assert not copied.startswith("$ ")
        assert copied.strip() in shown
    finally:
        context.close()


def test_search_finds_the_guide(page, server):
    page.goto(server + "search.html?q=SIGKILL")
    results = page.locator("#search-results li a")
    results.first.wait_for(timeout=15_000)
    hrefs = [link.get_attribute("href") for link in results.all()]
    assert any("jupyter-kernel-terminated" in (href or "") for href in hrefs)


def test_the_theme_button_switches_the_colours(page, server):
    """The theme's script, deferred and minified by the site's polish, still runs."""
    page.emulate_media(color_scheme="light")
    page.goto(server + PAGES[1])
    page.locator(".theme-toggle:visible").first.click()  # auto (light) -> dark
    assert page.evaluate("document.body.dataset.theme") == "dark"
    assert _background_luminance(page) < 60
