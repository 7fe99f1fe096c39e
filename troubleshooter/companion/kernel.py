"""The companion inside a running kernel: the flight recorder, the guard and the post-mortem.

:class:`Companion` is what ``%load_ext troubleshooter`` starts. At load it writes
this kernel's record, points faulthandler at the crash file (all threads), looks
for the record of a kernel that died here before (same kernel id, or same
notebook) and starts the memory guard. IPython's ``pre_run_cell`` and
``post_run_cell`` events note the running cell and each cell's peak; a clean
exit marks the record closed. Every callback swallows its own failures: the
companion never breaks the kernel it watches.

Settings, read at load: ``c.Troubleshooter.guard = False`` in IPython's kernel
configuration, or ``TROUBLESHOOTER_GUARD=off`` in the environment, turns the
guard off; ``warn`` and ``stop`` (``TROUBLESHOOTER_WARN``, ``TROUBLESHOOTER_STOP``)
set the thresholds, as shares (``0.8``) or percentages (``80``). The environment
wins. ``%troubleshooter`` changes them while the kernel runs.
"""

from __future__ import annotations

import atexit
import contextlib
import faulthandler
import os
import sys
import threading
import time
from typing import Any

from . import record as records
from .guard import STOP, WARN, Guard, Meter

UPDATE_EVERY = 1.0  # seconds between record updates from the guard while a cell runs
MAX_CELLS = 12  # cells whose peak the record keeps


def _share(text: str | None, default: float) -> float:
    try:
        value = float(str(text).strip().rstrip("%"))
    except (TypeError, ValueError):
        return default
    value = value / 100 if value > 1 else value
    return value if 0.05 <= value <= 0.995 else default


def _settings(shell: Any) -> tuple[float, float, bool]:
    """Warn and stop shares and whether the guard is on: environment, then IPython config."""
    config: Any = {}
    try:
        if "Troubleshooter" in shell.config:
            config = shell.config["Troubleshooter"]
    except Exception:
        config = {}

    def value(name: str) -> Any:
        return os.environ.get(f"TROUBLESHOOTER_{name.upper()}", config.get(name))

    guard = str(value("guard")).lower() not in ("0", "off", "no", "false")
    return _share(value("warn"), WARN), _share(value("stop"), STOP), guard


def _connection_file() -> str | None:
    if "ipykernel" not in sys.modules:
        return None
    try:
        from ipykernel.connect import get_connection_file

        return get_connection_file()
    except Exception:
        return None


class Companion:
    def __init__(self, shell: Any, at_start: bool) -> None:
        from ..cgroup import read_meminfo, read_memory_cgroup, read_text

        self.shell = shell
        self.at_start = at_start
        connection = _connection_file()
        self.kernel_id = records.kernel_id(connection)
        self.notebook = os.environ.get("JPY_SESSION_NAME") or None
        self.folder = records.writable_folder(records.folders(connection))
        key = self.kernel_id or "ipython"
        self.path = os.path.join(self.folder, f"{key}-{os.getpid()}.json") if self.folder else None
        cgroup = read_memory_cgroup()
        machine = read_meminfo()
        self.meter = Meter(cgroup, machine.get("total"))
        self.record: dict[str, Any] = {
            "format": records.FORMAT,
            "kernel_id": self.kernel_id,
            "notebook": self.notebook,
            "pid": os.getpid(),
            "started": round(time.time(), 3),
            "updated": round(time.time(), 3),
            "closed": False,
            "boot_id": (read_text("/", "/proc/sys/kernel/random/boot_id", 100) or "").strip()
            or None,
            "python": sys.executable,
            "cgroup": {
                key: cgroup.get(key) for key in ("version", "path", "dir", "limit", "oom_kills")
            },
            "limit": self.meter.limit,
            "limit_source": self.meter.source,
            "cell": None,
            "memory": {"now": self.meter.usage(), "peak": None},
            "cells": [],
            "guard": {"stops": 0},
        }
        self._last_write = 0.0
        self._writing = threading.Lock()
        self._page: records.Page | None = None
        self._crash_file: Any = None
        self.previous: Any = None  # the post-mortem to show, once
        warn, stop, guard = _settings(shell)
        self.guard = Guard(
            self.meter, say=print, warn=min(warn, stop), stop=stop, on_sample=self._sampled
        )
        self.guard.enabled = guard

    # --- life ------------------------------------------------------------------------

    def start(self) -> None:
        if self.folder:
            self.previous = records.find_previous(self.folder, self.kernel_id, self.notebook)
        self._save()
        self._enable_faulthandler()
        if self.folder and self.path:
            records.prune(self.folder, keep={self.path})
        events = self.shell.events
        events.register("pre_run_cell", self.pre_run_cell)
        events.register("post_run_cell", self.post_run_cell)
        atexit.register(self.close)
        self.guard.start()
        if not self.at_start:
            self.show_previous()

    def stop(self) -> None:
        """Undo ``start`` (``%unload_ext troubleshooter``): the record is closed."""
        for name, callback in (
            ("pre_run_cell", self.pre_run_cell),
            ("post_run_cell", self.post_run_cell),
        ):
            with contextlib.suppress(ValueError):
                self.shell.events.unregister(name, callback)
        atexit.unregister(self.close)
        self.close()

    def close(self) -> None:
        """A clean end: the record says so, the crash file goes if it stayed empty."""
        try:
            self.guard.close()
            if self._crash_file is not None:
                faulthandler.disable()
                self._crash_file.close()
                self._crash_file = None
                crash = records.crash_path(self.path or "")
                if self.path and os.path.exists(crash) and os.path.getsize(crash) == 0:
                    os.remove(crash)
            self.record["closed"] = True
            self.record["cell"] = None
            self._save()
            if self._page is not None:
                self._page.close()
                self._page = None
        except Exception:
            pass

    def _enable_faulthandler(self) -> None:
        if not self.path:
            return
        try:
            crash = records.crash_path(self.path)
            fd = os.open(crash, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            self._crash_file = os.fdopen(fd, "wb", buffering=0)
            faulthandler.enable(file=self._crash_file, all_threads=True)
            self.record["crash_file"] = os.path.basename(crash)
        except (OSError, ValueError, RuntimeError):
            self._crash_file = None

    # --- cells -----------------------------------------------------------------------

    def pre_run_cell(self, info: Any = None) -> None:
        try:
            if self.previous is not None:
                self.show_previous()
            source = getattr(info, "raw_cell", "") or ""
            count = getattr(self.shell, "execution_count", None)
            if isinstance(count, int) and getattr(info, "store_history", False):
                count -= 1  # IPython counts the cell before it fires pre_run_cell
            self.record["cell"] = {
                "count": count,
                "lines": records.clip_cell(source),
                "started": round(time.time(), 3),
            }
            self._save()
            parent = getattr(sys.stdout, "parent_header", None)
            self.guard.cell_started(parent)
        except Exception:
            pass

    def post_run_cell(self, result: Any = None) -> None:
        """The cell ended: note its peak; the record is written from the guard's thread."""
        try:
            cell = self.record.get("cell")
            if not isinstance(cell, dict):
                return  # the cell that loaded the extension
            peak = self.guard.cell_finished(then=self._settled) or cell.get("peak")
            entry = {
                "count": cell.get("count"),
                "peak": peak or None,
                "seconds": round(time.time() - cell.get("started", time.time()), 3),
            }
            self.record["cells"] = [*self.record["cells"], entry][-MAX_CELLS:]
            memory = self.record["memory"]
            memory["peak"] = max(peak or 0, memory.get("peak") or 0) or None
            self.record["guard"] = {"stops": self.guard.stops}
            self.record["cell"] = None
        except Exception:
            pass

    def _settled(self) -> None:
        """No cell runs: the record says so, with memory now."""
        self.record["memory"] = {**self.record["memory"], "now": self.meter.usage()}
        self._save()

    def _sampled(self, usage: int) -> None:
        """From the guard's thread: a new peak in this cell; saved at most once a second."""
        now = time.monotonic()
        if now - self._last_write < UPDATE_EVERY:
            return
        cell = self.record.get("cell")
        if isinstance(cell, dict):
            cell["peak"] = usage
        self.record["memory"] = {**self.record["memory"], "now": usage}
        self._save()

    def _save(self) -> None:
        """Write the record (from either thread, one at a time)."""
        syscall = threading.current_thread() is not threading.main_thread()
        with self._writing:
            if self._page is None and self.path:
                try:
                    self._page = records.Page(self.path)
                except OSError:
                    self.path = None
            if self._page is not None:
                self.record["updated"] = round(time.time(), 3)
                self._last_write = time.monotonic()
                self._page.write(self.record, syscall=syscall)

    # --- the post-mortem -------------------------------------------------------------

    def show_previous(self) -> None:
        previous, self.previous = self.previous, None
        if previous is None:
            return
        try:
            from .postmortem import PostMortem, explain

            shown = explain(previous) if not isinstance(previous, PostMortem) else previous
            from IPython.display import display

            display(shown)
        except Exception as error:  # one honest line, never a traceback
            print(f"troubleshooter: the last kernel's record could not be explained ({error}).")

    # --- settings --------------------------------------------------------------------

    def settings_text(self) -> str:
        guard = self.guard
        state = "on" if guard.enabled else "off"
        limit = self.meter.limit
        where = (
            f"{self.meter.source}, limit {limit / (1 << 20):.0f} MiB" if limit else "no limit found"
        )
        lines = [
            f"troubleshooter: guard {state} (warn at {guard.warn:.0%}, stop at {guard.stop:.0%}; "
            f"{where}); cells stopped so far: {guard.stops}.",
            f"Record: {self.path or 'not written (no writable folder)'}",
        ]
        return "\n".join(lines)
