"""Page weight, requests and axe-core violations, measured in headless Chromium.

Every page is opened in a fresh browser context (empty cache) and left alone until the network
is idle: what it fetched by then is what a reader pays before any interaction. Sizes are the
bytes on the wire as Chromium's DevTools protocol reports them (``Network.loadingFinished``
``encodedDataLength``: body plus response headers, the "transferred" figure in DevTools).
Requests to any host but this machine are recorded and blocked.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
KINDS = ("document", "stylesheet", "script", "image", "font", "other")
SETTLE_MS = 1000  # after "networkidle", in case a script fetches something late


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in {"data", "blob", "about"} or parts.hostname in LOCAL_HOSTS


def _kind(cdp_type: str) -> str:
    kind = (cdp_type or "other").lower()
    return kind if kind in KINDS else "other"


@dataclass
class PageLoad:
    """What one page fetched before any interaction."""

    url: str
    status: int | None = None
    requests: int = 0
    bytes: int = 0
    by_kind: dict[str, dict[str, int]] = field(default_factory=dict)
    external: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "status": self.status,
            "requests": self.requests,
            "bytes": self.bytes,
            "by_kind": self.by_kind,
            "external": self.external,
            "failed": self.failed,
        }


def load_page(browser, url: str) -> PageLoad:
    """Open ``url`` in a fresh context; tally every request it makes until the network is idle."""
    context = browser.new_context()
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    load = PageLoad(url=url)
    live: dict[str, dict[str, Any]] = {}  # request id -> {"url", "kind", "bytes"}
    hops: list[dict[str, Any]] = []  # redirect responses, each a request of its own

    def on_request(event: dict) -> None:
        request = event["request"]
        if not request["url"].startswith(("http:", "https:")):
            return
        previous, redirect = live.get(event["requestId"]), event.get("redirectResponse")
        if previous and redirect:
            hops.append({**previous, "bytes": int(redirect.get("encodedDataLength", 0))})
        kind = _kind(event.get("type", ""))
        live[event["requestId"]] = {"url": request["url"], "kind": kind, "bytes": 0}

    def on_finished(event: dict) -> None:
        if event["requestId"] in live:
            live[event["requestId"]]["bytes"] = int(event.get("encodedDataLength", 0))

    def on_failed(event: dict) -> None:
        if event["requestId"] in live:
            failed_url = live[event["requestId"]]["url"]
            load.failed.append(f"{failed_url} ({event.get('errorText', 'failed')})")

    def on_response(event: dict) -> None:
        if event.get("type") == "Document" and event["response"]["url"] == url:
            load.status = int(event["response"]["status"])

    cdp.on("Network.requestWillBeSent", on_request)
    cdp.on("Network.loadingFinished", on_finished)
    cdp.on("Network.loadingFailed", on_failed)
    cdp.on("Network.responseReceived", on_response)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})

    def guard(route) -> None:
        load.external.append(route.request.url)
        route.abort()

    context.route(lambda request_url: not is_local(request_url), guard)
    try:
        page.goto(url, wait_until="load", timeout=60_000)
        page.wait_for_load_state("networkidle", timeout=30_000)
        page.wait_for_timeout(SETTLE_MS)
    finally:
        context.close()

    counts: Counter[str] = Counter()
    weights: Counter[str] = Counter()
    for record in [*live.values(), *hops]:
        counts[record["kind"]] += 1
        weights[record["kind"]] += record["bytes"]
    load.requests = sum(counts.values())
    load.bytes = sum(weights.values())
    load.by_kind = {
        kind: {"requests": counts[kind], "bytes": weights[kind]} for kind in KINDS if counts[kind]
    }
    load.external = sorted(set(load.external))
    return load


def axe_violations(browser, url: str, color_scheme: str) -> dict[str, int]:
    """axe-core violations on ``url`` in one colour scheme: rule id -> number of elements."""
    from axe_playwright_python.sync_playwright import Axe

    context = browser.new_context(color_scheme=color_scheme, bypass_csp=True)
    page = context.new_page()
    context.route(lambda request_url: not is_local(request_url), lambda route: route.abort())
    try:
        page.goto(url, wait_until="load", timeout=60_000)
        page.wait_for_load_state("networkidle", timeout=30_000)
        results = Axe().run(page)
    finally:
        context.close()
    return {
        violation["id"]: len(violation.get("nodes", []))
        for violation in results.response.get("violations", [])
    }
