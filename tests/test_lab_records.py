"""The crash lab's records: complete, on the lab page, linked from the guide, read back right.

The records (docs/lab/<cause>.json, written by ``nox -s lab``) are what real
deaths looked like. What a user was shown in each run, pasted into ``diagnose
--message`` on a machine with no evidence (an empty ``--root``), must name the
cause the lab made happen; the banner must read back to the exit status the
server's kernel manager saw. A broken record stops the docs build naming the file
and the field.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from troubleshooter.causes import CAUSES
from troubleshooter.messages import death_in
from troubleshooter.signals import SIGNALS

ROOT = Path(__file__).resolve().parent.parent
RECORDS = ROOT / "docs" / "lab"
GUIDE = ROOT / "docs" / "howto" / "jupyter-kernel-terminated.md"
# Every cause a kernel dies of; "disconnected" is the kernel still alive behind a dropped
# connection, so the lab, which reproduces deaths, has no run of it.
LAB_CAUSES = [cause for cause in CAUSES if cause not in ("unknown", "disconnected")]

# Runs whose shown text cannot name the cause, whoever reads it: say why.
_SIGSEGV_ONLY = (
    "the user saw only SIGSEGV and the restart dialog: faulthandler's traceback went nowhere "
    "visible, so the text is that of any native crash (the companion's post-mortem tells)"
)
UNREADABLE = {
    ("stack-overflow", "C stack overflow"): _SIGSEGV_ONLY,
    ("stack-overflow", "C stack overflow, companion loaded"): _SIGSEGV_ONLY,
}


def _extension() -> Any:
    spec = importlib.util.spec_from_file_location(
        "lab_records", ROOT / "docs" / "_ext" / "lab_records.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


lab_records = _extension()


# Runs the reader gets wrong though the text tells (strict: remove an entry once it reads right).
MISREAD: dict[tuple[str, str], str] = {}


def _runs(unreadable: bool = False) -> list[Any]:
    """Every run of every record; with ``unreadable``, the runs of UNREADABLE marked xfail."""
    found = []
    for cause in LAB_CAUSES:
        path = RECORDS / f"{cause}.json"
        if not path.exists():
            continue
        for run in json.loads(path.read_text())["runs"]:
            marks = ()
            if unreadable and (cause, run["name"]) in UNREADABLE:
                marks = pytest.mark.xfail(reason=UNREADABLE[cause, run["name"]], strict=True)
            elif unreadable and (cause, run["name"]) in MISREAD:
                marks = pytest.mark.xfail(reason=MISREAD[cause, run["name"]], strict=True)
            found.append(pytest.param(cause, run, id=f"{cause}/{run['name']}", marks=marks))
    return found


@pytest.mark.parametrize("cause", LAB_CAUSES)
def test_every_cause_has_a_valid_record(cause: str) -> None:
    record = lab_records.load_record(RECORDS / f"{cause}.json", cause)
    assert record["runs"] or record["not_reproduced"]


def _shown_text(run: dict[str, Any]) -> str:
    shown = run["shown"]
    parts = [*shown["front_end"], shown["cocalc"], shown["reason"], *shown["stderr"]]
    return "\n".join(part for part in [*parts, *shown["output"]] if part)


@pytest.mark.parametrize(("cause", "run"), _runs(unreadable=True))
def test_what_the_user_saw_reads_back_to_the_cause(
    cause: str, run: dict[str, Any], tmp_path: Path
) -> None:
    text = _shown_text(run)
    assert text, "the record shows nothing"
    done = subprocess.run(
        [sys.executable, "-m", "troubleshooter", "diagnose", "--json", "--no-state",
         "--root", str(tmp_path), "--message", text],
        capture_output=True, text=True, cwd=ROOT, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    verdict = json.loads(done.stdout)
    assert verdict["cause"] == cause, f"{text!r} read as {verdict['cause']}: {verdict['evidence']}"


@pytest.mark.parametrize(("cause", "run"), _runs())
def test_the_banner_reads_back_to_the_exit_status(cause: str, run: dict[str, Any]) -> None:
    status, banner = run["exit_status"], run["shown"]["cocalc"]
    if status is None:
        assert banner is None
        return
    death = death_in(banner)
    if status < 0:
        assert death.signal is not None and SIGNALS[death.signal] == -status
    else:
        assert death.exit_code == status


def test_each_cause_section_of_the_guide_links_to_its_real_run() -> None:
    source = GUIDE.read_text()
    for cause in LAB_CAUSES:
        after = source.split(f"\n({CAUSES[cause].label})=\n", 1)[1]
        section = re.split(r"^\([a-z-]+\)=$", after, maxsplit=1, flags=re.MULTILINE)[0]
        assert f"<lab-{cause}>`" in section, cause


def test_the_lab_page_has_a_collapsed_real_run_per_cause(site: Any) -> None:
    html = (site.html / "lab.html").read_text()
    assert html.count(lab_records.TITLE) == len(LAB_CAUSES)
    assert html.count("<details") >= len(LAB_CAUSES)
    assert " open" not in html.split(lab_records.TITLE, 1)[0].rsplit("<details", 1)[1]
    assert "Kernel last terminated by signal SIGKILL." in html
    guide = (site.html / "howto" / "jupyter-kernel-terminated.html").read_text()
    for cause in LAB_CAUSES:
        assert f'href="../lab.html#lab-{cause}"' in guide, cause


def test_a_missing_record_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(lab_records.RecordError, match=r"disk-full\.json: file: missing"):
        lab_records.load_record(tmp_path / "disk-full.json", "disk-full")


def test_a_broken_record_names_the_file_and_the_field(tmp_path: Path) -> None:
    record = json.loads((RECORDS / "native-crash.json").read_text())
    del record["runs"][0]["shown"]["front_end"]
    path = tmp_path / "native-crash.json"
    path.write_text(json.dumps(record))
    with pytest.raises(
        lab_records.RecordError, match=r"native-crash\.json: runs\[0\]\.shown\.front_end: should be"
    ):
        lab_records.load_record(path, "native-crash")
