"""The steps every scenario shares: open a notebook, run cells, wait for what follows.

``open_notebook`` does what JupyterLab does on opening a notebook (a session,
then the kernel websocket); ``run_cells`` runs cells until one kills the
kernel; ``await_kernel`` waits, by REST, until the kernel is back, dead or gone;
``finish`` turns it all into a record. Every wait is bounded.
"""

from __future__ import annotations

import contextlib
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .client import Channels
from .record import run_record
from .server import EXIT_STATUS, Server

CELL_TIMEOUT = 60
BACK_TIMEOUT = 60
CONNECT_TIMEOUT = 75  # the server answers a websocket after kernel_info_timeout (60 s) at most


@dataclass
class Notebook:
    server: Server
    path: str
    since: int
    kernel_id: str | None = None
    session_id: str | None = None
    channels: Channels | None = None
    start_error: str | None = None
    reason: str | None = None
    after: list[str] = field(default_factory=list)  # REST states after the death
    started: float = field(default_factory=time.monotonic)
    http_status: int | None = None  # the answer to the session request, when it failed


def open_notebook(server: Server, path: str) -> Notebook:
    notebook = Notebook(server, path, server.log_size())
    status, model = server.rest.start_session(path, server.kernel)
    if status != 201 or not isinstance(model, dict) or not model.get("kernel"):
        text = model.get("message") if isinstance(model, dict) else str(model)
        notebook.start_error = str(text)
        notebook.http_status = status
        notebook.reason = model.get("reason") if isinstance(model, dict) else None
        return notebook
    notebook.kernel_id = model["kernel"]["id"]
    notebook.session_id = model["id"]
    notebook.channels = Channels(server.url, server.token, notebook.kernel_id)
    try:
        notebook.channels.connect(timeout=CONNECT_TIMEOUT)
    except Exception as error:  # the server refused the websocket: a front end sees that too
        notebook.start_error = f"websocket: {error}"
        notebook.channels = None
        return notebook
    notebook.channels.read_until(lambda c: "idle" in c.statuses or c.died(), CELL_TIMEOUT)
    return notebook


def run_cells(notebook: Notebook, cells: list[str], timeout: float = CELL_TIMEOUT) -> None:
    """Run cells in order, until one ends in a restart or death of the kernel."""
    channels = notebook.channels
    if channels is None:
        return
    channels.read_until(lambda c: False, 0.3)  # the last replies to the server's kernel_info
    channels.statuses.clear()  # the record's sequence starts with the first cell
    for code in cells:
        channels.run(code, timeout)
        if channels.died():
            break
        channels.read_until(lambda c: c.statuses[-1:] == ["idle"], 2)


def await_back(notebook: Notebook) -> None:
    """After a restart: once the kernel runs again, open a new websocket and read until idle.

    (Reconnecting at once with the same session id got no reply for a minute with
    jupyter-server 2.21; a new session id, once the kernel process runs, answers at once.)
    """
    channels = notebook.channels
    if channels is None or "dead" in channels.statuses:
        return
    channels.close()
    deadline = time.monotonic() + BACK_TIMEOUT
    while time.monotonic() < deadline and rest_state(notebook) not in ("idle", "starting"):
        time.sleep(0.2)
    time.sleep(1)
    fresh = Channels(channels.url, channels.token, channels.kernel_id, statuses=channels.statuses)
    fresh.streams, fresh.errors, fresh.sent = channels.streams, channels.errors, channels.sent
    try:
        fresh.connect(timeout=CONNECT_TIMEOUT)
    except Exception as error:
        notebook.after.append(f"websocket refused: {error}")
        return
    notebook.channels = fresh
    fresh.kernel_info()  # its idle may have gone by before the socket opened: ask, as front ends do
    fresh.read_until(lambda c: c.statuses[-1:] == ["idle"] or "dead" in c.statuses, BACK_TIMEOUT)
    notebook.after.append(rest_state(notebook))


def rest_state(notebook: Notebook) -> str:
    status, model = notebook.server.rest.request("GET", f"/api/kernels/{notebook.kernel_id}")
    if status == 404:
        return "gone"
    if isinstance(model, dict):
        return str(model.get("execution_state"))
    return f"HTTP {status}"


def await_kernel(notebook: Notebook, states: tuple[str, ...] = ("idle", "dead", "gone")) -> str:
    """Poll the kernel's REST model until its state is one of ``states``; keep the path."""
    deadline = time.monotonic() + BACK_TIMEOUT
    state = "unknown"
    while time.monotonic() < deadline:
        state = rest_state(notebook)
        if not notebook.after or notebook.after[-1] != state:
            notebook.after.append(state)
        if state in states:
            break
        time.sleep(0.25)
    if notebook.channels is not None:  # what the websocket got meanwhile
        notebook.channels.read_until(lambda c: False, 0.5)
    return state


def await_exit_status(server: Server, since: int, timeout: float = 20) -> None:
    """Wait until the server has logged an exit status (after a restart or shutdown)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not EXIT_STATUS.search(server.log(since)):
        time.sleep(0.2)


def close(notebook: Notebook) -> None:
    if notebook.channels is not None:
        notebook.channels.close()


def kernel_log(pid_text: str | None) -> list[str]:
    """The kernel log's lines about an OOM kill of ``pid``, where this user may read it."""
    if not pid_text:
        return []
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        done = subprocess.run(["dmesg"], capture_output=True, text=True, timeout=10, check=False)
        return [
            line.split("] ", 1)[-1][:160]
            for line in done.stdout.splitlines()
            if f"Killed process {pid_text} " in line
        ][-1:]
    return []


def finish(
    notebook: Notebook,
    name: str,
    how: str,
    code: str | None,
    *,
    stderr_file: Path | None = None,
    requested: bool = False,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    stderr = stderr_file.read_text(errors="replace") if stderr_file and stderr_file.exists() else ""
    record = run_record(
        name, how, code, notebook.server, notebook.since, notebook.channels,
        path=notebook.path, stderr=stderr, requested=requested,
        start_error=notebook.start_error, reason=notebook.reason,
        extra={"kernel_after": notebook.after, "http_status": notebook.http_status,
               **(extra or {})},
    )  # fmt: skip
    record["seconds"] = round(time.monotonic() - notebook.started, 1)
    return record
