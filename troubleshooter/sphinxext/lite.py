"""The JupyterLite behind the demos: assembled once per set of inputs, then reused.

What goes in, each fetched by package name through its ordinary client:

- Pyodide's core (``npm pack pyodide@VERSION``), at the version the Pyodide kernel pins;
- the pure-Python wheels the kernel needs (``pip download --only-binary=:all: --no-deps``),
  at the versions Pyodide's own lock names; the lock is cut down to them and its
  ``file_name`` and ``sha256`` rewritten for the files shipped;
- the wheels bundled with the kernel extension (piplite, pyodide-kernel, an ipykernel shim),
  added to the lock so that Pyodide loads every kernel package at once while it starts,
  instead of one after the other;
- this project's own wheel (``pip wheel --no-deps``), offered to the kernel through piplite.

The modules the kernel imports at start are precompiled inside Pyodide under Node.js
(``lite_compile.py``), then ``jupyter lite build`` assembles the REPL app only, without
source maps. Nothing in the result asks any host but the one serving the site.

Cache (``.cache/lite`` beside ``conf.py``, or ``$TROUBLESHOOTER_LITE_CACHE``)::

    downloads/        the npm tarball and the wheels, kept across versions
    base-<key>/       the assembled JupyterLite, keyed by every input but our wheel
    wheel-<key>/      this project's wheel, keyed by its sources

A site gets a copy as ``<outdir>/lite/``, redone only when a key changes, so editing a
page never rebuilds any of it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT_ROOT = HERE.parent.parent
RECIPE = 1
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
# Loaded by Pyodide while it starts; the kernel then skips installing each in turn.
PRELOAD = ("micropip", "piplite", "ipykernel", "comm", "pyodide-kernel", "ipython", "jedi")
# Fallback font formats no current browser asks for when a woff2 is listed first.
FONT_FALLBACKS = (".eot", ".ttf", ".woff")
# Notebook commands the REPL cannot use: without a notebook the plugin fails at start and
# logs an error in the reader's console.
DISABLED_PLUGINS = ["@jupyterlab/codemirror-extension:commands"]
PROJECT_SOURCES = ("pyproject.toml", "README.md", "troubleshooter")
COMMAND_TIMEOUT = 900


class LiteUnavailable(Exception):
    """The demos cannot be built here; the message says why, for the reader of the build log."""


@dataclass(frozen=True)
class LiteBuild:
    """An assembled JupyterLite and this project's wheel, ready to copy into a site."""

    base: Path
    wheel: Path

    @property
    def stamp(self) -> str:
        return f"{self.base.name}/{self.wheel.parent.name}"


Log = Callable[[str], None]


def _quiet(message: str) -> None:
    pass


def default_cache(confdir: Path) -> Path:
    """Where downloads and assembled builds are kept."""
    return Path(os.environ.get("TROUBLESHOOTER_LITE_CACHE") or confdir / ".cache" / "lite")


# --- keys --------------------------------------------------------------------------------


def _digest(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "little"))
        digest.update(part)
    return digest.hexdigest()[:16]


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        raise LiteUnavailable(
            f"{distribution} is not installed (it is in the `lite` dependency group)"
        ) from None


def pyodide_version() -> str:
    """The Pyodide version the installed kernel was made for."""
    _version("jupyterlite-pyodide-kernel")
    from jupyterlite_pyodide_kernel.constants import PYODIDE_VERSION

    return PYODIDE_VERSION


def base_key(mode: str) -> str:
    """Changes whenever anything that goes into the assembled JupyterLite changes."""
    recipe = {
        "recipe": RECIPE,
        "mode": mode,
        "jupyterlite-core": _version("jupyterlite-core"),
        "jupyterlite-pyodide-kernel": _version("jupyterlite-pyodide-kernel"),
        "pyodide": pyodide_version(),
        "extra": EXTRA_WHEELS,
        "preload": PRELOAD,
    }
    code = [
        (HERE / name).read_bytes() for name in ("lite.py", "lite_compile.py", "lite_compile.mjs")
    ]
    return _digest(json.dumps(recipe, sort_keys=True).encode(), *code)


def _project_files(root: Path) -> Iterator[Path]:
    for name in PROJECT_SOURCES:
        path = root / name
        if path.is_file():
            yield path
        elif path.is_dir():
            for file in sorted(path.rglob("*")):
                if file.is_file() and "__pycache__" not in file.parts:
                    yield file


def project_key(root: Path) -> str:
    """Changes whenever a file that goes into this project's wheel changes."""
    parts = []
    for file in _project_files(root):
        parts += [file.relative_to(root).as_posix().encode(), file.read_bytes()]
    return _digest(*parts)


# --- running tools -----------------------------------------------------------------------


def _run(command: list[str], what: str, cwd: Path | None = None) -> str:
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


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise LiteUnavailable(f"{name} was not found; install Node.js and npm to build the demos")
    return found


@contextlib.contextmanager
def _locked(cache: Path) -> Iterator[None]:
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


@contextlib.contextmanager
def _building(final: Path) -> Iterator[Path]:
    """A scratch folder that becomes ``final`` only if the block completes."""
    scratch = Path(tempfile.mkdtemp(prefix="tmp-", dir=final.parent))
    try:
        yield scratch
        os.replace(scratch, final)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _keep_newest(cache: Path, prefix: str, keep: int) -> None:
    folders = sorted(cache.glob(f"{prefix}-*"), key=lambda path: path.stat().st_mtime)
    for old in folders[:-keep]:
        shutil.rmtree(old, ignore_errors=True)


# --- downloads ---------------------------------------------------------------------------


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _wheel_name(filename: str) -> str:
    return _normalize(filename.split("-", 1)[0])


def fetch_pyodide(version: str, downloads: Path, log: Log) -> Path:
    """The npm ``pyodide`` package at ``version``, as a tarball in ``downloads``."""
    tarball = downloads / f"pyodide-{version}.tgz"
    if tarball.exists():
        return tarball
    npm = _tool("npm")
    log(f"fetching pyodide@{version} with npm")
    downloads.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=downloads) as scratch:
        _run(
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
            _run(
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


def lock_closure(lock: dict, roots: tuple[str, ...]) -> list[str]:
    """``roots`` and everything they depend on in a Pyodide lock, by normalized name."""
    packages = {_normalize(name): entry for name, entry in lock["packages"].items()}
    seen: list[str] = []
    pending = [_normalize(root) for root in roots]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        if name not in packages:
            raise LiteUnavailable(f"Pyodide's lock has no package {name!r}")
        seen.append(name)
        pending += [_normalize(dep) for dep in packages[name]["depends"]]
    return sorted(seen)


def _requires(wheel: Path) -> list[str]:
    """The unconditional requirements of a wheel, by normalized name."""
    import zipfile

    with zipfile.ZipFile(wheel) as archive:
        meta = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        text = archive.read(meta).decode()
    names = []
    for line in text.splitlines():
        if line.startswith("Requires-Dist:") and ";" not in line:
            names.append(_normalize(re.match(r"[\w.-]+", line.split(":", 1)[1].strip())[0]))
    return names


def _lock_entry(wheel: Path, *, base: dict | None = None, imports: list[str] | None = None) -> dict:
    entry = (
        dict(base)
        if base
        else {
            "name": _wheel_name(wheel.name),
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
    import zipfile

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
    packages = {_normalize(name): entry for name, entry in lock["packages"].items()}
    needed = lock_closure(lock, LOCK_ROOTS)
    python = ".".join(lock["info"]["python"].split(".")[:2])
    pins = {name: packages[name]["version"] for name in needed} | EXTRA_WHEELS
    wheels = fetch_wheels(pins, downloads, python, log)
    bundled_dir = kernel_extension_dir() / "static" / "pypi"
    bundled = {_wheel_name(w.name): w for w in bundled_dir.glob("*.whl")}
    missing = sorted(set(BUNDLED_WHEELS) - set(bundled))
    if missing:
        raise LiteUnavailable(f"the kernel extension bundles no wheel for {missing}")
    entries = {name: _lock_entry(wheels[name], base=packages[name]) for name in needed}
    entries |= {name: _lock_entry(wheels[name], imports=[name]) for name in EXTRA_WHEELS}
    entries |= {
        name: _lock_entry(bundled[name], imports=[name.replace("-", "_")])
        for name in BUNDLED_WHEELS
    }
    for name, entry in entries.items():
        shutil.copyfile(wheels.get(name) or bundled[name], target / entry["file_name"])
    for name in PLACEHOLDERS:
        entries[name] = _lock_entry(placeholder_wheel(name, target))
    lock["packages"] = dict(sorted(entries.items()))
    (target / PYODIDE_LOCK).write_text(json.dumps(lock, indent=1), "utf-8")
    return [entry["file_name"] for entry in entries.values()]


def precompile(pyodide_dir: Path, log: Log) -> None:
    """Replace the stdlib and wheels in ``pyodide_dir`` by copies with start-up modules compiled."""
    node = _tool("node")
    log("precompiling the kernel's start-up modules in Pyodide under Node.js")
    with tempfile.TemporaryDirectory(dir=pyodide_dir.parent) as scratch:
        _run(
            [node, str(HERE / "lite_compile.mjs"), str(pyodide_dir), scratch, ",".join(PRELOAD)],
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


# --- the JupyterLite build ---------------------------------------------------------------


def _kernel_settings(mode: str) -> dict:
    if mode == "cdn":
        return {}
    return {"disablePyPIFallback": True, "loadPyodideOptions": {"packages": list(PRELOAD)}}


def _prune(output: Path) -> None:
    """Drop what the REPL never fetches: font formats a browser only wants when it cannot
    read the woff2 listed first, and the settings of plugins from the other apps (the
    REPL downloads the settings file once per plugin that reads its settings)."""
    for font in output.rglob("*"):
        if font.suffix in (*FONT_FALLBACKS, ".svg") and font.with_suffix(".woff2").exists():
            font.unlink()
    app = json.loads((output / "repl" / "package.json").read_text("utf-8"))["jupyterlab"]
    packages = {*app["extensions"], *app.get("mimeExtensions", [])}
    settings_file = output / "build" / "schemas" / "all.json"
    settings = json.loads(settings_file.read_text("utf-8"))
    kept = [plugin for plugin in settings if plugin["id"].split(":")[0] in packages]
    settings_file.write_text(json.dumps(kept, separators=(",", ":")), "utf-8")


def build_base(target: Path, mode: str, downloads: Path, log: Log) -> None:
    """Assemble the JupyterLite REPL into the empty folder ``target``."""
    with tempfile.TemporaryDirectory(dir=target.parent, prefix="stage-") as scratch:
        stage = Path(scratch)
        if mode == "local":
            pyodide_dir = stage / "static" / "pyodide"
            stage_pyodide(pyodide_dir, downloads, log)
            precompile(pyodide_dir, log)
        config = {
            "jupyter-lite-schema-version": 0,
            "jupyter-config-data": {
                "litePluginSettings": {KERNEL_PLUGIN: _kernel_settings(mode)},
                "disabledExtensions": DISABLED_PLUGINS,
            },
        }
        (stage / "jupyter-lite.json").write_text(json.dumps(config, indent=1), "utf-8")
        log("running jupyter lite build (the REPL app only)")
        _run(
            [
                sys.executable,
                "-m",
                "jupyterlite_core",
                "build",
                "--apps",
                "repl",
                "--no-sourcemaps",
                "--no-unused-shared-packages",
                "--ignore-sys-prefix",
                f"--LiteBuildConfig.federated_extensions={kernel_extension_dir()}",
                "--lite-dir",
                str(stage),
                "--output-dir",
                str(target),
            ],
            "jupyter lite build",
            cwd=stage,
        )
    _prune(target)


def ensure_base(cache: Path, mode: str, log: Log = _quiet) -> Path:
    """The assembled JupyterLite for ``mode``, built only if its inputs changed."""
    if mode not in MODES:
        raise LiteUnavailable(f"troubleshooter_lite_pyodide must be one of {MODES}, not {mode!r}")
    _version("jupyterlite-core")
    final = cache / f"base-{mode}-{base_key(mode)}"
    if final.exists():
        return final
    with _locked(cache):
        if not final.exists():
            started = time.monotonic()
            with _building(final) as scratch:
                build_base(scratch, mode, cache / "downloads", log)
            log(f"JupyterLite assembled in {time.monotonic() - started:.0f} s")
            _keep_newest(cache, f"base-{mode}", keep=2)
    return final


def ensure_project_wheel(cache: Path, root: Path = PROJECT_ROOT, log: Log = _quiet) -> Path:
    """This project's wheel, built only if its sources changed."""
    if not (root / "pyproject.toml").exists():
        raise LiteUnavailable(
            f"no pyproject.toml in {root}: the troubleshooter wheel needs the sources"
        )
    final = cache / f"wheel-{project_key(root)}"
    if not final.exists():
        with _locked(cache):
            if not final.exists():
                log("building the troubleshooter wheel with pip")
                with _building(final) as scratch:
                    _run(
                        [
                            sys.executable,
                            "-m",
                            "pip",
                            "wheel",
                            "--no-deps",
                            "--quiet",
                            "--wheel-dir",
                            str(scratch),
                            str(root),
                        ],
                        "pip wheel of this project",
                    )
                    for wheel in scratch.glob("*.whl"):
                        wheel.chmod(0o644)  # pip leaves 0600; web servers need to read it
                _keep_newest(cache, "wheel", keep=3)
    wheels = list(final.glob("*.whl"))
    if len(wheels) != 1:
        raise LiteUnavailable(f"{final} should hold exactly one wheel")
    return wheels[0]


def prepare(cache: Path, mode: str, log: Log = _quiet) -> LiteBuild:
    """Everything the demos need, from the cache or freshly built."""
    return LiteBuild(base=ensure_base(cache, mode, log), wheel=ensure_project_wheel(cache, log=log))


# --- into the site -----------------------------------------------------------------------

STAMP_FILE = ".troubleshooter-lite"


def _add_wheel(lite: Path, wheel: Path) -> None:
    """Offer ``wheel`` to the kernel through a piplite index of its own."""
    from jupyterlite_pyodide_kernel.addons.piplite import get_wheel_fileinfo

    pypi = lite / "pypi"
    pypi.mkdir(exist_ok=True)
    shutil.copy2(wheel, pypi / wheel.name)
    name, version, release = get_wheel_fileinfo(pypi / wheel.name)
    index = {_normalize(name): {"releases": {version: [release]}}}
    index_bytes = json.dumps(index, indent=1, sort_keys=True).encode()
    (pypi / "all.json").write_bytes(index_bytes)
    config_file = lite / "jupyter-lite.json"
    config = json.loads(config_file.read_text("utf-8"))
    settings = config["jupyter-config-data"]["litePluginSettings"][KERNEL_PLUGIN]
    url = f"./pypi/all.json?sha256={hashlib.sha256(index_bytes).hexdigest()}"
    others = [u for u in settings.get("pipliteUrls", []) if not u.startswith("./pypi/")]
    settings["pipliteUrls"] = [url, *others]
    config_file.write_text(json.dumps(config, indent=1), "utf-8")


def publish(build: LiteBuild, outdir: Path) -> bool:
    """Copy ``build`` to ``outdir/lite`` unless it is there already; True if copied."""
    lite = outdir / "lite"
    stamp = lite / STAMP_FILE
    if stamp.exists() and stamp.read_text("utf-8") == build.stamp:
        return False
    shutil.rmtree(lite, ignore_errors=True)
    shutil.copytree(build.base, lite)
    _add_wheel(lite, build.wheel)
    stamp.write_text(build.stamp, "utf-8")
    return True


def project_distribution(wheel: Path) -> str:
    """The name to ``%pip install`` for a wheel."""
    return _wheel_name(wheel.name)


def run_in_pyodide(base: Path, code: str, wheels: tuple[Path, ...] = ()) -> str:
    """What ``code`` prints when the demos' Pyodide runs it as one cell, under Node.js."""
    node = _tool("node")
    result = subprocess.run(
        [node, str(HERE / "lite_run.mjs"), str(base / "static" / "pyodide"), *map(str, wheels)],
        input=code,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"Pyodide could not run the code:\n{result.stderr}")
    return result.stdout
