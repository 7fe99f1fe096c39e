"""The decision tree written out as docutils nodes: what a reader without JavaScript
reads, and what every builder but HTML shows in place of the wizard.

One structure serves every builder. Each question has its check, its command and its
answers; each outcome its cause, text, fix steps, how to tell it worked and a link to
its guide section. HTML gets each node as a ``<section id="ts-NODE">`` whose heading
is a rubric at the wizard's heading level, answers that link to the section they lead
to, and a link back to the first question. Other builders, which cannot follow those
links, number the nodes and say in words where each answer goes::

    -[ Question 1: What does the message say? ]-
    * Terminated by signal SIGKILL → go to question 2 (Is memory use near the limit?)

The few node classes below subclass docutils ones, so a builder without a visitor of
its own treats them as the docutils node; HTML gets lean markup matching what
``static/wizard.js`` writes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from docutils import nodes
from sphinx import addnodes

from ..causes import CAUSES
from ..model import Outcome, Question, Tree
from .shared import anchor, inline_nodes, paragraph

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.writers.html5 import HTML5Translator


class tree_block(nodes.container):
    """A part of the written-out tree: in HTML the element ``node["tag"]`` (``div`` unless
    set; ``section`` for a question or outcome) with only its own classes."""


class tree_link(nodes.reference):
    """A link in the written-out tree, a bare ``<a href>`` in HTML; ``node["answer"]``, if
    set, is the answer's id (on a light page the wizard starts from the answer clicked)."""


class tree_command(nodes.literal_block):
    """A question's command, as ``<pre class="ts-command"><code>`` in HTML."""


def _title(node: Question | Outcome) -> str:
    return node.text if isinstance(node, Question) else node.title


def _heading(text: str, level: int) -> nodes.rubric:
    rubric = nodes.rubric("", "", *inline_nodes(text))
    rubric["heading-level"] = min(level, 6)
    return rubric


def _question(
    question: Question, level: int, href: dict[str, str], answer_ids: bool = False
) -> nodes.Element:
    """A question as HTML shows it: answers link to ``href[target]``."""
    section = tree_block(tag="section", classes=["ts-node", "ts-question"])
    section += _heading(question.text, level)
    section += paragraph(question.check)
    if question.command:
        section += tree_command(question.command, question.command)
    answers = nodes.bullet_list(classes=["ts-answers"])
    for answer in question.answers:
        link = tree_link("", "", *inline_nodes(answer.label), refuri=href[answer.target])
        if answer_ids:
            link["answer"] = answer.id
        answers += nodes.list_item("", addnodes.compact_paragraph("", "", link))
    section += answers
    return section


def first_question(tree: Tree, page: str, level: int) -> nodes.Element:
    """The start question alone, its answers linking to the written-out tree on ``page``."""
    question = tree.nodes[tree.start]
    assert isinstance(question, Question)
    href = {node_id: f"{page}#{anchor(node_id)}" for node_id in tree.nodes}
    return _question(question, level, href, answer_ids=True)


def written_tree(
    tree: Tree, guide_refs: dict[str, nodes.reference], level: int | None = None
) -> list[nodes.Node]:
    """Every question and outcome, in file order; ``guide_refs`` holds each outcome's link
    to its guide section. With a heading ``level``: the sections HTML shows. Without:
    numbered nodes, for builders that cannot follow in-page links."""
    if level is None:
        return _in_words(tree, guide_refs)
    in_page = {node_id: f"#{anchor(node_id)}" for node_id in tree.nodes}
    out: list[nodes.Node] = []
    for node in tree.nodes.values():
        if isinstance(node, Question):
            section = _question(node, level, in_page)
        else:
            section = tree_block(tag="section", classes=["ts-node", "ts-outcome"])
            section += _heading(node.title, level)
            section += _outcome(node, guide_refs.get(node.id), level + 1)
            back = tree_link("", "Back to the first question", refuri=in_page[tree.start])
            section += nodes.paragraph("", "", back)
        section["ids"] = [anchor(node.id)]
        out.append(section)
    return out


def _in_words(tree: Tree, guide_refs: dict[str, nodes.reference]) -> list[nodes.Node]:
    numbered = {
        node.id: f"{'question' if isinstance(node, Question) else 'outcome'} {number}"
        for number, node in enumerate(tree.nodes.values(), start=1)
    }
    out: list[nodes.Node] = []
    for node in tree.nodes.values():
        heading = inline_nodes(f"{numbered[node.id].capitalize()}: {_title(node)}")
        out.append(nodes.rubric("", "", *heading, ids=[anchor(node.id)]))
        if isinstance(node, Outcome):
            out += _outcome(node, guide_refs.get(node.id))
            continue
        out.append(paragraph(node.check))
        if node.command:
            out.append(nodes.literal_block(node.command, node.command))
        answers = nodes.bullet_list()
        for answer in node.answers:
            target = f" → go to {numbered[answer.target]} ({_title(tree.nodes[answer.target])})"
            answers += nodes.list_item("", paragraph(answer.label, target))
        out.append(answers)
    return out


def _outcome(
    outcome: Outcome, guide_ref: nodes.reference | None, level: int | None = None
) -> list[nodes.Node]:
    """Cause, text, fix steps, how to tell it worked, the guide link; with a heading
    ``level`` the two middle parts get headings, else bold lead-ins."""
    cause = CAUSES.get(outcome.cause)
    steps = nodes.enumerated_list(enumtype="arabic", prefix="", suffix=".")
    for step in outcome.steps:
        # In HTML, a list item's one paragraph is written without <p>, as wizard.js writes it.
        line = (
            paragraph(step)
            if level is None
            else addnodes.compact_paragraph("", "", *inline_nodes(step))
        )
        steps += nodes.list_item("", line)
    parts: list[nodes.Node] = [
        paragraph(f"Cause: {cause.title if cause else outcome.cause}", classes=["ts-cause"]),
        paragraph(outcome.text),
    ]
    if level is None:
        parts += [paragraph(nodes.strong("", "How to fix it:")), steps]
        parts += [paragraph(nodes.strong("", "How to tell it worked:"), " ", outcome.confirm)]
    else:
        parts += [_heading("How to fix it", level), steps]
        parts += [_heading("How to tell it worked", level), paragraph(outcome.confirm)]
    if guide_ref is not None:
        parts.append(nodes.paragraph("", "", guide_ref))
    return parts


# --- HTML --------------------------------------------------------------------------------


def visit_tree_block_html(translator: HTML5Translator, node: tree_block) -> None:
    translator.body.append(translator.starttag(node, node.get("tag", "div"), ""))


def depart_tree_block_html(translator: HTML5Translator, node: tree_block) -> None:
    translator.body.append(f"</{node.get('tag', 'div')}>")


def visit_tree_link_html(translator: HTML5Translator, node: tree_link) -> None:
    attributes = {"href": node["refuri"]}
    if "answer" in node:
        attributes["data-answer"] = node["answer"]
    translator.body.append(translator.starttag(node, "a", "", **attributes))


def depart_tree_link_html(translator: HTML5Translator, node: tree_link) -> None:
    translator.body.append("</a>")


def visit_tree_command_html(translator: HTML5Translator, node: tree_command) -> None:
    translator.body.append(translator.starttag(node, "pre", "", CLASS="ts-command"))
    translator.body.append(f"<code>{translator.encode(node.astext())}</code></pre>")
    raise nodes.SkipNode


def setup_written_tree(app: Sphinx) -> None:
    app.add_node(tree_block, html=(visit_tree_block_html, depart_tree_block_html))
    app.add_node(tree_link, html=(visit_tree_link_html, depart_tree_link_html))
    app.add_node(tree_command, html=(visit_tree_command_html, None))
