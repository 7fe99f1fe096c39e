"""The companion's server side: ``jupyter server extension enable troubleshooter``.

The exit status of a dead kernel is known only to its parent, the server. Once a
second this extension looks for kernels it does not watch yet and registers a
restart callback with each (``MappingKernelManager.add_restart_callback``, for
the restarter's ``restart`` and ``dead`` events). When one fires it reads the
exit status from the kernel's provisioner (``process.returncode``, negative for
a signal) and returns at once; a worker thread then writes the status beside the
kernel's record (``<key>-<pid>.exit``) so the post-mortem can name the signal,
diagnoses the death with :func:`troubleshooter.diagnose.diagnose` (through the
post-mortem's reading), logs one line with the cause and the link, and emits the
``kernel-death`` event of ``events/kernel-death.json`` through the server's
``jupyter_events`` logger. Every step swallows its own errors: the restart is
never delayed and nothing is raised into the server.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from . import record as records

SCHEMA_ID = "https://doc.cocalc.com/troubleshooter/events/kernel-death"
SCHEMA = Path(__file__).parent / "events" / "kernel-death.json"
SCAN_EVERY = 1000  # ms between looks for new kernels


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "troubleshooter.companion.server"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    try:
        Watcher(serverapp).start()
    except Exception as error:  # the server runs on without us
        serverapp.log.warning("troubleshooter: the server extension did not start: %s", error)


class Watcher:
    def __init__(self, serverapp: Any) -> None:
        self.app = serverapp
        self.log = serverapp.log
        self.kernels = serverapp.kernel_manager
        self.watched: set[str] = set()
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="troubleshooter")
        self.events = getattr(serverapp, "event_logger", None)
        self.loop: Any = None

    def start(self) -> None:
        from tornado.ioloop import IOLoop, PeriodicCallback

        if self.events is not None:
            try:
                self.events.register_event_schema(SCHEMA)
            except Exception as error:
                self.log.warning("troubleshooter: event schema not registered: %s", error)
                self.events = None
        self.loop = IOLoop.current()
        self.scanner = PeriodicCallback(self.scan, SCAN_EVERY)
        self.scanner.start()
        self.log.info("troubleshooter: recording how kernels end")

    def scan(self) -> None:
        try:
            ids = set(self.kernels.list_kernel_ids())
            self.watched &= ids
            for kernel_id in ids - self.watched:
                manager = self.kernels.get_kernel(kernel_id)
                if getattr(manager, "_restarter", None) is None:
                    continue  # not started yet, or no restarter: look again later
                for event in ("restart", "dead"):
                    self.kernels.add_restart_callback(
                        kernel_id, self._callback(kernel_id, manager, event), event
                    )
                self.watched.add(kernel_id)
        except Exception as error:
            self.log.debug("troubleshooter: scan failed: %s", error)

    def _callback(self, kernel_id: str, manager: Any, event: str) -> Any:
        def died() -> None:
            try:
                provisioner = getattr(manager, "provisioner", None)
                process = getattr(provisioner, "process", None)
                death = {
                    "kernel_id": kernel_id,
                    "returncode": getattr(process, "returncode", None),
                    "pid": getattr(provisioner, "pid", None),
                    "connection_file": getattr(manager, "connection_file", None),
                    "time": round(time.time(), 3),
                    "event": event,
                }
                self.pool.submit(self._after, death)
            except Exception as error:
                self.log.debug("troubleshooter: callback failed: %s", error)

        return died

    def _after(self, death: dict[str, Any]) -> None:
        """In the worker thread: note the exit status, diagnose, then log and emit on the loop."""
        try:
            path = find_record(death["connection_file"], death["kernel_id"], death["pid"])
            if path:
                records.write(records.exit_path(path), {"format": records.FORMAT, **_exit(death)})
            summary = diagnose_death(path, death)
            self.loop.add_callback(self._report, death, summary)
        except Exception as error:
            self.log.debug("troubleshooter: could not explain a kernel's end: %s", error)

    def _report(self, death: dict[str, Any], summary: dict[str, Any]) -> None:
        try:
            how = summary.get("signal") or f"exit status {death['returncode']}"
            self.log.warning(
                "troubleshooter: kernel %s ended (%s): %s (%s). %s",
                death["kernel_id"],
                how,
                summary["title"],
                summary["confidence"],
                summary["link"],
            )
            if self.events is not None:
                self.events.emit(schema_id=SCHEMA_ID, data=event_data(death, summary))
        except Exception as error:
            self.log.debug("troubleshooter: could not report a kernel's end: %s", error)


def _exit(death: dict[str, Any]) -> dict[str, Any]:
    return {"returncode": death["returncode"], "time": death["time"], "seen_by": "jupyter-server"}


def find_record(connection_file: str | None, kernel_id: str, pid: Any) -> str | None:
    """The record of the kernel process that ended: by pid, else the newest of the kernel."""
    key = records.kernel_id(connection_file) or kernel_id
    for folder in records.folders(connection_file):
        candidates = [entry for entry in records.listing(folder) if entry[1] == key]
        for path, _key, record_pid, _modified in candidates:
            if record_pid == pid:
                return path
        if candidates:
            return candidates[0][0]
    return None


def diagnose_death(path: str | None, death: dict[str, Any]) -> dict[str, Any]:
    """Cause, confidence, title and link of a death, through the post-mortem's reading."""
    from ..causes import CAUSES
    from ..signals import parse_exit_code
    from .postmortem import Found, explain

    signal = (
        parse_exit_code(death["returncode"]).signal if death["returncode"] is not None else None
    )
    record = records.read(path)[0] if path else None
    if record is None:  # no companion in that kernel: the exit status alone
        record = {"format": records.FORMAT, "pid": death["pid"], "kernel_id": death["kernel_id"]}
    record = {**record, "exit": _exit(death)}
    crash = records.read_text(records.crash_path(path)) if path else ""
    found = Found(path or "", record, crash=crash)
    shown = explain(found)
    verdict = shown.verdict
    return {
        "cause": verdict.cause,
        "outcome": verdict.outcome,
        "title": CAUSES[verdict.cause].title,
        "confidence": shown.confidence,
        "link": verdict.link,
        "signal": signal,
        "oom_kills": shown.oom_kills,
        "started": record.get("started"),
    }


def event_data(death: dict[str, Any], summary: dict[str, Any]) -> dict[str, Any]:
    """The event: cause, exit status, confidence and times; no code, output or path."""
    data = {
        "kernel_id": str(death["kernel_id"]),
        "cause": summary["cause"],
        "outcome": summary["outcome"],
        "confidence": summary["confidence"],
        "returncode": death["returncode"],
        "signal": summary["signal"],
        "oom_kills": summary["oom_kills"],
        "started": summary["started"],
        "died": death["time"],
        "link": summary["link"],
    }
    return json.loads(json.dumps(data))
