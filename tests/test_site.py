"""The site as a reader and a linking platform meet it: pages, labels, anchors, assets."""

from __future__ import annotations

import html
import importlib
import re
import shutil
import subprocess
import sys
import zlib
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import build_site

from troubleshooter.causes import CAUSES, GUIDE_LABELS, GUIDE_PAGE
from troubleshooter.loader import load_builtin
from troubleshooter.messages import front_end_names

ROOT = Path(__file__).resolve().parent.parent


def labels(html_dir: Path) -> dict[str, str]:
    """Sphinx labels and their URLs, read from the objects.inv the build wrote."""
    raw = (html_dir / "objects.inv").read_bytes()
    header_end = 0
    for _ in range(4):
        header_end = raw.index(b"\n", header_end) + 1
    found = {}
    for line in zlib.decompress(raw[header_end:]).decode().splitlines():
        name, role, _priority, uri, *_ = line.split(" ")
        if role == "std:label":
            found[name] = uri.replace("$", name)
    return found


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.fetched: list[str] = []
        self.meta: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.add(attributes["id"])
        if tag in {"script", "img", "iframe", "source", "audio", "video"} and attributes.get("src"):
            self.fetched.append(attributes["src"])
        if tag == "link" and attributes.get("rel") in {
            "stylesheet",
            "preload",
            "icon",
            "modulepreload",
        }:
            self.fetched.append(attributes.get("href") or "")
        if tag == "meta" and attributes.get("name"):
            self.meta[attributes["name"]] = attributes.get("content") or ""


def parse(page: Path) -> _Collector:
    collector = _Collector()
    collector.feed(page.read_text(encoding="utf-8"))
    return collector


def test_build_has_no_warnings(site):
    assert site.warnings.strip() == ""


@pytest.mark.parametrize("path", sorted(GUIDE_LABELS))
def test_guide_pages_live_where_error_messages_link(site, path):
    assert (site.html / path).is_file()


@pytest.mark.parametrize(
    ("path", "label"), [(path, label) for path, names in GUIDE_LABELS.items() for label in names]
)
def test_label_resolves_to_an_anchor_on_its_page(site, path, label):
    url = labels(site.html).get(label)
    assert url is not None, f"label {label!r} is not defined"
    page, _, anchor = url.partition("#")
    assert page == path
    assert anchor in parse(site.html / page).ids, f"#{anchor} missing from {page}"


@pytest.mark.parametrize("cause", sorted(CAUSES))
def test_every_cause_has_its_section_in_the_guide(site, cause):
    assert CAUSES[cause].label in parse(site.html / GUIDE_PAGE).ids


def test_index_lists_the_kernel_terminated_entry(site):
    genindex = (site.html / "genindex.html").read_text(encoding="utf-8")
    assert re.search(r"kernel terminated.*?jupyter-kernel-terminated\.html", genindex, re.S)


def test_search_index_knows_the_guides(site):
    index = (site.html / "searchindex.js").read_text(encoding="utf-8")
    for term in ("sigkill", "oom", "tracemalloc"):
        assert f'"{term}"' in index, term


def test_not_found_page_uses_absolute_asset_urls(site):
    page = parse(site.html / "404.html")
    stylesheets = [url for url in page.fetched if url.endswith(".css") or ".css?" in url]
    assert stylesheets and all(url.startswith("/") for url in stylesheets)


def test_sitemap_lists_the_guides_and_not_utility_pages(site):
    sitemap = (site.html / "sitemap.xml").read_text(encoding="utf-8")
    for path in GUIDE_LABELS:
        assert f"{path}</loc>" in sitemap
    for utility in ("search.html", "genindex.html", "404.html"):
        assert utility not in sitemap


def _pages(html_dir: Path) -> list[Path]:
    return [page for page in html_dir.rglob("*.html") if "_static" not in page.parts]


def test_no_page_fetches_anything_from_another_host(site):
    for page in _pages(site.html):
        for url in parse(page).fetched:
            host = urlsplit(url).hostname
            assert host in {None, "127.0.0.1", "localhost"}, f"{page.name} fetches {url}"


def test_every_content_page_has_a_description(site):
    for page in _pages(site.html):
        if page.name in {"search.html", "genindex.html", "404.html"} or "lite" in page.parts:
            continue
        description = parse(page).meta.get("description", "")
        assert len(description) > 40, f"{page.relative_to(site.html)} lacks a meta description"


def test_unused_design_css_is_dropped_and_used_rules_kept(site):
    stylesheet = (site.html / "_static" / "sphinx-design.min.css").read_text(encoding="utf-8")
    assert ".sd-card{" in stylesheet or ".sd-card," in stylesheet  # the home page uses cards
    assert ".sd-bg-danger" not in stylesheet  # no page uses it


def test_the_site_polish_from_docs_ext_is_on(site):
    """The site's own extension (docs/_ext/site_polish) adds copy buttons, its stylesheet and
    its markup fixes; the reusable extension alone would add none of them."""
    page = (site.html / "howto" / "jupyter-kernel-terminated.html").read_text(encoding="utf-8")
    assert 'src="../_static/copy.js' in page
    assert 'href="../_static/site.css' in page
    assert '<pre tabindex="0">' in page
    assert 'role="heading" aria-level="2">' in page  # the toctree captions, fixed
    assert (site.html / "_static" / "copy.js").is_file()


REBRAND = {"service": "Example Hub", "support_email": "support@hub.example"}


def test_rebranding_reaches_every_guide(tmp_path):
    confdir = tmp_path / "conf"
    confdir.mkdir()
    (confdir / "conf.py").write_text(
        f"__file__ = {str(ROOT / 'conf.py')!r}\n"
        "exec(open(__file__).read())\n"
        f"troubleshooter_platform = {{**troubleshooter_platform, **{REBRAND!r}}}\n",
        encoding="utf-8",
    )
    out = tmp_path / "html"
    result = build_site(out, confdir)
    assert result.returncode == 0, result.stderr
    for path in GUIDE_LABELS:
        text = html.unescape((out / path).read_text(encoding="utf-8"))
        assert "Example Hub" in text
        shown = visible_text(text)  # the address is a link, its "@" in a span of its own
        assert "support@hub.example" in shown or path != GUIDE_PAGE
        assert "CoCalc" not in re.sub(r"<(link|meta)[^>]*>", "", text), path


def test_every_front_ends_wording_is_listed_and_the_guide_points_there(site):
    page = (site.html / "wordings.html").read_text()
    table = page.split('class="ts-messages', 1)[1].split("</table>", 1)[0]
    for name in front_end_names(service="CoCalc").values():
        assert html.escape(name.replace("'", "\u2019"), quote=False) in table, name  # smart quotes
    guide = (site.html / "howto" / "jupyter-kernel-terminated.html").read_text()
    assert 'href="../wordings.html"' in guide
    assert 'class="ts-messages' not in guide


@pytest.fixture
def polish(monkeypatch):
    """The site's own extension, docs/_ext/site_polish, as conf.py finds it."""
    monkeypatch.syspath_prepend(str(ROOT / "docs" / "_ext"))
    return importlib.import_module("site_polish")


def test_minifying_keeps_every_template_literal_as_written(polish):
    minify_script = polish.minify.minify_script

    plain = "const a = `Line ${n}:  “${text}”`;  // a comment\nconst b = 'x  y';\n"
    assert minify_script(plain) == "const a=`Line ${n}:  “${text}”`;const b='x  y';"
    # rJSmin would take the space before "(" for code: such a script ships as written.
    assert minify_script("const a = `message${name ? ` (${name})` : ''}`;") is None
    assert minify_script("const a = `${f('}') + ` x`}`;") is None


def test_every_shipped_script_still_parses(site):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: no JavaScript parser to check the shipped scripts")
    scripts = sorted((site.html / "_static").rglob("*.js"))
    assert any(path.name == "wizard.js" for path in scripts)
    for path in scripts:
        result = subprocess.run([node, "--check", str(path)], capture_output=True, text=True)
        assert result.returncode == 0, f"{path.name}: {result.stderr}"


def test_shipped_scripts_are_minified_and_the_sources_stay_readable(site):
    shipped = (site.html / "_static" / "wizard.js").read_text("utf-8")
    source = (ROOT / "troubleshooter" / "sphinxext" / "static" / "wizard.js").read_text("utf-8")
    why = "shipped as written: a nested template literal? (docs/_ext/site_polish/minify.py)"
    assert "/**" in source and "/**" not in shipped, why
    assert "\n  " in source and "\n  " not in shipped, why


def test_unread_custom_properties_go_and_read_ones_stay(polish):
    drop_unread_names = polish.purge_css.drop_unread_names

    theme, own = Path("theme.css"), Path("own.css")
    sheets = {
        theme: ":root{--a:1px;--b:var(--c);--c:red;--d:url(data:x;base64,AA);--e:0}"
        "@keyframes spin{to{rotate:1turn}}@keyframes fade{to{opacity:0}}",
        own: ".x{margin:var(--a);animation:spin 1s}",
    }
    kept = drop_unread_names(sheets, {theme}, elsewhere={"--e"})
    assert kept[theme] == ":root{--a:1px;--e:0}@keyframes spin{to{rotate:1turn}}"
    assert kept[own] == sheets[own]  # only the theme's stylesheets are pruned


def _declared(text: str) -> set[str]:
    return set(re.findall(r"(--[\w-]+)\s*:", text))


def test_every_custom_property_a_stylesheet_reads_is_still_set(site):
    import furo
    import sphinx_design

    static = site.html / "_static"
    css = "".join(path.read_text("utf-8") for path in static.rglob("*.css"))
    pages = "".join(path.read_text("utf-8") for path in site.html.glob("**/*.html"))
    # A read with a fallback, var(--x, value), still works without --x.
    read = set(re.findall(r"var\(\s*(--[\w-]+)\s*\)", css))
    as_shipped = "".join(
        path.read_text("utf-8")
        for package in (furo, sphinx_design)
        for path in Path(package.__file__).parent.rglob("*.css")
    )
    never_set = read - _declared(as_shipped + pages)  # the theme's own slips
    assert read - _declared(css + pages) == never_set


def test_inline_code_is_one_element_with_its_spacing(tmp_path):
    """Inline code reads as written, without a <span> per word; keys stay <kbd>; links and
    code blocks keep their text without the wrappers nothing styles."""
    source = tmp_path / "source"
    source.mkdir()
    (source / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(ROOT / 'docs' / '_ext')!r})\n"
        'extensions = ["site_polish"]\nhtml_theme = "furo"\n',
        encoding="utf-8",
    )
    (source / "index.rst").write_text(
        ".. _top:\n\nTitle\n=====\n\nRun ``kill  -9 <pid>`` or press :kbd:`Ctrl+C`; see :ref:`top`."
        "\n\n.. code-block:: python\n\n   a = 1\n",
        encoding="utf-8",
    )
    out = tmp_path / "html"
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-q", "-b", "html", str(source), str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0 and result.stderr == "", result.stderr
    page = (out / "index.html").read_text("utf-8")
    assert '<code class="docutils literal notranslate">kill&#160; -9 &lt;pid&gt;</code>' in page
    key = '<kbd class="kbd docutils literal notranslate">{}</kbd>'
    assert key.format("Ctrl") + "+" + key.format("C") in page  # Sphinx's own keys
    assert '<a class="reference internal" href="#top">Title</a>' in page
    assert '<span class="n">a</span> <span class="o">=</span> <span class="mi">1</span>' in page


HOST_PAGES = [*sorted(GUIDE_LABELS), "howto/checks.html", "troubleshooter.html", "index.html"]
HOST_KEYS = ("service", "settings_page", "restart_button", "plain_server", "support_email")


def site_platform() -> dict[str, str]:
    """``troubleshooter_platform`` from conf.py: the host's name and its controls."""
    namespace: dict[str, object] = {"__file__": str(ROOT / "conf.py")}
    exec((ROOT / "conf.py").read_text(encoding="utf-8"), namespace)
    platform = namespace["troubleshooter_platform"]
    assert isinstance(platform, dict)
    return platform


def visible_text(page: str) -> str:
    """What a reader sees: scripts (the wizard's data names front ends) and tags left out."""
    page = re.sub(r"<script\b.*?</script>|<(link|meta)[^>]*>", "", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def tree_prose(notes: list[str]) -> str:
    tree = load_builtin("kernel-terminated", site_platform(), notes=notes)
    parts = [getattr(node, key, "") for node in tree.nodes.values() for key in ("text", "check")]
    parts += [step for node in tree.outcomes() for step in node.steps]
    parts += [answer.label for node in tree.questions() for answer in node.answers]
    return "\n".join(parts)


def test_switching_the_host_note_off_removes_its_advice(tmp_path, site):
    """troubleshooter_notes without "host" (issue 13, item 4): neither the guides nor the
    tree give the host's advice; with it (the site as built) the advice is there."""
    names = [site_platform()[key] for key in HOST_KEYS]
    assert not [name for name in names if name in tree_prose(notes=[])]
    assert all(name in tree_prose(notes=["host"]) for name in names[:4])

    confdir = tmp_path / "conf"
    confdir.mkdir()
    (confdir / "conf.py").write_text(
        f"__file__ = {str(ROOT / 'conf.py')!r}\n"
        "exec(open(__file__).read())\n"
        'troubleshooter_notes = [note for note in troubleshooter_notes if note != "host"]\n',
        encoding="utf-8",
    )
    out = tmp_path / "html"
    result = build_site(out, confdir)
    assert result.returncode == 0, result.stderr
    for path in HOST_PAGES:
        off = visible_text((out / path).read_text(encoding="utf-8"))
        assert not [name for name in names if name in off], path
    on = visible_text((site.html / GUIDE_PAGE).read_text(encoding="utf-8"))
    assert all(name in on for name in names[:4])
