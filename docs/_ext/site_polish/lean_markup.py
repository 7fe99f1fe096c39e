"""Inline code as one element, not one per word.

Sphinx writes inline code such as ``memory.max`` as ``<code>`` with a
``<span class="pre">`` around each word, for themes whose CSS keeps a word from wrapping
through that class. Furo has no rule for it, so here the spans change nothing a reader sees
and cost some 250 elements and 6 KB on the kernel-terminated guide. This visitor writes the
same ``<code>`` with the text alone; runs of spaces are kept as Sphinx keeps them (all but
the last one non-breaking). Keyboard keys, highlighted inline code and inline code holding
other markup go through Sphinx's own visitor.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from docutils import nodes

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.writers.html5 import HTML5Translator

_SPACES = re.compile(r" {2,}")


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


def setup_lean_markup(app: Sphinx) -> None:
    app.add_node(nodes.literal, override=True, html=(visit_literal, depart_literal))
