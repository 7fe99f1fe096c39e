"""What other front ends show when a kernel dies, written at build time from the signatures.

``.. troubleshooter-messages::`` writes a table: for each front end of
``troubleshooter/signatures.toml`` (in the file's order), the words it shows (a real example
of each entry), what they tell, and the guide section of the cause they point at. It is made
from the same data the reader uses, so the guide cannot drift from what is recognised.

The signatures are checked when the build starts (``troubleshooter_signatures`` in conf.py
names another file; empty: the package's own): a broken file, or a step that is no node of
the tree, stops the build with the file and the entry ids.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from docutils import nodes
from sphinx import addnodes
from sphinx.errors import ExtensionError
from sphinx.util.docutils import SphinxDirective

from ..causes import CAUSES
from ..loader import TREES_DIR, load_builtin
from ..messages import front_end_names
from ..model import Question
from ..signatures import SIGNATURES_PATH, Signature, Signatures, check_steps, load_signatures
from .config import platform_names
from .generated import package_parts
from .lite.cache import digest

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.config import Config

SHOWN = 110  # characters of an example shown in the table
TREE_ID = "kernel-terminated"  # the tree whose steps the signatures name
CHECKED = "troubleshooter_signatures_checked"


@functools.lru_cache(maxsize=8)
def _load(path: str, stamp: tuple[int, int]) -> Signatures:
    return load_signatures(path)  # checked in full at every build that reads it


def _stamp(path: str) -> tuple[int, int]:
    """Changes when the file does, so a process that builds twice reads an edited file."""
    try:
        status = os.stat(path)
    except OSError:  # no file: load_signatures names the problem
        return (0, 0)
    return (status.st_mtime_ns, status.st_size)


def _signatures_path(config: Config) -> str:
    return str(getattr(config, "troubleshooter_signatures", "") or SIGNATURES_PATH)


def site_signatures(config: Config) -> Signatures:
    """The signatures this site reads messages with (``troubleshooter_signatures``)."""
    path = _signatures_path(config)
    return _load(path, _stamp(path))


def check_signatures(app: Sphinx) -> None:
    """Stop the build on a broken signatures file, naming the file and the entries.

    A build with the same signatures file, tree and package as the last one checked (its
    digest is kept in the environment) skips the check: a no-op rebuild reads neither.
    """
    try:
        files = [Path(_signatures_path(app.config)), TREES_DIR / f"{TREE_ID}.toml"]
        checked = digest(*[file.read_bytes() for file in files], *package_parts())
    except OSError:
        checked = ""  # load_signatures below names the file that cannot be read
    if checked and getattr(app.env, CHECKED, None) == checked:
        return
    try:
        signatures = site_signatures(app.config)
    except ValueError as error:  # SignatureError: every problem, each with file and id
        raise ExtensionError(str(error)) from None
    tree = load_builtin(TREE_ID)
    kinds = {
        node_id: "question" if isinstance(node, Question) else "outcome"
        for node_id, node in tree.nodes.items()
    }
    if problems := check_steps(signatures, kinds):
        raise ExtensionError("\n".join(f"{signatures.source}: {p}" for p in problems))
    setattr(app.env, CHECKED, checked)


class MessageTable(SphinxDirective):
    """``.. troubleshooter-messages::``: the front ends' wordings and what each tells."""

    has_content = False
    option_spec: ClassVar[dict[str, Any]] = {}

    def run(self) -> list[nodes.Node]:
        signatures = site_signatures(self.config)
        self.env.note_dependency(signatures.source)
        service = platform_names(self.config).get("service", "")
        names = front_end_names(service, signatures)
        table = nodes.table(classes=["ts-messages"])
        group = nodes.tgroup(cols=3)
        table += group
        group += [nodes.colspec(colwidth=2), nodes.colspec(colwidth=5), nodes.colspec(colwidth=4)]
        head, body = nodes.thead(), nodes.tbody()
        group += [head, body]
        head += _row(
            [nodes.Text("Where")], [nodes.Text("What it shows")], [nodes.Text("What it tells")]
        )
        for front_end in names:
            for entry in (e for e in signatures.entries if e.front_end == front_end):
                body += _row([nodes.Text(names[front_end])], _words(entry), self._tells(entry))
        return [table]

    def _tells(self, entry: Signature) -> list[nodes.Node]:
        told: list[nodes.Node] = [nodes.Text(entry.means)]
        if entry.cause and entry.cause in CAUSES:
            cause = CAUSES[entry.cause]
            word = "Shows" if entry.strength == "proves" else "Points at"
            ref = addnodes.pending_xref(
                "", refdomain="std", reftype="ref", reftarget=cause.label, refexplicit=True,
                refdoc=self.env.docname,
            )  # fmt: skip
            ref += nodes.inline("", cause.title)
            told += [nodes.Text(f" {word}: "), ref, nodes.Text(".")]
        return told


def _words(entry: Signature) -> list[nodes.Node]:
    text = " ".join(entry.examples[0].text.split())
    shown = text if len(text) <= SHOWN else text[: SHOWN - 1] + "…"
    return [nodes.literal(shown, shown)]


def _row(*cells: list[nodes.Node]) -> nodes.row:
    row = nodes.row()
    for cell in cells:
        row += nodes.entry("", nodes.paragraph("", "", *cell))
    return row


def setup_wordings(app: Sphinx) -> None:
    app.add_config_value("troubleshooter_signatures", "", "env", types=[str])
    app.add_directive("troubleshooter-messages", MessageTable)
    app.connect("builder-inited", check_signatures)
