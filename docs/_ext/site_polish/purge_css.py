"""Keep every page light: ship only the CSS rules and scripts the site uses.

The theme, Pygments and sphinx-design bring 80 KB of CSS to every page, most of
it for markup this site never writes. After the build, a selector is dropped
when it needs a class that appears neither in a class attribute of a built page
nor as a quoted word in a shipped script (scripts add classes at run time).
sphinx-design's tab script is left off pages that have no tabs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from troubleshooter.sphinxext.generated import made_once, write_if_changed

if TYPE_CHECKING:
    from sphinx.application import Sphinx

PURGED_STYLESHEETS = (
    "sphinx-design.min.css",
    "pygments.css",
    "styles/furo.css",
    "styles/furo-extensions.css",
)
TAB_SCRIPT = "design-tabs.js"

_CLASS_ATTRIBUTE = re.compile(r'\bclass="([^"]*)"')
_CLASS_SELECTOR = re.compile(r"\.(-?[_a-zA-Z][\w-]*)")
_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_QUOTED_WORD = re.compile(r"""["'`]([_a-zA-Z][\w-]*)["'`\s]""")
_NEGATION = re.compile(r":not\([^()]*\)")
# Pseudo-classes whose arguments are alternatives: which of them is needed cannot be told.
_KEEP_WHOLE = (":is(", ":where(", ":has(")
_NESTING_AT_RULES = ("@media", "@supports", "@layer", "@container")


def used_classes(html_dir: Path) -> set[str]:
    """Class names in the class attributes of built pages, and words quoted in scripts."""
    classes: set[str] = set()
    for page in html_dir.rglob("*.html"):
        for attribute in _CLASS_ATTRIBUTE.findall(page.read_text(encoding="utf-8")):
            classes.update(attribute.split())
    for script in html_dir.glob("_static/**/*.js"):
        for line in script.read_text(encoding="utf-8", errors="replace").splitlines():
            classes.update(_QUOTED_WORD.findall(line))
            classes.update(
                word for quoted in re.findall(r'"([^"]*)"', line) for word in quoted.split()
            )
    return classes


def _needed(selector: str, used: set[str]) -> bool:
    if any(pseudo in selector for pseudo in _KEEP_WHOLE):
        return True
    return set(_CLASS_SELECTOR.findall(_NEGATION.sub("", selector))) <= used


def _blocks(css: str) -> Iterator[tuple[str, str]]:
    """Yield (prelude, body) for each top-level block of ``css``."""
    position = 0
    while (opening := css.find("{", position)) != -1:
        depth, end = 1, opening + 1
        while depth and end < len(css):
            depth += {"{": 1, "}": -1}.get(css[end], 0)
            end += 1
        yield css[position:opening].strip(), css[opening + 1 : end - 1]
        position = end


def _split_selectors(prelude: str) -> list[str]:
    selectors, depth, start = [], 0, 0
    for index, char in enumerate(prelude):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            selectors.append(prelude[start:index])
            start = index + 1
    selectors.append(prelude[start:])
    return [selector.strip() for selector in selectors]


def purge_css(css: str, used: set[str]) -> str:
    """Drop the selectors of ``css`` that name a class outside ``used``."""
    kept = []
    for prelude, body in _blocks(_COMMENT.sub("", css)):
        if prelude.startswith(_NESTING_AT_RULES):
            if inner := purge_css(body, used):
                kept.append(f"{prelude}{{{inner}}}")
        elif prelude.startswith("@"):
            kept.append(f"{prelude}{{{body}}}")
        else:
            selectors = [
                selector for selector in _split_selectors(prelude) if _needed(selector, used)
            ]
            if selectors:
                kept.append(f"{','.join(selectors)}{{{body}}}")
    return "".join(kept)


def _drop_unused_tab_script(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    if "sd-tab-set" in context.get("body", ""):
        return
    context["script_files"] = [
        script for script in context.get("script_files", []) if TAB_SCRIPT not in str(script)
    ]


def _purge_stylesheets(app: Sphinx, exception: Exception | None) -> None:
    """Purge each stylesheet Sphinx copied in; the purge itself runs again only when the
    stylesheet or the set of used classes changed (a page edit rarely changes either)."""
    if exception or app.builder.format != "html":
        return
    out = Path(app.outdir)
    used = used_classes(out)
    listed = "\n".join(sorted(used)).encode()
    for name in PURGED_STYLESHEETS:
        stylesheet = out / "_static" / name
        if not stylesheet.exists():
            continue
        css = stylesheet.read_bytes()

        def purge(css: bytes = css) -> bytes:
            return purge_css(css.decode("utf-8"), used).encode("utf-8")

        write_if_changed(stylesheet, made_once(app, f"purged-{name}", [css, listed], purge))


def setup_purge_css(app: Sphinx) -> None:
    app.connect("html-page-context", _drop_unused_tab_script)
    # After the theme's handler (priority 500), which rewrites pygments.css.
    app.connect("build-finished", _purge_stylesheets, priority=900)
