"""Sphinx build times: clean build, no-op rebuild, and rebuild after editing one page.

The timed builds run on a copy of the working tree in a temporary folder, so the edits never
touch the repository's own files.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EDITED_PAGE = Path("docs/howto/jupyter-kernel-terminated.md")
# Never copied: build output, caches (the JupyterLite cache is shared instead), environments.
SKIP = {".git", ".nox", ".cache", "_build", "node_modules", "out", "__pycache__", ".pytest_cache"}


def sphinx_build(confdir: Path, out: Path, *, strict: bool = False) -> tuple[float, list[str]]:
    """Build ``confdir/docs`` into ``out``; return the wall time and the warning lines.

    Every build shares the repository's JupyterLite cache (``.cache/lite``), so a copy of the
    tree times a clean Sphinx build, not a fresh download of Pyodide and its wheels.
    """
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-n", "--keep-going", "-q"]
    if strict:
        command.append("-W")
    command += ["-c", str(confdir), str(confdir / "docs"), str(out)]
    # Byte code is written and reused, as in a writer's checkout (this machine sets
    # PYTHONDONTWRITEBYTECODE, which had every build of the copy compile the package anew).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.setdefault("TROUBLESHOOTER_LITE_CACHE", str(ROOT / ".cache" / "lite"))
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    warnings = [line for line in result.stderr.splitlines() if "WARNING" in line or "ERROR" in line]
    if result.returncode != 0 and not warnings:
        warnings = result.stderr.strip().splitlines()[-5:] or [f"exit code {result.returncode}"]
    if result.returncode != 0 and not (out / "index.html").exists():
        raise RuntimeError("sphinx-build failed: " + " / ".join(warnings[-3:]))
    return elapsed, warnings


def _tree_files(root: Path) -> list[Path]:
    """The files a clone would have plus uncommitted new ones (what git does not ignore)."""
    result = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=root,
        capture_output=True,
        check=False,
    )
    if result.returncode == 0:
        names = [Path(name) for name in result.stdout.decode().split("\0") if name]
    else:
        names = [path.relative_to(root) for path in root.rglob("*") if path.is_file()]
    return [name for name in names if not SKIP.intersection(name.parts)]


@contextmanager
def working_copy(root: Path = ROOT) -> Iterator[Path]:
    """A throwaway copy of the working tree."""
    with tempfile.TemporaryDirectory(prefix="bench-docs-") as tmp:
        copy = Path(tmp) / "site"
        for name in _tree_files(root):
            source = root / name
            if source.is_file():
                target = copy / name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)
        yield copy


def measure(runs: int, progress=print) -> dict[str, object]:
    """Median seconds of each kind of build over ``runs`` runs, on a copy of the tree."""
    with working_copy() as copy:
        out = copy / "_build" / "html"
        clean, noop, edit = [], [], []
        for index in range(runs):
            shutil.rmtree(copy / "_build", ignore_errors=True)
            clean.append(sphinx_build(copy, out)[0])
            progress(f"clean build {index + 1}/{runs}: {clean[-1]:.2f} s")
        for index in range(runs):
            noop.append(sphinx_build(copy, out)[0])
            progress(f"no-op rebuild {index + 1}/{runs}: {noop[-1]:.2f} s")
        page = copy / EDITED_PAGE
        for index in range(runs):
            with page.open("a") as handle:
                handle.write(f"\n\nA sentence added by the benchmark, edit {index + 1}.\n")
            edit.append(sphinx_build(copy, out)[0])
            progress(f"one-page-edit rebuild {index + 1}/{runs}: {edit[-1]:.2f} s")
    return {
        "runs": runs,
        "edited_page": str(EDITED_PAGE),
        "clean_s": statistics.median(clean),
        "noop_s": statistics.median(noop),
        "edit_s": statistics.median(edit),
        "samples": {"clean": clean, "noop": noop, "edit": edit},
    }
