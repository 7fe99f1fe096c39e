"""Lighthouse scores from the npm ``lighthouse`` package driving Debian's Chromium.

The package is installed into ``bench/node_modules`` from ``bench/package-lock.json`` on first
use. It never downloads a browser: ``CHROME_PATH`` points it at ``/usr/bin/chromium``.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
LIGHTHOUSE = HERE / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = "/usr/bin/chromium"
CHROME_FLAGS = (
    "--headless=new --no-sandbox --disable-gpu --disable-background-networking "
    "--disable-component-update --disable-sync --no-first-run --disable-quic"
)
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")


class Unavailable(Exception):
    """Lighthouse cannot run on this machine; the message says why."""


def ensure_installed() -> str:
    """Install the pinned Lighthouse if needed; return its version."""
    if not Path(CHROMIUM).exists():
        raise Unavailable(f"{CHROMIUM} is not installed (apt-get install chromium)")
    if not LIGHTHOUSE.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise Unavailable("npm is not installed (apt-get install npm)")
        command = "ci" if (HERE / "package-lock.json").exists() else "install"
        result = subprocess.run(
            [npm, command, "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=HERE,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            lines = [line for line in result.stderr.splitlines() if line.strip()]
            raise Unavailable(f"npm {command} in bench/ failed: {' / '.join(lines[:3])}")
    package = json.loads((HERE / "node_modules" / "lighthouse" / "package.json").read_text())
    return package["version"]


def run_once(url: str, preset: str, report: Path) -> dict[str, Any]:
    """One Lighthouse run of ``url`` with the ``mobile`` or ``desktop`` preset."""
    command = [
        str(LIGHTHOUSE),
        url,
        "--output=json",
        f"--output-path={report}",
        "--quiet",
        f"--only-categories={','.join(CATEGORIES)}",
        f"--chrome-flags={CHROME_FLAGS}",
    ]
    if preset == "desktop":
        command.append("--preset=desktop")
    report.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        command,
        env={**os.environ, "CHROME_PATH": CHROMIUM},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0 or not report.exists():
        last = " / ".join(line for line in result.stderr.splitlines()[-3:] if line.strip())
        raise RuntimeError(f"lighthouse exited with {result.returncode}: {last}")
    data = json.loads(report.read_text())
    if data.get("runtimeError"):
        raise RuntimeError(f"lighthouse: {data['runtimeError'].get('message', 'runtime error')}")
    scores = {}
    losses = {}
    for category in CATEGORIES:
        entry = data["categories"][category]
        scores[category] = round(entry["score"] * 100) if entry["score"] is not None else None
        losses[category] = [
            ref["id"]
            for ref in entry["auditRefs"]
            if ref.get("weight", 0) > 0
            and (data["audits"][ref["id"]].get("score") is not None)
            and data["audits"][ref["id"]]["score"] < 1
        ]
    return {"scores": scores, "losing_audits": losses}


def measure(url: str, preset: str, runs: int, folder: Path, stem: str) -> dict[str, Any]:
    """Median score per category over ``runs`` runs, and the audits that cost points."""
    outcomes = [
        run_once(url, preset, folder / f"{stem}-{preset}-{index}.json") for index in range(runs)
    ]
    scores = {}
    for category in CATEGORIES:
        values = [o["scores"][category] for o in outcomes if o["scores"][category] is not None]
        scores[category] = statistics.median(values) if values else None
    per_category = {
        category: sorted({a for o in outcomes for a in o["losing_audits"][category]})
        for category in CATEGORIES
    }
    return {"runs": runs, "scores": scores, "losing_audits": per_category}
