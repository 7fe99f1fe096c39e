"""One reader for every kernel-death message: what a pasted text tells.

``read(text)`` applies the signatures of ``signatures.toml`` (see ``troubleshooter.signatures``)
and returns a ``Reading``: the death (signal, exit code), the front end, each recognised line
with the entry that matched it, and the furthest step of the tree those lines justify.
``diagnose``, ``run``, ``walk`` and the wizard's deep links use it; the wizard's JavaScript
applies the same compiled signatures (``Signatures.to_json_dict``) by the same rules:

1. ``prepare``: at most ``MAX_TEXT`` characters are read (longer text is cut, never an error);
   characters outside the Basic Multilingual Plane become U+FFFD and every line break
   (``\\r\\n``, ``\\r``, U+2028, U+2029) becomes ``\\n``, so Python and JavaScript count alike.
2. Every entry runs over the whole text (multiline); each line it matches is recorded once,
   at most ``MAX_LINES`` lines per entry.
3. The death comes from the first entry, in file order, that yields one (a fixed ``signal``, or
   a ``capture`` that ``signals.parse_signal`` / ``parse_exit_code`` reads), from its first
   match that yields one. The front end is the first matching entry's ``front_end``.
4. The step is the ``step`` of the first matching entry that proves, else of the first that
   suggests, else none (the death's deep link then decides, see ``wizard_path``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .signals import ALIASES, MAX_SIGNAL, SIGNALS, Death, parse_exit_code, parse_signal
from .signatures import (
    JS_ASTRAL,
    JS_LINE_BREAK,
    MAX_TEXT,
    Signature,
    Signatures,
    load_builtin,
    prepare,
)

if TYPE_CHECKING:
    from .model import Tree

MESSAGE_LIMIT = 4000  # characters read from a ?message= link
MAX_LINES = 20  # lines recorded per entry
LINE_SHOWN = 200  # characters of a recognised line kept for display


@dataclass(frozen=True)
class Recognised:
    """A line of the text and the signature that matched it."""

    line: int  # 1-based
    text: str
    signature: Signature
    rank: int  # the signature's place in the file: lower wins


@dataclass(frozen=True)
class Reading:
    death: Death
    front_end: str | None
    lines: tuple[Recognised, ...]
    step: str | None
    signal_causes: dict[str, str]

    @property
    def proven(self) -> list[str]:
        """Cause ids a recognised line proves, in priority order."""
        return _unique(r.signature.cause for r in self._by_priority() if r.signature.strength == "proves")

    @property
    def suggested(self) -> list[str]:
        """Cause ids the lines suggest (the death's signal included), in priority order."""
        found = [r.signature.cause for r in self._by_priority() if r.signature.strength == "suggests"]
        if self.death.signal and self.death.signal in self.signal_causes:
            found.append(self.signal_causes[self.death.signal])
        return [cause for cause in _unique(found) if cause not in self.proven]

    def strength_for(self, cause: str) -> str | None:
        """"proves", "suggests" or None: how strongly the text points at ``cause``."""
        if cause in self.proven:
            return "proves"
        if cause in self.suggested:
            return "suggests"
        return None

    def evidence(self) -> list[str]:
        """One sentence per recognised signature, for a verdict's evidence."""
        lines, seen = [], set()
        for recognised in self.lines:
            if recognised.signature.id in seen:
                continue
            seen.add(recognised.signature.id)
            lines.append(f"Line {recognised.line} ({recognised.text}): {recognised.signature.means}")
        return lines

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "death": {"signal": self.death.signal, "exit_code": self.death.exit_code},
            "front_end": self.front_end,
            "step": self.step,
            "lines": [
                {"line": r.line, "text": r.text, "signature": r.signature.id,
                 "strength": r.signature.strength, "cause": r.signature.cause}
                for r in self.lines
            ],
            "proven": self.proven,
            "suggested": self.suggested,
        }  # fmt: skip

    def _by_priority(self) -> list[Recognised]:
        first: dict[str, Recognised] = {}
        for recognised in self.lines:
            first.setdefault(recognised.signature.id, recognised)
        return sorted(first.values(), key=lambda recognised: recognised.rank)


def reader_json(signatures: Signatures | None = None) -> dict[str, Any]:
    """What the wizard's JavaScript needs to read a message as ``read`` does: the compiled
    signatures, the limits, the text preparation and the signal numbers."""
    signatures = signatures or load_builtin()
    return {
        "limit": MAX_TEXT,
        "message_limit": MESSAGE_LIMIT,
        "max_lines": MAX_LINES,
        "shown": LINE_SHOWN,
        "astral": JS_ASTRAL,
        "line_break": JS_LINE_BREAK,
        "front_ends": dict(signatures.front_ends),
        "signals": {"names": dict(SIGNALS), "aliases": dict(ALIASES), "max": MAX_SIGNAL},
        "signatures": [entry.to_json_dict() for entry in signatures.entries],
    }


def read(text: str | None, signatures: Signatures | None = None, limit: int = MAX_TEXT) -> Reading:
    """What ``text`` tells (see the module docstring). Any text is fine; none gives nothing."""
    signatures = signatures or load_builtin()
    prepared = prepare(text or "", limit)
    lowered = prepared.lower()
    lines = prepared.split("\n")
    found: list[tuple[int, int, Recognised]] = []
    death, front_end = Death(), None
    proving_step = suggesting_step = None
    for rank, entry in enumerate(signatures.entries):
        if entry.literals and not any(literal in lowered for literal in entry.literals):
            continue
        matched_lines: list[int] = []
        line, counted_to = 0, 0
        for match in entry.regex.finditer(prepared):
            line += prepared.count("\n", counted_to, match.start())
            counted_to = match.start()
            candidate = _death(entry, match)
            if entry.capture and candidate == Death():
                continue  # "signal SIGNOPE" names no signal: not a recognised line
            if death == Death():
                death = candidate
            if matched_lines and matched_lines[-1] == line:
                continue
            matched_lines.append(line)
            if len(matched_lines) >= MAX_LINES:
                break
        if not matched_lines:
            continue
        front_end = front_end or entry.front_end
        if entry.step and entry.strength == "proves":
            proving_step = proving_step or entry.step
        elif entry.step:
            suggesting_step = suggesting_step or entry.step
        for number in matched_lines:
            shown = lines[number].strip(" \t\n\r\f\v")[:LINE_SHOWN]
            found.append((number, rank, Recognised(number + 1, shown, entry, rank)))
    found.sort(key=lambda item: (item[0], item[1]))
    return Reading(
        death=death,
        front_end=front_end,
        lines=tuple(recognised for _, _, recognised in found),
        step=proving_step or suggesting_step,
        signal_causes=dict(signatures.signal_causes),
    )


def wizard_path(tree: Tree, reading: Reading) -> list[str]:
    """The answers the wizard opens with for a reading: the death's deep link, extended to
    the reading's step when the step lies below where the link stops; else the first path
    from the start to the step; else the deep link alone."""
    path = tree.deep_link(reading.death)
    if reading.step is None or reading.step not in tree.nodes:
        return path
    here = tree.follow(path).id
    if (below := path_from(tree, here, reading.step)) is not None:
        return path + below
    return path_from(tree, tree.start, reading.step) or path


def path_from(tree: Tree, start: str, node_id: str) -> list[str] | None:
    """The first path from ``start`` to ``node_id``, depth first in file order, or None."""
    from .model import Question

    def visit(current: str, path: list[str], seen: frozenset[str]) -> list[str] | None:
        if current == node_id:
            return path
        node = tree.nodes.get(current)
        if not isinstance(node, Question) or current in seen:
            return None
        for answer in node.answers:
            if (found := visit(answer.target, [*path, answer.id], seen | {current})) is not None:
                return found
        return None

    return visit(start, [], frozenset())


def _death(entry: Signature, match: re.Match[str]) -> Death:
    if entry.signal:
        return Death(signal=entry.signal)
    if entry.capture == "signal":
        return Death(signal=parse_signal(match.group(1)))
    if entry.capture == "exit_code":
        return parse_exit_code(match.group(1))
    return Death()


def _unique(values: Any) -> list[str]:
    return list(dict.fromkeys(value for value in values if value))
