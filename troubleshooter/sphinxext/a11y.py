"""Accessibility fixes for markup that Sphinx and the theme write.

Sphinx marks toctree captions ``role="heading"`` without the ``aria-level``
that role requires, so screen readers cannot place them in the outline (axe
rule aria-required-attr). Furo copies those captions into its sidebar.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sphinx.application import Sphinx

_CAPTION = 'class="caption" role="heading"'
_LEVELLED_CAPTION = 'class="caption" role="heading" aria-level="2"'
_PAGE_PARTS = ("body", "toc", "furo_navigation_tree")


def _label_captions(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    for part in _PAGE_PARTS:
        if isinstance(context.get(part), str) and 'aria-level="' not in context[part]:
            context[part] = context[part].replace(_CAPTION, _LEVELLED_CAPTION)


def setup_a11y(app: Sphinx) -> None:
    # After the theme's own handler (priority 500), which builds the sidebar.
    app.connect("html-page-context", _label_captions, priority=900)
