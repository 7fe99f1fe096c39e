"""The ``jupyter lite build`` behind the demos, run only when one of its inputs changed.

jupyterlite-sphinx's settings say what goes in: ``jupyterlite_contents`` (files and folders,
globs relative to the source folder), ``jupyterlite_config`` (``--config``),
``jupyterlite_overrides`` (``--settings-overrides``), ``jupyterlite_ignore_contents``,
``jupyterlite_build_command_options`` (more ``--option value`` pairs) and ``jupyterlite_dir``,
whose ``jupyter-lite.json``, if it has one, is the base of the site's. To that this module adds
what keeps every request on the site's own host: the local Pyodide (``pyodide.py``) in the lite
folder, the kernel's offline settings, and this project's wheel behind a piplite index. Only the
apps the pages use are built, without source maps.

The output is kept in the cache under a key of all of that (``cache.py``) and copied into the
site as ``<outdir>/lite/``, again only when it changed, so that a rebuild after a page edit
runs no part of it.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .cache import LiteUnavailable, Log, cached, digest, file_parts, project_wheel, quiet, run
from .pyodide import (
    KERNEL_PLUGIN,
    ensure_pyodide,
    kernel_extension_dir,
    kernel_settings,
    lock_name,
    version,
)

HERE = Path(__file__).resolve().parent
RECIPE = 1
"""Raised whenever the build changes in a way the other inputs do not show."""

# Fallback font formats no current browser asks for when a woff2 is listed first.
FONT_FALLBACKS = (".eot", ".ttf", ".woff", ".svg")
# Disabled in the REPL's own jupyter-lite.json:
# - notebook commands the REPL app cannot use: without a notebook the plugin fails at start
#   and logs an error in the reader's console;
# - the service worker, which syncs the kernel's files with JupyterLite's and serves input():
#   a REPL demo uses neither, and it costs every start some 0.5 s of CPU (its registration,
#   every request passed through it, a synchronous round trip through it for each import
#   while the kernel starts). The notebook app keeps it.
REPL_DISABLED = [
    "@jupyterlab/codemirror-extension:commands",
    "@jupyterlite/application-extension:service-worker-manager",
]
# Options jupyterlite_build_command_options may not set: the build decides them.
OWN_OPTIONS = ("contents", "output-dir", "lite-dir", "apps")
STAMP_FILE = ".troubleshooter-lite"


@dataclass(frozen=True)
class LiteSettings:
    """What a Sphinx project asks of its JupyterLite, read from jupyterlite-sphinx's settings."""

    mode: str
    apps: tuple[str, ...]
    contents: tuple[str, ...]  # absolute paths of files and folders
    notebooks: tuple[tuple[str, str], ...]  # (path in JupyterLite, absolute source path)
    config: str | None
    overrides: str | None
    ignore_contents: tuple[str, ...]
    options: tuple[tuple[str, str], ...]
    lite_json: str | None  # jupyterlite_dir's jupyter-lite.json, when there is one

    def key(self, pyodide: str) -> str:
        """Changes whenever the build's output would: by what files hold and the names they
        have in JupyterLite, never by where the project sits on disk."""
        parts = [(HERE / "site.py").read_bytes()]
        for path in map(Path, self.contents):
            parts += file_parts([path], path.parent)
        for name, source in self.notebooks:
            parts += [name.encode(), Path(source).read_bytes()]
        for setting in (self.config, self.overrides, self.lite_json):
            parts.append(Path(setting).read_bytes() if setting else b"")
        recipe = {
            "recipe": RECIPE,
            "mode": self.mode,
            "apps": self.apps,
            "ignore_contents": self.ignore_contents,
            "options": self.options,
            "pyodide": pyodide,
            "jupyterlite-core": version("jupyterlite-core"),
            "jupyterlite-pyodide-kernel": version("jupyterlite-pyodide-kernel"),
        }
        return digest(json.dumps(recipe, sort_keys=True).encode(), *parts)


def _expand(patterns: str | list[str] | None, srcdir: Path) -> list[str]:
    if isinstance(patterns, str):
        patterns = [patterns]
    found: list[str] = []
    for pattern in patterns or []:
        matches = sorted(glob.glob(str(srcdir / pattern)))
        found += [str(Path(match).resolve()) for match in matches]
    return found


def settings_from(
    config: Any, srcdir: Path, apps: set[str], notebooks: dict[str, str]
) -> LiteSettings:
    """Read jupyterlite-sphinx's settings from a Sphinx ``config``; a bad one raises, naming it.
    (``troubleshooter_lite_pyodide`` was checked when the configuration was read.)"""
    options = dict(config.jupyterlite_build_command_options or {})
    clash = sorted(set(options) & set(OWN_OPTIONS))
    if clash:
        raise LiteUnavailable(
            f"jupyterlite_build_command_options may not set {clash}: the build sets them"
        )

    def source_file(setting: str) -> str | None:
        value = getattr(config, setting)
        if not value:
            return None
        path = (srcdir / value).resolve()
        if not path.is_file():
            raise LiteUnavailable(f"{setting} names {value!r}, which is not a file in {srcdir}")
        return str(path)

    lite_json = Path(config.jupyterlite_dir or srcdir) / "jupyter-lite.json"
    ignore = config.jupyterlite_ignore_contents
    return LiteSettings(
        mode=config.troubleshooter_lite_pyodide,
        apps=tuple(sorted(apps)),
        contents=tuple(_expand(config.jupyterlite_contents, srcdir)),
        notebooks=tuple(sorted(notebooks.items())),
        config=source_file("jupyterlite_config"),
        overrides=source_file("jupyterlite_overrides"),
        ignore_contents=tuple([ignore] if isinstance(ignore, str) else ignore or []),
        options=tuple(sorted((str(k), str(v)) for k, v in options.items())),
        lite_json=str(lite_json) if lite_json.is_file() else None,
    )


# --- the build ---------------------------------------------------------------------------


def _merge(base: dict[str, Any], ours: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in ours.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _lite_json(settings: LiteSettings) -> dict[str, Any]:
    base = json.loads(Path(settings.lite_json).read_text("utf-8")) if settings.lite_json else {}
    data: dict[str, Any] = {"litePluginSettings": {KERNEL_PLUGIN: kernel_settings(settings.mode)}}
    return _merge(base, {"jupyter-lite-schema-version": 0, "jupyter-config-data": data})


def _stage_contents(settings: LiteSettings, folder: Path) -> None:
    """Every file the readers' JupyterLite shows, under the name it has there."""
    folder.mkdir()
    for path in map(Path, settings.contents):
        if path.is_dir():
            shutil.copytree(path, folder / path.name, dirs_exist_ok=True)
        else:
            shutil.copy2(path, folder / path.name)
    for name, source in settings.notebooks:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, folder / name)


def build_site(target: Path, settings: LiteSettings, pyodide: Path | None, log: Log) -> None:
    """``jupyter lite build`` into the empty folder ``target``."""
    stage = target.parent / f"stage-{target.name}"
    stage.mkdir()
    try:
        if pyodide is not None:  # JupyterLite serves <lite dir>/static/pyodide/ when it exists
            shutil.copytree(pyodide, stage / "static" / "pyodide", copy_function=os.link)
        (stage / "jupyter-lite.json").write_text(json.dumps(_lite_json(settings), indent=1))
        _stage_contents(settings, stage / "contents")
        command = [sys.executable, "-m", "jupyterlite_core", "build"]
        command += ["--lite-dir", str(stage), "--output-dir", str(target)]
        command += ["--contents", str(stage / "contents")]
        for app in settings.apps:
            command += ["--apps", app]
        command += ["--no-sourcemaps", "--no-unused-shared-packages", "--ignore-sys-prefix"]
        command += [f"--LiteBuildConfig.federated_extensions={kernel_extension_dir()}"]
        if settings.config:
            command += ["--config", settings.config]
        if settings.overrides:
            command += ["--settings-overrides", settings.overrides]
        for pattern in settings.ignore_contents:
            command += ["--ignore-contents", pattern]
        for option, value in settings.options:
            command += [f"--{option}", value]
        log(f"running jupyter lite build (apps: {', '.join(settings.apps)})")
        run(command, "jupyter lite build", cwd=stage)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    repl = target / "repl" / "jupyter-lite.json"
    if repl.exists():
        config = json.loads(repl.read_text("utf-8"))
        config.setdefault("jupyter-config-data", {})["disabledExtensions"] = REPL_DISABLED
        repl.write_text(json.dumps(config, separators=(",", ":")), "utf-8")
    _prune(target)


def _app_packages(app_folder: Path) -> set[str]:
    app = json.loads((app_folder / "package.json").read_text("utf-8")).get("jupyterlab", {})
    return {*app.get("extensions", []), *app.get("mimeExtensions", [])}


def _prune(output: Path) -> None:
    """Drop what the apps never fetch: font formats a browser only wants when it cannot read
    the woff2 listed first, and the settings of plugins an app does not load (an app downloads
    the whole settings file, so with several apps each gets a file of its own)."""
    for font in output.rglob("*"):
        if font.suffix in FONT_FALLBACKS and font.with_suffix(".woff2").exists():
            font.unlink()
    schemas = output / "build" / "schemas"
    apps = {path.parent: _app_packages(path.parent) for path in output.glob("*/package.json")}
    if not apps or not (schemas / "all.json").exists():
        return
    plugins = json.loads((schemas / "all.json").read_text("utf-8"))

    def write(folder: Path, packages: set[str]) -> None:
        kept = [plugin for plugin in plugins if plugin["id"].split(":")[0] in packages]
        (folder / "all.json").write_text(json.dumps(kept, separators=(",", ":")), "utf-8")

    write(schemas, set().union(*apps.values()))
    if len(apps) == 1:
        return
    for folder, packages in apps.items():
        own = output / "build" / f"schemas-{folder.name}"
        own.mkdir()
        write(own, packages)
        if (schemas / "all_federated.json").exists():
            shutil.copy2(schemas / "all_federated.json", own / "all_federated.json")
        config_file = folder / "jupyter-lite.json"
        config = json.loads(config_file.read_text("utf-8"))
        config["jupyter-config-data"]["settingsUrl"] = f"../build/{own.name}"
        config_file.write_text(json.dumps(config, separators=(",", ":")), "utf-8")


def ensure_site(cache: Path, settings: LiteSettings, log: Log = quiet) -> Path:
    """The JupyterLite for ``settings``, built only if an input changed."""
    version("jupyterlite-core")
    pyodide = ensure_pyodide(cache, log) if settings.mode == "local" else None
    key = settings.key(pyodide.name if pyodide else "cdn")
    return cached(
        cache / f"site-{key}", lambda scratch: build_site(scratch, settings, pyodide, log), keep=3
    )


@dataclass(frozen=True)
class LiteBuild:
    """An assembled JupyterLite and this project's wheel, ready to copy into a site."""

    base: Path
    wheel: Path

    @property
    def stamp(self) -> str:
        return f"{self.base.name}/{self.wheel.parent.name}"


def prepare(cache: Path, settings: LiteSettings, log: Log = quiet) -> LiteBuild:
    """Everything the demos need, from the cache or freshly built."""
    return LiteBuild(base=ensure_site(cache, settings, log), wheel=project_wheel(cache, log=log))


# --- into the site -----------------------------------------------------------------------


def _add_wheel(lite: Path, wheel: Path) -> None:
    """Offer ``wheel`` to the kernel through a piplite index of its own."""
    from jupyterlite_pyodide_kernel.addons.piplite import get_wheel_fileinfo

    pypi = lite / "pypi"
    pypi.mkdir(exist_ok=True)
    shutil.copy2(wheel, pypi / wheel.name)
    name, wheel_version, release = get_wheel_fileinfo(pypi / wheel.name)
    index = {lock_name(name): {"releases": {wheel_version: [release]}}}
    index_bytes = json.dumps(index, indent=1, sort_keys=True).encode()
    (pypi / "all.json").write_bytes(index_bytes)
    config_file = lite / "jupyter-lite.json"
    config = json.loads(config_file.read_text("utf-8"))
    plugins = config["jupyter-config-data"].setdefault("litePluginSettings", {})
    kernel = plugins.setdefault(KERNEL_PLUGIN, {})
    url = f"./pypi/all.json?sha256={hashlib.sha256(index_bytes).hexdigest()}"
    others = [u for u in kernel.get("pipliteUrls", []) if not u.startswith("./pypi/")]
    kernel["pipliteUrls"] = [url, *others]
    config_file.write_text(json.dumps(config, separators=(",", ":")), "utf-8")


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
