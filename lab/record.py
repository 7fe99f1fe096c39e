"""One run of a scenario, as a record: what a user saw, the states, the log, the exit status.

``shown`` is what the user would have had in front of them:

- ``front_end``: the words JupyterLab 4 shows for the state sequence the server
  sent (the "Kernel Restarting" dialog, the "Dead" status, "Error Starting
  Kernel" with the server's answer), ``None`` where it shows no message;
- ``cocalc``: the banner CoCalc writes for the measured exit status ("Kernel
  last terminated by signal SIGKILL.", "Kernel last exited with code 1.");
- ``reason``: the REST model's ``reason``, or the error the server answered;
- ``stderr``: the kernel's last lines of standard error (the warning about TCP
  without encryption, which every kernel here prints at start, left out);
- ``output``: what the cell showed (errors, and stderr streams such as the
  server's "IOPub data rate exceeded").
"""

from __future__ import annotations

import re
from typing import Any

from troubleshooter.signals import SIGNAL_NAMES

from .client import Channels
from .server import EXIT_STATUS, LOG_LINE, Server

RESTARTING = "The kernel for {path} appears to have died. It will restart automatically."
STDERR_LINES = 4
LOG_LINES = 6
OUTPUT_LINES = 5
_NOISE = re.compile(r"running over TCP without encryption|^\s*$")
_ROUTINE = re.compile(r"Kernel started|Culling kernels with idle durations|Kernel shutdown")
_LOG_KEEP = re.compile(
    r"Restarter|restarted|died|Culling|Kernel shutdown|Kernel started|iopub|IOPub|"
    r"wrote error|Error|rror:|No space|Unhandled|Failed|failed",
)


def exit_text(status: int | None) -> str | None:
    """-9 -> "signal SIGKILL (-9; 137 in a shell)"; 1 -> "exit code 1"."""
    if status is None:
        return None
    if status < 0:
        name = SIGNAL_NAMES.get(-status, f"signal {-status}")
        return f"signal {name} ({status}; {128 - status} in a shell)"
    return f"exit code {status}"


def cocalc_banner(status: int | None) -> str | None:
    if status is None:
        return None
    if status < 0:
        return f"Kernel last terminated by signal {SIGNAL_NAMES.get(-status, -status)}."
    return f"Kernel last exited with code {status}."


def front_end(
    statuses: list[str], path: str, *, requested: bool, start_error: str | None
) -> list[str]:
    """What JupyterLab 4 shows for what the server sent (wordings: shared/FACTS.md)."""
    if start_error is not None:
        return ["Error Starting Kernel", start_error]
    shown = []
    if "restarting" in statuses and not requested:
        shown += ["Kernel Restarting", RESTARTING.format(path=path)]
    if "dead" in statuses:
        shown.append("Dead")
    return shown


def server_lines(server: Server, since: int) -> tuple[list[str], list[tuple[int, int]]]:
    """The server's log lines about kernels from byte ``since`` on, and (pid, exit status)s."""
    lines, statuses = [], []
    for line in server.log(since).splitlines():
        if match := EXIT_STATUS.search(line):
            if match.group(2) != "None":
                statuses.append((int(match.group(1)), int(match.group(2))))
            continue
        parsed = LOG_LINE.match(line)
        if parsed and _LOG_KEEP.search(parsed.group(3)):
            lines.append(f"[{parsed.group(1)} {parsed.group(2)}] {parsed.group(3)}")
    return lines, statuses


def _fewer(lines: list[str]) -> list[str]:
    """At most LOG_LINES: repeats go first, then the routine lines, then the middle."""
    lines = [line for index, line in enumerate(lines) if line not in lines[:index]]
    if len(lines) > LOG_LINES:
        lines = [line for line in lines if not _ROUTINE.search(line)]
    if len(lines) > LOG_LINES:
        lines = [*lines[:2], "…", *lines[3 - LOG_LINES :]]
    return lines


def stderr_tail(text: str, count: int = STDERR_LINES) -> list[str]:
    return [line for line in text.splitlines() if not _NOISE.search(line)][-count:]


def outputs(channels: Channels | None) -> list[str]:
    if channels is None:
        return []
    found = []
    for error in channels.errors:  # the frames a reader sees first, then the error itself
        frames = [line.splitlines()[0] for line in error["traceback"] if line.startswith("File ")]
        found += [*frames[-2:], f"{error['ename']}: {error['evalue']}"]
    stderr = channels.streams.get("stderr", "")
    found += [line for line in stderr.splitlines() if line.strip()][:3]
    return found[:OUTPUT_LINES]


def run_record(
    name: str,
    how: str,
    code: str | None,
    server: Server,
    since: int,
    channels: Channels | None,
    *,
    path: str,
    stderr: str = "",
    requested: bool = False,
    start_error: str | None = None,
    reason: str | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    log, exits = server_lines(server, since)
    statuses = list(channels.statuses) if channels else []
    pid, died = exits[0] if exits else (None, None)
    return {
        "name": name,
        "how": how,
        "code": code,
        "shown": {
            "front_end": front_end(statuses, path, requested=requested, start_error=start_error),
            "cocalc": cocalc_banner(died),  # CoCalc shows it after a requested restart too
            "reason": reason,
            "stderr": stderr_tail(stderr),
            "output": outputs(channels),
        },
        "status": statuses,
        "exit_status": died,
        "exit_pid": pid,
        "exit": exit_text(died),
        "log": _fewer(log),
        "websocket_closed": channels.closed if channels else None,
        **(extra or {}),
    }
