"""The shape of the evidence: the ``Facts`` that ``evidence.collect`` gives ``diagnose``.

Plain JSON-ready dicts, typed here once. Sizes are bytes, times are seconds,
``None`` means unknown and the string ``"unlimited"`` (``UNLIMITED``) means no
limit. ``diagnose`` also accepts facts with keys missing or of the wrong type
(sample files, a copy from another machine) and reads those parts as unknown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict

if TYPE_CHECKING:  # annotations only: the single file also runs on older Pythons
    from collections.abc import Mapping

UNLIMITED = "unlimited"


def facts_part(facts: Mapping[str, Any], key: str) -> dict[str, Any]:
    """``facts[key]`` when it is a dict, else ``{}``: a malformed part reads as unknown."""
    value = facts.get(key)
    return value if isinstance(value, dict) else {}


class MachineFacts(TypedDict):
    """The machine's memory, in bytes."""

    total: int | None
    available: int | None


class CgroupPlace(TypedDict):
    """Where a process's memory cgroup is: its name in ``/proc/PID/cgroup`` and its folder."""

    version: int  # 1 or 2
    path: str
    dir: str


class CgroupCounters(TypedDict):
    """The memory files of a cgroup: bytes, ``UNLIMITED``, counts; ``None`` when unknown."""

    limit: int | str | None
    usage: int | None
    peak: int | None
    oom_kills: int | None
    ooms: int | None
    failcnt: int | None
    # from memory.stat: what programs asked for, and file data (shared memory included);
    # usage and peak count both, so a peak at the limit may be only cache
    anon: int | None
    file: int | None
    shmem: int | None


class CgroupFacts(CgroupCounters):
    """Where the cgroup is, then its counters; every value ``None`` when none is found."""

    version: int | None
    path: str | None
    dir: str | None


class Mount(TypedDict):
    root: str
    mountpoint: str
    fstype: str
    options: str


class Status(TypedDict):
    """What ``/proc/PID/status`` says; ``rss`` is ``None`` for kernel threads."""

    name: str | None
    uid: int | None
    rss: int | None
    peak: int | None
    threads: int | None


class Process(TypedDict):
    pid: int
    name: str | None
    rss: int
    peak: int | None
    threads: int | None
    kernel: bool  # a Jupyter kernel
    age: float | None  # seconds since it started (kernels only)
    connection: str | None  # a kernel's connection file, kernel-ID.json


class ServerProcess(TypedDict):
    """The oldest Jupyter server process seen: it may restart alone, while PID 1 runs on."""

    pid: int
    age: float | None  # seconds since it started


class Processes(TypedDict):
    scanned: int  # 0: the process list could not be read
    truncated: bool
    top: list[Process]
    kernels: list[Process]
    threads: int | None  # of this user, in all its processes
    uid: int | None
    server: ServerProcess | None  # a Jupyter server; None: none seen


class PidsFacts(TypedDict):
    """The pids cgroup of a process: the level with the least room left (a parent's cap counts).

    ``limit`` is ``pids.max`` (``UNLIMITED`` for ``max``), ``current`` its ``pids.current``;
    ``None`` when the file is missing or unreadable."""

    version: int | None
    dir: str | None
    limit: int | str | None
    current: int | None


# Each [soft, hard]: a number, or UNLIMITED. ("as" is a keyword: no class syntax.)
Limits = TypedDict(
    "Limits",
    {
        "nproc": "list[int | str] | None",
        "as": "list[int | str] | None",
        "stack": "list[int | str] | None",
    },
)


class Disk(TypedDict):
    path: str
    free: int | None
    total: int | None


class Kill(TypedDict):
    """An OOM kill in the kernel log; ``ago``: seconds before the reading."""

    pid: int
    name: str
    anon_rss: int | None
    memcg: str | None  # the cgroup the kill was charged to
    ago: float | None
    text: str


class Fault(TypedDict):
    """A segfault or an invalid-opcode trap in the kernel log."""

    pid: int
    name: str
    address: int | None
    sp: int | None  # the stack pointer
    ago: float | None
    text: str


class LogEntries(TypedDict):
    oom_kills: list[Kill]
    segfaults: list[Fault]
    traps: list[Fault]


class KernelLog(TypedDict):
    source: str | None  # "/dev/kmsg", "dmesg", or None: not readable
    oom_kills: list[Kill]
    segfaults: list[Fault]
    traps: list[Fault]


class PythonInfo(TypedDict):
    version: str
    executable: str | None


class Facts(TypedDict):
    machine: MachineFacts
    cgroup: CgroupFacts
    processes: Processes
    pids: PidsFacts
    limits: Limits
    disk: list[Disk]
    kernel_log: KernelLog
    uptime: float | None  # seconds since boot
    started: float | None  # age of PID 1: in a container, the container's
    boot_id: str | None
    python: PythonInfo
    packages: dict[str, str | None]  # name -> version, None when not installed
