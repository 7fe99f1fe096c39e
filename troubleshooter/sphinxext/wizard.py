"""The ``troubleshooter-wizard`` directive: a decision tree shown as a step-by-step wizard.

At read time the directive loads the tree (a built-in id such as
``kernel-terminated``, or a ``.toml`` path relative to the source directory) and
keeps it in a ``wizard`` node. At write time (``doctree-resolved``) every
outcome's guide label is resolved through the standard domain, then:

- for HTML builders the node stays and its visitor writes the whole tree as
  sections, readable without JavaScript (answers link to ``#ts-<node-id>``),
  plus the tree as JSON for ``static/wizard.js``, which turns it into the wizard;
- for every other builder (text, LaTeX, man, ...) the node becomes plain
  docutils nodes: each question with its answers and where they lead, each
  outcome with its steps and a link to its guide section.

The build also writes ``troubleshooter/causes.json``, the map of cause ids to
guide sections and wizard steps that ``docs/linking.md`` documents.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util import logging
from sphinx.util.nodes import make_refnode
from sphinx.util.osutil import relative_uri

from ..causes import CAUSES, GUIDE_PAGE
from ..model import Outcome, Question, Tree
from .records import keep_page_records, page_records
from .shared import (
    TreeDirective,
    add_static_dir,
    anchor,
    guide_href,
    guide_link,
    inline_nodes,
    paragraph,
)

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


def wizard_data(tree: Tree, hrefs: dict[str, str], titles: dict[str, str]) -> dict[str, Any]:
    """What ``wizard.js`` reads: ``Tree.to_json_dict()``, each outcome with its guide's
    address (``href``) and section title (``guide_title``) in place of the label."""
    data = tree.to_json_dict()
    data["format"] = DEEP_LINK_FORMAT
    for node_id, entry in data["nodes"].items():
        if entry["kind"] == "outcome":
            del entry["guide"]
            if node_id in hrefs:
                entry["href"] = hrefs[node_id]
                entry["guide_title"] = titles[node_id]
    return data


def json_for_script(data: Any) -> str:
    """JSON that cannot end its ``<script>`` element or open a comment."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


# --- HTML --------------------------------------------------------------------------------


def _inline_html(text: str) -> str:
    """Escape ``text``; spans in backticks become ``<code>``."""
    parts = text.split("`")
    return "".join(
        f"<code>{escape(part)}</code>" if index % 2 else escape(part)
        for index, part in enumerate(parts)
    )


def render_html(tree: Tree, hrefs: dict[str, str], titles: dict[str, str], level: int) -> str:
    """The whole tree as sections: what readers without JavaScript see."""
    heading, subheading = f"h{min(level, 6)}", f"h{min(level + 1, 6)}"
    out = []
    for node in tree.nodes.values():
        if isinstance(node, Question):
            out.append(
                f'<section class="ts-node ts-question" id="{anchor(node.id)}">'
                f"<{heading}>{_inline_html(node.text)}</{heading}>"
                f"<p>{_inline_html(node.check)}</p>"
            )
            if node.command:
                out.append(f'<pre class="ts-command"><code>{escape(node.command)}</code></pre>')
            out.append('<ul class="ts-answers">')
            for answer in node.answers:
                out.append(
                    f'<li><a href="#{anchor(answer.target)}">{_inline_html(answer.label)}</a></li>'
                )
            out.append("</ul></section>")
            continue
        cause = CAUSES.get(node.cause)
        out.append(
            f'<section class="ts-node ts-outcome" id="{anchor(node.id)}">'
            f"<{heading}>{_inline_html(node.title)}</{heading}>"
            f'<p class="ts-cause">Cause: {escape(cause.title if cause else node.cause)}</p>'
            f"<p>{_inline_html(node.text)}</p>"
            f"<{subheading}>How to fix it</{subheading}><ol>"
            + "".join(f"<li>{_inline_html(step)}</li>" for step in node.steps)
            + f"</ol><{subheading}>How to tell it worked</{subheading}>"
            f"<p>{_inline_html(node.confirm)}</p>"
        )
        if node.id in hrefs:
            out.append(
                f'<p><a class="ts-guide" href="{escape(hrefs[node.id])}">'
                f"Read more: {escape(titles[node.id])}</a></p>"
            )
        out.append(
            f'<p><a href="#{anchor(tree.start)}">Back to the first question</a></p></section>'
        )
    return "".join(out)


def render_first_question(tree: Tree, text_href: str, level: int) -> str:
    """The start question alone, its answers linking to the written-out tree elsewhere."""
    question = tree.nodes[tree.start]
    assert isinstance(question, Question)
    page = text_href.partition("#")[0]
    answers = "".join(
        f'<li><a href="{escape(page)}#{anchor(answer.target)}" data-answer="{escape(answer.id)}">'
        f"{_inline_html(answer.label)}</a></li>"
        for answer in question.answers
    )
    return (
        f'<section class="ts-node ts-question"><h{level}>{_inline_html(question.text)}</h{level}>'
        f'<p>{_inline_html(question.check)}</p><ul class="ts-answers">{answers}</ul></section>'
    )


def write_wizard_data(translator: HTML5Translator, tree: Tree, data: dict[str, Any]) -> str:
    """Write the wizard's data beside the site; return its address relative to the page."""
    docname = translator.builder.current_docname
    target = f"{DATA_DIR}/{docname.replace('/', '-')}-{tree.id}.json"
    path = Path(translator.builder.outdir, target)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    return relative_uri(translator.builder.get_target_uri(docname), target)


def visit_wizard_html(translator: HTML5Translator, node: wizard) -> None:
    tree: Tree = node["tree"]
    level = translator.section_level + 1
    data = wizard_data(tree, node["hrefs"], node["titles"])
    attributes = (
        f'class="ts-wizard" id="ts-wizard-{escape(tree.id)}" data-tree="{escape(tree.id)}"'
        f' data-heading-level="{min(level, 6)}"'
    )
    if "text_href" in node:
        # A light page: the first question now, the rest of the tree on first use.
        text = render_first_question(tree, node["text_href"], min(level, 6)) + (
            "<p>The troubleshooter goes step by step with JavaScript on. Every question and"
            f' outcome is also written out on <a href="{escape(node["text_href"])}">'
            f"{escape(node['text_title'])}</a>.</p>"
        )
        src = write_wizard_data(translator, tree, data)
        translator.body.append(
            f'<div {attributes} data-src="{escape(src)}"><div class="ts-tree">{text}</div></div>'
        )
    else:
        text = render_html(tree, node["hrefs"], node["titles"], level)
        translator.body.append(
            f'<div {attributes}><script type="application/json" class="ts-data">'
            f'{json_for_script(data)}</script><div class="ts-tree">{text}</div></div>'
        )
    raise nodes.SkipNode


# --- Other builders ----------------------------------------------------------------------


def fallback_nodes(tree: Tree, refs: dict[str, nodes.reference]) -> list[nodes.Node]:
    """The tree as plain text: numbered questions and outcomes, answers saying where to go."""
    ordered = list(tree.nodes.values())
    names = {
        node.id: f"{'question' if isinstance(node, Question) else 'outcome'} {number}"
        for number, node in enumerate(ordered, start=1)
    }
    out: list[nodes.Node] = []
    for node in ordered:
        title = node.text if isinstance(node, Question) else node.title
        rubric = nodes.rubric("", "", *inline_nodes(f"{names[node.id].capitalize()}: {title}"))
        rubric["ids"].append(anchor(node.id))
        out.append(rubric)
        if isinstance(node, Question):
            out.append(paragraph(node.check))
            if node.command:
                out.append(nodes.literal_block(node.command, node.command))
            answers = nodes.bullet_list()
            for answer in node.answers:
                target = tree.nodes[answer.target]
                target_title = target.text if isinstance(target, Question) else target.title
                answers += nodes.list_item(
                    "",
                    paragraph(
                        answer.label,
                        f" → go to {names[answer.target]} ({target_title})",
                    ),
                )
            out.append(answers)
            continue
        cause = CAUSES.get(node.cause)
        out.append(paragraph(f"Cause: {cause.title if cause else node.cause}. ", node.text))
        out.append(paragraph(nodes.strong("", "How to fix it:")))
        steps = nodes.enumerated_list(enumtype="arabic", prefix="", suffix=".")
        for step in node.steps:
            steps += nodes.list_item("", paragraph(step))
        out.append(steps)
        out.append(paragraph(nodes.strong("", "How to tell it worked:"), " ", node.confirm))
        if node.id in refs:
            out.append(paragraph("Read more: ", refs[node.id]))
    return out


def resolve_wizards(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Resolve guide labels; keep the node for HTML, turn it into plain nodes elsewhere."""
    for node in list(doctree.findall(wizard)):
        tree: Tree = node["tree"]
        links = {
            outcome.id: link
            for outcome in tree.outcomes()
            if (link := guide_link(app.env, outcome.guide))
        }
        elsewhere = guide_link(app.env, node["text_version"]) if node["text_version"] else None
        if app.builder.format == "html":
            node["hrefs"] = {
                node_id: guide_href(app.builder, docname, link) for node_id, link in links.items()
            }
            node["titles"] = {node_id: link.title for node_id, link in links.items()}
            if elsewhere:
                node["text_href"] = guide_href(app.builder, docname, elsewhere)
                node["text_title"] = elsewhere.title
            continue
        if elsewhere:
            ref = make_refnode(
                app.builder,
                docname,
                elsewhere.docname,
                elsewhere.anchor,
                nodes.Text(elsewhere.title),
            )
            text = "Every question and outcome of the troubleshooter is written out in "
            node.replace_self(paragraph(text, ref, "."))
            continue
        refs = {
            node_id: make_refnode(
                app.builder, docname, link.docname, link.anchor, nodes.Text(link.title)
            )
            for node_id, link in links.items()
        }
        node.replace_self(fallback_nodes(tree, refs))


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
        outcomes = [node.id for node in tree.outcomes() if node.cause == cause.id]
        link = guide_link(env, cause.label)
        if link is None and outcomes:
            link = guide_link(env, tree.nodes[outcomes[0]].guide)
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
    target = Path(app.outdir) / CAUSES_MAP
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def setup_wizard(app: Sphinx) -> None:
    app.add_node(wizard, html=(visit_wizard_html, None))
    app.add_directive("troubleshooter-wizard", WizardDirective)
    app.connect("doctree-resolved", resolve_wizards)
    app.connect("env-check-consistency", check_guide_labels)
    keep_page_records(app, "troubleshooter_wizards")
    app.connect("builder-inited", add_static_dir)
    # Early, before other handlers read or filter the page's script list.
    app.connect("html-page-context", _add_assets, priority=400)
    app.connect("build-finished", _write_causes_map)
