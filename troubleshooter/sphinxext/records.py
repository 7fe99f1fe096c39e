"""Per-page records kept in the build environment, for directives that must know
later, at write time or after the build, which pages use them.

Sphinx forgets a page's records when the page is read again (``env-purge-doc``)
and joins the records of parallel readers (``env-merge-info``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment


def page_records(env: BuildEnvironment, name: str) -> dict[str, list[Any]]:
    """The records called ``name``: docname -> what that page recorded."""
    if not hasattr(env, name):
        setattr(env, name, {})
    return getattr(env, name)


def keep_page_records(app: Sphinx, name: str) -> None:
    """Purge and merge the records called ``name`` along with the pages they belong to."""

    def purge(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
        page_records(env, name).pop(docname, None)

    def merge(app: Sphinx, env: BuildEnvironment, docnames: set[str], other: Any) -> None:
        theirs = page_records(other, name)
        for docname in docnames & theirs.keys():
            page_records(env, name)[docname] = theirs[docname]

    app.connect("env-purge-doc", purge)
    app.connect("env-merge-info", merge)
