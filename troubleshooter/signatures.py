"""What a kernel-death message can tell, as data: ``signatures.toml`` beside the trees.

FORMAT (``troubleshooter/signatures.toml``):

- ``[front_ends]``: front-end id -> display name ("vscode" = "VS Code").
- ``[signal_causes]``: signal name -> the cause id (``troubleshooter.causes``) that signal
  alone points at (SIGKILL -> "out-of-memory").
- ``[[signature]]`` tables, in priority order (the first entry that tells something wins):
  ``id`` (lowercase letters, digits, hyphens), ``pattern`` (the regex subset below),
  ``means`` (one plain sentence), ``strength`` ("proves" or "suggests"), ``examples``
  (at least one ``{ text, source }``: a real line and the public page it was copied from),
  and what a match tells: ``front_end`` (an id of ``[front_ends]``), ``signal`` (a name of
  ``troubleshooter.signals.SIGNALS``), ``capture`` ("signal" or "exit_code": group 1 of the
  match holds it, read by ``signals.parse_signal`` / ``parse_exit_code``), ``cause`` (a cause
  id), ``step`` (a node id of the tree: the furthest step the line justifies; an entry that
  only suggests must name a question, not an outcome), ``case_sensitive`` (default false),
  ``fallback`` (default false; true for the plain forms, which count on a line only when no
  other entry recognised it).

THE PATTERN SUBSET is described and checked in ``troubleshooter.patterns``.

Loading checks the file as a whole, like the tree loader: every problem, one line each,
each naming the file and the entry id, in one ``SignatureError``. The readers take the
checked file's compiled form (``troubleshooter.compiled``), which ``write_compiled`` writes
(``python -m troubleshooter.signatures`` after an edit; a test fails until it is current).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .causes import CAUSES
from .compiled import (
    COMPILED_FILE,
    MAX_TEXT,
    SIGNATURES_FILE,
    Example,
    Signature,
    Signatures,
    compile_pattern,
    prepare,
    source_stamp,
)
from .patterns import check_pattern
from .signals import SIGNALS

__all__ = [
    "COMPILED_PATH", "MAX_TEXT", "SIGNATURES_PATH", "Example", "Signature", "SignatureError",
    "Signatures", "check_steps", "load_signatures", "prepare",
    "write_compiled",
]  # fmt: skip

SIGNATURES_PATH = Path(SIGNATURES_FILE)
COMPILED_PATH = Path(COMPILED_FILE)
STRENGTHS = ("proves", "suggests")
CAPTURES = ("signal", "exit_code")

_ID = re.compile(r"[a-z][a-z0-9-]{0,62}")
_SIGNATURE_KEYS = {
    "id", "pattern", "means", "strength", "examples", "front_end", "signal", "capture",
    "cause", "step", "case_sensitive", "fallback",
}  # fmt: skip


class SignatureError(ValueError):
    """A broken signatures file: every problem found, one line each, naming the file."""

    def __init__(self, source: Path | str, problems: Sequence[str]) -> None:
        self.source = str(source)
        self.problems = list(problems)
        super().__init__("\n".join(f"{self.source}: {problem}" for problem in self.problems))


def load_signatures(path: Path | str) -> Signatures:
    """Read and check a signatures file; raise ``SignatureError`` listing every problem."""
    import tomllib

    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise SignatureError(path, [f"cannot read: {error}"]) from None
    return _Loader(path).load(data)


def write_compiled(source: Path = SIGNATURES_PATH, target: Path = COMPILED_PATH) -> Path:
    """Check ``source`` in full and write its compiled form, stamped, to ``target``."""
    import json

    raw = source.read_bytes()
    compiled = load_signatures(source).to_compiled(stamp=source_stamp(raw))
    target.write_text(json.dumps(compiled, indent=1, ensure_ascii=True) + "\n", encoding="utf-8")
    return target


def check_steps(signatures: Signatures, node_kinds: Mapping[str, str]) -> list[str]:
    """Problems with the entries' ``step``: unknown nodes, or a suggesting entry naming an
    outcome. ``node_kinds`` maps each node id of the tree to "question" or "outcome"."""
    problems = []
    for entry in signatures.entries:
        if entry.step is None:
            continue
        kind = node_kinds.get(entry.step)
        if kind is None:
            problems.append(f"signature {entry.id!r}: step {entry.step!r} is no node of the tree")
        elif kind == "outcome" and entry.strength != "proves":
            problems.append(
                f"signature {entry.id!r}: step {entry.step!r} is an outcome, but the entry "
                "only suggests: name a question"
            )
    return problems


class _Loader:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[str] = []

    def load(self, data: dict[str, Any]) -> Signatures:
        front_ends = self._names(data.get("front_ends"), "front_ends")
        signal_causes = self._names(data.get("signal_causes"), "signal_causes")
        for name, cause in signal_causes.items():
            if name not in SIGNALS:
                self.problems.append(f"signal_causes: {name!r} is not a known signal name")
            if cause not in CAUSES:
                self.problems.append(f"signal_causes: {name}: unknown cause {cause!r}")
        for key in set(data) - {"front_ends", "signal_causes", "signature"}:
            self.problems.append(f"unknown table {key!r}")
        raw = data.get("signature")
        entries: list[Signature] = []
        seen: set[str] = set()
        if not isinstance(raw, list) or not raw:
            self.problems.append("no [[signature]] entries")
            raw = []
        for index, item in enumerate(raw):
            entry = self._signature(item, index, front_ends)
            if entry is None:
                continue
            if entry.id in seen:
                self.problems.append(f"signature {entry.id!r}: the id is used twice")
            seen.add(entry.id)
            entries.append(entry)
        if self.problems:
            raise SignatureError(self.path, self.problems)
        return Signatures(tuple(entries), front_ends, signal_causes, str(self.path))

    def _names(self, raw: Any, table: str) -> dict[str, str]:
        if raw is None:
            return {}
        if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
            self.problems.append(f"{table}: must be a table of strings")
            return {}
        return dict(raw)

    def _signature(self, item: Any, index: int, front_ends: Mapping[str, str]) -> Signature | None:
        if not isinstance(item, dict):
            self.problems.append(f"signature #{index + 1}: must be a table")
            return None
        entry_id = item.get("id")
        if not isinstance(entry_id, str) or not _ID.fullmatch(entry_id):
            self.problems.append(f"signature #{index + 1}: missing or malformed id {entry_id!r}")
            return None
        where = f"signature {entry_id!r}"
        before = len(self.problems)
        for key in sorted(set(item) - _SIGNATURE_KEYS):
            self.problems.append(f"{where}: unknown key {key!r}")
        pattern = self._text(item, "pattern", where)
        means = self._text(item, "means", where)
        strength = item.get("strength")
        if strength not in STRENGTHS:
            self.problems.append(
                f"{where}: strength must be 'proves' or 'suggests', not {strength!r}"
            )
        options = self._options(item, where, front_ends)
        case_sensitive = item.get("case_sensitive", False)
        fallback = item.get("fallback", False)
        if not isinstance(case_sensitive, bool) or not isinstance(fallback, bool):
            self.problems.append(f"{where}: case_sensitive and fallback must be true or false")
            case_sensitive = fallback = False
        if not any(options.get(key) for key in ("front_end", "signal", "capture", "cause", "step")):
            self.problems.append(
                f"{where}: tells nothing (give a front_end, signal, capture, cause or step)"
            )
        if options.get("step") and not options.get("cause") and strength == "proves":
            self.problems.append(f"{where}: proves a step but names no cause")
        literals: tuple[str, ...] = ()
        regex = None
        if pattern:
            problems, groups, literals = check_pattern(pattern)
            self.problems.extend(f"{where}: pattern {problem}" for problem in problems)
            wanted = 1 if options.get("capture") else 0
            if not problems and groups != wanted:
                self.problems.append(
                    f"{where}: pattern has {groups} capturing group(s); "
                    + (
                        "capture needs exactly one"
                        if wanted
                        else "use (?:...) when nothing is captured"
                    )
                )
            if not problems:
                try:
                    regex = compile_pattern(pattern, case_sensitive)
                except re.error as error:
                    self.problems.append(f"{where}: pattern does not compile: {error}")
        examples = self._examples(item.get("examples"), where, regex)
        if len(self.problems) > before or regex is None:
            return None
        return Signature(
            id=entry_id, pattern=pattern, means=means, strength=str(strength),
            examples=examples, case_sensitive=case_sensitive, fallback=fallback,
            literals=literals, **options,
        )  # fmt: skip

    def _options(
        self, item: dict[str, Any], where: str, front_ends: Mapping[str, str]
    ) -> dict[str, Any]:
        options: dict[str, Any] = {}
        checks = {
            "front_end": (front_ends, "front end (see [front_ends])"),
            "signal": (SIGNALS, "signal name"),
            "capture": (CAPTURES, "capture ('signal' or 'exit_code')"),
            "cause": (CAUSES, "cause id (troubleshooter/causes.py)"),
        }
        for key, (known, what) in checks.items():
            value = item.get(key)
            if value is None:
                continue
            if not isinstance(value, str) or value not in known:
                self.problems.append(f"{where}: {key} {value!r} is not a known {what}")
                continue
            options[key] = value
        step = item.get("step")
        if step is not None:
            if isinstance(step, str) and _ID.fullmatch(step):
                options["step"] = step
            else:
                self.problems.append(f"{where}: step {step!r} is not a node id")
        if options.get("signal") and options.get("capture"):
            self.problems.append(f"{where}: give a signal or a capture, not both")
        return options

    def _text(self, item: dict[str, Any], key: str, where: str) -> str:
        value = item.get(key)
        if not isinstance(value, str) or not value.strip():
            self.problems.append(f"{where}: missing {key}")
            return ""
        return value

    def _examples(self, raw: Any, where: str, regex: re.Pattern[str] | None) -> tuple[Example, ...]:
        if not isinstance(raw, list) or not raw:
            self.problems.append(f"{where}: needs at least one example with its source")
            return ()
        examples = []
        for number, example in enumerate(raw, 1):
            if not isinstance(example, dict) or set(example) != {"text", "source"}:
                self.problems.append(f"{where}: example {number} must have text and source only")
                continue
            text, source = example["text"], example["source"]
            if not isinstance(text, str) or not text.strip():
                self.problems.append(f"{where}: example {number} has no text")
                continue
            if not isinstance(source, str) or not source.startswith("https://"):
                self.problems.append(f"{where}: example {number} needs a public https:// source")
                continue
            if regex is not None and not regex.search(prepare(text)):
                self.problems.append(f"{where}: example {number} does not match the pattern")
            examples.append(Example(text, source))
        return tuple(examples)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m troubleshooter.signatures``: check the file, write the compiled form."""
    try:
        written = write_compiled()
    except SignatureError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"wrote {written}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
