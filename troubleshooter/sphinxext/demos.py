"""Live demos: Python that runs in the reader's browser, only when the reader asks.

``{memory-demo} demos/object_size.py`` shows a demo file: its title (the first line of
the module docstring), its code without the docstring, highlighted and copyable, and
what it prints, from ``object_size.txt`` beside it (the output of the browser's 32-bit
Python; the tests check it against Pyodide). Both are readable without running
anything. Below them, jupyterlite-sphinx's ``replite`` embed runs the same code: the
directive is a thin subclass of its ``RepliteDirective``, so the REPL options
(``:kernel:``, ``:theme:``, ``:toolbar:``, ``replite_*`` in ``conf.py`` ...) work here too.
The option ``:install-project:`` first installs this project's package with ``%pip install``.

How the embed is written, what it loads and when, and the JupyterLite build behind it are
in ``lite/embed.py``, for every jupyterlite-sphinx directive alike.

To refresh an expected output after editing a demo, run
``pytest tests/test_demos.py --force-regen``.
"""

from __future__ import annotations

import ast
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from jupyterlite_sphinx.jupyterlite_sphinx import RepliteDirective
from sphinx.directives.code import container_wrapper
from sphinx.util import logging

from .lite.cache import PROJECT_ROOT

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.writers.html5 import HTML5Translator

logger = logging.getLogger(__name__)

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
    pyproject = PROJECT_ROOT / "pyproject.toml"
    return tomllib.loads(pyproject.read_text("utf-8"))["project"]["name"]


# --- the directive -----------------------------------------------------------------------


class memory_demo(nodes.General, nodes.Element):
    """The whole demo; HTML gives it a labelled group, other builders show its children."""


class MemoryDemoDirective(RepliteDirective):
    """``{memory-demo} path/to/demo.py``: a demo's code, its output, and a ``replite`` to run it."""

    required_arguments = 1
    has_content = False
    option_spec: ClassVar[dict[str, Any]] = {
        **RepliteDirective.option_spec,
        "install-project": directives.flag,
    }
    # What a demo's REPL looks like unless the page says otherwise.
    defaults: ClassVar[dict[str, str]] = {
        "kernel": "python",
        "toolbar": "1",
        "show_banner": "False",
        "prompt": "Run this demo",
    }

    def run(self) -> list[nodes.Node]:
        relative, absolute = self.env.relfn2path(self.arguments[0], self.env.docname)
        self.env.note_dependency(relative)
        self.env.note_dependency(str(Path(relative).with_suffix(EXPECTED_SUFFIX)))
        try:
            demo = read_demo(Path(absolute))
        except DemoError as error:
            logger.warning("%s", error, location=self.get_location(), type="troubleshooter")
            return []
        setup = ""
        if "install-project" in self.options:
            del self.options["install-project"]
            setup = f"%pip install {project_distribution()}"
        for option, value in self.defaults.items():
            self.options.setdefault(option, value)
        self.content = StringList(demo.code.splitlines(), source=absolute)
        [embed] = super().run()
        if setup:  # its own cell, run before the demo's
            page, _, query = embed["iframe_src"].partition("?")
            embed["iframe_src"] = f"{page}?code={quote(setup)}&{query}"
        embed["title"] = f"Python in your browser: {demo.title}"
        embed["demo"] = demo.name

        anchor = f"demo-{nodes.make_id(demo.name)}"
        title_id = f"{anchor}-title"
        root = memory_demo(ids=[anchor], classes=["memory-demo"], title_id=title_id)
        root += nodes.rubric(demo.title, demo.title, ids=[title_id], classes=["memory-demo-title"])
        if setup:
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
        root += embed
        self.set_source_info(root)
        return [root]


def visit_memory_demo_html(self: HTML5Translator, node: memory_demo) -> None:
    self.body.append(self.starttag(node, "section", **{"aria-labelledby": node["title_id"]}))


def depart_memory_demo_html(self: HTML5Translator, node: memory_demo) -> None:
    self.body.append("</section>\n")


def _visit_children_only(self: Any, node: nodes.Element) -> None:
    pass


def setup_demos(app: Sphinx) -> None:
    children = (_visit_children_only, _visit_children_only)
    app.add_node(
        memory_demo,
        html=(visit_memory_demo_html, depart_memory_demo_html),
        latex=children,
        text=children,
        man=children,
        texinfo=children,
    )
    app.add_directive("memory-demo", MemoryDemoDirective)
