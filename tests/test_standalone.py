"""The single downloadable file: built from the package, stdlib only, the same answer.

The file runs with ``python -I -S`` (isolated, and without site-packages: no
installed package, no PYTHONPATH, not the current folder), which proves it needs
nothing but the standard library.
"""

from __future__ import annotations

import ast
import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from troubleshooter import standalone
from troubleshooter.loader import load_builtin

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
SITE_URL = "https://doc.cocalc.com/"  # html_baseurl in conf.py, the address in the one-liners


@pytest.fixture(scope="module")
def single_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("single") / standalone.FILENAME
    path.write_text(standalone.build())
    return path


def _json(command: list[str], cwd: Path) -> dict[str, Any]:
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "XDG_CACHE_HOME": str(cwd / "cache")},
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_file_is_python_3_8_and_imports_only_the_standard_library(single_file: Path) -> None:
    tree = ast.parse(single_file.read_text(), feature_version=(3, 8))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            imported.add(node.module.split(".")[0])
    # psutil is imported only where installed, to read processes on systems without /proc
    assert imported <= set(sys.stdlib_module_names) | {"__future__", "psutil"}, imported


@pytest.mark.parametrize("case", ["cgroup-v1", "cgroup-v2", "no-cgroup", "garbage", "macos"])
@pytest.mark.parametrize(
    "given",
    [
        ["--message", "Kernel last terminated by signal SIGKILL."],
        ["--exit-code", "139"],
        ["--message", "Kernel last exited with code 1.\nOMP: Error #15: Initializing libiomp5"],
    ],
)
def test_the_file_and_the_package_agree(
    single_file: Path, tmp_path: Path, case: str, given: list[str]
) -> None:
    args = ["--json", "--no-state", "--root", str(FIXTURES / case), *given]
    alone = _json([sys.executable, "-I", "-S", str(single_file), *args], tmp_path)
    package = _json([sys.executable, "-m", "troubleshooter", "diagnose", *args], ROOT)
    assert alone == package


def _oldest_python() -> str | None:
    """An interpreter of the oldest Python the file promises, if this machine has one."""
    name = "python{}.{}".format(*standalone.OLDEST_PYTHON)
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    found = shutil.which(name) and subprocess.run([name, "-c", ""], capture_output=True)
    if found and found.returncode == 0:  # (a pyenv shim of a version not enabled fails)
        return name
    return next((str(path) for path in sorted(pyenv.glob(f"{name[6:]}*/bin/{name}"))), None)


@pytest.mark.skipif(_oldest_python() is None, reason="no Python 3.8 on this machine")
def test_the_file_runs_on_the_oldest_python_it_promises(single_file: Path, tmp_path: Path) -> None:
    args = ["--json", "--no-state", "--root", str(FIXTURES / "cgroup-v1"), "--message",
            "Kernel last exited with code 1.\nOMP: Error #15: Initializing libiomp5"]  # fmt: skip
    oldest = _json([str(_oldest_python()), "-I", "-S", str(single_file), *args], tmp_path)
    package = _json([sys.executable, "-m", "troubleshooter", "diagnose", *args], ROOT)
    for verdict in (oldest, package):
        del verdict["facts"]["python"]  # its version and path: the one difference meant
    assert oldest == package


def test_on_this_machine_they_reach_the_same_verdict(single_file: Path, tmp_path: Path) -> None:
    args = ["--json", "--no-state", "--message", "Kernel last terminated by signal SIGKILL."]
    alone = _json([sys.executable, "-I", "-S", str(single_file), *args], tmp_path)
    package = _json([sys.executable, "-m", "troubleshooter", "diagnose", *args], ROOT)
    for key in ("cause", "outcome", "path", "link", "check_next"):
        assert alone[key] == package[key], key
    for key in ("version", "path", "limit", "oom_kills"):  # usage and peak move meanwhile
        assert alone["facts"]["cgroup"][key] == package["facts"]["cgroup"][key], key


def test_clashing_names_are_refused() -> None:
    sources = {"one": "LIMIT = 1\n", "two": "def LIMIT():\n    pass\n"}
    with pytest.raises(standalone.JoinError, match=r"'LIMIT' in one\.py and two\.py"):
        standalone.check_names(sources)


def test_package_imports_are_removed_and_docstrings_kept_as_comments() -> None:
    source = (
        '"""What it does."""\n\nfrom __future__ import annotations\n\nfrom .x import y\nZ = y\n'
    )
    assert standalone.strip_module(source, "m") == "# What it does.\n\n\nZ = y\n"


# --- on the site ---------------------------------------------------------------------------


def test_the_site_ships_the_file_with_its_own_names(site: Any) -> None:
    shipped = site.html / "_static" / standalone.FILENAME
    conf: dict[str, Any] = {"__file__": str(ROOT / "conf.py")}
    exec((ROOT / "conf.py").read_text(), conf)  # the names this site is built with
    platform = conf["troubleshooter_platform"]
    expected = standalone.build(
        load_builtin("kernel-terminated", platform, conf["troubleshooter_notes"]).to_json_dict(),
        conf["html_baseurl"],
    )
    assert shipped.read_text() == expected
    page = (site.html / "diagnose.html").read_text()
    link = re.search(rf'<a [^>]*href="_static/{standalone.FILENAME}"[^>]*>', page)
    assert link is not None and f'download="{standalone.FILENAME}"' in link.group()


@pytest.mark.parametrize("start", ["curl -fsSLO", 'python3 -c "import urllib'])
def test_the_one_liner_downloads_and_runs(
    site: Any, server: str, tmp_path: Path, start: str
) -> None:
    if start.startswith("curl") and not shutil.which("curl"):
        pytest.skip("curl is not installed")
    page = (site.html / "diagnose.html").read_text()
    prompted = re.findall(r'<span class="gp">\$ </span>(.*?)\n', page)
    commands = [html.unescape(re.sub(r"<[^>]+>", "", line)) for line in prompted]
    [command] = [line for line in commands if line.startswith(start)]
    command = command.replace(SITE_URL, server)  # the local copy of the site
    done = subprocess.run(
        command + " --no-state",
        shell=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(("Confirmed: ", "Likely: ", "Guess: "))
    assert (tmp_path / standalone.FILENAME).exists()


def test_the_example_on_the_page_is_real_output(tmp_path: Path) -> None:
    page = (ROOT / "docs" / "diagnose.md").read_text()
    example = re.search(r"```text\n(.*?)```", page, re.DOTALL).group(1).splitlines()
    message = "Kernel last terminated by signal SIGKILL."  # as the page's first example runs it
    args = ["--no-state", "--root", str(FIXTURES / "cgroup-v1"), "--message", message]
    done = subprocess.run(
        [sys.executable, "-m", "troubleshooter", "diagnose", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    output = iter(done.stdout.splitlines())
    for line in example:  # every line of the example, in the same order
        assert line in output, line


# --- the page in a browser -------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_page_has_no_accessibility_violations(page: Any, server: str, scheme: str) -> None:
    axe = pytest.importorskip("axe_playwright_python.sync_playwright").Axe()
    page.emulate_media(color_scheme=scheme)
    page.goto(server + "diagnose.html")
    violations = axe.run(page).response["violations"]
    assert [v["id"] for v in violations] == []


@pytest.mark.browser
def test_the_download_link_saves_the_file(page: Any, page_log: Any, server: str, site: Any) -> None:
    page.goto(server + "diagnose.html")
    with page.expect_download() as download:
        page.get_by_role("link", name=f"Download {standalone.FILENAME}").click()
    saved = Path(download.value.path())
    assert download.value.suggested_filename == standalone.FILENAME
    assert saved.read_bytes() == (site.html / "_static" / standalone.FILENAME).read_bytes()
    assert page_log.console_errors == [] and page_log.page_errors == []


@pytest.mark.browser
def test_the_page_fits_a_phone_and_copies_the_one_liner(browser: Any, server: str) -> None:
    context = browser.new_context(
        viewport={"width": 360, "height": 740},
        is_mobile=True,
        permissions=["clipboard-read", "clipboard-write"],
    )
    try:
        phone = context.new_page()
        phone.goto(server + "diagnose.html")
        overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the page scrolls sideways by {overflow}px on a phone"
        block = phone.locator("div.highlight-console").first
        block.locator("button.copy-button").click()
        copied = phone.evaluate("navigator.clipboard.readText()").strip()
        assert copied.startswith("curl -fsSLO ") and copied.endswith(standalone.FILENAME)
    finally:
        context.close()
