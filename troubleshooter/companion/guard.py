"""The memory guard: a daemon thread that stops a cell before the OOM killer ends the kernel.

Between cells the thread waits on an event and uses no CPU. While a cell runs it
reads the memory cgroup's usage every ``interval`` seconds (cgroup v1
``memory.usage_in_bytes``, v2 ``memory.current``; with no limit, the machine's
``/proc/meminfo``). Usage counts page cache the kernel can drop, so when a
reading passes the warning line the guard reads ``memory.stat`` once and takes
the inactive file pages off before it acts.

At ``warn`` (a share of the limit) it prints one warning into the running cell.
At ``stop`` it raises :class:`MemoryLimitNear` (a ``MemoryError``) in the main
thread through ``PyThreadState_SetAsyncExc``; where that call is missing it
falls back to ``_thread.interrupt_main`` (a ``KeyboardInterrupt``). Both land
between two bytecodes: a single allocation that jumps past the limit between two
readings, or a long call into C, can still be killed.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

WARN = 0.85
STOP = 0.90
INTERVAL = 0.025  # seconds between readings while a cell runs (at most 50 ms asked)
SETTLE = 0.2  # seconds without a new cell before the record is brought up to date


class MemoryLimitNear(MemoryError):
    """Raised in the main thread when the guard stops a cell; its text says why."""

    message = "The troubleshooter stopped this cell: memory is nearly full."

    def __init__(self, *args: object) -> None:
        super().__init__(*(args or (type(self).message,)))


def size_text(value: float) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if value >= scale:
            return f"{value / scale:.2f} {unit}" if unit == "GiB" else f"{value / scale:.0f} {unit}"
    return f"{int(value)} B"


class Meter:
    """How full memory is: the memory cgroup's usage and limit, or the machine's."""

    def __init__(self, cgroup: Mapping[str, Any] | None, machine_total: int | None) -> None:
        cgroup = cgroup or {}
        limit = cgroup.get("limit")
        folder = cgroup.get("dir")
        self.version = cgroup.get("version")
        self.usage_file = self.stat_file = None
        if isinstance(limit, int) and limit > 0 and folder and self.version in (1, 2):
            name = "memory.usage_in_bytes" if self.version == 1 else "memory.current"
            self.usage_file = os.path.join(folder, name)
            self.stat_file = os.path.join(folder, "memory.stat")
            self.limit: int | None = limit
            self.source = f"memory cgroup v{self.version}"
        else:
            self.limit = machine_total
            self.source = "machine memory"
        if isinstance(machine_total, int) and self.limit and machine_total < self.limit:
            self.usage_file, self.limit, self.source = None, machine_total, "machine memory"

    def usage(self) -> int | None:
        """Bytes in use now, page cache included (the cheap reading)."""
        if self.usage_file:
            return _read_int(self.usage_file)
        meminfo = _meminfo()
        total, available = meminfo.get("MemTotal"), meminfo.get("MemAvailable")
        return total - available if total is not None and available is not None else None

    def working_set(self, usage: int) -> int:
        """``usage`` without the file pages the kernel would drop first."""
        if not self.stat_file:
            return usage
        name = "total_inactive_file" if self.version == 1 else "inactive_file"
        try:
            with open(self.stat_file, "rb") as file:
                for line in file.read(65536).decode("ascii", "replace").splitlines():
                    key, _, value = line.partition(" ")
                    if key == name and value.strip().isdigit():
                        return max(0, usage - int(value))
        except OSError:
            pass
        return usage


def _read_int(path: str) -> int | None:
    try:
        with open(path, "rb") as file:
            text = file.read(64)
        return int(text)
    except (OSError, ValueError):
        return None


def _meminfo() -> dict[str, int]:
    values: dict[str, int] = {}
    try:
        with open("/proc/meminfo", "rb") as file:
            text = file.read(8192).decode("ascii", "replace")
    except OSError:
        return values
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        if name in ("MemTotal", "MemAvailable") and rest.split():
            values[name] = int(rest.split()[0]) * 1024
    return values


def raise_in_main(exception: type[BaseException]) -> str:
    """Raise ``exception`` in the main thread; what was done (``MemoryError`` or an interrupt)."""
    try:
        import ctypes

        ident = threading.main_thread().ident
        set_async = ctypes.pythonapi.PyThreadState_SetAsyncExc
        set_async.argtypes = (ctypes.c_ulong, ctypes.py_object)
        if ident is not None and set_async(ident, exception) == 1:
            return "MemoryError"
    except (ImportError, AttributeError, OSError, TypeError, ValueError):
        pass
    import _thread

    _thread.interrupt_main()
    return "KeyboardInterrupt"


class Guard:
    """Watch memory while a cell runs. ``cell_started``/``cell_finished`` come from the main thread.

    ``say(text)`` prints into the running cell; ``on_stop(share, used)`` and
    ``on_sample(used)`` let the recorder note what happened.
    """

    def __init__(
        self,
        meter: Meter,
        say: Callable[[str], None],
        warn: float = WARN,
        stop: float = STOP,
        interval: float = INTERVAL,
        on_sample: Callable[[int], None] | None = None,
    ) -> None:
        self.meter, self.say, self.on_sample = meter, say, on_sample
        self.warn, self.stop, self.interval = warn, stop, interval
        self.enabled = True
        self.running = threading.Event()
        self.closing = False
        self.peak = 0
        self.stops = 0
        self.samples = 0  # readings taken, for the bench
        self.last_action: str | None = None
        self._warned = False
        self._stopped = False
        self._thread: threading.Thread | None = None
        self._context: Any = None
        self._lock = threading.Lock()  # no stop is raised once a cell has finished
        self._wake = threading.Event()  # a cell started or finished
        self._pending: Callable[[], None] | None = None
        self._stop_at: float | None = None

    def start(self) -> bool:
        """Start the thread; ``False`` when there is nothing to measure against."""
        if self._thread is None and self.meter.limit:
            self._thread = threading.Thread(target=self._loop, name="troubleshooter-guard")
            self._thread.daemon = True
            self._thread.start()
        return self._thread is not None

    def close(self) -> None:
        self.closing = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=1)
            self._thread = None

    def cell_started(self, context: Any = None) -> None:
        """A cell starts (main thread): note where its output goes, arm the guard."""
        self.peak = 0
        self._warned = self._stopped = False
        self._context = context
        self._stop_at = None
        if self.enabled and self.meter.limit:
            self.running.set()
            self._wake.set()

    def cell_finished(self, then: Callable[[], None] | None = None) -> int:
        """A cell ended (main thread): the guard idles; returns the cell's peak reading.

        Once this holds the lock no stop can be raised. ``then()`` runs in the
        guard's thread once no new cell has started for ``SETTLE`` seconds (a new
        cell's own bookkeeping makes it unneeded); without a thread, right here.
        """
        with self._lock:
            self.running.clear()
            peak = self.peak
        if then is not None:
            if self._thread is None:
                then()
            else:
                self._pending = then
                self._wake.set()
        return peak

    def _loop(self) -> None:
        while not self.closing:
            self._wake.wait()
            self._wake.clear()
            while not self.closing:
                if self.running.is_set():
                    # a short cell ends before the first reading: it costs nothing more
                    time.sleep(self.interval)
                    try:
                        self._sample()
                    except Exception:  # the guard must never break the kernel
                        self.running.clear()
                    continue
                then = self._pending
                if then is None:
                    break
                if self.running.wait(SETTLE):
                    continue  # the next cell started: it runs ``then`` when it ends
                if self._pending is then:
                    self._pending = None
                    with contextlib.suppress(Exception):
                        then()

    def _sample(self) -> None:
        limit = self.meter.limit
        usage = self.meter.usage()
        self.samples += 1
        if usage is None or not limit or not self.running.is_set():
            return
        if self._stop_at is None:  # the cell's first reading
            self._stop_at = self.stop
            share = self.meter.working_set(usage) / limit if usage >= self.stop * limit else 0
            if share >= self.stop:  # already over: stop only if it climbs halfway to the limit
                self._stop_at = min(0.99, share + (1 - share) / 2)
                self._warned = True
        if usage > self.peak:
            self.peak = usage
            if self.on_sample:
                self.on_sample(usage)
        if usage < self.warn * limit or self._stopped:
            return
        used = self.meter.working_set(usage)
        share = used / limit
        if share >= self._stop_at:
            with self._lock:
                if not self.running.is_set():
                    return
                self._stopped = True
                self.stops += 1
                MemoryLimitNear.message = self._stop_text(share, used)
                self.last_action = raise_in_main(MemoryLimitNear)
            if self.last_action != "MemoryError":
                self._print(MemoryLimitNear.message)
        elif share >= self.warn and not self._warned:
            self._warned = True
            self._print(
                f"troubleshooter: memory is {share:.0%} full ({size_text(used)} of "
                f"{size_text(limit)}, {self.meter.source}). At {self._stop_at:.0%} this cell "
                "will be stopped to keep the kernel alive."
            )

    def _stop_text(self, share: float, used: int) -> str:
        return (
            f"The troubleshooter stopped this cell: memory was {share:.0%} full "
            f"({size_text(used)} of {size_text(self.meter.limit or 0)}, {self.meter.source}), "
            "and the kernel would soon have been killed. The kernel and its variables are still "
            "here. To free memory: `del` large variables you no longer need (then "
            "`import gc; gc.collect()`), or shut down other notebooks' kernels; "
            "`%troubleshooter off` turns this guard off."
        )

    def _print(self, text: str) -> None:
        stream = sys.stdout
        try:
            if self._context is not None and hasattr(stream, "parent_header"):
                stream.parent_header = self._context  # this thread's output goes to the cell
            print(text, file=stream, flush=True)
        except Exception:
            pass
