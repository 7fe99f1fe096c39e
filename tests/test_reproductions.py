"""Real kernel deaths, reproduced and diagnosed.

- A real IPython kernel, started by jupyter_client inside a memory cgroup of its
  own with a 200 MB limit, allocates past the limit; the OOM killer ends it with
  SIGKILL; ``diagnose --json``, run inside the same cgroup, says out-of-memory
  and cites the OOM kill. The same for a script under ``run``.
- A real segfault (``ctypes.string_at(0)``) under ``run`` gives native-crash
  with faulthandler's traceback; deep recursion with a raised recursion limit
  gives stack-overflow.

The cgroup tests need root and a writable memory cgroup (v1 or v2); elsewhere
they are skipped, saying which is missing. They touch nothing outside the
cgroup they create, and remove it afterwards.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lab import cgroups
from lab.cgroups import Cgroup

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 200 * 1024 * 1024
BANNER = "Kernel last terminated by signal SIGKILL."
ALLOCATE = "blocks = [b'x' * (50 * 1024 * 1024) for _ in range(40)]"  # 2 GB, page by page


@pytest.fixture
def memory_cgroup() -> Iterator[Cgroup]:
    try:
        with cgroups.memory_cgroup(LIMIT, "troubleshooter-test") as cgroup:
            yield cgroup
    except cgroups.Unavailable as why:
        pytest.skip(str(why))


@pytest.fixture
def kernel_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Start a real IPython kernel as a member of a cgroup, through a kernel spec."""
    jupyter_client = pytest.importorskip("jupyter_client")
    pytest.importorskip("ipykernel")
    managers = []

    def start(cgroup: Cgroup):
        spec = tmp_path / "share" / "jupyter" / "kernels" / "in-cgroup"
        spec.mkdir(parents=True)
        launcher = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        (spec / "kernel.json").write_text(
            json.dumps(
                {
                    "argv": cgroup.inside(launcher),
                    "display_name": "Python in a memory cgroup",
                    "language": "python",
                }
            )
        )
        monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "share" / "jupyter"))
        manager = jupyter_client.KernelManager(kernel_name="in-cgroup")
        manager.start_kernel()
        managers.append(manager)
        client = manager.client()
        client.start_channels()
        client.wait_for_ready(timeout=60)
        return manager, client

    yield start
    for manager in managers:
        if manager.is_alive():
            manager.shutdown_kernel(now=True)
        manager.cleanup_resources()


def _wait_for_death(manager: Any, timeout: float = 60) -> int | None:
    deadline = time.monotonic() + timeout
    while manager.is_alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    return manager.provisioner.process.returncode if manager.provisioner else None


def _troubleshooter_inside(
    cgroup: Cgroup, cache: Path, *args: str, timeout: int = 60
) -> dict[str, Any]:
    """``python -m troubleshooter ARGS --json`` run inside ``cgroup``: its JSON report."""
    command = [sys.executable, "-m", "troubleshooter", *args]
    done = subprocess.run(
        cgroup.inside(command),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "XDG_CACHE_HOME": str(cache), "PYTHONPATH": str(ROOT)},
        check=False,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.cgroup
def test_a_real_kernel_killed_for_memory_is_diagnosed_as_out_of_memory(
    memory_cgroup: Cgroup, kernel_in: Any, tmp_path: Path
) -> None:
    manager, client = kernel_in(memory_cgroup)
    pid = manager.provisioner.pid
    assert str(pid) in memory_cgroup.procs.read_text().split()  # the kernel is in our cgroup
    assert memory_cgroup.oom_kills() == 0

    client.execute(ALLOCATE)
    returncode = _wait_for_death(manager)
    client.stop_channels()
    assert returncode == -9, "the kernel was not killed by SIGKILL"
    assert memory_cgroup.oom_kills() >= 1

    result = _troubleshooter_inside(
        memory_cgroup, tmp_path / "cache", "diagnose", "--json", "--message", BANNER
    )
    assert result["cause"] == "out-of-memory", result["evidence"]
    assert result["facts"]["cgroup"]["path"] == memory_cgroup.name
    assert result["facts"]["cgroup"]["limit"] == LIMIT
    assert result["facts"]["cgroup"]["oom_kills"] >= 1
    evidence = "\n".join(result["evidence"])
    assert "The kernel ended by signal SIGKILL." in evidence
    assert f"counts {result['facts']['cgroup']['oom_kills']} OOM kill" in evidence
    if result["facts"]["kernel_log"]["source"]:  # root reads the kernel log on most machines
        assert f"Killed process {pid} (python" in evidence


@pytest.mark.cgroup
def test_a_script_killed_for_memory_under_run(memory_cgroup: Cgroup, tmp_path: Path) -> None:
    script = tmp_path / "big.py"
    script.write_text(ALLOCATE + "\nprint('not reached')\n")
    report = _troubleshooter_inside(
        memory_cgroup, tmp_path, "run", "--json", str(script), timeout=120
    )
    assert report["run"]["signal"] == "SIGKILL"
    assert report["run"]["oom_kills"] >= 1
    assert report["run"]["limit"] == LIMIT
    assert report["run"]["peak_rss"] > LIMIT // 2
    assert report["cause"] == "out-of-memory"
    assert any("rose by" in line for line in report["evidence"])


def _run_json(script: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "troubleshooter", "run", "--json", str(script)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_real_segfault_under_run_is_a_native_crash(tmp_path: Path) -> None:
    script = tmp_path / "crash.py"
    script.write_text(
        "import ctypes\n\n\ndef read_nothing():\n    ctypes.string_at(0)\n\n\nread_nothing()\n"
    )
    report = _run_json(script)
    assert report["run"]["signal"] == "SIGSEGV"
    assert (report["cause"], report["outcome"]) == ("native-crash", "native-crash")
    traceback = report["run"]["traceback"]
    assert traceback.startswith("Fatal Python error: Segmentation fault")
    assert f'File "{script}", line 5 in read_nothing' in traceback
    assert "The output says: Fatal Python error: Segmentation fault" in report["evidence"]


def test_deep_recursion_with_a_raised_limit_is_a_stack_overflow(tmp_path: Path) -> None:
    script = tmp_path / "deep.py"
    script.write_text(
        "import sys\n\nsys.setrecursionlimit(10**6)\n\n\n"
        "def depth(n):\n    return max(map(depth, [n + 1]))  # through C: the C stack grows\n\n\n"
        "depth(0)\n"
    )
    report = _run_json(script)
    assert report["run"]["signal"] == "SIGSEGV"
    assert (report["cause"], report["outcome"]) == ("stack-overflow", "stack-overflow")
    assert "The code raises the recursion limit: setrecursionlimit(10**6)" in report["evidence"]
    assert any("runaway recursion" in line for line in report["evidence"])
