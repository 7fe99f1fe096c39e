"""The JupyterLite behind the demos, assembled once per set of inputs and then reused.

- ``cache.py``: the cache folder, its keys, the tools it runs, this project's wheel;
- ``pyodide.py``: Pyodide and the kernel's wheels from the package registries, precompiled;
- ``bytecode.py`` (run inside Pyodide by ``bytecode.mjs``): the precompiling itself;
- ``site.py``: ``jupyter lite build`` driven by jupyterlite-sphinx's settings, and the copy
  into the site.

``demos.py`` calls them from the Sphinx build.
"""

from .cache import LiteUnavailable, default_cache, project_wheel
from .pyodide import KERNEL_EXTENSION, KERNEL_PLUGIN, MODES, PRELOAD, ensure_pyodide
from .site import LiteBuild, LiteSettings, ensure_site, prepare, publish, settings_from

__all__ = [
    "KERNEL_EXTENSION",
    "KERNEL_PLUGIN",
    "MODES",
    "PRELOAD",
    "LiteBuild",
    "LiteSettings",
    "LiteUnavailable",
    "default_cache",
    "ensure_pyodide",
    "ensure_site",
    "prepare",
    "project_wheel",
    "publish",
    "settings_from",
]
