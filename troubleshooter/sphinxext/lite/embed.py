"""jupyterlite-sphinx in this build: its directives as they are, their HTML and its build step ours.

What is kept: its directives (``replite``, ``notebooklite``, ``jupyterlite``, ``voici``), their
options, the nodes they make and the URL each node carries, and its settings, which drive the
JupyterLite build (``site.py``). What is changed, each through a Sphinx hook:

- **HTML of its nodes** (``app.add_node(..., override=True)``): an embed becomes a real
  ``<button>`` with an accessible name, hidden until ``static/demos.js`` runs, and a status line;
  the script starts the app in a frame out of sight when the reader points at or focuses the
  button (and fetches the site's Pyodide and the packages the kernel loads at start meanwhile,
  so the kernel's worker finds them in the browser's cache), and shows the frame when the
  button is pressed.
  A "new tab" node becomes a plain link. No inline event handler, so a strict CSP holds, and
  nothing of JupyterLite is fetched before the reader asks.
- **Its assets** (``html-page-context``): its Google Fonts stylesheet, and any other stylesheet or
  script on another host, leave every page; its own CSS and JS, written for the markup replaced
  here, leave every page and the site; ``demos.js`` goes only on pages that embed JupyterLite.
- **Its build step** (its ``build-finished`` listener, found in ``app.events.listeners`` and
  disconnected): ``site.py`` runs ``jupyter lite build`` from the same settings, only when an
  input changed, with only the apps the pages use.

``troubleshooter_lite_pyodide`` (``"local"``, the default, ships Pyodide with the site;
``"cdn"`` leaves it to the kernel's public CDN) and ``troubleshooter_lite_cache`` (default
``.cache/lite`` beside ``conf.py``) are this extension's own settings.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from docutils import nodes
from jupyterlite_sphinx import jupyterlite_sphinx as stock
from sphinx.util import logging

from ..records import keep_page_records, page_records
from ..shared import add_static_dir
from .cache import LiteUnavailable, default_cache
from .pyodide import MODES, PRELOAD
from .site import LiteBuild, prepare, publish, settings_from

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.config import Config
    from sphinx.environment import BuildEnvironment
    from sphinx.writers.html5 import HTML5Translator

logger = logging.getLogger(__name__)

SCRIPT = "demos.js"
RECORDS = "troubleshooter_lite_pages"
# Each embed node and the JupyterLite app its URL opens.
FRAMES = {
    stock.RepliteIframe: "repl",
    stock.NotebookLiteIframe: "notebooks",
    stock.JupyterLiteIframe: "lab",
    stock.VoiciIframe: "voici",
}
TABS = {
    stock.RepliteTab: "repl",
    stock.NotebookLiteTab: "notebooks",
    stock.JupyterLiteTab: "lab",
    stock.VoiciTab: "voici",
}
STOCK_ASSETS = ("jupyterlite_sphinx.css", "jupyterlite_sphinx.js")
DEFAULT_PROMPT = "Start Python here"


@dataclass
class LiteStatus:
    """Whether this build has a JupyterLite for the embeds, and if not, why."""

    build: LiteBuild | None = None
    reason: str = "the demos were not prepared"


# Per build environment: the one object every handler and translator of a build reaches.
_STATUS: weakref.WeakKeyDictionary[BuildEnvironment, LiteStatus] = weakref.WeakKeyDictionary()
_BAD_SETTING: weakref.WeakKeyDictionary[Sphinx, str] = weakref.WeakKeyDictionary()


def status(env: BuildEnvironment) -> LiteStatus:
    return _STATUS.setdefault(env, LiteStatus())


def lite_pages(env: BuildEnvironment) -> dict[str, list[tuple[str, str | None]]]:
    """docname -> (app, notebook path in JupyterLite or None) for each embed on that page."""
    return page_records(env, RECORDS)


# --- HTML --------------------------------------------------------------------------------


def _unavailable(self: HTML5Translator, node: nodes.Element) -> None:
    reason = status(self.builder.env).reason
    shown = " The code and its output above are what it shows." if node.get("demo") else ""
    self.body.append(
        '<p class="memory-demo-unavailable"><strong>Demo unavailable in this build:</strong> '
        f"{self.encode(reason)}.{shown}</p>\n"
    )


def visit_frame_html(self: HTML5Translator, node: nodes.Element) -> None:
    """An embed: a button that opens ``node["iframe_src"]`` in a frame, and a status line."""
    if status(self.builder.env).build is None:
        _unavailable(self, node)
        raise nodes.SkipNode
    prompt = node.get("prompt")
    label = prompt if isinstance(prompt, str) and prompt else DEFAULT_PROMPT
    notebook = parse_qs(urlsplit(node["iframe_src"]).query).get("path", [""])[0]
    title = f"Notebook in your browser: {Path(notebook).name}" if notebook else "JupyterLite"
    attributes = {
        "data-lite-src": node["iframe_src"],
        "data-lite-title": node.get("title") or title,
        "data-lite-search-params": node.get("search_params", "false"),
    }
    if self.builder.config.troubleshooter_lite_pyodide == "local":
        # Where the site's Pyodide lives and what the kernel loads from it at start, for
        # demos.js to fetch while the app starts.
        app_path = getattr(type(node), "lite_app", None) or "voici/"
        attributes["data-lite-pyodide"] = node["iframe_src"].split(app_path)[0] + "static/pyodide/"
        attributes["data-lite-packages"] = " ".join(PRELOAD)
    if node.get("height") not in (None, "", "100%"):
        attributes["data-lite-height"] = node["height"]
    if node.get("demo"):
        attributes["data-demo"] = node["demo"]
    self.body.append(self.starttag(node, "div", CLASS="memory-demo-run", **attributes))
    # Hidden until demos.js runs, so a reader without JavaScript sees no dead button.
    self.body.append(
        '<button type="button" class="sd-btn sd-btn-primary memory-demo-button" hidden>'
        f"{self.encode(label)}</button>\n"
        '<p class="memory-demo-status" role="status" aria-live="polite"></p>\n'
        "</div>\n"
    )
    raise nodes.SkipNode


def visit_tab_html(self: HTML5Translator, node: nodes.Element) -> None:
    """A "new tab" embed: a link to the app, which needs no script at all."""
    if status(self.builder.env).build is None:
        _unavailable(self, node)
        raise nodes.SkipNode
    text = getattr(node, "button_text", None) or "Open in JupyterLite"
    href = self.encode(getattr(node, "lab_src", ""))
    self.body.append(
        f'<p><a class="sd-btn sd-btn-primary reference external" href="{href}">'
        f"{self.encode(text)}</a></p>\n"
    )
    raise nodes.SkipNode


def _skip(self: Any, node: nodes.Element) -> None:
    raise nodes.SkipNode


def _record_embeds(app: Sphinx, doctree: nodes.document) -> None:
    """Note which apps and notebooks each page embeds, for the build and for the script."""
    found: list[tuple[str, str | None]] = []
    for box in doctree.findall(nodes.container):
        if "try_examples_outer_container" in box["classes"]:
            logger.warning(
                "try_examples writes its buttons as raw HTML with inline event handlers, which "
                "this site does not allow; use {replite} or {notebooklite} instead",
                location=box,
                type="troubleshooter",
                subtype="lite",
            )
    for node in doctree.findall(nodes.Element):
        kind = FRAMES.get(type(node)) or TABS.get(type(node))
        if kind is None:
            continue
        url = node.get("iframe_src") or getattr(node, "lab_src", "")
        notebook = parse_qs(urlsplit(url).query).get("path", [None])[0]
        found.append((kind, notebook))
    if found:
        lite_pages(app.env)[app.env.docname] = found


# --- assets ------------------------------------------------------------------------------


def _is_remote(url: str) -> bool:
    return url.startswith(("http:", "https:", "//"))


def _own_assets_only(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """No remote stylesheet or script anywhere; demos.js only where something is embedded."""

    def kept(asset: Any) -> bool:
        name = str(getattr(asset, "filename", asset))
        return not _is_remote(name) and Path(name).name not in STOCK_ASSETS

    for key in ("css_files", "script_files"):
        if isinstance(context.get(key), list):  # the builder's own list, restored after the page
            context[key][:] = [asset for asset in context[key] if kept(asset)]
    if pagename in lite_pages(app.env) and status(app.env).build is not None:
        app.add_js_file(SCRIPT, loading_method="defer")


# --- the build ---------------------------------------------------------------------------


def _check_setting(app: Sphinx, config: Config) -> None:
    mode = config.troubleshooter_lite_pyodide
    if mode not in MODES:
        reason = f"troubleshooter_lite_pyodide must be one of {MODES}, not {mode!r}"
        _BAD_SETTING[app] = reason
        logger.warning("%s; no demo runs", reason, type="troubleshooter", subtype="config")


def _notebooks(app: Sphinx) -> dict[str, str]:
    """Each notebook a page embeds: its path in JupyterLite -> its file."""
    srcdir = Path(app.srcdir)
    staged = srcdir / app.config.jupyterlite_content_dir  # where the directive copies it
    found = {}
    for records in lite_pages(app.env).values():
        for _, path in records:
            if path:
                source = srcdir / path if (srcdir / path).is_file() else staged / path
                found[path] = str(source.resolve())
    return found


def _prepare_lite(app: Sphinx, env: BuildEnvironment) -> None:
    """Before any page is written: have the JupyterLite ready, or know why not."""
    if app.builder.format != "html" or not lite_pages(env):
        return
    if app in _BAD_SETTING:
        _STATUS[env] = LiteStatus(reason=_BAD_SETTING[app])
        return
    apps = {kind for records in lite_pages(env).values() for kind, _ in records}
    cache = Path(app.config.troubleshooter_lite_cache or default_cache(Path(app.confdir)))
    try:
        settings = settings_from(app.config, Path(app.srcdir), apps, _notebooks(app))
        build = prepare(cache, settings, logger.info)
    except LiteUnavailable as error:
        _STATUS[env] = LiteStatus(reason=str(error))
        logger.info("troubleshooter: the demos are unavailable in this build: %s", error)
        return
    _STATUS[env] = LiteStatus(build=build)


def _publish_lite(app: Sphinx, exception: BaseException | None) -> None:
    for name in STOCK_ASSETS:  # copied by jupyterlite-sphinx's setup; no page asks for them
        (Path(app.outdir) / "_static" / name).unlink(missing_ok=True)
    build = status(app.env).build
    if exception is None and build is not None and publish(build, Path(app.outdir)):
        logger.info("troubleshooter: copied the JupyterLite into %s/lite", app.outdir)


def _replace_stock_build(app: Sphinx) -> None:
    """Disconnect jupyterlite-sphinx's own ``jupyter lite build``, which runs on every build."""
    for listener in list(app.events.listeners.get("build-finished", [])):
        if listener.handler is stock.jupyterlite_build:
            app.disconnect(listener.id)


def setup_embed(app: Sphinx) -> None:
    app.setup_extension("jupyterlite_sphinx")
    _replace_stock_build(app)
    app.add_config_value("troubleshooter_lite_pyodide", "local", "env", types=[str])
    app.add_config_value("troubleshooter_lite_cache", None, "", types=[str, type(None)])
    others = {builder: (_skip, None) for builder in ("latex", "text", "man", "texinfo")}
    for node_class in FRAMES:
        app.add_node(node_class, override=True, html=(visit_frame_html, None), **others)
    for node_class in TABS:
        app.add_node(node_class, override=True, html=(visit_tab_html, None), **others)
    keep_page_records(app, RECORDS)
    app.connect("config-inited", _check_setting)
    app.connect("builder-inited", add_static_dir)
    app.connect("doctree-read", _record_embeds)
    app.connect("env-updated", _prepare_lite)
    # Before handlers that copy the page's script list (see assets.py), so ours is in it.
    app.connect("html-page-context", _own_assets_only, priority=400)
    app.connect("build-finished", _publish_lite)
