"""The decision tree drawn as a flowchart: a small tidy-tree layout, written as inline SVG.

The drawing is made at build time from the same tree data as the wizard, with no
graphviz and no network. It flows left to right: the first question on the left,
each answer as a small label after its question, then where the answer leads.
Every question is drawn once; when another answer leads to a question already
drawn, a dashed "see" box names it instead of an edge across the chart, and
outcomes are drawn once per answer that reaches them. The chart is thus a tree,
laid out without crossings: each subtree is placed as high as the ones above it
allow, column by column, and each question sits level with its first answer, so
the chart starts at its top left corner, where a reader looks first.
Colours come from ``currentColor`` and the theme's CSS variables (see
``static/wizard.css``), so the chart follows furo's light and dark modes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from html import escape
from textwrap import wrap
from typing import TYPE_CHECKING, Any, ClassVar

from docutils import nodes

from ..model import Outcome, Question, Tree
from .shared import TreeDirective, add_static_dir

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.writers.html5 import HTML5Translator

NODE_WIDTH = 200
ANSWER_WIDTH = 180
ANSWER_LINES = 3
COLUMN_GAP = 28
ROW_GAP = 8
MARGIN = 8
LINE_HEIGHT = 15
PADDING = 7
# Rough average glyph width of a sans-serif face, as a share of the font size;
# a little generous so wrapped lines stay inside their boxes.
GLYPH_WIDTH = 0.6


@dataclass
class _Box:
    kind: str  # "question", "answer", "outcome" or "see" (a question drawn elsewhere)
    lines: list[str]
    column: int
    children: list[_Box] = field(default_factory=list)
    y: float = 0.0

    @property
    def height(self) -> float:
        return len(self.lines) * LINE_HEIGHT + 2 * PADDING - 3


def _wrap(text: str, width: float, font_size: float, most: int = 99) -> list[str]:
    chars = max(8, int((width - 2 * PADDING) / (font_size * GLYPH_WIDTH)))
    lines = wrap(text.replace("`", ""), chars, break_on_hyphens=False) or [""]
    if len(lines) > most:  # the wizard and the text version show the whole label
        last = lines[most - 1]
        lines = [*lines[: most - 1], (last.rsplit(" ", 1)[0] if " " in last else last) + " …"]
    return lines


def _tree_of_boxes(tree: Tree) -> _Box:
    """The graph unfolded into a tree of boxes, depth first in file order."""
    drawn: set[str] = set()

    def question(node: Question, column: int) -> _Box:
        drawn.add(node.id)
        box = _Box("question", _wrap(node.text, NODE_WIDTH, 12), column)
        for answer in node.answers:
            label = _Box("answer", _wrap(answer.label, ANSWER_WIDTH, 11, ANSWER_LINES), column + 1)
            label.children.append(target(tree.nodes[answer.target], column + 2))
            box.children.append(label)
        return box

    def target(node: Question | Outcome, column: int) -> _Box:
        if isinstance(node, Outcome):
            return _Box("outcome", _wrap(node.title, NODE_WIDTH, 12), column)
        if node.id in drawn:
            return _Box("see", _wrap(f"See: {node.text}", NODE_WIDTH, 12), column)
        return question(node, column)

    return question(tree.nodes[tree.start], 0)  # type: ignore[arg-type]


def _place(box: _Box) -> dict[int, tuple[float, float]]:
    """Set ``y`` for the subtree at ``box`` (relative); return its extent per column."""
    extent: dict[int, tuple[float, float]] = {}
    for child in box.children:
        child_extent = _place(child)
        shift = max(
            (extent[c][1] + ROW_GAP - top for c, (top, _) in child_extent.items() if c in extent),
            default=0.0,
        )
        _shift(child, shift)
        for column, (top, bottom) in child_extent.items():
            old_top, old_bottom = extent.get(column, (top + shift, bottom + shift))
            extent[column] = (min(old_top, top + shift), max(old_bottom, bottom + shift))
    if box.children:
        first = box.children[0]
        box.y = first.y + first.height / 2 - box.height / 2
    extent[box.column] = (box.y, box.y + box.height)
    return extent


def _shift(box: _Box, by: float) -> None:
    box.y += by
    for child in box.children:
        _shift(child, by)


def _walk(box: _Box) -> Iterator[_Box]:
    yield box
    for child in box.children:
        yield from _walk(child)


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


_NEXT_LINE = f' dy="{LINE_HEIGHT}"'


def _text(box: _Box, x: float, y: float) -> str:
    size = 11 if box.kind == "answer" else 12
    left = _num(x + PADDING)
    spans = "".join(
        f'<tspan x="{left}"{_NEXT_LINE if index else ""}>{escape(line)}</tspan>'
        for index, line in enumerate(box.lines)
    )
    size_attribute = ' font-size="11"' if size == 11 else ""
    return f'<text y="{_num(y + PADDING + size - 2)}"{size_attribute}>{spans}</text>'


def flowchart_svg(tree: Tree, label: str) -> str:
    """The whole tree as one ``<svg>`` element, named ``label`` for assistive technology."""
    root = _tree_of_boxes(tree)
    _place(root)
    boxes = list(_walk(root))
    _shift(root, MARGIN - min(box.y for box in boxes))
    columns = max(box.column for box in boxes) + 1
    widths = [NODE_WIDTH if column % 2 == 0 else ANSWER_WIDTH for column in range(columns)]
    lefts = [MARGIN + sum(widths[:column]) + column * COLUMN_GAP for column in range(columns)]

    def width(box: _Box) -> float:
        if box.kind == "answer":  # as wide as its longest line, so short answers look short
            longest = max(map(len, box.lines)) * 11 * GLYPH_WIDTH + 2 * PADDING
            return min(ANSWER_WIDTH, longest)
        return NODE_WIDTH

    edges, heads, rects, texts = [], [], [], []
    for box in boxes:
        x, y = lefts[box.column], box.y
        for child in box.children:
            x1, y1 = x + width(box), y + box.height / 2
            x2, y2 = lefts[child.column], child.y + child.height / 2
            if abs(y1 - y2) < 0.5:
                edges.append(f"M{_num(x1)} {_num(y1)}H{_num(x2)}")
            else:
                middle = _num((x1 + x2) / 2)
                edges.append(
                    f"M{_num(x1)} {_num(y1)}C{middle} {_num(y1)} {middle} {_num(y2)}"
                    f" {_num(x2)} {_num(y2)}"
                )
            if child.kind != "answer":
                heads.append(f"M{_num(x2)} {_num(y2)}l-7-4v8z")
        dashes = ' stroke-dasharray="4 3"' if box.kind == "see" else ""
        radius = min(box.height / 2, 10) if box.kind == "answer" else 5
        rects.append(
            f'<rect class="ts-{box.kind}" x="{_num(x)}" y="{_num(y)}" width="{_num(width(box))}"'
            f' height="{_num(box.height)}" rx="{_num(radius)}"{dashes}/>'
        )
        texts.append(_text(box, x, y))

    total_width = lefts[-1] + widths[-1] + MARGIN
    total_height = max(box.y + box.height for box in boxes) + MARGIN
    # Fallback colours are attributes (not a <style>, which a strict CSP would block);
    # wizard.css gives the theme's colours.
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="ts-flow" role="img"'
        f' aria-label="{escape(label)}" width="{_num(total_width)}"'
        f' height="{_num(total_height)}" viewBox="0 0 {_num(total_width)} {_num(total_height)}"'
        f' fill="currentColor" font-family="sans-serif" font-size="12">'
        f'<g class="ts-edges" fill="none" stroke="currentColor"><path d="{"".join(edges)}"/></g>'
        f'<g class="ts-heads"><path d="{"".join(heads)}"/></g>'
        f'<g class="ts-boxes" fill="none" stroke="currentColor">{"".join(rects)}</g>'
        f'<g class="ts-labels">{"".join(texts)}</g></svg>'
    )


# --- Sphinx ------------------------------------------------------------------------------


class flowchart(nodes.General, nodes.Element):
    """A tree's flowchart; ``node["svg"]`` holds the drawing."""


class FlowchartDirective(TreeDirective):
    """``.. troubleshooter-flowchart:: TREE`` draws TREE, in a collapsed disclosure (HTML only).

    The text alternative is the ``troubleshooter-wizard`` of the same tree, which
    shows every question and outcome as text when scripts are off.
    """

    option_spec: ClassVar[dict[str, Any]] = {}

    def run(self) -> list[nodes.Node]:
        tree = self.load_tree()
        questions = sum(isinstance(node, Question) for node in tree.nodes.values())
        outcomes = len(tree.nodes) - questions
        label = (
            f"Flowchart of “{tree.title}”: {questions} questions lead,"
            f" through their answers, to {outcomes} outcomes."
        )
        node = flowchart(svg=flowchart_svg(tree, label), title=tree.title)
        self.set_source_info(node)
        return [node]


def visit_flowchart_html(translator: HTML5Translator, node: flowchart) -> None:
    translator.body.append(
        '<details class="ts-flowchart"><summary>Show the whole tree as a flowchart</summary>'
        '<figure><div class="ts-flow-scroll" tabindex="0" role="group"'
        ' aria-label="Flowchart, scrolls sideways">'
        f"{node['svg']}</div><figcaption>Questions are plain boxes, answers the small rounded"
        " labels after them, and outcomes have a coloured border. A dashed box stands for a"
        " question drawn elsewhere in the chart. The troubleshooter above holds the same tree"
        " in words.</figcaption></figure></details>"
    )
    raise nodes.SkipNode


def drop_flowcharts(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Outside HTML the drawing adds nothing to the wizard's text, so it is left out."""
    if app.builder.format != "html":
        for node in list(doctree.findall(flowchart)):
            node.parent.remove(node)


def _add_css(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """The chart's colours (in the wizard's stylesheet), only on pages with a flowchart."""
    if doctree is not None and doctree.next_node(flowchart) is not None:
        app.add_css_file("wizard.css")


def setup_flowchart(app: Sphinx) -> None:
    app.add_node(flowchart, html=(visit_flowchart_html, None))
    app.add_directive("troubleshooter-flowchart", FlowchartDirective)
    app.connect("doctree-resolved", drop_flowcharts)
    app.connect("builder-inited", add_static_dir)
    app.connect("html-page-context", _add_css, priority=400)
