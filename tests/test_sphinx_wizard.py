"""The troubleshooter-wizard and troubleshooter-flowchart directives, built by real Sphinx.

Test roots live in tests/roots/test-wizard*: a small tree of their own, so these
tests do not change when the shipped tree does (the browser tests cover that one).
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import ROOTS, copy_of_root

from troubleshooter.loader import load_tree
from troubleshooter.messages import reader_json
from troubleshooter.model import Outcome, Question

SMALL_TREE = ROOTS / "test-wizard" / "trees" / "small.toml"


def page(app, name: str = "index") -> BeautifulSoup:
    return BeautifulSoup((Path(app.outdir) / f"{name}.html").read_text("utf-8"), "html.parser")


def quoted(text: str) -> str:
    """Inline code as the text builder writes it."""
    return text.replace("`", '"')


def small_tree():
    return load_tree(SMALL_TREE, {"service": "Example Hub"})


@pytest.mark.sphinx("html", testroot="wizard")
def test_html_build_has_no_warnings(app):
    app.build()
    assert app.warning.getvalue() == ""


@pytest.mark.sphinx("html", testroot="wizard")
def test_wizard_fragment(app, file_regression):
    app.build()
    wizard = page(app).select_one("div.ts-wizard")
    data = wizard.select_one("script.ts-data")
    parsed = json.loads(data.string)
    # the compiled signatures have their own tests (tests/test_signatures.py): here, only that
    # the page carries exactly what the reader compiles
    assert parsed.pop("reader")["signatures"] == reader_json()["signatures"]
    data.string = "\n" + json.dumps(parsed, indent=2, ensure_ascii=False) + "\n"
    file_regression.check(wizard.prettify(), extension=".html")


@pytest.mark.sphinx("html", testroot="wizard")
def test_every_node_is_readable_without_javascript(app):
    """Each question and outcome is a section; answer links land on a section; guide links
    land on the labelled section of the guide page."""
    app.build()
    index, guide = page(app), page(app, "guide")
    tree = small_tree()
    for node in tree.nodes.values():
        section = index.select_one(f"section#ts-{node.id}")
        assert section is not None, node.id
        heading = section.find(re.compile("^h[1-6]$"))
        if isinstance(node, Question):
            assert heading.get_text() == node.text
            links = section.select("ul.ts-answers a")
            assert [a.get_text() for a in links] == [answer.label for answer in node.answers]
            for link, answer in zip(links, node.answers, strict=True):
                assert link["href"] == f"#ts-{answer.target}"
                assert index.select_one(f"section{link['href']}") is not None
        else:
            assert heading.get_text() == node.title
            steps = [li.get_text() for li in section.select("ol > li")]
            assert steps == [step.replace("`", "") for step in node.steps]
            href = section.select_one("a.ts-guide")["href"]
            assert href == f"guide.html#{node.guide}"
            assert guide.find(id=node.guide) is not None


@pytest.mark.sphinx("html", testroot="wizard")
def test_text_version_elsewhere_keeps_the_page_light(app):
    """With :text-version:, the page shows only the first question, keeps the tree's data
    in a file beside the site for the script to fetch, and links to the written-out tree."""
    app.build()
    summary = page(app, "summary")
    wizard = summary.select_one("div.ts-wizard")
    assert wizard.select_one("script.ts-data") is None
    data = json.loads((app.outdir / wizard["data-src"]).read_text(encoding="utf-8"))
    assert data["start"] in data["nodes"]
    [question] = wizard.select("section")
    start = data["nodes"][data["start"]]
    assert question.select_one("h2, h3, h4").get_text() == start["text"]
    answers = question.select("a[data-answer]")
    assert [a["data-answer"] for a in answers] == [answer["id"] for answer in start["answers"]]
    full = page(app)
    for link, answer in zip(answers, start["answers"], strict=True):
        assert link["href"] == f"index.html#ts-{answer['target']}"
        assert full.select_one(f"#ts-{answer['target']}") is not None
    link = wizard.select(".ts-tree > p a")[-1]
    assert link["href"] == "index.html#full-tree"
    assert link.get_text() == "The wizard"
    assert full.select_one("#full-tree") is not None


@pytest.mark.sphinx("html", testroot="wizard")
def test_platform_names_are_filled_in(app):
    app.build()
    text = page(app).select_one("div.ts-wizard").get_text()
    assert "Example Hub" in text
    assert "{{" not in text


@pytest.mark.sphinx("html", testroot="wizard")
def test_json_data_matches_the_tree(app):
    app.build()
    raw = page(app).select_one("script.ts-data")
    assert raw["type"] == "application/json"
    data = json.loads(raw.string)
    expected = small_tree().to_json_dict()
    for entry in data["nodes"].values():
        if entry["kind"] == "outcome":
            entry["guide"] = entry.pop("href").removeprefix("guide.html#")
            assert entry.pop("guide_title")
    data.pop("format")
    assert data.pop("reader")["signatures"] == reader_json()["signatures"]
    assert data == expected


def test_json_block_cannot_close_its_script_element():
    from troubleshooter.sphinxext.wizard import json_for_script

    text = json_for_script({"text": "</script><script>alert(1)</script><!-- & -->"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text)["text"] == "</script><script>alert(1)</script><!-- & -->"


@pytest.mark.sphinx("html", testroot="wizard")
def test_assets_only_on_pages_with_a_wizard(app):
    app.build()
    index, guide = page(app), page(app, "guide")
    assert index.select_one('script[src^="_static/wizard.js"]')["defer"] is not None
    assert index.select_one('link[href^="_static/wizard.css"]') is not None
    assert guide.select_one('script[src*="wizard.js"]') is None
    assert guide.select_one('link[href*="wizard.css"]') is None
    assert (Path(app.outdir) / "_static" / "wizard.js").is_file()


@pytest.mark.sphinx("html", testroot="wizard")
def test_no_inline_script_or_handler_in_the_component(app):
    app.build()
    index = page(app)
    for component in index.select(".ts-wizard, .ts-flowchart"):
        for script in component.find_all("script"):
            assert script["type"] == "application/json"
        for element in component.find_all(True):
            assert not [name for name in element.attrs if name.lower().startswith("on")]
            assert "style" not in element.attrs


@pytest.mark.sphinx("html", testroot="wizard")
def test_causes_map(app):
    app.build()
    data = json.loads((Path(app.outdir) / "troubleshooter" / "causes.json").read_text())
    assert data["format"] == 1
    assert data["tree"] == "small"
    assert data["page"] == "index.html"
    tree = small_tree()
    for cause_id, entry in data["causes"].items():
        outcomes = [o.id for o in tree.outcomes() if o.cause == cause_id]
        assert entry["outcomes"] == outcomes
        if outcomes:
            assert entry["wizard"] == f"index.html?step={outcomes[0]}"
            page_name, anchor = entry["guide"].split("#")
            assert page(app, page_name.removesuffix(".html")).find(id=anchor) is not None
        else:
            assert entry["wizard"] == "index.html"


@pytest.mark.sphinx("html", testroot="wizard", confoverrides={"html_baseurl": "https://x.test/"})
def test_causes_map_uses_the_base_url(app):
    app.build()
    data = json.loads((Path(app.outdir) / "troubleshooter" / "causes.json").read_text())
    assert data["page"] == "https://x.test/index.html"
    assert data["causes"]["out-of-memory"]["wizard"] == "https://x.test/index.html?step=oom"
    assert data["causes"]["out-of-memory"]["guide"] == "https://x.test/guide.html#memory"


@pytest.mark.sphinx("html", testroot="wizard")
def test_flowchart(app):
    """Each question drawn once, each answer once, each outcome once per answer reaching it,
    a dashed box for a question reached again; no two boxes overlap; every edge runs left to
    right from the right side of one box to the left side of another."""
    app.build()
    details = page(app).select_one("details.ts-flowchart")
    assert details is not None and "open" not in details.attrs
    svg = details.select_one("svg")
    assert svg["role"] == "img"
    assert "A small test tree" in svg["aria-label"]
    tree = small_tree()
    answers = [answer for question in tree.questions() for answer in question.answers]
    to_outcomes = [a for a in answers if isinstance(tree.nodes[a.target], Outcome)]
    reached = {a.target for a in answers if isinstance(tree.nodes[a.target], Question)}
    assert len(svg.select("rect.ts-question")) == len(tree.questions())
    assert len(svg.select("rect.ts-answer")) == len(answers)
    assert len(svg.select("rect.ts-outcome")) == len(to_outcomes)
    # every answer leading to a question but the first one drawn for it is a "see" box
    assert len(svg.select("rect.ts-see")) == len(answers) - len(to_outcomes) - len(reached)
    text = svg.get_text(" ")
    for node in tree.nodes.values():
        assert (node.text if isinstance(node, Question) else node.title) in text

    rects = [tuple(float(r[k]) for k in ("x", "y", "width", "height")) for r in svg.select("rect")]
    for index, (x, y, w, h) in enumerate(rects):
        assert x >= 0 and y >= 0
        assert x + w <= float(svg["width"]) and y + h <= float(svg["height"])
        for ox, oy, ow, oh in rects[index + 1 :]:
            assert x + w <= ox or ox + ow <= x or y + h <= oy or oy + oh <= y
    rights = [(x + w, y + h / 2) for x, y, w, h in rects]
    lefts = [(x, y + h / 2) for x, y, _, h in rects]

    def touches(point, sides):  # coordinates are written with one decimal
        return any(abs(point[0] - x) < 0.15 and abs(point[1] - y) < 0.15 for x, y in sides)

    edges = svg.select_one(".ts-edges path")["d"].split("M")[1:]
    assert len(edges) == 2 * len(answers)
    for edge in edges:
        numbers = [float(v) for v in re.findall(r"-?[\d.]+", edge)]
        start, end = tuple(numbers[:2]), tuple(numbers[-2:])
        if "H" in edge:
            xs = [numbers[0], numbers[2]]
            end = (numbers[2], numbers[1])
        else:
            xs = numbers[::2]
        assert xs == sorted(xs), edge
        assert touches(start, rights), edge
        assert touches(end, lefts), edge


@pytest.mark.sphinx("text", testroot="wizard")
def test_text_builder_fallback(app):
    """Without HTML, the tree is text: numbered questions and outcomes, answers saying where
    they lead, steps, and a link to each guide section."""
    app.build()
    assert app.warning.getvalue() == ""
    text = " ".join((Path(app.outdir) / "index.txt").read_text("utf-8").split())
    tree = small_tree()
    names = {}
    for number, node in enumerate(tree.nodes.values(), start=1):
        kind = "question" if isinstance(node, Question) else "outcome"
        names[node.id] = f"{kind} {number}"
        title = node.text if isinstance(node, Question) else node.title
        assert f"-[ {kind.capitalize()} {number}: {title} ]-" in text
    for node in tree.nodes.values():
        if isinstance(node, Question):
            assert node.check in text
            for answer in node.answers:
                assert f"{answer.label} → go to {names[answer.target]}" in text
        else:
            for number, step in enumerate(node.steps, start=1):
                assert f"{number}. {quoted(step)}" in text
            assert f"How to tell it worked:** {quoted(node.confirm)}" in text
    assert "Read more: Memory" in text
    assert "Example Hub" in text
    summary = " ".join((Path(app.outdir) / "summary.txt").read_text("utf-8").split())
    assert (
        "Every question and outcome of the troubleshooter is written out in The wizard." in summary
    )
    assert "Question 1" not in summary


@pytest.mark.parametrize("builder", ["latex", "man", "texinfo", "singlehtml", "dirhtml"])
def test_other_builders_build_cleanly(make_app, sphinx_test_tempdir, builder):
    app = make_app(builder, srcdir=copy_of_root(sphinx_test_tempdir, "wizard", builder))
    app.build()
    assert app.warning.getvalue() == ""


@pytest.mark.sphinx("html", testroot="wizard-badlabel")
def test_missing_guide_label_is_a_warning_naming_node_and_file(app):
    app.build()
    warnings = app.warning.getvalue()
    assert "outcome 'lost'" in warnings
    assert "'no-such-section'" in warnings
    assert "badlabel.toml" in warnings
    assert "index.md:6" in warnings
    assert "outcome 'fine'" not in warnings
    assert "names label 'no-such-text-version'" in warnings
    assert "index.md:9: WARNING: troubleshooter-wizard: :text-version:" in warnings


@pytest.mark.sphinx(
    "html",
    testroot="wizard",
    confoverrides={"troubleshooter_platform": {"service": "Hub", "servce": "Typo", "unit": 3}},
)
def test_bad_platform_entries_warn_once_naming_the_option(app):
    app.build()
    warnings = app.warning.getvalue()
    assert warnings.count("troubleshooter_platform: unknown key 'servce'") == 1
    assert warnings.count("troubleshooter_platform['unit'] must be a string, not int") == 1
    assert "Hub" in page(app).select_one("div.ts-wizard").get_text()


def test_a_platform_that_is_not_a_dict_warns_naming_the_option(make_app, sphinx_test_tempdir):
    source = copy_of_root(sphinx_test_tempdir, "wizard", "platform-str")
    with (source / "conf.py").open("a", encoding="utf-8") as conf:
        conf.write('troubleshooter_platform = "Hub"\n')
    app = make_app("html", srcdir=source)
    app.build()
    assert "troubleshooter_platform must be a dict of names, not str" in app.warning.getvalue()
    assert page(app).select_one("div.ts-wizard") is not None


@pytest.mark.sphinx("html", testroot="wizard-broken")
def test_broken_tree_is_an_error_naming_file_and_ids(app):
    app.build()
    warnings = app.warning.getvalue()
    assert "ERROR" in warnings
    assert "broken.toml" in warnings
    assert "'nowhere'" in warnings and "'ask'" in warnings
    assert "troubleshooter-wizard" in warnings and "troubleshooter-flowchart" in warnings
    assert "Traceback" not in warnings
    assert page(app).select_one(".ts-wizard") is None


def resolved_doctree(app, docname: str):
    """The page's doctree as the builder writes it."""
    with warnings.catch_warnings():  # Sphinx 9 asks for ``tags=``, which 8.2 does not know
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        return app.env.get_and_resolve_doctree(docname, app.builder)


def resolved_section(app, docname: str, section_id: str) -> str:
    """A section of the page's doctree as the builder writes it."""
    from docutils import nodes

    doctree = resolved_doctree(app, docname)
    [section] = [s for s in doctree.findall(nodes.section) if section_id in s["ids"]]
    return section.pformat()


@pytest.mark.sphinx("text", testroot="wizard")
def test_text_fallback_doctree(app, file_regression):
    """The whole tree in words, as builders other than HTML get it."""
    app.build()
    file_regression.check(resolved_section(app, "index", "full-tree"), extension=".xml")


@pytest.mark.sphinx("text", testroot="wizard")
def test_text_fallback_doctree_of_a_light_page(app, file_regression):
    app.build()
    section = resolved_section(app, "summary", "a-page-that-links-to-the-text-version")
    file_regression.check(section, extension=".xml")


@pytest.mark.sphinx("html", testroot="wizard")
def test_html_written_tree_doctree(app, file_regression):
    """The same tree for HTML: sections with rubric headings, answers linking in the page."""
    from troubleshooter.sphinxext.wizard import wizard

    app.build()
    [node] = resolved_doctree(app, "index").findall(wizard)
    file_regression.check(node[0].pformat(), extension=".xml")
