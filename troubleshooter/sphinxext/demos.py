"""Live demos: Python that runs in the reader's browser, only when the reader asks.

``{memory-demo} demos/object_size.py`` shows a demo file: its title (the first line of
the module docstring), its code without the docstring, highlighted and copyable, and
what it prints, from ``object_size.txt`` beside it (the output of the browser's 32-bit
Python; the tests check it against Pyodide). Both are readable without running
anything. Below them a "Run this demo" button opens a JupyterLite REPL in a frame and
runs the code there; the option ``:install-project:`` first installs this project's
package with ``%pip install``.

Nothing of JupyterLite is fetched before the click: a page with demos carries one small
script (``static/demos.js``), pages without demos carry nothing. The JupyterLite itself
(``lite.py``) is assembled once per set of inputs into a cache and copied into the
site as ``lite/`` at the end of the build. Where it cannot be built (no npm, say), the
build says why at info level and each demo shows "Demo unavailable in this build".

Settings in ``conf.py``:

- ``troubleshooter_lite_pyodide``: ``"local"`` (default) ships Pyodide with the site and
  makes no request elsewhere; ``"cdn"`` loads Pyodide and its packages from the public
  CDN the Pyodide kernel defaults to, for demos that need compiled packages such as numpy.
- ``troubleshooter_lite_cache``: where downloads and builds are kept; default
  ``.cache/lite`` beside ``conf.py`` (or ``$TROUBLESHOOTER_LITE_CACHE``).

To refresh an expected output after editing a demo, run
``pytest tests/test_demos.py --force-regen``.
"""

from __future__ import annotations

import ast
import tomllib
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.directives.code import container_wrapper
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from . import lite
from .records import keep_page_records, page_records

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment
    from sphinx.writers.html5 import HTML5Translator

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
SCRIPT = "demos.js"
EXPECTED_SUFFIX = ".txt"


@dataclass(frozen=True)
class Demo:
    """A demo file: its title, the code a reader runs, and what that code prints."""

    name: str
    title: str
    code: str
    expected: str


class DemoError(ValueError):
    """A demo file that cannot be shown; the message names the file and the problem."""


def read_demo(path: Path) -> Demo:
    """Read ``path`` (a ``.py`` file) and the expected output beside it."""
    try:
        source = path.read_text("utf-8")
    except OSError as error:
        raise DemoError(f"cannot read the demo {path}: {error.strerror}") from None
    try:
        module = ast.parse(source, str(path))
    except SyntaxError as error:
        raise DemoError(f"{path}, line {error.lineno}: {error.msg}") from None
    docstring = ast.get_docstring(module)
    if not docstring or not module.body:
        raise DemoError(f"{path} must start with a docstring whose first line is its title")
    lines = source.splitlines(keepends=True)
    code = "".join(lines[module.body[0].end_lineno :]).strip("\n") + "\n"
    expected_path = path.with_suffix(EXPECTED_SUFFIX)
    try:
        expected = expected_path.read_text("utf-8")
    except OSError:
        raise DemoError(
            f"the demo {path.name} has no expected output {expected_path.name} beside it"
        ) from None
    title = docstring.splitlines()[0].strip()
    return Demo(name=path.stem, title=title, code=code, expected=expected)


def project_distribution() -> str:
    """This project's distribution name, for ``%pip install`` in the browser."""
    pyproject = lite.PROJECT_ROOT / "pyproject.toml"
    return tomllib.loads(pyproject.read_text("utf-8"))["project"]["name"]


# --- the directive -----------------------------------------------------------------------


class memory_demo(nodes.General, nodes.Element):
    """The whole demo; HTML gives it a labelled group, other builders show its children."""


class demo_controls(nodes.General, nodes.Element):
    """The button and status line; HTML only, filled in when the page is written."""


class MemoryDemoDirective(SphinxDirective):
    """``{memory-demo} path/to/demo.py``: a demo's code, its output and a Run button."""

    required_arguments = 1
    has_content = False
    option_spec: ClassVar[dict[str, Any]] = {"install-project": directives.flag}

    def run(self) -> list[nodes.Node]:
        relative, absolute = self.env.relfn2path(self.arguments[0], self.env.docname)
        path = Path(absolute)
        self.env.note_dependency(relative)
        self.env.note_dependency(str(Path(relative).with_suffix(EXPECTED_SUFFIX)))
        try:
            demo = read_demo(path)
        except DemoError as error:
            logger.warning("%s", error, location=self.get_location(), type="troubleshooter")
            return []
        _demo_pages(self.env).setdefault(self.env.docname, []).append(demo.name)

        anchor = f"demo-{nodes.make_id(demo.name)}"
        title_id = f"{anchor}-title"
        root = memory_demo(ids=[anchor], classes=["memory-demo"], title_id=title_id)
        root += nodes.rubric(demo.title, demo.title, ids=[title_id], classes=["memory-demo-title"])
        setup = ""
        if "install-project" in self.options:
            setup = f"%pip install {project_distribution()}"
            root += nodes.paragraph(
                "",
                "",
                nodes.Text("In the browser, this first runs "),
                nodes.literal(setup, setup),
                nodes.Text(" to install this project's package."),
            )
        code = nodes.literal_block(demo.code, demo.code, language="python")
        root += container_wrapper(self, code, f"{demo.name}.py")
        output = nodes.literal_block(demo.expected, demo.expected, language="text")
        output["classes"].append("memory-demo-output")
        root += container_wrapper(self, output, "What it prints in the browser")
        root += demo_controls(demo=demo.name, title=demo.title, setup=setup)
        self.set_source_info(root)
        return [root]


def _demo_pages(env: BuildEnvironment) -> dict[str, list[str]]:
    return page_records(env, "troubleshooter_demo_pages")


# --- writing HTML ------------------------------------------------------------------------


@dataclass
class LiteStatus:
    """Whether this build has a JupyterLite for the demos, and if not, why."""

    build: lite.LiteBuild | None = None
    reason: str = ""


# Per build environment: the one object every handler and translator of a build reaches.
_STATUS: weakref.WeakKeyDictionary[BuildEnvironment, LiteStatus] = weakref.WeakKeyDictionary()


def _status(env: BuildEnvironment) -> LiteStatus:
    return _STATUS.setdefault(env, LiteStatus(reason="the demos were not prepared"))


def visit_memory_demo_html(self: HTML5Translator, node: memory_demo) -> None:
    self.body.append(self.starttag(node, "section", **{"aria-labelledby": node["title_id"]}))


def depart_memory_demo_html(self: HTML5Translator, node: memory_demo) -> None:
    self.body.append("</section>\n")


def visit_demo_controls_html(self: HTML5Translator, node: demo_controls) -> None:
    status = _status(self.builder.env)
    if status.build is None:
        self.body.append(
            '<p class="memory-demo-unavailable"><strong>Demo unavailable in this build:</strong> '
            f"{self.encode(status.reason)}. The code and its output above are what it shows.</p>\n"
        )
        raise nodes.SkipNode
    attributes = {"data-demo": node["demo"], "data-demo-title": node["title"]}
    if node["setup"]:
        attributes["data-demo-setup"] = node["setup"]
    self.body.append(self.starttag(node, "div", CLASS="memory-demo-run", **attributes))
    # Hidden until demos.js runs, so a reader without JavaScript sees no dead button.
    self.body.append(
        '<button type="button" class="sd-btn sd-btn-primary memory-demo-button" hidden>'
        "Run this demo</button>\n"
        '<p class="memory-demo-status" role="status" aria-live="polite"></p>\n'
        "</div>\n"
    )
    raise nodes.SkipNode


def _visit_children_only(self: Any, node: nodes.Element) -> None:
    pass


def _skip(self: Any, node: nodes.Element) -> None:
    raise nodes.SkipNode


# --- build events ------------------------------------------------------------------------


def _add_static_path(app: Sphinx) -> None:
    if app.builder.format == "html" and str(STATIC_DIR) not in app.config.html_static_path:
        app.config.html_static_path.append(str(STATIC_DIR))


def _prepare_lite(app: Sphinx, env: BuildEnvironment) -> None:
    """Before any page is written: have the JupyterLite ready, or know why not."""
    if app.builder.format != "html" or not _demo_pages(env):
        return
    mode = app.config.troubleshooter_lite_pyodide
    if mode not in lite.MODES:
        reason = f"troubleshooter_lite_pyodide must be one of {lite.MODES}, not {mode!r}"
        _STATUS[env] = LiteStatus(reason=reason)
        logger.warning("%s; no demo runs", reason, type="troubleshooter", subtype="config")
        return
    cache = Path(app.config.troubleshooter_lite_cache or lite.default_cache(Path(app.confdir)))
    try:
        build = lite.prepare(cache, mode, logger.info)
    except lite.LiteUnavailable as error:
        _STATUS[env] = LiteStatus(reason=str(error))
        logger.info("troubleshooter: the demos are unavailable in this build: %s", error)
        return
    _STATUS[env] = LiteStatus(build=build)


def _add_script(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    if pagename in _demo_pages(app.env) and _status(app.env).build is not None:
        app.add_js_file(SCRIPT, loading_method="defer")


def _publish_lite(app: Sphinx, exception: BaseException | None) -> None:
    build = _status(app.env).build
    if exception is None and build is not None and lite.publish(build, Path(app.outdir)):
        logger.info("troubleshooter: copied the demos' JupyterLite into %s/lite", app.outdir)


def setup_demos(app: Sphinx) -> None:
    app.add_config_value("troubleshooter_lite_pyodide", "local", "", types=[str])
    app.add_config_value("troubleshooter_lite_cache", None, "", types=[str, type(None)])
    others = {
        builder: (_visit_children_only, _visit_children_only)
        for builder in ("latex", "text", "man", "texinfo")
    }
    app.add_node(memory_demo, html=(visit_memory_demo_html, depart_memory_demo_html), **others)
    skipped = {builder: (_skip, None) for builder in ("latex", "text", "man", "texinfo")}
    app.add_node(demo_controls, html=(visit_demo_controls_html, None), **skipped)
    app.add_directive("memory-demo", MemoryDemoDirective)
    keep_page_records(app, "troubleshooter_demo_pages")
    app.connect("builder-inited", _add_static_path)
    app.connect("env-updated", _prepare_lite)
    # Before handlers that copy the page's script list (see assets.py), so ours is in it.
    app.connect("html-page-context", _add_script, priority=400)
    app.connect("build-finished", _publish_lite)
