"""The crash lab, for real: the fast causes reproduced through a real jupyter server.

Each test runs one scenario of ``lab.causes`` (a real ``jupyter server`` on
127.0.0.1, a notebook session, the kernel websocket) and checks what a front end
received: the states, the banner, the error, the exit status the server's kernel
manager saw. Scenarios that need root (a memory cgroup, a tmpfs mount) are skipped
with the reason where this machine cannot make them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("jupyter_server")
pytest.importorskip("websocket")

from lab import causes
from lab.server import Servers

DIED = "The kernel for crash.ipynb appears to have died. It will restart automatically."


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """One server for the scenarios that need no settings of their own, as the lab has."""
    work = tmp_path_factory.mktemp("lab")
    work.chmod(0o755)
    shared = Servers(work)
    yield shared
    shared.close()


def _run(scenario: Any, servers: Servers, tmp_path: Path) -> Any:
    tmp_path.chmod(0o755)
    try:
        return scenario(servers, tmp_path)
    except causes.Unavailable as why:
        pytest.skip(str(why))


def _died_and_came_back(run: dict[str, Any], signal: str, status: int) -> None:
    assert run["exit_status"] == status, run["log"]
    assert run["shown"]["cocalc"] == f"Kernel last terminated by signal {signal}."
    assert run["shown"]["front_end"] == ["Kernel Restarting", DIED]
    states = run["status"]
    # "busy" comes first, unless the kill came before the kernel's messaging thread sent it
    # (seen with the 1 GB cell in a 200 MB cgroup): then nothing precedes the restart
    assert states[0] in ("busy", "restarting"), states
    assert "restarting" in states
    assert states[-1] == "idle", "the restarted kernel did not come back"
    assert any("restarting kernel (1/5)" in line for line in run["log"])


@pytest.mark.cgroup
def test_one_big_allocation_in_a_memory_cgroup_is_killed_and_restarted(
    servers: Servers, tmp_path: Path
) -> None:
    run = _run(causes.oom_one_step, servers, tmp_path)
    _died_and_came_back(run, "SIGKILL", -9)
    assert run["oom_kills"] >= 1


def test_a_null_read_kills_the_kernel_with_sigsegv(servers: Servers, tmp_path: Path) -> None:
    _died_and_came_back(_run(causes.native_null_read, servers, tmp_path), "SIGSEGV", -11)


def test_an_illegal_instruction_kills_the_kernel_with_sigill(
    servers: Servers, tmp_path: Path
) -> None:
    _died_and_came_back(_run(causes.illegal_instruction, servers, tmp_path), "SIGILL", -4)


def test_a_kernel_spec_pointing_at_a_removed_python_cannot_start(
    servers: Servers, tmp_path: Path
) -> None:
    run = _run(causes.removed_interpreter, servers, tmp_path)
    assert run["http_status"] == 500
    heading, message = run["shown"]["front_end"]
    assert heading == "Error Starting Kernel"
    assert "No such file or directory" in message
    assert "old-env/bin/python" in message
    assert run["exit_status"] is None  # no process ever ran


def test_a_full_disk_fails_the_cell_then_the_next_kernel_start(
    servers: Servers, tmp_path: Path
) -> None:
    run, second = _run(causes.disk_full, servers, tmp_path)
    assert "OSError: [Errno 28] No space left on device" in run["shown"]["output"]
    assert run["exit_status"] is None  # the kernel lives on
    assert second["http_status"] == 500
    assert second["shown"]["front_end"][0] == "Error Starting Kernel"
    assert "No space left on device" in second["shown"]["front_end"][1]


def test_the_culler_stops_an_idle_kernel_and_its_variables_are_gone(
    servers: Servers, tmp_path: Path
) -> None:
    run = _run(causes.idle_cull, servers, tmp_path)
    assert run["kernel_after"][-1] == "gone", run
    assert any("Culling 'idle' kernel" in line for line in run["log"]), run["log"]
    assert run["exit_status"] is not None, run["log"]  # the server stopped it (0, or -9 if slow)
    assert run["shown"]["output"][-1:] == ["NameError: name 'x' is not defined"], run["shown"]
