"""The banner parser behind deep links and ``diagnose --message``."""

import pytest

from troubleshooter.signals import Death, parse_exit_code, parse_message, parse_signal


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
