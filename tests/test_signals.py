"""The banner parser behind deep links and ``diagnose --message``."""

import pytest

from troubleshooter.messages import death_from
from troubleshooter.messages import death_in as parse_message
from troubleshooter.signals import Death, best_answer, parse_exit_code, parse_signal


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("SIGKILL", "SIGKILL"),
        ("kill", "SIGKILL"),
        ("9", "SIGKILL"),
        ("-9", "SIGKILL"),
        ("137", "SIGKILL"),
        ("139", "SIGSEGV"),
        ("SIGIOT", "SIGABRT"),
        (" sigbus ", "SIGBUS"),
        ("", None),
        ("SIGNOPE", None),
        ("<script>alert(1)</script>", None),
        ("999", None),
        (None, None),
    ],
)
def test_parse_signal(value, expected):
    assert parse_signal(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", Death(exit_code=1)),
        ("137", Death(signal="SIGKILL", exit_code=137)),
        ("-11", Death(signal="SIGSEGV")),
        ("0", Death(exit_code=0)),
        ("1e9", Death()),
        ("99999", Death()),
    ],
)
def test_parse_exit_code(value, expected):
    assert parse_exit_code(value) == expected


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("Kernel last terminated by signal SIGKILL.", Death(signal="SIGKILL")),
        ("Kernel last terminated by signal SIGSEGV.", Death(signal="SIGSEGV")),
        ("Kernel last exited with code 1.", Death(exit_code=1)),
        ("Kernel last exited with code 137.", Death(signal="SIGKILL", exit_code=137)),
        ("Kernel terminated -- this might be caused by running out of memory", Death()),
        ("kernel died: SIGABRT", Death(signal="SIGABRT")),
        ("x" * 100_000 + " signal SIGKILL", Death()),
    ],
)
def test_parse_message(message, expected):
    assert parse_message(message) == expected


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"exit_code": "139", "signal": "KILL"}, Death(signal="SIGSEGV", exit_code=139)),
        ({"exit_code": "banana", "signal": "KILL"}, Death(signal="SIGKILL")),
        ({"signal": "NOPE", "message": "Kernel last exited with code 1."}, Death(exit_code=1)),
        ({"message": ""}, Death()),
        ({}, Death()),
    ],
)
def test_the_exit_code_speaks_first_then_the_signal_then_the_banner(given, expected):
    assert death_from(**given) == expected


def test_an_exit_code_range_beats_a_named_signal_which_beats_any_signal():
    hints = [(["*"], []), (["SIGKILL"], []), ([], [(129, 192)]), (["SIGKILL"], [])]
    assert best_answer(hints, Death(signal="SIGKILL", exit_code=137)) == 2
    assert best_answer(hints, Death(signal="SIGKILL")) == 1
    assert best_answer(hints, Death(signal="SIGSEGV")) == 0
    assert best_answer(hints, Death(exit_code=1)) is None
