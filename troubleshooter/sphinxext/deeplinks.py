"""Deep links into the wizard: which step a URL query opens, and a table of examples.

``resolve_query`` is the Python statement of the rule ``static/wizard.js`` follows
(the browser tests check that both agree). The ``troubleshooter-deep-links``
directive writes a table of example links and the step each one opens, computed
from the tree at build time, so ``docs/linking.md`` cannot drift from the tree.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from docutils import nodes

from ..messages import MESSAGE_LIMIT, read, wizard_path
from ..model import AnswerError, Question, Tree
from ..signals import SIGNALS, Death, parse_exit_code, parse_signal
from .shared import TreeDirective

if TYPE_CHECKING:
    from sphinx.application import Sphinx


def path_to(tree: Tree, node_id: str) -> list[str] | None:
    """The first path from the start to ``node_id``, depth first in file order."""

    def visit(current: str, path: list[str]) -> list[str] | None:
        if current == node_id:
            return path
        node = tree.nodes[current]
        if isinstance(node, Question):
            for answer in node.answers:
                if (found := visit(answer.target, [*path, answer.id])) is not None:
                    return found
        return None

    return visit(tree.start, [])


def resolve_query(tree: Tree, query: Mapping[str, str]) -> list[str]:
    """The answers the wizard opens with, for the first value of each URL parameter.

    A known ``step`` wins: with ``path`` when that path leads to the step, else the
    first path to it. Otherwise the first of ``signal``, ``exit_code`` and
    ``message``: a signal or exit code whose death leads past the start
    (``Tree.deep_link``), else what the message's lines justify
    (``messages.wizard_path``, at most ``MESSAGE_LIMIT`` characters read). Anything else
    opens the start: ``[]``.
    """
    step = query.get("step")
    if step is not None and step in tree.nodes:
        given = [answer for answer in query.get("path", "").split(".") if answer]
        try:
            if tree.follow(given).id == step:
                return given
        except AnswerError:
            pass
        return path_to(tree, step) or []
    deaths = (
        Death(signal=parse_signal(query.get("signal"))),
        parse_exit_code(query.get("exit_code")),
    )
    for death in deaths:
        if path := tree.deep_link(death):
            return path
    message = query.get("message")
    if message is None:
        return []
    return wizard_path(tree, read(message, limit=MESSAGE_LIMIT))


def _where(tree: Tree, path: list[str]) -> str:
    node = tree.follow(path)
    if isinstance(node, Question):
        return f"question “{node.text}”"
    return f"outcome “{node.title}”"


def example_rows(tree: Tree) -> list[tuple[str, list[str], str]]:
    """(query, equivalent queries, where it opens) for every signal the tree names, a signal
    it does not name, a few exit codes, two banners and three values it does not know."""
    named = {name for node in tree.questions() for a in node.answers for name in a.signals}
    signals = [name for name in SIGNALS if name in named]
    signals.append(next(name for name in SIGNALS if name not in named))
    rows = []

    def add(key: str, value: str, also: list[str] | None = None) -> None:
        shown = value.replace(" ", "%20")
        where = _where(tree, resolve_query(tree, {key: value}))
        rows.append((f"?{key}={shown}", [f"?{key}={other}" for other in also or []], where))

    for name in signals:
        number = SIGNALS[name]
        add("signal", name, [name.removeprefix("SIG"), str(number), str(128 + number)])
        add("exit_code", str(128 + number))
    for code in ("0", "1", "2"):
        add("exit_code", code)
    add("message", "Kernel last terminated by signal SIGSEGV.")
    add("message", "Kernel last exited with code 1.")
    add("signal", "SIGNOPE")
    add("exit_code", "banana")
    add("message", "Hello")
    return rows


class DeepLinkTable(TreeDirective):
    """``.. troubleshooter-deep-links:: TREE``: example links and the step each opens."""

    option_spec: ClassVar[dict[str, Any]] = {}

    def run(self) -> list[nodes.Node]:
        tree = self.load_tree()
        table = nodes.table(classes=["ts-deep-links"])
        group = nodes.tgroup(cols=2)
        table += group
        group += [nodes.colspec(colwidth=1), nodes.colspec(colwidth=1)]
        head, body = nodes.thead(), nodes.tbody()
        group += [head, body]
        head += self._row([nodes.Text("Link ends with")], [nodes.Text("Opens the wizard at")])
        for query, also, where in example_rows(tree):
            link: list[nodes.Node] = [nodes.literal(query, query)]
            for index, other in enumerate(also):
                link += [nodes.Text(" (or " if index == 0 else ", "), nodes.literal(other, other)]
            link += [nodes.Text(")")] if also else []
            body += self._row(link, [nodes.Text(where)])
        return [table]

    @staticmethod
    def _row(*cells: list[nodes.Node]) -> nodes.row:
        row = nodes.row()
        for cell in cells:
            row += nodes.entry("", nodes.paragraph("", "", *cell))
        return row


def setup_deeplinks(app: Sphinx) -> None:
    app.add_directive("troubleshooter-deep-links", DeepLinkTable)
