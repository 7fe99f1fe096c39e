"""What the kernel companion costs: kernel start, each cell, and the guard's CPU.

Real IPython kernels started by jupyter_client, one at a time:

- kernel start, from ``start_kernel`` to the first kernel-info reply, with and
  without the companion loaded at start (``kernel install`` into a private
  ``IPYTHONDIR``), in ABBA order after one uncounted start of each, median of
  ``runs`` each; and, precisely, the time ``%load_ext troubleshooter`` takes
  inside a kernel (import and start);
- per-cell overhead: 1,000 trivial cells (``pass``) run inside the kernel through
  ``InteractiveShell.run_cell``, without and then with the companion, and 1,000
  cells sent through the client (round trips), without and with;
- the guard thread's CPU time over 3 s with the kernel idle between cells (its
  ``/proc`` clock ticks, read from outside: 10 ms resolution), and over a 3 s
  cell (``pthread_getcpuclockid``, inside), with its readings per second.

Run ``python bench/companion.py`` for the JSON; ``measure()`` returns the same dict.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CELLS = 1000

_GUARD_CPU = """
import threading, time
_guard = next(t for t in threading.enumerate() if t.name == "troubleshooter-guard")
_clock = time.pthread_getcpuclockid(_guard.ident)
def _guard_cpu():
    return time.clock_gettime(_clock)
"""
_IN_KERNEL_CELLS = """
import time
_ip = get_ipython()
_t = time.perf_counter()
for _ in range({cells}):
    _ip.run_cell("pass", store_history=False)
print((time.perf_counter() - _t) / {cells})
"""


class _Kernel:
    def __init__(self, env: dict[str, str]) -> None:
        from jupyter_client import KernelManager

        self._text: list[str] = []
        self.manager = KernelManager(kernel_name="python3")
        started = time.perf_counter()
        self.manager.start_kernel(env=env, cwd=str(ROOT))
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)
        self.start_s = time.perf_counter() - started

    def run(self, code: str) -> str:
        reply = self.client.execute_interactive(code, timeout=120, output_hook=self._keep)
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"cell failed: {reply['content'].get('evalue')}")
        text, self._text = "".join(self._text), []
        return text

    def _keep(self, message: dict[str, Any]) -> None:
        if message["msg_type"] == "stream":
            self._text.append(message["content"]["text"])

    def close(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)
        self.manager.cleanup_resources()


def _environments(folder: Path) -> tuple[dict[str, str], dict[str, str]]:
    # byte code is written and reused, as after pip install (this machine sets DONTWRITE)
    environ = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    base = {
        **environ,
        "PYTHONPATH": str(ROOT),
        "JUPYTER_RUNTIME_DIR": str(folder / "runtime"),
        "XDG_CACHE_HOME": str(folder / "cache"),
    }
    plain = {**base, "IPYTHONDIR": str(folder / "plain")}
    loaded = {**base, "IPYTHONDIR": str(folder / "loaded")}
    subprocess.run(
        [sys.executable, "-m", "troubleshooter", "kernel", "install", "--user"],
        env=loaded, cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    return plain, loaded


def _ticks(stat: Path) -> int:
    """User and system CPU time of a thread, in clock ticks, read from outside the kernel."""
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def _round_trips(kernel: _Kernel, cells: int) -> float:
    started = time.perf_counter()
    for _ in range(cells):
        kernel.run("pass")
    return (time.perf_counter() - started) / cells


def measure(runs: int = 5, cells: int = CELLS) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-companion-") as name:
        plain, loaded = _environments(Path(name))
        starts: dict[str, list[float]] = {"without": [], "with": []}
        for env in (plain, loaded):  # a first start of each, not counted: caches warm
            _Kernel(env).close()
        pair = [("without", plain), ("with", loaded)]
        for run in range(runs):  # ABBA order: neither always follows the other's shutdown
            for key, env in pair if run % 2 == 0 else pair[::-1]:
                kernel = _Kernel(env)
                starts[key].append(kernel.start_s)
                kernel.close()
        kernel = _Kernel(plain)
        try:
            cell_without = float(kernel.run(_IN_KERNEL_CELLS.format(cells=cells)))
            trip_without = _round_trips(kernel, cells)
            load = float(
                kernel.run(
                    "import time; _t = time.perf_counter()\n"
                    "%load_ext troubleshooter\n"
                    "print(time.perf_counter() - _t)"
                )
            )
            cell_with = float(kernel.run(_IN_KERNEL_CELLS.format(cells=cells)))
            trip_with = _round_trips(kernel, cells)
            tid = int(kernel.run(_GUARD_CPU + "print(_guard.native_id)"))
            stat = Path(f"/proc/{kernel.manager.provisioner.pid}/task/{tid}/stat")
            time.sleep(1)  # the record is written 0.2 s after a cell: idle from here on
            idle_before = _ticks(stat)
            time.sleep(3)
            idle = (_ticks(stat) - idle_before) / os.sysconf("SC_CLK_TCK")
            busy, samples = kernel.run(
                "from troubleshooter.companion import current as _c\n"
                "_c0, _s0 = _guard_cpu(), _c().guard.samples\n"
                "time.sleep(3)\n"
                "print(_guard_cpu() - _c0, _c().guard.samples - _s0)"
            ).split()
        finally:
            kernel.close()
    without, with_ = statistics.median(starts["without"]), statistics.median(starts["with"])
    return {
        "runs": runs,
        "cells": cells,
        "start_without_s": round(without, 4),
        "start_with_s": round(with_, 4),
        "start_extra_s": round(with_ - without, 4),
        "load_in_kernel_s": round(load, 5),
        "cell_overhead_s": round(cell_with - cell_without, 6),
        "cell_in_kernel_without_s": round(cell_without, 6),
        "cell_in_kernel_with_s": round(cell_with, 6),
        "round_trip_without_s": round(trip_without, 6),
        "round_trip_with_s": round(trip_with, 6),
        "guard_cpu_idle_s": round(idle, 6),
        "guard_cpu_sampling_share": round(float(busy) / 3, 5),
        "guard_samples_per_s": round(int(samples) / 3, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cells", type=int, default=CELLS)
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.runs, args.cells), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
