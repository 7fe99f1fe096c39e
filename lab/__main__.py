"""``python -m lab [CAUSE ...]``: reproduce the causes and write docs/lab/<cause>.json.

Each scenario runs in a fresh temporary folder with a server of its own; the
folder, and any cgroup or mount, is removed afterwards. A scenario this machine
cannot run is recorded with the reason; one that fails is reported and makes the
command exit with 1, so no record is ever made up.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import sys
import tempfile
import time
import traceback
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from .causes import CAUSES, NOT_REPRODUCED, Unavailable
from .server import Servers

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "lab"
WORK = Path(tempfile.gettempdir()) / "crash-lab"
PACKAGES = ("jupyter_server", "jupyter_client", "ipykernel", "pyzmq", "tornado", "numpy")


def versions() -> dict[str, str]:
    found = {"python": platform.python_version(), "linux": platform.release()}
    for name in PACKAGES:
        found[name] = version(name)
    return found


def reproduce(cause: str, servers: Servers) -> tuple[dict[str, Any], bool]:
    """The record of ``cause`` and whether every scenario ran (or was impossible here)."""
    runs: list[dict[str, Any]] = []
    missing = list(NOT_REPRODUCED.get(cause, []))
    ok = True
    for scenario in CAUSES[cause]:
        work = WORK / scenario.__name__  # the same paths in every run: records diff cleanly
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        work.chmod(0o755)
        started = time.monotonic()
        try:
            made = scenario(servers, work)
            runs.extend(made if isinstance(made, list) else [made])
            print(f"  {scenario.__name__}: {time.monotonic() - started:.1f} s", flush=True)
        except Unavailable as why:
            name = (scenario.__doc__ or scenario.__name__).splitlines()[0].rstrip(".")
            missing.append({"name": name, "why": f"on this machine: {why}"})
            print(f"  {scenario.__name__}: not possible here: {why}", flush=True)
        except Exception:
            ok = False
            traceback.print_exc()
            print(f"  {scenario.__name__}: FAILED", flush=True)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    record = {
        "cause": cause,
        "reproduced": bool(runs),
        "runs": runs,
        "not_reproduced": missing,
        "versions": versions(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
    }
    return record, ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab", description=__doc__.splitlines()[0])
    parser.add_argument("causes", nargs="*", choices=[[], *CAUSES], help="default: all")
    parser.add_argument("--out", type=Path, default=OUT, help=f"default: {OUT}")
    args = parser.parse_args(argv)
    started = time.monotonic()
    failed = []
    args.out.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    WORK.chmod(0o755)
    servers = Servers(WORK)
    try:
        for cause in args.causes or list(CAUSES):
            print(cause, flush=True)
            record, ok = reproduce(cause, servers)
            if ok:
                path = args.out / f"{cause}.json"
                path.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n")
            else:
                failed.append(cause)
    finally:
        servers.close()
        shutil.rmtree(WORK, ignore_errors=True)
    print(f"lab: {time.monotonic() - started:.0f} s", flush=True)
    if failed:
        print(f"lab: failed, no record written: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
