"""The cache every assembly step writes into, keyed by its inputs, and the tools it runs.

A cache folder (``.cache/lite`` beside ``conf.py``, or ``$TROUBLESHOOTER_LITE_CACHE``) holds::

    downloads/        the npm tarball and the wheels, kept across versions
    pyodide-<key>/    Pyodide with the kernel's wheels, precompiled (pyodide.py)
    site-<key>/       the output of ``jupyter lite build`` (site.py)
    wheel-<key>/      this project's wheel, keyed by its sources

Each ``<key>`` is a digest of everything that goes in, so a folder that exists is up to date.
A folder appears whole or not at all (``building``), one process at a time (``locked``).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

COMMAND_TIMEOUT = 900
PROJECT_ROOT = Path(__file__).resolve().parents[3]
PROJECT_SOURCES = ("pyproject.toml", "README.md", "troubleshooter")

Log = Callable[[str], None]


class LiteUnavailable(Exception):
    """The demos cannot be built here; the message says why, for the reader of the build log."""


def quiet(message: str) -> None:
    pass


def default_cache(confdir: Path) -> Path:
    """Where downloads and assembled builds are kept."""
    return Path(os.environ.get("TROUBLESHOOTER_LITE_CACHE") or confdir / ".cache" / "lite")


def digest(*parts: bytes) -> str:
    """A short key for ``parts``; no two different sequences of parts give the same bytes."""
    hashed = hashlib.sha256()
    for part in parts:
        hashed.update(len(part).to_bytes(8, "little"))
        hashed.update(part)
    return hashed.hexdigest()[:16]


def file_parts(paths: Iterable[Path], root: Path) -> list[bytes]:
    """Each file under ``paths`` (files or folders): its name relative to ``root``, its bytes."""
    parts: list[bytes] = []
    for path in paths:
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for file in files:
            if "__pycache__" in file.parts:
                continue
            name = file.relative_to(root) if file.is_relative_to(root) else file
            parts += [name.as_posix().encode(), file.read_bytes()]
    return parts


def run(command: list[str], what: str, cwd: Path | None = None) -> str:
    """Run ``command``; a failure becomes LiteUnavailable with the last lines it printed."""
    try:
        result = subprocess.run(
            command,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise LiteUnavailable(f"{what} failed: {error}") from None
    if result.returncode != 0:
        tail = " / ".join((result.stderr or result.stdout).strip().splitlines()[-4:])
        raise LiteUnavailable(f"{what} failed (exit code {result.returncode}): {tail}")
    return result.stdout


def tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise LiteUnavailable(f"{name} was not found; install Node.js and npm to build the demos")
    return found


@contextlib.contextmanager
def locked(cache: Path) -> Iterator[None]:
    """One assembly at a time per cache, across processes (test sessions, benches)."""
    cache.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # Windows: builds may race; each still writes its own folder
        yield
        return
    with open(cache / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def cached(final: Path, make: Callable[[Path], None], keep: int) -> Path:
    """``final``, made by ``make(scratch)`` unless it exists; older siblings beyond ``keep`` go."""
    if final.exists():
        return final
    with locked(final.parent):
        if final.exists():
            return final
        scratch = Path(tempfile.mkdtemp(prefix="tmp-", dir=final.parent))
        try:
            make(scratch)
            os.replace(scratch, final)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        prefix = final.name.rsplit("-", 1)[0]
        siblings = sorted(final.parent.glob(f"{prefix}-*"), key=lambda p: p.stat().st_mtime)
        for old in siblings[:-keep]:
            shutil.rmtree(old, ignore_errors=True)
    return final


def project_key(root: Path) -> str:
    """Changes whenever a file that goes into this project's wheel changes."""
    return digest(
        *file_parts([root / name for name in PROJECT_SOURCES if (root / name).exists()], root)
    )


def project_wheel(cache: Path, root: Path = PROJECT_ROOT, log: Log = quiet) -> Path:
    """This project's wheel, built with pip only if its sources changed."""
    if not (root / "pyproject.toml").exists():
        raise LiteUnavailable(
            f"no pyproject.toml in {root}: the troubleshooter wheel needs the sources"
        )

    def make(scratch: Path) -> None:
        log("building the troubleshooter wheel with pip")
        pip = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet"]
        run([*pip, "--wheel-dir", str(scratch), str(root)], "pip wheel of this project")
        for wheel in scratch.glob("*.whl"):
            wheel.chmod(0o644)  # pip leaves 0600; web servers need to read it

    final = cached(cache / f"wheel-{project_key(root)}", make, keep=3)
    wheels = list(final.glob("*.whl"))
    if len(wheels) != 1:
        raise LiteUnavailable(f"{final} should hold exactly one wheel")
    return wheels[0]
