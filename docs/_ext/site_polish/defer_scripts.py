"""Let content pages paint before their scripts run.

Sphinx writes ``documentation_options.js``, ``doctools.js`` and ``sphinx_highlight.js``, and
the theme ``scripts/furo.js``, as plain ``<script>`` tags in ``<head>``: the browser stops
parsing the page until each is fetched and run. Every one of them waits for
``DOMContentLoaded`` before touching the page, which deferred scripts still run ahead of, in
the order they are written; so on pages built from ``page.html`` (whose template adds no
script of its own) each external script gets ``defer``. A page with an inline script, which
might read what an earlier script defines, is left as it is, and so are the search page and
the index, whose templates write scripts of their own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sphinx.application import Sphinx

_ALREADY_LATE = ("defer", "async")


def _defer_scripts(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    scripts = context.get("script_files")
    if templatename != "page.html" or not scripts:
        return
    if any(
        not isinstance(getattr(script, "attributes", None), dict)
        or not script.filename
        or "body" in script.attributes
        for script in scripts
    ):
        return  # an inline script runs at once: what it reads must be there before it
    context["script_files"] = [
        script
        if any(key in script.attributes for key in _ALREADY_LATE)
        or script.attributes.get("type") == "module"
        else type(script)(
            script.filename, priority=script.priority, **script.attributes, defer="defer"
        )
        for script in scripts
    ]


def setup_defer_scripts(app: Sphinx) -> None:
    # Late, so that the scripts other handlers add or drop for the page are in the list.
    app.connect("html-page-context", _defer_scripts, priority=950)
