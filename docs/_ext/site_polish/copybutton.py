"""Copy buttons on code blocks, and the site's own stylesheet that styles them:
static/copy.js and site.css, about 3 KB together (sphinx-copybutton with its
clipboard library weighs 20 KB in three files)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from troubleshooter.sphinxext.shared import add_static_dir

if TYPE_CHECKING:
    from sphinx.application import Sphinx

STATIC_DIR = Path(__file__).parent / "static"


def _add_assets(app: Sphinx) -> None:
    if app.builder.format != "html":
        return
    add_static_dir(app, STATIC_DIR)
    app.add_css_file("site.css")
    app.add_js_file("copy.js", loading_method="defer")


def setup_copybutton(app: Sphinx) -> None:
    app.connect("builder-inited", _add_assets)
