"""This site's own polish, kept out of the reusable ``troubleshooter`` extension.

A host that uses the troubleshooter on its own site gets none of this: its theme's
CSS and markup stay as the theme writes them.

- ``purge_css``: drops the theme's, Pygments' and sphinx-design's CSS rules that no
  page of this site uses, and sphinx-design's tab script on pages without tabs;
- ``minify``: ships every script and stylesheet minified (the sources stay readable);
- ``defer_scripts``: lets content pages paint before Sphinx's and the theme's scripts run;
- ``lean_markup``: inline code without a ``<span>`` per word;
- ``a11y``: fixes for markup Sphinx and furo write (axe-core rules);
- ``copybutton``: copy buttons on code blocks, and ``static/site.css``;
- ``sitemap``: every page in sphinx-sitemap's ``sitemap.xml`` after a rebuild too;
- ``templates``: Sphinx's template loader with a cache of compiled templates
  (``template_bridge`` in ``conf.py``), for faster rebuilds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .a11y import setup_a11y
from .copybutton import setup_copybutton
from .defer_scripts import setup_defer_scripts
from .lean_markup import setup_lean_markup
from .minify import setup_minify
from .purge_css import setup_purge_css
from .sitemap import setup_sitemap

if TYPE_CHECKING:
    from sphinx.application import Sphinx


def setup(app: Sphinx) -> dict[str, Any]:
    setup_purge_css(app)
    setup_minify(app)
    setup_defer_scripts(app)
    setup_lean_markup(app)
    setup_copybutton(app)
    setup_a11y(app)
    setup_sitemap(app)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
