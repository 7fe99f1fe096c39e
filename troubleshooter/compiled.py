"""The signatures as every reader uses them: checked once, then read as plain data.

``signatures.toml`` is the source (its format and its checking loader are in
``troubleshooter.signatures``). Checking it (the pattern subset of ``troubleshooter.patterns``,
every example against its pattern) costs more than a start of ``diagnose`` may spend, so the
readers take the *compiled form* the checker writes: per entry its pattern, flags, what it
tells and its required literals (``Signature.to_json_dict``), plus the front ends and the
signal causes. The same form goes to the wizard's JavaScript and into the single-file
diagnose; the package keeps it beside the source as ``signatures.compiled.json``, stamped
with the CRC-32 and length of the ``signatures.toml`` it was made from.

``current_compiled`` gives the compiled file's data only while its stamp matches the source's
bytes; ``troubleshooter.messages.builtin_signatures`` loads a source edited since (a developer's,
or an installed copy changed by hand) through the full check instead, so a bad pattern is still
refused with file and id.
``python -m troubleshooter.signatures`` writes the compiled file; a test checks it is current.
Each pattern is compiled to a regex only when a text first needs it.
"""

from __future__ import annotations

import functools
import json
import os
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# plain strings: pathlib costs the single file a few milliseconds of imports at every start
SIGNATURES_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "signatures.toml")
COMPILED_FILE = os.path.join(os.path.dirname(SIGNATURES_FILE), "signatures.compiled.json")
COMPILED_FORMAT = 1
MAX_TEXT = 65536  # characters of a text read at most

# Both readers prepare a text alike before any pattern runs (see prepare); JavaScript's half:
JS_ASTRAL = "[\\uD800-\\uDBFF][\\uDC00-\\uDFFF]"
JS_LINE_BREAK = "\\r\\n?|[\\u2028\\u2029]"
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_LINE_BREAK = re.compile("\r\n?|[\u2028\u2029]")
_TELLS = ("front_end", "signal", "capture", "cause", "step")


def prepare(text: str, limit: int = MAX_TEXT) -> str:
    """The text as both readers see it: cut to ``limit`` characters, astral characters as
    U+FFFD (JavaScript counts them twice), every line break as ``\\n``."""
    text = text[:limit]  # an astral character is one character in Python: cut first
    if not text.isascii() and len(text.encode("utf-16-le", "surrogatepass")) > 2 * len(text):
        text = _ASTRAL.sub("\ufffd", text)  # (a quick count first: most texts have none)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.isascii() and ("\u2028" in text or "\u2029" in text):
        text = _LINE_BREAK.sub("\n", text)
    return text


@dataclass(frozen=True)
class Example:
    text: str
    source: str


@dataclass(frozen=True)
class Signature:
    id: str
    pattern: str
    means: str
    strength: str
    examples: tuple[Example, ...] = ()  # kept by the checking loader; not in the compiled form
    front_end: str | None = None
    signal: str | None = None
    capture: str | None = None
    cause: str | None = None
    step: str | None = None
    case_sensitive: bool = False
    fallback: bool = False  # counts on a line only when no other entry recognised it
    literals: tuple[str, ...] = ()  # one of these (lowercase) is in every match, or ()

    @functools.cached_property
    def regex(self) -> re.Pattern[str]:
        """The pattern compiled for Python (on first use: most texts need few of them)."""
        return compile_pattern(self.pattern, self.case_sensitive)

    @functools.cached_property
    def needles(self) -> tuple[bytes, ...]:
        """``literals`` as ASCII bytes, for a fast search."""
        return tuple(literal.encode("ascii") for literal in self.literals)

    @property
    def js_flags(self) -> str:
        return "gm" if self.case_sensitive else "gim"

    def to_json_dict(self) -> dict[str, Any]:
        """The entry's compiled form (what the wizard and the single file read)."""
        entry: dict[str, Any] = {"id": self.id, "source": self.pattern, "flags": self.js_flags}
        for key in _TELLS:
            if (value := getattr(self, key)) is not None:
                entry[key] = value
        entry["strength"] = self.strength
        entry["means"] = self.means
        if self.fallback:
            entry["fallback"] = True
        if self.literals:
            entry["literals"] = list(self.literals)
        return entry

    @classmethod
    def from_json_dict(cls, entry: Mapping[str, Any]) -> Signature:
        return cls(
            id=entry["id"], pattern=entry["source"], means=entry["means"],
            strength=entry["strength"], case_sensitive="i" not in entry["flags"],
            fallback=bool(entry.get("fallback", False)),
            literals=tuple(entry.get("literals", ())),
            **{key: entry[key] for key in _TELLS if key in entry},
        )  # fmt: skip


def compile_pattern(pattern: str, case_sensitive: bool) -> re.Pattern[str]:
    flags = re.ASCII | re.MULTILINE | (0 if case_sensitive else re.IGNORECASE)
    return re.compile(pattern, flags)


@dataclass(frozen=True)
class Signatures:
    entries: tuple[Signature, ...]
    front_ends: Mapping[str, str]
    signal_causes: Mapping[str, str]
    source: str = ""

    def by_id(self, signature_id: str) -> Signature | None:
        return next((entry for entry in self.entries if entry.id == signature_id), None)

    def to_compiled(self, stamp: str | None = None) -> dict[str, Any]:
        """The compiled form of the whole file (``stamp``: of the source it was made from)."""
        data: dict[str, Any] = {"format": COMPILED_FORMAT}
        if stamp is not None:
            data["stamp"] = stamp
        data["front_ends"] = dict(self.front_ends)
        data["signal_causes"] = dict(self.signal_causes)
        data["signatures"] = [entry.to_json_dict() for entry in self.entries]
        return data

    @classmethod
    def from_compiled(cls, data: Mapping[str, Any], source: str = "") -> Signatures:
        return cls(
            entries=tuple(Signature.from_json_dict(entry) for entry in data["signatures"]),
            front_ends=dict(data["front_ends"]),
            signal_causes=dict(data["signal_causes"]),
            source=source,
        )


def source_stamp(raw: bytes) -> str:
    """What identifies a source file's content: its length and CRC-32."""
    return f"{len(raw)}:{zlib.crc32(raw):08x}"


SIGNATURES_DATA: dict[str, Any] | None = None  # the single file carries the compiled form here


def current_compiled(
    source: str = SIGNATURES_FILE, compiled: str = COMPILED_FILE
) -> dict[str, Any] | None:
    """The data of ``compiled`` if it was made from ``source`` as it is now, else ``None``."""
    try:
        with open(source, "rb") as source_file, open(compiled, "rb") as compiled_file:
            stamp = source_stamp(source_file.read())
            data = json.loads(compiled_file.read())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != COMPILED_FORMAT:
        return None
    return data if data.get("stamp") == stamp else None
