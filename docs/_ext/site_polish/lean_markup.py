"""Fewer elements for the same page: inline code as one element, not one per word; no
wrapper around what nothing styles.

Sphinx writes inline code such as ``memory.max`` as ``<code>`` with a
``<span class="pre">`` around each word, for themes whose CSS keeps a word from wrapping
through that class. Furo has no rule for it, so here the spans change nothing a reader sees
and cost some 250 elements and 6 KB on the kernel-terminated guide. This visitor writes the
same ``<code>`` with the text alone; runs of spaces are kept as Sphinx keeps them (all but
the last one non-breaking). Keyboard keys, highlighted inline code and inline code holding
other markup go through Sphinx's own visitor.

Two more wrappers go from each page's body, their content kept: Pygments' ``<span
class="w">`` around blanks in code blocks (its colour is that of nothing visible) and the
``<span class="std std-ref">`` Sphinx puts inside a cross-reference's link, unstyled here
(some 190 elements and 5 KB on the guide).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from docutils import nodes

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.writers.html5 import HTML5Translator

_SPACES = re.compile(r" {2,}")
_BARE_WRAPPERS = re.compile(r'<span class="(?:w|std std-ref)">([^<]*)</span>')


def _plain(node: nodes.Element) -> bool:
    highlighted = "code" in node["classes"] and node.get("language")
    text_only = all(isinstance(child, nodes.Text) for child in node.children)
    return not highlighted and "kbd" not in node["classes"] and text_only


def visit_literal(translator: HTML5Translator, node: nodes.Element) -> None:
    if not _plain(node):
        type(translator).visit_literal(translator, node)  # Sphinx's own, not this override
        return
    text = _SPACES.sub(
        lambda run: "&#160;" * (len(run[0]) - 1) + " ", translator.encode(node.astext())
    )
    translator.body.append(
        translator.starttag(node, "code", "", CLASS="docutils literal notranslate")
        + text
        + "</code>"
    )
    raise nodes.SkipNode


def depart_literal(translator: HTML5Translator, node: nodes.Element) -> None:
    type(translator).depart_literal(translator, node)


def _unwrap(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    if isinstance(context.get("body"), str):
        context["body"] = _BARE_WRAPPERS.sub(r"\1", context["body"])


def setup_lean_markup(app: Sphinx) -> None:
    app.add_node(nodes.literal, override=True, html=(visit_literal, depart_literal))
    app.connect("html-page-context", _unwrap)
