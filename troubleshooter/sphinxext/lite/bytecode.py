"""Precompile, inside Pyodide itself, the modules the browser kernel imports at start.

Pyodide's standard library and the kernel's wheels ship Python source, so every
start of the demo kernel compiles some 600 modules in WebAssembly: about three
seconds on a slow machine. This script runs in Pyodide under Node.js at build time
(``bytecode.mjs`` loads it), starts the kernel's Python side the way the browser
worker does, notes every module file that was imported, and rewrites the archives
so those modules are bytecode (``.pyc``, compiled by the same interpreter, so the
magic number matches) while every other module stays source. Archives keep their
names; the caller updates the sha256 in ``pyodide-lock.json``.

The functions here are plain Python and also run under CPython (the tests do so).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import marshal
import sys
import zipfile
from collections.abc import Iterable
from importlib.util import MAGIC_NUMBER
from pathlib import Path

STDLIB_PREFIX = f"/lib/python{sys.version_info[0]}{sys.version_info[1]}.zip/"
SITE_PREFIX = f"/lib/python{sys.version_info[0]}.{sys.version_info[1]}/site-packages/"
# Zip entries get a fixed date so that the same inputs give the same archive.
FIXED_DATE = (1980, 1, 1, 0, 0, 0)


def bytecode(source: bytes, filename: str) -> bytes:
    """The ``.pyc`` bytes for ``source``; ``filename`` is what tracebacks will show."""
    code = compile(source, filename, "exec", dont_inherit=True)
    # The header: magic number, flags 0 (a timestamp pyc), then mtime and source size, both 0;
    # a source-less .pyc is loaded without any check against a source file.
    return MAGIC_NUMBER + bytes(12) + marshal.dumps(code)


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode()


def _rewrite_record(record: bytes, renamed: dict[str, bytes]) -> bytes:
    """A wheel's RECORD with each compiled ``x.py`` line replaced by its ``x.pyc``."""
    rows = []
    for row in csv.reader(io.StringIO(record.decode())):
        if row and row[0] in renamed:
            data = renamed[row[0]]
            row = [row[0] + "c", _record_hash(data), str(len(data))]
        rows.append(row)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode()


def compile_archive(
    source: Path, target: Path, prefix: str, imported: set[str], *, is_wheel: bool
) -> int:
    """Copy the zip ``source`` to ``target``, with the modules in ``imported`` compiled.

    ``prefix`` + an entry's name is where that file lives once Pyodide installs it;
    ``imported`` holds such paths. Returns how many modules were compiled.
    """
    compiled: dict[str, bytes] = {}
    with zipfile.ZipFile(source) as archive:
        entries = [(info.filename, archive.read(info)) for info in archive.infolist()]
    for name, data in entries:
        if name.endswith(".py") and prefix + name in imported:
            try:
                compiled[name] = bytecode(data, prefix + name)
            except SyntaxError:
                continue  # left as source; Python will report it where it matters
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in entries:
            if name in compiled:
                name, data = name + "c", compiled[name]
            elif is_wheel and name.endswith(".dist-info/RECORD"):
                data = _rewrite_record(data, compiled)
            if name.endswith("/"):
                continue
            archive.writestr(
                zipfile.ZipInfo(name, date_time=FIXED_DATE), data, zipfile.ZIP_DEFLATED
            )
    return len(compiled)


def imported_files() -> set[str]:
    """The source files of every module imported so far."""
    files = set()
    for module in list(sys.modules.values()):
        name = getattr(module, "__file__", None)
        if isinstance(name, str) and name.endswith(".py"):
            files.add(name)
    return files


def compile_all(dist: Path, out: Path, wheels: Iterable[str]) -> dict[str, int]:
    """Write compiled copies of the standard library and ``wheels`` from ``dist`` to ``out``."""
    imported = imported_files()
    counts = {
        "python_stdlib.zip": compile_archive(
            dist / "python_stdlib.zip",
            out / "python_stdlib.zip",
            STDLIB_PREFIX,
            imported,
            is_wheel=False,
        )
    }
    for wheel in wheels:
        counts[wheel] = compile_archive(
            dist / wheel, out / wheel, SITE_PREFIX, imported, is_wheel=True
        )
    return counts


def start_kernel() -> None:
    """Import what the browser kernel imports before it runs the first cell."""
    # Both exist only inside the demos' Pyodide.
    import piplite.piplite  # type: ignore[import-not-found]  # noqa: F401  (the worker imports it first)
    import pyodide_kernel  # type: ignore[import-not-found]  # noqa: F401  (builds the IPython shell)


if __name__ == "__main__":
    # Run by bytecode.mjs, which sets DIST, OUT and WHEELS in this module's globals.
    start_kernel()
    print(compile_all(Path(DIST), Path(OUT), WHEELS))  # type: ignore[name-defined]  # noqa: F821
