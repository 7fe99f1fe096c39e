"""The one message reader: what a pasted text tells, on real messages and on hostile text."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from troubleshooter import messages
from troubleshooter.loader import load_builtin as load_tree
from troubleshooter.signals import Death

CORPUS = tomllib.loads((Path(__file__).parent / "messages" / "corpus.toml").read_text("utf-8"))[
    "message"
]
TREE = load_tree("kernel-terminated")


def test_the_corpus_is_real_and_large_enough():
    assert len(CORPUS) >= 60
    assert len({m["id"] for m in CORPUS}) == len(CORPUS)
    for message in CORPUS:
        assert message["source"].startswith("https://github.com/"), message["id"]


@pytest.mark.parametrize(
    "message", [m for m in CORPUS if m["cause"] != "ambiguous"], ids=lambda m: m["id"]
)
def test_a_clear_message_points_at_its_cause(message):
    reading = messages.read(message["text"])
    assert message["cause"] in reading.proven + reading.suggested


@pytest.mark.parametrize(
    "message", [m for m in CORPUS if m["cause"] == "ambiguous"], ids=lambda m: m["id"]
)
def test_an_ambiguous_message_claims_no_cause(message):
    reading = messages.read(message["text"])
    assert reading.proven == []
    assert reading.suggested == []


@pytest.mark.parametrize(
    ("text", "death", "front_end", "step"),
    [
        ("Kernel last terminated by signal SIGKILL.", Death(signal="SIGKILL"), "cocalc", None),
        ("Kernel last exited with code 137.", Death(signal="SIGKILL", exit_code=137), "cocalc",
         None),
        ("Your session crashed after using all available RAM.", Death(), "colab", "kernel-count"),
        ("OMP: Error #15: Initializing libiomp5md.dll", Death(), None, "abi-openmp"),
        ("Kernel died with exit code 1.\nOSError: [Errno 28] No space left on device",
         Death(exit_code=1), "vscode", "disk-full"),
        ("RecursionError: maximum recursion depth exceeded", Death(), None, "stack-overflow"),
        ("Fatal Python error: Cannot recover from stack overflow.", Death(), None,
         "stack-overflow"),
        ("ExitCode: 3221225477", Death(), "windows", "segv-detail"),
        ("exit code -1073741571 (0xC00000FD)", Death(), "windows", "stack-overflow"),
        ("Illegal instruction (core dumped)", Death(signal="SIGILL"), None, None),
    ],
)  # fmt: skip
def test_what_a_text_tells(text, death, front_end, step):
    reading = messages.read(text)
    assert (reading.death, reading.front_end, reading.step) == (death, front_end, step)


def test_each_recognised_line_is_named_with_its_entry():
    text = "starting\nOMP: Error #15: Initializing libiomp5md.dll\nAborted (core dumped)\n"
    lines = [(r.line, r.signature.id) for r in messages.read(text).lines]
    assert lines == [(2, "omp-error-15"), (3, "aborted")]


def test_a_proving_line_outranks_a_suggesting_one():
    reading = messages.read("MemoryError\nOMP: Error #15: Initializing libiomp5md.dll")
    assert reading.step == "abi-openmp"
    assert reading.proven == ["abi-mismatch"]
    assert reading.suggested == ["out-of-memory"]


def test_long_text_is_cut_never_refused():
    late = "a" * messages.MAX_TEXT + "\nOMP: Error #15"
    assert messages.read(late).lines == ()
    early = "OMP: Error #15\n" + "x" * 1_000_000
    assert messages.read(early).step == "abi-openmp"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "a" * 50_000 + "!",
        "\x00\x01\x02" * 1000,
        "\U0001f600" * 70_000 + "OMP: Error #15",
        "<script>alert(1)</script>",
        "signal " * 20_000,
        "exited " * 20_000,
        "\r\n" * 40_000,
    ],
    ids=[
        "empty",
        "backtracking-bait",
        "control",
        "astral",
        "script",
        "signal-words",
        "exit-words",
        "crlf",
    ],
)
def test_hostile_text_tells_nothing(text):
    reading = messages.read(text)
    assert reading.death == Death()
    assert reading.step is None
    assert reading.proven == []


def test_a_recognised_line_is_kept_short():
    reading = messages.read("OMP: Error #15 " + "z" * 5000)
    assert len(reading.lines[0].text) == messages.LINE_SHOWN


def test_prepare_counts_like_javascript():
    assert messages.prepare("a\r\nb\rc\u2028d\u2029e") == "a\nb\nc\nd\ne"
    assert messages.prepare("\U0001f600x") == "\ufffdx"
    assert len(messages.prepare("\U0001f600" * 10, limit=4)) == 4


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("Kernel last terminated by signal SIGKILL.", ["sigkill"]),
        ("Kernel last exited with code 1.\nOSError: [Errno 28] No space left on device",
         ["exit-code", "code-error", "no-space"]),
        ("Kernel last terminated by signal SIGSEGV.\n"
         "RecursionError: maximum recursion depth exceeded",
         ["other-signal", "sigsegv", "recursion"]),
    ],
)  # fmt: skip
def test_the_wizard_path_follows_the_death_then_the_lines(text, path):
    assert messages.wizard_path(TREE, messages.read(text))[: len(path)] == path


def test_a_step_the_death_cannot_reach_opens_by_its_first_path():
    reading = messages.read("OMP: Error #15: Initializing libiomp5md.dll")
    path = messages.wizard_path(TREE, reading)
    assert TREE.follow(path).id == "abi-openmp"
