"""Rebuilds: a second build into the same output redoes only what changed, and what changed
reaches every page and file made from it.

Each test builds a copy of a test root twice with real Sphinx, editing an input in between,
the way a writer's ``sphinx-build`` (or ``sphinx-autobuild``) runs while they edit.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import copy_of_root
from sphinx.errors import ExtensionError

from troubleshooter.signatures import SIGNATURES_PATH
from troubleshooter.standalone import FILENAME

DOCS_EXT = Path(__file__).resolve().parent.parent / "docs" / "_ext"
EDITED = "A meaning edited between two builds."


def build(make_app, source: Path, **overrides):
    app = make_app("html", srcdir=source, confoverrides=overrides)
    app.build()
    app.cleanup()  # forget its directives and nodes before the next build
    return app


def wizard_data(app) -> dict:
    page = BeautifulSoup((Path(app.outdir) / "index.html").read_text("utf-8"), "html.parser")
    return json.loads(page.select_one("script.ts-data").string)


def test_an_edited_signatures_file_reaches_the_wizard(make_app, sphinx_test_tempdir):
    """The wizard reads messages with the signatures, so its page depends on their file."""
    source = copy_of_root(sphinx_test_tempdir, "wizard", "signatures-edit")
    signatures = source / "signatures.toml"
    shutil.copy(SIGNATURES_PATH, signatures)
    first = build(make_app, source, troubleshooter_signatures=str(signatures))
    [entry] = [e for e in wizard_data(first)["reader"]["signatures"] if e["id"] == "cocalc-signal"]
    text = signatures.read_text("utf-8")
    signatures.write_text(text.replace(f'means = "{entry["means"]}"', f'means = "{EDITED}"'))

    second = build(make_app, source, troubleshooter_signatures=str(signatures))
    [entry] = [e for e in wizard_data(second)["reader"]["signatures"] if e["id"] == "cocalc-signal"]
    assert entry["means"] == EDITED
    assert second.warning.getvalue() == ""


def test_a_signatures_file_broken_after_a_good_build_stops_the_next(make_app, sphinx_test_tempdir):
    """The check that the first build passed is skipped only while the file stays as it was."""
    source = copy_of_root(sphinx_test_tempdir, "wizard", "signatures-broken")
    signatures = source / "signatures.toml"
    shutil.copy(SIGNATURES_PATH, signatures)
    build(make_app, source, troubleshooter_signatures=str(signatures))
    build(make_app, source, troubleshooter_signatures=str(signatures))  # unchanged: no error

    text = signatures.read_text("utf-8")
    signatures.write_text(text.replace('id = "cocalc-signal"', 'id = "Not An Id"'), "utf-8")
    with pytest.raises(ExtensionError, match=re.escape(str(signatures))):
        build(make_app, source, troubleshooter_signatures=str(signatures))


def test_an_edited_tree_reaches_the_wizard_and_its_text(make_app, sphinx_test_tempdir):
    source = copy_of_root(sphinx_test_tempdir, "wizard", "tree-edit")
    build(make_app, source)
    tree = source / "trees" / "small.toml"
    old = "Is memory use near the limit?"
    tree.write_text(tree.read_text("utf-8").replace(old, "Is the memory meter red?"))

    second = build(make_app, source)
    assert wizard_data(second)["nodes"]["memory"]["text"] == "Is the memory meter red?"
    written = (Path(second.outdir) / "index.html").read_text("utf-8")
    assert old not in written


def test_the_single_file_is_rewritten_only_when_its_inputs_change(make_app, sphinx_test_tempdir):
    source = copy_of_root(sphinx_test_tempdir, "download", "download-rebuild")
    first = build(make_app, source, html_baseurl="https://one.example/")
    target = Path(first.outdir) / "_static" / FILENAME
    written = target.stat().st_mtime_ns
    assert "https://one.example/" in target.read_text("utf-8")

    build(make_app, source, html_baseurl="https://one.example/")
    assert target.stat().st_mtime_ns == written  # same inputs: left alone

    build(make_app, source, html_baseurl="https://two.example/")
    text = target.read_text("utf-8")
    assert "https://two.example/" in text
    assert "https://one.example/" not in text

    assert "whole example pod" not in text
    hub = {"unit": "example pod"}
    build(make_app, source, html_baseurl="https://two.example/", troubleshooter_platform=hub)
    assert "whole example pod" in target.read_text("utf-8")  # the tree's prose names the unit


POLISH_CONF = f"""
import sys
sys.path.insert(0, {str(DOCS_EXT)!r})
extensions = ["sphinx_design", "site_polish"]
html_theme = "furo"
exclude_patterns = ["_build"]
"""


def test_purged_css_follows_a_page_that_starts_using_a_class(make_app, sphinx_test_tempdir):
    """The CSS purge's result is reused while no page's classes change, and made again
    when an edit brings in markup whose rules the purge had dropped."""
    source = sphinx_test_tempdir / "polish-rebuild"
    shutil.rmtree(source, ignore_errors=True)
    source.mkdir()
    (source / "conf.py").write_text(POLISH_CONF, "utf-8")
    page = source / "index.rst"
    page.write_text("Polish\n======\n\nPlain words.\n", "utf-8")
    stylesheet = Path(build(make_app, source).outdir) / "_static" / "sphinx-design.min.css"
    assert ".sd-bg-danger" not in stylesheet.read_text("utf-8")

    page.write_text("Polish\n======\n\nA :bdg-danger:`badge`.\n", "utf-8")
    build(make_app, source)
    assert ".sd-bg-danger" in stylesheet.read_text("utf-8")


SITEMAP_CONF = f"""
import sys
sys.path.insert(0, {str(DOCS_EXT)!r})
extensions = ["sphinx_sitemap", "site_polish"]
html_baseurl = "https://docs.example/"
sitemap_url_scheme = "{{link}}"
sitemap_excludes = ["search.html", "genindex.html"]
exclude_patterns = ["_build"]
"""


def sitemap(app) -> list[str]:
    text = (Path(app.outdir) / "sitemap.xml").read_text("utf-8")
    return re.findall(r"<loc>([^<]*)</loc>", text)


def test_the_sitemap_lists_every_page_after_a_one_page_edit(make_app, sphinx_test_tempdir):
    source = sphinx_test_tempdir / "sitemap-rebuild"
    shutil.rmtree(source, ignore_errors=True)
    source.mkdir()
    (source / "conf.py").write_text(SITEMAP_CONF, "utf-8")
    names = ["index", "one", "two", "three"]
    (source / "index.rst").write_text("Home\n====\n\n.. toctree::\n\n   one\n   two\n   three\n")
    for name in names[1:]:
        (source / f"{name}.rst").write_text(f"{name.title()}\n=====\n\nWords.\n", "utf-8")
    whole = [f"https://docs.example/{name}.html" for name in sorted(names)]
    assert sitemap(build(make_app, source)) == whole

    with (source / "two.rst").open("a") as page:
        page.write("\nMore words.\n")
    assert sitemap(build(make_app, source)) == whole
