"""The ``troubleshooter-wizard`` directive: a decision tree shown as a step-by-step wizard.

At read time the directive loads the tree (a built-in id such as
``kernel-terminated``, or a ``.toml`` path relative to the source directory) and
keeps it in a ``wizard`` node. At write time (``doctree-resolved``) every
outcome's guide label is resolved through the standard domain, and the tree is
written out as docutils nodes (``written_tree.py``), readable without JavaScript:

- for HTML builders inside the ``wizard`` node, whose visitor writes only the
  wizard's ``<div>`` (options as ``data-`` attributes) and the tree as JSON for
  ``static/wizard.js``, which turns it into the wizard;
- for every other builder (text, LaTeX, man, ...) in place of the node.

The build also writes ``troubleshooter/causes.json``, the map of cause ids to
guide sections and wizard steps that ``docs/linking.md`` documents.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util import logging
from sphinx.util.nodes import make_refnode
from sphinx.util.osutil import relative_uri

from ..causes import CAUSES, GUIDE_PAGE
from ..messages import reader_json
from ..model import Outcome, Tree
from ..signatures import Signatures
from .config import platform_names
from .generated import write_if_changed
from .records import keep_page_records, page_records
from .shared import GuideLink, TreeDirective, add_static_dir, guide_href, guide_link, paragraph
from .wordings import site_signatures
from .written_tree import first_question, tree_block, tree_link, written_tree

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment
    from sphinx.writers.html5 import HTML5Translator

logger = logging.getLogger(__name__)

DEEP_LINK_FORMAT = 1
"""Version of the URL parameters and of ``causes.json``; raised on any incompatible change."""
CAUSES_MAP = "troubleshooter/causes.json"
DATA_DIR = "troubleshooter/data"


class wizard(nodes.General, nodes.Element):
    """A decision tree to show as a wizard; ``node["tree"]`` holds the :class:`Tree`."""


class WizardDirective(TreeDirective):
    """``.. troubleshooter-wizard:: TREE`` shows TREE as a wizard (HTML) or as text.

    ``:text-version: LABEL`` leaves the whole tree in words out of this page and links
    to LABEL, where another ``troubleshooter-wizard`` of the same tree writes it out.
    It keeps a long page light: the wizard's data then travels once, not twice.
    """

    option_spec: ClassVar[dict[str, Any]] = {"text-version": directives.unchanged_required}

    def run(self) -> list[nodes.Node]:
        tree = self.load_tree()
        # The wizard reads messages with the signatures, written into the page with the tree.
        self.env.note_dependency(site_signatures(self.config).source)
        text_version = self.options.get("text-version", "")
        node = wizard(tree=tree, text_version=text_version)
        self.set_source_info(node)
        uses = _uses(self.env).setdefault(self.env.docname, [])
        uses.append(WizardUse(tree, self.lineno, text_version))
        return [node]


@dataclass(frozen=True)
class WizardUse:
    tree: Tree
    line: int
    text_version: str = ""


def _uses(env: BuildEnvironment) -> dict[str, list[WizardUse]]:
    return page_records(env, "troubleshooter_wizards")


def wizard_data(
    tree: Tree,
    hrefs: dict[str, str],
    titles: dict[str, str],
    service: str = "",
    signatures: Signatures | None = None,
) -> dict[str, Any]:
    """What ``wizard.js`` reads: ``Tree.to_json_dict()``, each outcome with its guide's
    address (``href``) and section title (``guide_title``) in place of the label, and the
    compiled signatures it reads messages with (``messages.reader_json``)."""
    data = tree.to_json_dict()
    shown: dict[str, dict[str, Any]] = {}
    for node_id, entry in data["nodes"].items():
        shown[node_id] = node = dict[str, Any](entry)
        if node["kind"] == "outcome":
            del node["guide"]
            if node_id in hrefs:
                node["href"] = hrefs[node_id]
                node["guide_title"] = titles[node_id]
    reader = reader_json(signatures, service=service or "your Jupyter service")
    return {**data, "nodes": shown, "format": DEEP_LINK_FORMAT, "reader": reader}


def json_for_script(data: Any) -> str:
    """JSON that cannot end its ``<script>`` element or open a comment."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


# --- Write time ---------------------------------------------------------------------------


def write_wizard_data(translator: HTML5Translator, tree: Tree, data: dict[str, Any]) -> str:
    """Write the wizard's data beside the site; return its address relative to the page."""
    docname = translator.builder.current_docname
    target = f"{DATA_DIR}/{docname.replace('/', '-')}-{tree.id}.json"
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    write_if_changed(Path(translator.builder.outdir, target), text.encode("utf-8"))
    return relative_uri(translator.builder.get_target_uri(docname), target)


def visit_wizard_html(translator: HTML5Translator, node: wizard) -> None:
    """The wizard's element with its data: in the page, or (a light page) in a file."""
    tree: Tree = node["tree"]
    service = platform_names(translator.builder.config).get("service", "")
    signatures = site_signatures(translator.builder.config)
    data = wizard_data(tree, node["hrefs"], node["titles"], service, signatures)
    attributes: dict[str, Any] = {"data-heading-level": str(node["level"])}
    if node["text_version"]:
        attributes["data-src"] = write_wizard_data(translator, tree, data)
    translator.body.append(translator.starttag(node, "div", "", **attributes))
    if not node["text_version"]:
        translator.body.append(
            f'<script type="application/json" class="ts-data">{json_for_script(data)}</script>'
        )


def depart_wizard_html(translator: HTML5Translator, node: wizard) -> None:
    translator.body.append("</div>")


def _heading_level(node: nodes.Element) -> int:
    """The level of a heading placed where ``node`` is: one below its innermost section."""
    level, parent = 1, node.parent
    while parent is not None:
        level += isinstance(parent, nodes.section)
        parent = parent.parent
    return min(level, 6)


def resolve_wizards(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Resolve guide labels and write the tree out: inside the wizard's element for HTML,
    in its place for other builders."""
    builder = app.builder

    def ref(link: GuideLink, text: str, classes: list[str] | None = None) -> nodes.reference:
        if builder.format == "html":
            href = guide_href(builder, docname, link)
            return tree_link("", text, refuri=href, classes=classes or [])
        reference = make_refnode(builder, docname, link.docname, link.anchor, nodes.Text(text))
        reference["classes"] += classes or []
        return reference

    for node in list(doctree.findall(wizard)):
        tree: Tree = node["tree"]
        links = {
            outcome.id: link
            for outcome in tree.outcomes()
            if (link := guide_link(app.env, outcome.guide))
        }
        guide_refs = {
            node_id: ref(link, f"Read more: {link.title}", ["ts-guide"])
            for node_id, link in links.items()
        }
        elsewhere = guide_link(app.env, node["text_version"]) if node["text_version"] else None
        if builder.format != "html":
            if elsewhere:
                text = "Every question and outcome of the troubleshooter is written out in "
                node.replace_self(paragraph(text, ref(elsewhere, elsewhere.title), "."))
            else:
                node.replace_self(written_tree(tree, guide_refs))
            continue
        level = _heading_level(node)
        node["ids"] = [f"ts-wizard-{tree.id}"]
        node["classes"] = ["ts-wizard"]
        node["level"] = level
        node["hrefs"] = {i: guide_href(builder, docname, link) for i, link in links.items()}
        node["titles"] = {i: link.title for i, link in links.items()}
        written = tree_block(classes=["ts-tree"])
        if elsewhere:
            page = guide_href(builder, docname, elsewhere).partition("#")[0]
            written += first_question(tree, page, level)
            written += paragraph(
                "The troubleshooter goes step by step with JavaScript on. Every question and"
                " outcome is also written out on ",
                ref(elsewhere, elsewhere.title),
                ".",
            )
        else:
            written += written_tree(tree, guide_refs, level)
        node += written


# --- Build checks, assets and the causes map ---------------------------------------------


def check_guide_labels(app: Sphinx, env: BuildEnvironment) -> None:
    """Every outcome's guide label must exist: a missing one is a warning naming node and file."""
    for docname, uses in sorted(_uses(env).items()):
        for use in uses:
            if use.text_version and guide_link(env, use.text_version) is None:
                logger.warning(
                    "troubleshooter-wizard: :text-version: names label %r, which no page defines",
                    use.text_version,
                    location=(docname, use.line),
                    type="troubleshooter",
                    subtype="guide",
                )
            for node in use.tree.nodes.values():
                if isinstance(node, Outcome) and guide_link(env, node.guide) is None:
                    logger.warning(
                        "troubleshooter-wizard: %s: outcome %r links to guide label %r, "
                        "which no page defines",
                        use.tree.source,
                        node.id,
                        node.guide,
                        location=(docname, use.line),
                        type="troubleshooter",
                        subtype="guide",
                    )


def _add_assets(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """The wizard's CSS and script, only on the pages that show a wizard."""
    if doctree is not None and doctree.next_node(wizard) is not None:
        app.add_css_file("wizard.css")
        app.add_js_file("wizard.js", loading_method="defer")


def _site_url(app: Sphinx, target: str) -> str:
    base = app.config.html_baseurl
    return f"{base.rstrip('/')}/{target}" if base else target


def causes_map(app: Sphinx) -> dict[str, Any] | None:
    """Cause id -> title, guide section and wizard step, for the page that hosts the wizard."""
    env = app.env
    uses = _uses(env)
    if not uses:
        return None
    pages = {app.builder.get_target_uri(docname): docname for docname in uses}
    page = GUIDE_PAGE if GUIDE_PAGE in pages else sorted(pages)[0]
    tree = uses[pages[page]][0].tree
    causes: dict[str, Any] = {}
    for cause in CAUSES.values():
        reached = [node for node in tree.outcomes() if node.cause == cause.id]
        outcomes = [node.id for node in reached]
        link = guide_link(env, cause.label)
        if link is None and reached:
            link = guide_link(env, reached[0].guide)
        guide = None
        if link:
            guide = _site_url(app, f"{app.builder.get_target_uri(link.docname)}#{link.anchor}")
        step = f"?step={outcomes[0]}" if outcomes else ""
        causes[cause.id] = {
            "title": cause.title,
            "guide": guide,
            "wizard": _site_url(app, page + step),
            "outcomes": outcomes,
        }
    return {
        "format": DEEP_LINK_FORMAT,
        "tree": tree.id,
        "page": _site_url(app, page),
        "parameters": ["step", "path", "signal", "exit_code", "message"],
        "causes": causes,
    }


def _write_causes_map(app: Sphinx, exception: Exception | None) -> None:
    if exception or app.builder.format != "html":
        return
    data = causes_map(app)
    if data is None:
        return
    text = json.dumps(data, indent=2) + "\n"
    write_if_changed(Path(app.outdir) / CAUSES_MAP, text.encode("utf-8"))


def setup_wizard(app: Sphinx) -> None:
    app.add_node(wizard, html=(visit_wizard_html, depart_wizard_html))
    app.add_directive("troubleshooter-wizard", WizardDirective)
    app.connect("doctree-resolved", resolve_wizards)
    app.connect("env-check-consistency", check_guide_labels)
    keep_page_records(app, "troubleshooter_wizards")
    app.connect("builder-inited", add_static_dir)
    # Early, before other handlers read or filter the page's script list.
    app.connect("html-page-context", _add_assets, priority=400)
    app.connect("build-finished", _write_causes_map)
