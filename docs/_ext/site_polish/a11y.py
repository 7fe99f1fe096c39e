"""Accessibility fixes for markup that Sphinx and the theme write.

- Sphinx marks toctree captions ``role="heading"`` without the ``aria-level``
  that role requires, so screen readers cannot place them in the outline (axe
  rule aria-required-attr). Furo copies those captions into its sidebar.
- A code block wider than the page scrolls sideways; without a tab stop,
  keyboard users cannot scroll it (axe rule scrollable-region-focusable).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sphinx.application import Sphinx

FIXES = (
    ('class="caption" role="heading">', 'class="caption" role="heading" aria-level="2">'),
    ('<div class="highlight"><pre>', '<div class="highlight"><pre tabindex="0">'),
)
_PAGE_PARTS = ("body", "toc", "furo_navigation_tree")


def _fix_markup(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    for part in _PAGE_PARTS:
        if isinstance(context.get(part), str):
            for old, new in FIXES:
                context[part] = context[part].replace(old, new)


def setup_a11y(app: Sphinx) -> None:
    # After the theme's own handler (priority 500), which builds the sidebar.
    app.connect("html-page-context", _fix_markup, priority=900)
