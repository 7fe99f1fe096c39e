"""The decision tree drawn as a flowchart: a small layered layout, written as inline SVG.

The drawing is made at build time from the same tree data as the wizard, with no
graphviz and no network. It flows left to right: questions and outcomes sit in
columns by depth, each answer is a small label between its question and its
target, and edges that skip columns pass through thin placeholders so they never
cross a box. Colours come from ``currentColor`` and the theme's CSS variables
(see ``static/wizard.css``), so the chart follows furo's light and dark modes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from html import escape
from itertools import pairwise
from textwrap import wrap
from typing import TYPE_CHECKING, Any, ClassVar

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

from .. import model
from ..model import Outcome, Question, Tree
from .wizard import load_tree_argument

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.writers.html5 import HTML5Translator

NODE_WIDTH = 200
ANSWER_WIDTH = 132
COLUMN_GAP = 30
ROW_GAP = 14
MARGIN = 8
LINE_HEIGHT = 15
PADDING = 8
# Rough average glyph width of a sans-serif face, as a share of the font size;
# a little generous so wrapped lines stay inside their boxes.
GLYPH_WIDTH = 0.6


@dataclass
class _Vertex:
    key: str
    kind: str  # "question", "outcome", "answer" or "pass" (an edge passing through)
    lines: list[str] = field(default_factory=list)
    rank: int = 0
    height: float = 0.0
    y: float = 0.0


def _wrap(text: str, width: float, font_size: float) -> list[str]:
    chars = max(8, int((width - 2 * PADDING) / (font_size * GLYPH_WIDTH)))
    return wrap(text.replace("`", ""), chars, break_on_hyphens=False) or [""]


def _graph(tree: Tree) -> tuple[dict[str, _Vertex], list[tuple[str, str]]]:
    """Vertices and edges: question -> answer label -> target, in tree order."""
    vertices: dict[str, _Vertex] = {}
    edges: list[tuple[str, str]] = []
    for node in tree.nodes.values():
        if isinstance(node, Question):
            vertices[node.id] = _Vertex(node.id, "question", _wrap(node.text, NODE_WIDTH, 12))
            for answer in node.answers:
                key = f"{node.id}\0{answer.id}"
                lines = _wrap(answer.label, ANSWER_WIDTH, 11)
                vertices[key] = _Vertex(key, "answer", lines)
                edges += [(node.id, key), (key, answer.target)]
        elif isinstance(node, Outcome):
            vertices[node.id] = _Vertex(node.id, "outcome", _wrap(node.title, NODE_WIDTH, 12))
    for vertex in vertices.values():
        vertex.height = len(vertex.lines) * LINE_HEIGHT + 2 * PADDING - 4
    return vertices, edges


def _rank(vertices: dict[str, _Vertex], edges: list[tuple[str, str]]) -> None:
    """Longest-path ranks from the start, so every edge points to a later column."""
    successors = defaultdict(list)
    indegree = dict.fromkeys(vertices, 0)
    for source, target in edges:
        successors[source].append(target)
        indegree[target] += 1
    ready = [key for key, count in indegree.items() if count == 0]
    while ready:
        key = ready.pop()
        for target in successors[key]:
            vertices[target].rank = max(vertices[target].rank, vertices[key].rank + 1)
            indegree[target] -= 1
            if indegree[target] == 0:
                ready.append(target)


def _split_long_edges(
    vertices: dict[str, _Vertex], edges: list[tuple[str, str]]
) -> list[list[str]]:
    """Each edge as a chain of vertices, one per column it crosses."""
    chains = []
    for source, target in edges:
        chain = [source]
        for rank in range(vertices[source].rank + 1, vertices[target].rank):
            key = f"{source}\0{target}\0{rank}"
            vertices[key] = _Vertex(key, "pass", rank=rank, height=2)
            chain.append(key)
        chains.append([*chain, target])
    return chains


def _crossings(layers: list[list[str]], links: list[tuple[str, str]]) -> int:
    position = {key: index for layer in layers for index, key in enumerate(layer)}
    count = 0
    for index, (a_source, a_target) in enumerate(links):
        for b_source, b_target in links[index + 1 :]:
            if (position[a_source] - position[b_source]) * (
                position[a_target] - position[b_target]
            ) < 0:
                count += 1
    return count


def _order(start: str, vertices: dict[str, _Vertex], chains: list[list[str]]) -> list[list[str]]:
    """Order each column: depth-first tree order, then barycentre sweeps kept if they help."""
    links = [(chain[i], chain[i + 1]) for chain in chains for i in range(len(chain) - 1)]
    successors, predecessors = defaultdict(list), defaultdict(list)
    for source, target in links:
        successors[source].append(target)
        predecessors[target].append(source)
    seen: list[str] = []

    def visit(key: str) -> None:
        if key not in seen:
            seen.append(key)
            for target in successors[key]:
                visit(target)

    visit(start)
    seen += [key for key in vertices if key not in seen]
    layers: list[list[str]] = [[] for _ in range(max(v.rank for v in vertices.values()) + 1)]
    for key in seen:
        layers[vertices[key].rank].append(key)

    best, best_count = [list(layer) for layer in layers], _crossings(layers, links)
    for sweep in range(8):
        downward = sweep % 2 == 0
        neighbours = predecessors if downward else successors
        indices = range(1, len(layers)) if downward else range(len(layers) - 2, -1, -1)
        for index in indices:
            position = {key: i for layer in layers for i, key in enumerate(layer)}

            def barycentre(key: str, neighbours=neighbours, position=position) -> float:
                around = neighbours[key]
                if not around:
                    return position[key]
                return sum(position[other] for other in around) / len(around)

            layers[index].sort(key=barycentre)
        if (count := _crossings(layers, links)) < best_count:
            best, best_count = [list(layer) for layer in layers], count
    return best


def _fit(desired: list[float], heights: list[float]) -> list[float]:
    """Tops as close to ``desired`` centres as boxes allow without overlapping.

    Least squares under the ordering constraints (pool-adjacent-violators on
    tops shifted by the space the boxes above need).
    """
    offsets, total = [], 0.0
    for height in heights:
        offsets.append(total)
        total += height + ROW_GAP
    targets = [d - h / 2 - o for d, h, o in zip(desired, heights, offsets, strict=True)]
    blocks: list[list[float]] = []  # [mean, weight]
    for target in targets:
        blocks.append([target, 1.0])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            mean, weight = blocks.pop()
            blocks[-1][0] = (blocks[-1][0] * blocks[-1][1] + mean * weight) / (
                blocks[-1][1] + weight
            )
            blocks[-1][1] += weight
    tops = []
    for mean, weight in blocks:
        tops += [mean] * int(weight)
    return [top + offset for top, offset in zip(tops, offsets, strict=True)]


def _place(layers: list[list[str]], vertices: dict[str, _Vertex], chains: list[list[str]]) -> None:
    """Vertical positions: start stacked, then pull each box towards its neighbours."""
    successors, predecessors = defaultdict(list), defaultdict(list)
    for chain in chains:
        for source, target in pairwise(chain):
            successors[source].append(target)
            predecessors[target].append(source)
    for layer in layers:
        _stack(layer, vertices, [0.0] * len(layer))

    def centre(key: str) -> float:
        return vertices[key].y + vertices[key].height / 2

    for sweep in range(12):
        neighbours = predecessors if sweep % 2 == 0 else successors
        order = layers if sweep % 2 == 0 else layers[::-1]
        for layer in order:
            desired = []
            for key in layer:
                around = neighbours[key] or predecessors[key] + successors[key]
                desired.append(sum(map(centre, around)) / len(around) if around else centre(key))
            _stack(layer, vertices, desired)
    lowest = min(vertex.y for vertex in vertices.values())
    for vertex in vertices.values():
        vertex.y += MARGIN - lowest


def _stack(layer: list[str], vertices: dict[str, _Vertex], desired: list[float]) -> None:
    heights = [vertices[key].height for key in layer]
    for key, top in zip(layer, _fit(desired, heights), strict=True):
        vertices[key].y = top


def _columns(layers: list[list[str]], vertices: dict[str, _Vertex]) -> list[tuple[float, float]]:
    """Left edge and width of each column."""
    columns, x = [], float(MARGIN)
    for layer in layers:
        kinds = {vertices[key].kind for key in layer}
        width = NODE_WIDTH if kinds & {"question", "outcome"} else ANSWER_WIDTH
        if kinds <= {"pass"}:
            width = COLUMN_GAP
        columns.append((x, width))
        x += width + COLUMN_GAP
    return columns


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


_NEXT_LINE = f' dy="{LINE_HEIGHT}"'


def _text(vertex: _Vertex, x: float, y: float) -> str:
    size = 11 if vertex.kind == "answer" else 12
    left = _num(x + PADDING)
    spans = "".join(
        f'<tspan x="{left}"{_NEXT_LINE if index else ""}>{escape(line)}</tspan>'
        for index, line in enumerate(vertex.lines)
    )
    size_attribute = ' font-size="11"' if size == 11 else ""
    return f'<text y="{_num(y + PADDING + size - 2)}"{size_attribute}>{spans}</text>'


def flowchart_svg(tree: Tree, label: str) -> str:
    """The whole tree as one ``<svg>`` element, named ``label`` for assistive technology."""
    vertices, edges = _graph(tree)
    _rank(vertices, edges)
    chains = _split_long_edges(vertices, edges)
    layers = _order(tree.start, vertices, chains)
    _place(layers, vertices, chains)
    columns = _columns(layers, vertices)

    def box(key: str) -> tuple[float, float, float, float]:
        vertex = vertices[key]
        left, width = columns[vertex.rank]
        if vertex.kind == "answer":
            width = min(width, max(map(len, vertex.lines)) * 11 * GLYPH_WIDTH + 2 * PADDING)
        return left, vertex.y, width, vertex.height

    paths, heads, boxes, texts = [], [], [], []
    for chain in chains:
        d = []
        for source, target in pairwise(chain):
            sx, sy, sw, sh = box(source)
            tx, ty, _, th = box(target)
            x1, y1, x2, y2 = sx + sw, sy + sh / 2, tx, ty + th / 2
            if not d:
                d.append(f"M{_num(x1)} {_num(y1)}")
            elif vertices[source].kind == "pass":
                d.append(f"H{_num(x1)}")
            middle = (x1 + x2) / 2
            d.append(f"C{_num(middle)} {_num(y1)} {_num(middle)} {_num(y2)} {_num(x2)} {_num(y2)}")
        paths.append(f'<path d="{"".join(d)}"/>')
        if vertices[chain[-1]].kind != "answer":
            tx, ty, _, th = box(chain[-1])
            heads.append(f'<path d="M{_num(tx)} {_num(ty + th / 2)}l-7-4v8z"/>')

    for key in (key for layer in layers for key in layer):
        vertex = vertices[key]
        if vertex.kind == "pass":
            continue
        x, y, width, height = box(key)
        radius = min(height / 2, 10) if vertex.kind == "answer" else 5
        boxes.append(
            f'<rect class="ts-{vertex.kind}" x="{_num(x)}" y="{_num(y)}"'
            f' width="{_num(width)}" height="{_num(height)}" rx="{_num(radius)}"/>'
        )
        texts.append(_text(vertex, x, y))

    width = max(left + w for left, w in columns) + MARGIN
    height = max(v.y + v.height for v in vertices.values()) + MARGIN
    # Fallback colours are attributes (not a <style>, which a strict CSP would block);
    # wizard.css gives the theme's colours.
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="ts-flow" role="img"'
        f' aria-label="{escape(label)}" width="{_num(width)}" height="{_num(height)}"'
        f' viewBox="0 0 {_num(width)} {_num(height)}" fill="currentColor"'
        f' font-family="sans-serif" font-size="12">'
        f'<g class="ts-edges" fill="none" stroke="currentColor">{"".join(paths)}</g>'
        f'<g class="ts-heads">{"".join(heads)}</g>'
        f'<g class="ts-boxes" fill="none" stroke="currentColor">{"".join(boxes)}</g>'
        f'<g class="ts-labels">{"".join(texts)}</g></svg>'
    )


# --- Sphinx ------------------------------------------------------------------------------


class flowchart(nodes.General, nodes.Element):
    """A tree's flowchart; ``node["svg"]`` holds the drawing."""


class FlowchartDirective(SphinxDirective):
    """``.. troubleshooter-flowchart:: TREE`` draws TREE, in a collapsed disclosure (HTML only).

    The text alternative is the ``troubleshooter-wizard`` of the same tree, which
    shows every question and outcome as text when scripts are off.
    """

    required_arguments = 1
    has_content = False
    option_spec: ClassVar[dict[str, Any]] = {}

    def run(self) -> list[nodes.Node]:
        try:
            tree = load_tree_argument(self.arguments[0], self.env)
        except model.TreeError as error:
            raise self.error(f"troubleshooter-flowchart: {error}") from None
        self.env.note_dependency(str(tree.source))
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
        f"{node['svg']}</div><figcaption>Questions are plain boxes, answers are the small"
        " rounded labels, and outcomes have a coloured border. The same tree, in words, is"
        " the troubleshooter itself.</figcaption></figure></details>"
    )
    raise nodes.SkipNode


def drop_flowcharts(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Outside HTML the drawing adds nothing to the wizard's text, so it is left out."""
    if app.builder.format != "html":
        for node in list(doctree.findall(flowchart)):
            node.parent.remove(node)


def setup_flowchart(app: Sphinx) -> None:
    app.add_node(flowchart, html=(visit_flowchart_html, None))
    app.add_directive("troubleshooter-flowchart", FlowchartDirective)
    app.connect("doctree-resolved", drop_flowcharts)
