"""Sphinx configuration for the kernel troubleshooting site.

Build with ``sphinx-build -c . docs _build/html`` or ``nox -s docs``.
Another Jupyter host can rebrand the site by editing ``troubleshooter_platform``.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent / "docs" / "_ext"))  # this site's own extensions

project = "Jupyter kernel troubleshooter"
author = "The kernel troubleshooter authors"
copyright = "2026, the kernel troubleshooter authors"
html_title = "Why did my Jupyter kernel die?"

extensions = [
    "myst_parser",
    "sphinx_design",
    "sphinx_sitemap",
    "notfound.extension",
    "troubleshooter",
    "site_polish",  # docs/_ext: this site's CSS purge, accessibility fixes and copy buttons
    "lab_records",  # docs/_ext: the crash lab's records (docs/lab/*.json) in the guide
]

# Names of the hosting service and its controls, used across the guides as
# MyST substitutions ({{ service }}, {{ support_link }}, ...).
troubleshooter_platform = {
    "service": "CoCalc",
    "support_email": "help@cocalc.com",
    "unit": "server or project",
    "settings_page": "Project Settings",
    "plain_server": "Plain Jupyter Server",
    "restart_button": "Restart Project",
    "memory_meter": "the memory figure in the notebook's top right corner",
}

# Short notes for readers elsewhere: this hosted service ("host"), a laptop, a JupyterHub or
# Kubernetes ("hub"), Colab or Kaggle, Binder, VS Code. Each name switches on the guides'
# {only} blocks tagged note_<name> and the tree's steps marked with it (the troubleshooter
# extension adds the tags); remove the ones your readers never meet.
troubleshooter_notes = ["host", "laptop", "hub", "colab", "binder", "vscode"]

myst_enable_extensions = ["colon_fence", "deflist", "substitution", "attrs_block", "attrs_inline"]
myst_heading_anchors = 3

exclude_patterns = ["_build", "_ext"]
nitpicky = True

html_theme = "furo"
html_static_path = ["docs/_static"]
templates_path = ["docs/_templates"]
html_baseurl = "https://doc.cocalc.com/"
html_copy_source = False
html_show_sourcelink = False
html_permalinks_icon = "#"
html_last_updated_fmt = None
# Sphinx's template loader with a cache of compiled templates (docs/_ext/site_polish/templates.py)
template_bridge = "site_polish.templates.CachedTemplates"
sitemap_url_scheme = "{link}"
sitemap_excludes = ["search.html", "genindex.html", "404.html"]

notfound_urls_prefix = "/"

# jupyterlite-sphinx (loaded by the troubleshooter extension) drives the demos' JupyterLite.
# Its directives copy notebooks into this folder; outside docs/ so that it is never a page.
jupyterlite_content_dir = "../.cache/jupyterlite-contents"
jupyterlite_bind_ipynb_suffix = False
