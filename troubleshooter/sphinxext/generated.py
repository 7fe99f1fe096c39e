"""Files the build generates after its pages, made again only when what goes into them changed.

A no-op rebuild writes no page, yet ``build-finished`` handlers run every time. So that they
cost nothing then, a generated file goes through two helpers:

- :func:`made_once`: the bytes ``make()`` returns, kept in the doctree folder (beside Sphinx's
  own pickles, so a clean build starts afresh) under a digest of everything that goes in;
  ``make`` runs only when that digest is new. The digest must cover every input: a missed one
  is a stale file.
- :func:`write_if_changed`: leaves a file alone when it already holds those bytes, so its
  modification time (and a web server's ETag, an rsync) says when it really changed.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from .lite.cache import digest, file_parts

if TYPE_CHECKING:
    from sphinx.application import Sphinx

FOLDER = "troubleshooter-generated"
PACKAGE = Path(__file__).resolve().parent.parent


def package_parts() -> list[bytes]:
    """Every top-level file of the package, its modules and its data (the trees aside): in
    a digest, what stands for the package's code and data, for what is made from them."""
    return file_parts(sorted(path for path in PACKAGE.iterdir() if path.is_file()), PACKAGE)


def write_if_changed(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` unless it holds exactly that; True if written."""
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except OSError:  # not there yet
        path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return True


def made_once(app: Sphinx, slot: str, inputs: Iterable[bytes], make: Callable[[], bytes]) -> bytes:
    """``make()``, or what it returned last time ``slot`` had the same ``inputs``.

    One entry per slot is kept (``<doctreedir>/troubleshooter-generated/<slot>/<digest>``);
    a new digest replaces the old entry.
    """
    folder = Path(app.doctreedir) / FOLDER / slot.replace("/", "_")
    entry = folder / digest(slot.encode(), *inputs)
    try:
        return entry.read_bytes()
    except OSError:
        pass
    data = make()
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    scratch = entry.with_name(entry.name + ".tmp")
    scratch.write_bytes(data)
    os.replace(scratch, entry)  # whole or not at all, should the build be stopped here
    return data
