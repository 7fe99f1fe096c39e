"""One reader for every kernel-death message: what a pasted text tells.

``read(text)`` applies the signatures of ``signatures.toml`` (see ``troubleshooter.signatures``)
and returns a ``MessageReading``: the death (signal, exit code), the front end, each recognised line
with the entry that matched it, and the furthest step of the tree those lines justify.
``diagnose``, ``run``, ``walk`` and the wizard's deep links use it; the wizard's JavaScript
applies the same compiled signatures (``troubleshooter.compiled``) by the same rules:

1. ``prepare``: at most ``MAX_TEXT`` characters are read (longer text is cut, never an error);
   characters outside the Basic Multilingual Plane become U+FFFD and every line break
   (``\\r\\n``, ``\\r``, U+2028, U+2029) becomes ``\\n``, so Python and JavaScript count alike.
2. Each entry runs over the lines that hold one of its required ``literals`` (found in the
   text with its ASCII letters lowered; every line when it has none), in order: every match
   holds one and none crosses a line break, so this gives the matches a run over the whole
   text would. A line counts once, by its first match (a ``capture`` that reads as nothing
   does not count), and an entry stops at ``MAX_LINES`` lines;
   a ``fallback`` entry's line is dropped when another entry recognised that line.
3. The death comes from the first entry, in file order, that yields one (a fixed ``signal``, or
   a ``capture`` that ``signals.parse_signal`` / ``parse_exit_code`` reads), from its first
   match that yields one. The front end is the first matching entry's ``front_end``.
4. The step is the ``step`` of the first matching entry that proves, else of the first that
   suggests, else none. ``plan`` turns the death and the step into the answers they decide.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from itertools import accumulate
from typing import TYPE_CHECKING, Any

from .compiled import (
    COMPILED_FILE,
    JS_ASTRAL,
    JS_LINE_BREAK,
    MAX_TEXT,
    SIGNATURES_DATA,
    SIGNATURES_FILE,
    Signature,
    Signatures,
    current_compiled,
    prepare,
)
from .signals import (
    ALIASES,
    MAX_SIGNAL,
    SIGNALS,
    Death,
    answer_tier,
    best_answer,
    parse_exit_code,
    parse_signal,
)

if TYPE_CHECKING:
    from .model import Tree

MESSAGE_LIMIT = 4000  # characters read from a ?message= link
MAX_LINES = 20  # lines recorded per entry
LINE_SHOWN = 200  # characters of a recognised line kept for display


@functools.lru_cache(maxsize=None)  # noqa: UP033 (functools.cache: Python 3.9; the single file runs on 3.8)
def builtin_signatures() -> Signatures:
    """The package's own signatures, checked (cached for the process): the compiled form while
    it matches ``signatures.toml``, else the source through the full check."""
    if SIGNATURES_DATA is not None:  # the single file: compiled and checked when it was built
        return Signatures.from_compiled(SIGNATURES_DATA, "troubleshooter/signatures.toml")
    compiled = current_compiled(SIGNATURES_FILE, COMPILED_FILE)
    if compiled is not None:
        return Signatures.from_compiled(compiled, SIGNATURES_FILE)
    from .signatures import load_signatures  # the source changed since it was compiled

    return load_signatures(SIGNATURES_FILE)


@dataclass(frozen=True)
class Recognised:
    """A line of the text and the signature that matched it."""

    line: int  # 1-based
    text: str
    signature: Signature
    rank: int  # the signature's place in the file: lower wins


@dataclass(frozen=True)
class MessageReading:
    death: Death
    front_end: str | None
    lines: tuple[Recognised, ...]
    step: str | None
    signal_causes: dict[str, str]

    @property
    def proven(self) -> list[str]:
        """Cause ids a recognised line proves, in priority order."""
        return _unique(
            r.signature.cause for r in self._by_priority() if r.signature.strength == "proves"
        )

    @property
    def suggested(self) -> list[str]:
        """Cause ids the lines suggest (the death's signal included), in priority order."""
        found = [
            r.signature.cause for r in self._by_priority() if r.signature.strength == "suggests"
        ]
        if self.death.signal and self.death.signal in self.signal_causes:
            found.append(self.signal_causes[self.death.signal])
        return [cause for cause in _unique(found) if cause not in self.proven]

    def strength_for(self, cause: str) -> str | None:
        """ "proves", "suggests" or None: how strongly the text points at ``cause``."""
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
            lines.append(
                f"Line {recognised.line} ({recognised.text}): {recognised.signature.means}"
            )
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


SERVICE = "{{ service }}"  # a front end's name that stands for the configured service


def front_end_names(
    service: str = "your Jupyter service", signatures: Signatures | None = None
) -> dict[str, str]:
    """Front-end id -> display name, the configured service's name filled in."""
    signatures = signatures or builtin_signatures()
    return {
        key: service if name == SERVICE else name for key, name in signatures.front_ends.items()
    }


def reader_json(
    signatures: Signatures | None = None, service: str = "your Jupyter service"
) -> dict[str, Any]:
    """What the wizard's JavaScript needs to read a message as ``read`` does: the compiled
    signatures, the limits, the text preparation and the signal numbers."""
    signatures = signatures or builtin_signatures()
    return {
        "limit": MAX_TEXT,
        "message_limit": MESSAGE_LIMIT,
        "max_lines": MAX_LINES,
        "shown": LINE_SHOWN,
        "astral": JS_ASTRAL,
        "line_break": JS_LINE_BREAK,
        "front_ends": front_end_names(service, signatures),
        "signals": {"names": dict(SIGNALS), "aliases": dict(ALIASES), "max": MAX_SIGNAL},
        "signatures": [entry.to_json_dict() for entry in signatures.entries],
    }


def read(
    text: str | None, signatures: Signatures | None = None, limit: int = MAX_TEXT
) -> MessageReading:
    """What ``text`` tells (see the module docstring). Any text is fine; none gives nothing."""
    signatures = signatures or builtin_signatures()
    prepared = prepare(text or "", limit)
    # one byte per character, ASCII letters lowered: positions stay valid
    lowered = prepared.encode("ascii", "replace").lower()
    lines = prepared.split("\n")
    starts = [0, *accumulate(len(line) + 1 for line in lines)]  # starts[-1]: past the end
    found: list[tuple[int, int, Recognised]] = []
    death, front_end = Death(), None
    proving_step = suggesting_step = None
    for rank, entry in enumerate(signatures.entries):
        matched: list[int] = []
        for number in _lines_with(lowered, entry.needles, starts):
            for match in entry.regex.finditer(prepared, starts[number], starts[number + 1] - 1):
                candidate = _death(entry, match)
                if entry.capture and candidate == Death():
                    continue  # "signal SIGNOPE" names no signal: not a recognised line
                if death == Death():
                    death = candidate
                matched.append(number)
                break  # the line is recognised; its first such match told what it tells
            if len(matched) >= MAX_LINES:
                break
        if not matched:
            continue
        front_end = front_end or entry.front_end
        if entry.step and entry.strength == "proves":
            proving_step = proving_step or entry.step
        elif entry.step:
            suggesting_step = suggesting_step or entry.step
        for number in matched:
            shown = lines[number].strip(" \t\n\r\f\v")[:LINE_SHOWN]
            found.append((number, rank, Recognised(number + 1, shown, entry, rank)))
    specific = {number for number, _, recognised in found if not recognised.signature.fallback}
    found = [item for item in found if not item[2].signature.fallback or item[0] not in specific]
    found.sort(key=lambda item: (item[0], item[1]))
    return MessageReading(
        death=death,
        front_end=front_end,
        lines=tuple(recognised for _, _, recognised in found),
        step=proving_step or suggesting_step,
        signal_causes=dict(signatures.signal_causes),
    )


def _lines_with(lowered: bytes, needles: tuple[bytes, ...], starts: list[int]) -> Iterator[int]:
    """The numbers of the lines that hold one of ``needles``, in order, found as they are
    asked for (a reader stops after ``MAX_LINES``); every line when there are none. Every
    match holds a needle and none crosses a line break, so a pattern runs over these only."""
    if not needles:
        yield from range(len(starts) - 1)
        return
    ahead = [lowered.find(needle) for needle in needles]  # each needle's next place, or -1
    while True:
        places = [at for at in ahead if at != -1]
        if not places:
            return
        number = bisect.bisect_right(starts, min(places)) - 1
        yield number
        following = starts[number + 1]
        ahead = [
            at if at == -1 or at >= following else lowered.find(needles[index], following)
            for index, at in enumerate(ahead)
        ]


def death_in(text: str | None) -> Death:
    """The death a message names ("Kernel last terminated by signal SIGSEGV."), or ``Death()``."""
    return read(text).death


def death_from(
    signal: str | int | None = None,
    exit_code: str | int | None = None,
    message: str | None = None,
) -> Death:
    """The death the first of these says something about: the exit code, the signal, the
    message (read by ``read``). A value that does not parse is passed over, so a bad
    ``--exit-code`` still lets ``--signal`` or ``--message`` speak."""
    if exit_code is not None:
        found = parse_exit_code(exit_code)
        if found.signal or found.exit_code is not None:
            return found
    if signal is not None and (name := parse_signal(signal)):
        return Death(signal=name)
    return read(message).death if message else Death()


def wizard_path(tree: Tree, reading: MessageReading, death: Death | None = None) -> list[str]:
    """The answers the wizard opens with for a reading (``plan`` over the tree's JSON)."""
    return plan(tree.to_json_dict(), reading.death if death is None else death, reading.step)


def plan(tree: Mapping[str, Any], death: Death, step: str | None) -> list[str]:
    """The answers a message decides, on the tree as JSON (``Tree.to_json_dict``).

    First the death's deep link: from the start, while a question has an answer whose hints
    fit the death (``signals.best_answer``), take it. Then, if the reading named a ``step``,
    the shortest way on from there to it (ties: file order), through answers that claim
    nothing the death contradicts (no hints, or hints that fit); failing that, the
    shortest such way from the start; failing that, the shortest way of all from the start;
    failing that, the deep link alone.
    """
    nodes = tree.get("nodes", {})
    node_id: Any = tree.get("start")
    path: list[str] = []
    while isinstance(nodes.get(node_id), dict) and nodes[node_id].get("kind") == "question":
        answers = nodes[node_id].get("answers", [])
        index = best_answer(
            ((a.get("signals", []), a.get("exit_codes", [])) for a in answers), death
        )
        if index is None or len(path) > len(nodes):
            break
        path.append(answers[index]["id"])
        node_id = answers[index]["target"]
    if step is None or step not in nodes:
        return path
    for start, prefix, fitting in ((node_id, path, True), (tree.get("start"), [], True),
                                   (tree.get("start"), [], False)):  # fmt: skip
        if (found := _shortest(nodes, start, step, death if fitting else None)) is not None:
            return prefix + found
    return path


def _shortest(
    nodes: Mapping[str, Any], start: Any, goal: str, death: Death | None
) -> list[str] | None:
    """Breadth first, answers in file order; with ``death``, only answers that fit it."""
    todo: list[tuple[Any, list[str]]] = [(start, [])]
    seen = {start}
    while todo:
        current, path = todo.pop(0)
        if current == goal:
            return path
        node = nodes.get(current)
        if not isinstance(node, dict) or node.get("kind") != "question":
            continue
        for answer in node.get("answers", []):
            hints = (answer.get("signals", []), answer.get("exit_codes", []))
            if death is not None and any(hints) and answer_tier(*hints, death) is None:
                continue
            if answer["target"] not in seen:
                seen.add(answer["target"])
                todo.append((answer["target"], [*path, answer["id"]]))
    return None


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
