"""Load a decision tree from TOML and check it as a whole (the format: ``troubleshooter.model``).

``load_tree(path)`` reads a tree file, ``load_builtin(id)`` one shipped in
``troubleshooter/trees``. Every problem found is reported together in one
``TreeError``, one line each, every line naming the file.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from .causes import CAUSES
from .model import NOTES, PLATFORM_DEFAULTS, Answer, Node, Outcome, Question, Tree, TreeError
from .signals import ANY_SIGNAL, SIGNALS

TREES_DIR = Path(__file__).parent / "trees"
# Without a configured host (the terminal walk, diagnose) its notes would name no one's service.
DEFAULT_NOTES = tuple(note for note in NOTES if note != "host")
MAX_EXIT_CODE = 255

_ID = re.compile(r"[a-z][a-z0-9-]{0,62}")
_LABEL = re.compile(r"[a-z0-9][a-z0-9_.-]*")
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][\w-]*)\s*\}\}")
_RANGE = re.compile(r"([0-9]{1,3})\s*-\s*([0-9]{1,3})")


def builtin_ids() -> list[str]:
    """The ids of the trees shipped in ``troubleshooter/trees``."""
    return sorted(path.stem for path in TREES_DIR.glob("*.toml"))


def load_builtin(
    tree_id: str = "kernel-terminated",
    platform: Mapping[str, str] | None = None,
    notes: Iterable[str] | None = None,
) -> Tree:
    """A tree shipped with the package, by id (``platform``, ``notes``: see ``load_tree``)."""
    if not _ID.fullmatch(tree_id) or tree_id not in builtin_ids():
        known = ", ".join(builtin_ids()) or "none"
        raise TreeError(TREES_DIR, [f"no built-in tree {tree_id!r} (built-in trees: {known})"])
    return load_tree(TREES_DIR / f"{tree_id}.toml", platform, notes)


def load_tree(
    path: Path | str,
    platform: Mapping[str, str] | None = None,
    notes: Iterable[str] | None = None,
) -> Tree:
    """Read and check a tree file; ``platform`` overrides names in ``PLATFORM_DEFAULTS``,
    ``notes`` names the environment notes to keep in the steps (default ``DEFAULT_NOTES``).

    Raises ``TreeError`` listing every problem found, each line naming the file.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise TreeError(path, [f"cannot read the tree: {reason}"]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise TreeError(path, [f"not valid TOML: {error}"]) from None
    names = {
        **PLATFORM_DEFAULTS,
        **{
            k: v
            for k, v in (platform or {}).items()
            if k in PLATFORM_DEFAULTS and isinstance(v, str)
        },
    }
    kept = frozenset(DEFAULT_NOTES if notes is None else notes)
    return _Loader(path, names, kept).load(data)


_TREE_KEYS = {"id", "title", "start"}
_QUESTION_KEYS = {"id", "kind", "text", "check", "command", "cell", "answers"}
_OUTCOME_KEYS = {"id", "kind", "title", "cause", "text", "steps", "guide", "confirm"}
_ANSWER_KEYS = {"id", "label", "target", "signals", "exit_codes"}


class _Loader:
    """Turns parsed TOML into a ``Tree``, collecting every problem on the way."""

    def __init__(self, path: Path, platform: Mapping[str, str], notes: frozenset[str]) -> None:
        self.path = path
        self.platform = platform
        self.notes = notes
        self.problems: list[str] = []

    def load(self, data: dict[str, Any]) -> Tree:
        for key in sorted(set(data) - {"tree", "node"}):
            self.problems.append(f"unknown top-level key {key!r} (expected [tree] and [[node]])")
        header = self._table(data.get("tree"), "[tree]")
        tree_id = self._id(header, "[tree]")
        title = self._prose(header, "title", "[tree]")
        start = self._string(header, "start", "[tree]")
        self._unknown_keys(header, _TREE_KEYS, "[tree]")

        nodes, edges = self._nodes(data.get("node"))
        self._check_graph(start, nodes, edges)
        if self.problems:
            raise TreeError(self.path, self.problems)
        return Tree(tree_id, title, start, nodes, self.path, dict(self.platform))

    # nodes

    def _nodes(self, raw: Any) -> tuple[dict[str, Node], dict[str, list[tuple[str, str]]]]:
        """Parsed nodes, and the graph as node id -> [(answer id, target)] (even if malformed)."""
        nodes: dict[str, Node] = {}
        edges: dict[str, list[tuple[str, str]]] = {}
        if raw is None:
            self.problems.append("no [[node]] tables: a tree needs questions and outcomes")
            return nodes, edges
        if not isinstance(raw, list):
            self.problems.append("'node' must be an array of tables, written [[node]]")
            return nodes, edges
        for number, entry in enumerate(raw, start=1):
            where = f"node #{number}"
            if not isinstance(entry, dict):
                self.problems.append(f"{where}: must be a table, written [[node]]")
                continue
            node_id = self._id(entry, where)
            if node_id:
                where = f"node {node_id!r}"
                if node_id in edges:
                    self.problems.append(f"{where}: duplicate node id (node #{number})")
                    continue
                edges[node_id] = []
            kind = entry.get("kind")
            node: Node | None
            if kind == "question":
                node = self._question(node_id, entry, where, edges.get(node_id))
            elif kind == "outcome":
                node = self._outcome(node_id, entry, where)
            else:
                if kind is None:
                    self.problems.append(f"{where}: missing 'kind' (question or outcome)")
                else:
                    self.problems.append(
                        f"{where}: unknown kind {kind!r} (expected question or outcome)"
                    )
                node = None
            if node is not None and node_id:
                nodes[node_id] = node
        return nodes, edges

    def _question(
        self, node_id: str, entry: dict[str, Any], where: str, edges: list[tuple[str, str]] | None
    ) -> Question | None:
        self._unknown_keys(entry, _QUESTION_KEYS, where)
        text = self._prose(entry, "text", where)
        check = self._prose(entry, "check", where)
        command = self._string(entry, "command", where, required=False)
        cell = self._string(entry, "cell", where, required=False)
        raw_answers = entry.get("answers")
        answers: list[Answer] = []
        complete = True
        if raw_answers is None or raw_answers == []:
            self.problems.append(
                f"{where}: a question needs at least one answer ([[node.answers]])"
            )
            complete = False
        elif not isinstance(raw_answers, list):
            self.problems.append(f"{where}: 'answers' must be an array of tables")
            complete = False
        else:
            seen: set[str] = set()
            for number, raw in enumerate(raw_answers, start=1):
                answer = self._answer(raw, f"{where}, answer #{number}", edges)
                raw_id = raw.get("id") if isinstance(raw, dict) else None
                if isinstance(raw_id, str) and raw_id in seen:
                    self.problems.append(f"{where}: duplicate answer id {raw_id!r}")
                    complete = False
                elif answer is None:
                    complete = False
                else:
                    answers.append(answer)
                if isinstance(raw_id, str):
                    seen.add(raw_id)
        if not (node_id and text and check and complete):
            return None
        return Question(node_id, text, check, tuple(answers), command, cell)

    def _answer(self, raw: Any, where: str, edges: list[tuple[str, str]] | None) -> Answer | None:
        if not isinstance(raw, dict):
            self.problems.append(f"{where}: must be a table, written [[node.answers]]")
            return None
        answer_id = self._id(raw, where)
        if answer_id:
            where = f"{where.rsplit(', ', 1)[0]}, answer {answer_id!r}"
        self._unknown_keys(raw, _ANSWER_KEYS, where)
        label = self._prose(raw, "label", where)
        target = self._string(raw, "target", where)
        if target and edges is not None:
            edges.append((answer_id or "?", target))
        signals = self._signals(raw.get("signals", []), where)
        exit_codes = self._exit_codes(raw.get("exit_codes", []), where)
        if not (answer_id and label and target) or signals is None or exit_codes is None:
            return None
        return Answer(answer_id, label, target, signals, exit_codes)

    def _outcome(self, node_id: str, entry: dict[str, Any], where: str) -> Outcome | None:
        if "answers" in entry:
            self.problems.append(f"{where}: an outcome cannot have answers")
        self._unknown_keys(entry, _OUTCOME_KEYS | {"answers"}, where)
        title = self._prose(entry, "title", where)
        text = self._prose(entry, "text", where)
        confirm = self._prose(entry, "confirm", where)
        cause = self._string(entry, "cause", where)
        if cause and cause not in CAUSES:
            known = ", ".join(CAUSES)
            self.problems.append(f"{where}: unknown cause {cause!r} (known causes: {known})")
            cause = ""
        guide = self._string(entry, "guide", where)
        if guide and not _LABEL.fullmatch(guide):
            self.problems.append(f"{where}: {guide!r} is not a Sphinx label (lowercase, no spaces)")
            guide = ""
        steps = self._steps(entry, where)
        complete = title and text and confirm and cause and guide and steps
        if not (node_id and complete) or steps is None or "answers" in entry:
            return None
        return Outcome(node_id, title, cause, text, steps, guide, confirm)

    def _steps(self, entry: dict[str, Any], where: str) -> tuple[str, ...] | None:
        raw = entry.get("steps")
        if raw is None:
            self.problems.append(f"{where}: missing 'steps'")
            return None
        if not isinstance(raw, list) or not any(isinstance(s, str) for s in raw):
            self.problems.append(
                f"{where}: 'steps' must be a non-empty list of strings (with notes, if any)"
            )
            return None
        steps = []
        for number, step in enumerate(raw, start=1):
            text = self._step_text(step, f"{where}, step {number}")
            if text is None:
                return None
            filled = self._fill(text, f"{where}, step {number}")
            if not filled.strip():
                self.problems.append(f"{where}: step {number} is empty")
                return None
            if isinstance(step, str) or step["note"] in self.notes:
                steps.append(filled)
        return tuple(steps)

    def _step_text(self, step: Any, where: str) -> str | None:
        """A step's text: the string itself, or the ``text`` of a note (checked either way)."""
        if isinstance(step, str):
            return step
        if not isinstance(step, dict) or set(step) != {"note", "text"}:
            self.problems.append(f"{where}: a step is a string or {{ note = ..., text = ... }}")
            return None
        if step["note"] not in NOTES:
            known = ", ".join(NOTES)
            self.problems.append(f"{where}: unknown note {step['note']!r} (known notes: {known})")
            return None
        if not isinstance(step["text"], str):
            self.problems.append(f"{where}: a note's text must be a string")
            return None
        return step["text"]

    # deep-link hints

    def _signals(self, raw: Any, where: str) -> tuple[str, ...] | None:
        if not isinstance(raw, list) or not all(isinstance(s, str) for s in raw):
            self.problems.append(f"{where}: 'signals' must be a list of signal names")
            return None
        bad = [name for name in raw if name != ANY_SIGNAL and name not in SIGNALS]
        for name in bad:
            self.problems.append(
                f"{where}: unknown signal {name!r} in 'signals' "
                f"(use names such as 'SIGKILL', or '{ANY_SIGNAL}' for any signal)"
            )
        return None if bad else tuple(raw)

    def _exit_codes(self, raw: Any, where: str) -> tuple[tuple[int, int], ...] | None:
        if not isinstance(raw, list):
            self.problems.append(f"{where}: 'exit_codes' must be a list")
            return None
        ranges: list[tuple[int, int]] = []
        ok = True
        for value in raw:
            pair = _exit_range(value)
            if pair is None:
                self.problems.append(
                    f"{where}: bad exit code {value!r} in 'exit_codes' "
                    f'(use integers 0-{MAX_EXIT_CODE} or ranges such as "129-192")'
                )
                ok = False
            else:
                ranges.append(pair)
        return tuple(ranges) if ok else None

    # the graph

    def _check_graph(
        self, start: str, nodes: dict[str, Node], edges: dict[str, list[tuple[str, str]]]
    ) -> None:
        for node_id, links in edges.items():
            for answer_id, target in links:
                if target not in edges:
                    self.problems.append(
                        f"node {node_id!r}, answer {answer_id!r}: "
                        f"target {target!r} is not a node in this tree"
                    )
        if not start:
            return
        if start not in edges:
            self.problems.append(f"[tree]: start {start!r} is not a node in this tree")
            return
        if isinstance(nodes.get(start), Outcome):
            self.problems.append(f"[tree]: start {start!r} is an outcome; it must be a question")
        reachable = _reachable(start, edges)
        for node_id in edges:
            if node_id not in reachable:
                self.problems.append(f"node {node_id!r}: unreachable from start {start!r}")
        for cycle in _cycles(start, edges):
            self.problems.append(f"cycle: {' -> '.join(repr(n) for n in cycle)}")

    # fields

    def _table(self, raw: Any, where: str) -> dict[str, Any]:
        if raw is None:
            self.problems.append(f"missing the {where} table")
            return {}
        if not isinstance(raw, dict):
            self.problems.append(f"{where} must be a table")
            return {}
        return raw

    def _id(self, entry: dict[str, Any], where: str) -> str:
        value = self._string(entry, "id", where)
        if value and not _ID.fullmatch(value):
            self.problems.append(
                f"{where}: bad id {value!r} (lowercase letters, digits and hyphens, "
                "starting with a letter)"
            )
            return ""
        return value

    def _string(self, entry: dict[str, Any], key: str, where: str, required: bool = True) -> str:
        value = entry.get(key)
        if value is None:
            if required:
                self.problems.append(f"{where}: missing {key!r}")
            return ""
        if not isinstance(value, str):
            self.problems.append(f"{where}: {key!r} must be a string, not {type(value).__name__}")
            return ""
        if not value.strip():
            self.problems.append(f"{where}: {key!r} is empty")
            return ""
        return value.strip()

    def _prose(self, entry: dict[str, Any], key: str, where: str) -> str:
        value = self._string(entry, key, where)
        return self._fill(value, f"{where}, {key!r}") if value else ""

    def _fill(self, text: str, where: str) -> str:
        def name(match: re.Match[str]) -> str:
            key = match.group(1)
            if key not in self.platform:
                known = ", ".join(self.platform)
                self.problems.append(
                    f"{where}: unknown platform name {{{{ {key} }}}} (known names: {known})"
                )
                return match.group(0)
            return self.platform[key]

        return _PLACEHOLDER.sub(name, text)

    def _unknown_keys(self, entry: dict[str, Any], allowed: set[str], where: str) -> None:
        for key in sorted(set(entry) - allowed):
            self.problems.append(f"{where}: unknown field {key!r}")


def _exit_range(value: Any) -> tuple[int, int] | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return (value, value) if 0 <= value <= MAX_EXIT_CODE else None
    if isinstance(value, str) and (match := _RANGE.fullmatch(value.strip())):
        low, high = int(match.group(1)), int(match.group(2))
        if 0 <= low <= high <= MAX_EXIT_CODE:
            return low, high
    return None


def _reachable(start: str, edges: Mapping[str, list[tuple[str, str]]]) -> set[str]:
    seen = {start}
    todo = [start]
    while todo:
        for _, target in edges.get(todo.pop(), ()):
            if target in edges and target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def _cycles(start: str, edges: Mapping[str, list[tuple[str, str]]]) -> Iterator[list[str]]:
    """Each cycle reachable from ``start``, once per back edge, as the node ids around it."""
    done: set[str] = set()
    path = [start]
    pending = [iter(edges.get(start, ()))]
    while pending:
        step = next(pending[-1], None)
        if step is None:
            done.add(path.pop())
            pending.pop()
            continue
        target = step[1]
        if target in path:
            yield [*path[path.index(target) :], target]
        elif target in edges and target not in done:
            path.append(target)
            pending.append(iter(edges[target]))
