"""What the troubleshooter's directives share: the tree argument, anchors, guide links,
inline code in tree prose, and the package's static folder.

A docutils node subclass here and in the other modules (``tree_code(nodes.literal)``)
renders as its docutils parent in any builder without a visitor of its own.

Every other module of ``troubleshooter.sphinxext`` may import this one; this one
imports none of them but ``config``, so the modules depend only downward.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

from .. import loader, model
from ..model import Tree
from .config import note_names, platform_names

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.builders import Builder
    from sphinx.environment import BuildEnvironment
    from sphinx.writers.html5 import HTML5Translator

STATIC_DIR = Path(__file__).parent / "static"


def add_static_dir(app: Sphinx, directory: Path = STATIC_DIR) -> None:
    """Serve ``directory`` as ``_static/`` in HTML builds (connect to ``builder-inited``)."""
    if app.builder.format == "html" and str(directory) not in app.config.html_static_path:
        app.config.html_static_path.append(str(directory))


def load_tree_argument(argument: str, env: BuildEnvironment) -> Tree:
    """A built-in tree id, or a path to a ``.toml`` file relative to the source directory.

    Platform names in the tree's prose come from ``troubleshooter_platform``, the
    environment notes kept in its steps from ``troubleshooter_notes``.
    """
    platform, notes = platform_names(env.config), note_names(env.config)
    if argument.endswith(".toml") or "/" in argument:
        return loader.load_tree(Path(env.srcdir) / argument.lstrip("/"), platform, notes)
    return loader.load_builtin(argument, platform, notes)


def anchor(node_id: str) -> str:
    """The HTML id of a tree node's written-out section."""
    return f"ts-{node_id}"


class TreeDirective(SphinxDirective):
    """A directive whose one argument names a tree: a built-in id or a ``.toml`` path."""

    required_arguments = 1
    has_content = False

    def load_tree(self) -> Tree:
        """The named tree; a broken tree file is an error naming the file and its ids."""
        try:
            tree = load_tree_argument(self.arguments[0], self.env)
        except model.TreeError as error:
            raise self.error(f"{self.name}: {error}") from None
        self.env.note_dependency(str(tree.source))
        return tree


@dataclass(frozen=True)
class GuideLink:
    """Where a Sphinx label points: its page, the anchor on that page, the section title."""

    docname: str
    anchor: str
    title: str


def guide_link(env: BuildEnvironment, label: str) -> GuideLink | None:
    """Where a Sphinx label points, or ``None`` when no page defines it."""
    std = env.domains.standard_domain
    if label in std.labels:
        docname, labelid, title = std.labels[label]
        return GuideLink(docname, labelid, title)
    if label in std.anonlabels:
        docname, labelid = std.anonlabels[label]
        return GuideLink(docname, labelid, label)
    return None


def guide_href(builder: Builder, fromdocname: str, link: GuideLink) -> str:
    """The address of ``link`` from the page ``fromdocname``."""
    if link.docname == fromdocname:
        return f"#{link.anchor}"
    return f"{builder.get_relative_uri(fromdocname, link.docname)}#{link.anchor}"


class tree_code(nodes.literal):
    """Inline code in tree prose: a bare ``<code>`` in HTML, as ``static/wizard.js`` writes it."""


def visit_tree_code_html(translator: HTML5Translator, node: tree_code) -> None:
    translator.body.append(translator.starttag(node, "code", ""))


def depart_tree_code_html(translator: HTML5Translator, node: tree_code) -> None:
    translator.body.append("</code>")


def inline_nodes(text: str) -> list[nodes.Node]:
    """Tree prose as nodes: spans in backticks become inline code, the only markup it has."""
    return [
        tree_code(part, part) if index % 2 else nodes.Text(part)
        for index, part in enumerate(text.split("`"))
        if part
    ]


def paragraph(*children: nodes.Node | str, classes: list[str] | None = None) -> nodes.paragraph:
    """A paragraph of tree prose (strings, read by :func:`inline_nodes`) and ready nodes."""
    para = nodes.paragraph(classes=classes or [])
    for child in children:
        para += inline_nodes(child) if isinstance(child, str) else child
    return para


def setup_shared(app: Sphinx) -> None:
    app.add_node(tree_code, html=(visit_tree_code_html, depart_tree_code_html))
