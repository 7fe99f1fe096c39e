"""``extensions = ["troubleshooter"]`` brings the troubleshooter's directives and their own
assets, nothing else: a host's theme CSS and markup stay as the theme writes them. This
site's own polish (CSS purge, accessibility fixes, copy buttons) lives in docs/_ext."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import copy_of_root

OWN_ASSETS = {"wizard.css", "wizard.js", "demos.js", "troubleshooter-diagnose.py"}


def static_files(outdir: Path) -> dict[str, bytes]:
    static = outdir / "_static"
    return {
        path.relative_to(static).as_posix(): path.read_bytes()
        for path in static.rglob("*")
        if path.is_file()
    }


@pytest.fixture
def builds(make_app, sphinx_test_tempdir):
    """The same host site built with the troubleshooter and without any extension."""
    apps = {}
    for name, extensions in (("without", []), ("with", ["troubleshooter"])):
        source = copy_of_root(sphinx_test_tempdir, "theme", name)
        conf = source / "conf.py"
        conf.write_text(
            conf.read_text("utf-8").replace('["troubleshooter"]', repr(extensions)), "utf-8"
        )
        if not extensions:
            index = source / "index.rst"
            text = index.read_text("utf-8")
            index.write_text(text.replace(".. troubleshooter-flowchart::", ".. the flowchart::"))
        app = make_app("html", srcdir=source)
        app.build()
        app.cleanup()  # forget its directives and nodes before the next build
        assert app.warning.getvalue() == "", name
        apps[name] = app
    return apps["with"], apps["without"]


def test_the_theme_css_and_scripts_are_left_as_the_theme_ships_them(builds):
    with_troubleshooter, without = builds
    theirs = static_files(Path(without.outdir))
    ours = static_files(Path(with_troubleshooter.outdir))
    for name in ("pygments.css", "styles/furo.css", "styles/furo-extensions.css"):
        assert name in theirs, name
    changed = [name for name, content in theirs.items() if ours.get(name) != content]
    assert changed == []
    assert set(ours) - set(theirs) <= OWN_ASSETS
    assert "wizard.css" in ours  # the flowchart's own stylesheet is there


def test_no_copy_button_and_no_markup_fixes(builds):
    with_troubleshooter, without = builds
    for name in ("index", "other"):
        page = (Path(with_troubleshooter.outdir) / f"{name}.html").read_text("utf-8")
        plain = (Path(without.outdir) / f"{name}.html").read_text("utf-8")
        assert "copy.js" not in page and "site.css" not in page
        assert '<pre tabindex="0">' not in page
        assert 'role="heading">' in page  # the toctree caption as Sphinx writes it
        if name == "other":
            assert page == plain  # a page without the troubleshooter's directives
