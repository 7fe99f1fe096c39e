"""Ship the site's scripts and stylesheets minified; the repository keeps them readable.

After the build (and after ``purge_css``), every ``.js`` and ``.css`` file in the built
``_static/`` is rewritten by rJSmin or rCSSmin: comments and the whitespace that means
nothing go, ``/*! ... */`` licence comments stay. The sources in the repository, which the
type checker and the tests read, are untouched. The step is idempotent, so a rebuild that
leaves a file where the last build put it minifies it again to the same bytes.

rJSmin keeps template literals whole only when they are not nested: inside a nested one it
would take the inner literal's spaces for code. A script with a backtick inside ``${...}``
is therefore shipped as it is written, and the build says so in its verbose log.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import rcssmin
import rjsmin
from sphinx.util import logging

from troubleshooter.sphinxext.generated import made_once, write_if_changed

if TYPE_CHECKING:
    from sphinx.application import Sphinx

logger = logging.getLogger(__name__)

_QUOTES = "'\""


def has_nested_template(script: str) -> bool:
    """Whether a backtick appears inside a ``${...}`` substitution of ``script``.

    A rough scan, meant to err towards yes: braces are counted from each ``${`` to its
    match, skipping quoted strings, so a ``${`` in a comment or a plain string costs the
    file no more than its minification.
    """
    start = script.find("${")
    while start != -1:
        depth, index = 1, start + 2
        while depth and index < len(script):
            char = script[index]
            if char == "`":
                return True
            if char in _QUOTES:
                index = _string_end(script, index)
            elif char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
            index += 1
        start = script.find("${", index)
    return False


def _string_end(script: str, opening: int) -> int:
    """The index of the quote that closes the string opened at ``opening`` (or of its line's
    end: a JavaScript string cannot run past one)."""
    index = opening + 1
    while index < len(script) and script[index] not in (script[opening], "\n"):
        index += 2 if script[index] == "\\" else 1
    return index


def minify_script(script: str) -> str | None:
    """``script`` minified, or None when rJSmin could not be trusted with it."""
    if has_nested_template(script):
        return None
    return rjsmin.jsmin(script, keep_bang_comments=True)


def minify_stylesheet(stylesheet: str) -> str:
    return rcssmin.cssmin(stylesheet, keep_bang_comments=True)


def minify_static(app: Sphinx, static: Path) -> None:
    """Minify each script and stylesheet under ``static``; rJSmin or rCSSmin runs again only
    for a file whose content changed since a build last minified it."""
    for path in sorted(static.rglob("*")):
        if path.suffix not in {".js", ".css"} or not path.is_file():
            continue
        text = path.read_bytes()

        def minify(text: bytes = text, script: bool = path.suffix == ".js") -> bytes:
            source = text.decode("utf-8")
            smaller = minify_script(source) if script else minify_stylesheet(source)
            return (source if smaller is None else smaller).encode("utf-8")

        name = path.relative_to(static).as_posix()
        smaller = made_once(app, f"minified-{name}", [text], minify)
        if smaller == text and path.suffix == ".js" and has_nested_template(text.decode()):
            logger.verbose("site_polish: %s has a nested template literal; not minified", path)
        write_if_changed(path, smaller)


def _minify_built_static(app: Sphinx, exception: Exception | None) -> None:
    if exception or app.builder.format != "html":
        return
    minify_static(app, Path(app.outdir) / "_static")


def setup_minify(app: Sphinx) -> None:
    # After purge_css (900): it reads the scripts' quoted words and rewrites the stylesheets.
    app.connect("build-finished", _minify_built_static, priority=950)
