"""The decision tree as data: frozen dataclasses, loaded from TOML and checked once.

CONTRACT (shared by the loader, the wizard, the terminal walk and diagnose):

- A tree file ``troubleshooter/trees/<tree-id>.toml`` has a ``[tree]`` table
  (``id``, ``title``, ``start``) and ``[[node]]`` tables. A node is a question
  (``kind = "question"``) or an outcome (``kind = "outcome"``). Nodes keep their
  file order everywhere (JSON, paths, listings).
- Ids (tree, node, answer) are lowercase letters, digits and hyphens, starting
  with a letter: they travel in URLs (``?step=NODE_ID``) and HTML ids.
- ``Question``: ``id``, ``text`` (the question), ``check`` (how to find the
  answer, prose) and optional ``command`` (a copy-paste check, shown verbatim),
  ``answers`` (at least one).
- ``Answer``: ``id`` (unique within its question; ``walk --answer ID`` and the
  wizard's URLs use it), ``label`` (what the reader clicks), ``target`` (a node
  id), and optional deep-link hints saying which banner this answer fits:
  ``signals`` (canonical names from ``troubleshooter.signals.SIGNALS`` such as
  ``"SIGKILL"``, or ``"*"`` for any signal) and ``exit_codes`` (integers 0-255,
  or inclusive ranges written as strings, ``"129-192"``; loaded as ``(low,
  high)`` pairs).
- ``Outcome``: ``id``, ``title``, ``cause`` (an id from ``troubleshooter.causes``),
  ``text`` (what happened), ``steps`` (the fix, in order, at least one),
  ``guide`` (a Sphinx label; checked at build time, see ``guide_labels``),
  ``confirm`` (how to tell the fix worked).
- Prose (``text``, ``check``, ``label``, ``title``, ``steps``, ``confirm``) may
  contain inline code in backticks and nothing else of markup, plus platform
  names written ``{{ name }}`` (the keys of ``PLATFORM_DEFAULTS``, the same as
  ``troubleshooter_platform`` in conf.py). They are filled in when the tree is
  loaded, so consumers never see braces. ``command`` is never filled in.

The graph is checked as a whole when loaded: every problem found is reported
together in one ``TreeError``, one line each, every line naming the file.

DEEP LINKS (``Tree.deep_link``; the wizard's JavaScript follows the same rule):
start at the start node. While the current node is a question, choose one of its
answers by the first of these tiers that matches any answer, taking the first
matching answer in file order within that tier:

1. the death has an exit code, and it lies in one of the answer's ``exit_codes``
   ranges;
2. the death has a signal, and the answer's ``signals`` lists that name;
3. the death has a signal, and the answer's ``signals`` contains ``"*"``.

Follow the chosen answer to its target and repeat. Stop at an outcome or at a
question where no answer matches. The result is the list of answer ids taken:
``[]`` (the start) for ``None`` or a death with neither signal nor exit code.
A death is what ``troubleshooter.signals`` parses: exit code 137 gives
``Death(signal="SIGKILL", exit_code=137)`` and so follows the exit-code route,
while ``?signal=137`` gives ``Death(signal="SIGKILL")`` and the signal route.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from .causes import CAUSES
from .signals import SIGNALS, Death

TREES_DIR = Path(__file__).parent / "trees"
ANY_SIGNAL = "*"
MAX_EXIT_CODE = 255

# Generic names for the hosting service; the Sphinx build passes the configured
# ``troubleshooter_platform`` instead, the terminal walk uses these.
PLATFORM_DEFAULTS: dict[str, str] = {
    "service": "your Jupyter service",
    "support_email": "",
    "unit": "project",
    "settings_page": "the settings page",
    "plain_server": "plain Jupyter server",
    "restart_button": "Restart",
    "memory_meter": "the memory indicator",
}

_ID = re.compile(r"[a-z][a-z0-9-]{0,62}")
_LABEL = re.compile(r"[a-z0-9][a-z0-9_.-]*")
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][\w-]*)\s*\}\}")
_RANGE = re.compile(r"([0-9]{1,3})\s*-\s*([0-9]{1,3})")


@dataclass(frozen=True)
class Answer:
    id: str
    label: str
    target: str
    signals: tuple[str, ...] = ()
    exit_codes: tuple[tuple[int, int], ...] = ()

    def match_tier(self, death: Death) -> int | None:
        """1, 2 or 3 when this answer fits ``death`` (see DEEP LINKS), else ``None``."""
        code = death.exit_code
        if code is not None and any(low <= code <= high for low, high in self.exit_codes):
            return 1
        if death.signal is not None and death.signal in self.signals:
            return 2
        if death.signal is not None and ANY_SIGNAL in self.signals:
            return 3
        return None


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    check: str
    answers: tuple[Answer, ...]
    command: str = ""

    def answer(self, answer_id: str) -> Answer | None:
        return next((answer for answer in self.answers if answer.id == answer_id), None)


@dataclass(frozen=True)
class Outcome:
    id: str
    title: str
    cause: str
    text: str
    steps: tuple[str, ...]
    guide: str
    confirm: str


Node = Question | Outcome


class Step(NamedTuple):
    """One click: the question asked and the answer given."""

    question: str
    answer: str


class TreePath(NamedTuple):
    """A root-to-outcome walk: the steps taken and the outcome reached."""

    steps: tuple[Step, ...]
    outcome: str

    @property
    def answers(self) -> list[str]:
        return [step.answer for step in self.steps]


class TreeError(ValueError):
    """A tree file that cannot be used. ``problems`` holds one line per problem."""

    def __init__(self, source: Path | str, problems: Sequence[str]) -> None:
        self.source = Path(source)
        self.problems = list(problems)
        super().__init__("\n".join(f"{self.source}: {problem}" for problem in self.problems))


class AnswerError(ValueError):
    """An answer id that does not fit where the walk has got to."""

    def __init__(self, node: Node, answer_id: str) -> None:
        self.node = node
        self.answer_id = answer_id
        if isinstance(node, Question):
            valid = ", ".join(answer.id for answer in node.answers)
            message = f"question {node.id!r} has no answer {answer_id!r}; its answers are: {valid}"
        else:
            message = f"answer {answer_id!r} comes after outcome {node.id!r}, where the walk ends"
        super().__init__(message)


@dataclass(frozen=True)
class Tree:
    id: str
    title: str
    start: str
    nodes: dict[str, Node]
    source: Path
    platform: Mapping[str, str] = field(default_factory=lambda: dict(PLATFORM_DEFAULTS))

    def questions(self) -> list[Question]:
        return [node for node in self.nodes.values() if isinstance(node, Question)]

    def outcomes(self) -> list[Outcome]:
        return [node for node in self.nodes.values() if isinstance(node, Outcome)]

    def trace(self, answer_ids: Iterable[str]) -> tuple[list[tuple[Question, Answer]], Node]:
        """The (question, answer) pairs along ``answer_ids`` and the node they lead to.

        Raises ``AnswerError`` for an answer the current question does not have.
        """
        node = self.nodes[self.start]
        taken: list[tuple[Question, Answer]] = []
        for answer_id in answer_ids:
            answer = node.answer(answer_id) if isinstance(node, Question) else None
            if answer is None:
                raise AnswerError(node, answer_id)
            taken.append((node, answer))
            node = self.nodes[answer.target]
        return taken, node

    def follow(self, answer_ids: Iterable[str]) -> Node:
        """The node reached from the start by giving these answers in order."""
        return self.trace(answer_ids)[1]

    def paths(self) -> list[TreePath]:
        """Every root-to-outcome path, depth first, answers in file order."""
        found: list[TreePath] = []

        def visit(node_id: str, steps: tuple[Step, ...]) -> None:
            node = self.nodes[node_id]
            if isinstance(node, Outcome):
                found.append(TreePath(steps, node.id))
                return
            for answer in node.answers:
                visit(answer.target, (*steps, Step(node.id, answer.id)))

        visit(self.start, ())
        return found

    def deep_link(self, death: Death | None) -> list[str]:
        """The answer ids a banner implies, from the start (rule: module docstring)."""
        if death is None or (death.signal is None and death.exit_code is None):
            return []
        taken: list[str] = []
        node = self.nodes[self.start]
        while isinstance(node, Question):
            answer = _best_answer(node, death)
            if answer is None:
                break
            taken.append(answer.id)
            node = self.nodes[answer.target]
        return taken

    def guides(self) -> dict[str, str]:
        """Outcome id -> its guide label, for the build-time check of labels."""
        return {outcome.id: outcome.guide for outcome in self.outcomes()}

    def to_json_dict(self) -> dict[str, Any]:
        """The tree for the wizard's ``<script type="application/json">``.

        ``{"id", "title", "start", "causes": {cause id: title}, "nodes": {node id: node}}``
        where a question is ``{"kind": "question", "text", "check", ["command"],
        "answers": [{"id", "label", "target", ["signals"], ["exit_codes": [[low, high]]]}]}``
        and an outcome ``{"kind": "outcome", "title", "cause", "text", "steps",
        "guide", "confirm"}``. Keys in brackets are left out when empty.
        """
        nodes: dict[str, Any] = {}
        for node in self.nodes.values():
            if isinstance(node, Question):
                entry: dict[str, Any] = {"kind": "question", "text": node.text, "check": node.check}
                if node.command:
                    entry["command"] = node.command
                entry["answers"] = [_answer_json(answer) for answer in node.answers]
            else:
                entry = {
                    "kind": "outcome",
                    "title": node.title,
                    "cause": node.cause,
                    "text": node.text,
                    "steps": list(node.steps),
                    "guide": node.guide,
                    "confirm": node.confirm,
                }
            nodes[node.id] = entry
        causes = {outcome.cause: CAUSES[outcome.cause].title for outcome in self.outcomes()}
        return {
            "id": self.id,
            "title": self.title,
            "start": self.start,
            "causes": causes,
            "nodes": nodes,
        }


def guide_labels(tree: Tree) -> set[str]:
    """Every Sphinx label the tree links to (the build checks that each exists)."""
    return set(tree.guides().values())


def builtin_ids() -> list[str]:
    """The ids of the trees shipped in ``troubleshooter/trees``."""
    return sorted(path.stem for path in TREES_DIR.glob("*.toml"))


def load_builtin(
    tree_id: str = "kernel-terminated", platform: Mapping[str, str] | None = None
) -> Tree:
    """A tree shipped with the package, by id."""
    if not _ID.fullmatch(tree_id) or tree_id not in builtin_ids():
        known = ", ".join(builtin_ids()) or "none"
        raise TreeError(TREES_DIR, [f"no built-in tree {tree_id!r} (built-in trees: {known})"])
    return load_tree(TREES_DIR / f"{tree_id}.toml", platform)


def load_tree(path: Path | str, platform: Mapping[str, str] | None = None) -> Tree:
    """Read and check a tree file; ``platform`` overrides names in ``PLATFORM_DEFAULTS``.

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
    return _Loader(path, names).load(data)


def _best_answer(question: Question, death: Death) -> Answer | None:
    best: tuple[int, Answer] | None = None
    for answer in question.answers:
        tier = answer.match_tier(death)
        if tier is not None and (best is None or tier < best[0]):
            best = (tier, answer)
    return best[1] if best else None


def _answer_json(answer: Answer) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": answer.id, "label": answer.label, "target": answer.target}
    if answer.signals:
        entry["signals"] = list(answer.signals)
    if answer.exit_codes:
        entry["exit_codes"] = [list(pair) for pair in answer.exit_codes]
    return entry


# --- loading and checking -------------------------------------------------------------

_TREE_KEYS = {"id", "title", "start"}
_QUESTION_KEYS = {"id", "kind", "text", "check", "command", "answers"}
_OUTCOME_KEYS = {"id", "kind", "title", "cause", "text", "steps", "guide", "confirm"}
_ANSWER_KEYS = {"id", "label", "target", "signals", "exit_codes"}


class _Loader:
    """Turns parsed TOML into a ``Tree``, collecting every problem on the way."""

    def __init__(self, path: Path, platform: Mapping[str, str]) -> None:
        self.path = path
        self.platform = platform
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
        return Question(node_id, text, check, tuple(answers), command)

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
        if not (node_id and complete) or "answers" in entry:
            return None
        return Outcome(node_id, title, cause, text, steps, guide, confirm)

    def _steps(self, entry: dict[str, Any], where: str) -> tuple[str, ...] | None:
        raw = entry.get("steps")
        if raw is None:
            self.problems.append(f"{where}: missing 'steps'")
            return None
        if not isinstance(raw, list) or not raw or not all(isinstance(s, str) for s in raw):
            self.problems.append(f"{where}: 'steps' must be a non-empty list of strings")
            return None
        steps = []
        for number, step in enumerate(raw, start=1):
            filled = self._fill(step, f"{where}, step {number}")
            if not filled.strip():
                self.problems.append(f"{where}: step {number} is empty")
                return None
            steps.append(filled)
        return tuple(steps)

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
