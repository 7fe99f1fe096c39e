"""Keep every page light: ship only the CSS rules and scripts the site uses.

sphinx-design adds a 55 KB stylesheet and its tab script to every page. After
the build, rules whose classes appear in no built page are dropped from that
stylesheet, and the tab script is left off pages that have no tabs.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sphinx.application import Sphinx

PURGED_STYLESHEETS = ("sphinx-design.min.css",)
TAB_SCRIPT = "design-tabs.js"

_CLASS_ATTRIBUTE = re.compile(r'\bclass="([^"]*)"')
_CLASS_SELECTOR = re.compile(r"\.(-?[_a-zA-Z][\w-]*)")
_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_NESTING_AT_RULES = ("@media", "@supports", "@layer", "@container")


def used_classes(html_dir: Path) -> set[str]:
    """Every class name that appears in a class attribute of a built page."""
    classes: set[str] = set()
    for page in html_dir.rglob("*.html"):
        for attribute in _CLASS_ATTRIBUTE.findall(page.read_text(encoding="utf-8")):
            classes.update(attribute.split())
    return classes


def _blocks(css: str):
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
                selector
                for selector in _split_selectors(prelude)
                if set(_CLASS_SELECTOR.findall(selector)) <= used
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
    if exception or app.builder.format != "html":
        return
    out = Path(app.outdir)
    used = used_classes(out)
    for name in PURGED_STYLESHEETS:
        stylesheet = out / "_static" / name
        if stylesheet.exists():
            stylesheet.write_text(purge_css(stylesheet.read_text("utf-8"), used), "utf-8")


def setup_assets(app: Sphinx) -> None:
    app.connect("html-page-context", _drop_unused_tab_script)
    app.connect("build-finished", _purge_stylesheets)
