"""The pattern subset of ``troubleshooter/signatures.toml``.

A pattern is read identically by Python (``re.ASCII | re.MULTILINE`` and, unless
``case_sensitive``, ``re.IGNORECASE``) and JavaScript (flags ``gm`` / ``gim``, no ``u``), over
text prepared the same way on both sides (``messages.prepare``: cut, astral characters as
U+FFFD, every line break as ``\\n``):

- printable ASCII only; literal characters, ``.``, ``^``, ``$``, ``|``;
- escapes: ``\\d \\w \\b \\B \\t`` and a backslash before punctuation (no ``\\s``: Python's
  ASCII ``\\s`` and JavaScript's differ; write ``[ \\t]``);
- classes ``[...]`` of ASCII characters, ranges and the escapes above (no nested ``[``, no
  ``--``, ``&&``, ``~~`` or ``||`` inside, no leading ``]``); no negated class and no ``\\D``
  or ``\\W``, so no pattern can match a line break: every match lies within one line;
- groups ``(...)`` (at most one, and exactly one when ``capture`` is set) and ``(?:...)``;
  no lookaround, no backreference, no named group, no inline flag;
- quantifiers ``?``, ``{n}``, ``{m,n}`` (n <= 300), each optionally lazy (``??``, ``{m,n}?``);
  no ``*``, ``+`` or ``{m,}``: every repetition is bounded. A group may take ``?`` only, and
  only when nothing inside it is quantified (no nested quantifiers). The product of the
  choices of all quantifiers in a pattern stays under 2,000, so no pattern can backtrack
  catastrophically: its work per position of the text is bounded.
- a pattern matches at least 3 characters.

``check_pattern`` parses a pattern once and says every way it leaves the subset.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_REPEAT = 300
MAX_CHOICES = 2000
MIN_LENGTH = 3

_PUNCTUATION = set("\\^$.|?*+()[]{}-/#:,=!<>'\"`~@%&;_ ")
_CLASS_ESCAPES = set("dw")
_ANCHOR_ESCAPES = set("bB")


def check_pattern(pattern: str) -> tuple[list[str], int, tuple[str, ...]]:
    """(problems, number of capturing groups, required literals) for a pattern of the subset."""
    parser = _PatternParser(pattern)
    return parser.parse()


@dataclass
class _Item:
    kind: str  # "literal", "set", "anchor", "group"
    char: str = ""  # the literal character
    min: int = 1
    max: int = 1
    quantified: bool = False
    inner_quantified: bool = False  # for groups: something inside carries a quantifier
    choices: int = 1  # how many ways this item (and what it holds) can match, at most
    alternatives: list[list[_Item]] = field(default_factory=list)


class _PatternParser:
    def __init__(self, pattern: str) -> None:
        self.text = pattern
        self.at = 0
        self.problems: list[str] = []
        self.groups = 0

    def parse(self) -> tuple[list[str], int, tuple[str, ...]]:
        bad = sorted({ch for ch in self.text if not " " <= ch <= "~"})
        if bad:
            return [f"uses characters outside printable ASCII: {bad!r}"], 0, ()
        alternatives = self._alternatives()
        if self.at < len(self.text):
            self.problems.append(f"has an unmatched ')' at {self.at}")
        if self.problems:
            return self.problems, self.groups, ()
        choices = _choices(alternatives)
        if choices > MAX_CHOICES:
            self.problems.append(
                f"may backtrack too much: its quantifiers allow {choices} combinations "
                f"(at most {MAX_CHOICES})"
            )
        if _min_length(alternatives) < MIN_LENGTH:
            self.problems.append(f"can match fewer than {MIN_LENGTH} characters")
        return self.problems, self.groups, _required_literals(alternatives)

    def _peek(self) -> str:
        return self.text[self.at] if self.at < len(self.text) else ""

    def _alternatives(self) -> list[list[_Item]]:
        alternatives = [self._sequence()]
        while self._peek() == "|":
            self.at += 1
            alternatives.append(self._sequence())
        return alternatives

    def _sequence(self) -> list[_Item]:
        items: list[_Item] = []
        while self.at < len(self.text) and self._peek() not in "|)":
            start = self.at
            item = self._atom()
            if item is None:
                if self.at == start:
                    self.at += 1
                continue
            self._quantifier(item, start)
            items.append(item)
        return items

    def _atom(self) -> _Item | None:
        ch = self._peek()
        if ch == "(":
            return self._group()
        if ch == "[":
            return self._set()
        if ch in "*+":
            self.problems.append(
                f"uses the unbounded quantifier {ch!r} at {self.at}: write {{m,n}}"
            )
            self.at += 1
            return None
        if ch in "?{":
            self.problems.append(f"has a quantifier with nothing to repeat at {self.at}")
            self.at += 1
            return None
        if ch == "}" or ch == "]":
            self.problems.append(f"has an unescaped {ch!r} at {self.at}")
            self.at += 1
            return None
        if ch in "^$":
            self.at += 1
            return _Item("anchor")
        if ch == ".":
            self.at += 1
            return _Item("set")
        if ch == "\\":
            return self._escape(in_set=False)
        self.at += 1
        return _Item("literal", char=ch)

    def _escape(self, in_set: bool) -> _Item | None:
        where = self.at
        self.at += 1
        ch = self._peek()
        self.at += 1
        if ch in _CLASS_ESCAPES:
            return _Item("set")
        if ch in _ANCHOR_ESCAPES and not in_set:
            return _Item("anchor")
        if ch == "t":
            return _Item("literal", char="\t")
        if ch and ch in _PUNCTUATION:
            return _Item("literal", char=ch)
        self.problems.append(f"uses the escape '\\{ch}' at {where}, outside the subset")
        return None

    def _group(self) -> _Item | None:
        where = self.at
        self.at += 1
        if self.text.startswith("?:", self.at):
            self.at += 2
        elif self._peek() == "?":
            self.problems.append(f"uses a '(?' construct at {where} other than (?:...)")
            self.at += 1
        else:
            self.groups += 1
        alternatives = self._alternatives()
        if self._peek() != ")":
            self.problems.append(f"has an unclosed group from {where}")
            return None
        self.at += 1
        inner = any(
            item.quantified or item.inner_quantified for seq in alternatives for item in seq
        )
        return _Item("group", alternatives=alternatives, inner_quantified=inner,
                     choices=_choices(alternatives))  # fmt: skip

    def _set(self) -> _Item | None:
        where = self.at
        self.at += 1
        if self._peek() == "^":
            self.problems.append(f"has a negated class at {where}: it could match a line break")
            self.at += 1
        if self._peek() == "]":
            self.problems.append(f"has a class starting with ']' at {where}")
        members = 0
        previous = ""
        while self.at < len(self.text) and self._peek() != "]":
            ch = self._peek()
            pair = self.text[self.at : self.at + 2]
            if pair in ("--", "&&", "~~", "||"):
                self.problems.append(f"has {pair!r} inside a class at {self.at}")
            if ch == "[":
                self.problems.append(f"has an unescaped '[' inside a class at {self.at}")
            if ch == "\\":
                if self._escape(in_set=True) is None:
                    continue
                previous = self.text[self.at - 1]
            elif ch == "-" and previous and self.text[self.at + 1 : self.at + 2] not in ("]", ""):
                high = self.text[self.at + 1]
                if high == "\\" or high < previous:
                    self.problems.append(f"has a bad range at {self.at} inside a class")
                self.at += 2
                previous = ""
            else:
                previous = ch
                self.at += 1
            members += 1
        if self._peek() != "]":
            self.problems.append(f"has an unclosed class from {where}")
            return None
        self.at += 1
        if not members:
            self.problems.append(f"has an empty class at {where}")
        return _Item("set")

    def _quantifier(self, item: _Item, start: int) -> None:
        ch = self._peek()
        if ch == "?":
            low, high = 0, 1
            self.at += 1
        elif ch and ch in "*+":
            self.problems.append(
                f"uses the unbounded quantifier {ch!r} at {self.at}: write {{m,n}}"
            )
            self.at += 1
            return
        elif ch == "{":
            match = re.compile(r"\{([0-9]{1,3})(?:,([0-9]{1,3}))?\}").match(self.text, self.at)
            if not match:
                self.problems.append(
                    f"has a '{{' at {self.at} that is no {{n}} or {{m,n}} quantifier"
                )
                self.at += 1
                return
            low = int(match.group(1))
            high = int(match.group(2)) if match.group(2) is not None else low
            self.at = match.end()
            if high < low or high > MAX_REPEAT or high == 0:
                self.problems.append(
                    f"has the quantifier {match.group(0)} (need m <= n <= {MAX_REPEAT})"
                )
        else:
            return
        if self._peek() == "?":
            self.at += 1  # lazy
        if self._peek() in ("?", "*", "+", "{"):
            self.problems.append(f"stacks quantifiers at {self.at}")
        if item.kind == "anchor":
            self.problems.append(f"puts a quantifier on an anchor at {start}")
        if item.kind == "group" and (high != 1 or item.inner_quantified):
            self.problems.append(
                f"repeats a group at {start}: a group takes only '?', and only when nothing "
                "inside it is quantified (nested quantifiers can backtrack catastrophically)"
            )
        item.min, item.max, item.quantified = low, high, True
        item.choices *= high - low + 1


def _choices(alternatives: list[list[_Item]]) -> int:
    total = 0
    for sequence in alternatives:
        product = 1
        for item in sequence:
            product *= item.choices
        total += product
    return total


def _min_length(alternatives: list[list[_Item]]) -> int:
    def item_length(item: _Item) -> int:
        if item.kind == "anchor":
            return 0
        if item.kind == "group":
            return item.min * _min_length(item.alternatives)
        return item.min

    return min(sum(item_length(item) for item in sequence) for sequence in alternatives)


def _required_literals(alternatives: list[list[_Item]]) -> tuple[str, ...]:
    """Lowercase strings of which every match contains one: for each alternative, its longest
    run of plain characters, or the literals of a group it must pass through, whichever has
    the longer shortest member; () when some alternative has none of 3 or more."""
    found: list[str] = []
    for sequence in alternatives:
        best: tuple[str, ...] = ()
        run = ""

        def better(option: tuple[str, ...]) -> None:
            nonlocal best
            if option and (not best or min(map(len, option)) > min(map(len, best))):
                best = option

        for item in sequence:
            if item.kind == "literal" and not item.quantified:
                run += item.char.lower()
                better((run,))
                continue
            if item.kind == "group" and not item.quantified:
                better(_required_literals(item.alternatives))
            run = ""
        if not best or min(map(len, best)) < 3:
            return ()
        found.extend(best)
    return tuple(dict.fromkeys(found))
