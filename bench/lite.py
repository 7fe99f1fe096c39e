"""The browser demos: click to first output, bytes before it, the JupyterLite's size and build.

``measure(site, runs)`` opens the demos page in a fresh browser context (empty cache) for each
run, points at "Run this demo" on the first demo, presses it a moment later and waits for its
first output line inside the REPL frame. Pointing is the reader's first interaction and may
start the load (issue 12): the time is taken from the press, and also from the pointing. Bytes
are counted by the server, response bodies sent between the pointing and the first output,
because the DevTools protocol of the page does not see what the Pyodide worker downloads. The
site is served the way a static host serves it (gzip for text, JavaScript, JSON and
WebAssembly, as ``bench.serve`` does); one more run on an uncompressed server, like ``python -m
http.server``, gives the uncompressed figure, and one more start in the same tab (the pointer
away, then back on the button), in a browser profile kept on disk like a reader's, gives the
figure for a second start.

It also times the JupyterLite assembly from already downloaded packages (what a fresh checkout
pays once) and the check a build makes when nothing changed.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench import pages, serve
from troubleshooter.sphinxext import lite

ROOT = Path(__file__).resolve().parent.parent
PAGE = "demos.html"
FIRST_OUTPUT = ".jp-CodeConsole-content .jp-OutputArea-output"
TIMEOUT_MS = 120_000
# How long the pointer rests on the button before the press. Readers take longer (a third of
# a second or more); a short rest keeps the figure on the side of the reader in a hurry.
DWELL_S = 0.3


class _Counting:
    """Records (time, path, body bytes) for every response, on ``server.sent``."""

    def copyfile(self, source, outputfile) -> None:  # type: ignore[no-untyped-def]
        sent = 0
        while chunk := source.read(64 * 1024):
            outputfile.write(chunk)
            sent += len(chunk)
        self.server.sent.append((time.perf_counter(), self.path, sent))  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Plain(_Counting, http.server.SimpleHTTPRequestHandler):
    pass


class _Gzip(_Counting, serve.GzipHandler):
    pass


@contextmanager
def _server(site: Path, *, compressed: bool) -> Iterator[tuple[str, list]]:
    if compressed:
        serve.precompress(site / "lite")
    handler = functools.partial(_Gzip if compressed else _Plain, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.sent = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/", httpd.sent  # type: ignore[attr-defined]
    finally:
        httpd.shutdown()
        httpd.server_close()


def _browser_cpu() -> float | None:
    """CPU seconds used so far by this process's descendants (the browser and its helpers),
    from /proc; None where there is no /proc. Less hostage to a shared machine than wall time:
    what the start costs, not how long other work made it wait."""
    proc = Path("/proc")
    if not (proc / "self" / "stat").exists():
        return None
    parents: dict[int, int] = {}
    used: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for folder in proc.iterdir():
        if not folder.name.isdigit():
            continue
        try:  # fields after the command's closing parenthesis: ppid is the 2nd, utime 12th
            fields = (folder / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process has ended
            continue
        parents[int(folder.name)] = int(fields[1])
        used[int(folder.name)] = (int(fields[11]) + int(fields[12])) / tick
    ours = {os.getpid()}
    while grown := {pid for pid, parent in parents.items() if parent in ours} - ours:
        ours |= grown
    return sum(used[pid] for pid in ours - {os.getpid()})


def _start_demo(page, base: str, sent: list, *, reload: bool = True) -> dict[str, Any]:
    """Open the page, point at the first demo's button, press it, wait for output; the cost.

    The pointer rests on the button for ``DWELL_S`` before the press, as a reader's does;
    the demo may start loading from the moment the pointer arrives (issue 12)."""
    if reload:
        page.goto(base + PAGE, wait_until="networkidle")
    before_interaction = [path for _, path, _ in sent if "/lite/" in path]
    section = page.locator("section.memory-demo").first
    frame_id = section.get_attribute("id")
    button = section.locator(".memory-demo-button")
    page.mouse.move(0, 0)  # away first, so that arriving on the button is a new intent
    cpu_before = _browser_cpu()
    intent = time.perf_counter()
    button.hover()
    page.wait_for_timeout(DWELL_S * 1000)
    started = time.perf_counter()
    button.click()
    page.frame_locator(f"#{frame_id} iframe").locator(FIRST_OUTPUT).first.wait_for(
        timeout=TIMEOUT_MS
    )
    finished = time.perf_counter()
    cpu_after = _browser_cpu()
    during = [(path, size) for moment, path, size in sent if intent <= moment <= finished]
    return {
        "cpu_seconds": (
            None if cpu_before is None or cpu_after is None else round(cpu_after - cpu_before, 2)
        ),
        "seconds": round(finished - started, 2),
        "intent_seconds": round(finished - intent, 2),
        "bytes": sum(size for _, size in during),
        "requests": len(during),
        "lite_requests_before_click": len(before_interaction),
    }


def _fresh_run(browser, base: str, sent: list) -> dict[str, Any]:
    context = browser.new_context()
    try:
        return _start_demo(context.new_page(), base, sent)
    finally:
        context.close()
        sent.clear()


def _warm_run(playwright, base: str, sent: list) -> dict[str, Any]:
    """A second start in the same tab: the browser cache already holds JupyterLite.

    In a profile of its own on disk, as a reader's browser has: a fresh context is
    off the record, and there Chromium keeps no code cache, so the second start would
    compile Pyodide's WebAssembly again, which no reader's browser does."""
    with tempfile.TemporaryDirectory(prefix="bench-lite-profile-") as profile:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path="/usr/bin/chromium", args=pages.CHROMIUM_ARGS
        )
        try:
            page = context.new_page()
            _start_demo(page, base, sent)
            sent.clear()
            return _start_demo(page, base, sent, reload=False)
        finally:
            context.close()
            sent.clear()


def _median_or_none(values: list[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return statistics.median(known) if known else None


def _folder_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def _repl_settings() -> lite.LiteSettings:
    """A project whose pages hold REPL demos only, with jupyterlite-sphinx's defaults."""
    return lite.LiteSettings(
        mode="local",
        apps=("repl",),
        contents=(),
        notebooks=(),
        config=None,
        overrides=None,
        ignore_contents=(),
        options=(),
        lite_json=None,
    )


def _assembly_seconds() -> dict[str, float]:
    """Pyodide and the JupyterLite assembled from the already downloaded packages, and the
    check a build makes when nothing changed."""
    cache = lite.default_cache(ROOT)
    settings = _repl_settings()
    lite.prepare(cache, settings)  # also makes sure the downloads are there
    started = time.perf_counter()
    lite.prepare(cache, settings)
    check = time.perf_counter() - started
    with tempfile.TemporaryDirectory(prefix="bench-lite-") as scratch:
        shutil.copytree(cache / "downloads", Path(scratch) / "downloads")
        started = time.perf_counter()
        lite.ensure_site(Path(scratch), settings)
        assembly = time.perf_counter() - started
    return {"lite_assembly_s": round(assembly, 1), "lite_unchanged_check_s": round(check, 3)}


def measure(site: Path, runs: int) -> dict[str, Any]:
    """Medians over ``runs`` fresh starts, plus one uncompressed and one warm start."""
    from playwright.sync_api import sync_playwright

    result: dict[str, Any] = {"lite_output_bytes": _folder_bytes(site / "lite")}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=pages.CHROMIUM_ARGS
        )
        try:
            with _server(site, compressed=True) as (base, sent):
                fresh = [_fresh_run(browser, base, sent) for _ in range(runs)]
                warm = _warm_run(playwright, base, sent)
            with _server(site, compressed=False) as (base, sent):
                plain = _fresh_run(browser, base, sent)
        finally:
            browser.close()
    result |= {
        "click_to_output_s": statistics.median(run["seconds"] for run in fresh),
        "bytes_to_output": int(statistics.median(run["bytes"] for run in fresh)),
        "requests_to_output": int(statistics.median(run["requests"] for run in fresh)),
        "lite_requests_before_click": max(run["lite_requests_before_click"] for run in fresh),
        "intent_to_output_s": statistics.median(run["intent_seconds"] for run in fresh),
        "cpu_to_output_s": _median_or_none([run["cpu_seconds"] for run in fresh]),
        "cpu_to_output_warm_s": warm["cpu_seconds"],
        "click_to_output_warm_s": warm["seconds"],
        "bytes_to_output_warm": warm["bytes"],
        "click_to_output_uncompressed_s": plain["seconds"],
        "bytes_to_output_uncompressed": plain["bytes"],
        "runs": runs,
        "runs_s": [run["seconds"] for run in fresh],
        "note": (
            "first demo on demos.html, fresh browser context per run, gzip static server; "
            f"the pointer rests {DWELL_S} s on the button before the press; "
            f"uncompressed: {plain['bytes'] / 1e6:.1f} MB in {plain['seconds']:.1f} s; "
            f"second start (warm cache): {warm['seconds']:.1f} s"
        ),
    }
    result |= _assembly_seconds()
    return result


if __name__ == "__main__":  # python -m bench.lite [SITE [RUNS]]
    import json
    import sys

    site = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "_build" / "html"
    print(json.dumps(measure(site, int(sys.argv[2]) if len(sys.argv) > 2 else 3), indent=1))
