"""The Sphinx side of the package: the troubleshooter's directives, one module per
concern, each with its own setup; ``shared`` and ``config`` hold what they share.

It adds only its own components' markup and assets: a site's theme is left as it is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import __version__
from .config import setup_config
from .deeplinks import setup_deeplinks
from .demos import setup_demos
from .download import setup_download
from .flowchart import setup_flowchart
from .lite.embed import setup_embed
from .shared import setup_shared
from .wizard import setup_wizard
from .wordings import setup_wordings
from .written_tree import setup_written_tree

if TYPE_CHECKING:
    from sphinx.application import Sphinx


def setup(app: Sphinx) -> dict[str, Any]:
    setup_config(app)
    setup_shared(app)
    setup_written_tree(app)
    setup_wizard(app)
    setup_flowchart(app)
    setup_deeplinks(app)
    setup_embed(app)
    setup_demos(app)
    setup_download(app)
    setup_wordings(app)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
