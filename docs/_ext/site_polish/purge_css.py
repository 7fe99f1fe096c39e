"""Keep every page light: ship only the CSS rules and scripts the site uses.

The theme, Pygments and sphinx-design bring 80 KB of CSS to every page, most of
it for markup this site never writes. After the build, a selector is dropped
when it needs a class that appears neither in a class attribute of a built page
nor as a quoted word in a shipped script (scripts add classes at run time).
sphinx-design's tab script is left off pages that have no tabs.

Then those stylesheets lose the custom properties (``--name: value``) that nothing
reads any more, and the ``@keyframes`` no animation names. A property is read when
``var(--name`` is in a shipped stylesheet, or ``--name`` in a built page or a shipped
script (which may set or read it at run time). Dropping one can leave others unread,
so this repeats until none is.
"""

from __future__ import annotations

import json
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
_VAR_READ = re.compile(r"var\(\s*(--[\w-]+)")
_NAMED = re.compile(r"--[\w-]+")
_KEYFRAMES = re.compile(r"@(?:-webkit-)?keyframes\s+([\w-]+)")
_ANIMATION = re.compile(r"animation(?:-name)?\s*:([^;{}]*)")


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


def _split_declarations(body: str) -> list[str]:
    """The declarations of a rule's ``body``: split at semicolons outside quotes and
    brackets (a data: URL in a value has semicolons of its own)."""
    declarations, depth, quote, start = [], 0, "", 0
    for index, char in enumerate(body):
        if quote:
            quote = "" if char == quote and body[index - 1] != "\\" else quote
        elif char in "'\"":
            quote = char
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == ";" and depth == 0:
            declarations.append(body[start:index])
            start = index + 1
    declarations.append(body[start:])
    return [declaration for declaration in declarations if declaration.strip()]


def _drop_unread(css: str, read: set[str]) -> str:
    """``css`` without the declarations of custom properties outside ``read`` and without
    the ``@keyframes`` whose name is outside ``read``."""
    kept = []
    for prelude, body in _blocks(css):
        if prelude.startswith(_NESTING_AT_RULES):
            if inner := _drop_unread(body, read):
                kept.append(f"{prelude}{{{inner}}}")
        elif (keyframes := _KEYFRAMES.match(prelude)) and keyframes.group(1) not in read:
            continue
        elif prelude.startswith("@") or "{" in body:
            kept.append(f"{prelude}{{{body}}}")
        else:
            declarations = [
                declaration
                for declaration in _split_declarations(body)
                if not declaration.strip().startswith("--")
                or declaration.split(":", 1)[0].strip() in read
            ]
            if declarations:
                kept.append(f"{prelude}{{{';'.join(declarations)}}}")
    return "".join(kept)


def _names_read(stylesheets: dict[Path, str], elsewhere: set[str]) -> set[str]:
    """The custom properties and animation names that ``stylesheets`` read, with ``elsewhere``
    (the ``--names`` the pages and scripts mention)."""
    read = set(elsewhere)
    for css in stylesheets.values():
        read.update(_VAR_READ.findall(css))
        read.update(
            word for value in _ANIMATION.findall(css) for word in re.findall(r"[\w-]+", value)
        )
    return read


def drop_unread_names(
    stylesheets: dict[Path, str], purged: set[Path], elsewhere: set[str]
) -> dict[Path, str]:
    """``stylesheets`` (path -> CSS) where those in ``purged`` lose the custom properties
    and keyframes that nothing reads."""
    while True:
        read = _names_read(stylesheets, elsewhere)
        smaller = {
            path: _drop_unread(css, read) if path in purged else css
            for path, css in stylesheets.items()
        }
        if smaller == stylesheets:
            return smaller
        stylesheets = smaller


def names_mentioned(html_dir: Path) -> set[str]:
    """Every ``--name`` in a built page (inline styles) or a shipped script."""
    names: set[str] = set()
    for path in [*html_dir.rglob("*.html"), *html_dir.glob("_static/**/*.js")]:
        names.update(_NAMED.findall(path.read_text(encoding="utf-8", errors="replace")))
    return names


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
    used, mentioned = _words_of_the_site(app, out)
    static = out / "_static"
    listed = "\n".join(sorted(used)).encode()
    for name in PURGED_STYLESHEETS:
        stylesheet = static / name
        if not stylesheet.exists():
            continue
        css = stylesheet.read_bytes()

        def purge(css: bytes = css) -> bytes:
            return purge_css(css.decode("utf-8"), used).encode("utf-8")

        write_if_changed(stylesheet, made_once(app, f"purged-{name}", [css, listed], purge))
    _drop_unread_everywhere(app, static, mentioned)


def _words_of_the_site(app: Sphinx, out: Path) -> tuple[set[str], set[str]]:
    """``used_classes`` and ``names_mentioned`` of the built site; the pages and scripts are
    scanned again only when one of them changed (a no-op rebuild changes none)."""
    files = [*sorted(out.rglob("*.html")), *sorted(out.glob("_static/**/*.js"))]

    def scan() -> bytes:
        return json.dumps([sorted(used_classes(out)), sorted(names_mentioned(out))]).encode()

    found = made_once(app, "site-words", [file.read_bytes() for file in files], scan)
    classes, names = json.loads(found)
    return set(classes), set(names)


def _drop_unread_everywhere(app: Sphinx, static: Path, mentioned: set[str]) -> None:
    """Drop the purged stylesheets' unread names; again only when a stylesheet or the names
    the pages and scripts mention changed."""
    paths = sorted(static.rglob("*.css"))
    sheets = {path: path.read_text("utf-8") for path in paths}
    purged = {static / name for name in PURGED_STYLESHEETS} & set(sheets)

    def drop() -> bytes:
        kept = drop_unread_names(sheets, purged, mentioned)
        return json.dumps({str(path.relative_to(static)): kept[path] for path in purged}).encode()

    inputs = [
        *(f"{path.relative_to(static)}\n{css}".encode() for path, css in sheets.items()),
        "\n".join(sorted(mentioned)).encode(),
    ]
    for name, css in json.loads(made_once(app, "unread-names", inputs, drop)).items():
        write_if_changed(static / name, css.encode("utf-8"))


def setup_purge_css(app: Sphinx) -> None:
    app.connect("html-page-context", _drop_unused_tab_script)
    # After the theme's handler (priority 500), which rewrites pygments.css.
    app.connect("build-finished", _purge_stylesheets, priority=900)
