"""The message reader: how often it is right, how fast it reads, what it adds to the wizard.

- corpus accuracy: ``diagnose`` with nothing measured (``diagnose({}, message=...)``) on every
  message of ``tests/messages/corpus.toml``: the clear ones must get their cause with a
  confidence other than "guess", the ambiguous ones "guess" (never a wrong "likely" or
  "confirmed");
- reading a 64 KB paste (corpus messages repeated) in Python (``messages.read``), median of
  the process's CPU time (on a machine shared by several jobs, wall time measures the queue);
- hostile pastes in Python: 1 MB of text, 50,000 "a" then "!", and bait for the patterns
  (their own words repeated), the slowest of each kind;
- in the browser (when a built site is given): the same 64 KB paste through the wizard's paste
  box, the time its reader takes (the wizard's "troubleshooter: read message" measure),
  median, and the slowest hostile paste;
- the signatures' share of the wizard's lazily loaded JSON: gzip of the guide's data file
  minus gzip of the same data without the reader.

Run ``python bench/messages.py [SITE_HTML]`` for the JSON; ``measure()`` returns the same dict.
"""

from __future__ import annotations

import gzip
import json
import statistics
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from troubleshooter import messages  # noqa: E402
from troubleshooter.diagnose import diagnose  # noqa: E402
from troubleshooter.messages import builtin_signatures  # noqa: E402

CORPUS = ROOT / "tests" / "messages" / "corpus.toml"
KB64 = 64 * 1024


def corpus() -> list[dict[str, Any]]:
    return tomllib.loads(CORPUS.read_text("utf-8"))["message"]


def accuracy() -> dict[str, Any]:
    clear = right = ambiguous = honest = 0
    misread = []
    for message in corpus():
        verdict = diagnose({}, message=message["text"])
        if message["cause"] == "ambiguous":
            ambiguous += 1
            ok = verdict.confidence == "guess"
            honest += ok
        else:
            clear += 1
            ok = verdict.cause == message["cause"] and verdict.confidence != "guess"
            right += ok
        if not ok:
            misread.append(f"{message['id']}: {verdict.cause} ({verdict.confidence})")
    return {
        "messages": clear + ambiguous,
        "clear": clear,
        "clear_right": right,
        "clear_right_share": round(100 * right / clear, 1) if clear else None,
        "ambiguous": ambiguous,
        "ambiguous_honest": honest,
        "ambiguous_honest_share": round(100 * honest / ambiguous, 1) if ambiguous else None,
        "misread": misread,
    }


def lab_accuracy() -> dict[str, Any]:
    """The crash lab's records (docs/lab/*.json): what each front end showed in a real run,
    read with nothing measured; right = its cause, not a guess."""
    right, total, misread = 0, 0, []
    for path in sorted((ROOT / "docs" / "lab").glob("*.json")):
        record = json.loads(path.read_text("utf-8"))
        for run in record.get("runs", []):
            shown = run.get("shown") or {}
            parts = [shown.get("cocalc") or "", *(shown.get("front_end") or [])]
            parts += [
                *(shown.get("stderr") or []),
                *(shown.get("output") or []),
                *(run.get("log") or []),
            ]
            verdict = diagnose({}, message="\n".join(parts))
            total += 1
            if verdict.cause == record["cause"] and verdict.confidence != "guess":
                right += 1
            else:
                misread.append(
                    f"{record['cause']} / {run.get('name')}: {verdict.cause} ({verdict.confidence})"
                )
    return {"runs": total, "right": right, "misread": misread}


def paste_64k() -> str:
    block = "\n".join(message["text"] for message in corpus()) + "\n"
    return (block * (KB64 // len(block) + 1))[:KB64]


def hostile() -> dict[str, str]:
    pastes = {
        "1 MB of text": ("Some ordinary words, a number 137 and a signal name. " * 20_000)[
            :1_000_000
        ],
        "50,000 a then !": "a" * 50_000 + "!",
        "astral characters": "\U0001f480" * 70_000,
        "line breaks": "\r\n" * 40_000,
    }
    for entry in builtin_signatures().entries:  # each pattern's own words, over and over
        for literal in entry.literals[:1]:
            pastes[f"bait for {entry.id}"] = (literal + " ") * (KB64 // (len(literal) + 1))
    return pastes


def timed_ms(text: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.process_time()  # CPU time: the 2 shared cores' queue is not the reader's
        messages.read(text)
        times.append((time.process_time() - started) * 1000)
    return statistics.median(times)


def in_python(runs: int) -> dict[str, Any]:
    slowest = {name: timed_ms(text, max(3, runs // 2)) for name, text in hostile().items()}
    worst = max(slowest, key=slowest.__getitem__)
    messages.read("warm up")  # the signatures load once per process
    return {
        "python_64k_ms": round(timed_ms(paste_64k(), runs), 2),
        "python_hostile_worst_ms": round(slowest[worst], 2),
        "python_hostile_worst": worst,
        "python_hostile_ms": {name: round(ms, 2) for name, ms in slowest.items()},
    }


def share(site: Path) -> dict[str, Any]:
    """The signatures' part of the guide's lazily loaded JSON, gzipped."""
    files = sorted((site / "troubleshooter" / "data").glob("*.json"))
    if not files:
        return {}
    data = json.loads(files[0].read_text("utf-8"))
    without = {key: value for key, value in data.items() if key != "reader"}

    def packed(value: Any) -> int:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
        return len(gzip.compress(text, 9))

    return {
        "data_file": files[0].name,
        "data_gzip_bytes": packed(data),
        "signatures_share_gzip_bytes": packed(data) - packed(without),
    }


def in_browser(site: Path, runs: int) -> dict[str, Any]:
    from bench import machine, pages, serve

    if not machine.CHROMIUM.exists():
        return {}
    from playwright.sync_api import sync_playwright

    script = """async (text) => {
        const box = document.querySelector('.ts-paste-box textarea');
        const start = document.querySelector('.ts-controls button:nth-child(2)');
        if (location.search) start.click();
        const area = document.querySelector('.ts-paste-box textarea');
        area.value = text;
        performance.clearMeasures();
        document.querySelector('.ts-paste-box button').click();
        const [entry] = performance.getEntriesByName('troubleshooter: read message');
        return entry ? entry.duration : null;
    }"""
    found: dict[str, Any] = {}
    with sync_playwright() as playwright, serve.serve(site, compressed=False) as url:
        browser = playwright.chromium.launch(
            executable_path=str(machine.CHROMIUM), args=pages.CHROMIUM_ARGS
        )
        try:
            page = browser.new_page()
            page.goto(url + "troubleshooter.html", wait_until="load")
            page.wait_for_selector(".ts-paste-box textarea")
            text = paste_64k()
            page.evaluate(script, text)  # one uncounted read: the regexes compile lazily
            times = [page.evaluate(script, text) for _ in range(runs)]
            found["browser_64k_ms"] = round(statistics.median(times), 2)
            hostile_times = {
                name: page.evaluate(script, paste) for name, paste in hostile().items()
            }
            worst = max(hostile_times, key=hostile_times.__getitem__)
            found["browser_hostile_worst_ms"] = round(hostile_times[worst], 2)
            found["browser_hostile_worst"] = worst
        finally:
            browser.close()
    return found


def measure(runs: int = 5, site: Path | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {
        "corpus": accuracy(),
        "lab": lab_accuracy(),
        **in_python(max(runs, 5)),
    }
    if site is not None and site.is_dir():
        result.update(share(site))
        result.update(in_browser(site, max(runs, 5)))
    return result


if __name__ == "__main__":
    site = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    print(json.dumps(measure(5, site), indent=2))
