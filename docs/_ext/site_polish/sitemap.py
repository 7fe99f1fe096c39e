"""A whole sitemap after a rebuild too.

sphinx-sitemap lists the pages as they are written (its ``html-page-context`` handler) and
writes ``sitemap.xml`` when the build finishes. A rebuild writes only the pages that
changed, so after a one-page edit its sitemap would list one or two pages and drop the
rest. Just before it writes the file, every page of the project goes through its own
handler, the list loses its doubles and is put back sorted: the same sitemap, whichever
pages this build happened to write.
"""

from __future__ import annotations

import queue
from typing import TYPE_CHECKING

from sphinx_sitemap import add_html_link

if TYPE_CHECKING:
    from sphinx.application import Sphinx


def _every_page(app: Sphinx, exception: Exception | None) -> None:
    links = getattr(app, "sitemap_links", None)  # sphinx-sitemap's queue, set up per build
    if exception or app.builder.format != "html" or links is None:
        return
    for docname in sorted(app.env.all_docs):
        add_html_link(app, docname, "page.html", {}, None)  # skips sitemap_excludes
    found: dict[str, str | None] = {}
    while True:
        try:
            link, last_updated = links.get_nowait()
        except queue.Empty:
            break
        found[link] = found.get(link) or last_updated
    for link in sorted(found):
        links.put((link, found[link]))


def setup_sitemap(app: Sphinx) -> None:
    if "sphinx_sitemap" in app.extensions or "sphinx_sitemap" in app.config.extensions:
        # Before sphinx-sitemap's own handler (priority 500) writes the file.
        app.connect("build-finished", _every_page, priority=450)
