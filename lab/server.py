"""A real ``jupyter server`` on 127.0.0.1 with a token, a temporary root and IPython kernels.

``jupyter_server(work, kernels={...})`` writes the kernel specs into
``work/share/jupyter/kernels``, starts the server with its own configuration,
data and runtime folders under ``work`` (none of the user's own), waits until
``/api/status`` answers, and stops it afterwards, killing anything it left.
Its whole log (standard error, where the kernels' standard error goes too
unless a kernel sends it elsewhere) is kept in ``work/server.log``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .client import Rest
from .manager import MARK

ROOT = Path(__file__).resolve().parent.parent
LOG_LINE = re.compile(r"^\[([DIWEC]) \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ (\w+)\] (.*)")
EXIT_STATUS = re.compile(re.escape(MARK) + r" (\d+) ended with exit status (-?\d+|None)")


@dataclass
class Server:
    url: str
    token: str
    root: Path
    runtime: Path
    log_path: Path
    process: subprocess.Popen[bytes]
    share: Path  # JUPYTER_PATH: kernel specs written here are found at the next start
    kernel: str = "lab"  # the kernel spec a scenario's notebooks use

    @property
    def rest(self) -> Rest:
        return Rest(self.url, self.token)

    def log(self, since: int = 0) -> str:
        """The server's output from byte ``since`` on."""
        with open(self.log_path, "rb") as file:
            file.seek(since)
            return file.read().decode(errors="replace")

    def log_size(self) -> int:
        return self.log_path.stat().st_size


def python_kernel(python: str, *, wrap: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    """A kernel spec that runs ipykernel with ``python``, through ``wrap`` if given."""
    argv = [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    return {
        "argv": [*(wrap or []), *argv],
        "display_name": "Python (lab)",
        "language": "python",
        **extra,
    }


def launcher(**options: Any) -> list[str]:
    """The ``lab.launch`` command line for ``python_kernel(wrap=...)``."""
    words = [sys.executable, "-m", "lab.launch"]
    for name, value in options.items():
        if value is not None:
            words += [f"--{name}", str(value)]
    return [*words, "--"]


def add_kernels(share: Path, kernels: dict[str, dict[str, Any]]) -> None:
    for name, spec in kernels.items():
        folder = share / "kernels" / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "kernel.json").write_text(json.dumps(spec, indent=1))


class Servers:
    """One server for every scenario that needs no settings of its own (starting one takes
    seconds); a scenario with its own root, runtime folder or options gets its own server.
    After each scenario the shared server's sessions and kernels are shut down."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self._stack = contextlib.ExitStack()
        self._shared: Server | None = None

    @contextlib.contextmanager
    def use(
        self, work: Path, spec: dict[str, Any], *, root: Path | None = None,
        runtime: Path | None = None, options: tuple[str, ...] = (),
    ) -> Iterator[Server]:  # fmt: skip
        name = work.name
        if root or runtime or options:
            with jupyter_server(work, {name: spec}, root=root, runtime=runtime,
                                options=options) as own:  # fmt: skip
                yield dataclasses.replace(own, kernel=name)
            return
        if self._shared is None:
            self._shared = self._stack.enter_context(jupyter_server(self.work / "shared", {}))
        add_kernels(self._shared.share, {name: spec})
        try:
            yield dataclasses.replace(self._shared, kernel=name)
        finally:
            _shut_everything_down(self._shared)

    @property
    def root(self) -> Path:
        """The shared server's notebook folder (it exists before the server starts)."""
        folder = self.work / "shared" / "root"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def close(self) -> None:
        self._stack.close()


def _shut_everything_down(server: Server) -> None:
    rest = server.rest
    for kind in ("sessions", "kernels"):
        status, items = rest.request("GET", f"/api/{kind}")
        for item in items if status == 200 and isinstance(items, list) else []:
            rest.request("DELETE", f"/api/{kind}/{item['id']}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def jupyter_server(
    work: Path,
    kernels: dict[str, dict[str, Any]],
    *,
    root: Path | None = None,
    runtime: Path | None = None,
    options: tuple[str, ...] = (),
    timeout: float = 60,
) -> Iterator[Server]:
    share = work / "share" / "jupyter"
    add_kernels(share, kernels)
    root = root or work / "root"
    runtime = runtime or work / "runtime"
    for folder in (root, runtime, work / "config", work / "data", work / "ipython"):
        folder.mkdir(parents=True, exist_ok=True)
    port, token = _free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "JUPYTER_PATH": str(share),
        "JUPYTER_CONFIG_DIR": str(work / "config"),
        "JUPYTER_DATA_DIR": str(work / "data"),
        "JUPYTER_RUNTIME_DIR": str(runtime),
        "IPYTHONDIR": str(work / "ipython"),
        "PYTHONPATH": str(ROOT),
    }
    command = [
        sys.executable,
        "-m",
        "jupyter_server",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--ServerApp.open_browser=False",
        "--ServerApp.allow_root=True",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--AsyncMappingKernelManager.kernel_manager_class=lab.manager.ExitStatusKernelManager",
        *options,
    ]
    log_path = work / "server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root,
            start_new_session=True,
        )  # fmt: skip
    server = Server(f"http://127.0.0.1:{port}", token, root, runtime, log_path, process, share)
    try:
        _wait_until_up(server, timeout)
        yield server
    finally:
        _stop(server, runtime)


def _wait_until_up(server: Server, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"jupyter server exited:\n{server.log()[-2000:]}")
        with contextlib.suppress(OSError):
            status, _ = server.rest.request("GET", "/api/status", timeout=5)
            if status == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"jupyter server did not answer in {timeout} s:\n{server.log()[-2000:]}")


def _stop(server: Server, runtime: Path) -> None:
    """SIGTERM (the server shuts its kernels down), then SIGKILL for anything left."""
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait(timeout=10)
    for pid in kernels_using(runtime):  # kernels run in sessions of their own
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def kernels_using(runtime: Path) -> list[int]:
    """Processes whose command line names a connection file in ``runtime``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if str(runtime) in cmdline and "ipykernel" in cmdline:
            found.append(int(entry))
    return found
