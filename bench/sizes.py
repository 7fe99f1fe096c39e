"""Sizes of files on disk, raw and gzip-compressed."""

from __future__ import annotations

import gzip
from pathlib import Path

GZIP_LEVEL = 6  # what static hosts typically use; -9 would flatter the figure slightly


def gzipped(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=GZIP_LEVEL, mtime=0))


def wizard_assets(static: Path) -> dict[str, dict[str, int]]:
    """The wizard's own JS and CSS files (``wizard*.js``, ``wizard*.css``): raw and gzipped bytes.

    Each file is compressed on its own, as a browser fetches it.
    """
    files = sorted(
        path
        for pattern in ("wizard*.js", "wizard*.css")
        for path in static.glob(pattern)
        if path.is_file() and not path.name.endswith(".map")
    )
    return {path.name: {"bytes": path.stat().st_size, "gzip": gzipped(path)} for path in files}
