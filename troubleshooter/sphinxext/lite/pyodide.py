"""Pyodide for the demos, from the package registries only, so that no reader's browser asks
another host for it.

- Pyodide's core comes from ``npm pack pyodide@VERSION``, at the version the Pyodide kernel pins;
- the pure-Python wheels the kernel needs come from ``pip download --only-binary=:all:
  --no-deps``, at the versions Pyodide's own lock names (a newer IPython, which starts faster,
  is the one exception); the lock is cut down to them and its ``file_name`` and ``sha256``
  rewritten for the files shipped;
- what only IPython's terminal uses stays in the lock but out of the kernel's start;
- the wheels bundled with the kernel extension (piplite, pyodide-kernel, an ipykernel shim) join
  the lock, so that Pyodide loads every kernel package at once while it starts, instead of one
  after the other;
- the modules the kernel imports at start are precompiled inside Pyodide under Node.js
  (``bytecode.py``).

``ensure_pyodide`` returns the assembled folder from the cache (``cache.py``), built only when
an input changed. ``site.py`` puts it where JupyterLite looks for a local Pyodide.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
import tarfile
import tempfile
import time
import zipfile
from importlib import metadata
from pathlib import Path
from typing import Any

from ...evidence import _normalise as normalise
from .cache import LiteUnavailable, Log, cached, digest, quiet, run, tool

HERE = Path(__file__).resolve().parent
RECIPE = 2
"""Raised whenever the assembly changes in a way the other inputs do not show."""

MODES = ("local", "cdn")
PYODIDE_FILES = ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip")
PYODIDE_LOCK = "pyodide-lock.json"
KERNEL_EXTENSION = "@jupyterlite/pyodide-kernel-extension"
KERNEL_PLUGIN = f"{KERNEL_EXTENSION}:kernel"
# What the kernel needs from Pyodide's lock, with their dependencies.
LOCK_ROOTS = ("micropip", "ipython")
# The kernel installs jedi at start, unasked, for tab completion: 1.7 MB and half a second
# that no demo uses (IPython completes names without it). A placeholder distribution with
# no modules stands in for it, so the install is skipped and `import jedi` fails cleanly.
PLACEHOLDERS = ("jedi",)
PLACEHOLDER_VERSION = "0+omitted"
# Wheels bundled with the kernel extension that the kernel installs at start.
BUNDLED_WHEELS = ("piplite", "pyodide-kernel", "ipykernel")
# Not in Pyodide's lock and not bundled: fetched from the package index.
EXTRA_WHEELS = {"comm": "0.2.3"}
# Newer than Pyodide's lock, from the package index. IPython 9.12 imports its terminal with
# `import IPython` (prompt_toolkit and its own terminal code: some 130 modules, 0.4 s at each
# kernel start); from 9.16 on it does so only when a terminal is asked for. Their requirements
# come from the wheels' own metadata.
NEWER_WHEELS = {"ipython": "9.18.1", "ipython-pygments-lexers": "1.1.1"}
# In the lock, so that a cell importing them gets them, but not loaded at kernel start: only
# IPython's terminal needs them, and a kernel never starts one.
NOT_AT_START = ("prompt-toolkit", "wcwidth")
# Loaded by Pyodide while it starts; the kernel then skips installing each in turn.
PRELOAD = ("micropip", "piplite", "ipykernel", "comm", "pyodide-kernel", "ipython", "jedi")
CODE = ("pyodide.py", "bytecode.py", "bytecode.mjs")


def version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        raise LiteUnavailable(
            f"{distribution} is not installed (it is in the `lite` dependency group)"
        ) from None


def pyodide_version() -> str:
    """The Pyodide version the installed kernel was made for."""
    version("jupyterlite-pyodide-kernel")
    from jupyterlite_pyodide_kernel.constants import PYODIDE_VERSION

    return str(PYODIDE_VERSION)


def kernel_settings(mode: str) -> dict[str, Any]:
    """The Pyodide kernel's settings for ``mode``: offline, or the kernel's CDN default."""
    if mode == "cdn":
        return {}
    return {"disablePyPIFallback": True, "loadPyodideOptions": {"packages": list(PRELOAD)}}


def pyodide_key() -> str:
    """Changes whenever anything that goes into the assembled Pyodide changes."""
    recipe = {
        "recipe": RECIPE,
        "jupyterlite-pyodide-kernel": version("jupyterlite-pyodide-kernel"),
        "pyodide": pyodide_version(),
        "extra": EXTRA_WHEELS,
        "newer": NEWER_WHEELS,
        "not_at_start": NOT_AT_START,
        "preload": PRELOAD,
        "placeholders": PLACEHOLDERS,
    }
    code = [(HERE / name).read_bytes() for name in CODE]
    return digest(json.dumps(recipe, sort_keys=True).encode(), *code)


def ensure_pyodide(cache: Path, log: Log = quiet) -> Path:
    """The assembled Pyodide folder, built only if its inputs changed."""

    def make(scratch: Path) -> None:
        started = time.monotonic()
        target = scratch / "dist"
        stage_pyodide(target, cache / "downloads", log)
        precompile(target, log)
        for path in target.iterdir():
            os.replace(path, scratch / path.name)
        target.rmdir()
        log(f"Pyodide assembled in {time.monotonic() - started:.0f} s")

    return cached(cache / f"pyodide-{pyodide_key()}", make, keep=2)


def _wheel_name(filename: str) -> str:
    return normalise(filename.split("-", 1)[0])


def lock_name(name: str) -> str:
    """How Pyodide's lock spells a package's name: lower case, words joined by "-"."""
    return normalise(name).replace("_", "-")


def fetch_pyodide(version: str, downloads: Path, log: Log) -> Path:
    """The npm ``pyodide`` package at ``version``, as a tarball in ``downloads``."""
    tarball = downloads / f"pyodide-{version}.tgz"
    if tarball.exists():
        return tarball
    npm = tool("npm")
    log(f"fetching pyodide@{version} with npm")
    downloads.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=downloads) as scratch:
        run(
            [npm, "pack", f"pyodide@{version}", "--pack-destination", scratch, "--silent"],
            f"npm pack pyodide@{version}",
        )
        packed = list(Path(scratch).glob("pyodide-*.tgz"))
        if len(packed) != 1:
            raise LiteUnavailable(f"npm pack pyodide@{version} did not leave one tarball")
        os.replace(packed[0], tarball)
    return tarball


def fetch_wheels(pins: dict[str, str], downloads: Path, python: str, log: Log) -> dict[str, Path]:
    """Pure-Python wheels for ``pins`` (name -> version), downloading the missing ones."""
    wheels_dir = downloads / "wheels"
    wheels_dir.mkdir(parents=True, exist_ok=True)

    def present() -> dict[str, Path]:
        found = {}
        for wheel in wheels_dir.glob("*-none-any.whl"):
            name, version = _wheel_name(wheel.name), wheel.name.split("-")[1]
            if pins.get(name) == version:
                found[name] = wheel
        return found

    missing = sorted(set(pins) - set(present()))
    if missing:
        log(f"fetching {len(missing)} wheels with pip")
        with tempfile.TemporaryDirectory(dir=downloads) as scratch:
            run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "--only-binary=:all:",
                    "--no-deps",
                    "--python-version",
                    python,
                    "--quiet",
                    "--dest",
                    scratch,
                    *(f"{name}=={pins[name]}" for name in missing),
                ],
                "pip download of the kernel's wheels",
            )
            for wheel in Path(scratch).glob("*.whl"):
                os.replace(wheel, wheels_dir / wheel.name)
    found = present()
    if set(found) != set(pins):
        raise LiteUnavailable(f"no pure-Python wheel for {sorted(set(pins) - set(found))}")
    return found


# --- the Pyodide distribution ------------------------------------------------------------


def lock_closure(
    lock: dict[str, Any], roots: tuple[str, ...], leave_out: tuple[str, ...] = ()
) -> list[str]:
    """``roots`` and everything they depend on in a Pyodide lock, by normalized name, but
    for what ``leave_out`` names."""
    packages = {normalise(name): entry for name, entry in lock["packages"].items()}
    seen: list[str] = []
    pending = [normalise(root) for root in roots]
    left_out = {normalise(name) for name in leave_out}
    while pending:
        name = pending.pop()
        if name in seen or name in left_out:
            continue
        if name not in packages:
            raise LiteUnavailable(f"Pyodide's lock has no package {name!r}")
        seen.append(name)
        pending += [normalise(dep) for dep in packages[name]["depends"]]
    return sorted(seen)


def _requires(wheel: Path) -> list[str]:
    """The unconditional requirements of a wheel, by normalized name."""
    with zipfile.ZipFile(wheel) as archive:
        meta = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        text = archive.read(meta).decode()
    names = []
    for line in text.splitlines():
        if line.startswith("Requires-Dist:") and ";" not in line:
            name = re.match(r"[\w.-]+", line.split(":", 1)[1].strip())
            if name:
                names.append(normalise(name[0]))
    return names


def _lock_entry(
    wheel: Path, *, base: dict[str, Any] | None = None, imports: list[str] | None = None
) -> dict[str, Any]:
    entry = (
        dict(base)
        if base
        else {
            "name": lock_name(_wheel_name(wheel.name)),
            "version": wheel.name.split("-")[1],
            "install_dir": "site",
            "package_type": "package",
            "unvendored_tests": False,
            "depends": _requires(wheel),
            "imports": imports or [],
        }
    )
    entry["file_name"] = wheel.name
    entry["sha256"] = hashlib.sha256(wheel.read_bytes()).hexdigest()
    return entry


def placeholder_wheel(name: str, directory: Path) -> Path:
    """A wheel that installs no module, only the metadata saying ``name`` is installed."""
    dist_info = f"{name}-{PLACEHOLDER_VERSION}.dist-info"
    files = {
        f"{dist_info}/METADATA": (
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {PLACEHOLDER_VERSION}\n"
            "Summary: Placeholder: left out of the demo kernel, which does not use it.\n"
        ),
        f"{dist_info}/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: troubleshooter\nRoot-Is-Purelib: true\n"
            "Tag: py3-none-any\n"
        ),
    }
    record = [*files, f"{dist_info}/RECORD"]
    files[f"{dist_info}/RECORD"] = "".join(f"{path},,\n" for path in record)
    wheel = directory / f"{name}-{PLACEHOLDER_VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, text in files.items():
            archive.writestr(zipfile.ZipInfo(path, date_time=(1980, 1, 1, 0, 0, 0)), text)
    return wheel


def kernel_extension_dir() -> Path:
    """The installed Pyodide kernel labextension."""
    from jupyter_core.paths import jupyter_path

    for root in jupyter_path("labextensions"):
        candidate = Path(root) / KERNEL_EXTENSION
        if (candidate / "package.json").exists():
            return candidate
    raise LiteUnavailable(f"the {KERNEL_EXTENSION} labextension was not found")


def stage_pyodide(target: Path, downloads: Path, log: Log) -> list[str]:
    """Put Pyodide, the kernel's wheels and a matching lock in ``target``; return the wheels."""
    version = pyodide_version()
    tarball = fetch_pyodide(version, downloads, log)
    target.mkdir(parents=True)
    with tarfile.open(tarball) as archive:
        for name in (*PYODIDE_FILES, PYODIDE_LOCK):
            member = archive.extractfile(f"package/{name}")
            if member is None:
                raise LiteUnavailable(f"the npm pyodide package has no {name}")
            (target / name).write_bytes(member.read())
    lock = json.loads((target / PYODIDE_LOCK).read_text("utf-8"))
    python = ".".join(lock["info"]["python"].split(".")[:2])
    newer = {normalise(name): pin for name, pin in NEWER_WHEELS.items()}
    for name, wheel in fetch_wheels(newer, downloads, python, log).items():
        entry = _lock_entry(wheel, base=lock["packages"].get(lock_name(name)), imports=[name])
        entry |= {"version": newer[name], "depends": [lock_name(d) for d in _requires(wheel)]}
        lock["packages"][lock_name(name)] = entry
    packages = {normalise(name): entry for name, entry in lock["packages"].items()}
    needed = lock_closure(lock, LOCK_ROOTS, leave_out=PLACEHOLDERS)
    extra = {normalise(name): pin for name, pin in EXTRA_WHEELS.items()}
    wheels = fetch_wheels(
        {name: packages[name]["version"] for name in needed} | extra, downloads, python, log
    )
    bundled_dir = kernel_extension_dir() / "static" / "pypi"
    bundled = {_wheel_name(w.name): w for w in bundled_dir.glob("*.whl")}
    missing = sorted(name for name in BUNDLED_WHEELS if normalise(name) not in bundled)
    if missing:
        raise LiteUnavailable(f"the kernel extension bundles no wheel for {missing}")
    files = {name: (wheels[name], packages[name]) for name in needed}
    files |= {name: (wheels[name], None) for name in extra}
    files |= {normalise(name): (bundled[normalise(name)], None) for name in BUNDLED_WHEELS}
    entries = {}
    for name, (wheel, base) in files.items():
        shutil.copyfile(wheel, target / wheel.name)
        entries[lock_name(name)] = _lock_entry(target / wheel.name, base=base, imports=[name])
    for name in PLACEHOLDERS:
        entries[lock_name(name)] = _lock_entry(placeholder_wheel(name, target))
    later = {normalise(name) for name in NOT_AT_START}
    for entry in entries.values():
        if normalise(entry["name"]) not in later:
            entry["depends"] = [dep for dep in entry["depends"] if normalise(dep) not in later]
    lock["packages"] = dict(sorted(entries.items()))
    (target / PYODIDE_LOCK).write_text(json.dumps(lock, indent=1), "utf-8")
    return [entry["file_name"] for entry in entries.values()]


def precompile(pyodide_dir: Path, log: Log) -> None:
    """Replace the stdlib and wheels in ``pyodide_dir`` by copies with start-up modules compiled."""
    node = tool("node")
    log("precompiling the kernel's start-up modules in Pyodide under Node.js")
    with tempfile.TemporaryDirectory(dir=pyodide_dir.parent) as scratch:
        run(
            [node, str(HERE / "bytecode.mjs"), str(pyodide_dir), scratch, ",".join(PRELOAD)],
            "precompiling in Pyodide",
        )
        for compiled in Path(scratch).iterdir():
            os.replace(compiled, pyodide_dir / compiled.name)
    lock_file = pyodide_dir / PYODIDE_LOCK
    lock = json.loads(lock_file.read_text("utf-8"))
    for entry in lock["packages"].values():
        entry["sha256"] = hashlib.sha256(
            (pyodide_dir / entry["file_name"]).read_bytes()
        ).hexdigest()
    lock_file.write_text(json.dumps(lock, indent=1), "utf-8")
