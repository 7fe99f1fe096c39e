"""Find out why a Jupyter kernel died, and what to do about it.

The package holds the decision tree, the terminal walk-through and the
diagnosis. It is also a Sphinx extension (``extensions = ["troubleshooter"]``);
Sphinx is imported only when Sphinx loads it. In a notebook it is the kernel
companion (``%load_ext troubleshooter``, see ``troubleshooter.companion``), and
``jupyter server extension enable troubleshooter`` adds its server side.
"""

from typing import Any

__version__ = "0.1.0"


def setup(app: Any) -> dict[str, Any]:
    """Sphinx entry point: imports the Sphinx side only when Sphinx asks for it."""
    from .sphinxext import setup as setup_sphinx

    return setup_sphinx(app)


def load_ipython_extension(ipython: Any) -> None:
    """IPython entry point (``%load_ext troubleshooter``): the kernel companion."""
    from .companion import load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    from .companion import unload

    unload(ipython)


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """Jupyter server entry point: record how kernels end (``troubleshooter.companion.server``)."""
    return [{"module": "troubleshooter.companion.server"}]
