"""Find out why a Jupyter kernel died, and what to do about it.

The package holds the decision tree, the terminal walk-through and the
diagnosis. It is also a Sphinx extension (``extensions = ["troubleshooter"]``);
Sphinx is imported only when Sphinx loads it.
"""

from typing import Any

__version__ = "0.1.0"


def setup(app: Any) -> dict[str, Any]:
    """Sphinx entry point: imports the Sphinx side only when Sphinx asks for it."""
    from .sphinxext import setup as setup_sphinx

    return setup_sphinx(app)
