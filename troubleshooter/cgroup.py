"""Read files under a root, the machine's memory and the memory cgroup, with the standard library.

Every reader takes ``root``, the directory that stands for ``/`` (default ``"/"``),
so the same code reads the real machine or a fixture tree. A file that is
missing, unreadable or full of garbage gives ``None`` ("unknown") and never an
exception. The ``parse_*`` functions take the text of one file and are pure.
``troubleshooter.evidence.collect`` gathers these readings with the others.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any, Union

from .facts import (
    UNLIMITED,
    CgroupCounters,
    CgroupFacts,
    CgroupPlace,
    MachineFacts,
    Mount,
    PidsFacts,
)

if TYPE_CHECKING:  # annotations only: the single file also runs on older Pythons
    from collections.abc import Callable

Root = Union[str, "os.PathLike[str]"]

MAX_FILE = 1 << 20  # bytes read from one file at most
_HUGE = 1 << 60  # cgroup v1 writes "no limit" as a number close to 2**63
_OCTAL_ESCAPE = re.compile(r"\\([0-7]{3})")


# --- reading files -------------------------------------------------------------------


def host_path(root: Root, path: str) -> str:
    """``path`` (absolute, as on the machine) under ``root``."""
    return os.path.join(os.fspath(root), path.lstrip("/"))


def read_text(root: Root, path: str, limit: int = MAX_FILE) -> str | None:
    """The text of a file under ``root``, or ``None`` if it cannot be read."""
    try:
        with open(host_path(root, path), "rb") as file:
            return file.read(limit).decode("utf-8", "replace")
    except (OSError, ValueError):
        return None


def to_int(text: Any) -> int | None:
    """A non-negative integer, or ``None`` for anything else."""
    try:
        value = int(str(text).strip())
    except (TypeError, ValueError):
        return None
    return value if value >= 0 else None


def parse_key_values(text: str | None) -> dict[str, int]:
    """Lines of ``key value`` (``memory.events``, ``memory.stat``, ``memory.oom_control``)."""
    values: dict[str, int] = {}
    for line in (text or "").splitlines():
        parts = line.split()
        if len(parts) == 2 and (number := to_int(parts[1])) is not None:
            values[parts[0]] = number
    return values


def parse_limit(text: str | None) -> int | str | None:
    """A cgroup limit file: bytes, ``"unlimited"`` (``max``, or v1's huge number) or ``None``."""
    if text is None:
        return None
    text = text.strip()
    if text == "max":
        return UNLIMITED
    value = to_int(text)
    if value is None:
        return None
    return UNLIMITED if value >= _HUGE else value


# --- machine memory --------------------------------------------------------------------


def parse_meminfo(text: str | None) -> MachineFacts:
    """``/proc/meminfo``: total and available memory in bytes."""
    fields: dict[str, int] = {}
    for line in (text or "").splitlines():
        name, _, rest = line.partition(":")
        parts = rest.split()
        if parts and (number := to_int(parts[0])) is not None:
            fields[name.strip()] = number * 1024 if parts[1:] == ["kB"] else number
    available = fields.get("MemAvailable")
    if available is None and "MemFree" in fields:
        available = fields["MemFree"] + fields.get("Buffers", 0) + fields.get("Cached", 0)
    return {"total": fields.get("MemTotal"), "available": available}


def read_meminfo(root: Root = "/") -> MachineFacts:
    return parse_meminfo(read_text(root, "/proc/meminfo"))


# --- the memory cgroup -----------------------------------------------------------------


def parse_proc_cgroup(text: str | None) -> dict[str, str]:
    """``/proc/PID/cgroup``: controller -> path; the v2 (unified) path is under ``""``."""
    paths: dict[str, str] = {}
    for line in (text or "").splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3 or not parts[2].startswith("/"):
            continue
        for controller in parts[1].split(",") if parts[1] else [""]:
            paths.setdefault(controller, parts[2])
    return paths


def parse_mountinfo(text: str | None) -> list[Mount]:
    """The cgroup mounts in ``/proc/PID/mountinfo``.

    Each is ``{"root", "mountpoint", "fstype", "options"}``.
    """
    mounts: list[Mount] = []
    for line in (text or "").splitlines():
        left, sep, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if not sep or len(fields) < 5 or len(tail) < 3 or not tail[0].startswith("cgroup"):
            continue
        mounts.append(
            {
                "root": _unescape(fields[3]),
                "mountpoint": _unescape(fields[4]),
                "fstype": tail[0],
                "options": tail[2],
            }
        )
    return mounts


def find_memory_cgroup(root: Root = "/", pid: str = "self") -> CgroupPlace | None:
    """The memory cgroup of a process: ``{"version", "path", "dir"}``, or ``None``.

    ``path`` is the cgroup as ``/proc/PID/cgroup`` names it, ``dir`` the directory
    holding its files (under ``root``). cgroup v1's memory controller is preferred
    when the machine mounts both, because v2 then lacks the memory files.
    """
    paths = parse_proc_cgroup(read_text(root, f"/proc/{pid}/cgroup"))
    mounts = parse_mountinfo(read_text(root, f"/proc/{pid}/mountinfo"))
    if "memory" in paths:
        for mount in mounts:
            if mount["fstype"] == "cgroup" and "memory" in mount["options"].split(","):
                folder = _cgroup_dir(root, mount, paths["memory"], "memory.limit_in_bytes")
                if folder:
                    return {"version": 1, "path": paths["memory"], "dir": folder}
    if "" in paths:
        for mount in mounts:
            if mount["fstype"] == "cgroup2":
                folder = _cgroup_dir(root, mount, paths[""], "memory.current")
                if folder:
                    return {"version": 2, "path": paths[""], "dir": folder}
    return None


def _cgroup_dir(root: Root, mount: Mount, path: str, probe: str) -> str | None:
    """The directory of ``path`` under ``mount`` that holds ``probe``, if any."""
    mount_root = mount["root"].rstrip("/")
    relative = path[len(mount_root) :] if path.startswith(mount_root + "/") else path
    if path == mount["root"]:
        relative = "/"
    candidates = [mount["mountpoint"].rstrip("/") + relative, mount["mountpoint"]]
    for candidate in candidates:
        folder = host_path(root, candidate)
        if os.path.exists(os.path.join(folder, probe)):
            return folder
    return None


def read_memory_cgroup(root: Root = "/", pid: str = "self") -> CgroupFacts:
    """Limit, usage, peak and OOM counters of the memory cgroup of ``pid``."""
    found = find_memory_cgroup(root, pid)
    if found is None:
        return {
            "version": None,
            "path": None,
            "dir": None,
            "limit": None,
            "usage": None,
            "peak": None,
            "oom_kills": None,
            "ooms": None,
            "failcnt": None,
            "anon": None,
            "file": None,
            "shmem": None,
        }
    folder = found["dir"]
    if found["version"] == 1:
        counters = parse_cgroup_v1(lambda name: _read_in(folder, name))
    else:
        counters = parse_cgroup_v2(lambda name: _read_in(folder, name))
        counters["limit"] = _v2_effective_limit(folder, counters["limit"], root)
    return {"version": found["version"], "path": found["path"], "dir": folder, **counters}


def parse_cgroup_v1(read: Callable[[str], str | None]) -> CgroupCounters:
    """cgroup v1 memory files, through ``read(name) -> text or None``."""
    limit = parse_limit(read("memory.limit_in_bytes"))
    stat = parse_key_values(read("memory.stat"))
    if "hierarchical_memory_limit" in stat:  # a parent's limit may be lower
        inherited = parse_limit(str(stat["hierarchical_memory_limit"]))
        if isinstance(inherited, int) and (not isinstance(limit, int) or inherited < limit):
            limit = inherited
    oom_control = parse_key_values(read("memory.oom_control"))
    return {
        "limit": limit,
        "usage": to_int(read("memory.usage_in_bytes")),
        "peak": to_int(read("memory.max_usage_in_bytes")),
        "oom_kills": oom_control.get("oom_kill"),
        "ooms": oom_control.get("under_oom"),
        "failcnt": to_int(read("memory.failcnt")),
        # what programs asked for, and file data (shared memory included): the usage and
        # the peak count both, so a peak at the limit may be only cache
        "anon": stat.get("rss"),
        "file": stat.get("cache"),
        "shmem": stat.get("shmem"),
    }


def parse_cgroup_v2(read: Callable[[str], str | None]) -> CgroupCounters:
    """cgroup v2 memory files, through ``read(name) -> text or None``."""
    events = parse_key_values(read("memory.events"))
    stat = parse_key_values(read("memory.stat"))
    return {
        "limit": parse_limit(read("memory.max")),
        "usage": to_int(read("memory.current")),
        "peak": to_int(read("memory.peak")),
        "oom_kills": events.get("oom_kill"),
        "ooms": events.get("oom"),
        "failcnt": events.get("max"),
        "anon": stat.get("anon"),
        "file": stat.get("file"),
        "shmem": stat.get("shmem"),
    }


def _v2_effective_limit(folder: str, limit: int | str | None, root: Root) -> int | str | None:
    """The lowest ``memory.max`` from the cgroup up to the top of the mount."""
    top = os.path.realpath(os.fspath(root))
    current = os.path.dirname(folder)
    for _ in range(32):
        if not os.path.realpath(current).startswith(top) or not os.path.exists(
            os.path.join(current, "memory.max")
        ):
            break
        parent = parse_limit(_read_in(current, "memory.max"))
        if isinstance(parent, int) and (not isinstance(limit, int) or parent < limit):
            limit = parent
        current = os.path.dirname(current)
    return limit


# --- the pids cgroup -------------------------------------------------------------------


def read_pids_cgroup(root: Root = "/", pid: str = "self") -> PidsFacts:
    """``pids.max`` and ``pids.current`` of the pids cgroup of ``pid`` (v1 or v2).

    A parent's cap counts too, so every level from the process's cgroup up to the top of
    the mount is read, and the one with the least room left is given. A missing file (the
    root cgroup has none) reads as ``None``: unknown, never "no cap".
    """
    unknown: PidsFacts = {"version": None, "dir": None, "limit": None, "current": None}
    paths = parse_proc_cgroup(read_text(root, f"/proc/{pid}/cgroup"))
    mounts = parse_mountinfo(read_text(root, f"/proc/{pid}/mountinfo"))
    for mount in mounts:
        v1 = mount["fstype"] == "cgroup" and "pids" in mount["options"].split(",")
        v2 = mount["fstype"] == "cgroup2" and "" in paths and "pids" not in paths
        if not (v1 and "pids" in paths) and not v2:
            continue
        folder = _cgroup_dir(root, mount, paths["pids" if v1 else ""], "pids.max")
        if folder is None:
            continue
        top = os.path.realpath(host_path(root, mount["mountpoint"]))
        best: PidsFacts = {**unknown, "version": 1 if v1 else 2, "dir": folder}
        room: float | None = None
        current = folder
        for _ in range(32):
            if not os.path.realpath(current).startswith(top):
                break
            limit = parse_limit(_read_in(current, "pids.max"))
            count = to_int(_read_in(current, "pids.current"))
            if isinstance(limit, int) and limit > 0 and count is not None:
                if room is None or count / limit > room:
                    room = count / limit
                    best = {"version": best["version"], "dir": current, "limit": limit,
                            "current": count}  # fmt: skip
            elif room is None and best["limit"] is None and limit is not None:
                best = {**best, "limit": limit, "current": count}
            if os.path.realpath(current) == top:
                break
            current = os.path.dirname(current)
        return best
    return unknown


def _read_in(folder: str, name: str) -> str | None:
    try:
        with open(os.path.join(folder, name), "rb") as file:
            return file.read(MAX_FILE).decode("utf-8", "replace")
    except (OSError, ValueError):
        return None


def _unescape(text: str) -> str:
    return _OCTAL_ESCAPE.sub(lambda match: chr(int(match.group(1), 8)), text)
