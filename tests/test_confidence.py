"""How sure a verdict is: confirmed (measured, or a line that proves it), likely (the message
or a line that suggests it), guess (nothing): in the API, the JSON, the text, and for ``run``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from troubleshooter import diagnose as dg
from troubleshooter.report import render

ROOT = Path(__file__).resolve().parent.parent
CORPUS = tomllib.loads((ROOT / "tests" / "messages" / "corpus.toml").read_text("utf-8"))["message"]


@pytest.mark.parametrize(
    ("message", "cause", "confidence"),
    [
        ("OMP: Error #15: Initializing libiomp5md.dll, but found it already initialized.",
         "abi-mismatch", "confirmed"),
        ("RecursionError: maximum recursion depth exceeded", "stack-overflow", "confirmed"),
        ("Your session crashed after using all available RAM.", "out-of-memory", "confirmed"),
        ("Kernel last terminated by signal SIGSEGV.", "native-crash", "likely"),
        ("Kernel last terminated by signal SIGKILL.", "out-of-memory", "likely"),
        ("MemoryError: Unable to allocate 27.1 GiB for an array", "out-of-memory", "likely"),
        ("ExitCode: 3221225477", "native-crash", "likely"),
        ("The kernel appears to have died. It will restart automatically.", "out-of-memory",
         "guess"),
    ],
)  # fmt: skip
def test_confidence_follows_what_the_message_shows(message, cause, confidence):
    verdict = dg.diagnose({}, message=message)
    assert (verdict.cause, verdict.confidence) == (cause, confidence)
    assert verdict.to_json()["confidence"] == confidence
    assert render(verdict).startswith(f"{confidence.capitalize()}: ")


def test_a_rise_of_the_oom_count_confirms_a_banner_that_only_suggests(tmp_path: Path):
    facts = {"cgroup": {"version": 2, "path": "/user", "oom_kills": 3, "limit": 1 << 30,
                        "peak": 1 << 30}}  # fmt: skip
    banner = "Kernel last terminated by signal SIGKILL."
    # The counter is cumulative: 3 kills at a first check may all be old ones.
    alone = dg.diagnose(facts, message=banner)
    assert (alone.cause, alone.confidence) == ("out-of-memory", "likely")
    risen = dg.diagnose(facts, message=banner, previous={"oom_kills": 2})
    assert (risen.cause, risen.confidence) == ("out-of-memory", "confirmed")


def test_nothing_known_is_a_guess_of_memory_with_the_first_check():
    verdict = dg.diagnose({}, message="Kernel Restarting")
    assert (verdict.cause, verdict.confidence) == ("out-of-memory", "guess")
    assert verdict.summary.startswith("Guess: Out of memory (the most common cause;")
    assert verdict.check_next == "memory-limit"
    assert verdict.first_check and "/sys/fs/cgroup" in verdict.first_check
    assert "\nFirst check: " in render(verdict)


@pytest.mark.parametrize("message", CORPUS, ids=lambda m: m["id"])
def test_the_corpus_clear_ones_right_and_sure_the_ambiguous_ones_guessed(message):
    verdict = dg.diagnose({}, message=message["text"])
    if message["cause"] == "ambiguous":
        assert verdict.confidence == "guess"
    else:
        assert verdict.cause == message["cause"]
        assert verdict.confidence in ("confirmed", "likely")


def test_run_names_deep_recursion_from_a_recursion_error(tmp_path: Path):
    script = tmp_path / "deep.py"
    script.write_text("def down(n):\n    return down(n + 1)\n\ndown(0)\n")
    done = subprocess.run(
        [sys.executable, "-m", "troubleshooter", "run", "--json", str(script)],
        capture_output=True, text=True, cwd=tmp_path, check=False, timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(tmp_path / "cache")},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["cause"] == "stack-overflow"
    assert report["outcome"] == "stack-overflow"
    assert report["confidence"] == "confirmed"
    assert any("maximum recursion depth exceeded" in line for line in report["evidence"])
