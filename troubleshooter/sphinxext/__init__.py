"""The Sphinx side of the package: one module per concern, each with its own setup."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import __version__
from .a11y import setup_a11y
from .assets import setup_assets
from .config import setup_config
from .copy import setup_copy
from .deeplinks import setup_deeplinks
from .demos import setup_demos
from .download import setup_download
from .flowchart import setup_flowchart
from .wizard import setup_wizard

if TYPE_CHECKING:
    from sphinx.application import Sphinx


def setup(app: Sphinx) -> dict[str, Any]:
    setup_config(app)
    setup_assets(app)
    setup_copy(app)
    setup_a11y(app)
    setup_wizard(app)
    setup_flowchart(app)
    setup_deeplinks(app)
    setup_demos(app)
    setup_download(app)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
