"""The diagnose-download link, from pages at any depth and with any HTML builder."""

from __future__ import annotations

import posixpath
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import copy_of_root

from troubleshooter.standalone import FILENAME


@pytest.mark.parametrize(
    ("builder", "pages"),
    [
        ("html", ["index.html", "deep/page.html"]),
        ("dirhtml", ["index.html", "deep/page/index.html"]),
        ("singlehtml", ["index.html"]),
    ],
)
def test_the_link_reaches_the_file_from_every_page(make_app, sphinx_test_tempdir, builder, pages):
    app = make_app(builder, srcdir=copy_of_root(sphinx_test_tempdir, "download", builder))
    app.build()
    assert app.warning.getvalue() == ""
    out = Path(app.outdir)
    assert (out / "_static" / FILENAME).is_file()
    for page in pages:
        soup = BeautifulSoup((out / page).read_text("utf-8"), "html.parser")
        links = soup.select("a.download")
        assert links, page
        for link in links:
            assert link["download"] == FILENAME
            assert link.get_text() == f"Download {FILENAME}"
            target = posixpath.normpath(posixpath.join(posixpath.dirname(page), link["href"]))
            assert target == f"_static/{FILENAME}", (page, link["href"])


@pytest.mark.sphinx("text", testroot="download")
def test_other_builders_link_to_the_file_on_the_site(app):
    app.build()
    assert app.warning.getvalue() == ""
    text = " ".join((Path(app.outdir) / "deep" / "page.txt").read_text("utf-8").split())
    assert f'Download "{FILENAME}" (one Python file, nothing to install)' in text
