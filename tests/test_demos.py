"""The browser demos without a browser: demo files, the directive, the JupyterLite in the site.

Each demo's expected output (``docs/demos/NAME.txt``) is checked against what the Pyodide
shipped to readers prints, run under Node.js. After editing a demo, refresh the expected
outputs with ``pytest tests/test_demos.py --force-regen`` and read the diff.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import re
import shutil
import sys
import zipfile
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from pyodide_run import run_in_pyodide

from troubleshooter.sphinxext import demos, lite
from troubleshooter.sphinxext.lite import bytecode

ROOT = Path(__file__).resolve().parent.parent
DEMO_FILES = sorted((ROOT / "docs" / "demos").glob("*.py"))
NOTEBOOK = ROOT / "docs" / "demos" / "diagnostics.ipynb"
CACHE = lite.default_cache(ROOT)
# <link> relations a browser fetches (a canonical link is only an address).
FETCHED_LINKS = {"stylesheet", "preload", "modulepreload", "prefetch", "icon", "manifest"}
USE_CACHE = {"troubleshooter_lite_cache": str(CACHE)}
HAS_NPM = bool(shutil.which("npm") and shutil.which("node"))
# Hosts that serve fonts or packages to pages; none may appear in a built page.
THIRD_PARTY = re.compile(r"fonts\.googleapis|fonts\.gstatic|jsdelivr|unpkg\.com|cdnjs", re.I)


@pytest.fixture(scope="session")
def rootdir() -> Path:
    return Path(__file__).parent / "roots"


def repl_settings(mode: str = "local") -> lite.LiteSettings:
    """What a project whose pages hold only REPL demos asks of its JupyterLite."""
    return lite.LiteSettings(
        mode=mode,
        apps=("repl",),
        contents=(),
        notebooks=(),
        config=None,
        overrides=None,
        ignore_contents=(),
        options=(),
        lite_json=None,
    )


def _built(make):
    try:
        return make()
    except lite.LiteUnavailable as error:
        if HAS_NPM:
            pytest.fail(f"npm and node are here, yet the demos could not be built: {error}")
        pytest.skip(f"the demos cannot be built here: {error}")


@pytest.fixture(scope="session")
def pyodide_dir() -> Path:
    """The demos' Pyodide from the repository's cache, assembled if needed."""
    return _built(lambda: lite.ensure_pyodide(CACHE))


@pytest.fixture(scope="session")
def lite_base(pyodide_dir) -> Path:
    """The JupyterLite of a project with REPL demos, from the repository's cache."""
    return _built(lambda: lite.ensure_site(CACHE, repl_settings()))


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text("utf-8"), "html.parser")


# --- the demo files ----------------------------------------------------------------------


@pytest.mark.parametrize("path", DEMO_FILES, ids=lambda path: path.stem)
def test_expected_output_is_what_the_browser_python_prints(path, pyodide_dir, file_regression):
    demo = demos.read_demo(path)
    wheels = (lite.project_wheel(CACHE),) if "troubleshooter" in demo.code else ()
    printed = run_in_pyodide(pyodide_dir, demo.code, wheels)
    file_regression.check(printed, fullpath=path.with_suffix(".txt"))


def _demos_on_page() -> list[str]:
    """The demos on the demos page, in order."""
    page = (ROOT / "docs" / "demos.md").read_text("utf-8")
    return re.findall(r"\{memory-demo\} demos/(\w+)\.py", page)


def test_every_demo_is_on_the_demos_page():
    assert sorted(_demos_on_page()) == [path.stem for path in DEMO_FILES]


def test_a_demo_shows_its_code_without_the_docstring(tmp_path):
    (tmp_path / "d.py").write_text('"""Title line\n\nMore words.\n"""\n\nx = 1\nprint(x)\n')
    (tmp_path / "d.txt").write_text("1\n")
    demo = demos.read_demo(tmp_path / "d.py")
    assert (demo.title, demo.code, demo.expected) == ("Title line", "x = 1\nprint(x)\n", "1\n")


@pytest.mark.parametrize(
    ("source", "expected", "message"),
    [
        ("print(1)\n", "1\n", "must start with a docstring"),
        ('"""T"""\nprint(1\n', "1\n", "line 2"),
        ('"""T"""\nprint(1)\n', None, "has no expected output d.txt"),
    ],
    ids=["no-docstring", "syntax-error", "no-output"],
)
def test_a_broken_demo_gets_a_message_naming_it(tmp_path, source, expected, message):
    (tmp_path / "d.py").write_text(source)
    if expected is not None:
        (tmp_path / "d.txt").write_text(expected)
    with pytest.raises(demos.DemoError, match=message) as raised:
        demos.read_demo(tmp_path / "d.py")
    assert "d.py" in str(raised.value)


# --- precompiling ------------------------------------------------------------------------


def test_only_the_imported_modules_are_compiled(tmp_path, monkeypatch):
    source = tmp_path / "demo_pkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(source, "w") as archive:
        archive.writestr("demo_pkg/__init__.py", "VALUE = 42\n")
        archive.writestr("demo_pkg/unused.py", "OTHER = 1\n")
        archive.writestr("demo_pkg-1.0.dist-info/RECORD", "demo_pkg/__init__.py,sha256=x,11\n")
    target = tmp_path / "compiled.whl"
    imported = {"/site/demo_pkg/__init__.py"}
    count = bytecode.compile_archive(source, target, "/site/", imported, is_wheel=True)
    with zipfile.ZipFile(target) as archive:
        names = set(archive.namelist())
        record = archive.read("demo_pkg-1.0.dist-info/RECORD").decode()
    assert count == 1
    assert names == {
        "demo_pkg/__init__.pyc",
        "demo_pkg/unused.py",
        "demo_pkg-1.0.dist-info/RECORD",
    }
    assert record.startswith("demo_pkg/__init__.pyc,sha256=")
    # The compiled module imports without its source, straight from the archive.
    monkeypatch.syspath_prepend(str(target))
    monkeypatch.delitem(sys.modules, "demo_pkg", raising=False)
    assert importlib.import_module("demo_pkg").VALUE == 42


# --- the assembled JupyterLite -----------------------------------------------------------


def test_the_lock_matches_the_files_shipped(lite_base):
    pyodide = lite_base / "static" / "pyodide"
    assert (pyodide / "pyodide.asm.wasm").exists()
    lock = json.loads((pyodide / "pyodide-lock.json").read_text())
    for name in lite.PRELOAD:
        assert name in lock["packages"], name
    for entry in lock["packages"].values():
        data = (pyodide / entry["file_name"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], entry["file_name"]


def test_the_lite_build_asks_no_other_host(lite_base):
    config = json.loads((lite_base / "jupyter-lite.json").read_text())["jupyter-config-data"]
    kernel = config["litePluginSettings"][lite.KERNEL_PLUGIN]
    assert kernel["pyodideUrl"] == "./static/pyodide/pyodide.mjs"
    assert kernel["disablePyPIFallback"] is True
    assert all(url.startswith("./") for url in kernel["pipliteUrls"])
    assert [ext["name"] for ext in config["federated_extensions"]] == [lite.KERNEL_EXTENSION]


def test_the_lite_build_carries_only_the_repl_and_no_source_maps(lite_base):
    assert (lite_base / "repl" / "index.html").exists()
    for app in ("lab", "notebooks", "tree", "edit", "consoles"):
        assert not (lite_base / app).exists(), app
    assert list(lite_base.rglob("*.map")) == []


def test_publishing_twice_copies_once(lite_base, tmp_path):
    build = lite.LiteBuild(base=lite_base, wheel=lite.project_wheel(CACHE))
    assert lite.publish(build, tmp_path) is True
    index = json.loads((tmp_path / "lite" / "pypi" / "all.json").read_text())
    assert demos.project_distribution() in index
    assert lite.publish(build, tmp_path) is False


def test_the_cdn_setting_leaves_pyodide_to_the_kernel_default(tmp_path):
    base = lite.ensure_site(tmp_path, repl_settings("cdn"))
    config = json.loads((base / "jupyter-lite.json").read_text())["jupyter-config-data"]
    assert "pyodideUrl" not in config["litePluginSettings"][lite.KERNEL_PLUGIN]
    assert not (base / "static" / "pyodide").exists()


# --- the directive, in small projects ----------------------------------------------------


@pytest.mark.sphinx("html", testroot="demos", confoverrides=USE_CACHE)
def test_a_demo_page_shows_code_output_and_a_button(app, lite_base):
    app.build()
    assert app.warning.getvalue() == ""
    page = soup(Path(app.outdir) / "index.html")
    section = page.select_one("section.memory-demo")
    title = section.select_one("#" + section["aria-labelledby"])
    assert title.get_text() == "Say hello"
    code = section.select_one(".highlight-python pre").get_text()
    assert code == 'print("hello from the demo")\n'
    assert section.select_one(".memory-demo-output pre").get_text() == "hello from the demo\n"
    run = section.select_one(".memory-demo-run")
    assert run["data-demo"] == "hello"
    button = run.select_one("button")
    assert button.get_text() == "Run this demo" and button.has_attr("hidden")
    assert run.select_one('[role="status"][aria-live="polite"]') is not None
    assert page.find("iframe") is None
    scripts = [tag["src"] for tag in page.find_all("script", src=True)]
    assert any("demos.js" in src for src in scripts)
    plain = (Path(app.outdir) / "plain.html").read_text()
    assert "demos.js" not in plain and "lite/" not in plain
    assert (Path(app.outdir) / "lite" / "repl" / "index.html").exists()


@pytest.mark.sphinx("text", testroot="demos", confoverrides=USE_CACHE)
def test_other_builders_show_the_code_and_output_without_a_button(app, lite_base):
    app.build()
    text = (Path(app.outdir) / "index.txt").read_text()
    assert "Say hello" in text
    assert 'print("hello from the demo")' in text
    assert "hello from the demo\n" in text
    assert "Run this demo" not in text


@pytest.mark.sphinx("html", testroot="demos", srcdir="demos-without-npm")
def test_without_npm_the_page_says_the_demo_is_unavailable(app, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no npm, no node
    app.config.troubleshooter_lite_cache = str(tmp_path / "empty-cache")
    app.build()
    assert app.warning.getvalue() == ""
    assert "npm was not found" in app.status.getvalue()
    page = soup(Path(app.outdir) / "index.html")
    note = page.select_one(".memory-demo-unavailable")
    assert "Demo unavailable in this build" in note.get_text()
    assert page.select_one(".memory-demo-output") is not None
    assert page.find("button", string="Run this demo") is None
    assert "demos.js" not in str(page)
    assert not (Path(app.outdir) / "lite").exists()


@pytest.mark.sphinx(
    "html",
    testroot="demos",
    srcdir="demos-bad-setting",
    confoverrides={"troubleshooter_lite_pyodide": "npm"},
)
def test_a_bad_setting_gets_a_warning_naming_it(app):
    app.build()
    assert "troubleshooter_lite_pyodide must be one of" in app.warning.getvalue()
    assert "Demo unavailable in this build" in (Path(app.outdir) / "index.html").read_text()


# --- the whole site ----------------------------------------------------------------------


def _pages(site) -> list[Path]:
    return sorted(site.html.rglob("*.html"))


def test_no_page_loads_fonts_or_code_from_another_host(site):
    for path in _pages(site):
        html = path.read_text("utf-8")
        assert not THIRD_PARTY.search(html), path.relative_to(site.html)
        for tag in soup(path).find_all(["script", "link", "img", "iframe", "source"]):
            fetched = tag.name != "link" or set(tag.get("rel", [])) & FETCHED_LINKS
            url = tag.get("src") or tag.get("href") or ""
            assert not (fetched and url.startswith(("http:", "https:", "//"))), (path.name, url)


def _uses_demos(site, page: Path) -> bool:
    """Whether the source of a built page uses the demo directive."""
    source = (ROOT / "docs" / page.relative_to(site.html)).with_suffix(".md")
    return source.exists() and "{memory-demo}" in source.read_text("utf-8")


def test_only_pages_with_demos_carry_the_demo_script(site):
    for path in _pages(site):
        relative = path.relative_to(site.html).as_posix()
        if relative.startswith("lite/"):
            continue
        html = path.read_text("utf-8")
        scripts = re.findall(r"<script[^>]*demos\.js", html)
        if _uses_demos(site, path):
            assert len(scripts) == (1 if HAS_NPM else 0), relative
        else:
            assert scripts == [], relative
            assert "memory-demo" not in html, relative
        assert not re.search(r"""\s(src|href)="[^"]*lite/""", html), relative


def test_the_demos_page_offers_every_demo(site):
    page = soup(site.html / "demos.html")
    shown = [section["id"] for section in page.select("section.memory-demo")]
    assert shown == [f"demo-{name.replace('_', '-')}" for name in _demos_on_page()]
    notebook = page.select_one('[data-lite-src*="path=demos/diagnostics.ipynb"]')
    if HAS_NPM:
        assert len(page.select("section.memory-demo .memory-demo-run button")) == len(shown)
        assert notebook.select_one("button").get_text() == "Open the notebook here"
        assert (site.html / "lite" / "repl" / "index.html").exists()
        assert (site.html / "lite" / "notebooks" / "index.html").exists()
        assert (site.html / "lite" / "files" / "demos" / "diagnostics.ipynb").exists()
        assert (site.html / "lite" / "static" / "pyodide" / "pyodide.asm.wasm").exists()
    else:
        assert len(page.select(".memory-demo-unavailable")) == len(shown) + 1
    # The same notebook, to download and run in one's own Jupyter.
    download = page.select_one('a.download[href$="diagnostics.ipynb"]')
    assert (site.html / download["href"]).read_bytes() == NOTEBOOK.read_bytes()


# --- jupyterlite-sphinx, as this build uses it ----------------------------------------------


@pytest.mark.sphinx("html", testroot="demos", srcdir="demos-stock", confoverrides=USE_CACHE)
def test_its_own_directives_get_real_buttons_and_no_inline_handlers(app, lite_base):
    from jupyterlite_sphinx.jupyterlite_sphinx import jupyterlite_build

    app.build()
    assert app.warning.getvalue() == ""
    # Its build step, which runs `jupyter lite build` on every build, is not connected.
    handlers = [listener.handler for listener in app.events.listeners["build-finished"]]
    assert jupyterlite_build not in handlers
    assert "[jupyterlite-sphinx]" not in app.status.getvalue()
    outdir = Path(app.outdir)
    page = soup(outdir / "stock.html")
    embed, tab = page.select(".memory-demo-run"), page.select("a.sd-btn")
    assert len(embed) == 1 and len(tab) == 1
    assert embed[0]["data-lite-src"].startswith("lite/repl/index.html?kernel=python")
    assert "code=print%281%20%2B%201%29" in embed[0]["data-lite-src"]
    button = embed[0].select_one("button")
    assert (button.get_text(), button["type"]) == ("Try Python", "button")
    assert tab[0].get_text() == "Open a REPL in a new tab"
    assert tab[0]["href"].startswith("lite/repl/index.html?")
    for path in outdir.glob("*.html"):
        html = path.read_text("utf-8")
        assert not re.search(r"\son[a-z]+=", html), path.name  # no inline event handler
        assert "jupyterlite_sphinx" not in html and not THIRD_PARTY.search(html), path.name
    assert not list((outdir / "_static").glob("jupyterlite_sphinx.*"))


class _Config:
    """What settings_from reads from a Sphinx configuration: jupyterlite-sphinx's defaults."""

    troubleshooter_lite_pyodide = "local"
    jupyterlite_build_command_options = None
    jupyterlite_config = None
    jupyterlite_overrides = None
    jupyterlite_ignore_contents = None
    jupyterlite_contents = None
    jupyterlite_dir = None


def test_its_settings_drive_the_build_and_its_key(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "sample.csv").write_text("a,b\n1,2\n")
    config = _Config()
    config.jupyterlite_contents = ["data/*.csv"]
    config.jupyterlite_build_command_options = {"no-libarchive": "true"}
    settings = lite.settings_from(config, tmp_path, {"repl"}, {})
    assert settings.contents == (str((tmp_path / "data" / "sample.csv").resolve()),)
    assert settings.options == (("no-libarchive", "true"),)
    key = settings.key("pyodide-x")
    assert settings.key("pyodide-x") == key  # the same inputs, the same key: no rebuild
    (tmp_path / "data" / "sample.csv").write_text("a,b\n1,3\n")
    assert settings.key("pyodide-x") != key  # a content file changed: build again
    assert settings.key("pyodide-y") != settings.key("pyodide-x")


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("jupyterlite_build_command_options", {"output-dir": "x"}, "may not set"),
        ("jupyterlite_config", "missing.json", "jupyterlite_config names 'missing.json'"),
    ],
)
def test_a_bad_jupyterlite_setting_is_named(tmp_path, setting, value, message):
    config = _Config()
    setattr(config, setting, value)
    with pytest.raises(lite.LiteUnavailable, match=message):
        lite.settings_from(config, tmp_path, {"repl"}, {})


def test_the_key_does_not_depend_on_where_the_project_is(tmp_path):
    copies = []
    for name in ("one", "two"):
        (tmp_path / name / "data").mkdir(parents=True)
        (tmp_path / name / "data" / "sample.csv").write_text("a,b\n1,2\n")
        (tmp_path / name / "nb.ipynb").write_text("{}")
        config = _Config()
        config.jupyterlite_contents = ["data"]
        notebooks = {"nb.ipynb": str(tmp_path / name / "nb.ipynb")}
        copies.append(lite.settings_from(config, tmp_path / name, {"repl"}, notebooks))
    assert copies[0].key("p") == copies[1].key("p")


def test_try_examples_gets_a_warning_naming_it(make_app, sphinx_test_tempdir):
    source = sphinx_test_tempdir / "demos-try-examples"
    shutil.rmtree(source, ignore_errors=True)
    shutil.copytree(Path(__file__).parent / "roots" / "test-demos", source)
    (source / "plain.md").write_text(
        "# Examples\n\n```{try_examples}\n>>> print(1)\n1\n```\n", "utf-8"
    )
    app = make_app("text", srcdir=source)  # the warning comes from reading, for every builder
    app.build()
    warnings = app.warning.getvalue()
    assert "plain.md" in warnings and "try_examples writes its buttons" in warnings
