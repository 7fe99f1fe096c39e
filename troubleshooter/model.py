"""The decision tree as data: frozen dataclasses (``troubleshooter.loader`` reads and checks them).

CONTRACT (shared by the loader, the wizard, the terminal walk and diagnose):

- A tree file ``troubleshooter/trees/<tree-id>.toml`` has a ``[tree]`` table
  (``id``, ``title``, ``start``) and ``[[node]]`` tables. A node is a question
  (``kind = "question"``) or an outcome (``kind = "outcome"``). Nodes keep their
  file order everywhere (JSON, paths, listings).
- Ids (tree, node, answer) are lowercase letters, digits and hyphens, starting
  with a letter: they travel in URLs (``?step=NODE_ID``) and HTML ids.
- ``Question``: ``id``, ``text`` (the question), ``check`` (how to find the
  answer, prose) and optional ``command`` (a copy-paste check for a terminal, shown
  verbatim) and ``cell`` (the same check as Python for a notebook cell, verbatim),
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
  ``guide`` (a Sphinx label; checked at build time, see ``Tree.guides``),
  ``confirm`` (how to tell the fix worked).
- A step is a string, or an environment note ``{ note = NAME, text = "..." }``: advice
  only readers in one environment need (``NOTES``: "host" is the hosting service of
  ``troubleshooter_platform``). The loader keeps the notes it is asked for (all but
  "host" by default; the Sphinx build takes ``troubleshooter_notes`` from conf.py) and drops the
  rest, so consumers see plain strings. Every outcome needs one step that is not a note.
- Prose (``text``, ``check``, ``label``, ``title``, ``steps``, ``confirm``) may
  contain inline code in backticks and nothing else of markup, plus platform
  names written ``{{ name }}`` (the keys of ``PLATFORM_DEFAULTS``, the same as
  ``troubleshooter_platform`` in conf.py). They are filled in when the tree is
  loaded, so consumers never see braces. ``command`` and ``cell`` are never filled in.

The graph is checked as a whole when loaded (``troubleshooter.loader``): every
problem found is reported together in one ``TreeError``, one line each, every
line naming the file.

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

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NamedTuple, NotRequired, TypedDict, cast

from .causes import CAUSES
from .signals import Death, answer_tier, best_answer

# Generic names for the hosting service; the Sphinx build passes the configured
# ``troubleshooter_platform`` instead, the terminal walk uses these.
PLATFORM_DEFAULTS: dict[str, str] = {
    "service": "your Jupyter service",
    "support_email": "",
    "unit": "server",
    "settings_page": "the settings page",
    "plain_server": "plain Jupyter server",
    "restart_button": "Restart",
    "memory_meter": "the memory indicator",
}


# The environments a step can be a note for: this hosting service, a laptop, a JupyterHub or
# Kubernetes, Colab or Kaggle, Binder, VS Code (conf.py's troubleshooter_notes picks some).
NOTES: tuple[str, ...] = ("host", "laptop", "hub", "colab", "binder", "vscode")


@dataclass(frozen=True)
class Answer:
    id: str
    label: str
    target: str
    signals: tuple[str, ...] = ()
    exit_codes: tuple[tuple[int, int], ...] = ()

    def match_tier(self, death: Death) -> int | None:
        """1, 2 or 3 when this answer fits ``death`` (see DEEP LINKS), else ``None``."""
        return answer_tier(self.signals, self.exit_codes, death)


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    check: str
    answers: tuple[Answer, ...]
    command: str = ""
    cell: str = ""

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


class Choice(NamedTuple):
    """One click: the question asked and the answer given."""

    question: str
    answer: str


class TreePath(NamedTuple):
    """A root-to-outcome walk: the choices made and the outcome reached."""

    choices: tuple[Choice, ...]
    outcome: str

    @property
    def answers(self) -> list[str]:
        return [choice.answer for choice in self.choices]


class AnswerData(TypedDict):
    id: str
    label: str
    target: str
    signals: NotRequired[list[str]]
    exit_codes: NotRequired[list[list[int]]]  # [low, high] pairs


class QuestionData(TypedDict):
    kind: Literal["question"]
    text: str
    check: str
    command: NotRequired[str]
    cell: NotRequired[str]
    answers: list[AnswerData]


class OutcomeData(TypedDict):
    kind: Literal["outcome"]
    title: str
    cause: str
    text: str
    steps: list[str]
    guide: str
    confirm: str


class TreeData(TypedDict):
    """``Tree.to_json_dict()``; ``wizard.js`` declares the same shape (``TreeData``)."""

    id: str
    title: str
    start: str
    causes: dict[str, str]  # cause id -> its title
    nodes: dict[str, QuestionData | OutcomeData]


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
            if answer is None or not isinstance(node, Question):
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

        def visit(node_id: str, choices: tuple[Choice, ...]) -> None:
            node = self.nodes[node_id]
            if isinstance(node, Outcome):
                found.append(TreePath(choices, node.id))
                return
            for answer in node.answers:
                visit(answer.target, (*choices, Choice(node.id, answer.id)))

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

    def to_json_dict(self) -> TreeData:
        """The tree as JSON-ready data: for the wizard's ``<script type="application/json">``,
        ``diagnose`` and the single file. Optional keys are left out when empty."""
        nodes: dict[str, QuestionData | OutcomeData] = {}
        for node in self.nodes.values():
            entry: QuestionData | OutcomeData
            if isinstance(node, Question):
                question: dict[str, Any] = {
                    "kind": "question",
                    "text": node.text,
                    "check": node.check,
                }
                if node.command:
                    question["command"] = node.command  # before the answers, as people read it
                if node.cell:
                    question["cell"] = node.cell
                question["answers"] = [_answer_json(answer) for answer in node.answers]
                entry = cast(QuestionData, question)
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


def _best_answer(question: Question, death: Death) -> Answer | None:
    index = best_answer(((a.signals, a.exit_codes) for a in question.answers), death)
    return None if index is None else question.answers[index]


def _answer_json(answer: Answer) -> AnswerData:
    entry: AnswerData = {"id": answer.id, "label": answer.label, "target": answer.target}
    if answer.signals:
        entry["signals"] = list(answer.signals)
    if answer.exit_codes:
        entry["exit_codes"] = [list(pair) for pair in answer.exit_codes]
    return entry
