"""The diagnostics notebook (docs/demos/diagnostics.ipynb) in both places it runs.

In the demos' Pyodide, run in IPython as the browser kernel runs it, it reads the sample files;
in a real ipykernel, run by nbclient, it reads this machine, through the package or, where the
package cannot be imported, through the single-file diagnose saved beside it.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
import pytest
from pyodide_run import run_in_pyodide

from troubleshooter import standalone
from troubleshooter.cgroup import read_memory_cgroup
from troubleshooter.sphinxext import lite

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "docs" / "demos" / "diagnostics.ipynb"
CACHE = lite.default_cache(ROOT)
GROWTH = re.compile(r"\[memory\] this cell: ([+-][\d,.]+) MiB")
HAS_NODE = bool(shutil.which("npm") and shutil.which("node"))


def code_cells() -> list[str]:
    return [
        cell.source
        for cell in nbformat.read(NOTEBOOK, as_version=4).cells
        if cell.cell_type == "code"
    ]


def _growth(text: str) -> list[float]:
    return [float(value.replace(",", "")) for value in GROWTH.findall(text)]


def test_the_notebook_is_short_and_valid():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    assert len(notebook.cells) <= 14
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")
    assert notebook.metadata.kernelspec.name == "python3"


@pytest.fixture(scope="module")
def pyodide_dir() -> Path:
    try:
        return lite.ensure_pyodide(CACHE)
    except lite.LiteUnavailable as error:
        if HAS_NODE:
            pytest.fail(f"npm and node are here, yet Pyodide could not be assembled: {error}")
        pytest.skip(f"the demos' Pyodide cannot be built here: {error}")


def test_in_the_browser_python_it_reads_the_sample_files(pyodide_dir):
    printed = run_in_pyodide(pyodide_dir, code_cells(), (lite.project_wheel(CACHE),), ipython=True)
    assert "Reading sample files (this is the browser)" in printed
    assert "in use now:     1,536 MiB" in printed
    assert "highest so far: 2,048 MiB" in printed
    assert "limit:          2,048 MiB" in printed
    assert "OOM kills:      1" in printed
    assert "this kernel now: 590 MiB, at most: 891 MiB" in printed
    allocated = _growth(printed)[-2]  # the cell that makes 50 chunks of a million bytes
    assert 45 <= allocated <= 52, printed


def _run_in_ipykernel(folder: Path) -> str:
    nbclient = pytest.importorskip("nbclient")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    ).execute()
    return "\n".join(
        output.get("text", "")
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream"
    )


def _expected_machine_lines() -> list[str]:
    """What the notebook should print about this machine's memory cgroup, read the same way."""
    memory = read_memory_cgroup()

    def size(value: object) -> str:
        if isinstance(value, int):
            return f"{value / 2**20:,.0f} MiB"
        return "unknown" if value is None else str(value)

    kills = memory["oom_kills"]
    return [
        f"cgroup version: {memory['version'] or 'none found'}",
        f"limit:          {size(memory['limit'])}",
        f"OOM kills:      {'unknown' if kills is None else kills}",
    ]


def _check_real_run(printed: str) -> None:
    assert "Reading this machine" in printed
    for line in _expected_machine_lines():
        assert line in printed
    assert re.search(r"this kernel now: [\d,]+ MiB, at most: [\d,]+ MiB", printed), printed
    allocated = _growth(printed)[-2]
    assert 40 <= allocated <= 60, printed  # 50 MB written, so resident


def test_in_a_real_kernel_it_reads_this_machine_through_the_package(tmp_path):
    _check_real_run(_run_in_ipykernel(tmp_path))


def test_without_the_package_it_reads_this_machine_through_the_single_file(tmp_path):
    # The kernel starts in the notebook's folder, first on its path: this package there
    # fails to import, as it does where the package is not installed.
    (tmp_path / "troubleshooter").mkdir()
    (tmp_path / "troubleshooter" / "__init__.py").write_text("raise ImportError('not here')\n")
    (tmp_path / standalone.FILENAME).write_text(standalone.build(), "utf-8")
    printed = _run_in_ipykernel(tmp_path)
    _check_real_run(printed)


def test_without_package_or_file_it_says_what_to_fetch(tmp_path):
    (tmp_path / "troubleshooter").mkdir()
    (tmp_path / "troubleshooter" / "__init__.py").write_text("raise ImportError('not here')\n")
    nbclient = pytest.importorskip("nbclient")
    with pytest.raises(
        nbclient.exceptions.CellExecutionError, match=r"troubleshooter-diagnose\.py"
    ):
        _run_in_ipykernel(tmp_path)
