"""Signals and exit codes: which signal a name, a number or an exit status means.

The same rules serve the wizard's deep links (``?signal=``, ``?exit_code=``) and
``diagnose --signal/--exit-code``; a whole message is read by
``troubleshooter.messages`` (whose signatures capture names and codes that these
functions then parse). Anything that does not parse gives ``None``: an unknown value
is never an error. Only ASCII white space is stripped, as the wizard's JavaScript does.

The deep-link rule, which answer of a question fits a death, lives here too
(``answer_tier``, ``best_answer``), on plain data, so the tree model, the
diagnosis and the single file share one copy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: the single file also runs on older Pythons
    from collections.abc import Iterable, Sequence

# Linux numbering. Only signals that end kernels in practice get a name here;
# other numbers still parse, as "signal N".
SIGNALS: dict[str, int] = {
    "SIGHUP": 1,
    "SIGINT": 2,
    "SIGQUIT": 3,
    "SIGILL": 4,
    "SIGTRAP": 5,
    "SIGABRT": 6,
    "SIGBUS": 7,
    "SIGFPE": 8,
    "SIGKILL": 9,
    "SIGUSR1": 10,
    "SIGSEGV": 11,
    "SIGUSR2": 12,
    "SIGPIPE": 13,
    "SIGALRM": 14,
    "SIGTERM": 15,
    "SIGXCPU": 24,
    "SIGXFSZ": 25,
}
SIGNAL_NAMES = {number: name for name, number in SIGNALS.items()}
ALIASES = {"SIGIOT": "SIGABRT", "SIGCLD": "SIGCHLD"}
MAX_SIGNAL = 64
ANY_SIGNAL = "*"  # in an answer's ``signals``: fits any signal
ASCII_SPACE = " \t\n\r\f\v"


@dataclass(frozen=True)
class Death:
    """How a process ended: by a signal, with an exit code, or not known."""

    signal: str | None = None
    exit_code: int | None = None


def parse_signal(value: str | int | None) -> str | None:
    """``"SIGKILL"``, ``"kill"``, ``"9"``, ``"-9"`` and ``"137"`` all give ``"SIGKILL"``."""
    if value is None:
        return None
    text = str(value).strip(ASCII_SPACE)[:20].upper()
    if not text:
        return None
    if re.fullmatch(r"-?[0-9]{1,3}", text):
        number = abs(int(text))
        if 128 < number <= 128 + MAX_SIGNAL:
            number -= 128
        return _name(number)
    name = text if text.startswith("SIG") else "SIG" + text
    name = ALIASES.get(name, name)
    return name if name in SIGNALS else None


def parse_exit_code(value: str | int | None) -> Death:
    """An exit status as a shell or Python reports it: 137 and -9 mean SIGKILL."""
    if value is None:
        return Death()
    text = str(value).strip(ASCII_SPACE)[:20]
    if not re.fullmatch(r"-?[0-9]{1,4}", text):
        return Death()
    code = int(text)
    if code < 0:
        return Death(signal=_name(-code))
    if 128 < code <= 128 + MAX_SIGNAL:
        return Death(signal=_name(code - 128), exit_code=code)
    if code <= 255:
        return Death(exit_code=code)
    return Death()


def answer_tier(
    signals: Sequence[str], exit_codes: Iterable[Sequence[int]], death: Death
) -> int | None:
    """How well an answer with these deep-link hints fits ``death``: 1, 2, 3, or ``None``.

    1: the death's exit code lies in one of the ``(low, high)`` ranges of
    ``exit_codes``; 2: ``signals`` names the death's signal; 3: the death has a
    signal and ``signals`` holds ``ANY_SIGNAL``. (The full rule, with how a walk
    follows it: DEEP LINKS in ``troubleshooter.model``.)
    """
    code = death.exit_code
    if code is not None and any(low <= code <= high for low, high in exit_codes):
        return 1
    if death.signal is not None and death.signal in signals:
        return 2
    if death.signal is not None and ANY_SIGNAL in signals:
        return 3
    return None


def best_answer(
    hints: Iterable[tuple[Sequence[str], Iterable[Sequence[int]]]], death: Death
) -> int | None:
    """The index of the answer that fits ``death`` best, given each answer's
    ``(signals, exit_codes)`` in file order: the lowest tier, the first within
    it; ``None`` if none fits."""
    best: tuple[int, int] | None = None
    for index, (signals, exit_codes) in enumerate(hints):
        tier = answer_tier(signals, exit_codes, death)
        if tier is not None and (best is None or tier < best[0]):
            best = (tier, index)
    return best[1] if best else None


def _name(number: int) -> str | None:
    if 0 < number <= MAX_SIGNAL:
        return SIGNAL_NAMES.get(number, f"SIG{number}")
    return None
