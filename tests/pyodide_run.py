"""Run Python in the demos' Pyodide under Node.js, as the browser kernel would: for tests only.

``pyodide_run.mjs`` beside this file loads the Pyodide the site ships, installs the wheels it
is given (as ``%pip install`` does in the browser) and runs each cell in turn, printing what
they print.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

RUNNER = Path(__file__).with_name("pyodide_run.mjs")
TIMEOUT = 600


def run_in_pyodide(
    pyodide: Path, cells: str | list[str], wheels: tuple[Path, ...] = (), *, ipython: bool = False
) -> str:
    """What ``cells`` (one cell, or several in order) print when the demos' Pyodide runs them;
    with ``ipython``, in IPython, as the browser kernel runs a notebook's cells."""
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node was not found; the demos' Pyodide runs under Node.js")
    result = subprocess.run(
        [node, str(RUNNER), *(["--ipython"] if ipython else []), str(pyodide), *map(str, wheels)],
        input=json.dumps([cells] if isinstance(cells, str) else cells),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"Pyodide could not run the code:\n{result.stderr}")
    return result.stdout
