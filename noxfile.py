"""Development sessions: docs, docs-live, tests, lint, bench, lab.

With nox installed, run ``nox -s NAME``. Without it, ``python3 noxfile.py -s NAME``
installs nox into ``.nox/_bootstrap`` first, so a fresh machine needs only Python.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent
BUILD = ROOT / "_build" / "html"
TYPECHECK = ROOT / "tools" / "typecheck"  # TypeScript, pinned in its package-lock.json
SPHINX_ARGS = ["-c", str(ROOT), str(ROOT / "docs"), str(BUILD)]


def _bootstrap() -> None:
    """Run nox from a private virtual environment, creating it on first use."""
    venv = ROOT / ".nox" / "_bootstrap"
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip", "nox>=2025.2.9"],
            check=True,
        )
    os.execv(python, [str(python), "-m", "nox", "-f", __file__, *sys.argv[1:]])


if __name__ == "__main__":
    try:
        import nox
    except ImportError:
        _bootstrap()
    else:
        sys.exit(nox.main())

import nox  # noqa: E402

nox.options.default_venv_backend = "venv"
nox.options.sessions = ["lint", "tests"]
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")


def _install(session: nox.Session, *groups: str) -> None:
    requirements = [
        req for group in groups for req in nox.project.dependency_groups(PYPROJECT, group)
    ]
    session.install("--upgrade", "pip")
    session.install("-e", str(ROOT), *requirements)


@nox.session
def docs(session: nox.Session) -> None:
    """Build the site strictly: any warning fails the build."""
    _install(session, "docs")
    session.run("sphinx-build", "-nW", "--keep-going", "-b", "html", *SPHINX_ARGS, *session.posargs)


@nox.session(name="docs-live")
def docs_live(session: nox.Session) -> None:
    """Build the site, serve it at http://127.0.0.1:8000 and rebuild on every edit."""
    _install(session, "live")
    session.run(
        "sphinx-autobuild",
        "--host",
        "127.0.0.1",
        "--port",
        "8000",
        "--watch",
        str(ROOT / "troubleshooter"),
        "--ignore",
        str(ROOT / ".nox"),
        *SPHINX_ARGS,
        *session.posargs,
    )


def _ensure_chromium(session: nox.Session) -> None:
    """Install Debian's Chromium for the browser tests when it is missing and we may."""
    if Path("/usr/bin/chromium").exists():
        return
    if shutil.which("apt-get") and os.geteuid() == 0:
        env = {"DEBIAN_FRONTEND": "noninteractive"}
        session.run("apt-get", "update", "-qq", external=True, env=env)
        session.run(
            "apt-get",
            "install",
            "-y",
            "-qq",
            "--no-install-recommends",
            "chromium",
            external=True,
            env=env,
        )
    else:
        session.warn("/usr/bin/chromium is missing: the browser tests will be skipped")


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite: Sphinx builds, the package, real kernels and a real browser."""
    _install(session, "tests")
    _ensure_chromium(session)
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """Check style and formatting (ruff), the Python types (mypy, set up in pyproject.toml)
    and the shipped JavaScript's types (tsc --checkJs --strict, from tools/typecheck)."""
    _install(session, "lint")
    session.run("ruff", "check", str(ROOT))
    session.run("ruff", "format", "--check", str(ROOT))
    session.run("mypy")
    npm = shutil.which("npm")
    if npm is None:
        session.error("npm is needed for the JavaScript type check (apt-get install npm)")
    quiet = ["--no-audit", "--no-fund", "--loglevel=error"]
    session.run(npm, "ci", *quiet, "--prefix", str(TYPECHECK), external=True)
    tsc = str(TYPECHECK / "node_modules" / ".bin" / "tsc")
    for project in ("tsconfig.json", "tsconfig.node.json"):  # browser scripts, Node scripts
        session.run(tsc, "--project", str(TYPECHECK / project), external=True)


@nox.session
def bench(session: nox.Session) -> None:
    """Build the site and measure page weight, scores, build, demo and diagnose times against
    their budgets; writes bench/results.json and bench/results.md. Slow: CI does not run it."""
    _install(session, "docs", "tests")
    _ensure_chromium(session)
    session.run("python", str(ROOT / "bench" / "run.py"), *session.posargs)


@nox.session
def lab(session: nox.Session) -> None:
    """Reproduce every cause of a kernel death through a real Jupyter server and write what
    it looked like to docs/lab/<cause>.json (needs root for cgroups, tmpfs and other users)."""
    _install(session, "lab")
    session.run("python", "-m", "lab", *session.posargs, env={"PYTHONPATH": str(ROOT)})
