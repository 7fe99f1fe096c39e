"""``run``: real scripts, notebooks and commands, run outside Jupyter and reported on.

The crashes that take a kernel down (segfault, stack overflow, OOM kill) are in
test_reproductions.py; these cover the ordinary endings and bad input.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from troubleshooter.runner import CELL_MARK, notebook_cells

ROOT = Path(__file__).resolve().parent.parent
MIB = 1024 * 1024


def run_command(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "troubleshooter", "run", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(cwd / "cache")},
        check=False,
        timeout=120,
    )


def run_json(*args: str, cwd: Path) -> tuple[dict[str, Any], str]:
    done = run_command("--json", *args, cwd=cwd)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), done.stderr


def notebook(path: Path, *cells: str) -> Path:
    path.write_text(
        json.dumps(
            {
                "cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# Notes"]}]
                + [
                    {
                        "cell_type": "code",
                        "metadata": {},
                        "outputs": [],
                        "execution_count": None,
                        "source": cell.splitlines(keepends=True),
                    }
                    for cell in cells
                ],
                "metadata": {},
                "nbformat": 4,
                "nbformat_minor": 5,
            }
        )
    )
    return path


def test_a_script_that_finishes_works_outside_jupyter(tmp_path: Path) -> None:
    script = tmp_path / "fine.py"
    script.write_text("import sys\nprint('hello from', sys.argv[1])\n")
    report, stderr = run_json(str(script), "there", cwd=tmp_path)
    assert report["run"]["exit_code"] == 0
    assert report["run"]["signal"] is None
    assert (report["cause"], report["outcome"]) == ("unknown", "works-outside-jupyter")
    assert "hello from there" in stderr  # with --json the code's output goes to stderr


def test_peak_memory_is_measured(tmp_path: Path) -> None:
    script = tmp_path / "big.py"
    script.write_text(
        "block = bytearray(200 * 1024 * 1024)\nblock[::4096] = b'x' * len(block[::4096])\n"
    )
    report, _ = run_json(str(script), cwd=tmp_path)
    assert 200 * MIB <= report["run"]["peak_rss"] < 400 * MIB
    assert report["run"]["limit"] > 0


def test_human_report_shows_the_code_output_then_the_run_and_the_verdict(tmp_path: Path) -> None:
    script = tmp_path / "fine.py"
    script.write_text("print('the code speaks first')\n")
    done = run_command(str(script), cwd=tmp_path)
    assert done.returncode == 0
    lines = done.stdout.splitlines()
    assert lines[0] == "the code speaks first"
    assert lines[1].startswith(f"Run: {script} exited with code 0 after ")
    assert "Guess: Not known yet. It works outside Jupyter but not in the notebook." in lines


def test_an_exception_is_not_a_kernel_death(tmp_path: Path) -> None:
    script = tmp_path / "fails.py"
    script.write_text("def load():\n    raise ValueError('bad row 7')\n\nload()\n")
    report, _ = run_json(str(script), cwd=tmp_path)
    assert report["run"]["exit_code"] == 1
    assert "ValueError: bad row 7" in report["run"]["traceback"]
    assert report["cause"] == "unknown"
    assert any("stopped with an error (exit code 1)" in line for line in report["evidence"])


def test_a_notebook_runs_its_cells_in_order_and_skips_magics(tmp_path: Path) -> None:
    (tmp_path / "helpers.py").write_text("START = 1\n")
    path = notebook(
        tmp_path / "analysis.ipynb",
        "%matplotlib inline\nimport os\nfrom helpers import START\ntotal = START\n"
        "!echo shell\nfiles = !ls\n",
        "%%time\nraise SystemExit('a cell magic never runs')\n",
        "total += 1\nprint('total', total, 'in', os.path.basename(os.getcwd()))\n",
    )
    report, stderr = run_json(str(path), cwd=ROOT)
    assert report["run"]["exit_code"] == 0
    # The cell marks travel on another stream and may land mid-line: read the output without them.
    output = re.sub(re.escape(CELL_MARK) + r"\d+\n", "", stderr)
    assert f"total 2 in {tmp_path.name}" in output  # one namespace, in the notebook's folder
    assert report["run"]["skipped"] == [
        "code cell 1, line 1: %matplotlib inline",
        "code cell 1, line 5: !echo shell",
        "code cell 1, line 6: files = !ls",
        "code cell 2: cell magic %%time (whole cell)",
    ]
    assert report["run"]["last_cell"] == 3


def test_a_notebook_traceback_names_the_cell(tmp_path: Path) -> None:
    path = notebook(tmp_path / "broken.ipynb", "x = 1\n", "y = 2\nx / 0\n")
    report, _ = run_json(str(path), cwd=tmp_path)
    assert report["run"]["last_cell"] == 2
    assert 'File "broken.ipynb [code cell 2]", line 2' in report["run"]["traceback"]
    assert "x / 0" in report["run"]["traceback"]  # the source line, from the notebook


def test_notebook_lines_keep_their_numbers() -> None:
    text = json.dumps(
        {"cells": [{"cell_type": "code", "source": ["if True:\n", "    %time f()\n", "y = 3"]}]}
    )
    [cell], skipped = notebook_cells(text, "n.ipynb")
    assert cell["source"] == "if True:\n    pass\ny = 3\n"
    assert skipped == ["code cell 1, line 2: %time f()"]


def test_a_command_after_the_double_dash(tmp_path: Path) -> None:
    report, _ = run_json("--", "sh", "-c", "echo out; exit 3", cwd=tmp_path)
    assert report["run"]["exit_code"] == 3
    assert report["run"]["command"] == ["sh", "-c", "echo out; exit 3"]


def test_a_command_stopped_by_sigterm(tmp_path: Path) -> None:
    report, _ = run_json("--", "sh", "-c", "kill -TERM $$", cwd=tmp_path)
    assert report["run"]["signal"] == "SIGTERM"
    assert report["run"]["returncode"] == -15


def test_faulthandler_is_on_for_commands_too(tmp_path: Path) -> None:
    code = "import os, sys; print(os.environ['PYTHONFAULTHANDLER'], sys.flags.dev_mode)"
    _, stderr = run_json("--", sys.executable, "-c", code, cwd=tmp_path)
    assert "1 False" in stderr


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["missing.py"], "run: 'missing.py' does not exist"),
        (["missing.ipynb"], "run: 'missing.ipynb' does not exist"),
        (["bad.ipynb"], "run: 'bad.ipynb' is not a notebook (not JSON"),
        (["--"], "run: nothing after '--'"),
        ([], "run: give a script (.py), a notebook (.ipynb), or -- and a command"),
        (["--", "no-such-command-here"], "run: 'no-such-command-here': no such command"),
    ],
)
def test_bad_input_names_the_culprit(tmp_path: Path, args: list[str], complaint: str) -> None:
    (tmp_path / "bad.ipynb").write_text("{ this is not json")
    done = run_command(*args, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith(complaint), done.stderr
    assert "Traceback" not in done.stderr
