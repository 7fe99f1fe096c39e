"""The single-file diagnosis on the site: ``_static/troubleshooter-diagnose.py``.

Each HTML build writes the file (``troubleshooter.standalone.build``) with the
tree's prose in the configured platform names and links to ``html_baseurl``. It is
joined again only when one of its inputs changed (the tree as this site shows it, the
site's address, the package's top-level modules and data files); otherwise the file
from the last build stands, untouched.
The ``diagnose-download`` directive shows how to get it::

    ```{diagnose-download} link
    ```

``link`` gives a paragraph with a download link; ``curl`` and ``python`` give a
copy-paste command that downloads the file and runs it (with curl, or with
Python alone).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from docutils import nodes
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinx.util.osutil import relative_uri

from ..causes import SITE_URL
from ..standalone import FILENAME, build
from .config import note_names, platform_names
from .generated import made_once, package_parts, write_if_changed
from .shared import tree_code

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.config import Config
    from sphinx.writers.html5 import HTML5Translator

logger = logging.getLogger(__name__)

STATIC_PATH = f"_static/{FILENAME}"


def site_url(config: Config) -> str:
    """The site's address, ending in ``/``: ``html_baseurl``, else the package's default."""
    base = (config.html_baseurl or SITE_URL).strip()
    return base if base.endswith("/") else base + "/"


def commands(config: Config) -> dict[str, str]:
    """The copy-paste commands that fetch the file and run it."""
    url = site_url(config) + STATIC_PATH
    fetch = f"import urllib.request as r; r.urlretrieve('{url}', '{FILENAME}')"
    return {
        "curl": f"$ curl -fsSLO {url} && python3 {FILENAME}",
        "python": f'$ python3 -c "{fetch}" && python3 {FILENAME}',
    }


class DiagnoseDownload(SphinxDirective):
    required_arguments = 1
    has_content = False
    KINDS: ClassVar[tuple[str, ...]] = ("link", "curl", "python")

    def run(self) -> list[nodes.Node]:
        kind = self.arguments[0]
        if kind not in self.KINDS:
            raise self.error(f"diagnose-download: {kind!r} is not one of {', '.join(self.KINDS)}")
        if kind != "link":
            text = commands(self.config)[kind]
            block = nodes.literal_block(text, text, language="console")
            self.set_source_info(block)
            return [block]
        url = site_url(self.config) + STATIC_PATH
        link = download_link("", "Download ", tree_code(FILENAME, FILENAME), refuri=url)
        return [nodes.paragraph("", "", link, nodes.Text(" (one Python file, nothing to install)"))]


class download_link(nodes.reference):
    """The link to the file. Other builders link to it on the site (``refuri``); HTML links
    to the copy beside the page, its address resolved as the page is written."""


def visit_download_link_html(translator: HTML5Translator, node: download_link) -> None:
    page = translator.builder.get_target_uri(translator.builder.current_docname)
    href = relative_uri(page, STATIC_PATH)
    translator.body.append(
        translator.starttag(node, "a", "", href=href, download=FILENAME, CLASS="reference download")
    )


def depart_download_link_html(translator: HTML5Translator, node: download_link) -> None:
    translator.body.append("</a>")


def _write_file(app: Sphinx, exception: Exception | None) -> None:
    """Write the file into ``_static/``; joined again only when what goes into it changed:
    the tree as this site shows it, the site's address, the package's modules and data."""
    if exception or app.builder.format != "html":
        return
    from ..loader import load_builtin
    from ..model import TreeError

    try:
        names, notes = platform_names(app.config), note_names(app.config)
        tree = load_builtin("kernel-terminated", names, notes).to_json_dict()
    except TreeError as error:
        logger.warning("%s: not written: %s", FILENAME, error, type="troubleshooter")
        return
    url = site_url(app.config)
    inputs = [json.dumps(tree, sort_keys=True).encode(), url.encode(), *package_parts()]
    text = made_once(app, FILENAME, inputs, lambda: build(tree, url).encode("utf-8"))
    write_if_changed(Path(app.outdir) / STATIC_PATH, text)


def setup_download(app: Sphinx) -> None:
    app.add_node(download_link, html=(visit_download_link_html, depart_download_link_html))
    app.add_directive("diagnose-download", DiagnoseDownload)
    app.connect("build-finished", _write_file)
