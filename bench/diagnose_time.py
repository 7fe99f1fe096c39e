"""Wall time of ``diagnose`` beside ``jupyter troubleshoot``, each in fresh processes.

Every command runs ``runs`` times in a new Python process, the way a person runs
it, and the median wall time is reported. ``jupyter troubleshoot`` (from
jupyter_core) prints versions and paths only; ``diagnose`` reads memory, the
cgroup, processes, limits, disks and the kernel log as well. ``python -c pass``
is the floor every Python command pays. Run ``python bench/diagnose_time.py``
for the JSON; ``measure()`` returns the same dict.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GOAL = 0.2  # seconds, issue 4


def _jupyter_troubleshoot() -> list[str] | None:
    """``jupyter troubleshoot`` as a person runs it, from this Python's environment."""
    beside = Path(sys.executable).parent / "jupyter"
    jupyter = str(beside) if beside.exists() else shutil.which("jupyter")
    if jupyter:
        return [jupyter, "troubleshoot"]
    try:
        import jupyter_core  # noqa: F401
    except ImportError:
        return None
    return [sys.executable, "-m", "jupyter", "troubleshoot"]


def _time(command: list[str], runs: int, env: dict[str, str]) -> dict[str, Any]:
    times = []
    subprocess.run(command, capture_output=True, env=env, cwd=ROOT, check=False)  # writes byte code
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, env=env, cwd=ROOT, check=False)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            error = done.stderr.decode(errors="replace").strip().splitlines()[-1:]
            return {"command": command, "error": error[0] if error else f"exit {done.returncode}"}
    return {
        "command": command,
        "median": round(statistics.median(times), 4),
        "min": round(min(times), 4),
        "max": round(max(times), 4),
        "runs": len(times),
    }


def measure(runs: int = 7) -> dict[str, Any]:
    """Median wall times in seconds: ``diagnose`` (package and single file) and the others."""
    from troubleshooter.standalone import FILENAME, build

    with tempfile.TemporaryDirectory(prefix="diagnose-bench-") as folder:
        single = Path(folder) / FILENAME
        single.write_text(build(), encoding="utf-8")
        # byte code is written and reused, as after pip install (this machine sets DONTWRITE);
        # the single file itself is compiled on every run, as Python does with any script
        environ = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env = {**environ, "XDG_CACHE_HOME": folder, "PYTHONPATH": str(ROOT)}
        message = ["--message", "Kernel last terminated by signal SIGKILL."]
        commands: dict[str, list[str] | None] = {
            "python_startup": [sys.executable, "-c", "pass"],
            "diagnose": [sys.executable, "-m", "troubleshooter", "diagnose", "--json", *message],
            "diagnose_single_file": [sys.executable, str(single), "--json", *message],
            "jupyter_troubleshoot": _jupyter_troubleshoot(),
        }
        results: dict[str, Any] = {"runs": runs, "goal": GOAL}
        for name, command in commands.items():
            results[name] = (
                _time(command, runs, env)
                if command
                else {"error": "jupyter_core is not installed in this environment"}
            )
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per median (default 7)")
    args = parser.parse_args(argv)
    print(json.dumps(measure(max(1, args.runs)), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
