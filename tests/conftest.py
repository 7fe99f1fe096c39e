"""Shared fixtures: one real build of the site, a local server for it, and Chromium.

The site is built once per test session with the repository's own conf.py, the
way ``nox -s docs`` builds it. Browser tests use Debian's Chromium through
Playwright; they are skipped, with the reason, where it is not installed.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

pytest_plugins = ["sphinx.testing.fixtures"]

ROOT = Path(__file__).resolve().parent.parent
ROOTS = Path(__file__).resolve().parent / "roots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}


@pytest.fixture(scope="session")
def rootdir() -> Path:
    """Where Sphinx's ``@pytest.mark.sphinx(testroot=NAME)`` finds ``test-NAME``."""
    return ROOTS


def copy_of_root(tempdir: Path, name: str, copy: str) -> Path:
    """A fresh copy of the test root ``test-NAME``, for a build that needs its own source
    (another builder, or a changed file); pass it to ``make_app(..., srcdir=...)``."""
    source = tempdir / copy
    shutil.rmtree(source, ignore_errors=True)
    shutil.copytree(ROOTS / f"test-{name}", source)
    return source


@dataclass
class SiteBuild:
    html: Path
    warnings: str


def build_site(out: Path, confdir: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """sphinx-build of docs/ into ``out`` with the configuration in ``confdir``."""
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-n", "--keep-going", "-q"]
    return subprocess.run(
        [*command, "-c", str(confdir), str(ROOT / "docs"), str(out)],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> SiteBuild:
    """The whole site, built strictly from docs/ into a temporary folder."""
    out = tmp_path_factory.mktemp("site") / "html"
    result = build_site(out)
    if result.returncode != 0:
        pytest.fail(f"sphinx-build failed:\n{result.stderr}")
    return SiteBuild(html=out, warnings=result.stderr)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def server(site: SiteBuild):
    """The built site served over HTTP on 127.0.0.1, as ``python -m http.server`` would."""
    handler = functools.partial(_QuietHandler, directory=str(site.html))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, with no network but the loopback."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class PageLog:
    """What a page did while a test drove it."""

    external_requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in {"data", "blob", "about"} or parts.hostname in LOCAL_HOSTS


@pytest.fixture
def page_log() -> PageLog:
    return PageLog()


@pytest.fixture
def page(browser, page_log: PageLog):
    """A fresh browser tab. Requests to any host but this machine are blocked and
    fail the test; console errors, uncaught exceptions and dialogs are recorded."""
    context = browser.new_context()
    tab = context.new_page()

    def guard(route):
        if _is_local(route.request.url):
            route.continue_()
        else:
            page_log.external_requests.append(route.request.url)
            route.abort()

    def on_dialog(dialog):
        page_log.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    tab.route("**/*", guard)
    tab.on("console", lambda msg: msg.type == "error" and page_log.console_errors.append(msg.text))
    tab.on("pageerror", lambda error: page_log.page_errors.append(str(error)))
    tab.on("dialog", on_dialog)
    yield tab
    context.close()
    assert not page_log.external_requests, (
        f"requests left this machine: {page_log.external_requests}"
    )


def pytest_report_header(config: pytest.Config) -> str:
    found = shutil.which("chromium") or "not installed"
    return f"chromium: {found}"
